"""Finding and opening the board's port: auto-detection, exclusivity, HUPCL."""

from __future__ import annotations

import os
import termios
import tty
from dataclasses import dataclass
from pathlib import Path

import pytest

from walkie.board.detect import AmbiguousBoardError, BoardNotFoundError, find_board_port
from walkie.board.port import open_port
from walkie.errors import ConnectError, WalkieError


@dataclass
class FakePortInfo:
    device: str
    vid: int | None
    pid: int | None
    description: str = "USB serial"


def test_the_one_arduino_is_found_by_its_stable_by_id_name(tmp_path: Path) -> None:
    device = tmp_path / "ttyACM0"
    device.touch()
    (tmp_path / "by-id").mkdir()
    stable = tmp_path / "by-id" / "usb-Arduino__www.arduino.cc__0043_85736323-if00"
    stable.symlink_to(device)
    ports = [FakePortInfo("/dev/ttyS0", None, None), FakePortInfo(str(device), 0x2341, 0x0043)]
    assert find_board_port(ports=ports, by_id_dir=tmp_path / "by-id") == str(stable)


def test_without_a_by_id_name_the_device_path_is_used(tmp_path: Path) -> None:
    ports = [FakePortInfo("/dev/ttyUSB0", 0x1A86, 0x7523)]
    assert find_board_port(ports=ports, by_id_dir=tmp_path / "missing") == "/dev/ttyUSB0"


def test_no_arduino_is_a_clear_error_naming_how_to_choose_a_port(tmp_path: Path) -> None:
    ports = [FakePortInfo("/dev/ttyUSB0", 0x10C4, 0xEA60)]  # a CP2102, not a known board
    with pytest.raises(BoardNotFoundError, match="no Arduino found") as raised:
        find_board_port(ports=ports, by_id_dir=tmp_path)
    assert "serial.port" in str(raised.value) and "--serial PORT" in str(raised.value)


def test_several_arduinos_are_listed_and_none_is_guessed(tmp_path: Path) -> None:
    ports = [
        FakePortInfo("/dev/ttyACM0", 0x2341, 0x0043, "Arduino Uno"),
        FakePortInfo("/dev/ttyACM1", 0x2A03, 0x0043, "Arduino Uno"),
    ]
    with pytest.raises(AmbiguousBoardError) as raised:
        find_board_port(ports=ports, by_id_dir=tmp_path)
    assert "/dev/ttyACM0" in str(raised.value) and "/dev/ttyACM1" in str(raised.value)
    assert "serial.port or --serial" in str(raised.value)
    assert isinstance(raised.value, WalkieError)


@pytest.fixture
def pty_path(tmp_path: Path):  # type: ignore[no-untyped-def]
    master, slave = os.openpty()
    tty.setraw(slave)
    path = tmp_path / "ttyPTY"
    path.symlink_to(os.ttyname(slave))
    yield path, master
    os.close(master)
    os.close(slave)


def test_the_port_is_opened_exclusively(pty_path: tuple[Path, int]) -> None:
    path, _ = pty_path
    port = open_port(str(path))
    try:
        with pytest.raises(ConnectError, match="is in use: another program has it open"):
            open_port(str(path))
    finally:
        port.close()


def test_closing_does_not_hang_up_so_an_uno_is_not_reset(pty_path: tuple[Path, int]) -> None:
    path, _ = pty_path
    port = open_port(str(path))
    try:
        fd = port.fileno()  # type: ignore[attr-defined]
        assert not termios.tcgetattr(fd)[2] & termios.HUPCL
    finally:
        port.close()


def test_bytes_flow_both_ways_over_a_pty(pty_path: tuple[Path, int]) -> None:
    path, master = pty_path
    port = open_port(str(path))
    try:
        port.write(b"\x00hello")
        assert os.read(master, 100) == b"\x00hello"
    finally:
        port.close()


def test_a_port_that_cannot_be_opened_is_told_in_plain_words(tmp_path: Path) -> None:
    with pytest.raises(ConnectError) as missing:
        open_port(str(tmp_path / "ttyACM9"))
    assert str(missing.value) == f"cannot open {tmp_path / 'ttyACM9'}: No such file or directory"
    with pytest.raises(ConnectError) as not_serial:
        open_port("/dev/null")
    assert str(not_serial.value).startswith("cannot use /dev/null as a serial port: ")


def test_pyserial_urls_are_accepted() -> None:
    port = open_port("loop://")
    try:
        port.write(b"abc")
        assert port.read(3) == b"abc"
    finally:
        port.close()
