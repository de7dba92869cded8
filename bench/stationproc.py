"""The Pi station daemon as the LCD/PTT benchmark drives it, in its own process:
`walkie.station.daemon.Station` (the real daemon code) against the board
simulator (the real firmware in simavr, real time, 115200 baud) and mock GPIO,
like `walkie pi --simulate`, but reporting with timestamps and without the
terminal view's 20 ms settle delay.

Run as ``python -m bench.stationproc CONFIG``. It prints, one per line:

* ``port N`` once the hub listens;
* ``lcd T|row|row|`` at every LCD change, ``T`` being ``time.monotonic()``
  (system-wide on Linux) taken on the simulator's reader thread as the report
  arrives;
* ``pressed T`` / ``released T`` right before the simulated button is driven.

It reads ``press``, ``release`` and ``quit`` lines on stdin.
"""

from __future__ import annotations

import asyncio
import sys
import time
from dataclasses import replace
from pathlib import Path

from walkie import eventloop
from walkie.sim.board import BoardSimulator
from walkie.station.config import GpioConfig, load_config
from walkie.station.daemon import Station


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def _main(config_path: Path) -> None:
    from gpiozero.pins.mock import MockFactory

    loop = asyncio.get_running_loop()
    config = load_config(config_path)

    def on_lcd(rows: tuple[str, ...]) -> None:  # the simulator's reader thread
        _say(f"lcd {time.monotonic():.6f}|" + "|".join(rows) + "|")

    simulator = BoardSimulator(realtime=True, on_lcd=on_lcd)
    await asyncio.to_thread(simulator.start)
    config = replace(
        config,
        gpio=GpioConfig(pin_factory=""),
        serial=replace(config.serial, port=simulator.port),
    )
    station = Station(
        config, pin_factory=MockFactory(), on_hub_ready=lambda hub: _say(f"port {hub.port}")
    )
    stop = asyncio.Event()
    commands: asyncio.Queue[str] = asyncio.Queue()

    def readable() -> None:
        line = sys.stdin.readline()
        commands.put_nowait(line.strip() if line else "quit")

    async def obey() -> None:
        while True:
            command = await commands.get()
            if command == "quit":
                stop.set()
                return
            if command == "press":
                _say(f"pressed {time.monotonic():.6f}")
                await asyncio.to_thread(simulator.press)
            elif command == "release":
                _say(f"released {time.monotonic():.6f}")
                await asyncio.to_thread(simulator.release)

    loop.add_reader(sys.stdin.fileno(), readable)
    worker = loop.create_task(obey())
    try:
        await station.run(stop)
    finally:
        loop.remove_reader(sys.stdin.fileno())
        worker.cancel()
        await asyncio.to_thread(simulator.stop)


if __name__ == "__main__":
    eventloop.run(_main(Path(sys.argv[1])))  # as `walkie pi` runs
