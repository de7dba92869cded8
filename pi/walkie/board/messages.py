"""Payloads of the serial messages: building and parsing them (protocol §2).

This module owns the meaning of the payload bytes of each message type; the
framing around them is in `frames`. Pure functions and small value types.
"""

from __future__ import annotations

from dataclasses import dataclass

from walkie.board.frames import (
    INFO_FLAG_BOOT,
    MAX_ROW_PIECE,
    MAX_ROW_TEXT,
    PROTOCOL_VERSION,
    ROW_FLAG_MARQUEE,
    Frame,
    MessageType,
)

MCUSR_POWER_ON = 0x01
MCUSR_EXTERNAL = 0x02
MCUSR_BROWN_OUT = 0x04
MCUSR_WATCHDOG = 0x08
"""The AVR's reset flags, as the board reports them in INFO's ``reset_cause``."""


@dataclass(frozen=True)
class BoardInfo:
    """What the board says about itself in an INFO message."""

    proto: int
    fw_major: int
    fw_minor: int
    cols: int
    rows: int
    boot: bool = False
    reset_cause: int = 0

    @property
    def firmware_version(self) -> str:
        return f"{self.fw_major}.{self.fw_minor}"

    @property
    def reset_cause_text(self) -> str:
        """Why the board last reset, from the AVR's MCUSR bits."""
        cause = self.reset_cause
        if cause & MCUSR_WATCHDOG:
            return "watchdog"
        if self._browned_out:
            return "brown-out: check the board's power"
        if cause & MCUSR_POWER_ON:
            return "power-on"
        if cause & MCUSR_EXTERNAL:
            return "reset pin: the reset button, or the serial port opening"
        return "cause unknown"

    @property
    def reset_was_a_fault(self) -> bool:
        """A reset no one asked for: the watchdog fired or the supply sagged."""
        return bool(self.reset_cause & MCUSR_WATCHDOG) or self._browned_out

    @property
    def _browned_out(self) -> bool:
        # A power-on sets the brown-out flag too, as the supply rises.
        return bool(self.reset_cause & MCUSR_BROWN_OUT) and not self.reset_cause & MCUSR_POWER_ON


def hello(seq: int = 0) -> Frame:
    return Frame(MessageType.HELLO, seq, bytes((PROTOCOL_VERSION,)))


def heartbeat() -> Frame:
    return Frame(MessageType.HEARTBEAT, 0)


def ack(seq: int) -> Frame:
    return Frame(MessageType.ACK, seq)


def info(board: BoardInfo, seq: int = 0) -> Frame:
    flags = INFO_FLAG_BOOT if board.boot else 0
    payload = bytes(
        (board.proto, board.fw_major, board.fw_minor, board.cols, board.rows, flags)
    ) + bytes((board.reset_cause,))
    return Frame(MessageType.INFO, seq, payload)


def parse_info(frame: Frame) -> BoardInfo:
    proto, fw_major, fw_minor, cols, rows, flags, reset_cause = frame.payload
    return BoardInfo(
        proto=proto,
        fw_major=fw_major,
        fw_minor=fw_minor,
        cols=cols,
        rows=rows,
        boot=bool(flags & INFO_FLAG_BOOT),
        reset_cause=reset_cause,
    )


def button(seq: int, pressed: bool, board_ms: int) -> Frame:
    payload = bytes((1 if pressed else 0,)) + (board_ms & 0xFFFF).to_bytes(2, "big")
    return Frame(MessageType.BUTTON, seq, payload)


def parse_button(frame: Frame) -> tuple[bool, int]:
    """(pressed, board_ms); any non-zero `pressed` byte counts as pressed."""
    return frame.payload[0] != 0, int.from_bytes(frame.payload[1:3], "big")


@dataclass(frozen=True)
class RowPiece:
    """The fields of one ROW message."""

    row: int
    marquee: bool
    total: int
    offset: int
    data: bytes


def row_pieces(row: int, text: bytes, marquee: bool) -> list[RowPiece]:
    """Split one row's ROM-coded text into ROW payloads (at least one piece).

    Text beyond `MAX_ROW_TEXT` bytes is cut off; the caller decides what fits.
    """
    text = text[:MAX_ROW_TEXT]
    if not text:
        return [RowPiece(row, marquee, 0, 0, b"")]
    return [
        RowPiece(row, marquee, len(text), offset, text[offset : offset + MAX_ROW_PIECE])
        for offset in range(0, len(text), MAX_ROW_PIECE)
    ]


def row_frame(seq: int, piece: RowPiece) -> Frame:
    flags = ROW_FLAG_MARQUEE if piece.marquee else 0
    header = bytes((piece.row, flags, piece.total, piece.offset))
    return Frame(MessageType.ROW, seq, header + piece.data)


def parse_row(frame: Frame) -> RowPiece:
    row, flags, total, offset = frame.payload[:4]
    return RowPiece(row, bool(flags & ROW_FLAG_MARQUEE), total, offset, frame.payload[4:])
