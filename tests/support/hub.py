"""Test support: real `walkie server` subprocesses and line-oriented sockets
that talk to them exactly as netcat would."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from support.lines import DEADLINE, LineReader

WALKIE = [str(Path(sys.executable).with_name("walkie"))]
"""The installed `walkie` command, as a user runs it."""
TOKEN = "correct horse battery staple"
"""The shared token of the hubs that the security tests start."""


def listening_port(line: str) -> int:
    """The port in the line a hub prints once it listens
    (``walkie hub listening on HOST:PORT (...)``)."""
    match = re.search(r"listening on (?:\S+):(\d+)", line)
    assert match, line
    return int(match.group(1))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class HubProcess:
    """A `walkie server` subprocess; restartable on the same port and history file."""

    def __init__(self, history_db: Path, *extra: str, port: int = 0) -> None:
        self.history_db = history_db
        self.extra = extra
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None
        self.log: LineReader | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> HubProcess:
        """Start the hub and wait until it listens (port 0: learn the port it got)."""
        self.process = subprocess.Popen(
            [
                *WALKIE,
                "server",
                "--port",
                str(self.port),
                "--history-db",
                str(self.history_db),
                *self.extra,
            ],
            stderr=subprocess.PIPE,
        )
        assert self.process.stderr is not None
        self.log = LineReader(self.process.stderr)
        try:
            line = self.log.first(lambda line: "listening on" in line)
        except AssertionError:
            self.kill()
            raise
        self.port = listening_port(line)
        return self

    def kill(self) -> None:
        """SIGKILL: no goodbye, no flush; the history file is all that survives."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(DEADLINE)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.kill()

    def rss_kib(self) -> int:
        assert self.process is not None
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        match = re.search(r"VmRSS:\s+(\d+) kB", status)
        assert match
        return int(match.group(1))


def start_hub_process(history_db: Path, *extra: str, port: int = 0) -> HubProcess:
    return HubProcess(history_db, *extra, port=port).start()


@dataclass
class LineClient:
    """A raw TCP connection that reads and writes lines, like `nc`."""

    sock: socket.socket
    received: list[str] = field(default_factory=list)
    _buffer: bytes = b""

    @classmethod
    def connect(cls, port: int, nick: str | None = None) -> LineClient:
        client = cls(socket.create_connection(("127.0.0.1", port), timeout=DEADLINE))
        client.expect(lambda line: line.startswith("* welcome"))
        if nick:
            client.send(f"/nick {nick}")
            client.expect(lambda line: line.endswith(f"is now {nick}"))
        return client

    def send(self, line: str | bytes) -> None:
        data = line if isinstance(line, bytes) else line.encode()
        self.sock.sendall(data + b"\n")

    def send_json(self, **fields: object) -> None:
        self.send(json.dumps(fields))

    def read_line(self, deadline: float) -> str | None:
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(65536)
            except TimeoutError:
                return None
            if not chunk:
                return None
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        text = line.decode()
        self.received.append(text)
        return text

    def expect(self, predicate: Callable[[str], bool], timeout: float = DEADLINE) -> str:
        """Read lines until one matches; fail (after a generous deadline) if none does."""
        deadline = time.monotonic() + timeout
        while (line := self.read_line(deadline)) is not None:
            if predicate(line):
                return line
        raise AssertionError(f"no matching line; got {[line[:80] for line in self.received[-10:]]}")

    def expect_line(self, wanted: str, timeout: float = DEADLINE) -> str:
        return self.expect(lambda line: line == wanted, timeout)

    def expect_json(self, kind: str, timeout: float = DEADLINE) -> dict[str, object]:
        line = self.expect(
            lambda line: line.startswith("{") and json.loads(line)["t"] == kind, timeout
        )
        obj: dict[str, object] = json.loads(line)
        return obj

    def quiet_for(self, seconds: float) -> list[str]:
        """Lines that arrive within ``seconds`` (for checking that nothing does)."""
        deadline = time.monotonic() + seconds
        got = []
        while (line := self.read_line(deadline)) is not None:
            got.append(line)
        return got

    def closed_by_peer(self, timeout: float = DEADLINE) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                chunk = self.sock.recv(65536)
            except TimeoutError:
                return False
            except ConnectionResetError:
                return True
            if not chunk:
                return True
            self._buffer += chunk
        return False

    def close(self) -> None:
        self.sock.close()
