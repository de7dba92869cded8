"""How the terminal client words what it prints, as pure functions."""

from __future__ import annotations

from walkie.client.ui import QUOTED_CHARS, quoted_briefly


def test_a_refused_line_is_quoted_whole_when_short() -> None:
    assert quoted_briefly("hello") == "'hello'"
    assert quoted_briefly("x" * QUOTED_CHARS) == repr("x" * QUOTED_CHARS)


def test_a_refused_long_line_is_quoted_by_its_beginning() -> None:
    assert quoted_briefly("L" * 1200) == "'" + "L" * QUOTED_CHARS + "…'"
