"""Property tests of the channel's parsers: whatever bytes or text a station
sends, the line splitter stays bounded and agrees with a plain reference, the
command parsers always answer with a command (never an exception), and
sanitised text carries no control, escape or bidirectional-override character."""

from __future__ import annotations

import itertools
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from walkie.channel import commands as cmd
from walkie.channel.lines import LineSplitter, LineTooLong
from walkie.text import sanitize

MAX_LINE = 40
"""Small, so that generated input crosses the limit often."""
EXAMPLES = 300
COMMAND_TYPES = (
    cmd.Say,
    cmd.Talk,
    cmd.Over,
    cmd.Nick,
    cmd.Who,
    cmd.HistoryRequest,
    cmd.Help,
    cmd.Quit,
    cmd.Ping,
    cmd.Hello,
    cmd.Resume,
    cmd.Invalid,
)
FORBIDDEN = (
    {chr(c) for c in range(0x20)}
    | {chr(c) for c in range(0x7F, 0xA0)}
    | {chr(c) for c in range(0x202A, 0x202F)}
    | {chr(c) for c in range(0x2066, 0x206A)}
)
"""What docs/protocol.md promises never to pass: C0, DEL, C1 (ESC among them),
bidirectional embeddings, overrides and isolates."""

# Bytes with many newlines, carriage returns and line-length edge cases.
stream_bytes = st.lists(
    st.one_of(
        st.binary(max_size=3 * MAX_LINE),
        st.sampled_from([b"\n", b"\r\n", b"\r", b"x" * MAX_LINE, b"y" * (MAX_LINE + 1)]),
    ),
    max_size=12,
).map(b"".join)
cuts = st.lists(st.integers(min_value=0, max_value=10_000), max_size=8)


def reference_lines(stream: bytes, max_line: int) -> list[bytes | LineTooLong]:
    """The lines a correct splitter yields: split on \\n, one \\r stripped, long ones refused;
    an unfinished tail yields only a refusal once it is already too long."""
    *complete, tail = stream.split(b"\n")
    out: list[bytes | LineTooLong] = []
    for line in complete:
        line = line.removesuffix(b"\r")
        out.append(LineTooLong(max_line) if len(line) > max_line else line)
    if len(tail) > max_line + 1:
        out.append(LineTooLong(max_line))
    return out


@settings(max_examples=EXAMPLES, deadline=None)
@given(stream=stream_bytes, cut_points=cuts)
def test_the_splitter_matches_the_reference_however_the_bytes_are_chunked(
    stream: bytes, cut_points: list[int]
) -> None:
    splitter = LineSplitter(MAX_LINE)
    edges = sorted({0, len(stream), *(c % (len(stream) + 1) for c in cut_points)})
    got: list[bytes | LineTooLong] = []
    for start, end in itertools.pairwise(edges):
        splitter.feed(stream[start:end])
        while (item := splitter.next_line()) is not None:
            got.append(item)
        # Bounded: after draining, at most one unfinished line plus a "\r" is kept.
        assert splitter.buffered <= MAX_LINE + 1
    assert got == reference_lines(stream, MAX_LINE)


@settings(max_examples=EXAMPLES, deadline=None)
@given(stream=stream_bytes)
def test_no_line_out_of_the_splitter_is_over_the_limit_or_holds_a_newline(stream: bytes) -> None:
    splitter = LineSplitter(MAX_LINE)
    splitter.feed(stream)
    while (item := splitter.next_line()) is not None:
        if isinstance(item, bytes):
            assert len(item) <= MAX_LINE
            assert b"\n" not in item


def drained(splitter: LineSplitter) -> list[bytes | LineTooLong]:
    items: list[bytes | LineTooLong] = []
    while (item := splitter.next_line()) is not None:
        items.append(item)
    return items


@settings(max_examples=EXAMPLES, deadline=None)
@given(before=stream_bytes, read=stream_bytes, after=stream_bytes)
def test_a_whole_line_is_what_feeding_the_read_would_give_and_changes_nothing(
    before: bytes, read: bytes, after: bytes
) -> None:
    looked, fed = LineSplitter(MAX_LINE), LineSplitter(MAX_LINE)
    for splitter in (looked, fed):
        splitter.feed(before)
        drained(splitter)
    line = looked.whole_line(memoryview(bytearray(read)))
    fed.feed(read)
    if line is None:
        looked.feed(read)
        assert drained(looked) == drained(fed)
    else:
        assert drained(fed) == [line]
        assert looked.buffered == fed.buffered == 0
    # Either way both go on alike: looking changed nothing.
    looked.feed(after)
    fed.feed(after)
    assert drained(looked) == drained(fed)


@settings(max_examples=EXAMPLES, deadline=None)
@given(
    line=st.binary(max_size=MAX_LINE).filter(lambda b: b"\n" not in b),
    ending=st.sampled_from([b"\n", b"\r\n"]),
)
def test_a_read_of_one_line_within_the_limit_is_a_whole_line(line: bytes, ending: bytes) -> None:
    expected = line.removesuffix(b"\r") if ending == b"\n" else line
    assert LineSplitter(MAX_LINE).whole_line(line + ending) == expected


@settings(max_examples=EXAMPLES, deadline=None)
@given(line=st.text())
def test_parse_plain_answers_every_line_with_a_command(line: str) -> None:
    command = cmd.parse_plain(line)
    assert isinstance(command, COMMAND_TYPES)
    if isinstance(command, cmd.Say):
        assert command.text in (line, line[1:])


ids = st.integers() | st.sampled_from([-1, 0, cmd.LARGEST_ID, cmd.LARGEST_ID + 1, 2**64])
"""Any integer, and the edges of what the history can store."""
json_values = st.recursive(
    st.none() | st.booleans() | ids | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=12,
)
rich_objects = st.fixed_dictionaries(
    {},
    optional={
        "t": st.sampled_from(
            ["msg", "talk", "over", "nick", "who", "history", "resume", "ping", "quit"]
        )
        | st.text(max_size=8),
        "after": json_values,
        "last": json_values,
        "id": json_values,
        "text": json_values,
        "nick": json_values,
        "n": json_values,
    },
)


@settings(max_examples=EXAMPLES, deadline=None)
@given(line=st.one_of(st.text(), rich_objects.map(json.dumps), json_values.map(json.dumps)))
def test_parse_rich_answers_every_line_with_a_command(line: str) -> None:
    command = cmd.parse_rich(line)
    assert isinstance(command, COMMAND_TYPES)
    if isinstance(command, cmd.Say):
        assert isinstance(command.text, str)
        assert isinstance(command.client_id, int) and 0 <= command.client_id <= cmd.LARGEST_ID
    if isinstance(command, cmd.Resume):
        assert 0 <= command.after <= cmd.LARGEST_ID
    if isinstance(command, cmd.HistoryRequest):
        assert 0 <= command.count <= cmd.HISTORY_MAX


@settings(max_examples=EXAMPLES, deadline=None)
@given(argument=st.one_of(st.text(), rich_objects.map(json.dumps), json_values.map(json.dumps)))
def test_parse_hello_answers_every_argument_with_hello_or_invalid(argument: str) -> None:
    command = cmd.parse_hello(argument)
    assert isinstance(command, cmd.Hello | cmd.Invalid)
    if isinstance(command, cmd.Hello):
        assert 0 <= command.history <= cmd.HISTORY_MAX
        assert command.last_seen is None or 0 <= command.last_seen <= cmd.LARGEST_ID


hostile_text = st.lists(
    st.one_of(
        st.characters(),
        st.sampled_from(sorted(FORBIDDEN)),
        st.sampled_from(["\x1b[", "\x1b]", "\x9b", "\x07", "\x1b\\", "m", "0", ";", "\t"]),
    ),
    max_size=40,
).map("".join)


@settings(max_examples=EXAMPLES * 3, deadline=None)
@given(text=hostile_text)
def test_sanitize_lets_no_control_escape_or_bidi_override_through(text: str) -> None:
    clean = sanitize(text)
    assert not FORBIDDEN & set(clean)
    assert len(clean) <= len(text)
    assert sanitize(clean) == clean


@settings(max_examples=EXAMPLES * 3, deadline=None)
@given(text=hostile_text)
def test_sanitized_text_is_printable(text: str) -> None:
    clean = sanitize(text)
    assert clean.replace("\u200d", "").isprintable()


@settings(max_examples=EXAMPLES, deadline=None)
@given(name=hostile_text)
def test_an_unknown_command_is_repeated_to_its_sender_without_escapes(name: str) -> None:
    command = cmd.parse_plain("/x" + name)
    if isinstance(command, cmd.Invalid):
        assert not FORBIDDEN & set(command.text)
