"""Finding the Arduino among the serial ports: by its USB ids, named by its
stable /dev/serial/by-id/ link, and never a guess between several boards."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

from serial.tools import list_ports

from walkie.errors import ConnectError

BY_ID_DIR = Path("/dev/serial/by-id")

# (vendor id, product id or None for "any product of this vendor").
KNOWN_BOARD_USB_IDS: frozenset[tuple[int, int | None]] = frozenset(
    {
        (0x2341, None),  # Arduino LLC
        (0x2A03, None),  # Arduino SRL (arduino.org)
        (0x1A86, 0x7523),  # CH340, on most Uno clones
        (0x1A86, 0x55D4),  # CH9102, on newer clones
        (0x0403, 0x6001),  # FTDI FT232R, on older boards and clones
    }
)


class BoardNotFoundError(ConnectError):
    """No serial port looks like an Arduino."""


class AmbiguousBoardError(ConnectError):
    """Several ports look like an Arduino; the configuration must choose one."""


class _PortInfo(Protocol):
    device: str
    vid: int | None
    pid: int | None
    description: str


def _is_known_board(port: _PortInfo) -> bool:
    if port.vid is None:
        return False
    return (port.vid, None) in KNOWN_BOARD_USB_IDS or (port.vid, port.pid) in KNOWN_BOARD_USB_IDS


def _stable_name(device: str, by_id_dir: Path) -> str:
    """The /dev/serial/by-id/ link to `device` if there is one, else `device`."""
    try:
        links = sorted(by_id_dir.iterdir())
    except OSError:
        return device
    real = os.path.realpath(device)
    for link in links:
        if os.path.realpath(link) == real:
            return str(link)
    return device


def find_board_port(
    *, ports: Iterable[_PortInfo] | None = None, by_id_dir: Path = BY_ID_DIR
) -> str:
    """The path of the one attached Arduino, preferring its /dev/serial/by-id/ name.

    Raises BoardNotFoundError when none is found and AmbiguousBoardError, listing
    them, when there are several: guessing would drive the wrong device.
    """
    candidates = [port for port in (ports if ports is not None else list_ports.comports())]
    boards = [port for port in candidates if _is_known_board(port)]
    if not boards:
        raise BoardNotFoundError(
            "no Arduino found on USB serial; set serial.port in the config or use --serial PORT"
        )
    if len(boards) > 1:
        listing = ", ".join(
            f"{_stable_name(port.device, by_id_dir)} ({port.description})" for port in boards
        )
        raise AmbiguousBoardError(
            f"several Arduinos found, choose one with serial.port or --serial: {listing}"
        )
    return _stable_name(boards[0].device, by_id_dir)
