"""One loop iteration's output: what each station receives, and in what order.

No sockets here: each test hands broadcasts, sends and mode changes to an
:class:`OutputBatch` the way the hub does, then delivers what
:meth:`OutputBatch.take` gives the way the hub's ``flush`` does (``own`` to the
stations in it, the mode's chunk to every other member).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import count

from hypothesis import given, settings
from hypothesis import strategies as st

from walkie.channel.batch import PLAIN, RICH, Mode, OutputBatch, ReadyOutput
from walkie.channel.state import Broadcast


def delivered(ready: ReadyOutput, conn: int, mode: Mode | None) -> bytes:
    """What the hub writes to ``conn`` (whose mode is now ``mode``) for ``ready``."""
    if conn in ready.own:
        return ready.own[conn]
    if mode == PLAIN:
        return ready.plain
    if mode == RICH:
        return ready.rich
    return b""


def test_a_station_left_out_of_a_broadcast_gets_every_other_line() -> None:
    batch = OutputBatch()
    batch.broadcast(Broadcast(b"* ann joined\n", None))
    batch.broadcast(Broadcast(b"<ann> hi\n", b'{"t":"msg"}\n', exclude=3))
    batch.broadcast(Broadcast(b"<bob> hello\n", b'{"t":"msg2"}\n'))
    modes = {3: PLAIN, 4: PLAIN}
    ready = batch.take(modes.get)

    assert delivered(ready, 3, PLAIN) == b"* ann joined\n<bob> hello\n"
    assert delivered(ready, 4, PLAIN) == b"* ann joined\n<ann> hi\n<bob> hello\n"


def test_a_station_that_is_not_a_member_yet_gets_only_what_was_sent_to_it() -> None:
    batch = OutputBatch()
    batch.broadcast(Broadcast(b"* ann joined\n", b'{"t":"join"}\n'))
    batch.send(7, b"* welcome\n", mode=None)
    batch.broadcast(Broadcast(b"<ann> hi\n", b'{"t":"msg"}\n'))
    no_members: dict[int, Mode] = {}
    ready = batch.take(no_members.get)

    assert delivered(ready, 7, None) == b"* welcome\n"


def test_a_stations_own_notice_arrives_between_the_broadcasts_around_it() -> None:
    batch = OutputBatch()
    batch.broadcast(Broadcast(b"<ann> one\n", None))
    batch.send(2, b"* floor is yours\n", mode=PLAIN)
    batch.broadcast(Broadcast(b"<ann> two\n", None))
    ready = batch.take({1: PLAIN, 2: PLAIN}.get)

    assert delivered(ready, 2, PLAIN) == b"<ann> one\n* floor is yours\n<ann> two\n"
    assert delivered(ready, 1, PLAIN) == b"<ann> one\n<ann> two\n"


def test_a_station_that_joins_mid_iteration_gets_nothing_from_before_it_joined() -> None:
    batch = OutputBatch()
    batch.broadcast(Broadcast(b"<ann> before\n", b'{"n":1}\n'))
    batch.change_mode(5, None, RICH)
    batch.broadcast(Broadcast(b"<ann> after\n", b'{"n":2}\n'))
    ready = batch.take({5: RICH}.get)

    assert delivered(ready, 5, RICH) == b'{"n":2}\n'


def test_a_station_switching_to_rich_gets_plain_lines_before_the_switch_and_rich_after() -> None:
    batch = OutputBatch()
    batch.broadcast(Broadcast(b"<ann> one\n", b'{"n":1}\n'))
    batch.change_mode(4, PLAIN, RICH)
    batch.broadcast(Broadcast(b"<ann> two\n", b'{"n":2}\n'))
    ready = batch.take({4: RICH}.get)

    assert delivered(ready, 4, RICH) == b'<ann> one\n{"n":2}\n'


def test_a_station_hung_up_gets_everything_so_far_at_once_and_nothing_later() -> None:
    batch = OutputBatch()
    batch.broadcast(Broadcast(b"<ann> one\n", None))
    batch.send(2, b"* bye\n", mode=PLAIN)
    last_words = batch.take_own(2, PLAIN)
    batch.broadcast(Broadcast(b"* bob left\n", None))
    ready = batch.take({1: PLAIN}.get)  # 2 is no longer a member

    assert last_words == b"<ann> one\n* bye\n"
    assert delivered(ready, 2, None) == b""
    assert delivered(ready, 1, PLAIN) == b"<ann> one\n* bob left\n"


def test_a_broadcast_with_nothing_for_a_mode_sends_that_mode_nothing() -> None:
    batch = OutputBatch()
    batch.broadcast(Broadcast(b"* plain only\n", None))
    batch.broadcast(Broadcast(None, b'{"t":"rich only"}\n', exclude=2))
    ready = batch.take({1: PLAIN, 2: RICH, 3: RICH}.get)

    assert delivered(ready, 1, PLAIN) == b"* plain only\n"
    assert delivered(ready, 2, RICH) == b""
    assert delivered(ready, 3, RICH) == b'{"t":"rich only"}\n'


def test_stations_nothing_happened_to_share_one_chunk_per_mode() -> None:
    batch = OutputBatch()
    batch.broadcast(Broadcast(b"<ann> one\n", b'{"n":1}\n'))
    batch.broadcast(Broadcast(b"<ann> two\n", b'{"n":2}\n'))
    ready = batch.take({1: PLAIN, 2: RICH}.get)

    assert ready == ReadyOutput(
        b"<ann> one\n<ann> two\n", b'{"n":1}\n{"n":2}\n', own={}, ahead=frozenset()
    )


def test_taking_the_output_starts_the_next_iteration_afresh() -> None:
    batch = OutputBatch()
    assert not batch
    batch.broadcast(Broadcast(b"<ann> one\n", None, exclude=1))
    batch.send(2, b"* notice\n", mode=PLAIN)
    assert batch
    batch.take({1: PLAIN, 2: PLAIN}.get)

    assert not batch
    batch.broadcast(Broadcast(b"<ann> two\n", None))
    ready = batch.take({1: PLAIN, 2: PLAIN}.get)
    assert ready == ReadyOutput(b"<ann> two\n", b"", own={}, ahead=frozenset())


def test_a_welcome_goes_out_before_the_others_hear_of_the_join() -> None:
    batch = OutputBatch()
    batch.send(7, b"* welcome\n", mode=None)
    batch.change_mode(7, None, PLAIN)
    batch.broadcast(Broadcast(b"* ann joined\n", None))
    ready = batch.take({1: PLAIN, 7: PLAIN}.get)

    assert ready.ahead == {7}
    assert delivered(ready, 7, PLAIN) == b"* welcome\n* ann joined\n"


def test_an_acknowledgement_goes_out_after_the_message_went_to_everyone() -> None:
    batch = OutputBatch()
    batch.broadcast(Broadcast(b"<ann> hi\n", b'{"t":"msg"}\n', exclude=3))
    batch.send(3, b'{"t":"ack"}\n', mode=RICH)
    ready = batch.take({1: PLAIN, 3: RICH}.get)

    assert ready.ahead == frozenset()
    assert ready.own == {3: b'{"t":"ack"}\n'}


# -- the property: every station sees the channel's order ---------------------------

STATIONS = (1, 2, 3, 4)
MODES: tuple[Mode | None, ...] = (None, PLAIN, RICH)


@dataclass(frozen=True)
class BroadcastOp:
    plain: bool
    rich: bool
    exclude: int | None


@dataclass(frozen=True)
class SendOp:
    conn: int


@dataclass(frozen=True)
class ModeOp:
    conn: int
    after: Mode | None


@dataclass(frozen=True)
class HangUpOp:
    conn: int


@dataclass(frozen=True)
class FlushOp:
    pass


Op = BroadcastOp | SendOp | ModeOp | HangUpOp | FlushOp

stations = st.sampled_from(STATIONS)
operations = st.one_of(
    st.builds(BroadcastOp, st.booleans(), st.booleans(), st.none() | stations),
    st.builds(SendOp, stations),
    st.builds(ModeOp, stations, st.sampled_from(MODES)),
    st.builds(HangUpOp, stations),
    st.just(FlushOp()),
)


@dataclass
class Reference:
    """The simple model: each output appended, in order, to the list of every
    station that should receive it."""

    modes: dict[int, Mode | None]
    hung_up: set[int] = field(default_factory=set)
    pending: dict[int, list[bytes]] = field(default_factory=dict)
    touched: set[int] = field(default_factory=set)
    """Stations sent to, moved, hung up or left out in this iteration."""
    ahead: set[int] = field(default_factory=set)
    """Those of them touched before the iteration's first broadcast."""
    broadcast_yet: bool = False

    def touch(self, conn: int) -> None:
        if conn not in self.touched and not self.broadcast_yet:
            self.ahead.add(conn)
        self.touched.add(conn)

    def __post_init__(self) -> None:
        self.pending = {conn: [] for conn in self.modes}

    def expect(self, conn: int) -> bytes:
        data = b"".join(self.pending[conn])
        self.pending[conn].clear()
        return data


@settings(max_examples=400, deadline=None)
@given(
    initial=st.tuples(*(st.sampled_from(MODES) for _ in STATIONS)),
    ops=st.lists(operations, max_size=40),
)
def test_each_station_receives_exactly_its_outputs_in_the_channels_order(
    initial: tuple[Mode | None, ...], ops: list[Op]
) -> None:
    ref = Reference(dict(zip(STATIONS, initial, strict=True)))
    batch = OutputBatch()
    labels = count()

    def flush() -> None:
        ready = batch.take(ref.modes.get)
        assert set(ready.own) <= ref.touched, "an untouched station was given its own chunk"
        assert ready.ahead == ref.ahead, "own bytes written out of order with the shared ones"
        for conn in STATIONS:
            got = delivered(ready, conn, ref.modes[conn])
            assert got == ref.expect(conn), f"station {conn}"
        ref.touched.clear()
        ref.ahead.clear()
        ref.broadcast_yet = False
        assert not batch

    for op in ops:
        n = next(labels)
        if isinstance(op, BroadcastOp):
            plain = f"p{n}({op.exclude});".encode() if op.plain else None
            rich = f"r{n}({op.exclude});".encode() if op.rich else None
            batch.broadcast(Broadcast(plain, rich, op.exclude))
            ref.broadcast_yet = True
            if op.exclude is not None:
                ref.touch(op.exclude)
            for conn, mode in ref.modes.items():
                data = rich if mode == RICH else plain if mode == PLAIN else None
                if data is not None and conn != op.exclude:
                    ref.pending[conn].append(data)
        elif isinstance(op, FlushOp):
            flush()
        elif op.conn in ref.hung_up:
            continue  # the hub has closed it: no more sends or mode changes
        elif isinstance(op, SendOp):
            data = f"s{n}>{op.conn};".encode()
            batch.send(op.conn, data, ref.modes[op.conn])
            ref.touch(op.conn)
            ref.pending[op.conn].append(data)
        elif isinstance(op, ModeOp):
            batch.change_mode(op.conn, ref.modes[op.conn], op.after)
            ref.touch(op.conn)
            ref.modes[op.conn] = op.after
        else:
            assert batch.take_own(op.conn, ref.modes[op.conn]) == ref.expect(op.conn)
            ref.touch(op.conn)
            ref.hung_up.add(op.conn)
            ref.modes[op.conn] = None  # the hub takes it out of its group
    flush()
