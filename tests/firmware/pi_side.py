"""A minimal Pi side of the serial link, for testing the firmware in the simulator."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable

import serial

from walkie.board.frames import (
    INFO_FLAG_BOOT,
    PROTOCOL_VERSION,
    ROW_FLAG_MARQUEE,
    Frame,
    FrameDecoder,
    MessageType,
    encode_frame,
)

DEADLINE = 10.0  # seconds; only there so that a broken build fails instead of hanging
HEARTBEAT_EVERY = 0.25
HELLO_EVERY = 0.25


class PiSide:
    """The Pi's end of the serial link, just enough to test the firmware.

    A reader thread decodes every frame from the board into a queue and
    acknowledges BUTTON frames; optional heartbeats keep the link up.
    """

    def __init__(self, port: serial.Serial) -> None:
        self.port = port
        self.frames: queue.Queue[Frame] = queue.Queue()
        self.buttons: list[Frame] = []  # distinct BUTTON frames, retries removed
        self.heartbeats = True
        self.tx_seq = 0
        self._write_lock = threading.Lock()
        self._stop = threading.Event()
        self._seen_button_seqs: set[int] = set()
        self._threads = [
            threading.Thread(target=self._read, daemon=True),
            threading.Thread(target=self._beat, daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def close(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(2)

    def send(self, frame: Frame) -> None:
        with self._write_lock:
            self.port.write(encode_frame(frame))

    def expect(self, wanted: Callable[[Frame], bool], timeout: float = DEADLINE) -> Frame:
        """The next frame from the board that `wanted` accepts (others are skipped)."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError("the board did not send the expected frame")
            try:
                frame = self.frames.get(timeout=remaining)
            except queue.Empty:
                continue
            if wanted(frame):
                return frame

    def drain(self) -> None:
        while not self.frames.empty():
            self.frames.get_nowait()

    def handshake(self) -> Frame:
        """Send HELLO until an INFO answers it (as the Pi does); return the INFO."""
        self.drain()
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            self.send(Frame(MessageType.HELLO, 0, bytes([PROTOCOL_VERSION])))
            try:
                info = self.expect(is_type(MessageType.INFO), timeout=HELLO_EVERY)
            except AssertionError:
                continue
            if not info.payload[5] & INFO_FLAG_BOOT:
                self.tx_seq = 0
                return info
        raise AssertionError("no INFO answered HELLO")

    def send_row(self, row: int, text: bytes, *, marquee: bool = False) -> None:
        """Send one row as reliable ROW pieces, each acknowledged before the next."""
        pieces = [text[i : i + 52] for i in range(0, len(text), 52)] or [b""]
        offset = 0
        for piece in pieces:
            header = bytes([row, ROW_FLAG_MARQUEE if marquee else 0, len(text), offset])
            frame = Frame(MessageType.ROW, self.tx_seq, header + piece)
            seq = self.tx_seq
            self.send(frame)
            self.expect(lambda f, seq=seq: f.type == MessageType.ACK and f.seq == seq)
            self.tx_seq = (self.tx_seq + 1) & 0xFF
            offset += len(piece)

    def _read(self) -> None:
        decoder = FrameDecoder()
        while not self._stop.is_set():
            try:
                data = self.port.read(self.port.in_waiting or 1)
            except (serial.SerialException, OSError, TypeError):
                return
            for frame in decoder.feed(data):
                if frame.type == MessageType.BUTTON:
                    self.send(Frame(MessageType.ACK, frame.seq))
                    if frame.seq in self._seen_button_seqs:
                        continue  # a retry of a frame already counted
                    self._seen_button_seqs.add(frame.seq)
                    self.buttons.append(frame)
                if frame.type == MessageType.INFO:
                    self._seen_button_seqs.clear()  # the board restarts its seqs
                self.frames.put(frame)

    def _beat(self) -> None:
        while not self._stop.wait(HEARTBEAT_EVERY):
            if self.heartbeats:
                try:
                    self.send(Frame(MessageType.HEARTBEAT, 0))
                except (serial.SerialException, OSError):
                    return


def is_type(message_type: MessageType) -> Callable[[Frame], bool]:
    return lambda frame: frame.type == message_type
