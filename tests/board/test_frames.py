"""Properties of the frame codec: round trips, corruption, noise, bounded memory."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from walkie.board.frames import (
    MAX_ENCODED_BODY,
    MAX_FRAME_ON_WIRE,
    MAX_PAYLOAD,
    MAX_ROW_PIECE,
    PAYLOAD_LENGTHS,
    Frame,
    FrameDecoder,
    MessageType,
    RejectReason,
    cobs_decode,
    cobs_encode,
    decode_body,
    encode_frame,
)


@st.composite
def frames(draw: st.DrawFn) -> Frame:
    message_type = draw(st.sampled_from(list(MessageType)))
    if message_type is MessageType.ROW:
        offset = draw(st.integers(0, 80))
        data = draw(st.binary(max_size=MAX_ROW_PIECE))
        total = offset + len(data)
        if len(data) == MAX_ROW_PIECE:
            total = draw(st.integers(total, 255))
        header = bytes((draw(st.integers(0, 3)), draw(st.integers(0, 1)), total, offset))
        return Frame(message_type, draw(st.integers(0, 255)), header + data)
    low, high = PAYLOAD_LENGTHS[message_type]
    payload = draw(st.binary(min_size=low, max_size=high))
    return Frame(message_type, draw(st.integers(0, 255)), payload)


@given(st.binary(max_size=600))
def test_cobs_round_trips_and_never_emits_zero(data: bytes) -> None:
    encoded = cobs_encode(data)
    assert 0 not in encoded
    assert cobs_decode(encoded) == data


@given(frames())
def test_every_frame_round_trips_and_fits_the_avr_ring(frame: Frame) -> None:
    wire = encode_frame(frame)
    assert len(wire) <= MAX_FRAME_ON_WIRE < 64
    assert FrameDecoder().feed(wire) == [frame]


@given(st.lists(frames(), max_size=20), st.data())
def test_any_chunking_of_a_stream_gives_the_same_frames(
    sent: list[Frame], data: st.DataObject
) -> None:
    stream = b"".join(encode_frame(frame) for frame in sent)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=10)))
    decoder = FrameDecoder()
    received: list[Frame] = []
    for start, end in zip([0, *cuts], [*cuts, len(stream)], strict=True):
        received += decoder.feed(stream[start:end])
    assert received == sent


@given(frames(), st.data())
def test_a_corrupted_frame_is_never_accepted_as_a_different_frame(
    frame: Frame, data: st.DataObject
) -> None:
    wire = bytearray(encode_frame(frame))
    kind = data.draw(st.sampled_from(["flip", "drop", "insert", "burst"]))
    position = data.draw(st.integers(0, len(wire) - 1))
    if kind == "flip":
        wire[position] ^= 1 << data.draw(st.integers(0, 7))
    elif kind == "drop":
        del wire[position]
    elif kind == "insert":
        wire.insert(position, data.draw(st.integers(0, 255)))
    else:
        length = data.draw(st.integers(1, 16))
        for index in range(position, min(len(wire), position + length)):
            wire[index] ^= data.draw(st.integers(1, 255))
    received = FrameDecoder().feed(bytes(wire) + b"\x00")
    assert all(got == frame for got in received)


@settings(max_examples=300)
@given(st.lists(st.binary(max_size=300), max_size=30))
def test_noise_never_crashes_and_memory_stays_bounded(chunks: list[bytes]) -> None:
    decoder = FrameDecoder()
    for chunk in chunks:
        for frame in decoder.feed(chunk):
            low, high = PAYLOAD_LENGTHS[frame.type]
            assert low <= len(frame.payload) <= high <= MAX_PAYLOAD
        assert decoder.buffered <= MAX_ENCODED_BODY


@given(st.binary(max_size=300), frames())
def test_after_noise_and_a_delimiter_the_next_frame_decodes(noise: bytes, frame: Frame) -> None:
    decoder = FrameDecoder()
    decoder.feed(noise)
    assert decoder.feed(b"\x00" + encode_frame(frame)) == [frame]


def test_an_overlong_frame_is_dropped_whole_and_counted_once() -> None:
    decoder = FrameDecoder()
    assert decoder.feed(b"\x41" * 1000) == []
    assert decoder.buffered == 0
    heartbeat = Frame(MessageType.HEARTBEAT)
    assert decoder.feed(b"\x00" + encode_frame(heartbeat)) == [heartbeat]
    assert decoder.stats.rejected == {RejectReason.OVERFLOW: 1}


def test_a_frame_cannot_be_built_with_a_wrong_payload_length() -> None:
    for message_type, (low, high) in PAYLOAD_LENGTHS.items():
        for length in (low - 1, high + 1):
            if length >= 0:
                try:
                    Frame(message_type, 0, bytes(length))
                except ValueError:
                    continue
                raise AssertionError(f"{message_type.name} accepted {length} bytes")


def test_a_body_extended_by_a_zero_byte_is_rejected_although_its_crc_passes() -> None:
    frame = Frame(MessageType.ROW, 0, bytes((0, 0, 2, 0)) + b"hi")
    body = cobs_decode(encode_frame(frame)[:-1]) + b"\x00"
    assert decode_body(cobs_encode(body)) is RejectReason.BAD_LENGTH
