"""The channel's quick way for the commonest line, :meth:`Channel.relay`: a
message from a plain member that goes out at once. It takes only such lines,
and no station can tell it is there: a channel using it and a twin with it
switched off answer every script of lines alike, byte for byte, and keep the
same history."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from walkie.channel.history import History
from walkie.channel.state import Broadcast, Channel, ChannelLimits

LIMITS = ChannelLimits(max_line=24, floor_timeout=1.0, max_queued=3)
"""Small, so that scripts cross every limit often."""
PLAIN_A, PLAIN_B, RICH, SILENT = 1, 2, 3, 4
WAIT = "wait"


def channel_with_stations() -> Channel:
    """alice and bob in plain mode, carol rich, and a fourth connection that has not joined."""
    channel = Channel(History(":memory:"), LIMITS)
    for conn in (PLAIN_A, PLAIN_B, RICH, SILENT):
        channel.connect(conn, 0.0)
    channel.receive(PLAIN_A, b"/nick alice", 0.0)
    channel.receive(PLAIN_B, b"/nick bob", 0.0)
    hello = {"v": 1, "nick": "carol", "session": "s1"}
    channel.receive(RICH, b"/hello " + json.dumps(hello).encode(), 0.0)
    return channel


def _never(conn: int, line: bytes, now: float) -> None:
    return None


def test_a_plain_members_message_is_relayed_to_everyone_but_its_sender() -> None:
    channel = channel_with_stations()
    relayed = channel.relay(PLAIN_A, "grüß dich".encode(), 1.0)
    assert isinstance(relayed, Broadcast)
    assert relayed.plain == "<alice> grüß dich\n".encode()
    assert relayed.exclude == PLAIN_A
    assert relayed.rich is not None and json.loads(relayed.rich)["text"] == "grüß dich"
    assert [m.text for m in channel.history.latest(5)] == ["grüß dich"]


def test_every_other_line_is_left_to_receive_untouched() -> None:
    channel = channel_with_stations()
    channel.receive(PLAIN_B, b"/talk", 0.0)
    refused = {
        "a command": (PLAIN_A, b"/who"),
        "a line while bob holds the floor": (PLAIN_A, b"may I?"),
        "a rich client's line": (RICH, b'{"t":"msg","id":1,"text":"hi"}'),
        "a connection that has not joined": (SILENT, b"hello"),
    }
    for what, (conn, line) in refused.items():
        assert channel.relay(conn, line, 0.5) is None, what
    channel.receive(PLAIN_B, b"/over", 0.5)
    for what, line in {
        "a blank line": b"   ",
        "an escape sequence": b"\x1b[31mred",
        "a tab": b"a\tb",
        "invalid UTF-8": b"\xff\xfe",
        "a line over the limit": b"x" * (LIMITS.max_line + 1),
        "a doubled slash": b"//not a command",
    }.items():
        assert channel.relay(PLAIN_A, line, 0.5) is None, what
    assert channel.history.latest(5) == []


plain_lines = st.one_of(
    st.sampled_from(
        [
            b"hello",
            b"",
            b"   ",
            b"/talk",
            b"/over",
            b"/who",
            b"/history 2",
            b"/nick dave",
            b"//slash",
            b"\x1b[1mbold",
            b"tab\there",
            "café".encode(),
            b"\xff",
            b"y" * LIMITS.max_line,
            b"z" * (LIMITS.max_line + 1),
        ]
    ),
    st.text(max_size=LIMITS.max_line + 2).map(str.encode),
    st.binary(max_size=8),
)
rich_lines = st.one_of(
    st.builds(
        lambda n, text: json.dumps({"t": "msg", "id": n, "text": text}).encode(),
        st.integers(1, 5),
        st.sampled_from(["hi", "", "a\tb"]),
    ),
    st.sampled_from([b'{"t":"talk"}', b'{"t":"over"}', b'{"t":"ping"}']),
)
steps = st.lists(
    st.one_of(
        st.tuples(st.sampled_from([PLAIN_A, PLAIN_B, SILENT]), plain_lines),
        st.tuples(st.just(RICH), rich_lines),
        st.tuples(st.just(0), st.just(WAIT)),
    ),
    max_size=25,
)


@settings(max_examples=300, deadline=None)
@given(script=steps)
def test_a_channel_answers_every_script_alike_with_or_without_relay(
    script: list[tuple[int, bytes | str]],
) -> None:
    quick = channel_with_stations()
    full = channel_with_stations()
    full.relay = _never  # type: ignore[method-assign]
    now = 0.0
    for conn, step in script:
        if isinstance(step, str):
            now += 0.4
            assert quick.tick(now) == full.tick(now)
        else:
            assert quick.receive(conn, step, now) == full.receive(conn, step, now), step
    assert quick.history.latest(100) == full.history.latest(100)
    assert (quick.nicks, quick.floor_holder) == (full.nicks, full.floor_holder)
