"""Test support: a log of the events the board link driver reports from its thread."""

from __future__ import annotations

import contextlib
import queue

from walkie.board.port import BoardEvent


class EventLog:
    """Board-link events as they arrive (called on the driver thread)."""

    def __init__(self) -> None:
        self._queue: queue.Queue[BoardEvent] = queue.Queue()
        self.seen: list[BoardEvent] = []

    def __call__(self, event: BoardEvent) -> None:
        self._queue.put(event)

    def all(self) -> list[BoardEvent]:
        with contextlib.suppress(queue.Empty):
            while True:
                self.seen.append(self._queue.get_nowait())
        return self.seen

    def count(self, kind: type) -> int:
        return sum(isinstance(event, kind) for event in self.all())
