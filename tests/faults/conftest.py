"""Fixtures of the fault campaign: boards in the simulator, stable port paths."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from faults.kit import StartSimulator
from walkie.errors import WalkieError
from walkie.sim import BoardSimulator, default_firmware_path, default_simulator_path


@pytest.fixture
def start_simulator() -> Iterator[StartSimulator]:
    """Start boards in the simulator (real time); every one is stopped afterwards."""
    if not default_simulator_path().is_file() or not default_firmware_path().is_file():
        pytest.fail("board simulator or firmware not built: run `make -C firmware`")
    started: list[BoardSimulator] = []

    def start(**options: object) -> BoardSimulator:
        simulator = BoardSimulator(**options)  # type: ignore[arg-type]
        started.append(simulator)
        try:
            return simulator.start()
        except WalkieError as exc:
            pytest.fail(str(exc))

    yield start
    for simulator in started:
        simulator.stop()


@pytest.fixture
def tmp_link(tmp_path: Path) -> Path:
    """A path for the board simulator's pty symlink (a stable port name)."""
    return tmp_path / "ttyWALKIE"
