"""Writing one chunk to many stations at once, on real sockets.

Each station is a connected socket pair: the hub writes on a non-blocking end,
the test reads what the station would receive on the other. A station that
does not read is simulated by a small send buffer filled up first.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Literal

import pytest

from walkie.channel.fanout import MemberGroup, write_each

Kind = Literal["unix", "tcp"]
LINE = b"<ann> hello, everyone\n"
BIG = bytes(i % 251 for i in range(64 * 1024))
"""More than a small send buffer takes at once, less than a default one."""
SMALL_BUFFER = 4096
READ_TIMEOUT = 10.0
"""Only so that a broken test fails instead of hanging; never reached when green."""


@dataclass
class Station:
    writer: socket.socket
    """The hub's end: non-blocking."""
    reader: socket.socket
    """The station's end."""
    filled: bytes = b""
    """What was written first to fill the send buffer."""

    @property
    def fd(self) -> int:
        return self.writer.fileno()

    def receive(self, size: int) -> bytes:
        """Exactly ``size`` bytes that reached the station."""
        data = bytearray()
        while len(data) < size:
            piece = self.reader.recv(size - len(data))
            assert piece, "the connection ended early"
            data += piece
        return bytes(data)

    def receive_after_filler(self, size: int) -> bytes:
        """The ``size`` bytes after the filler (which must arrive unchanged)."""
        assert self.receive(len(self.filled)) == self.filled
        return self.receive(size)

    def drain(self) -> bytes:
        """Everything that has reached a Unix-socket station so far."""
        data = bytearray()
        self.reader.setblocking(False)
        try:
            while piece := self.reader.recv(1 << 20):
                data += piece
        except BlockingIOError:
            pass
        finally:
            self.reader.settimeout(READ_TIMEOUT)
        return bytes(data)

    def fill(self) -> None:
        """Write until the socket takes no more, as if the station stopped reading."""
        piece = b"\0" * 1024
        written = bytearray()
        while True:
            try:
                count = self.writer.send(piece)
            except BlockingIOError:
                break
            written += piece[:count]
        self.filled = bytes(written)


class Stations:
    def __init__(self, stack: ExitStack) -> None:
        self._stack = stack

    def open(self, kind: Kind = "unix", *, small_buffer: bool = False) -> Station:
        if kind == "unix":
            writer, reader = socket.socketpair()
            self._stack.enter_context(writer)
            self._stack.enter_context(reader)
        else:
            server = self._stack.enter_context(socket.create_server(("127.0.0.1", 0)))
            if small_buffer:
                server.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SMALL_BUFFER)
            writer = self._stack.enter_context(socket.create_connection(server.getsockname()))
            reader = self._stack.enter_context(server.accept()[0])
        if small_buffer:
            writer.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SMALL_BUFFER)
        writer.setblocking(False)
        reader.settimeout(READ_TIMEOUT)
        return Station(writer, reader)


@pytest.fixture
def stations() -> Iterator[Stations]:
    with ExitStack() as stack:
        yield Stations(stack)


# -- write_each ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["unix", "tcp"])
def test_every_station_gets_the_whole_chunk_and_none_is_reported(
    stations: Stations, kind: Kind
) -> None:
    group = [stations.open(kind) for _ in range(3)]

    assert write_each([s.fd for s in group], LINE) == []
    for station in group:
        assert station.receive(len(LINE)) == LINE


def test_writing_to_no_station_reports_nothing() -> None:
    assert write_each([], LINE) == []


@pytest.mark.parametrize("kind", ["unix", "tcp"])
@pytest.mark.parametrize("full_at", [0, 1, 2])
def test_a_station_not_reading_is_reported_by_position_and_the_others_still_get_the_chunk(
    stations: Stations, kind: Kind, full_at: int
) -> None:
    group = [stations.open(kind, small_buffer=i == full_at) for i in range(3)]
    full = group[full_at]
    full.fill()

    shortfall = write_each([s.fd for s in group], LINE)

    assert [index for index, _ in shortfall] == [full_at]
    written = shortfall[0][1]
    assert written < len(LINE)
    if kind == "unix":
        assert written == 0  # a full Unix socket stays full until its peer reads
    assert full.receive_after_filler(written) == LINE[:written]
    for station in group:
        if station is not full:
            assert station.receive(len(LINE)) == LINE


@pytest.mark.parametrize("kind", ["unix", "tcp"])
def test_a_chunk_larger_than_the_send_buffer_is_reported_as_a_short_write(
    stations: Stations, kind: Kind
) -> None:
    roomy, tight = stations.open(kind), stations.open(kind, small_buffer=True)

    shortfall = write_each([roomy.fd, tight.fd], BIG)

    assert [index for index, _ in shortfall] == [1]
    written = shortfall[0][1]
    assert 0 < written < len(BIG)
    assert tight.receive(written) == BIG[:written]
    assert roomy.receive(len(BIG)) == BIG


@pytest.mark.parametrize(
    "pattern",
    [
        "x..",
        ".x.",
        "..x",
        "xx.",
        ".cx.",
        "c.x",
        "xxx",
    ],
)
def test_a_failed_write_reports_0_and_the_rest_still_get_the_chunk(
    stations: Stations, pattern: str
) -> None:
    """``.``: a station that reads; ``x``: one that hung up (the write fails
    with a broken pipe); ``c``: a socket the hub already closed (not an fd)."""
    group = [stations.open() for _ in pattern]
    fds = [s.fd for s in group]
    for station, what in zip(group, pattern, strict=True):
        if what == "x":
            station.reader.close()
        elif what == "c":
            station.writer.close()  # its fd number stays free: nothing opens one below

    shortfall = write_each(fds, LINE)

    assert shortfall == [(i, 0) for i, what in enumerate(pattern) if what != "."]
    for station, what in zip(group, pattern, strict=True):
        if what == ".":
            assert station.receive(len(LINE)) == LINE


# -- MemberGroup --------------------------------------------------------------------


@dataclass(eq=False)
class FakeMember:
    """A member as the hub sees it, recording what went the slow ways."""

    conn: int
    direct_fd: int | None
    sent: list[bytes] = field(default_factory=list)
    queued: list[bytes] = field(default_factory=list)

    def send(self, data: bytes) -> None:
        self.sent.append(data)

    def queue(self, data: bytes) -> None:
        self.queued.append(data)


@dataclass(eq=False)
class HubLikeMember(FakeMember):
    """Like the hub's connection: once something is queued, it is written only
    through its transport (``send``) so that its bytes stay in order."""

    group: MemberGroup | None = None

    def queue(self, data: bytes) -> None:
        super().queue(data)
        self.direct_fd = None
        assert self.group is not None
        self.group.changed()


def direct_member(conn: int, station: Station) -> FakeMember:
    return FakeMember(conn, station.fd)


def assert_nothing_arrived(station: Station) -> None:
    assert station.drain() == b""


def test_every_member_with_a_socket_gets_the_chunk_straight_on_it(stations: Stations) -> None:
    group = MemberGroup()
    pairs = [(stations.open(), conn) for conn in (10, 11, 12)]
    members = [direct_member(conn, station) for station, conn in pairs]
    for member in members:
        group.add(member)

    group.write(LINE, skip=())

    for station, _ in pairs:
        assert station.receive(len(LINE)) == LINE
    assert all(not m.sent and not m.queued for m in members)


def test_a_member_without_a_direct_socket_gets_the_chunk_through_send(
    stations: Stations,
) -> None:
    group = MemberGroup()
    station = stations.open()
    direct = direct_member(1, station)
    tls = FakeMember(2, direct_fd=None)
    group.add(direct)
    group.add(tls)

    group.write(LINE, skip=())

    assert tls.sent == [LINE]
    assert station.receive(len(LINE)) == LINE
    assert not direct.sent


def test_members_left_out_get_nothing_and_the_others_everything(stations: Stations) -> None:
    group = MemberGroup()
    first, middle, last = stations.open(), stations.open(), stations.open()
    members = {
        1: direct_member(1, first),
        2: direct_member(2, middle),
        3: direct_member(3, last),
        4: FakeMember(4, direct_fd=None),
        5: FakeMember(5, direct_fd=None),
    }
    for member in members.values():
        group.add(member)

    group.write(LINE, skip={2: b"own chunk", 4: b"own chunk", 99: b"not a member"})

    assert first.receive(len(LINE)) == LINE
    assert last.receive(len(LINE)) == LINE
    assert_nothing_arrived(middle)
    assert members[4].sent == []
    assert members[5].sent == [LINE]
    # The next chunk, with nobody left out, reaches everyone again.
    group.write(LINE, skip=())
    assert middle.receive(len(LINE)) == LINE
    assert members[4].sent == [LINE]


@pytest.mark.parametrize("filled", [False, True], ids=["short-write", "nothing-written"])
def test_what_a_socket_does_not_take_is_queued_for_that_member_only(
    stations: Stations, filled: bool
) -> None:
    group = MemberGroup()
    roomy, tight = stations.open(), stations.open(small_buffer=True)
    if filled:
        tight.fill()
    reading, stalled = direct_member(1, roomy), direct_member(2, tight)
    group.add(reading)
    group.add(stalled)

    group.write(BIG, skip=())

    assert roomy.receive(len(BIG)) == BIG
    assert not reading.queued
    on_socket = tight.drain()[len(tight.filled) :]
    assert bool(on_socket) is not filled
    assert on_socket + b"".join(stalled.queued) == BIG
    assert len(stalled.queued) == 1
    assert not stalled.sent


def test_a_member_whose_socket_filled_up_gets_the_next_chunks_in_order(
    stations: Stations,
) -> None:
    group = MemberGroup()
    station = stations.open(small_buffer=True)
    member = HubLikeMember(1, station.fd, group=group)
    group.add(member)

    group.write(BIG, skip=())
    group.write(LINE, skip=())

    assert member.direct_fd is None
    on_socket = station.drain()
    assert on_socket
    assert on_socket + b"".join(member.queued) + b"".join(member.sent) == BIG + LINE
    assert member.sent == [LINE]


def test_after_changed_a_member_goes_through_send_or_back_to_its_socket(
    stations: Stations,
) -> None:
    group = MemberGroup()
    station = stations.open()
    member = direct_member(1, station)
    group.add(member)

    member.direct_fd = None
    group.changed()
    group.write(b"queued behind\n", skip=())
    assert member.sent == [b"queued behind\n"]
    assert_nothing_arrived(station)

    member.direct_fd = station.fd
    group.changed()
    group.write(LINE, skip=())
    assert station.receive(len(LINE)) == LINE
    assert member.sent == [b"queued behind\n"]


def test_after_changed_a_member_left_out_stays_left_out_whichever_way_it_is_written(
    stations: Stations,
) -> None:
    group = MemberGroup()
    station, other = stations.open(), stations.open()
    member, bystander = direct_member(1, station), direct_member(2, other)
    group.add(member)
    group.add(bystander)

    member.direct_fd = None
    group.changed()
    group.write(LINE, skip={1})

    assert member.sent == []
    assert_nothing_arrived(station)
    assert other.receive(len(LINE)) == LINE


def test_a_member_added_after_a_chunk_gets_the_next_one(stations: Stations) -> None:
    group = MemberGroup()
    early, late = stations.open(), stations.open()
    group.add(direct_member(1, early))
    group.write(LINE, skip=())
    late_indirect = FakeMember(3, direct_fd=None)
    group.add(direct_member(2, late))
    group.add(late_indirect)

    group.write(b"next\n", skip=())

    assert 2 in group and 3 in group
    assert early.receive(len(LINE) + 5) == LINE + b"next\n"
    assert late.receive(5) == b"next\n"
    assert_nothing_arrived(late)
    assert late_indirect.sent == [b"next\n"]


def test_a_removed_member_gets_nothing_more(stations: Stations) -> None:
    group = MemberGroup()
    staying, leaving = stations.open(), stations.open()
    group.add(direct_member(1, staying))
    indirect = FakeMember(3, direct_fd=None)
    group.add(indirect)
    group.add(direct_member(2, leaving))
    group.write(LINE, skip=())

    group.remove(2)
    group.remove(3)
    group.remove(42)  # never a member: nothing happens
    group.write(b"after\n", skip=())

    assert 2 not in group and 3 not in group and 1 in group
    assert staying.receive(len(LINE) + 6) == LINE + b"after\n"
    assert leaving.receive(len(LINE)) == LINE
    assert_nothing_arrived(leaving)
    assert indirect.sent == [LINE]
