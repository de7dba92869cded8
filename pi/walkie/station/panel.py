"""The terminal panel of `walkie pi --simulate`: the virtual LCD as the
simulated board draws it, the LEDs, the buttons and the newest log lines.

On a terminal it redraws itself in place, fitted to the terminal's size
(:mod:`~walkie.station.panel_layout`). On anything else it prints a line
whenever the LCD or an LED changes (``LCD |row 0|row 1|``,
``LED link=on talk=off``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
from collections import deque
from collections.abc import Callable

from walkie.lcd.charmap import from_rom
from walkie.lcd.screen import Screen
from walkie.station.gpio import LedMode
from walkie.station.panel_layout import (
    CLEAR_SCREEN,
    HOME,
    Importance,
    PanelLine,
    display_width,
    fit,
    redraw_in_place,
)

LOG_LINES_SHOWN = 4
LCD_SETTLE_S = 0.02
LAST_SCREEN_WAIT_S = 1.0
"""At exit, at most this long for the simulated LCD to draw the daemon's last screen."""
FALLBACK_TERMINAL_SIZE = os.terminal_size((80, 24))
"""The size assumed when stdout's terminal does not tell its own."""


class Panel:
    """What the simulation shows; draws itself on a terminal or prints changes."""

    def __init__(self, interactive: bool, hub: str, on_output_gone: Callable[[], None]) -> None:
        self.interactive = interactive
        self.hub = hub
        self._on_output_gone = on_output_gone
        self._output_gone = False
        self.lcd: tuple[str, ...] = ()
        self.link_led = LedMode.OFF
        self.talk_led = LedMode.OFF
        self.buttons = {"arduino": False, "pi": False}
        self.log: deque[str] = deque(maxlen=LOG_LINES_SHOWN)
        self._settling: tuple[str, ...] = ()
        self._settle_timer: asyncio.TimerHandle | None = None
        self._sent: Screen | None = None
        self._drawn = False

    def screen_sent(self, screen: Screen) -> None:
        """The daemon sent the board this screen."""
        self._sent = screen

    async def show_last_screen(self) -> None:
        """At exit, before the simulator stops: once the LCD has drawn the
        daemon's last screen, show it."""
        if self._sent is None:
            return
        loop = asyncio.get_running_loop()
        give_up = loop.time() + LAST_SCREEN_WAIT_S
        while not self._has_drawn(self._sent) and loop.time() < give_up:
            await asyncio.sleep(LCD_SETTLE_S)
        if self._settle_timer is not None:
            self._settle_timer.cancel()
            self._settled()

    def _has_drawn(self, screen: Screen) -> bool:
        """Whether the LCD shows ``screen`` (scrolling rows move: not compared)."""
        drawn = self._settling
        rows = zip(screen.rows, screen.visible(), strict=True)
        return all(
            row.marquee or (index < len(drawn) and drawn[index] == text)
            for index, (row, text) in enumerate(rows)
        )

    def lcd_changed(self, rows: tuple[str, ...]) -> None:
        # The firmware redraws a character per loop: show the LCD once it has
        # settled, not every half-drawn state in between. The simulator reports
        # ROM codes; show them as the A00 ROM draws them (0xF5 is ü, not õ).
        self._settling = tuple(from_rom(row.encode("latin-1")) for row in rows)
        if self._settle_timer is not None:
            self._settle_timer.cancel()
        self._settle_timer = asyncio.get_running_loop().call_later(LCD_SETTLE_S, self._settled)

    def _settled(self) -> None:
        self._settle_timer = None
        rows = self._settling
        if rows == self.lcd:
            return
        self.lcd = rows
        if self.interactive:
            self.draw()
        else:
            self._write("LCD |" + "|".join(rows) + "|\n")

    def show_leds(self, link: LedMode, talk: LedMode) -> None:
        if (link, talk) == (self.link_led, self.talk_led):
            return
        self.link_led, self.talk_led = link, talk
        if self.interactive:
            self.draw()
        else:
            self._write(f"LED link={link.value} talk={talk.value}\n")

    def draw(self) -> None:
        """Redraw the panel in place, fitted to the terminal's present size
        (the simulation calls this again when the terminal is resized)."""
        size = _terminal_size()
        # The row under the panel is the cursor's, for the shell at exit.
        lines = fit(self.lines(), size.columns, size.lines - 1)
        # Cleared once, before the first drawing: what the terminal showed
        # goes into its history (tmux, VTE) instead of being drawn over.
        clear = "" if self._drawn else HOME + CLEAR_SCREEN
        self._drawn = True
        self._write(clear + redraw_in_place(lines, size.columns))

    def lines(self) -> list[PanelLine]:
        """All the panel shows, each line with how much it matters when the
        terminal is too short for them all."""
        # The LCD draws 千, 万 and 円 (in its ROM) in one cell, a terminal in
        # two: rows are padded by the cells they take, so the box stays square.
        width = max((display_width(row) for row in self.lcd), default=16)
        border = PanelLine("+" + "-" * width + "+", Importance.LCD_BORDER)
        rows = (row + " " * (width - display_width(row)) for row in self.lcd)
        arduino, pi = ("PRESSED" if self.buttons[b] else "released" for b in ("arduino", "pi"))
        buttons = f"Arduino button: {arduino:<8}   Pi button: {pi}"
        spacing = PanelLine("", Importance.SPACING)
        return [
            PanelLine(f"walkie pi --simulate    hub {self.hub}", Importance.HEADER),
            PanelLine(f"join: walkie client {self.hub}", Importance.JOIN_HINT),
            spacing,
            border,
            *(PanelLine(f"|{row}|", Importance.LCD_ROW) for row in rows),
            border,
            spacing,
            PanelLine(
                f"LED link: {self.link_led.value:<9} LED talk: {self.talk_led.value}",
                Importance.LEDS_AND_BUTTONS,
            ),
            PanelLine(buttons, Importance.LEDS_AND_BUTTONS),
            spacing,
            PanelLine(
                "keys: a = Arduino PTT press/release, p = Pi PTT press/release, q = quit",
                Importance.KEY_HELP,
            ),
            PanelLine(
                "tap = next quick message; hold 0.6 s = key up and send it; release = over",
                Importance.TAP_HELP,
            ),
            spacing,
            *(PanelLine(line, Importance.LOG) for line in self.log),
        ]

    def _write(self, text: str) -> None:
        if self._output_gone:
            return
        stream = sys.stdout
        try:
            if stream is None:  # started with stdout closed
                raise BrokenPipeError
            stream.write(text)
            stream.flush()
        except OSError:
            # Nobody reads the panel any more (`| head`, a full disk): end as
            # `q` does, and send what Python still flushes at exit nowhere.
            self._output_gone = True
            if stream is not None:
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, stream.fileno())
                os.close(devnull)
            self._on_output_gone()


def _terminal_size() -> os.terminal_size:
    try:
        size = os.get_terminal_size(sys.stdout.fileno())
    except (AttributeError, ValueError, OSError):  # stdout closed, or no terminal
        return FALLBACK_TERMINAL_SIZE
    # A pseudo-terminal nobody gave a size (some container runtimes) says 0x0.
    return size if size.columns > 0 and size.lines > 0 else FALLBACK_TERMINAL_SIZE


class PanelLogHandler(logging.Handler):
    """Log lines onto the panel, drawn at once: a line from a timer (the
    history's warnings) would otherwise wait for the next LCD change."""

    def __init__(self, panel: Panel, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self.panel = panel
        self.loop = loop

    def emit(self, record: logging.LogRecord) -> None:
        self.panel.log.append(f"{record.levelname.lower()}: {record.getMessage()}"[:100])
        # From any thread (the board link logs from its own): drawn on the loop.
        with contextlib.suppress(RuntimeError):  # the loop has closed
            self.loop.call_soon_threadsafe(self.panel.draw)
