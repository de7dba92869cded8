"""A fault-injecting fake Arduino for the board-link tests, on a real pty.

`FakeBoard` speaks protocol version 1 (docs/serial-protocol.md) from the board's
side over the master end of a pty, reachable by the Pi side through a symlink
that survives "unplugging": `unplug()` closes the pty, `replug()` makes a new
one at the same path. Faults: random bit flips, dropped bytes and inserted
noise in both directions (`fault_rate`), a reset mid-frame (`reset()`), a
silent reset whose announcement is lost (`reset(announce=False)`), muting, and
a board that heartbeats but takes no ROW (`ignoring_rows`).
It records every row it ever showed so tests can prove nothing corrupted was
accepted.
"""

from __future__ import annotations

import contextlib
import os
import random
import select
import threading
import time
import tty
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from walkie.board import messages
from walkie.board.frames import MAX_ROW_TEXT, Frame, FrameDecoder, MessageType, encode_frame
from walkie.board.messages import BoardInfo

BOARD_RETRY_S = 0.060
BOARD_HEARTBEAT_S = 1.0
BOARD_DEAD_S = 3.0
BOARD_POLL_S = 0.01
DEADLINE_S = 15.0  # generous: only there so that a broken build fails instead of hanging


class FakeBoard:
    def __init__(self, link_path: Path, *, cols: int = 16, rows: int = 2, seed: int = 0) -> None:
        self.link_path = link_path
        self.cols = cols
        self.rows = rows
        self.rng = random.Random(seed)
        self.fault_rate = 0.0  # probability per byte of a flip, a drop or a noise byte
        self.muted = False  # sends nothing and ignores everything
        self.ignoring_rows = False  # keeps the link alive but acknowledges no ROW
        self.lock = threading.RLock()
        self.display: list[bytes] = [b""] * rows
        self.shown: list[tuple[int, bytes]] = []  # every row update applied
        self.buttons_sent: list[tuple[bool, int]] = []
        self.hellos = 0
        self._staging = [bytearray(MAX_ROW_TEXT) for _ in range(rows)]
        self._decoder = FrameDecoder()
        self._master: int | None = None
        self._slave: int | None = None
        self._stop = threading.Event()
        self._handshaken = False
        self._boot_state()
        self._open_pty()
        self._thread = threading.Thread(target=self._run, name="fake-board", daemon=True)
        self._thread.start()

    # -- test controls -----------------------------------------------------------

    def unplug(self) -> None:
        with self.lock:
            self._close_pty()
            with contextlib.suppress(FileNotFoundError):
                self.link_path.unlink()

    def replug(self) -> None:
        """A new pty at the same path, and a board that just powered up."""
        with self.lock:
            self._boot_state()
            self.display = [b""] * self.rows
            self._open_pty()

    def reset(self, *, announce: bool = True) -> None:
        """Reset while a frame is half sent; announce it with a BOOT INFO or not."""
        with self.lock:
            half = encode_frame(messages.info(self._info()))[:5]
            self._write_raw(half)
            self._boot_state()
            self.display = [b""] * self.rows
            if announce:
                boot = BoardInfo(1, 1, 0, self.cols, self.rows, boot=True, reset_cause=0x02)
                self._write_raw(b"\x00" + encode_frame(messages.info(boot)))

    def press(self, pressed: bool) -> None:
        with self.lock:
            board_ms = int(time.monotonic() * 1000) & 0xFFFF
            self.buttons_sent.append((pressed, board_ms))
            self._button_queue.append((pressed, board_ms))

    @property
    def rejected_frames(self) -> int:
        with self.lock:
            return self._decoder.stats.rejected_total

    def close(self) -> None:
        self._stop.set()
        self._thread.join(DEADLINE_S)
        with self.lock:
            self._close_pty()

    # -- the board -------------------------------------------------------------

    def _info(self) -> BoardInfo:
        return BoardInfo(1, 1, 0, self.cols, self.rows)

    def _boot_state(self) -> None:
        self._handshaken = False
        self._rx_expected = 0
        self._tx_seq = 0
        self._unacked: tuple[int, bytes] | None = None
        self._retry_at = 0.0
        self._button_queue: deque[tuple[bool, int]] = deque()
        self._last_rx = time.monotonic()
        self._last_tx = time.monotonic()
        self._decoder.reset()

    def _open_pty(self) -> None:
        master, slave = os.openpty()
        tty.setraw(slave)  # no echo or line editing before the Pi side opens it
        self._master, self._slave = master, slave
        temporary = self.link_path.with_suffix(".new")
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
        temporary.symlink_to(os.ttyname(slave))
        temporary.replace(self.link_path)

    def _close_pty(self) -> None:
        for fd in (self._master, self._slave):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._master = self._slave = None

    def _run(self) -> None:
        while not self._stop.is_set():
            master = self._master
            if master is None:
                time.sleep(BOARD_POLL_S)
                continue
            try:
                readable, _, _ = select.select([master], [], [], BOARD_POLL_S)
                data = os.read(master, 4096) if readable else b""
            except OSError:
                time.sleep(BOARD_POLL_S)  # unplugged under our feet
                continue
            with self.lock:
                if master != self._master:
                    continue
                now = time.monotonic()
                if data and not self.muted:
                    for frame in self._decoder.feed(self._corrupt(data)):
                        self._last_rx = now
                        self._handle(frame)
                self._tick(now)

    def _handle(self, frame: Frame) -> None:
        if frame.type is MessageType.HELLO:
            self.hellos += 1
            self._handshaken = True
            self._rx_expected = 0
            self._tx_seq = 0
            self._unacked = None
            self._send(messages.info(self._info()))
            # Only the current state matters after a handshake: report it if held.
            self._button_queue.clear()
            if self.buttons_sent and self.buttons_sent[-1][0]:
                self._button_queue.append(self.buttons_sent[-1])
        elif not self._handshaken:
            return
        elif frame.type is MessageType.ROW:
            if self.ignoring_rows:
                return
            behind = (self._rx_expected - frame.seq) & 0xFF
            if behind == 0:
                self._rx_expected = (self._rx_expected + 1) & 0xFF
                self._apply_row(messages.parse_row(frame))
                self._send(messages.ack(frame.seq))
            elif behind <= 128:
                self._send(messages.ack(frame.seq))
        elif (
            frame.type is MessageType.ACK
            and self._unacked is not None
            and self._unacked[0] == frame.seq
        ):
            self._unacked = None

    def _apply_row(self, piece: messages.RowPiece) -> None:
        end = piece.offset + len(piece.data)
        if piece.row >= self.rows or piece.total > MAX_ROW_TEXT or end > piece.total:
            return
        self._staging[piece.row][piece.offset : end] = piece.data
        if end == piece.total:
            text = bytes(self._staging[piece.row][: piece.total])
            self.display[piece.row] = text
            self.shown.append((piece.row, text))

    def _tick(self, now: float) -> None:
        if not self._handshaken or self.muted:
            return
        if now - self._last_rx >= BOARD_DEAD_S:
            self._handshaken = False
            return
        if self._unacked is None and self._button_queue:
            pressed, board_ms = self._button_queue.popleft()
            wire = encode_frame(messages.button(self._tx_seq, pressed, board_ms))
            self._unacked = (self._tx_seq, wire)
            self._tx_seq = (self._tx_seq + 1) & 0xFF
            self._retry_at = now
        if self._unacked is not None and now >= self._retry_at:
            self._write(self._unacked[1])
            self._retry_at = now + BOARD_RETRY_S
        if now - self._last_tx >= BOARD_HEARTBEAT_S:
            self._send(messages.heartbeat())

    def _send(self, frame: Frame) -> None:
        if not self.muted:
            self._write(encode_frame(frame))

    def _write(self, wire: bytes) -> None:
        self._last_tx = time.monotonic()
        self._write_raw(self._corrupt(wire))

    def _write_raw(self, data: bytes) -> None:
        if self._master is None:
            return
        with contextlib.suppress(OSError):
            os.write(self._master, data)

    def _corrupt(self, data: bytes) -> bytes:
        if not self.fault_rate:
            return data
        out = bytearray()
        for byte in data:
            roll = self.rng.random()
            if roll < self.fault_rate / 3:
                out.append(byte ^ (1 << self.rng.randrange(8)))
            elif roll < 2 * self.fault_rate / 3:
                continue
            elif roll < self.fault_rate:
                out += bytes((byte, self.rng.randrange(256)))
            else:
                out.append(byte)
        return bytes(out)


@pytest.fixture
def make_fake_board() -> Iterator[Callable[[Path], FakeBoard]]:
    """Make fake boards at given link paths; they are closed after the test."""
    boards: list[FakeBoard] = []

    def make(link_path: Path) -> FakeBoard:
        boards.append(FakeBoard(link_path, seed=1234 + len(boards)))
        return boards[-1]

    yield make
    for board in boards:
        board.close()


@pytest.fixture
def fake_board(tmp_path: Path, make_fake_board: Callable[[Path], FakeBoard]) -> FakeBoard:
    return make_fake_board(tmp_path / "ttyFAKE")
