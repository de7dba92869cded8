"""The hub's quick way for a read of one plain message (written at once, not
batched) keeps the order of everything the stations hear. The hub runs
in-process on real loopback sockets, and the test steps in between the
hub's callbacks where the network seldom lets a test be."""

from __future__ import annotations

import asyncio

from walkie.channel.history import History
from walkie.channel.server import Hub, HubConfig
from walkie.channel.state import Broadcast

DEADLINE = 10.0
"""Seconds for anything to arrive; nothing is timed."""


async def _joined(hub: Hub, nick: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", hub.port)
    writer.write(f"/nick {nick}\n".encode())
    await asyncio.wait_for(reader.readuntil(f"is now {nick}\n".encode()), DEADLINE)
    return reader, writer


async def _lines_until(reader: asyncio.StreamReader, last: bytes) -> list[bytes]:
    lines: list[bytes] = []
    while not lines or lines[-1] != last:
        lines.append(await asyncio.wait_for(reader.readline(), DEADLINE))
    return lines


async def _a_line_read_while_output_waits() -> list[bytes]:
    hub = Hub(HubConfig(port=0, max_rate=0), History(":memory:"))
    await hub.start()
    try:
        _, alice_writer = await _joined(hub, "alice")
        bob, bob_writer = await _joined(hub, "bob")
        alice = next(c for c in hub._connections.values() if hub.channel.nick_of(c.conn) == "alice")
        # Output caused outside a read (a station leaving, a floor timing
        # out) waits for the end of the loop iteration; a line alice sent is
        # read before that.
        hub.apply([Broadcast(b"* earlier\n", None)])
        line = b"later\n"
        hub.read_buffer[: len(line)] = line
        alice.buffer_updated(len(line))
        heard = await _lines_until(bob, b"<alice> later\n")
        for writer in (alice_writer, bob_writer):
            writer.close()
        return heard
    finally:
        hub.close()


def test_a_line_read_while_earlier_output_waits_is_heard_after_it() -> None:
    heard = asyncio.run(_a_line_read_while_output_waits())
    assert b"* earlier\n" in heard
    assert heard.index(b"* earlier\n") < heard.index(b"<alice> later\n")
