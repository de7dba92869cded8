"""How the terminal client words what it prints, as pure functions."""

from __future__ import annotations

from datetime import date, datetime

from walkie.client.ui import QUOTED_CHARS, quoted_briefly
from walkie.timestamps import history_stamp

DEC_3_14_02 = datetime(2026, 12, 3, 14, 2).timestamp()  # local time, as the client shows it


def test_a_refused_line_is_quoted_whole_when_short() -> None:
    assert quoted_briefly("hello") == "'hello'"
    assert quoted_briefly("x" * QUOTED_CHARS) == repr("x" * QUOTED_CHARS)


def test_a_refused_long_line_is_quoted_by_its_beginning() -> None:
    assert quoted_briefly("L" * 1200) == "'" + "L" * QUOTED_CHARS + "…'"


def test_a_stored_message_from_today_shows_its_time() -> None:
    assert history_stamp(DEC_3_14_02, today=date(2026, 12, 3)) == "14:02"


def test_a_stored_message_from_another_day_shows_its_date_too() -> None:
    assert history_stamp(DEC_3_14_02, today=date(2026, 12, 4)) == "2026-12-03 14:02"
    assert history_stamp(DEC_3_14_02, today=date(2027, 12, 3)) == "2026-12-03 14:02"


def test_a_stored_message_of_unknown_or_impossible_time_shows_none() -> None:
    today = date(2026, 12, 3)
    assert history_stamp(0.0, today) == "--:--"  # the hub gave none
    assert history_stamp(1e300, today) == "--:--"
    assert history_stamp(float("nan"), today) == "--:--"
