"""The character LCD: text mapping to the HD44780 ROM and the screen layout.

`charmap` maps Unicode to A00 ROM codes; `screen` lays out the rows and holds
the board's marquee rule. The names a station needs are re-exported here.
"""

from walkie.lcd.charmap import from_rom, to_rom
from walkie.lcd.screen import (
    LcdRow,
    LcdSize,
    Message,
    Screen,
    Status,
    layout,
    marquee_window,
    status_row,
)

__all__ = [
    "LcdRow",
    "LcdSize",
    "Message",
    "Screen",
    "Status",
    "from_rom",
    "layout",
    "marquee_window",
    "status_row",
    "to_rom",
]
