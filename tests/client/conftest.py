"""Shared fixtures for the client tests: a real hub subprocess and real client subprocesses.

``hub`` starts ``walkie server`` on a free loopback port with a history file in
a temporary directory and waits until it accepts connections; it can be
killed with SIGKILL and restarted on the same port and history file.
``run_client`` / ``PipeClient`` run ``walkie client`` in pipe mode; ``Probe``
is a plain-mode (``nc``-style) station used to watch the channel.
Deadlines here only prevent hangs; no test asserts on timing.
"""

from __future__ import annotations

import contextlib
import os
import queue
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

WALKIE = str(Path(sys.executable).with_name("walkie"))
DEADLINE = 15.0
"""Seconds any single wait may take before the test fails instead of hanging."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def client_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    return env


class Hub:
    """A `walkie server` subprocess on a fixed port and history file."""

    def __init__(self, port: int, history_db: Path, *extra: str) -> None:
        self.port = port
        self.history_db = history_db
        self.extra = extra
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                WALKIE,
                "server",
                *("--port", str(self.port), "--history-db", str(self.history_db)),
                *self.extra,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + DEADLINE
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"hub exited with {self.process.returncode}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL: no goodbye, no flush; the history file is all that survives."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(DEADLINE)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    """A running hub with the per-client rate limit off (tests send bursts)."""
    running = Hub(free_port(), tmp_path / "history.sqlite3", "--max-rate", "0")
    running.start()
    yield running
    running.stop()


class LineReader:
    """Reads a stream's lines in a thread so tests can wait with a deadline."""

    def __init__(self, stream: object) -> None:
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream: object) -> None:
        assert hasattr(stream, "readline")
        for raw in iter(stream.readline, b""):
            self._queue.put(raw.decode("utf-8", errors="replace").rstrip("\r\n"))
        self._queue.put(None)

    def wait_for(self, wanted: str, deadline: float = DEADLINE) -> list[str]:
        """Collect lines until one equals (or, for a prefix ending in '…', starts with) wanted."""
        return self.wait_until(lambda line: self._matches(line, wanted), deadline, wanted)

    def wait_until(
        self, predicate: Callable[[str], bool], deadline: float = DEADLINE, wanted: str = ""
    ) -> list[str]:
        """Collect lines until one satisfies ``predicate``; returns all lines so far."""
        end = time.monotonic() + deadline
        while not any(predicate(line) for line in self.lines):
            try:
                line = self._queue.get(timeout=max(0.0, end - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no line {wanted!r} in time; got {self.lines}") from None
            if line is None:
                raise AssertionError(f"stream ended without {wanted!r}; got {self.lines}")
            self.lines.append(line)
        return self.lines

    def rest(self, deadline: float = DEADLINE) -> list[str]:
        """Every line until the stream ends."""
        end = time.monotonic() + deadline
        while True:
            line = self._queue.get(timeout=max(0.0, end - time.monotonic()))
            if line is None:
                return self.lines
            self.lines.append(line)

    @staticmethod
    def _matches(line: str, wanted: str) -> bool:
        return line.startswith(wanted[:-1]) if wanted.endswith("…") else line == wanted


class PipeClient:
    """`walkie client` in pipe mode with stdin, stdout and stderr under the test's control."""

    def __init__(self, address: str, *args: str) -> None:
        self.process = subprocess.Popen(
            [WALKIE, "client", address, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=client_env(),
        )
        assert self.process.stdout is not None and self.process.stderr is not None
        self.stdout = LineReader(self.process.stdout)
        self.stderr = LineReader(self.process.stderr)

    def send(self, *lines: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write("".join(f"{line}\n" for line in lines).encode())
        self.process.stdin.flush()

    def finish(self) -> int:
        """Close stdin and wait for the exit code."""
        assert self.process.stdin is not None
        self.process.stdin.close()
        return self.process.wait(DEADLINE + 30)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def pipe_client() -> Iterator[Callable[..., PipeClient]]:
    """Start `walkie client ADDRESS ARGS...` in pipe mode; none outlives its test."""
    clients: list[PipeClient] = []

    def start(address: str, *args: str) -> PipeClient:
        client = PipeClient(address, *args)
        clients.append(client)
        return client

    yield start
    for client in clients:
        client.kill()


@pytest.fixture
def probe(hub: Hub) -> Iterator[Probe]:
    """A plain-mode station on ``hub`` that sees join notices and messages."""
    station = Probe(hub.port)
    station.wait_for("* welcome…")
    station.say("/who")  # a plain station joins the channel with its first line
    station.reader.wait_until(lambda line: " on the channel: " in line)
    yield station
    station.close()


class Terminal:
    """A program on a real terminal emulator (a private tmux server), read as a screen.

    tmux answers the cursor-position requests prompt_toolkit needs to draw its
    bottom toolbar, and ``screen()`` shows what a user would see.
    """

    def __init__(self, *command: str, width: int = 100, height: int = 24) -> None:
        self.server = f"walkie-test-{os.getpid()}-{secrets.token_hex(4)}"
        script = f'{shlex.join(command)}; echo "[exit $?]"; sleep {DEADLINE * 4:.0f}'
        env = [f"-e{key}={value}" for key, value in client_env().items() if key != "TMUX"]
        self._tmux(
            "new-session", "-d", "-x", str(width), "-y", str(height), *env, "sh", "-c", script
        )

    def _tmux(self, *args: str) -> str:
        return subprocess.run(
            ["tmux", "-L", self.server, "-f", "/dev/null", *args],
            check=True,
            capture_output=True,
            text=True,
            timeout=DEADLINE,
        ).stdout

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p")

    def wait_for(self, text: str) -> str:
        """The screen, once ``text`` appears on it."""
        return self.wait_until(lambda screen: text in screen, repr(text))

    def wait_until(self, predicate: Callable[[str], bool], what: str = "") -> str:
        """The screen, once ``predicate(screen)`` holds (the terminal redraws in steps)."""
        end = time.monotonic() + DEADLINE
        while True:
            screen = self.screen()
            if predicate(screen):
                return screen
            if time.monotonic() > end:
                raise AssertionError(f"{what or predicate} never on the screen:\n{screen}")
            time.sleep(0.05)

    def status_line(self, predicate: Callable[[str], bool]) -> str:
        """The bottom row, once ``predicate`` holds for it."""

        def bottom(screen: str) -> str:
            rows = screen.splitlines()
            return rows[-1] if rows else ""

        return bottom(self.wait_until(lambda screen: predicate(bottom(screen)), "status line"))

    def type(self, text: str, *, enter: bool = False) -> None:
        self._tmux("send-keys", "-l", text)
        if enter:
            self._tmux("send-keys", "Enter")

    def press(self, key: str) -> None:
        self._tmux("send-keys", key)

    def close(self) -> None:
        with contextlib.suppress(subprocess.SubprocessError):
            self._tmux("kill-server")


@pytest.fixture
def terminal(hub: Hub) -> Iterator[Terminal]:
    """`walkie client --nick alice` on a 100x24 terminal, connected."""
    screen = Terminal(WALKIE, "client", hub.address, "--nick", "alice")
    screen.wait_for("connected to")
    yield screen
    screen.close()


class Probe:
    """A plain-mode station (like `nc`) that watches the channel's notices."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE)
        self.sock.settimeout(None)  # the reader thread blocks; tests wait with deadlines
        self.reader = LineReader(self.sock.makefile("rb"))

    def say(self, line: str) -> None:
        self.sock.sendall(line.encode() + b"\n")

    def wait_for(self, wanted: str) -> list[str]:
        return self.reader.wait_for(wanted)

    def close(self) -> None:
        self.sock.close()


RunClient = Callable[..., "subprocess.CompletedProcess[str]"]


@pytest.fixture
def run_client() -> RunClient:
    """Run `walkie client ARGS...` to completion in pipe mode (``stdin=`` text)."""
    return _run_client


def _run_client(
    *args: str, stdin: str = "", timeout: float = DEADLINE
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [WALKIE, "client", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=client_env(),
    )
