"""Helpers of the fault campaign: a pty relay that flips bits, and the type
of the fixture that starts board simulators."""

from __future__ import annotations

import contextlib
import os
import random
import select
import threading
import tty
from collections.abc import Callable

import serial

from support.waiting import DEADLINE
from walkie.sim import BoardSimulator

RELAY_READ = 4096
RELAY_POLL = 0.1
"""Seconds between the relay's checks that it should stop."""
BAUD = 115200

StartSimulator = Callable[..., BoardSimulator]


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
