"""Test support: `walkie pi --simulate` and `walkie client` as real subprocesses,
their output collected line by line on reader threads."""

from __future__ import annotations

import re
import subprocess
import threading
import time
from collections.abc import Callable, Sequence

from support.hub import DEADLINE, WALKIE


class OutputWatcher:
    """Collects a process's stdout (and stderr) lines as they arrive."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.lines: list[str] = []
        self.errors: list[str] = []
        self._changed = threading.Condition()
        for stream, into in ((process.stdout, self.lines), (process.stderr, self.errors)):
            if stream is not None:
                threading.Thread(target=self._read, args=(stream, into), daemon=True).start()

    def _read(self, stream: object, into: list[str]) -> None:
        for line in stream:  # type: ignore[attr-defined]
            with self._changed:
                into.append(line.rstrip("\n"))
                self._changed.notify_all()

    def wait_for(
        self, predicate: Callable[[str], bool], *, stderr: bool = False, timeout: float = DEADLINE
    ) -> str:
        """The first line (old or new) matching; fails after a generous deadline."""
        source = self.errors if stderr else self.lines
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for line in source:
                    if predicate(line):
                        return line
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    tail = "\n".join((self.errors if not stderr else self.lines)[-5:])
                    raise AssertionError(f"no matching line in {source[-8:]}\nother: {tail}")
                self._changed.wait(min(remaining, 0.5))

    def wait_for_new(self, predicate: Callable[[str], bool], timeout: float = DEADLINE) -> str:
        """Like :meth:`wait_for` but only among lines that arrive from now on."""
        start = len(self.lines)
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for line in self.lines[start:]:
                    if predicate(line):
                        return line
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"no new matching line in {self.lines[-8:]}")
                self._changed.wait(min(remaining, 0.5))


class SimulatedStation:
    """`walkie pi --simulate`, driven through its stdin commands."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [*WALKIE, "pi", "--simulate", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self.output = OutputWatcher(self.process)
        self.port: int | None = None

    def wait_serving(self) -> int:
        line = self.output.wait_for(lambda line: "listening on" in line, stderr=True)
        match = re.search(r":(\d+)$", line)
        assert match
        self.port = int(match.group(1))
        return self.port

    def wait_lcd(
        self, predicate: Callable[[Sequence[str]], bool], timeout: float = DEADLINE
    ) -> str:
        def lcd_matches(line: str) -> bool:
            return line.startswith("LCD |") and predicate(line[5:-1].split("|"))

        return self.output.wait_for(lcd_matches, timeout=timeout)

    def wait_lcd_text(self, text: str, timeout: float = DEADLINE) -> str:
        return self.wait_lcd(lambda rows: any(text in row for row in rows), timeout)

    def command(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


class PipeClient:
    """`walkie client HOST:PORT` in pipe mode: lines in on stdin, chat lines out."""

    def __init__(self, port: int, nick: str, *args: str) -> None:
        self.process = subprocess.Popen(
            [*WALKIE, "client", f"127.0.0.1:{port}", "--nick", nick, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self.output = OutputWatcher(self.process)

    def say(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def finish(self) -> int:
        assert self.process.stdin is not None
        self.process.stdin.close()
        return self.process.wait(DEADLINE)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
