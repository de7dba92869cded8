"""What the LCD shows: the screen layout of SPEC §4 and the marquee rule.

This module owns the content of each LCD row, as a pure function of the chat
state (newest messages, link state, floor, quick message) and the LCD size:

* 16x2: row 0 the newest message as `nick: text` (scrolling when longer than
  the row), row 1 the status.
* 20x4: rows 0-2 the newest three messages, newest on top (only the newest
  scrolls; older ones are cut to the width), row 3 the status.

The status row, most important first: `BUSY holder` after a refused press,
`TX text` while this station holds the floor, `>quick message` for a moment
after a tap chose it, `RX nick` while another station talks, else
`>quick message`; the station count sits at its right end; while the channel
is not connected it says so instead.

`marquee_window` is the board's scrolling rule (docs/serial-protocol.md §2, §7)
so tests and the simulator's terminal view can show what the LCD shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from walkie.board.frames import MAX_ROW_TEXT
from walkie.board.link import RowContent
from walkie.lcd.charmap import from_rom, to_rom

MARQUEE_PAUSE_MS = 1000
MARQUEE_STEP_MS = 350
MARQUEE_GAP = 3  # blanks between the end of the text and its next start
ELLIPSIS = b"..."

SUPPORTED_SIZES = ((16, 2), (20, 4))


@dataclass(frozen=True)
class LcdSize:
    cols: int = 16
    rows: int = 2

    def __post_init__(self) -> None:
        if self.cols < 8 or not 2 <= self.rows <= 4:
            raise ValueError(f"unsupported LCD size {self.cols}x{self.rows}")


@dataclass(frozen=True)
class Message:
    """One chat line as the LCD shows it."""

    nick: str
    text: str


@dataclass(frozen=True)
class Status:
    """The state behind the status row."""

    connected: bool = False
    link_text: str = "connecting"  # what to say while not connected
    stations: int | None = None
    talking: str | None = None  # another station holds the floor
    busy_holder: str | None = None  # our press was refused; who holds the floor
    transmitting: bool = False  # this station holds the floor
    quick_message: str | None = None  # the selected quick message
    just_selected: bool = False  # a tap chose it a moment ago: shown even over RX


@dataclass(frozen=True)
class LcdRow:
    """One row: ROM codes to send and whether the board should scroll it."""

    data: bytes
    marquee: bool = False

    @property
    def text(self) -> str:
        """The row as it looks on the LCD (unscrolled, unpadded)."""
        return from_rom(self.data)

    def content(self) -> RowContent:
        return RowContent(self.data, self.marquee)


@dataclass(frozen=True)
class Screen:
    size: LcdSize
    rows: tuple[LcdRow, ...] = field(default_factory=tuple)

    def board_rows(self) -> list[RowContent]:
        """The rows in the form `BoardLink.show` takes."""
        return [row.content() for row in self.rows]

    def visible(self, elapsed_ms: int = 0) -> list[str]:
        """Each row as the LCD shows it `elapsed_ms` after the rows arrived."""
        cols = self.size.cols
        return [
            from_rom(marquee_window(row.data, cols, elapsed_ms if row.marquee else 0))
            for row in self.rows
        ]


def layout(
    size: LcdSize, messages: Sequence[Message], status: Status, *, idle_text: str = "walkie"
) -> Screen:
    """The screen for this state; `messages` oldest first (the last is the newest)."""
    message_rows = size.rows - 1
    newest_first = list(reversed(messages[-message_rows:]))
    rows: list[LcdRow] = []
    for index in range(message_rows):
        if index < len(newest_first):
            rows.append(_message_row(newest_first[index], size.cols, scroll=index == 0))
        elif index == 0:
            rows.append(LcdRow(_fit(to_rom(idle_text), size.cols)))
        else:
            rows.append(LcdRow(b""))
    rows.append(LcdRow(status_row(status, size.cols)))
    return Screen(size, tuple(rows))


def _message_row(message: Message, cols: int, *, scroll: bool) -> LcdRow:
    data = to_rom(f"{message.nick}: {message.text}")
    if scroll and len(data) > cols:
        if len(data) > MAX_ROW_TEXT:
            data = data[: MAX_ROW_TEXT - len(ELLIPSIS)] + ELLIPSIS
        return LcdRow(data, marquee=True)
    return LcdRow(_fit(data, cols))


def status_row(status: Status, cols: int) -> bytes:
    """The status row's ROM codes, at most `cols` long."""
    if not status.connected:
        return _fit(to_rom(status.link_text), cols)
    if status.busy_holder is not None:
        left = f"BUSY {status.busy_holder}"
    elif status.transmitting:
        left = f"TX {status.quick_message}" if status.quick_message else "TX"
    elif status.talking is not None and not (status.just_selected and status.quick_message):
        left = f"RX {status.talking}"
    elif status.quick_message:
        left = f">{status.quick_message}"
    else:
        left = ""
    right = b"" if status.stations is None else to_rom(f"{status.stations} on")
    room = cols - len(right) - (1 if right else 0)
    left_rom = _fit(to_rom(left), room)
    return left_rom + b" " * (cols - len(left_rom) - len(right)) + right


def _fit(data: bytes, width: int) -> bytes:
    """Cut to `width`, marking a cut with a trailing '.' when there is room to."""
    if len(data) <= width:
        return data
    if width <= 1:
        return data[:width]
    return data[: width - 1] + b"."


Text = TypeVar("Text", str, bytes)


def marquee_offset(length: int, width: int, elapsed_ms: int) -> int:
    """Where the scrolling loop (text plus `MARQUEE_GAP` blanks) starts on the LCD.

    The board shows offset 0 for `MARQUEE_PAUSE_MS`, then advances one column
    every `MARQUEE_STEP_MS` through `length + MARQUEE_GAP - 1` and wraps to 0.
    """
    if length <= width:
        return 0
    positions = length + MARQUEE_GAP
    into_cycle = elapsed_ms % (MARQUEE_PAUSE_MS + (positions - 1) * MARQUEE_STEP_MS)
    if into_cycle < MARQUEE_PAUSE_MS:
        return 0
    return 1 + (into_cycle - MARQUEE_PAUSE_MS) // MARQUEE_STEP_MS


def marquee_window(text: Text, width: int, elapsed_ms: int) -> Text:
    """The `width` characters a marquee row shows `elapsed_ms` after it arrived."""
    offset = marquee_offset(len(text), width, elapsed_ms)
    if isinstance(text, bytes):
        if len(text) <= width:
            return text.ljust(width, b" ")
        return ((text + b" " * MARQUEE_GAP) * 2)[offset : offset + width]
    if len(text) <= width:
        return text.ljust(width, " ")
    return ((text + " " * MARQUEE_GAP) * 2)[offset : offset + width]
