"""One loop iteration's output, kept so that a line for every member costs
nothing per member until it is written.

The hub's shell hands the channel's outputs to an :class:`OutputBatch` as they
come. A :class:`~walkie.channel.state.Broadcast` is kept once, not copied to
every member. When the iteration ends, :meth:`OutputBatch.take` gives one
chunk for every plain member, one for every rich member, and a chunk of its
own for each station whose bytes differ from its mode's: one that was sent
something of its own, joined or left a mode, or was left out of a broadcast.
Each station's bytes keep the order in which the channel produced them, and
across stations the order of cause and effect is kept as well: a station's
own bytes produced before any shared line (a welcome, before the others hear
that it joined) are written before the shared chunks, the rest after them
(an acknowledgement, after the message it acknowledges went to everyone).

Example::

    batch = OutputBatch()
    batch.broadcast(Broadcast(b"* ann joined\\n", None))
    batch.send(7, b"* welcome\\n", mode=None)  # 7 is not a member yet
    batch.broadcast(Broadcast(b"<ann> hi\\n", b'{"t":"msg"}\\n', exclude=3))
    ready = batch.take(mode_of={3: PLAIN}.get)
    # ready.plain == b"* ann joined\\n<ann> hi\\n": every plain member but 3
    # ready.own == {7: b"* welcome\\n", 3: b"* ann joined\\n"}
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from walkie.channel.state import Broadcast

Mode = Literal["plain", "rich"]
"""A member's mode; ``None`` where a station is not a member."""
PLAIN: Mode = "plain"
RICH: Mode = "rich"


@dataclass(slots=True)
class _Own:
    """A station whose bytes are kept apart: what it has so far, and how many
    of the batch's broadcasts that includes."""

    conn: int
    mode: Mode | None
    ahead: bool
    """Its first bytes came before any broadcast of the batch."""
    synced: int = 0
    parts: list[bytes] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ReadyOutput:
    """What one iteration writes: ``plain`` to every plain member and ``rich``
    to every rich member not in ``own``; ``own[conn]`` to each station in it
    (possibly nothing at all): before the shared chunks for those in ``ahead``,
    after them for the others."""

    plain: bytes
    rich: bytes
    own: dict[int, bytes]
    ahead: frozenset[int]


class OutputBatch:
    """The output of one loop iteration, in order per station."""

    def __init__(self) -> None:
        self._broadcasts: list[Broadcast] = []
        self._own: dict[int, _Own] = {}

    def __bool__(self) -> bool:
        return bool(self._broadcasts or self._own)

    def broadcast(self, broadcast: Broadcast) -> None:
        self._broadcasts.append(broadcast)

    def send(self, conn: int, data: bytes, mode: Mode | None) -> None:
        """``data`` for one station, after the broadcasts it already has coming."""
        self._catch_up(conn, mode).parts.append(data)

    def change_mode(self, conn: int, before: Mode | None, after: Mode | None) -> None:
        """The station joined (or left) a mode now: the broadcasts so far are
        for ``before``, the later ones for ``after``."""
        self._catch_up(conn, before).mode = after

    def take_own(self, conn: int, mode: Mode | None) -> bytes:
        """Everything for this station so far, now (it is about to be closed);
        it gets no more broadcasts from this batch."""
        own = self._catch_up(conn, mode)
        data = b"".join(own.parts)
        own.parts.clear()
        own.mode = None
        return data

    def take(self, mode_of: Callable[[int], Mode | None]) -> ReadyOutput:
        """The iteration's output, and a fresh start; ``mode_of`` gives a
        station's mode now (for those left out of a broadcast)."""
        broadcasts = self._broadcasts
        for broadcast in broadcasts:
            if broadcast.exclude is not None:
                self._catch_up(broadcast.exclude, mode_of(broadcast.exclude))
        owners = self._own.values()
        ready = ReadyOutput(
            plain=b"".join([b.plain for b in broadcasts if b.plain is not None]),
            rich=b"".join([b.rich for b in broadcasts if b.rich is not None]),
            own={own.conn: self._joined(own) for own in owners},
            ahead=frozenset([own.conn for own in owners if own.ahead]),
        )
        self._broadcasts = []
        self._own = {}
        return ready

    def _catch_up(self, conn: int, mode: Mode | None) -> _Own:
        own = self._own.get(conn)
        if own is None:
            own = self._own[conn] = _Own(conn, mode, ahead=not self._broadcasts)
        broadcasts = self._broadcasts
        if own.mode is not None:
            rich = own.mode == RICH
            for broadcast in broadcasts[own.synced :]:
                data = broadcast.rich if rich else broadcast.plain
                if data is not None and broadcast.exclude != conn:
                    own.parts.append(data)
        own.synced = len(broadcasts)
        return own

    def _joined(self, own: _Own) -> bytes:
        self._catch_up(own.conn, own.mode)
        return b"".join(own.parts)
