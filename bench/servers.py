"""The servers under test, as subprocesses on loopback: `walkie server` and
mosquitto (with a generated minimal config). Each is a context manager that
knows its pid (for /proc CPU time) and port."""

from __future__ import annotations

import contextlib
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

from bench.station import stop_process

HOST = "127.0.0.1"
START_TIMEOUT = 10.0
CONNECT_RETRY = 0.05
WALKIE = [sys.executable, "-m", "walkie"]
RELAY = [sys.executable, "-m", "bench.relay"]
"""Started like walkie (the same arguments), in its place."""
_LISTENING = re.compile(r"listening on .*:(\d+)")


class ServerError(RuntimeError):
    """A server could not be started."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_accepting(port: int, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerError(f"server exited with {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=1):
            return
        time.sleep(CONNECT_RETRY)
    raise ServerError(f"nothing accepts connections on port {port}")


class _Server:
    name = "server"

    def __init__(self) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="walkie-bench-")
        self.directory = Path(self._tmp.name)
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)
        self._tmp.cleanup()

    def __enter__(self) -> _Server:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


class WalkieServer(_Server):
    """`walkie server --max-rate 0` with a fresh history file."""

    name = "walkie"

    def __init__(self, *extra: str, command: list[str] | None = None) -> None:
        super().__init__()
        self.extra = extra
        self.command = command or WALKIE

    def start(self) -> None:
        log = self.directory / "hub.log"
        with log.open("wb") as stderr:
            self.process = subprocess.Popen(
                [
                    *self.command,
                    "server",
                    "--port",
                    "0",
                    "--history-db",
                    str(self.directory / "history.sqlite3"),
                    "--max-rate",
                    "0",
                    *self.extra,
                ],
                stderr=stderr,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline and self.process.poll() is None:
            match = _LISTENING.search(log.read_text(errors="replace"))
            if match is not None:
                self.port = int(match.group(1))
                return
            time.sleep(CONNECT_RETRY)
        text = log.read_text(errors="replace").strip()
        self.stop()
        raise ServerError(f"walkie server did not start: {text[-300:]}")


class Mosquitto(_Server):
    """mosquitto on a free loopback port, anonymous, no persistence; with
    ``nodelay``, Nagle's algorithm off (``set_tcp_nodelay true``), as asyncio
    has it for walkie."""

    name = "mosquitto"

    def __init__(self, *, nodelay: bool = False) -> None:
        super().__init__()
        self.nodelay = nodelay

    @staticmethod
    def available() -> bool:
        return shutil.which("mosquitto") is not None

    @staticmethod
    def version() -> str:
        found = shutil.which("mosquitto")
        if found is None:
            return "not installed"
        result = subprocess.run([found, "-h"], capture_output=True, text=True, check=False)
        first = (result.stdout or result.stderr).splitlines()
        return first[0].replace("mosquitto version ", "") if first else "unknown"

    def start(self) -> None:
        found = shutil.which("mosquitto")
        if found is None:
            raise ServerError("mosquitto is not installed (Debian package mosquitto)")
        self.port = free_port()
        config = self.directory / "mosquitto.conf"
        config.write_text(
            f"listener {self.port} {HOST}\n"
            "allow_anonymous true\n"
            "persistence false\n"
            "log_dest none\n"
            "max_connections -1\n" + ("set_tcp_nodelay true\n" if self.nodelay else "")
        )
        self.process = subprocess.Popen(
            [found, "-c", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_accepting(self.port, self.process, START_TIMEOUT)
