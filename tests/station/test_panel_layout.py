"""The simulation's panel on terminals of any size: nothing wraps, a short
terminal keeps the LCD box, LEDs and buttons, and a redraw overwrites the
panel in place instead of clearing the screen."""

from __future__ import annotations

from walkie.lcd.charmap import from_rom
from walkie.station.gpio import LedMode
from walkie.station.panel import Panel
from walkie.station.panel_layout import (
    Importance,
    PanelLine,
    cut_to_width,
    display_width,
    fit,
    redraw_in_place,
)


def idle_panel(hub: str = "127.0.0.1:32000") -> Panel:
    panel = Panel(interactive=True, hub=hub, on_output_gone=lambda: None)
    panel.lcd = ("walkie          ", ">OK         1 on")
    panel.link_led = LedMode.ON
    for line in ("serial port /dev/pts/1 open", "channel connected", "board link up"):
        panel.log.append(f"info: {line}")
    return panel


def test_the_whole_panel_fits_80_columns_at_the_default_port() -> None:
    lines = fit(idle_panel().lines(), 80, 24)
    assert "join: walkie client 127.0.0.1:32000" in lines
    assert max(display_width(line) for line in lines) <= 80
    assert len(lines) < 24


def test_lines_wider_than_the_terminal_are_cut_to_its_width() -> None:
    lines = fit(idle_panel().lines(), 30, 24)
    assert "keys: a = Arduino PTT press/re" in lines
    assert all(display_width(line) <= 30 for line in lines)


def test_a_wide_character_is_never_cut_in_half() -> None:
    assert cut_to_width("bo: 5千円", 6) == "bo: 5"
    assert cut_to_width("bo: 5千円", 7) == "bo: 5千"
    assert cut_to_width("bo: 5千円", 99) == "bo: 5千円"


def test_a_short_terminal_keeps_the_lcd_box_leds_and_buttons() -> None:
    lines = fit(idle_panel().lines(), 80, 7)
    assert lines == [
        "walkie pi --simulate    hub 127.0.0.1:32000",
        "+----------------+",
        "|walkie          |",
        "|>OK         1 on|",
        "+----------------+",
        "LED link: on        LED talk: off",
        "Arduino button: released   Pi button: released",
    ]


def test_a_terminal_a_little_short_drops_the_oldest_log_lines_first() -> None:
    everything = fit(idle_panel().lines(), 80, 99)
    lines = fit(idle_panel().lines(), 80, len(everything) - 2)
    assert lines == [*everything[:-3], "info: board link up"]


def test_a_terminal_too_small_for_the_box_shows_the_lcds_rows() -> None:
    assert fit(idle_panel().lines(), 6, 2) == ["|walki", "|>OK  "]
    assert fit(idle_panel().lines(), 80, 0) == []


def test_no_blank_line_is_left_at_the_bottom() -> None:
    lines = [PanelLine("lcd", Importance.LCD_ROW), PanelLine("", Importance.SPACING)]
    assert fit([*lines, PanelLine("log", Importance.LOG)], 80, 2) == ["lcd"]


def test_a_redraw_overwrites_the_panel_in_place_without_clearing_the_screen() -> None:
    drawn = redraw_in_place(["panel", "x" * 10], 10)
    # Home; each line erased to its end (but the full-width one: its last
    # character would go); the rest erased; the cursor under the panel.
    assert drawn == "\x1b[H" + "panel\x1b[K\r\n" + "x" * 10 + "\r\n" + "\x1b[J"
    assert "\x1b[2J" not in drawn


def test_the_lcd_box_stays_square_with_characters_two_cells_wide() -> None:
    panel = idle_panel()
    panel.lcd = (from_rom(b"bo: 5\xfa\xfc 1\xfb      "), ">OK         2 on")  # 5千円 1万
    box = [line for line in fit(panel.lines(), 80, 24) if line.startswith(("+", "|"))]
    assert box[1] == "|bo: 5千円 1万      |"
    assert [display_width(line) for line in box] == [21] * 4
    assert box[2] == "|>OK         2 on   |"
