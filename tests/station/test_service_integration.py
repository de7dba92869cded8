"""`walkie pi` as systemd runs it: READY=1 once serving, WATCHDOG=1 from the
event loop, STATUS= lines, journald priorities on stderr, and it keeps running
without an Arduino or GPIO hardware."""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.hub import WALKIE, LineClient, listening_port
from support.lines import DEADLINE, LineReader


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[socket.socket]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(tmp_path / "notify"))
    sock.settimeout(DEADLINE)
    yield sock
    sock.close()


def messages_until(sock: socket.socket, wanted: str) -> list[str]:
    seen: list[str] = []
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        seen += sock.recv(4096).decode().splitlines()
        if any(line.startswith(wanted) for line in seen):
            return seen
    raise AssertionError(f"no {wanted} in {seen}")


def test_the_daemon_speaks_the_notify_protocol_and_runs_without_hardware(
    tmp_path: Path, notify_socket: socket.socket
) -> None:
    config = tmp_path / "walkie.toml"
    config.write_text(f'[server]\nport = 0\nhistory_db = "{tmp_path / "h.sqlite3"}"\n')
    environment = {
        "NOTIFY_SOCKET": str(tmp_path / "notify"),
        "WATCHDOG_USEC": "400000",
        "JOURNAL_STREAM": "8:1234",
        "PATH": "/usr/bin:/bin",
        "XDG_STATE_HOME": str(tmp_path / "state"),
    }
    process = subprocess.Popen(
        [*WALKIE, "pi", "--config", str(config), "--serial", str(tmp_path / "no-arduino")],
        env=environment,
        stderr=subprocess.PIPE,
    )
    assert process.stderr is not None
    log = LineReader(process.stderr)
    try:
        ready = messages_until(notify_socket, "READY=1")
        assert any(line.startswith("STATUS=serving") for line in ready)
        watchdog = messages_until(notify_socket, "WATCHDOG=1")
        assert watchdog
        port = listening_port(log.first(lambda line: "listening on" in line))
        warning = log.first(lambda line: "board not available" in line)
        assert warning.startswith("<4>")
        alice = LineClient.connect(port, "alice")
        alice.send("/who")
        alice.expect(
            lambda line: (
                line
                in (
                    "* pi joined (2 on the channel)",
                    "* 2 on the channel: alice, pi; the floor is free",
                )
            )
        )
        status = messages_until(notify_socket, "STATUS=channel connected")
        assert any("2 stations" in line or "no board" in line for line in status)
        assert process.poll() is None
        process.send_signal(signal.SIGTERM)
        assert process.wait(DEADLINE) == 0
        assert "STOPPING=1" in messages_until(notify_socket, "STOPPING=1")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def run_pi(*args: str) -> subprocess.CompletedProcess[str]:
    """`walkie pi ARGS...` to its end: for arguments it refuses before it starts."""
    return subprocess.run([*WALKIE, "pi", *args], capture_output=True, text=True, timeout=DEADLINE)


def test_a_bad_config_is_one_line_naming_the_key(tmp_path: Path) -> None:
    config = tmp_path / "walkie.toml"
    config.write_text("[serial]\nbaud = 1234\n")
    result = run_pi("--config", str(config))
    assert result.returncode == 1
    rates = "9600, 19200, 38400, 57600, 115200, 230400"
    assert result.stderr.strip().splitlines() == [
        f"walkie pi: {config}: serial.baud: must be one of {rates}"
    ]


def test_a_bad_nick_flag_is_one_line_before_anything_starts(tmp_path: Path) -> None:
    config = tmp_path / "walkie.toml"
    config.write_text(f'[server]\nport = 0\nhistory_db = "{tmp_path / "h.sqlite3"}"\n')
    result = run_pi("--config", str(config), "--nick", "1pi")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "walkie pi: invalid nick '1pi': 1-16 letters, digits, _ or -, starting with a letter"
    ]
    assert not (tmp_path / "h.sqlite3").exists()  # no hub was started for it


@pytest.mark.skipif(Path("/proc/device-tree/model").exists(), reason="a board with GPIO")
def test_gpio_pins_on_a_machine_without_gpio_are_one_line(tmp_path: Path) -> None:
    config = tmp_path / "walkie.toml"
    config.write_text(f'[gpio]\nbutton = 17\n[server]\nhistory_db = "{tmp_path / "h.sqlite3"}"\n')
    result = run_pi("--config", str(config), "--port", "0")
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()  # not gpiozero's warnings first
    assert line.startswith("walkie pi: GPIO unavailable: ")
    assert "Falling back from lgpio" in line  # why each pin library was not used


@pytest.mark.parametrize(
    ("flags", "error"),
    [
        (["--role", "server", "--hub", "other:32000"], "--hub joins a hub elsewhere"),
        (["--hub", "other:32000", "--port", "4000"], "--port is for the hub a server-role"),
    ],
    ids=["hub in the server role", "port in the client role"],
)
def test_flags_that_contradict_each_other_are_refused(flags: list[str], error: str) -> None:
    result = run_pi("--config", "/dev/null", *flags)
    assert result.returncode == 1
    assert result.stderr.startswith(f"walkie pi: {error}")
    assert result.stderr.count("\n") == 1


def test_a_hub_that_stays_away_is_logged_once_not_at_every_retry(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))  # bound, not listening: every retry is refused
        port = sock.getsockname()[1]
        hub = f"127.0.0.1:{port}"
        serial = str(tmp_path / "no-arduino")
        station = subprocess.Popen(
            [*WALKIE, "pi", "--config", "/dev/null", "--hub", hub, "--serial", serial],
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            time.sleep(4)  # retries after about 0.1, 0.4, 1.1 and 2.7 s
        finally:
            station.send_signal(signal.SIGTERM)
            _, log = station.communicate(timeout=DEADLINE)
    assert log.count("channel disconnected: connection refused") == 1, log
