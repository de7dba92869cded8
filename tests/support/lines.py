"""Reading a process's or socket's lines on a thread, so that tests can wait
for a line with a deadline instead of blocking forever."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from typing import BinaryIO

DEADLINE = 20.0
"""Generous limit for anything to happen: only there so that a bug cannot hang the suite."""


class LineReader:
    """Collects a binary stream's lines (decoded, without line endings)."""

    def __init__(self, stream: BinaryIO) -> None:
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._ended = False
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream: BinaryIO) -> None:
        for raw in iter(stream.readline, b""):
            self._queue.put(raw.decode("utf-8", errors="replace").rstrip("\r\n"))
        self._queue.put(None)

    def wait_for(self, wanted: str, deadline: float = DEADLINE) -> list[str]:
        """Lines so far, once one equals ``wanted`` (or starts with it, if it ends in '…')."""
        return self.wait_until(lambda line: _matches(line, wanted), deadline, wanted)

    def wait_until(
        self, predicate: Callable[[str], bool], deadline: float = DEADLINE, wanted: str = ""
    ) -> list[str]:
        """Lines so far, once one (old or new) satisfies ``predicate``."""
        return self.lines[: self.index_of(predicate, deadline, wanted) + 1]

    def first(self, predicate: Callable[[str], bool], deadline: float = DEADLINE) -> str:
        """The first line (old or new) that satisfies ``predicate``."""
        return self.lines[self.index_of(predicate, deadline)]

    def index_of(
        self,
        predicate: Callable[[str], bool],
        deadline: float = DEADLINE,
        wanted: str = "",
        start: int = 0,
    ) -> int:
        """The index of the first line from ``start`` on (old or new) satisfying ``predicate``."""
        end = time.monotonic() + deadline
        checked = start
        while True:
            for index in range(checked, len(self.lines)):
                if predicate(self.lines[index]):
                    return index
            checked = len(self.lines)
            if self._ended:
                raise AssertionError(f"stream ended without {wanted or predicate}: {self.lines}")
            try:
                line = self._queue.get(timeout=max(0.0, end - time.monotonic()))
            except queue.Empty:
                raise AssertionError(
                    f"no line {wanted or predicate} in time; got {self.lines[-10:]}"
                ) from None
            if line is None:
                self._ended = True
            else:
                self.lines.append(line)

    def rest(self, deadline: float = DEADLINE) -> list[str]:
        """Every line until the stream ends."""
        end = time.monotonic() + deadline
        while not self._ended:
            line = self._queue.get(timeout=max(0.0, end - time.monotonic()))
            if line is None:
                self._ended = True
            else:
                self.lines.append(line)
        return self.lines


def _matches(line: str, wanted: str) -> bool:
    return line.startswith(wanted[:-1]) if wanted.endswith("…") else line == wanted
