"""What the client lets reach a terminal."""

from __future__ import annotations

import pytest

from walkie.text import is_valid_nick, sanitize


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("plain", "plain"),
        ("\x1b[31mred\x1b[0m", "red"),
        ("\x1b]0;title\x07after", "after"),
        ("\x1b]8;;http://x\x1b\\link", "link"),
        ("a\x1bcb", "ab"),
        ("tab\there", "tab here"),
        ("bell\x07 nul\x00 del\x7f", "bell nul del"),
        ("\x9b2Jc1", "c1"),
        ("\u202eevil\u2066x\u2069", "evilx"),
        ("line\nbreak\r", "linebreak"),
        ("café ✓", "café ✓"),
    ],
)
def test_sanitize_removes_escapes_and_controls(raw: str, clean: str) -> None:
    assert sanitize(raw) == clean


@pytest.mark.parametrize("nick", ["a", "alice", "Bob_2", "x-y", "a" * 16])
def test_valid_nicks(nick: str) -> None:
    assert is_valid_nick(nick)


@pytest.mark.parametrize("nick", ["", "2bob", "_x", "a" * 17, "al ice", "ålice"])
def test_invalid_nicks(nick: str) -> None:
    assert not is_valid_nick(nick)
