"""Helpers of the fault campaign: waiting without timing, a recorder for
board-link events, and a pty relay that flips bits.

Every wait here has a generous deadline that only stops a hang; nothing is
timed.
"""

from __future__ import annotations

import contextlib
import os
import queue
import random
import select
import threading
import time
import tty
from collections.abc import Callable

import serial

from walkie.board.port import BoardEvent
from walkie.sim import BoardSimulator

DEADLINE = 30.0
"""Generous limit for anything to happen: only there so that a bug cannot hang the suite."""
RELAY_READ = 4096
RELAY_POLL = 0.1
"""Seconds between the relay's checks that it should stop."""
BAUD = 115200
WAIT_STEP = 0.01

StartSimulator = Callable[..., BoardSimulator]


def wait_until(condition: Callable[[], bool], what: str, timeout: float = DEADLINE) -> None:
    """Wait for ``condition``; the deadline only stops a hang, it times nothing."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(WAIT_STEP)


class EventLog:
    """Board-link events as they arrive (called on the driver thread)."""

    def __init__(self) -> None:
        self._queue: queue.Queue[BoardEvent] = queue.Queue()
        self.seen: list[BoardEvent] = []

    def __call__(self, event: BoardEvent) -> None:
        self._queue.put(event)

    def all(self) -> list[BoardEvent]:
        with contextlib.suppress(queue.Empty):
            while True:
                self.seen.append(self._queue.get_nowait())
        return self.seen

    def count(self, kind: type) -> int:
        return sum(isinstance(event, kind) for event in self.all())


class NoisyRelay:
    """A pty the Pi side opens, relayed to and from the board's own pty, with
    every bit flipped independently at ``bit_error_rate`` in both directions.

    ``path`` is the pty for the Pi side. The relay runs on its own thread until
    `close`; ``flips`` counts the bits it flipped.
    """

    def __init__(self, board_port: str, bit_error_rate: float, seed: int) -> None:
        self.bit_error_rate = bit_error_rate
        self.flips = 0
        self._random = random.Random(seed)
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)  # no echo or line editing before the Pi side opens it
        self.path = os.ttyname(self._slave)
        self._board = serial.Serial(board_port, BAUD, timeout=0)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="noisy-relay", daemon=True)
        self._thread.start()

    def _corrupt(self, data: bytes) -> bytes:
        out = bytearray(data)
        rate, rng = self.bit_error_rate, self._random
        for index in range(len(out)):
            for bit in range(8):
                if rng.random() < rate:
                    out[index] ^= 1 << bit
                    self.flips += 1
        return bytes(out)

    def _run(self) -> None:
        board_fd = self._board.fileno()
        with contextlib.suppress(OSError, serial.SerialException):
            while not self._stopping.is_set():
                readable, _, _ = select.select([self._master, board_fd], [], [], RELAY_POLL)
                if self._master in readable:
                    self._board.write(self._corrupt(os.read(self._master, RELAY_READ)))
                if board_fd in readable:
                    data = self._board.read(RELAY_READ)
                    if data:
                        os.write(self._master, self._corrupt(data))

    def close(self) -> None:
        self._stopping.set()
        self._thread.join(DEADLINE)
        self._board.close()
        for fd in (self._master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)
