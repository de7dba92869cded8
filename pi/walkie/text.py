"""Text hygiene shared by the hub and the clients: sanitising text, validating nicks.

Nothing that one station sends may act on another station's terminal or LCD:
the hub removes escape sequences and unprintable characters on the way in,
and walkie's clients, which never trust a hub, clean what they show again
with the same function.
"""

from __future__ import annotations

import re
import unicodedata

# ESC-introduced sequences: CSI, OSC / DCS / SOS / PM / APC strings (ended by
# BEL or ST, or by the end of the text), then any other two-character escape;
# and their 8-bit forms.
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

ZERO_WIDTH_JOINER = "\u200d"
"""Kept: it only joins emoji into one picture and cannot move or hide text."""

NICK_MAX_LENGTH = 16
NICK_RULE = f"1-{NICK_MAX_LENGTH} letters, digits, _ or -, starting with a letter"
"""What :func:`is_valid_nick` accepts, in the words of error messages."""
_VALID_NICK = re.compile(rf"[A-Za-z][A-Za-z0-9_-]{{0,{NICK_MAX_LENGTH - 1}}}")
_VALID_SESSION = re.compile(r"[A-Za-z0-9_-]{1,64}")


def sanitize(text: str) -> str:
    """Return ``text`` with escapes and every unprintable character removed.

    Unprintable means Unicode's "Other" and "Separator" classes: controls,
    format characters (bidi marks and overrides, soft hyphens, BOMs), line and
    paragraph separators, unassigned code points. Spaces of any width become a
    plain space, and so does a tab.
    """
    if text.isprintable():
        return text
    text = _ESCAPE_SEQUENCE.sub("", text)
    return "".join(_printable_or_nothing(char) for char in text)


def _printable_or_nothing(char: str) -> str:
    if char.isprintable() or char == ZERO_WIDTH_JOINER:
        return char
    if char == "\t" or unicodedata.category(char) == "Zs":
        return " "
    return ""


def is_valid_nick(nick: str) -> bool:
    """True for 1-16 characters of ``A-Z a-z 0-9 _ -`` starting with a letter."""
    return _VALID_NICK.fullmatch(nick) is not None


def is_valid_session(session: str) -> bool:
    """True for a client session id: 1-64 characters of ``A-Z a-z 0-9 _ -``."""
    return _VALID_SESSION.fullmatch(session) is not None
