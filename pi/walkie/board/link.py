"""The Pi side of the serial link as a pure state machine (protocol §3-§4).

`Link` owns the handshake, the ROW send window with go-back-N retries, duplicate
detection for BUTTON messages, heartbeats, the dead-link timer and pushing the
screen. It does no I/O and reads no clock: the caller passes the time (seconds,
monotonic) into every call and writes the returned bytes to the port.

Every call returns an `Output(data, events)`: `data` are bytes to write to the
serial port now, `events` what happened (`LinkUp`, `LinkDown`, `ButtonChanged`,
`BoardReset`, `ProtocolMismatch`). Between calls, call `tick(now)` no later
than `next_deadline()`.

Example (the shell in `walkie.board.port` does exactly this)::

    link = Link()
    out = link.connection_made(now)      # HELLO; write out.data to the port
    out = link.receive(port_bytes, now)  # INFO -> LinkUp in out.events
    out = link.show([RowContent(b"bob: hi", marquee=True)], now)
    out = link.tick(now)                 # retries, heartbeats, dead link

Button semantics: `ButtonChanged` is emitted only when the state changes. After
`LinkDown` the button counts as released (no event is synthesised); if it is
still held when the link comes back up, the board reports it again.
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from walkie.board import messages
from walkie.board.frames import (
    MAX_ROW_TEXT,
    PROTOCOL_VERSION,
    Frame,
    FrameDecoder,
    MessageType,
    encode_frame,
)
from walkie.board.messages import BoardInfo, RowPiece

PI_WINDOW = 2
RETRY_S = 0.060
HELLO_INTERVAL_S = 0.250
HEARTBEAT_S = 1.000
DEAD_S = 3.000
# A board reporting more rows than this is not believed; the largest LCD is 20x4.
MAX_BOARD_ROWS = 4
# Sequence numbers this far behind `expected` are duplicates (protocol §3).
DUPLICATE_WINDOW = 128


class RowContent(NamedTuple):
    """One LCD row as the board shows it: ROM codes and whether to scroll."""

    data: bytes
    marquee: bool = True


EMPTY_ROW = RowContent(b"", False)


@dataclass(frozen=True)
class LinkUp:
    """The handshake completed; the whole screen is being pushed."""

    info: BoardInfo


@dataclass(frozen=True)
class LinkDown:
    """The link was up and is not any more (dead, board reset, port lost)."""

    reason: str


@dataclass(frozen=True)
class ButtonChanged:
    """The PTT button changed; `board_ms` is the board's millis() mod 65536."""

    pressed: bool
    board_ms: int


@dataclass(frozen=True)
class BoardReset:
    """The board announced its own reset (an INFO with BOOT set)."""

    info: BoardInfo


@dataclass(frozen=True)
class ProtocolMismatch:
    """The board answered with a protocol version this side does not speak."""

    info: BoardInfo


LinkEvent = LinkUp | LinkDown | ButtonChanged | BoardReset | ProtocolMismatch


class Output(NamedTuple):
    """What one call produced: bytes to write and events to handle."""

    data: bytes
    events: list[LinkEvent]


class LinkState(enum.Enum):
    CLOSED = "closed"  # no port open
    HANDSHAKING = "handshaking"  # port open, sending HELLOs
    UP = "up"


@dataclass
class LinkStats:
    """Counters for diagnostics and tests."""

    rows_sent: int = 0
    retransmissions: int = 0
    rows_superseded: int = 0
    duplicates: int = 0
    handshakes: int = 0


@dataclass
class _InFlight:
    seq: int
    wire: bytes


@dataclass
class _Counters:
    tx_seq: int = 0
    rx_expected: int = 0
    in_flight: deque[_InFlight] = field(default_factory=deque)
    # Not yet sent. Superseding keeps it to at most two pieces per row.
    pending: deque[RowPiece] = field(default_factory=deque)
    retry_at: float = 0.0


class Link:
    """The Pi side of the serial link; see the module docstring."""

    def __init__(self) -> None:
        self.decoder = FrameDecoder()
        self.stats = LinkStats()
        self._state = LinkState.CLOSED
        self._info: BoardInfo | None = None
        self._wanted: list[RowContent] = []
        self._queued: list[RowContent | None] = []
        self._counters = _Counters()
        self._button_pressed = False
        self._last_rx = 0.0
        self._last_tx = 0.0
        self._next_hello = 0.0
        self._mismatch_reported: BoardInfo | None = None
        self._out = bytearray()
        self._events: list[LinkEvent] = []

    @property
    def state(self) -> LinkState:
        return self._state

    @property
    def is_up(self) -> bool:
        return self._state is LinkState.UP

    @property
    def info(self) -> BoardInfo | None:
        """The board's INFO from the last handshake (kept while the link is down)."""
        return self._info

    @property
    def screen(self) -> list[RowContent]:
        """The rows the Pi wants shown (what `show` was given last)."""
        return list(self._wanted)

    # -- calls from the I/O shell ------------------------------------------------

    def connection_made(self, now: float) -> Output:
        """The port was (re)opened: flush the board's half frame and say HELLO."""
        self.decoder.reset()
        self._state = LinkState.HANDSHAKING
        # A leading 0x00 ends whatever half frame the board may hold (protocol §1).
        self._out.append(0)
        self._send_hello(now)
        return self._flush()

    def connection_lost(self, now: float, reason: str) -> Output:
        """The port failed or was closed."""
        self._go_down(reason)
        self._state = LinkState.CLOSED
        return self._flush()

    def receive(self, data: bytes, now: float) -> Output:
        """Bytes read from the port."""
        if self._state is not LinkState.CLOSED:
            for frame in self.decoder.feed(data):
                self._last_rx = now
                self._handle(frame, now)
        return self._flush()

    def tick(self, now: float) -> Output:
        """Time passed: retries, HELLOs, heartbeats and the dead-link timer."""
        if self._state is LinkState.HANDSHAKING and now >= self._next_hello:
            self._send_hello(now)
        elif self._state is LinkState.UP:
            if now - self._last_rx >= DEAD_S:
                self._go_down(f"no frame from the board for {DEAD_S:g} s")
                self._send_hello(now)
            else:
                counters = self._counters
                if counters.in_flight and now >= counters.retry_at:
                    for entry in counters.in_flight:
                        self._write(entry.wire, now)
                        self.stats.retransmissions += 1
                    counters.retry_at = now + RETRY_S
                if now - self._last_tx >= HEARTBEAT_S:
                    self._send(messages.heartbeat(), now)
        return self._flush()

    def show(self, rows: Sequence[RowContent], now: float) -> Output:
        """Set the whole screen; rows that changed are queued, superseding older ones."""
        # An empty row cannot scroll: normalising the flag keeps "unchanged" exact.
        self._wanted = [
            RowContent(data[:MAX_ROW_TEXT], marquee and bool(data)) for data, marquee in rows
        ]
        if self._state is LinkState.UP:
            self._queue_changed_rows()
            self._pump(now)
        return self._flush()

    def next_deadline(self) -> float | None:
        """The latest time at which `tick` must be called; None while closed."""
        if self._state is LinkState.HANDSHAKING:
            return self._next_hello
        if self._state is LinkState.UP:
            deadline = min(self._last_rx + DEAD_S, self._last_tx + HEARTBEAT_S)
            if self._counters.in_flight:
                deadline = min(deadline, self._counters.retry_at)
            return deadline
        return None

    @property
    def rows_unacknowledged(self) -> int:
        """ROW frames queued or sent but not yet acknowledged."""
        return len(self._counters.in_flight) + len(self._counters.pending)

    # -- internals ---------------------------------------------------------------

    def _handle(self, frame: Frame, now: float) -> None:
        if frame.type is MessageType.INFO:
            self._handle_info(messages.parse_info(frame), now)
        elif self._state is not LinkState.UP:
            return  # sequence numbers mean nothing before the handshake
        elif frame.type is MessageType.ACK:
            self._handle_ack(frame.seq, now)
        elif frame.type is MessageType.BUTTON:
            self._handle_button(frame, now)
        # HEARTBEAT only refreshes _last_rx; HELLO and ROW go the other way.

    def _handle_info(self, info: BoardInfo, now: float) -> None:
        if info.boot:
            self._events.append(BoardReset(info))
            self._go_down("the board reset")
            self._send_hello(now)  # at once: no need to wait for the HELLO timer
            return
        if info.proto != PROTOCOL_VERSION:
            if self._mismatch_reported != info:
                self._mismatch_reported = info
                self._events.append(ProtocolMismatch(info))
            return
        if self._state is LinkState.UP:
            # An answer to a HELLO that crossed our going up. The board reset its
            # send counter when it answered, so only our receive side restarts;
            # our ROWs all follow that HELLO, so the board's receive side is right.
            self._counters.rx_expected = 0
            return
        self._info = info
        self._state = LinkState.UP
        self.stats.handshakes += 1
        self._counters = _Counters()
        self._button_pressed = False
        self._queued = [None] * min(info.rows, MAX_BOARD_ROWS)
        self._events.append(LinkUp(info))
        self._queue_changed_rows()
        self._pump(now)

    def _handle_ack(self, seq: int, now: float) -> None:
        counters = self._counters
        if not counters.in_flight:
            return
        acknowledged = (seq - counters.in_flight[0].seq) & 0xFF
        if acknowledged >= len(counters.in_flight):
            return  # stale or unknown: the retry timer takes care of it
        for _ in range(acknowledged + 1):
            counters.in_flight.popleft()
        counters.retry_at = now + RETRY_S
        self._pump(now)

    def _handle_button(self, frame: Frame, now: float) -> None:
        counters = self._counters
        behind = (counters.rx_expected - frame.seq) & 0xFF
        if behind == 0:
            counters.rx_expected = (counters.rx_expected + 1) & 0xFF
            self._send(messages.ack(frame.seq), now)
            pressed, board_ms = messages.parse_button(frame)
            if pressed != self._button_pressed:
                self._button_pressed = pressed
                self._events.append(ButtonChanged(pressed, board_ms))
        elif behind <= DUPLICATE_WINDOW:
            self.stats.duplicates += 1
            self._send(messages.ack(frame.seq), now)
        # Anything ahead of `expected` is ignored; the board retries.

    def _queue_changed_rows(self) -> None:
        counters = self._counters
        for row in range(len(self._queued)):
            content = self._wanted[row] if row < len(self._wanted) else EMPTY_ROW
            if content == self._queued[row]:
                continue
            kept = deque(piece for piece in counters.pending if piece.row != row)
            self.stats.rows_superseded += len(counters.pending) - len(kept)
            kept.extend(messages.row_pieces(row, content.data, content.marquee))
            counters.pending = kept
            self._queued[row] = content

    def _pump(self, now: float) -> None:
        counters = self._counters
        while counters.pending and len(counters.in_flight) < PI_WINDOW:
            piece = counters.pending.popleft()
            wire = encode_frame(messages.row_frame(counters.tx_seq, piece))
            if not counters.in_flight:
                counters.retry_at = now + RETRY_S
            counters.in_flight.append(_InFlight(counters.tx_seq, wire))
            counters.tx_seq = (counters.tx_seq + 1) & 0xFF
            self.stats.rows_sent += 1
            self._write(wire, now)

    def _go_down(self, reason: str) -> None:
        if self._state is LinkState.UP:
            self._events.append(LinkDown(reason))
            self._state = LinkState.HANDSHAKING
        self._counters = _Counters()
        self._button_pressed = False

    def _send_hello(self, now: float) -> None:
        self._send(messages.hello(), now)
        self._next_hello = now + HELLO_INTERVAL_S

    def _send(self, frame: Frame, now: float) -> None:
        self._write(encode_frame(frame), now)

    def _write(self, wire: bytes, now: float) -> None:
        self._out += wire
        self._last_tx = now

    def _flush(self) -> Output:
        output = Output(bytes(self._out), self._events)
        self._out = bytearray()
        self._events = []
        return output
