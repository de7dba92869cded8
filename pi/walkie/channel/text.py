"""Text hygiene for the channel: sanitising what stations send, validating nicks.

Nothing that one station sends may act on another station's terminal or LCD:
escape sequences, control characters and bidirectional overrides are removed
on the way in, once, at the hub.
"""

from __future__ import annotations

import re

# ESC followed by: a CSI sequence, an OSC/DCS/PM/APC string (ended by BEL or
# ST, or running to the end of the line), or any single character.
_ESCAPE_SEQUENCE = re.compile(
    r"""
    \x1b\[[0-?]*[ -/]*[@-~]?          # CSI: ESC [ params intermediates final
    | \x1b[\]PX^_][^\x07\x1b]*(?:\x07|\x1b\\)?   # OSC, DCS, SOS, PM, APC strings
    | \x1b.?                           # any other two-character escape
    | \x9b[0-?]*[ -/]*[@-~]?           # 8-bit CSI
    """,
    re.VERBOSE | re.DOTALL,
)
# C0 controls, DEL, C1 controls, and the bidi embedding/override/isolate marks
# that can make a line display as something else.
_UNSAFE_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")

NICK_MAX_LENGTH = 16
_VALID_NICK = re.compile(rf"[A-Za-z][A-Za-z0-9_-]{{0,{NICK_MAX_LENGTH - 1}}}")
_VALID_SESSION = re.compile(r"[A-Za-z0-9_-]{1,64}")


def sanitize(text: str) -> str:
    """Return ``text`` with escapes and control characters removed, tabs as spaces."""
    if text.isprintable():
        return text
    text = text.replace("\t", " ")
    text = _ESCAPE_SEQUENCE.sub("", text)
    return _UNSAFE_CHARACTERS.sub("", text)


def is_valid_nick(nick: str) -> bool:
    """True for 1-16 characters of ``A-Z a-z 0-9 _ -`` starting with a letter."""
    return _VALID_NICK.fullmatch(nick) is not None


def is_valid_session(session: str) -> bool:
    """True for a client session id: 1-64 characters of ``A-Z a-z 0-9 _ -``."""
    return _VALID_SESSION.fullmatch(session) is not None
