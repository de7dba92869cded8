"""The journal tells a board starting up from a board resetting under a
working link: the first is expected at every start, the second lost its
screen and is worth a look (the real firmware in the simulator)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from support.daemon import StationThread
from support.waiting import wait_until
from walkie.board.messages import BoardInfo
from walkie.sim.board import BoardSimulator

pytestmark = pytest.mark.simulator

DAEMON_LOG = "walkie.station"


def reset_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [
        r
        for r in caplog.records
        if r.name == DAEMON_LOG and r.getMessage().startswith("board reset")
    ]


def test_a_board_starting_is_info_and_a_reset_under_a_working_link_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=DAEMON_LOG)
    board = BoardSimulator().start()
    station = StationThread(board, tmp_path / "h.sqlite3", hold_time=0.2)
    try:
        station.start()
        board.wait_for_text(" on", row=1, timeout=20)  # the link is up
        assert [r.levelno for r in reset_records(caplog)] == [logging.INFO]

        board.reset()
        wait_until(lambda: len(reset_records(caplog)) == 2, "the reset to be logged")
        mid_session = reset_records(caplog)[1]
        assert mid_session.levelno == logging.WARNING
        assert "while the link was up" in mid_session.message
    finally:
        station.stop()
        board.stop()


@pytest.mark.parametrize(
    ("mcusr", "text", "fault"),
    [
        (0x01, "power-on", False),
        (0x05, "power-on", False),  # the brown-out flag rises with the supply
        (0x02, "reset pin: the reset button, or the serial port opening", False),
        (0x04, "brown-out: check the board's power", True),
        (0x08, "watchdog", True),
        (0x00, "cause unknown", False),  # a bootloader that clears MCUSR
    ],
)
def test_the_reset_cause_in_words(mcusr: int, text: str, fault: bool) -> None:
    info = BoardInfo(proto=1, fw_major=1, fw_minor=0, cols=16, rows=2, boot=True, reset_cause=mcusr)
    assert (info.reset_cause_text, info.reset_was_a_fault) == (text, fault)
