"""Text safety for the client: what may reach a terminal, and what a nick may be.

The hub sanitises text on the way in, but the client never trusts the hub:
everything received is cleaned again before it is shown. The rules mirror
docs/protocol.md §1 (escape sequences, C0/C1 controls, DEL and bidirectional
overrides removed, a tab becomes a space).
"""

from __future__ import annotations

import re

# ESC-introduced sequences: CSI, OSC / DCS / SOS / PM / APC strings (ended by
# BEL or ST, or by the end of the text), then any other two-character escape.
_ESCAPE_SEQUENCE = re.compile(
    r"""
      \x1b\[ [0-?]* [ -/]* [@-~]?            # CSI
    | \x1b[\]PX^_] [^\x07\x1b\x9c]* (?:\x07|\x1b\\|\x9c)?   # OSC, DCS, SOS, PM, APC
    | \x1b [ -/]* [0-~]?                     # other ESC sequences (and a lone ESC)
    | \x9b [0-?]* [ -/]* [@-~]?              # 8-bit CSI
    | [\x90\x98\x9d\x9e\x9f] [^\x07\x1b\x9c]* (?:\x07|\x1b\\|\x9c)?  # 8-bit strings
    """,
    re.VERBOSE,
)

# C0 and C1 controls, DEL, bidi marks/overrides/isolates, line/paragraph separators.
_UNSAFE_CHARACTER = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]"
)

NICK_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,15}")
"""A valid nick (protocol §2): 1–16 of ``A–Z a–z 0–9 _ -``, starting with a letter."""


def sanitize(text: str) -> str:
    """Return ``text`` without escape sequences or control characters; tabs become spaces."""
    text = _ESCAPE_SEQUENCE.sub("", text)
    text = text.replace("\t", " ")
    return _UNSAFE_CHARACTER.sub("", text)


def is_valid_nick(nick: str) -> bool:
    """Whether ``nick`` is a nick the hub accepts."""
    return NICK_PATTERN.fullmatch(nick) is not None
