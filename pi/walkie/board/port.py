"""The serial port shell around `Link`: opening and serving the port.

This module owns the I/O of the board link: opening the port (the configured
one, or the one `walkie.board.detect` finds) exclusively without resetting the
board on every close, one thread that reads, writes and keeps time, and
reopening the port (with backoff) after unplugs and read errors. The protocol
itself lives in the pure `link` module.

Interface for the Pi station::

    def on_event(event: BoardEvent) -> None:    # called on the driver thread
        loop.call_soon_threadsafe(queue.put_nowait, event)   # e.g. into asyncio

    with BoardLink(port=None, on_event=on_event) as board:    # None: auto-detect
        board.show([RowContent(rom_bytes, marquee=True), RowContent(status, False)])

* `BoardLink(port=None, *, on_event=None, baudrate=115200)`: `port` is a
  device path (prefer `/dev/serial/by-id/...`) or any pyserial URL
  (`loop://`, `socket://host:port`, a pty such as the board simulator's);
  None auto-detects an Arduino by USB id each time the port is (re)opened.
* `start()` starts the driver thread, `close()` stops it and closes the port;
  both are idempotent, and the object is a context manager. While the link is
  up, `close()` first lets the board acknowledge the newest screen (for at
  most `CLOSE_DRAIN_S`): it stays on the LCD after the Pi side has gone.
* `show(rows)` is thread-safe and never blocks on the port: the newest screen
  wins, and it is re-pushed after every (re)connect and board reset.
* Events (see `walkie.board.link`): `LinkUp(info)`, `LinkDown(reason)`,
  `ButtonChanged(pressed, board_ms)`, `BoardReset(info)`,
  `ProtocolMismatch(info)`, and from this module `PortOpened(path)` and
  `PortUnavailable(reason)` (reported once per distinct reason while retrying).
  `on_event` runs on the driver thread; an exception in it is logged, not fatal.

The driver never dies: open failures, read/write errors and a vanished device
all lead to closing the port and retrying it by path, with backoff from
`REOPEN_BACKOFF_MIN_S` to `REOPEN_BACKOFF_MAX_S`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol, cast

import serial

from walkie.board.detect import find_board_port
from walkie.board.link import Link, LinkEvent, LinkState, Output, RowContent
from walkie.board.messages import BoardInfo
from walkie.errors import ConnectError

log = logging.getLogger(__name__)

DEFAULT_BAUDRATE = 115200
REOPEN_BACKOFF_MIN_S = 0.1
REOPEN_BACKOFF_MAX_S = 2.0
# A port that takes longer than this to accept a few bytes is treated as gone.
WRITE_TIMEOUT_S = 1.0
# Ports without a file descriptor (some pyserial URLs) are polled this often.
URL_POLL_S = 0.02
# The most bytes taken from the port in one read; the decoder bounds the rest.
MAX_READ = 4096
CLOSE_DRAIN_S = 1.0
"""At most this long, `close()` waits for the board to acknowledge the newest
screen: the board keeps showing it after the Pi side has gone (a full 20x4
screen takes under 0.1 s at 115200 baud)."""
JOIN_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class PortOpened:
    """The port was opened; the handshake starts."""

    path: str


@dataclass(frozen=True)
class PortUnavailable:
    """The port could not be opened or failed; the driver keeps retrying."""

    reason: str


BoardEvent = LinkEvent | PortOpened | PortUnavailable


class SerialPort(Protocol):
    """What the driver uses of a pyserial port (Serial and every URL handler)."""

    timeout: float | None
    name: str | None

    @property
    def in_waiting(self) -> int: ...

    def read(self, size: int = 1) -> bytes: ...

    def write(self, data: bytes, /) -> int | None: ...

    def close(self) -> None: ...


def open_port(path: str, baudrate: int = DEFAULT_BAUDRATE) -> SerialPort:
    """Open a device path or pyserial URL exclusively, without a reset on close.

    Raises :class:`ConnectError` naming the path and the system's reason
    (pyserial's own words repeat them: "[Errno 2] could not open port X:
    [Errno 2] No such file or directory: 'X'")."""
    try:
        port = serial.serial_for_url(
            path, baudrate=baudrate, exclusive=True, timeout=0, write_timeout=WRITE_TIMEOUT_S
        )
    except serial.SerialException as error:
        cause = error.__context__
        if isinstance(cause, BlockingIOError):  # the exclusive lock
            raise ConnectError(f"{path} is in use: another program has it open") from error
        if isinstance(cause, OSError) and cause.strerror:
            raise ConnectError(f"cannot open {path}: {cause.strerror}") from error
        if cause is not None and len(cause.args) == 2:  # termios.error: not a serial port
            raise ConnectError(f"cannot use {path} as a serial port: {cause.args[1]}") from error
        raise
    _clear_hupcl(port)
    return cast(SerialPort, port)


def _clear_hupcl(port: serial.SerialBase) -> None:
    # With HUPCL set, closing the port drops DTR and an Uno resets on the next
    # open; clearing it keeps the board (and its screen) alive across restarts.
    fd = getattr(port, "fd", None)
    if not isinstance(fd, int):
        return
    try:
        import termios

        attributes = termios.tcgetattr(fd)
        attributes[2] &= ~termios.HUPCL
        termios.tcsetattr(fd, termios.TCSANOW, attributes)
    except (ImportError, OSError) as error:  # not a tty (pty in a container, etc.)
        log.debug("cannot clear HUPCL on %s: %s", port.name, error)


class BoardLink:
    """The board link driver: one thread serving the port; see the module docstring."""

    def __init__(
        self,
        port: str | None = None,
        *,
        on_event: Callable[[BoardEvent], None] | None = None,
        baudrate: int = DEFAULT_BAUDRATE,
        clock: Callable[[], float] = time.monotonic,
        find_port: Callable[[], str] = find_board_port,
    ) -> None:
        self._configured_port = port
        self._on_event = on_event
        self._baudrate = baudrate
        self._clock = clock
        self._find_port = find_port
        self._link = Link()
        self._lock = threading.Lock()
        self._screen: list[RowContent] = []
        self._screen_dirty = False
        self._stopping = threading.Event()
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_read, False)
        os.set_blocking(self._wake_write, False)
        self._pipe_open = True
        self._thread: threading.Thread | None = None
        self._closed = False
        self._path: str | None = None

    # -- public ------------------------------------------------------------------

    def start(self) -> BoardLink:
        """Start the driver thread (once; later calls do nothing)."""
        with self._lock:
            if self._thread is not None or self._closed:
                return self
            self._thread = threading.Thread(target=self._run, name="walkie-board", daemon=True)
            self._thread.start()
        return self

    def close(self) -> None:
        """Stop the thread and close the port; safe to call more than once."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            thread = self._thread
        self._stopping.set()
        self._wake()
        if thread is not None and thread is not threading.current_thread():
            thread.join(JOIN_TIMEOUT_S)
        with self._lock:
            self._pipe_open = False
            for fd in (self._wake_read, self._wake_write):
                with contextlib.suppress(OSError):
                    os.close(fd)

    def __enter__(self) -> BoardLink:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def show(self, rows: Sequence[RowContent]) -> None:
        """Set the whole screen (thread-safe, non-blocking); the newest call wins."""
        with self._lock:
            self._screen = [RowContent(bytes(data), bool(marquee)) for data, marquee in rows]
            self._screen_dirty = True
            self._wake()

    @property
    def state(self) -> LinkState:
        with self._lock:
            return self._link.state

    @property
    def info(self) -> BoardInfo | None:
        """The board's INFO from the last handshake, if any."""
        with self._lock:
            return self._link.info

    @property
    def path(self) -> str | None:
        """The port path in use (after auto-detection), or None before the first open."""
        with self._lock:
            return self._path

    # -- the driver thread -------------------------------------------------------

    def _run(self) -> None:
        backoff = REOPEN_BACKOFF_MIN_S
        last_problem: str | None = None
        while not self._stopping.is_set():
            try:
                path = self._configured_port or self._find_port()
                port = open_port(path, self._baudrate)
            except (ConnectError, serial.SerialException, OSError, ValueError) as error:
                problem = str(error) or type(error).__name__
                if problem != last_problem:
                    last_problem = problem
                    self._dispatch([PortUnavailable(problem)])
                self._stopping.wait(backoff)
                backoff = min(backoff * 2, REOPEN_BACKOFF_MAX_S)
                continue
            backoff = REOPEN_BACKOFF_MIN_S
            last_problem = None
            with self._lock:
                self._path = path
            self._dispatch([PortOpened(path)])
            reason = "port closed"
            try:
                self._serve(port)
            except (serial.SerialException, OSError) as error:
                reason = f"port failed: {error}"
            except Exception as error:  # a bug must not take the daemon down with it
                log.exception("board link driver error")
                reason = f"internal error: {error}"
            finally:
                with contextlib.suppress(Exception):
                    port.close()
                with self._lock:
                    output = self._link.connection_lost(self._clock(), reason)
                self._dispatch(output.events)
            if not self._stopping.is_set() and reason != "port closed":
                self._dispatch([PortUnavailable(reason)])
                last_problem = reason
                self._stopping.wait(REOPEN_BACKOFF_MIN_S)

    def _serve(self, port: SerialPort) -> None:
        with self._lock:
            output = self._link.connection_made(self._clock())
            self._screen_dirty = True  # the Link keeps the screen; re-apply the newest
        self._deliver(port, output)
        fileno = self._fileno(port)
        drained_by: float | None = None
        while True:
            if self._stopping.is_set():
                if drained_by is None:
                    drained_by = self._clock() + CLOSE_DRAIN_S
                if self._screen_delivered() or self._clock() >= drained_by:
                    return
            with self._lock:
                deadline = self._link.next_deadline()
            if drained_by is not None:
                deadline = drained_by if deadline is None else min(deadline, drained_by)
            timeout = 1.0 if deadline is None else max(0.0, deadline - self._clock())
            data = b""
            if fileno is None:
                port.timeout = min(timeout, URL_POLL_S)
                data = port.read(max(1, min(port.in_waiting, MAX_READ)))
            else:
                readable, _, _ = select.select([fileno, self._wake_read], [], [], timeout)
                if self._wake_read in readable:
                    self._drain_wake()
                if fileno in readable:
                    data = port.read(max(1, min(port.in_waiting, MAX_READ)))
            now = self._clock()
            with self._lock:
                parts = [self._link.receive(data, now)] if data else []
                if self._screen_dirty:
                    self._screen_dirty = False
                    parts.append(self._link.show(self._screen, now))
                parts.append(self._link.tick(now))
            self._deliver(port, Output(b"".join(p.data for p in parts), _events(parts)))

    def _screen_delivered(self) -> bool:
        """Nothing left to send the board: the newest screen is acknowledged, or
        there is no link to send it over."""
        with self._lock:
            if not self._link.is_up:
                return True
            return not self._screen_dirty and self._link.rows_unacknowledged == 0

    def _deliver(self, port: SerialPort, output: Output) -> None:
        if output.data:
            port.write(output.data)
        self._dispatch(output.events)

    def _dispatch(self, events: Sequence[BoardEvent]) -> None:
        if self._on_event is None:
            return
        for event in events:
            try:
                self._on_event(event)
            except Exception:
                log.exception("board event handler failed on %r", event)

    @staticmethod
    def _fileno(port: Any) -> int | None:
        try:
            fileno = port.fileno()
        except (AttributeError, OSError, ValueError, serial.SerialException):
            return None
        return fileno if isinstance(fileno, int) else None

    def _wake(self) -> None:
        if not self._pipe_open:  # after close() the descriptor number may be reused
            return
        with contextlib.suppress(OSError):  # full pipe: a wake-up is already pending
            os.write(self._wake_write, b"w")

    def _drain_wake(self) -> None:
        with contextlib.suppress(OSError):
            while os.read(self._wake_read, 512):
                pass


def _events(outputs: Sequence[Output]) -> list[LinkEvent]:
    return [event for output in outputs for event in output.events]
