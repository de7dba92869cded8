"""ChannelConnection, the asyncio API the terminal client, pipe mode and the Pi station share,
used in-process against a real hub subprocess."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

from walkie.address import format_address, parse_address
from walkie.client.connection import ChannelConnection, DeliveryTimeout
from walkie.client.session import Busy, Event, Floor, LinkChanged, LinkState, Message
from walkie.errors import ConfigError, ConnectError

if TYPE_CHECKING:
    from support.hub import HubProcess as Hub

DEADLINE = 15.0


def run(coroutine: object) -> None:
    asyncio.run(asyncio.wait_for(coroutine, DEADLINE))  # type: ignore[arg-type]


class Recorder:
    """Collects events and lets a test wait for one."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._changed = asyncio.Event()

    def __call__(self, event: Event) -> None:
        self.events.append(event)
        self._changed.set()

    async def wait_for(self, wanted: Event | Callable[[Event], bool]) -> None:
        def seen() -> bool:
            if callable(wanted) and not isinstance(wanted, type):
                return any(wanted(event) for event in self.events)
            return wanted in self.events

        while not seen():
            self._changed.clear()
            await self._changed.wait()


def test_talk_over_busy_and_messages_arrive_as_events(hub: Hub) -> None:
    async def scenario() -> None:
        pi_events, laptop_events = Recorder(), Recorder()
        async with (
            ChannelConnection("127.0.0.1", hub.port, nick="pi", on_event=pi_events) as pi,
            ChannelConnection(
                "127.0.0.1", hub.port, nick="laptop", on_event=laptop_events
            ) as laptop,
        ):
            await pi.connect()
            await laptop.connect()
            assert pi.state is LinkState.CONNECTED
            assert await pi.talk()
            await laptop_events.wait_for(lambda e: isinstance(e, Floor) and e.holder == "pi")
            assert laptop.holder == "pi"
            await laptop.talk()
            await laptop_events.wait_for(Busy("pi"))
            await pi.send("on my way")
            await pi.wait_delivered(timeout=DEADLINE)
            await pi.over()
            await laptop_events.wait_for(Floor(None, None))
            (message,) = [e for e in laptop_events.events if isinstance(e, Message)]
            assert (message.nick, message.text, message.history) == ("pi", "on my way", False)
            assert set(laptop.stations) == {"pi", "laptop"}
        assert pi_events.events[-1] == LinkChanged(LinkState.CLOSED, "closed")

    run(scenario())


def test_a_line_sent_while_the_floor_is_busy_is_delivered_when_it_frees(hub: Hub) -> None:
    async def scenario() -> None:
        received = Recorder()
        async with (
            ChannelConnection("127.0.0.1", hub.port, nick="holder", on_event=received) as holder,
            ChannelConnection("127.0.0.1", hub.port, nick="waiter") as waiter,
        ):
            await holder.connect()
            await waiter.connect()
            await holder.talk()
            await waiter.wait_connected()
            while waiter.holder != "holder":
                await asyncio.sleep(0.01)
            await waiter.send("after you")
            with pytest.raises(DeliveryTimeout):
                await waiter.wait_delivered(timeout=0.2)  # queued at the hub, not delivered
            assert waiter.outbox[0].queued
            await holder.over()
            await waiter.wait_delivered(timeout=DEADLINE)
            while not any(isinstance(e, Message) for e in received.events):
                await asyncio.sleep(0.01)

    run(scenario())


def test_closing_goes_from_connected_to_closed_without_reconnecting_on_the_way(
    hub: Hub,
) -> None:
    async def scenario() -> None:
        events = Recorder()
        async with ChannelConnection("127.0.0.1", hub.port, nick="leaver", on_event=events) as conn:
            await conn.connect()
            connected = len(events.events)
        links = [e.state for e in events.events[connected:] if isinstance(e, LinkChanged)]
        assert links == [LinkState.CLOSED]

    run(scenario())


def test_lines_sent_before_the_first_connection_are_delivered_after_it(hub: Hub) -> None:
    async def scenario() -> None:
        async with ChannelConnection("127.0.0.1", hub.port) as conn:
            conn.send_nowait("early bird")
            conn.start()  # retries from the start: no error even if the hub were down
            await conn.wait_delivered(timeout=DEADLINE)

    run(scenario())


def test_connect_raises_a_one_line_error_when_refused() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]

        async def scenario() -> None:
            conn = ChannelConnection("127.0.0.1", port)
            with pytest.raises(ConnectError, match="connection refused"):
                await conn.connect()
            await conn.close()
            await conn.close()  # idempotent

        run(scenario())


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("hub", ("hub", 32000)),
        ("hub:4000", ("hub", 4000)),
        ("10.0.0.2:1", ("10.0.0.2", 1)),
        ("[::1]", ("::1", 32000)),
        ("[::1]:4000", ("::1", 4000)),
        ("fe80::1", ("fe80::1", 32000)),
    ],
)
def test_addresses(text: str, address: tuple[str, int]) -> None:
    assert parse_address(text) == address
    assert parse_address(format_address(*address)) == address  # as the logs show it


@pytest.mark.parametrize(
    "text", ["hub:0", "hub:65536", "hub:", "[::1]4000", "[]:1", ":4000", "http://hub:4000"]
)
def test_bad_addresses(text: str) -> None:
    with pytest.raises(ConfigError):
        parse_address(text)
