"""Test support: `walkie client` as a real subprocess, in pipe mode or on a real
terminal emulator (a private tmux server), and a plain-mode probe station."""

from __future__ import annotations

import contextlib
import os
import secrets
import shlex
import socket
import subprocess
import time
from collections.abc import Callable

from support.hub import WALKIE
from support.lines import DEADLINE, LineReader

RunClient = Callable[..., "subprocess.CompletedProcess[str]"]


def client_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    return env


class PipeClient:
    """`walkie client` in pipe mode with stdin, stdout and stderr under the test's control."""

    def __init__(self, address: str, *args: str) -> None:
        self.process = subprocess.Popen(
            [*WALKIE, "client", address, *args],
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


class Terminal:
    """A program on a real terminal emulator (a private tmux server), read as a screen.

    tmux answers the cursor-position requests prompt_toolkit needs to draw its
    bottom toolbar, and ``screen()`` shows what a user would see.
    """

    def __init__(self, *command: str, width: int = 100, height: int = 24) -> None:
        self.server = f"walkie-test-{os.getpid()}-{secrets.token_hex(4)}"
        script = f'{shlex.join(command)}; echo "[exit $?]"; sleep {DEADLINE * 4:.0f}'
        env = [f"-e{key}={value}" for key, value in client_env().items() if key != "TMUX"]
        # bash, not sh: after a Ctrl-C that the command handles and survives
        # to exit on its own, bash goes on to the echo; dash dies of it.
        self._tmux(
            "new-session", "-d", "-x", str(width), "-y", str(height), *env, "bash", "-c", script
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

    def scrollback_lines(self) -> int:
        """How many lines have scrolled off the top into the terminal's history."""
        return int(self._tmux("display-message", "-p", "#{history_size}"))

    def resize(self, width: int, height: int) -> None:
        """Resize the terminal, as a user dragging its window's corner does."""
        self._tmux("resize-window", "-x", str(width), "-y", str(height))

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

    def paste(self, text: str) -> None:
        """Paste ``text`` as a terminal does (bracketed paste, newlines and all)."""
        self._tmux("set-buffer", "--", text)
        self._tmux("paste-buffer", "-p")

    def close(self) -> None:
        with contextlib.suppress(subprocess.SubprocessError):
            self._tmux("kill-server")


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


def run_client(
    *args: str, stdin: str = "", timeout: float = DEADLINE
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*WALKIE, "client", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=client_env(),
    )
