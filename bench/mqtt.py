"""Just enough MQTT 3.1.1 for the fan-out benchmark: CONNECT, SUBSCRIBE and
QoS 0 PUBLISH packets, and recognising CONNACK/SUBACK. Written by hand so the
load generator needs no MQTT library and does the same work for both servers."""

from __future__ import annotations

import struct

CONNECT = 0x10
CONNACK = 0x20
PUBLISH_QOS0 = 0x30
SUBSCRIBE = 0x82  # the type plus the 0b0010 flags the spec requires
SUBACK = 0x90
DISCONNECT = bytes((0xE0, 0x00))

PROTOCOL_LEVEL_311 = 4
CLEAN_SESSION = 0x02
KEEPALIVE_OFF = 0  # no PINGREQ needed during a run
MAX_REMAINING_LENGTH = 268_435_455


def _remaining_length(length: int) -> bytes:
    if not 0 <= length <= MAX_REMAINING_LENGTH:
        raise ValueError(f"MQTT remaining length out of range: {length}")
    out = bytearray()
    while True:
        digit, length = length % 128, length // 128
        out.append(digit | (0x80 if length else 0))
        if not length:
            return bytes(out)


def _string(text: bytes) -> bytes:
    return struct.pack("!H", len(text)) + text


def packet(first_byte: int, body: bytes) -> bytes:
    return bytes((first_byte,)) + _remaining_length(len(body)) + body


def connect(client_id: str) -> bytes:
    variable = _string(b"MQTT") + bytes((PROTOCOL_LEVEL_311, CLEAN_SESSION))
    variable += struct.pack("!H", KEEPALIVE_OFF)
    return packet(CONNECT, variable + _string(client_id.encode()))


def subscribe(topic: bytes, packet_id: int = 1) -> bytes:
    return packet(SUBSCRIBE, struct.pack("!H", packet_id) + _string(topic) + b"\x00")


def publish(topic: bytes, payload: bytes) -> bytes:
    return packet(PUBLISH_QOS0, _string(topic) + payload)


def has_packet(data: bytes, packet_type: int) -> bool:
    """True if ``data`` (the start of a stream) holds a whole packet of this type.

    Only used on the first bytes of a connection, where CONNACK and SUBACK
    are the only packets the broker sends.
    """
    position = 0
    while position + 2 <= len(data):
        first, length = data[position], data[position + 1]
        if length & 0x80:  # CONNACK and SUBACK are always short
            return False
        if position + 2 + length > len(data):
            return False
        if first & 0xF0 == packet_type:
            return True
        position += 2 + length
    return False
