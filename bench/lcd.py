"""Part 2: a laptop's line to text on the virtual LCD, and PTT press to
another station being told, through `walkie pi --simulate` (the real daemon,
the real firmware in simavr at real-time speed, 115200 baud)."""

from __future__ import annotations

import contextlib
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.report import Section
from bench.servers import HOST
from bench.station import TimedLines, socket_lines, stop_process, write_config
from bench.stats import ms, percentile

LINES_FULL = 500
LINES_QUICK = 200
PRESSES_FULL = 100
PRESSES_QUICK = 30
HOLD_TIME = 0.1
"""The shortest PTT hold the config allows; subtracted from press → told."""
GAP = 0.03
"""Seconds between one measurement's end and the next one's start."""
START_TIMEOUT = 30.0
EVENT_TIMEOUT = 5.0
NICK = "b"
LCD_BUDGET = "p50 ≤ 10 ms, p99 ≤ 20 ms"
PTT_BUDGET = "p99 ≤ 50 ms"
_LISTENING = re.compile(r"listening on .*:(\d+)")


class _StationProcess:
    """`bench.stationproc`: the daemon with the simulator, reporting timestamps."""

    def __init__(self, config: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.stationproc", str(config)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            bufsize=1,
        )
        assert self.process.stdout is not None
        self.stdout = TimedLines(self.process.stdout)

    def wait_port(self) -> int:
        _, line = self.stdout.wait_for(lambda line: line.startswith("port "), START_TIMEOUT)
        return int(line.split()[1])

    def wait_lcd(self, text: str, timeout: float) -> float:
        """When the simulator reported an LCD showing ``text`` (its own timestamp)."""
        _, line = self.stdout.wait_for(
            lambda line: line.startswith("lcd ") and f"|{text}" in line, timeout
        )
        return float(line[len("lcd ") : line.index("|")])

    def command(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def press(self) -> float:
        """Press the simulated button; when the daemon process drove it."""
        self.command("press")
        _, line = self.stdout.wait_for(lambda line: line.startswith("pressed "), EVENT_TIMEOUT)
        return float(line.split()[1])

    def release(self) -> None:
        self.command("release")


class _Client:
    """A plain TCP client, as netcat: sends lines, sees lines with arrival times."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection((HOST, port), timeout=START_TIMEOUT)
        self.lines = socket_lines(self.sock)

    def send(self, line: str) -> float:
        sent = time.monotonic()
        self.sock.sendall(line.encode() + b"\n")
        return sent

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()


def run(quick: bool) -> Section:
    lines = LINES_QUICK if quick else LINES_FULL
    presses = PRESSES_QUICK if quick else PRESSES_FULL
    with tempfile.TemporaryDirectory(prefix="walkie-bench-") as tmp:
        station = _StationProcess(write_config(Path(tmp), hold_time=HOLD_TIME))
        try:
            port = station.wait_port()
            client = _Client(port)
            try:
                client.lines.wait_for(lambda line: line.startswith("* welcome"), START_TIMEOUT)
                client.send(f"/nick {NICK}")
                client.lines.wait_for(lambda line: line.endswith(f"is now {NICK}"), EVENT_TIMEOUT)
                station.wait_lcd(">OK", START_TIMEOUT)  # the board link is up
                lcd = _line_to_lcd(station, client, lines)
                ptt = _press_to_told(station, client, presses)
            finally:
                client.close()
        finally:
            station.command("quit")
            stop_process(station.process)
    section = Section(
        "2. Laptop line → LCD, PTT press → another station told",
        ["figure", "p50", "p99", "max", "SPEC §10", "method"],
    )
    section.add(
        f"line → LCD ({len(lcd)} lines)",
        ms(percentile(lcd, 0.5)),
        ms(percentile(lcd, 0.99)),
        ms(max(lcd, default=float("nan"))),
        LCD_BUDGET,
        "plain TCP client sends `m0001` → the simulator reports an LCD row starting "
        "`b: m0001` (firmware in simavr at real time, 115200 baud)",
    )
    keyed = [value - HOLD_TIME for value in ptt]
    section.add(
        f"PTT press → told, minus the {HOLD_TIME:g} s hold ({len(ptt)} presses)",
        ms(percentile(keyed, 0.5)),
        ms(percentile(keyed, 0.99)),
        ms(max(keyed, default=float("nan"))),
        PTT_BUDGET,
        "simulated Uno button pressed (20 ms firmware debounce) → a plain TCP client "
        "reads `* pi is talking`; a press becomes a "
        f"key-up after the hold time (ptt.hold_time = {HOLD_TIME:g} s), which is subtracted",
    )
    section.notes.append(
        "The daemon is walkie.station.daemon.Station in its own process (bench/stationproc.py:"
        " `walkie pi --simulate` minus the terminal view, whose 20 ms LCD settle delay is for "
        "people). Times are CLOCK_MONOTONIC, system-wide: the bench stamps sending and "
        "receiving on its socket, the daemon process stamps the simulator's LCD report and "
        "the button press."
    )
    return section


def _line_to_lcd(station: _StationProcess, client: _Client, count: int) -> list[float]:
    latencies = []
    for number in range(1, count + 1):
        text = f"m{number:04d}"
        wanted = f"{NICK}: {text}"
        sent = client.send(text)
        latencies.append(station.wait_lcd(wanted, EVENT_TIMEOUT) - sent)
        time.sleep(GAP)
    return latencies


def _press_to_told(station: _StationProcess, client: _Client, count: int) -> list[float]:
    latencies = []
    for _ in range(count):
        pressed = station.press()
        told, _ = client.lines.wait_for(lambda line: line == "* pi is talking", EVENT_TIMEOUT)
        latencies.append(told - pressed)
        station.release()
        client.lines.wait_for(lambda line: line == "* pi is over", EVENT_TIMEOUT)
        time.sleep(GAP)
    return latencies
