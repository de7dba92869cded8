"""The Arduino vanishing while its PTT button is held: the station treats the
button as released and gives the floor back, so a lost release never holds
the channel (the daemon in-process, the real firmware in the simulator)."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from support.hub import LineClient
from walkie.sim.board import BoardSimulator
from walkie.station.config import PttConfig, SerialConfig, ServerConfig, StationConfig
from walkie.station.daemon import Station

pytestmark = pytest.mark.simulator


def test_an_unplugged_board_with_its_button_held_gives_the_floor_back(tmp_path: Path) -> None:
    board = BoardSimulator().start()
    config = StationConfig(
        server=ServerConfig(port=0, history_db=tmp_path / "h.sqlite3"),
        serial=SerialConfig(port=board.port),
        ptt=PttConfig(hold_time=0.2),
    )
    ready = threading.Event()
    ports: list[int] = []
    stop: asyncio.Event | None = None
    loop: asyncio.AbstractEventLoop | None = None

    def hub_ready(port: int) -> None:
        ports.append(port)
        ready.set()

    async def run() -> None:
        nonlocal stop, loop
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        await Station(config, on_hub_ready=hub_ready).run(stop)

    daemon = threading.Thread(target=asyncio.run, args=(run(),))
    daemon.start()
    try:
        assert ready.wait(20)
        bob = LineClient.connect(ports[0], "bob")
        board.wait_for_text(" on", timeout=20)  # the station's status row: the link is up
        board.press()
        bob.expect_line("* pi is talking")
        board.stop()  # unplugged, button still down
        bob.expect_line("* pi is over")
        bob.send("/talk")
        bob.expect_line("* bob is talking")
    finally:
        board.stop()
        if loop is not None and stop is not None:
            loop.call_soon_threadsafe(stop.set)
        daemon.join(20)
