"""Test support: `walkie pi --simulate` as a real subprocess, driven through its
stdin commands, its LCD and LED lines read from stdout."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Sequence

from support.hub import WALKIE, listening_port
from support.lines import DEADLINE, LineReader


class SimulatedStation:
    """`walkie pi --simulate ARGS...` (the real firmware in the board simulator)."""

    def __init__(self, *args: str, stdin: int = subprocess.PIPE) -> None:
        self.process = subprocess.Popen(
            [*WALKIE, "pi", "--simulate", *args],
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert self.process.stdout is not None and self.process.stderr is not None
        self.output = LineReader(self.process.stdout)
        self.log = LineReader(self.process.stderr)
        self.port: int | None = None

    def wait_serving(self) -> int:
        """The port of the hub it serves (server role), once it listens."""
        self.port = listening_port(self.log.first(lambda line: "listening on" in line))
        return self.port

    def wait_lcd(
        self, predicate: Callable[[Sequence[str]], bool], timeout: float = DEADLINE
    ) -> str:
        """The first LCD state (``LCD |row|row|`` line) whose rows satisfy ``predicate``."""

        return self.output.lines[self._lcd_index(predicate, timeout)]

    def wait_lcd_after(
        self,
        earlier: Callable[[Sequence[str]], bool],
        later: Callable[[Sequence[str]], bool],
        timeout: float = DEADLINE,
    ) -> str:
        """The first LCD state satisfying ``later`` after the first satisfying ``earlier``."""
        start = self._lcd_index(earlier, timeout) + 1
        return self.output.lines[self._lcd_index(later, timeout, start)]

    def _lcd_index(
        self, predicate: Callable[[Sequence[str]], bool], timeout: float, start: int = 0
    ) -> int:
        def lcd_matches(line: str) -> bool:
            return line.startswith("LCD |") and predicate(line[5:-1].split("|"))

        return self.output.index_of(lcd_matches, timeout, start=start)

    def wait_output(self, line: str) -> None:
        self.output.wait_for(line)

    def command(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line.encode() + b"\n")
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
