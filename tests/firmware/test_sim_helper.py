"""The Python helper around the board simulator (walkie.sim)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from walkie.errors import WalkieError
from walkie.sim import BoardSimulator, parse_lcd_line
from walkie.sim.board import default_firmware_path
from walkie.station.command import SIMULATED_LCDS


def test_lcd_reports_are_parsed_into_rows_of_character_codes() -> None:
    assert parse_lcd_line("lcd|a\\x7cb\\x5c |\\xe1\\x00|") == ("a|b\\ ", "\xe1\x00")


def test_a_missing_build_is_a_clear_walkie_error(tmp_path: Path) -> None:
    board = BoardSimulator(simulator=tmp_path / "walkie-sim", firmware=tmp_path / "walkie.elf")
    with pytest.raises(WalkieError, match=r"not built: .*make -C firmware"):
        board.start()


def test_the_build_that_the_missing_build_error_names_makes_every_lcd_size() -> None:
    # `make -C firmware`, as the error says, must build what --lcd 20x4 runs.
    firmware = Path(__file__).parents[2] / "firmware"
    plan = subprocess.run(
        ["make", "-s", "-C", str(firmware), "--dry-run", "--always-make", "all"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    for lcd in SIMULATED_LCDS:
        cols, rows = (int(n) for n in lcd.split("x"))
        assert default_firmware_path((cols, rows)).name in plan


def test_the_pty_can_be_linked_and_lcd_changes_reach_a_callback(tmp_path: Path) -> None:
    link = tmp_path / "ttyWALKIE"
    seen: list[tuple[str, ...]] = []
    board = BoardSimulator(realtime=False, link=link, on_lcd=seen.append)
    with board:
        assert link.resolve() == Path(board.port).resolve()
        board.wait_for_text("waiting for Pi", row=0)
        assert any(rows[0].startswith("waiting for Pi") for rows in seen)
        board.press()
        board.release()
    assert not board.running
    assert not link.is_symlink()
    board.stop()  # idempotent
