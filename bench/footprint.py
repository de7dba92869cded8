"""Part 4: the Pi daemon's footprint: start → READY, resident memory, idle CPU.

`walkie pi --serial PTY` runs exactly as on a Pi (server role, no GPIO fitted),
its serial port being the board simulator's pty (the simulator runs in this
process's child, so its CPU is not counted). READY comes from the systemd
notify protocol: the bench binds a datagram socket and passes it as
``NOTIFY_SOCKET``.
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.procstat import cpu_seconds, rss_bytes
from bench.report import Section
from bench.station import stop_process, write_config
from walkie.sim.board import BoardSimulator

IDLE_SECONDS_FULL = 30.0
IDLE_SECONDS_QUICK = 5.0
STARTS_FULL = 5
STARTS_QUICK = 2
READY_TIMEOUT = 15.0
SETTLE_SECONDS = 2.0
"""After READY: the board link comes up and the first screen is pushed."""
DATAGRAM_SIZE = 4096
BUDGETS = {"ready": "≤ 1.5 s", "rss": "≤ 40 MB", "idle": "≤ 1 % of a core"}


def _start_daemon(config: Path, serial_port: str, notify_path: str) -> subprocess.Popen[str]:
    env = dict(os.environ, NOTIFY_SOCKET=notify_path)
    return subprocess.Popen(
        [sys.executable, "-m", "walkie", "pi", "--config", str(config), "--serial", serial_port],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def _wait_ready(notify: socket.socket, started: float) -> float:
    deadline = started + READY_TIMEOUT
    while (remaining := deadline - time.monotonic()) > 0:
        notify.settimeout(remaining)
        try:
            message = notify.recv(DATAGRAM_SIZE).decode(errors="replace")
        except TimeoutError:
            break
        if "READY=1" in message.split("\n"):
            return time.monotonic() - started
    raise TimeoutError("the daemon did not send READY=1")


def run(quick: bool) -> Section:
    idle_seconds = IDLE_SECONDS_QUICK if quick else IDLE_SECONDS_FULL
    starts = STARTS_QUICK if quick else STARTS_FULL
    ready_times: list[float] = []
    with tempfile.TemporaryDirectory(prefix="walkie-bench-") as tmp:
        directory = Path(tmp)
        config = write_config(directory)
        notify_path = str(directory / "notify")
        with (
            BoardSimulator(realtime=True) as simulator,
            socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as notify,
        ):
            notify.bind(notify_path)
            for attempt in range(starts):
                started = time.monotonic()
                daemon = _start_daemon(config, simulator.port, notify_path)
                try:
                    ready_times.append(_wait_ready(notify, started))
                    if attempt < starts - 1:
                        continue
                    simulator.wait_for_text("OK", timeout=READY_TIMEOUT)  # board link up
                    time.sleep(SETTLE_SECONDS)
                    rss = rss_bytes(daemon.pid)
                    cpu_before = cpu_seconds(daemon.pid)
                    time.sleep(idle_seconds)
                    idle = (cpu_seconds(daemon.pid) - cpu_before) / idle_seconds
                    rss_after = rss_bytes(daemon.pid)
                finally:
                    stop_process(daemon)
    section = Section("4. Pi daemon footprint", ["figure", "value", "SPEC §10", "method"])
    section.add(
        "start → READY",
        f"median {statistics.median(ready_times):.2f} s, max {max(ready_times):.2f} s "
        f"({starts} starts)",
        BUDGETS["ready"],
        "Popen of `walkie pi --serial PTY` → READY=1 on the NOTIFY_SOCKET the bench bound",
    )
    section.add(
        "resident memory",
        f"{rss / 2**20:.1f} MiB ({rss_after / 2**20:.1f} MiB after the idle period)",
        BUDGETS["rss"],
        f"VmRSS in /proc/PID/status {SETTLE_SECONDS:g} s after the LCD shows the station's "
        "screen (board link up, hub and the station's own client connection running)",
    )
    section.add(
        "idle CPU",
        f"{idle:.2%} of a core",
        BUDGETS["idle"],
        f"utime+stime over {idle_seconds:g} s with nothing happening (heartbeats only)",
    )
    return section
