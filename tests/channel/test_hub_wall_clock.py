"""Message timestamps follow the wall clock when it is set while the hub runs,
as NTP does on a Raspberry Pi (it has no clock of its own) some time after the
service started. The hub runs in-process with the wall clock injected."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator

import pytest

from support.hub import LineClient
from support.loop_thread import LoopThread
from walkie.channel.history import History
from walkie.channel.server import Hub, HubConfig

A_DAY = 86_400.0


class SettableClock:
    """The wall clock, off by ``error`` seconds until someone sets it."""

    def __init__(self, error: float) -> None:
        self.error = error

    def __call__(self) -> float:
        return time.time() + self.error


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock(error=-A_DAY)  # a Pi booted with yesterday's saved time


class HubThread(LoopThread):
    """A hub reading the time from ``wall_clock``."""

    def __init__(self, wall_clock: SettableClock) -> None:
        super().__init__()
        self.wall_clock = wall_clock

    async def serve(self, stop: asyncio.Event) -> None:
        hub = Hub(HubConfig(port=0), History(":memory:"), wall_clock=self.wall_clock)
        await hub.start()
        self.serving(hub.port)
        await stop.wait()
        hub.close()


@pytest.fixture
def hub_port(clock: SettableClock) -> Iterator[int]:
    hub = HubThread(clock)
    yield hub.start()
    hub.stop()


def test_message_times_follow_the_clock_once_it_is_set(hub_port: int, clock: SettableClock) -> None:
    reader = LineClient.connect(hub_port)
    reader.send('/hello {"v": 1, "nick": "reader"}')
    reader.expect_json("welcome")
    alice = LineClient.connect(hub_port, "alice")

    alice.send("before the clock was set")
    before = reader.expect_json("msg")
    clock.error = 0.0  # NTP steps the clock forward a day
    alice.send("after")
    after = reader.expect_json("msg")

    assert abs(float(str(before["ts"])) - (time.time() - A_DAY)) < 3600
    assert abs(float(str(after["ts"])) - time.time()) < 3600
    reader.close()
    alice.close()


def test_the_floor_deadline_is_on_the_clock_as_set(hub_port: int, clock: SettableClock) -> None:
    reader = LineClient.connect(hub_port)
    reader.send('/hello {"v": 1, "nick": "reader"}')
    reader.expect_json("welcome")
    clock.error = 0.0
    alice = LineClient.connect(hub_port, "alice")
    alice.send("/talk")
    floor = reader.expect(lambda line: line.startswith("{") and '"holder":"alice"' in line)
    until = json.loads(floor)["until"]
    assert abs(until - (time.time() + HubConfig().floor_timeout)) < 3600
    reader.close()
    alice.close()
