"""The hub under faults: SIGKILLed and restarted twice while three walkie
clients stream lines, a third and two thirds of the way through (every line
arrives exactly once, in order); and a thousand clients connecting at the same
moment (all are served, every line relayed, nobody hangs)."""

from __future__ import annotations

import asyncio
import re
import socket
import struct
import threading
import time
from collections.abc import Callable

from support.clients import PipeClient, Probe
from support.hub import HubProcess, LineClient
from support.waiting import DEADLINE, wait_until

SENDERS = 3
LINES_PER_SENDER = 300
SEND_INTERVAL = 0.004
"""Seconds between one sender's lines: a steady stream while the hub dies."""
KILLS = 2
DOWN_FOR = 0.3
"""Seconds the hub stays dead before it is restarted on the same port and history."""
CROWD = 1000
CONNECT_TIMEOUT = 60.0
_CHAT = re.compile(r"^<(\w+)> (\w+)-(\d+)$")


class Feeder:
    """Writes one sender's numbered lines to its stdin at a steady pace."""

    def __init__(self, client: PipeClient, nick: str) -> None:
        self.sent = 0
        self._thread = threading.Thread(target=self._run, args=(client, nick), daemon=True)
        self._thread.start()

    def _run(self, client: PipeClient, nick: str) -> None:
        for number in range(1, LINES_PER_SENDER + 1):
            client.send(f"{nick}-{number}")
            self.sent = number
            time.sleep(SEND_INTERVAL)

    def join(self) -> None:
        self._thread.join(DEADLINE)
        assert not self._thread.is_alive()


def numbers_by_sender(lines: list[str]) -> dict[str, list[int]]:
    """The numbers each sender's lines carried, in the order they arrived."""
    received: dict[str, list[int]] = {}
    for line in lines:
        match = _CHAT.match(line)
        if match and match[1] == match[2]:
            received.setdefault(match[1], []).append(int(match[3]))
    return received


def test_a_hub_killed_twice_under_load_loses_and_duplicates_nothing(
    start_hub: Callable[..., HubProcess],
) -> None:
    hub = start_hub("--max-rate", "0")
    probe = Probe(hub.port)
    probe.say("/nick probe")  # a member at once, so it sees every join
    probe.reader.wait_until(lambda line: line.endswith("is now probe"))
    nicks = [f"s{n}" for n in range(SENDERS)]
    listener = PipeClient(hub.address, "--nick", "listener")
    senders = [PipeClient(hub.address, "--nick", nick) for nick in nicks]
    try:
        for nick in ["listener", *nicks]:
            probe.wait_for(f"* {nick} joined…")
        probe.close()
        feeders = [Feeder(client, nick) for client, nick in zip(senders, nicks, strict=True)]
        for kill in range(1, KILLS + 1):
            wait_until(
                lambda kill=kill: (
                    min(f.sent for f in feeders) >= kill * LINES_PER_SENDER // (KILLS + 1)
                ),
                "the senders to get going",
            )
            hub.kill()  # SIGKILL mid-stream: lines unsent, unacked, stored but not relayed
            time.sleep(DOWN_FOR)
            hub.start()  # same port, same history file
        for feeder in feeders:
            feeder.join()
        for sender in senders:
            assert sender.finish() == 0, "a sender could not deliver every line"
        for nick in nicks:
            listener.stdout.wait_for(f"<{nick}> {nick}-{LINES_PER_SENDER}")
        assert listener.finish() == 0
        received = numbers_by_sender(listener.stdout.rest())
        expected = list(range(1, LINES_PER_SENDER + 1))
        for nick in nicks:
            assert received[nick] == expected, f"{nick}'s lines lost, doubled or reordered"
    finally:
        for client in [listener, *senders]:
            client.kill()


async def _crowd(port: int) -> tuple[int, list[str]]:
    """CROWD connections opened at once; each says one line; one listener hears them."""
    listener_reader, listener_writer = await asyncio.open_connection("127.0.0.1", port)
    listener_writer.write(b"/nick listener\n")
    await listener_writer.drain()

    async def one(number: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        welcome = await reader.readline()
        assert welcome.startswith(b"* welcome"), welcome
        return reader, writer

    connections = await asyncio.gather(*(one(number) for number in range(CROWD)))
    for number, (_, writer) in enumerate(connections):
        writer.write(f"hello from {number}\n".encode())
    heard: list[str] = []
    while len(heard) < CROWD:
        line = (await listener_reader.readline()).decode()
        if not line:
            break
        if line.startswith("<"):
            heard.append(line.split("> ", 1)[1].rstrip("\n"))
    served = 0
    for reader, writer in connections:
        writer.write(b"/quit\n")
        served += (await reader.read()).count(b"* bye")  # answered and closed: not hung
        writer.close()
    listener_writer.close()
    return served, heard


def test_a_thousand_clients_connecting_at_once_are_all_served(
    start_hub: Callable[..., HubProcess],
) -> None:
    hub = start_hub("--max-rate", "0")
    served, heard = asyncio.run(asyncio.wait_for(_crowd(hub.port), CONNECT_TIMEOUT))
    assert sorted(heard) == sorted(f"hello from {number}" for number in range(CROWD))
    assert served == CROWD
    assert hub.process.poll() is None, "the hub died"


def test_stations_resetting_their_connections_mid_stream_cost_the_others_nothing(
    start_hub: Callable[..., HubProcess],
) -> None:
    hub = start_hub("--max-rate", "0")
    listener = LineClient.connect(hub.port, "listener")
    doomed = [LineClient.connect(hub.port, f"doomed{number}") for number in range(20)]
    talker = LineClient.connect(hub.port, "talker")
    lines = 2000
    for number in range(lines):
        talker.send(f"line {number}")
        if number % 100 == 50:  # a connection reset (RST) while lines are flowing to it
            station = doomed[number // 100]
            station.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            station.sock.close()
    talker.send("done")
    listener.expect_line("<talker> done")
    heard = [line for line in listener.received if line.startswith("<talker> line ")]
    assert heard == [f"<talker> line {number}" for number in range(lines)]

    def left() -> set[str]:
        return {line for line in listener.received if line.startswith("* doomed")}

    while len(left()) < 20:  # a reset may be noticed after the last line
        listener.expect(lambda line: line.startswith("* doomed"))
    assert left() == {f"* doomed{number} left" for number in range(20)}
    talker.send("/who")
    talker.expect(lambda line: line.startswith("* 2 on the channel"))
    assert hub.process.poll() is None, "the hub died"
