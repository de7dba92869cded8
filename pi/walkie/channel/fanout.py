"""Writing one chunk of bytes to every member of a mode, with the loop in C.

A line for the whole channel is the hub's hot path. Through asyncio's
transports each member costs a ``transport.write`` and its Python checks
around the one ``send`` that does the work. Here ``map(os.write, fds,
repeat(chunk))`` makes those calls from C. Only a member whose socket does not
take the whole chunk at once (a full send buffer, an error) comes back to
Python, to queue the rest in its transport, which then reports any error as
usual.

A member is written to this way only while its transport has nothing queued,
so its bytes stay in order, and only over plain TCP, because TLS must go
through the transport. The others are written through their transports one
by one.
"""

from __future__ import annotations

import os
from collections.abc import Collection
from dataclasses import dataclass
from itertools import repeat
from typing import Protocol


class Member(Protocol):
    @property
    def conn(self) -> int: ...

    @property
    def direct_fd(self) -> int | None:
        """The socket to write straight to; ``None`` while that is not allowed."""

    def send(self, data: bytes) -> None:
        """Write ``data`` the member's usual way."""

    def queue(self, data: bytes) -> None:
        """Hand ``data`` to the transport: the socket did not take it at once."""


def write_each(fds: list[int], data: bytes) -> list[tuple[int, int]]:
    """Write ``data`` to each of ``fds`` (non-blocking sockets), one ``write``
    each. Returns ``(index, bytes written)`` for every fd that did not take
    all of it; ``0`` where the write failed."""
    written: list[int] = []
    remaining = iter(fds)
    while True:
        try:
            # On an error, list.extend keeps what map gave before it, and
            # map has taken the failing fd from ``remaining``.
            written.extend(map(os.write, remaining, repeat(data)))
            break
        except OSError:
            written.append(0)
    size = len(data)
    if written.count(size) == len(written):
        return []
    return [(index, count) for index, count in enumerate(written) if count != size]


class MemberGroup:
    """The members of one mode, by connection id, ready to be written to together."""

    def __init__(self) -> None:
        self.members: dict[int, Member] = {}
        self._paths: _Paths | None = None

    def __contains__(self, conn: object) -> bool:
        return conn in self.members

    def add(self, member: Member) -> None:
        self.members[member.conn] = member
        self._paths = None

    def remove(self, conn: int) -> None:
        if self.members.pop(conn, None) is not None:
            self._paths = None

    def changed(self) -> None:
        """A member's ``direct_fd`` changed."""
        self._paths = None

    def write(self, data: bytes, skip: Collection[int]) -> None:
        """Write ``data`` to every member whose connection id is not in ``skip``."""
        paths = self._current_paths()
        fds, direct = paths.fds, paths.direct
        # The direct members between the skipped ones are written a run at a
        # time: skipping the sender of a line copies nothing.
        start = 0
        for end in sorted(paths.position[conn] for conn in skip if conn in paths.position):
            self._write_run(fds, direct, start, end, data)
            start = end + 1
        self._write_run(fds, direct, start, len(fds), data)
        for member in paths.indirect:
            if member.conn not in skip:
                member.send(data)

    @staticmethod
    def _write_run(fds: list[int], direct: list[Member], start: int, end: int, data: bytes) -> None:
        run = fds if start == 0 and end == len(fds) else fds[start:end]
        for index, count in write_each(run, data):
            direct[start + index].queue(data[count:])

    def _current_paths(self) -> _Paths:
        if self._paths is None:
            direct = [m for m in self.members.values() if m.direct_fd is not None]
            self._paths = _Paths(
                fds=[fd for m in direct if (fd := m.direct_fd) is not None],
                direct=direct,
                position={m.conn: index for index, m in enumerate(direct)},
                indirect=[m for m in self.members.values() if m.direct_fd is None],
            )
        return self._paths


@dataclass(frozen=True, slots=True)
class _Paths:
    """How a group's members are written to, worked out once per change."""

    fds: list[int]
    """The sockets of the members written to straight, in order."""
    direct: list[Member]
    """Those members, in the same order."""
    position: dict[int, int]
    """A direct member's index in both, by connection id."""
    indirect: list[Member]
    """The members written to through their transports."""
