"""Test support: the Pi station daemon in-process, on its own thread and loop,
against a board in the simulator."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from walkie.sim.board import BoardSimulator
from walkie.station.config import PttConfig, SerialConfig, ServerConfig, StationConfig
from walkie.station.daemon import Station

DEADLINE = 20.0
"""Seconds before a start or stop counts as hung; nothing is timed."""


class StationThread:
    """A :class:`Station` in the server role, serving ``board``, run until :meth:`stop`."""

    def __init__(self, board: BoardSimulator, history_db: Path, *, hold_time: float) -> None:
        self.config = StationConfig(
            server=ServerConfig(port=0, history_db=history_db),
            serial=SerialConfig(port=board.port),
            ptt=PttConfig(hold_time=hold_time),
        )
        self._ready = threading.Event()
        self._ports: list[int] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=asyncio.run, args=(self._run(),))

    def start(self) -> int:
        """Start the daemon; the port its hub listens on."""
        self._thread.start()
        assert self._ready.wait(DEADLINE), "the station's hub did not start"
        return self._ports[0]

    def stop(self) -> None:
        """Stop the daemon as systemd would, and wait until it has shut down."""
        if not self._thread.is_alive():
            return
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(DEADLINE)
        assert not self._thread.is_alive(), "the station did not stop"

    async def _run(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        await Station(self.config, on_hub_ready=self._hub_ready).run(self._stop)

    def _hub_ready(self, port: int) -> None:
        self._ports.append(port)
        self._ready.set()
