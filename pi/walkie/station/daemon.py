"""The Pi station daemon: wires the channel, the board, the buttons and the
LEDs together on one asyncio loop.

* Channel: in the server role it runs a :class:`~walkie.channel.server.Hub`
  in-process and joins it over loopback like any station; in the client role
  it joins a hub elsewhere. Either way through
  :class:`~walkie.client.connection.ChannelConnection`, which reconnects and
  loses nothing.
* Board: :class:`~walkie.board.port.BoardLink` (its own thread) shows the
  screen that :class:`~walkie.station.view.StationView` lays out and reports
  the Arduino's PTT button.
* Buttons: the Arduino's and the GPIO one feed one
  :class:`~walkie.station.ptt.PushToTalk`; a hold asks for the floor and sends
  the selected quick message once the hub grants it.
* LEDs and systemd: the link LED follows the channel link; READY=1 once
  serving, WATCHDOG=1 from this loop, STATUS= on every change.

Events from other threads (board driver, gpiozero) hop onto the loop with
``call_soon_threadsafe``; all state is touched from the loop only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

from walkie.address import format_address, parse_address
from walkie.board.link import BoardReset, ButtonChanged, LinkDown, LinkUp, ProtocolMismatch
from walkie.board.port import BoardEvent, BoardLink, PortOpened, PortUnavailable
from walkie.certificate import fingerprint
from walkie.channel.history import History
from walkie.channel.server import Hub, HubConfig
from walkie.client.connection import ChannelConnection
from walkie.client.session import (
    Busy,
    Error,
    Event,
    Floor,
    LinkChanged,
    LinkState,
    NickTaken,
    Notice,
)
from walkie.errors import ConfigError
from walkie.known_hubs import HubSecurity, KnownHubs, pinned_to
from walkie.lcd.screen import LcdSize, Screen
from walkie.paths import default_history_db
from walkie.secrets import find_token, optional_tls_context, read_file
from walkie.station.config import StationConfig
from walkie.station.gpio import GpioParts, LedMode
from walkie.station.ptt import Action, KeyDown, KeyUp, PushToTalk, Selected
from walkie.station.sdnotify import SystemdNotifier
from walkie.station.view import StationView

log = logging.getLogger("walkie.station")

ARDUINO_BUTTON = "arduino"
GPIO_BUTTON = "gpio"
INITIAL_HISTORY = 3
"""Messages fetched on the first join, so the LCD starts with the newest ones."""
NOTICE_SHOWN_S = 2.0
"""Seconds the status row keeps a notice: BUSY from a refused press (and for
as long as the button is held), a tap's new quick message over ``RX bob``."""

_LED_FOR_LINK = {
    LinkState.CONNECTED: LedMode.ON,
    LinkState.CONNECTING: LedMode.BLINK,
    LinkState.DISCONNECTED: LedMode.BLINK,
    LinkState.CLOSED: LedMode.OFF,
}


async def _first_of(*waits: Coroutine[Any, Any, object]) -> None:
    """Wait until one of ``waits`` is done; the others are cancelled."""
    tasks = [asyncio.ensure_future(wait) for wait in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()


def _hub_address(config: StationConfig, hub_port: int | None) -> tuple[str, int]:
    if config.role == "server":
        assert hub_port is not None
        host = config.server.host
        local = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}
        return local.get(host, host), hub_port
    return parse_address(config.client.hub)


class Station:
    """One running Pi station. Build it, then ``await station.run(stop_event)``."""

    def __init__(
        self,
        config: StationConfig,
        *,
        pin_factory: Any = None,
        notifier: SystemdNotifier | None = None,
        on_screen: Callable[[Screen], None] | None = None,
        on_hub_ready: Callable[[Hub], None] | None = None,
    ) -> None:
        self.config = config
        self.notifier = notifier or SystemdNotifier()
        self.on_screen = on_screen
        self.on_hub_ready = on_hub_ready
        self.ptt = PushToTalk(config.ptt.quick_messages, config.ptt.hold_time)
        self.view = StationView(nick=config.nick, quick_message=self.ptt.selected)
        self.gpio = GpioParts(config.gpio, pin_factory=pin_factory)
        self.lcd_size = LcdSize()
        self.hub: Hub | None = None
        self.connection: ChannelConnection | None = None
        self.board: BoardLink | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._hold_timer: asyncio.TimerHandle | None = None
        self._notice_timers: dict[str, asyncio.TimerHandle] = {}
        self._busy_since = 0.0
        self._pending_quick: str | None = None
        self._floor_requested = False
        self._screen: Screen | None = None
        self._board_state = "no board yet"
        self._board_up = False
        self._status = ""
        self._requests: set[asyncio.Task[bool]] = set()
        self._stopping = False
        """Shutting down: the channel and the board going away is expected, not a fault."""
        self._lost_because: str | None = None
        """Why the channel link was lost, while it is: retries failing alike are not news."""

    async def run(self, stop: asyncio.Event) -> None:
        self._loop = loop = asyncio.get_running_loop()
        history: History | None = None
        watchdog: asyncio.Task[None] | None = None
        try:
            hub_port = None
            security = _hub_security(self.config)
            if self.config.role == "server":
                history = History(self.config.server.history_db or default_history_db())
                self.hub = Hub(_hub_config(self.config, security.token), history)
                await self.hub.start()
                hub_port = self.hub.port
                if self.on_hub_ready is not None:
                    self.on_hub_ready(self.hub)
            host, port = _hub_address(self.config, hub_port)
            self.connection = ChannelConnection(
                host,
                port,
                nick=self.config.nick,
                on_event=self._on_channel_event,
                initial_history=INITIAL_HISTORY,
                security=security,
            )
            self.connection.start()
            serial_port = None if self.config.serial.port == "auto" else self.config.serial.port

            def board_event(event: BoardEvent) -> None:  # on the board driver's thread
                loop.call_soon_threadsafe(self._on_board_event, event)

            def gpio_button(pressed: bool) -> None:  # on gpiozero's thread
                loop.call_soon_threadsafe(self._on_button, GPIO_BUTTON, pressed)

            self.board = BoardLink(
                serial_port, baudrate=self.config.serial.baud, on_event=board_event
            )
            self.board.start()
            self.gpio.on_button = gpio_button
            self._refresh()
            where = (
                f"hub on port {hub_port}"
                if hub_port is not None
                else f"joining {format_address(host, port)}"
            )
            self.notifier.ready(f"serving: {where}")
            log.info("station %s started (%s)", self.config.nick, where)
            interval = self.notifier.watchdog_interval()
            if interval is not None:
                watchdog = asyncio.create_task(self._watchdog(interval))
            await _first_of(stop.wait(), self.connection.wait_closed())
            if not stop.is_set() and self.connection.failure is not None:
                # Refused for good (a wrong token, a changed certificate): no
                # retry would help, so the service fails with the reason.
                raise self.connection.failure
        finally:
            self.notifier.stopping()
            if watchdog is not None:
                watchdog.cancel()
            await self._shut_down()
            if history is not None:
                history.close()

    async def _shut_down(self) -> None:
        self._stopping = True
        if self._hold_timer is not None:
            self._hold_timer.cancel()
        for timer in self._notice_timers.values():
            timer.cancel()
        if self.connection is not None:
            if self.view.transmitting:
                with contextlib.suppress(Exception):
                    await self.connection.over()
            await self.connection.close()
        if self.board is not None:
            self.board.close()
        if self.hub is not None:
            self.hub.close()
        self.gpio.close()

    async def _watchdog(self, interval: float) -> None:
        while True:
            self.notifier.watchdog()
            await asyncio.sleep(interval)

    # -- channel ------------------------------------------------------------------

    def _on_channel_event(self, event: Event) -> None:
        self.view.apply(event)
        match event:
            case LinkChanged(state=state, reason=reason):
                self.gpio.show_link(_LED_FOR_LINK[state])
                self._log_link(state, reason)
            case Floor(holder=holder) if holder == self.view.nick and self._pending_quick:
                self._send_quick_message()
            case Floor(holder=None):
                self._floor_requested = False
            case Notice(text=text):  # e.g. a hub's certificate pinned on first use
                log.info("%s", text)
            case NickTaken(wanted=wanted, given=given):
                log.warning("nick %s is taken: this station is %s", wanted, given)
            case Error(text=reason, message_text=str(message)):
                log.warning("not sent: %r (%s)", message, reason)
            case Busy(holder=holder):
                log.info("floor busy: %s is talking", holder)
                self._pending_quick = None
                self._floor_requested = False
                self._busy_since = time.monotonic()
                if not self.ptt.pressed:  # released already: still shown a moment
                    self._end_busy_notice()
        self._refresh()

    def _log_link(self, state: LinkState, reason: str | None) -> None:
        """A lost link is logged once, a retry that fails the same way only at
        debug level: a hub away for an hour is two lines in the journal, not
        one pair a retry."""
        lost = state is LinkState.DISCONNECTED or (state is LinkState.CLOSED and not self._stopping)
        retrying = self._lost_because is not None and (
            state is LinkState.CONNECTING
            or (state is LinkState.DISCONNECTED and reason == self._lost_because)
        )
        level = logging.DEBUG if retrying else logging.WARNING if lost else logging.INFO
        log.log(level, "channel %s%s", state.value, f": {reason}" if reason else "")
        if state is LinkState.DISCONNECTED:
            self._lost_because = reason or ""
        elif state is LinkState.CONNECTED:
            self._lost_because = None

    def _send_quick_message(self) -> None:
        message, self._pending_quick = self._pending_quick, None
        if message and self.connection is not None:
            self.connection.send_nowait(message)

    # -- board ----------------------------------------------------------------------

    def _on_board_event(self, event: object) -> None:
        match event:
            case LinkUp(info=info):
                self._board_up = True
                self._board_state = f"board up ({info.cols}x{info.rows})"
                log.info(
                    "board link up: firmware %s, LCD %dx%d",
                    info.firmware_version,
                    info.cols,
                    info.rows,
                )
                with contextlib.suppress(ValueError):
                    self.lcd_size = LcdSize(info.cols, info.rows)
                self._screen = None
            case LinkDown(reason=reason):
                self._board_up = False
                self._board_state = "board link lost"
                log.log(
                    logging.INFO if self._stopping else logging.WARNING,
                    "board link down: %s",
                    reason,
                )
                self._apply_ptt(self.ptt.forget(ARDUINO_BUTTON, time.monotonic()))
            case BoardReset(info=info):
                # A board starting as its port opens, or as it is plugged in,
                # is expected; one that resets under a working link lost its
                # screen (it is pushed again), and a fault is worth a look.
                unexpected = self._board_up or info.reset_was_a_fault
                log.log(
                    logging.WARNING if unexpected else logging.INFO,
                    "board reset%s (%s)",
                    " while the link was up" if self._board_up else "",
                    info.reset_cause_text,
                )
            case ButtonChanged(pressed=pressed):
                self._on_button(ARDUINO_BUTTON, pressed)
            case PortOpened(path=path):
                log.info("serial port %s open", path)
            case PortUnavailable(reason=reason):
                self._board_state = "no board"
                log.warning("board not available, retrying: %s", reason)
            case ProtocolMismatch(info=info):
                self._board_state = "board speaks another protocol"
                log.error("board speaks protocol %d; update the firmware", info.proto)
        self._refresh()

    # -- push to talk -------------------------------------------------------------------

    def _on_button(self, button: str, pressed: bool) -> None:
        now = time.monotonic()
        if pressed:
            if not self.ptt.pressed:  # a new press (not the other button joining in)
                self._cancel_notice("busy")  # BUSY only if refused again
                self.view.busy_holder = None
            self._apply_ptt(self.ptt.press(button, now))
        else:
            self._apply_ptt(self.ptt.release(button, now))
            if self.view.busy_holder is not None and not self.ptt.pressed:
                self._end_busy_notice()
        self._refresh()

    def _hold_elapsed(self) -> None:
        self._hold_timer = None
        self._apply_ptt(self.ptt.tick(time.monotonic()))
        self._refresh()

    def _apply_ptt(self, actions: list[Action]) -> None:
        for action in actions:
            match action:
                case Selected(message=message):
                    self.view.quick_message = message
                    self.view.just_selected = True
                    self._clear_later("selected", NOTICE_SHOWN_S, self._forget_selection)
                case KeyUp(message=message):
                    self._pending_quick = message
                    self._floor_requested = True
                    if self.connection is not None:
                        self._spawn(self.connection.talk())
                case KeyDown():
                    self._pending_quick = None
                    if self._floor_requested and self.connection is not None:
                        self._spawn(self.connection.over())
                    self._floor_requested = False
        self._schedule_hold()

    def _end_busy_notice(self) -> None:
        """BUSY goes a moment after the refusal, however short the press was."""
        shown_for = time.monotonic() - self._busy_since
        self._clear_later("busy", NOTICE_SHOWN_S - shown_for, self._forget_busy)

    def _forget_busy(self) -> None:
        self.view.busy_holder = None

    def _forget_selection(self) -> None:
        self.view.just_selected = False

    def _clear_later(self, name: str, seconds: float, clear: Callable[[], None]) -> None:
        """Take a notice off the status row after ``seconds`` (counted anew
        if it is shown again meanwhile)."""
        self._cancel_notice(name)

        def expire() -> None:
            del self._notice_timers[name]
            clear()
            self._refresh()

        assert self._loop is not None
        self._notice_timers[name] = self._loop.call_later(max(0.0, seconds), expire)

    def _cancel_notice(self, name: str) -> None:
        if (timer := self._notice_timers.pop(name, None)) is not None:
            timer.cancel()

    def _spawn(self, request: Coroutine[Any, Any, bool]) -> None:
        assert self._loop is not None
        task = self._loop.create_task(request)
        self._requests.add(task)
        task.add_done_callback(self._requests.discard)

    def _schedule_hold(self) -> None:
        if self._hold_timer is not None:
            self._hold_timer.cancel()
            self._hold_timer = None
        deadline = self.ptt.next_deadline()
        if deadline is not None and self._loop is not None:
            delay = max(0.0, deadline - time.monotonic())
            self._hold_timer = self._loop.call_later(delay, self._hold_elapsed)

    # -- output ------------------------------------------------------------------------

    def _refresh(self) -> None:
        self.gpio.show_talking(self.view.transmitting)
        screen = self.view.screen(self.lcd_size)
        if screen != self._screen:
            self._screen = screen
            if self.board is not None:
                self.board.show(screen.board_rows())
            if self.on_screen is not None:
                self.on_screen(screen)
        status = f"channel {self.view.link.value}, {self._board_state}"
        if self.view.stations is not None:
            count = self.view.stations
            status += f", {count} station{'' if count == 1 else 's'}"
        if status != self._status:
            self._status = status
            self.notifier.status(status)


def _hub_security(config: StationConfig) -> HubSecurity:
    """The token and certificate check for this station's own connection."""
    if config.role == "server":
        server = config.server
        check = None
        if server.tls_cert is not None:
            certificate = read_file(server.tls_cert, "server.tls_cert")
            try:
                check = pinned_to(fingerprint(certificate))
            except ValueError:  # PEM armour without its end
                raise ConfigError(
                    f"server.tls_cert: {server.tls_cert} is not a PEM certificate"
                ) from None
        return HubSecurity(find_token(server.token_file), check)
    client = config.client
    known_hubs = KnownHubs(client.known_hubs)
    if not client.tls:
        known_hubs.refuse_plain_text_to(format_address(*parse_address(client.hub)))
    check = known_hubs.check if client.tls else None
    return HubSecurity(find_token(client.token_file), check)


def _hub_config(config: StationConfig, token: str | None) -> HubConfig:
    server = config.server
    return HubConfig(
        token=token,
        tls=optional_tls_context(
            server.tls_cert, server.tls_key, names=("server.tls_cert", "server.tls_key")
        ),
        host=server.host,
        port=server.port,
        max_line=server.max_line,
        floor_timeout=server.floor_timeout,
        max_rate=server.max_rate,
        burst=server.burst,
        max_queued=server.max_queued,
        max_send_buffer=server.max_send_buffer,
        max_stations=server.max_stations,
    )
