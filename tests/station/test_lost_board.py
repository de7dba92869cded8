"""The Arduino vanishing while its PTT button is held: the station treats the
button as released and gives the floor back, so a lost release never holds
the channel (the daemon in-process, the real firmware in the simulator)."""

from __future__ import annotations

from pathlib import Path

import pytest

from support.daemon import StationThread
from support.hub import LineClient
from walkie.sim.board import BoardSimulator

pytestmark = pytest.mark.simulator


def test_an_unplugged_board_with_its_button_held_gives_the_floor_back(tmp_path: Path) -> None:
    board = BoardSimulator().start()
    station = StationThread(board, tmp_path / "h.sqlite3", hold_time=0.2)
    try:
        port = station.start()
        bob = LineClient.connect(port, "bob")
        board.wait_for_text(" on", timeout=20)  # the station's status row: the link is up
        board.press()
        bob.expect_line("* pi is talking")
        board.stop()  # unplugged, button still down
        bob.expect_line("* pi is over")
        bob.send("/talk")
        bob.expect_line("* bob is talking")
    finally:
        board.stop()
        station.stop()
