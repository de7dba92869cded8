"""Start and drive the board simulator: the real firmware in simavr.

`BoardSimulator` runs ``firmware/build/walkie-sim`` on the built firmware
(``firmware/build/walkie.elf``; both come from ``make -C firmware``). The
simulated Uno's serial port is a pty of its own (`port`), which any serial
code opens like a real ``/dev/ttyACM0``; the virtual LCD is read through
`lcd` / `wait_for_text`, and the PTT button is driven with `press`,
`release` and `tap`.

Example::

    with BoardSimulator() as board:
        port = serial.Serial(board.port, 115200, timeout=0.1)
        board.wait_for_text("waiting for Pi")
        board.press()
        board.release()

The simulator reports on its stdout, one line per event (``pty PATH``,
``lcd|row|row|`` on every LCD change, ``ok CMD`` / ``error TEXT``) and takes
commands on its stdin; this module owns that conversation.
"""

from __future__ import annotations

import collections
import contextlib
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from walkie.errors import WalkieError

SIMULATOR_ENV = "WALKIE_SIMULATOR"
FIRMWARE_ENV = "WALKIE_FIRMWARE"
START_TIMEOUT = 10.0  # seconds for the simulator to report its pty
COMMAND_TIMEOUT = 10.0  # seconds for the simulator to answer a command
STOP_TIMEOUT = 3.0
STDERR_LINES = 20  # kept for error messages

_ESCAPE = re.compile(r"\\x([0-9a-f]{2})")

LcdCallback = Callable[[tuple[str, ...]], None]


def _repository_build_dir() -> Path:
    # pi/walkie/sim/board.py -> the repository root is three levels above pi/.
    return Path(__file__).resolve().parents[3] / "firmware" / "build"


def default_simulator_path() -> Path:
    """Where the built simulator is: $WALKIE_SIMULATOR, else firmware/build/."""
    env = os.environ.get(SIMULATOR_ENV)
    return Path(env) if env else _repository_build_dir() / "walkie-sim"


def default_firmware_path(lcd_size: tuple[int, int] = (16, 2)) -> Path:
    """Where the built firmware for an LCD of ``lcd_size`` is: $WALKIE_FIRMWARE,
    else firmware/build/ (``walkie.elf``, ``walkie-20x4.elf``)."""
    env = os.environ.get(FIRMWARE_ENV)
    if env:
        return Path(env)
    cols, rows = lcd_size
    name = "walkie.elf" if lcd_size == (16, 2) else f"walkie-{cols}x{rows}.elf"
    return _repository_build_dir() / name


def parse_lcd_line(line: str) -> tuple[str, ...]:
    """The rows of an ``lcd|row|row|`` report, as LCD character codes.

    Each character of a row is one HD44780 ROM code (``chr(code)``); the
    simulator escapes codes outside printable ASCII as ``\\xNN``.
    """
    if not line.startswith("lcd|"):
        raise ValueError(f"not an LCD report: {line!r}")
    rows = line[len("lcd|") :].split("|")[:-1]
    return tuple(_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), row) for row in rows)


class BoardSimulator:
    """The walkie board in simavr: a virtual LCD, PTT button and serial pty.

    Keyword-only options:

    * ``simulator`` / ``firmware``: paths of the built simulator and
      firmware (default: `default_simulator_path`, `default_firmware_path`).
    * ``realtime``: pace the simulated clock to the wall clock (default). The
      firmware's timers (debounce, marquee, dead link) then run at real speed.
      Without it the simulation runs as fast as it can.
    * ``paused``: do not start the CPU until `resume` is called. Bytes the
      board sends before the host opens the pty are lost, so open the port
      first and then resume to see the board's reset announcement.
    * ``link``: also make a symlink to the pty at this path.
    * ``lcd_size``: (columns, rows) of the virtual LCD; must match the size
      the firmware was built for (firmware/walkie/config.h, 16x2 by default).
    * ``on_lcd``: called (from a reader thread) with the rows at every change.
    * ``on_exit``: called (from a reader thread) with the reason when the
      simulator ends by itself (killed, crashed), not by `stop`.

    A context manager; `stop` is idempotent. Every failure is a WalkieError.
    """

    def __init__(
        self,
        *,
        simulator: Path | None = None,
        firmware: Path | None = None,
        realtime: bool = True,
        paused: bool = False,
        link: Path | None = None,
        lcd_size: tuple[int, int] = (16, 2),
        on_lcd: LcdCallback | None = None,
        on_exit: Callable[[str], None] | None = None,
    ) -> None:
        self.simulator = simulator or default_simulator_path()
        self.firmware = firmware or default_firmware_path(lcd_size)
        self.realtime = realtime
        self.paused = paused
        self.link = link
        self.lcd_size = lcd_size
        self._on_lcd = on_lcd
        self._on_exit = on_exit
        self._stopping = False
        self._process: subprocess.Popen[str] | None = None
        self._port: str | None = None
        self._rows: tuple[str, ...] = ()
        self._lcd_changes = 0
        self._changed = threading.Condition()
        self._replies: collections.deque[str] = collections.deque()
        self._command_lock = threading.Lock()
        self._stderr: collections.deque[str] = collections.deque(maxlen=STDERR_LINES)
        self._threads: list[threading.Thread] = []
        self._exited = False

    # --- life cycle ---------------------------------------------------------

    def start(self) -> BoardSimulator:
        """Start the simulator and wait until its pty exists."""
        if self._process is not None:
            return self
        for what, path in (("board simulator", self.simulator), ("firmware", self.firmware)):
            if not path.is_file():
                raise WalkieError(f"{what} not built: {path} is missing (run `make -C firmware`)")
        argv = [str(self.simulator)]
        if self.realtime:
            argv.append("--realtime")
        if self.paused:
            argv.append("--paused")
        if self.link is not None:
            argv += ["--link", str(self.link)]
        argv += ["--size", f"{self.lcd_size[0]}x{self.lcd_size[1]}"]
        argv.append(str(self.firmware))
        try:
            self._process = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                encoding="ascii",
                errors="replace",
                bufsize=1,
                # Out of the terminal's process group: a Ctrl-C is for the
                # daemon, which stops the board after its link. The simulator
                # still ends with the daemon, at the end of its stdin.
                start_new_session=True,
            )
        except OSError as exc:
            raise WalkieError(f"cannot start the board simulator {self.simulator}: {exc}") from exc
        for target in (self._read_stdout, self._read_stderr):
            thread = threading.Thread(target=target, name=f"walkie-sim-{target.__name__}")
            thread.daemon = True
            thread.start()
            self._threads.append(thread)
        deadline = time.monotonic() + START_TIMEOUT
        with self._changed:
            while self._port is None:
                remaining = deadline - time.monotonic()
                if self._exited or remaining <= 0:
                    self.stop()
                    raise WalkieError(f"board simulator did not start{self._stderr_tail()}")
                self._changed.wait(remaining)
        return self

    def stop(self) -> None:
        """Stop the simulator (idempotent)."""
        process = self._process
        if process is None:
            return
        self._stopping = True
        if process.poll() is None:
            try:
                assert process.stdin is not None
                process.stdin.write("quit\n")
                process.stdin.flush()
            except (OSError, ValueError):
                pass
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for stream in (process.stdin, process.stdout, process.stderr):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        for thread in self._threads:
            thread.join(STOP_TIMEOUT)

    close = stop

    def __enter__(self) -> BoardSimulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        """True while the simulator process is alive."""
        return self._process is not None and self._process.poll() is None

    # --- the board ----------------------------------------------------------

    @property
    def port(self) -> str:
        """The path of the board's serial port (a pty, like /dev/pts/5)."""
        if self._port is None:
            raise WalkieError("board simulator not started")
        return self._port

    @property
    def lcd(self) -> tuple[str, ...]:
        """The LCD rows right now, one character per LCD cell."""
        with self._changed:
            return self._rows

    def wait_for_lcd(
        self, predicate: Callable[[tuple[str, ...]], bool], *, timeout: float = 5.0
    ) -> tuple[str, ...]:
        """Wait until the LCD rows satisfy `predicate`; return them.

        Raises WalkieError (showing the last rows) after `timeout` seconds.
        """
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate(self._rows):
                remaining = deadline - time.monotonic()
                if self._exited:
                    raise WalkieError(f"board simulator exited{self._stderr_tail()}")
                if remaining <= 0:
                    raise WalkieError(f"LCD timeout after {timeout} s; it shows {self._rows!r}")
                self._changed.wait(remaining)
            return self._rows

    def wait_for_text(
        self, text: str, *, row: int | None = None, timeout: float = 5.0
    ) -> tuple[str, ...]:
        """Wait until `text` is shown (on `row`, or on any row); return the rows."""

        def shown(rows: tuple[str, ...]) -> bool:
            if row is not None:
                return row < len(rows) and text in rows[row]
            return any(text in r for r in rows)

        return self.wait_for_lcd(shown, timeout=timeout)

    def resume(self) -> None:
        """Start the CPU of a simulator started with ``paused=True``."""
        self._command("run")

    def press(self) -> None:
        """Press the PTT button and hold it."""
        self._command("press")

    def release(self) -> None:
        """Release the PTT button."""
        self._command("release")

    def tap(self, milliseconds: int) -> None:
        """Press the button for exactly `milliseconds` of simulated time."""
        if milliseconds < 0:
            raise ValueError("milliseconds must not be negative")
        self._command(f"tap {milliseconds}")

    def reset(self) -> None:
        """Reset the MCU, like the reset button (the LCD keeps its content)."""
        self._command("reset")

    # --- the conversation with the process ----------------------------------

    def _command(self, command: str) -> None:
        process = self._process
        if process is None or process.stdin is None:
            raise WalkieError("board simulator not started")
        with self._command_lock:
            with self._changed:
                self._replies.clear()
            try:
                process.stdin.write(command + "\n")
                process.stdin.flush()
            except (OSError, ValueError) as exc:
                raise WalkieError(f"board simulator is gone{self._stderr_tail()}") from exc
            deadline = time.monotonic() + COMMAND_TIMEOUT
            with self._changed:
                while not self._replies:
                    remaining = deadline - time.monotonic()
                    if self._exited:
                        raise WalkieError(f"board simulator exited{self._stderr_tail()}")
                    if remaining <= 0:
                        raise WalkieError(f"board simulator did not answer {command!r}")
                    self._changed.wait(remaining)
                reply = self._replies.popleft()
        if reply != f"ok {command}":
            raise WalkieError(f"board simulator refused {command!r}: {reply}")

    def _read_stdout(self) -> None:
        process = self._process
        assert process is not None and process.stdout is not None
        try:
            for raw in process.stdout:
                line = raw.rstrip("\n")
                if line.startswith("lcd|"):
                    rows = parse_lcd_line(line)
                    with self._changed:
                        self._rows = rows
                        self._lcd_changes += 1
                        self._changed.notify_all()
                    if self._on_lcd is not None:
                        self._on_lcd(rows)
                elif line.startswith("pty "):
                    with self._changed:
                        self._port = line[len("pty ") :]
                        self._changed.notify_all()
                elif line.startswith(("ok ", "error ")):
                    with self._changed:
                        self._replies.append(line)
                        self._changed.notify_all()
        except (OSError, ValueError):
            pass
        finally:
            with self._changed:
                self._exited = True
                self._changed.notify_all()
        # Its output ends as it exits: reap it, and say why unless asked to stop.
        status = process.wait()
        if not self._stopping and self._on_exit is not None:
            self._on_exit(_describe_exit(status) + self._stderr_tail())

    def _read_stderr(self) -> None:
        process = self._process
        assert process is not None and process.stderr is not None
        try:
            for line in process.stderr:
                self._stderr.append(line.rstrip("\n"))
        except (OSError, ValueError):
            pass

    def _stderr_tail(self) -> str:
        lines = [line for line in self._stderr if line]
        return f": {lines[-1]}" if lines else ""


def _describe_exit(status: int) -> str:
    if status >= 0:
        return f"exit status {status}"
    try:
        return f"killed by {signal.Signals(-status).name}"
    except ValueError:
        return f"killed by signal {-status}"
