"""Fixtures for the firmware tests: the real firmware in the board simulator,
and a minimal Pi side speaking the serial protocol over the board's pty."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import serial

from firmware.pi_side import PiSide
from walkie.errors import WalkieError
from walkie.sim import BoardSimulator, default_firmware_path, default_simulator_path

BAUD = 115200


@pytest.fixture
def board() -> Iterator[BoardSimulator]:
    """The firmware in the simulator at real-time speed, CPU paused until resumed."""
    if not default_simulator_path().is_file() or not default_firmware_path().is_file():
        pytest.fail("board simulator or firmware not built: run `make -C firmware`")
    try:
        simulator = BoardSimulator(paused=True).start()
    except WalkieError as exc:
        pytest.fail(str(exc))
    yield simulator
    simulator.stop()


@pytest.fixture
def pi(board: BoardSimulator) -> Iterator[PiSide]:
    """A Pi side on the board's serial port, opened before the CPU starts."""
    port = serial.Serial(board.port, BAUD, timeout=0.05)
    side = PiSide(port)
    board.resume()
    yield side
    side.close()
    port.close()
