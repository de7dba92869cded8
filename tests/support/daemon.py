"""Test support: the Pi station daemon in-process, on its own thread and loop,
against a board in the simulator."""

from __future__ import annotations

import asyncio
from pathlib import Path

from support.loop_thread import LoopThread
from walkie.sim.board import BoardSimulator
from walkie.station.config import PttConfig, SerialConfig, ServerConfig, StationConfig
from walkie.station.daemon import Station


class StationThread(LoopThread):
    """A :class:`Station` in the server role, serving ``board``; :meth:`start`
    gives the port of its hub, :meth:`stop` stops it as systemd would."""

    def __init__(self, board: BoardSimulator, history_db: Path, *, hold_time: float) -> None:
        super().__init__()
        self.config = StationConfig(
            server=ServerConfig(port=0, history_db=history_db),
            serial=SerialConfig(port=board.port),
            ptt=PttConfig(hold_time=hold_time),
        )

    async def serve(self, stop: asyncio.Event) -> None:
        await Station(self.config, on_hub_ready=lambda hub: self.serving(hub.port)).run(stop)
