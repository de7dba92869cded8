"""A station stopped cleanly (``systemctl stop``, ``q`` in the simulation)
says so on its LCD: the board keeps power and its screen, so the daemon's
last screen is what people read until the station comes back. The real
firmware in the simulator throughout."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from support.daemon import StationThread
from support.hub import WALKIE
from support.lines import DEADLINE
from support.station import SimulatedStation
from walkie.sim.board import BoardSimulator

pytestmark = pytest.mark.simulator

STATUS_ROW = 1


def test_a_stopped_station_goes_straight_to_offline_on_the_lcd(tmp_path: Path) -> None:
    status_rows: list[str] = []
    board = BoardSimulator(on_lcd=lambda rows: status_rows.append(rows[STATUS_ROW])).start()
    station = StationThread(board, tmp_path / "h.sqlite3", hold_time=0.2)
    try:
        station.start()
        board.wait_for_text(" on", row=STATUS_ROW, timeout=20)  # the link is up
        stopping_from = len(status_rows)
        station.stop()
        # Waited for at once: the firmware's own "Pi link lost" follows the
        # silence after 3 s, but the daemon's last screen is there first.
        board.wait_for_text("offline", row=STATUS_ROW, timeout=2.5)
        # The hub hanging up on the station's own quit is not a lost link.
        assert not [row for row in status_rows[stopping_from:] if "reconnecting" in row]
    finally:
        station.stop()
        board.stop()


def test_quitting_the_simulation_leaves_offline_on_its_lcd(tmp_path: Path) -> None:
    config = tmp_path / "station.toml"
    config.write_text(f'[server]\nhistory_db = "{tmp_path / "h.sqlite3"}"\n')
    pi = SimulatedStation("--config", str(config), "--port", "0")
    try:
        pi.wait_lcd(lambda rows: rows[STATUS_ROW].endswith("1 on"))
        pi.command("quit")
        lines = pi.output.rest()
        assert pi.stop() == 0
        lcd = [line for line in lines if line.startswith("LCD |")]
        assert "offline" in lcd[-1].split("|")[1 + STATUS_ROW], lcd[-3:]
    finally:
        pi.stop()


def test_the_simulation_ends_quietly_when_nobody_reads_its_output(tmp_path: Path) -> None:
    # `walkie pi --simulate | head -5`: the reader goes, as after a `q`.
    config = tmp_path / "station.toml"
    config.write_text(f'[server]\nport = 0\nhistory_db = "{tmp_path / "h.sqlite3"}"\n')
    pi = subprocess.Popen(
        [*WALKIE, "pi", "--simulate", "--config", str(config)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert pi.stdin is not None and pi.stdout is not None
    try:
        for line in pi.stdout:
            if line.startswith(b"LCD |") and line.rstrip().endswith(b"1 on|"):
                break  # the station is up
        pi.stdout.close()
        pi.stdin.write(b"p\n")  # a tap: the status row changes, a line to print
        pi.stdin.flush()
        assert pi.wait(DEADLINE) == 0
        assert pi.stderr is not None and b"Traceback" not in pi.stderr.read()
    finally:
        if pi.poll() is None:
            pi.kill()
            pi.wait()


def test_the_simulation_ends_quietly_when_its_output_cannot_be_written(tmp_path: Path) -> None:
    config = tmp_path / "station.toml"
    config.write_text(f'[server]\nport = 0\nhistory_db = "{tmp_path / "h.sqlite3"}"\n')
    with open("/dev/full", "w") as full:  # every write fails: no space left
        result = subprocess.run(
            [*WALKIE, "pi", "--simulate", "--config", str(config)],
            stdin=subprocess.DEVNULL,
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=DEADLINE,
        )
    assert result.returncode == 0
    assert "Traceback" not in result.stderr
