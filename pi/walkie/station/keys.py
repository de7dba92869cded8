"""The keys typed on a terminal in cbreak mode, from the bytes it sends.

Keys that are not characters arrive as escape sequences that end in a
letter: the up arrow is ``ESC [ A`` (CSI), F1 ``ESC O P`` (SS3), Shift+Up
``ESC [ 1 ; 2 A``, and on the Linux console (a Pi's own screen) F1 is
``ESC [ [ A``. Read byte by byte, those letters would count as typed
keys. :class:`KeyDecoder` passes on the characters typed and drops every
escape sequence whole, also one split across two reads: it keeps its state
between feeds. No I/O and no buffer: bytes in, keys out.

Example::

    keys = KeyDecoder()
    keys.feed(b"a\\x1b[")  # "a"
    keys.feed(b"Ap")  # "p": the A ended the up arrow's sequence
"""

from __future__ import annotations

import codecs
import enum

ESC = 0x1B
SEQUENCE_STARTS = (ord("["), ord("O"))
"""After ESC: a CSI sequence (arrows, Home, F5 and up) or an SS3 one (F1-F4)."""
PARAMETER_BYTES = range(0x20, 0x40)
"""Digits, ``;`` and the like between the start of a sequence and its final byte."""
FINAL_BYTES = range(0x40, 0x7F)


class _State(enum.Enum):
    TEXT = enum.auto()
    ESCAPE = enum.auto()  # after ESC
    CSI = enum.auto()  # just after ESC [
    SEQUENCE = enum.auto()  # after ESC [ or ESC O, until the final byte
    CONSOLE_KEY = enum.auto()  # after ESC [ [: the Linux console's F1-F5, one byte more


class KeyDecoder:
    """Typed characters from a terminal's input, its escape sequences dropped."""

    def __init__(self) -> None:
        self._state = _State.TEXT
        self._text = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def feed(self, data: bytes) -> str:
        """The keys typed in ``data``, one character each, in order."""
        typed = bytearray()
        for byte in data:
            if self._state is _State.ESCAPE:
                if byte in SEQUENCE_STARTS:
                    self._state = _State.CSI if byte == ord("[") else _State.SEQUENCE
                    continue
                # Anything else: the ESC was the Escape key on its own (or
                # Alt held with the next key), and the next key counts.
                self._state = _State.TEXT
            elif self._state is _State.CONSOLE_KEY:
                self._state = _State.TEXT
                continue
            elif self._state is _State.CSI and byte == ord("["):
                self._state = _State.CONSOLE_KEY
                continue
            elif self._state in (_State.CSI, _State.SEQUENCE):
                self._state = _State.SEQUENCE
                if byte in PARAMETER_BYTES:
                    continue
                self._state = _State.TEXT
                if byte in FINAL_BYTES:
                    continue
                # Not part of a sequence (a malformed one): an ordinary byte.
            if byte == ESC:
                self._state = _State.ESCAPE
            else:
                typed.append(byte)
        return self._text.decode(bytes(typed))
