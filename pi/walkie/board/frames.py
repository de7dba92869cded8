"""The serial frame codec: COBS framing, CRC-16 and a bounded incremental decoder.

This module owns the byte level of docs/serial-protocol.md §1-§2: turning a
`Frame` (type, seq, payload) into wire bytes and a stream of wire bytes back
into frames. It is pure: no I/O, no clock. The decoder never holds more than
`MAX_ENCODED_BODY` bytes, resynchronises on every 0x00 and silently drops
(but counts) anything corrupt, overlong or malformed.

Example::

    wire = encode_frame(Frame(MessageType.HEARTBEAT, 0))
    decoder = FrameDecoder()
    assert decoder.feed(b"noise\\x00" + wire) == [Frame(MessageType.HEARTBEAT, 0)]
"""

from __future__ import annotations

import binascii
import enum
from dataclasses import dataclass, field

PROTOCOL_VERSION = 1
MAX_PAYLOAD = 56
HEADER_SIZE = 2  # type, seq
CRC_SIZE = 2
MIN_BODY = HEADER_SIZE + CRC_SIZE
MAX_BODY = HEADER_SIZE + MAX_PAYLOAD + CRC_SIZE  # 60
# COBS adds exactly one byte to bodies shorter than 255 bytes.
MAX_ENCODED_BODY = MAX_BODY + 1  # 61
MAX_FRAME_ON_WIRE = MAX_ENCODED_BODY + 1  # 62, with the 0x00 delimiter: fits the AVR's 64
DELIMITER = 0x00

ROW_HEADER_SIZE = 4  # row, flags, total, offset
MAX_ROW_PIECE = MAX_PAYLOAD - ROW_HEADER_SIZE  # 52
MAX_ROW_TEXT = 80
ROW_FLAG_MARQUEE = 0x01
INFO_FLAG_BOOT = 0x01


class MessageType(enum.IntEnum):
    """Message types of protocol version 1 (docs/serial-protocol.md §2)."""

    HELLO = 0x01
    INFO = 0x02
    HEARTBEAT = 0x03
    ACK = 0x04
    ROW = 0x10
    BUTTON = 0x20


# Allowed payload lengths per type, inclusive range.
PAYLOAD_LENGTHS: dict[MessageType, tuple[int, int]] = {
    MessageType.HELLO: (1, 1),
    MessageType.INFO: (7, 7),
    MessageType.HEARTBEAT: (0, 0),
    MessageType.ACK: (0, 0),
    MessageType.ROW: (ROW_HEADER_SIZE, MAX_PAYLOAD),
    MessageType.BUTTON: (3, 3),
}


@dataclass(frozen=True)
class Frame:
    """One decoded message: its type, sequence number and payload."""

    type: MessageType
    seq: int = 0
    payload: bytes = b""

    def __post_init__(self) -> None:
        if not 0 <= self.seq <= 0xFF:
            raise ValueError(f"seq out of range: {self.seq}")
        low, high = PAYLOAD_LENGTHS[self.type]
        if not low <= len(self.payload) <= high:
            raise ValueError(f"{self.type.name} payload must be {low}..{high} bytes")


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no xor-out)."""
    # binascii.crc_hqx is exactly this CRC when seeded with 0xFFFF, and runs in C.
    return binascii.crc_hqx(data, 0xFFFF)


def cobs_encode(data: bytes) -> bytes:
    """Consistent Overhead Byte Stuffing: the result contains no 0x00 byte."""
    out = bytearray()
    block = bytearray()
    for byte in data:
        if byte == 0:
            out.append(len(block) + 1)
            out += block
            block.clear()
        else:
            block.append(byte)
            if len(block) == 0xFE:
                out.append(0xFF)
                out += block
                block.clear()
    out.append(len(block) + 1)
    out += block
    return bytes(out)


class CobsError(ValueError):
    """The bytes are not a valid COBS encoding."""


def cobs_decode(encoded: bytes) -> bytes:
    """Invert `cobs_encode`; raise CobsError on a zero byte or a block past the end."""
    out = bytearray()
    index = 0
    length = len(encoded)
    while index < length:
        code = encoded[index]
        if code == 0:
            raise CobsError("zero byte inside a COBS block")
        end = index + code
        if end > length:
            raise CobsError("COBS block runs past the end")
        block = encoded[index + 1 : end]
        if 0 in block:
            raise CobsError("zero byte inside a COBS block")
        out += block
        index = end
        if code != 0xFF and index < length:
            out.append(0)
    return bytes(out)


def encode_frame(frame: Frame) -> bytes:
    """The wire bytes of one frame: COBS(type seq payload crc) followed by 0x00."""
    body = bytes((frame.type, frame.seq)) + frame.payload
    body += crc16(body).to_bytes(2, "big")
    return cobs_encode(body) + bytes((DELIMITER,))


class RejectReason(enum.Enum):
    """Why the decoder dropped the bytes before a delimiter."""

    OVERFLOW = "overflow"
    COBS = "cobs"
    SHORT = "short"
    CRC = "crc"
    UNKNOWN_TYPE = "unknown type"
    BAD_LENGTH = "bad payload length"


def decode_body(encoded: bytes) -> Frame | RejectReason:
    """Decode the bytes between two delimiters into a Frame, or say why not."""
    if len(encoded) > MAX_ENCODED_BODY:
        return RejectReason.OVERFLOW
    try:
        body = cobs_decode(encoded)
    except CobsError:
        return RejectReason.COBS
    if len(body) < MIN_BODY:
        return RejectReason.SHORT
    if crc16(body[:-CRC_SIZE]) != int.from_bytes(body[-CRC_SIZE:], "big"):
        return RejectReason.CRC
    try:
        message_type = MessageType(body[0])
    except ValueError:
        return RejectReason.UNKNOWN_TYPE
    payload = body[HEADER_SIZE:-CRC_SIZE]
    low, high = PAYLOAD_LENGTHS[message_type]
    if not low <= len(payload) <= high:
        return RejectReason.BAD_LENGTH
    if message_type is MessageType.ROW and not row_piece_length_ok(payload):
        return RejectReason.BAD_LENGTH
    return Frame(message_type, body[1], payload)


def row_piece_length_ok(payload: bytes) -> bool:
    """A ROW carries exactly min(total - offset, 52) data bytes.

    Why: with this CRC (no final xor), appending one 0x00 to any body keeps the
    CRC valid (the old CRC's first byte becomes data). Fixed-length types catch
    that by length; ROW catches it with this rule.
    """
    total, offset = payload[2], payload[3]
    data_length = len(payload) - ROW_HEADER_SIZE
    return offset <= total and data_length == min(total - offset, MAX_ROW_PIECE)


@dataclass
class DecoderStats:
    """Counts of what the decoder saw; for diagnostics and tests."""

    frames: int = 0
    empty: int = 0
    rejected: dict[RejectReason, int] = field(default_factory=dict)

    @property
    def rejected_total(self) -> int:
        return sum(self.rejected.values())


class FrameDecoder:
    """Incremental decoder: feed any chunks of bytes, get whole valid frames.

    Memory is bounded by `MAX_ENCODED_BODY`: past that, bytes are discarded
    until the next delimiter (the overflowed frame counts as one rejection).
    """

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._overflowed = False
        self.stats = DecoderStats()

    def reset(self) -> None:
        """Forget a half-received frame (for example after reopening the port)."""
        self._buffer.clear()
        self._overflowed = False

    @property
    def buffered(self) -> int:
        """How many bytes of an unfinished frame are held."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[Frame]:
        frames: list[Frame] = []
        start = 0
        while start <= len(data):
            end = data.find(DELIMITER, start)
            if end < 0:
                self._collect(data[start:])
                break
            self._collect(data[start:end])
            frame = self._finish()
            if frame is not None:
                frames.append(frame)
            start = end + 1
        return frames

    def _collect(self, chunk: bytes) -> None:
        if self._overflowed:
            return
        if len(self._buffer) + len(chunk) > MAX_ENCODED_BODY:
            self._buffer.clear()
            self._overflowed = True
            return
        self._buffer += chunk

    def _finish(self) -> Frame | None:
        if self._overflowed:
            self._overflowed = False
            self._reject(RejectReason.OVERFLOW)
            return None
        if not self._buffer:
            self.stats.empty += 1
            return None
        result = decode_body(bytes(self._buffer))
        self._buffer.clear()
        if isinstance(result, RejectReason):
            self._reject(result)
            return None
        self.stats.frames += 1
        return result

    def _reject(self, reason: RejectReason) -> None:
        self.stats.rejected[reason] = self.stats.rejected.get(reason, 0) + 1
