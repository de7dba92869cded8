"""The LCD layout of SPEC §4 and the board's marquee rule."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from walkie.board.link import RowContent
from walkie.lcd.screen import (
    MARQUEE_GAP,
    MARQUEE_PAUSE_MS,
    MARQUEE_STEP_MS,
    LcdSize,
    Message,
    Status,
    layout,
    marquee_window,
    status_row,
)

SMALL = LcdSize(16, 2)
LARGE = LcdSize(20, 4)
ONLINE = Status(connected=True, stations=3, quick_message="On my way")


def test_the_newest_message_is_on_the_first_row_as_nick_colon_text() -> None:
    screen = layout(SMALL, [Message("bob", "old"), Message("alice", "hi")], ONLINE)
    assert screen.rows[0].text == "alice: hi"
    assert not screen.rows[0].marquee


def test_a_long_message_scrolls_and_is_cut_to_what_the_board_takes() -> None:
    screen = layout(SMALL, [Message("alice", "x" * 500)], ONLINE)
    row = screen.rows[0]
    assert row.marquee
    assert len(row.data) == 80 and row.data.endswith(b"...")


def test_the_status_row_shows_the_quick_message_and_station_count() -> None:
    screen = layout(SMALL, [], ONLINE)
    assert screen.rows[1].text == ">On my way  3 on"


def test_a_refused_press_shows_busy_with_the_holders_name() -> None:
    status = Status(connected=True, stations=2, busy_holder="carol", talking="carol")
    assert status_row(status, 16) == b"BUSY carol  2 on"


def test_while_another_station_talks_the_status_says_who() -> None:
    assert status_row(Status(connected=True, stations=4, talking="dave"), 16) == b"RX dave     4 on"


def test_while_this_station_transmits_the_status_says_tx_and_what() -> None:
    status = Status(connected=True, stations=4, transmitting=True, quick_message="OK")
    assert status_row(status, 16) == b"TX OK       4 on"


def test_without_a_channel_the_status_says_so() -> None:
    assert status_row(Status(connected=False, link_text="connecting..."), 16) == b"connecting..."


def test_long_names_are_cut_and_the_count_stays_visible() -> None:
    status = Status(connected=True, stations=12, busy_holder="a-very-long-nickname")
    row = status_row(status, 16)
    assert len(row) == 16 and row.endswith(b"12 on")


def test_status_text_is_mapped_to_the_rom() -> None:
    row = status_row(Status(connected=True, stations=1, talking="Zoë"), 16)
    assert row.startswith(b"RX Zoe ")


def test_twenty_by_four_shows_the_last_three_messages_newest_first() -> None:
    messages = [Message(name, f"msg {name}") for name in ("a", "b", "c", "d")]
    screen = layout(LARGE, messages, ONLINE)
    assert [row.text for row in screen.rows[:3]] == ["d: msg d", "c: msg c", "b: msg b"]
    assert screen.rows[3].text.endswith("3 on") and len(screen.rows[3].data) == 20


def test_older_rows_do_not_scroll() -> None:
    messages = [Message("a", "y" * 40), Message("b", "z" * 40)]
    screen = layout(LARGE, messages, ONLINE)
    assert screen.rows[0].marquee and not screen.rows[1].marquee
    assert len(screen.rows[1].data) == 20


def test_an_empty_channel_shows_the_idle_text() -> None:
    assert layout(SMALL, [], ONLINE).rows[0].text == "walkie"


def test_board_rows_are_what_the_link_driver_takes() -> None:
    rows = layout(SMALL, [Message("bob", "hi")], ONLINE).board_rows()
    assert rows[0] == RowContent(b"bob: hi", False)
    assert len(rows) == 2


def test_the_marquee_pauses_then_steps_one_column_every_350_ms_and_wraps() -> None:
    text = "abcdefghijklmnopqrst"  # 20 characters on 16 columns
    assert marquee_window(text, 16, 0) == "abcdefghijklmnop"
    assert marquee_window(text, 16, MARQUEE_PAUSE_MS - 1) == "abcdefghijklmnop"
    assert marquee_window(text, 16, MARQUEE_PAUSE_MS) == "bcdefghijklmnopq"
    assert marquee_window(text, 16, MARQUEE_PAUSE_MS + MARQUEE_STEP_MS) == "cdefghijklmnopqr"
    last_offset = len(text) + MARQUEE_GAP - 1
    end = MARQUEE_PAUSE_MS + (last_offset - 1) * MARQUEE_STEP_MS
    assert marquee_window(text, 16, end) == " abcdefghijklmno"
    assert marquee_window(text, 16, end + MARQUEE_STEP_MS) == "abcdefghijklmnop"


def test_short_text_does_not_scroll_and_is_padded() -> None:
    assert marquee_window(b"hi", 16, 5000) == b"hi" + b" " * 14


@given(st.text(max_size=80), st.sampled_from([16, 20]), st.integers(0, 10**7))
def test_the_marquee_window_always_fills_the_row_from_the_text(
    text: str, width: int, elapsed: int
) -> None:
    window = marquee_window(text, width, elapsed)
    assert len(window) == width
    if len(text) <= width:
        assert window == text.ljust(width)
    else:
        assert window in (text + " " * MARQUEE_GAP) * 2


def test_visible_rows_follow_the_marquee() -> None:
    screen = layout(SMALL, [Message("alice", "a long message here")], ONLINE)
    assert screen.visible(0)[0] == "alice: a long me"
    assert screen.visible(MARQUEE_PAUSE_MS)[0] == "lice: a long mes"
    assert screen.visible(MARQUEE_PAUSE_MS)[1] == ">On my way  3 on"
