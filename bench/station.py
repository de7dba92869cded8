"""Helpers for the station benchmarks: a station config in a temporary
directory, timestamped lines from a subprocess or a socket, and stopping
processes politely."""

from __future__ import annotations

import contextlib
import queue
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO

STOP_TIMEOUT = 10.0
RECEIVE_SIZE = 65536


def write_config(directory: Path, *, hold_time: float = 0.6) -> Path:
    """A station config: server role on a free port, history in ``directory``,
    no rate limit, the given PTT hold time."""
    path = directory / "walkie.toml"
    path.write_text(
        "[server]\n"
        "port = 0\n"
        f'history_db = "{directory / "history.sqlite3"}"\n'
        "max_rate = 0\n"
        "[ptt]\n"
        f"hold_time = {hold_time}\n"
    )
    return path


class TimedLines:
    """Lines from a stream, each with the ``time.monotonic()`` of its arrival."""

    def __init__(self, source: Iterable[str]) -> None:
        self._lines: queue.Queue[tuple[float, str]] = queue.Queue()
        self._thread = threading.Thread(target=self._read, args=(source,), daemon=True)
        self._thread.start()

    def _read(self, source: Iterable[str]) -> None:
        with contextlib.suppress(OSError, ValueError):
            for line in source:
                self._lines.put((time.monotonic(), line.rstrip("\n")))

    def wait_for(self, predicate: Callable[[str], bool], timeout: float) -> tuple[float, str]:
        """The first new line that matches, with its arrival time; TimeoutError if none."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("no matching line")
            try:
                arrived, line = self._lines.get(timeout=remaining)
            except queue.Empty:
                raise TimeoutError("no matching line") from None
            if predicate(line):
                return arrived, line


def process_lines(stream: IO[str]) -> TimedLines:
    return TimedLines(stream)


def socket_lines(sock: socket.socket) -> TimedLines:
    """Lines read from ``sock`` (until it closes)."""

    def lines() -> Iterable[str]:
        buffer = b""
        sock.settimeout(None)
        while True:
            chunk = sock.recv(RECEIVE_SIZE)
            if not chunk:
                return
            buffer += chunk
            *complete, buffer = buffer.split(b"\n")
            for line in complete:
                yield line.decode(errors="replace")

    return TimedLines(lines())


def stop_process(process: subprocess.Popen[str] | subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL if it does not go within STOP_TIMEOUT."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
