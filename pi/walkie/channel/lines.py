"""Bounded line splitting: bytes from a socket in, complete lines out.

The splitter never holds more than one read's worth of bytes plus one line:
a line longer than the limit is reported once and then skipped up to its
newline without being buffered, so a 10 MB line with no newline costs
nothing but the time to read it.
"""

from __future__ import annotations

from dataclasses import dataclass

_NEWLINE = ord("\n")


@dataclass(frozen=True, slots=True)
class LineTooLong:
    """A line exceeded the limit; its bytes were discarded up to the newline."""

    limit: int


class LineSplitter:
    """Splits a byte stream into lines ending in ``\\n`` (``\\r\\n`` accepted).

    Feed bytes with :meth:`feed`, then take lines one by one with
    :meth:`next_line`, which returns ``bytes`` (without the line ending), a
    :class:`LineTooLong` marker, or ``None`` when no complete line is waiting.
    Taking lines one at a time lets the caller stop (rate limit) and leave the
    rest buffered while it stops reading. :meth:`whole_line` looks at a read
    that is one line by itself without buffering it (the usual read of a
    station typing, and the hot path of the hub).
    """

    def __init__(self, max_line: int) -> None:
        self.max_line = max_line
        self._buffer = bytearray()
        self._start = 0
        self._skipping = False
        self._too_long_pending = False

    def feed(self, data: bytes | memoryview) -> None:
        self._buffer += data

    def whole_line(self, data: bytes | memoryview) -> bytes | None:
        """The line that feeding ``data`` would give :meth:`next_line`, if
        nothing is buffered and ``data`` is exactly one complete line within
        the limit; ``None`` otherwise. Either way nothing changes: feed
        ``data`` when it is ``None``."""
        end = len(data) - 1
        if end < 0 or data[end] != _NEWLINE or self._skipping or self._too_long_pending:
            return None
        if len(self._buffer) > self._start:
            return None
        line = bytes(data[:end])
        if b"\n" in line:
            return None
        if line.endswith(b"\r"):
            line = line[:-1]
        return line if len(line) <= self.max_line else None

    @property
    def buffered(self) -> int:
        """Bytes held that are not yet returned as lines."""
        return len(self._buffer) - self._start

    def next_line(self) -> bytes | LineTooLong | None:
        while True:
            if self._too_long_pending:
                self._too_long_pending = False
                return LineTooLong(self.max_line)
            newline = self._buffer.find(b"\n", self._start)
            if newline < 0:
                if self._compact_unfinished():
                    continue
                return None
            line = bytes(self._buffer[self._start : newline])
            self._start = newline + 1
            if self._skipping:
                self._skipping = False
                continue
            if line.endswith(b"\r"):
                line = line[:-1]
            if len(line) > self.max_line:
                return LineTooLong(self.max_line)
            return line

    def _compact_unfinished(self) -> bool:
        """Drop consumed bytes; True if the unfinished line just became too long."""
        del self._buffer[: self._start]
        self._start = 0
        # One byte of slack for a "\r" that may precede the newline.
        if len(self._buffer) <= self.max_line + 1:
            return False
        self._buffer.clear()
        if self._skipping:
            return False
        self._skipping = True
        self._too_long_pending = True
        return True
