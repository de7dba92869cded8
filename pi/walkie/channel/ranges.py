"""The values each of the hub's limits may take: one table for `walkie
server`'s flags and the Pi's config (``[server]``), so that neither accepts
what the other refuses. Kept free of heavy imports: ``--help`` reads it."""

from __future__ import annotations

LIMIT_RANGES: dict[str, tuple[int, int]] = {
    "max_line": (16, 65536),  # bytes; a rich line may be twice as long and more
    "max_rate": (0, 10_000),  # lines a second; 0 turns the limit off
    "burst": (1, 10_000),
    "floor_timeout": (1, 3600),  # seconds
    "max_queued": (1, 10_000),
    "max_send_buffer": (4096, 64 * 1024 * 1024),  # bytes
    "max_stations": (1, 100_000),
}
"""Lowest and highest accepted value of each limit, both included."""
