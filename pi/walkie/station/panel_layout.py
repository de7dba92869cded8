"""How the simulation's panel fits a terminal: the width of text in terminal
cells, lines cut to the terminal's width so that none wraps, the least
important lines dropped when it has too few rows, and the characters that
redraw the panel in place. Pure: lines and a size in, text out.
"""

from __future__ import annotations

import enum
import unicodedata
from collections.abc import Sequence
from typing import NamedTuple

HOME = "\x1b[H"
CLEAR_SCREEN = "\x1b[2J"
ERASE_TO_END_OF_LINE = "\x1b[K"
ERASE_BELOW = "\x1b[J"


class Importance(enum.IntEnum):
    """Which lines a terminal too short for the whole panel keeps: the lowest
    go first, so that the LCD box, the LEDs and the buttons stay in view (and
    on the smallest, the LCD's rows without their box)."""

    LOG = 0
    SPACING = 1
    TAP_HELP = 2
    JOIN_HINT = 3
    KEY_HELP = 4
    HEADER = 5
    LCD_BORDER = 6
    LEDS_AND_BUTTONS = 7
    LCD_ROW = 8


class PanelLine(NamedTuple):
    text: str
    importance: Importance


def cell_width(char: str) -> int:
    """The terminal cells ``char`` takes: two for the East Asian wide and
    full-width characters (千, 円), none for combining marks, else one."""
    if unicodedata.combining(char):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def display_width(text: str) -> int:
    return sum(cell_width(char) for char in text)


def cut_to_width(text: str, columns: int) -> str:
    """``text`` up to the last character that ends within ``columns`` cells."""
    width = 0
    for index, char in enumerate(text):
        width += cell_width(char)
        if width > columns:
            return text[:index]
    return text


def fit(lines: Sequence[PanelLine], columns: int, rows: int) -> list[str]:
    """The texts of ``lines`` that ``rows`` rows of ``columns`` show: each cut
    to the width, and while there are too many, the least important dropped,
    among equals the earliest (the oldest log line). A blank line left last
    goes too: it separates nothing."""
    kept = list(lines)
    while True:
        while kept and not kept[-1].text:
            kept.pop()
        if len(kept) <= max(rows, 0):
            return [cut_to_width(line.text, columns) for line in kept]
        least = min(range(len(kept)), key=lambda index: kept[index].importance)
        del kept[least]


def redraw_in_place(lines: Sequence[str], columns: int) -> str:
    """What draws ``lines`` (fitted to ``columns``) over the panel drawn
    before, from the top of the terminal: each line erased to its end, then
    everything below; the cursor is left at the start of the row under the
    panel, where the shell goes on at exit. No clear screen: a terminal that
    scrolls a cleared screen into its history (tmux, VTE) would fill it with
    a copy of the panel at every redraw, three a second while the LCD
    scrolls."""
    drawn = "".join(_erased_to_its_end(line, columns) + "\r\n" for line in lines)
    return HOME + drawn + ERASE_BELOW


def _erased_to_its_end(line: str, columns: int) -> str:
    # A line as wide as the terminal leaves the cursor on its last character,
    # waiting to wrap: erasing from there would erase that character.
    return line if display_width(line) >= columns else line + ERASE_TO_END_OF_LINE
