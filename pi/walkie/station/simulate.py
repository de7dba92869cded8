"""`walkie pi --simulate`: the real station daemon against the board simulator
(the real firmware in simavr) and gpiozero's mock pins.

It shows what happens on :class:`~walkie.station.panel.Panel` and takes
commands from stdin: on a terminal, keys (``a`` presses or releases the
Arduino's PTT button, ``p`` the Pi's GPIO button, ``q`` quits; arrows and
function keys do nothing, see :mod:`~walkie.station.keys`); otherwise lines
(``a``, ``p``, ``press arduino``, ``release pi``, ``quit``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import termios
import threading
import tty
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from walkie.address import format_address
from walkie.channel.server import Hub
from walkie.errors import WalkieError
from walkie.sim.board import BoardSimulator
from walkie.station.config import GpioConfig, StationConfig
from walkie.station.daemon import Station
from walkie.station.keys import KeyDecoder
from walkie.station.panel import Panel, PanelLogHandler

SIMULATED_PINS = GpioConfig(button=17, led=27, talk_led=22)
BUTTON_CHANGES_APART_S = 0.05
"""The simulated buttons change at most once in this time, however soon the
keys come: ``aa`` in one read pressed the button for no time at all, and the
firmware's debounce (and gpiozero's), 20 ms, dropped the press. It also gives
the Arduino's release, debounced, the time to reach the daemon before a press
of the Pi's button that came after it."""


async def run_simulated(
    config: StationConfig,
    stop: asyncio.Event,
    *,
    on_hub_ready: Callable[[Hub], None],
    lcd_size: tuple[int, int] = (16, 2),
) -> None:
    from gpiozero.pins.mock import MockFactory

    loop = asyncio.get_running_loop()
    # No stdin at all (its descriptor closed): no commands, as with /dev/null.
    stdin = sys.stdin.fileno() if sys.stdin is not None else None
    interactive = stdin is not None and os.isatty(stdin) and sys.stdout.isatty()
    hub = (
        format_address(config.server.host, config.server.port)
        if config.role == "server"
        else config.client.hub
    )
    panel = Panel(interactive, hub, on_output_gone=stop.set)

    def lcd_changed(rows: tuple[str, ...]) -> None:  # on the simulator's reader thread
        loop.call_soon_threadsafe(panel.lcd_changed, rows)

    ended: list[str] = []

    def simulator_ended(reason: str) -> None:  # on the simulator's reader thread
        # The board is gone for good, and its pty's name may soon be another
        # terminal's: the station must not open it again.
        ended.append(reason)
        loop.call_soon_threadsafe(stop.set)

    simulator = BoardSimulator(
        realtime=True, lcd_size=lcd_size, on_lcd=lcd_changed, on_exit=simulator_ended
    )
    await asyncio.to_thread(simulator.start)
    config = replace(
        config,
        # Every part fitted, on mock pins, whatever the config's [gpio] says:
        # the panel shows both LEDs and `p` presses the button.
        gpio=SIMULATED_PINS,
        serial=replace(config.serial, port=simulator.port),
    )

    def hub_ready(hub: Hub) -> None:
        panel.hub = format_address(config.server.host, hub.port)
        on_hub_ready(hub)

    station = Station(
        config, pin_factory=MockFactory(), on_hub_ready=hub_ready, on_screen=panel.screen_sent
    )
    station.gpio.on_change = lambda: panel.show_leds(station.gpio.link_mode, station.gpio.talk_mode)

    presses: asyncio.Queue[tuple[str, bool]] = asyncio.Queue()

    async def press_buttons() -> None:
        # One at a time, in the order they were asked for: a change that
        # comes too soon waits, and the changes behind it wait with it.
        changed_at = -BUTTON_CHANGES_APART_S
        while True:
            which, pressed = await presses.get()
            await asyncio.sleep(changed_at + BUTTON_CHANGES_APART_S - loop.time())
            if which == "arduino":
                await asyncio.to_thread(simulator.press if pressed else simulator.release)
            elif (pin := station.gpio.button_pin) is not None:
                # The button pulls its pin to GND when pressed.
                pin.drive_low() if pressed else pin.drive_high()
            changed_at = loop.time()

    presser = loop.create_task(press_buttons())
    commands = _CommandReader(stop, presses, panel)
    terminal = _PanelTerminal(stdin, panel) if interactive and stdin is not None else None
    if terminal is not None:
        terminal.take()
    log_handler: logging.Handler | None = None
    if interactive:
        log_handler = PanelLogHandler(panel, loop)
        root = logging.getLogger()
        saved_handlers, root.handlers = root.handlers, [log_handler]
    try:
        stop_watching = commands.watch(stdin) if stdin is not None else lambda: None
        try:
            try:
                await station.run(stop)
            finally:  # a station that fails still leaves its last screen
                await panel.show_last_screen()
        finally:
            stop_watching()
    finally:
        if terminal is not None:
            terminal.give_back()
        if log_handler is not None:
            logging.getLogger().handlers = saved_handlers
        presser.cancel()
        await asyncio.to_thread(simulator.stop)
    if ended:
        raise WalkieError(f"the board simulator ended unexpectedly ({ended[0]})")


class _CommandReader:
    """Keys (terminal) or command lines (pipe) that drive the simulated buttons."""

    def __init__(
        self,
        stop: asyncio.Event,
        presses: asyncio.Queue[tuple[str, bool]],
        panel: Panel,
    ) -> None:
        self.stop = stop
        self.presses = presses
        self.panel = panel
        self._keys = KeyDecoder()
        self._pending = b""

    def watch(self, fd: int) -> Callable[[], None]:
        """Take commands from ``fd`` until it ends; returns how to stop. A
        terminal or pipe is watched by the event loop; what epoll cannot watch
        (a file, /dev/null: under nohup or a service manager) is read on a
        thread of its own."""
        loop = asyncio.get_running_loop()
        # uvloop makes the descriptor non-blocking, and the shell shares it:
        # its next `read` would fail with EAGAIN. It is given back as it was.
        blocking = os.get_blocking(fd)
        try:
            loop.add_reader(fd, self._readable, fd)
        except PermissionError:  # not pollable
            reader = threading.Thread(
                target=self._read_on_thread, args=(fd, loop), name="walkie-stdin", daemon=True
            )
            reader.start()
            return lambda: None

        def stop_watching() -> None:
            loop.remove_reader(fd)
            with contextlib.suppress(OSError):
                os.set_blocking(fd, blocking)

        return stop_watching

    def _readable(self, fd: int) -> None:
        data = _read_some(fd)
        if data:
            self.feed(data)
        else:
            asyncio.get_running_loop().remove_reader(fd)

    def _read_on_thread(self, fd: int, loop: asyncio.AbstractEventLoop) -> None:
        while data := _read_some(fd):
            try:
                loop.call_soon_threadsafe(self.feed, data)
            except RuntimeError:  # the loop has closed: the simulation is over
                return

    def feed(self, data: bytes) -> None:
        """Keys (on a terminal) or command lines, as read."""
        if self.panel.interactive:
            for key in self._keys.feed(data):
                self._command(key)
            return
        self._pending += data
        *lines, self._pending = self._pending.split(b"\n")
        for line in lines:
            self._command(line.decode(errors="replace").strip())

    def _command(self, command: str) -> None:
        words = command.lower().split()
        if not words:
            return
        if words[0] in ("q", "quit"):
            self.stop.set()
            return
        which = {"a": "arduino", "arduino": "arduino", "p": "pi", "pi": "pi", "gpio": "pi"}
        if len(words) == 1 and words[0] in which:
            button = which[words[0]]
            pressed = not self.panel.buttons[button]
        elif len(words) == 2 and words[0] in ("press", "release") and words[1] in which:
            button = which[words[1]]
            pressed = words[0] == "press"
        else:
            if not self.panel.interactive:
                print(f"? unknown command {command!r}", file=sys.stderr, flush=True)
            return
        self.panel.buttons[button] = pressed
        self.presses.put_nowait((button, pressed))
        if self.panel.interactive:
            self.panel.draw()


def _read_some(fd: int) -> bytes:
    """What ``fd`` has, up to 1 KiB; ``b""`` at its end or on an error."""
    try:
        return os.read(fd, 1024)
    except OSError:
        return b""


class _PanelTerminal:
    """The terminal the panel is drawn on, while the simulation runs: keys
    come one at a time, unechoed (cbreak mode), and a resize redraws the
    panel. Ctrl-Z gives the terminal back to the shell as it was, and `fg`
    takes it again."""

    def __init__(self, fd: int, panel: Panel) -> None:
        self.fd = fd
        self.panel = panel
        self._saved: list[Any] | None = None
        self._signals: dict[signal.Signals, Callable[[], None]] = {
            signal.SIGWINCH: panel.draw,
            signal.SIGTSTP: self._suspend,
            signal.SIGCONT: self._resumed,
        }

    def take(self) -> None:
        self._enter_cbreak()
        loop = asyncio.get_running_loop()
        for signum, handler in self._signals.items():
            loop.add_signal_handler(signum, handler)

    def give_back(self) -> None:
        """The terminal as it was before :meth:`take`."""
        loop = asyncio.get_running_loop()
        for signum in self._signals:
            loop.remove_signal_handler(signum)
        self._restore()

    def _enter_cbreak(self) -> None:
        with contextlib.suppress(termios.error):
            if self._saved is None:  # not when continued after a bare SIGSTOP
                self._saved = termios.tcgetattr(self.fd)
            tty.setcbreak(self.fd)

    def _restore(self) -> None:
        if self._saved is not None:
            # Also from the background (`kill %1` continues a stopped job
            # there): with SIGTTOU ignored the kernel allows it, where it
            # would otherwise stop the process again.
            ignored = signal.signal(signal.SIGTTOU, signal.SIG_IGN)
            try:
                with contextlib.suppress(termios.error):
                    termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved)
            finally:
                signal.signal(signal.SIGTTOU, ignored)
            self._saved = None

    def _in_foreground(self) -> bool:
        try:
            return os.tcgetpgrp(self.fd) == os.getpgrp()
        except OSError:
            return False

    def _suspend(self) -> None:
        # Ctrl-Z. The shell gets its settings back (dash, for one, does not
        # restore them itself); then the process stops as an unhandled
        # SIGTSTP would stop it, with the default action, which the kernel
        # discards where no shell could continue it (an orphaned process
        # group: `tmux new-session 'walkie pi --simulate'`, `ssh -t`): then
        # it carries on at once.
        loop = asyncio.get_running_loop()
        self._restore()
        loop.remove_signal_handler(signal.SIGTSTP)  # the default action again
        try:
            os.kill(os.getpid(), signal.SIGTSTP)  # stopped here until fg or bg
        finally:
            loop.add_signal_handler(signal.SIGTSTP, self._suspend)
        self._resumed()

    def _resumed(self) -> None:
        # `fg` (or carrying on): cbreak again, and a redraw over what the
        # shell wrote meanwhile; after `bg` the terminal is the shell's.
        if self._in_foreground():
            self._enter_cbreak()
            self.panel.draw()
