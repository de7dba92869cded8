"""The shared vectors in docs/serial-vectors.txt, checked against the codec and
against reference implementations written here independently of it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from walkie.board.frames import (
    MAX_FRAME_ON_WIRE,
    Frame,
    FrameDecoder,
    MessageType,
    crc16,
    encode_frame,
)

VECTORS = Path(__file__).resolve().parents[2] / "docs" / "serial-vectors.txt"


@dataclass(frozen=True)
class Vector:
    kind: str
    name: str
    fields: tuple[str, ...]


def hex_field(text: str) -> bytes:
    return b"" if text == "-" else bytes.fromhex(text)


def load_vectors() -> list[Vector]:
    vectors = []
    for line in VECTORS.read_text(encoding="ascii").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            kind, name, *fields = line.split(" ")
            vectors.append(Vector(kind, name, tuple(fields)))
    return vectors


ALL = load_vectors()


def of_kind(kind: str) -> list[Vector]:
    return [vector for vector in ALL if vector.kind == kind]


def ids(vectors: list[Vector]) -> list[str]:
    return [vector.name for vector in vectors]


def reference_crc(data: bytes) -> int:
    """Bit by bit, straight from the CRC-16/CCITT-FALSE definition."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def reference_cobs_decode(encoded: bytes) -> bytes | None:
    """COBS decoding as the firmware does it, byte by byte; None when invalid."""
    out = bytearray()
    index = 0
    while index < len(encoded):
        code = encoded[index]
        index += 1
        if code == 0:
            return None
        for _ in range(code - 1):
            if index >= len(encoded) or encoded[index] == 0:
                return None
            out.append(encoded[index])
            index += 1
        if code < 0xFF and index < len(encoded):
            out.append(0)
    return bytes(out)


def test_the_vector_file_has_every_kind_and_unique_names() -> None:
    assert {vector.kind for vector in ALL} == {"crc", "frame", "reject", "stream"}
    assert len(ids(ALL)) == len(set(ids(ALL)))


def test_the_crc_check_value_is_in_the_file() -> None:
    check = {vector.name: vector.fields for vector in of_kind("crc")}["check_123456789"]
    assert hex_field(check[0]) == b"123456789"
    assert check[1] == "29b1"


@pytest.mark.parametrize("vector", of_kind("crc"), ids=ids(of_kind("crc")))
def test_crc_vectors(vector: Vector) -> None:
    data, expected = hex_field(vector.fields[0]), int(vector.fields[1], 16)
    assert reference_crc(data) == expected
    assert crc16(data) == expected


@pytest.mark.parametrize("vector", of_kind("frame"), ids=ids(of_kind("frame")))
def test_frame_vectors_decode_and_encode(vector: Vector) -> None:
    wire_hex, type_hex, seq, payload_hex = vector.fields
    wire = bytes.fromhex(wire_hex)
    expected = Frame(MessageType(int(type_hex, 16)), int(seq), hex_field(payload_hex))
    assert wire[-1] == 0 and 0 not in wire[:-1]
    assert len(wire) <= MAX_FRAME_ON_WIRE
    assert FrameDecoder().feed(wire) == [expected]
    assert encode_frame(expected) == wire
    # Independently: the body decodes to type, seq, payload and a big-endian CRC.
    body = reference_cobs_decode(wire[:-1])
    assert body is not None
    assert body[:2] == bytes((expected.type, expected.seq))
    assert body[2:-2] == expected.payload
    assert int.from_bytes(body[-2:], "big") == reference_crc(body[:-2])


@pytest.mark.parametrize("vector", of_kind("reject"), ids=ids(of_kind("reject")))
def test_reject_vectors_yield_nothing_and_the_next_frame_survives(vector: Vector) -> None:
    wire = bytes.fromhex(vector.fields[0])
    follower = encode_frame(Frame(MessageType.ACK, 42))
    decoder = FrameDecoder()
    assert decoder.feed(wire) == []
    assert decoder.stats.rejected_total == 1
    assert decoder.feed(follower) == [Frame(MessageType.ACK, 42)]


@pytest.mark.parametrize("vector", of_kind("stream"), ids=ids(of_kind("stream")))
def test_stream_vectors_count_frames(vector: Vector) -> None:
    data, count = bytes.fromhex(vector.fields[0]), int(vector.fields[1])
    assert len(FrameDecoder().feed(data)) == count
    # Fed one byte at a time the result is the same.
    decoder = FrameDecoder()
    frames = [
        frame for index in range(len(data)) for frame in decoder.feed(data[index : index + 1])
    ]
    assert len(frames) == count


def test_there_is_a_frame_vector_for_every_message_type() -> None:
    types = {int(vector.fields[1], 16) for vector in of_kind("frame")}
    assert types == {int(message_type) for message_type in MessageType}
