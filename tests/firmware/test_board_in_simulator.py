"""The real firmware in the board simulator, driven over its serial pty.

Deadlines here only stop a broken build from hanging the suite; nothing
asserts how fast the board is.
"""

from __future__ import annotations

import threading

from firmware.pi_side import PiSide, is_type
from walkie.board.frames import INFO_FLAG_BOOT, PROTOCOL_VERSION, Frame, MessageType
from walkie.sim import BoardSimulator

LCD_WAIT = 10.0
POWER_ON = 0x01
EXTERNAL_RESET = 0x02


def test_the_board_boots_announcing_its_reset_and_shows_waiting_for_pi(
    board: BoardSimulator, pi: PiSide
) -> None:
    info = pi.expect(is_type(MessageType.INFO))
    assert info.payload[5] & INFO_FLAG_BOOT
    assert info.payload[6] & POWER_ON
    board.wait_for_text("waiting for Pi", row=0, timeout=LCD_WAIT)


def test_a_hello_gets_info_with_the_protocol_version_and_16x2(pi: PiSide) -> None:
    info = pi.handshake()
    proto, _major, _minor, cols, rows, flags, _cause = info.payload
    assert (proto, cols, rows) == (PROTOCOL_VERSION, 16, 2)
    assert not flags & INFO_FLAG_BOOT


def test_a_row_sent_appears_on_the_lcd(board: BoardSimulator, pi: PiSide) -> None:
    pi.handshake()
    pi.send_row(0, b"alice: hello")
    pi.send_row(1, b"2 on air")
    rows = board.wait_for_lcd(
        lambda rows: rows == ("alice: hello    ", "2 on air        "), timeout=LCD_WAIT
    )
    assert rows[0].startswith("alice: hello")


def test_a_duplicate_row_is_acknowledged_but_not_shown(board: BoardSimulator, pi: PiSide) -> None:
    pi.handshake()
    pi.send_row(0, b"first")
    board.wait_for_text("first", row=0, timeout=LCD_WAIT)
    pi.send(Frame(MessageType.ROW, 0, bytes([0, 0, 6, 0]) + b"second"))
    pi.expect(lambda f: f.type == MessageType.ACK and f.seq == 0)
    pi.send_row(1, b"marker")  # in order after the duplicate
    rows = board.wait_for_text("marker", row=1, timeout=LCD_WAIT)
    assert rows[0].startswith("first ")


def test_a_long_row_scrolls_by_itself(board: BoardSimulator, pi: PiSide) -> None:
    pi.handshake()
    text = b"bob: this line is much longer than sixteen columns"
    pi.send_row(0, text, marquee=True)
    for shift in (0, 1, 2, 3):
        expected = text[shift : shift + 16].decode()
        board.wait_for_lcd(lambda rows, e=expected: rows[0] == e, timeout=LCD_WAIT)


def test_a_row_longer_than_one_frame_arrives_in_pieces(board: BoardSimulator, pi: PiSide) -> None:
    pi.handshake()
    text = bytes(0x41 + i % 26 for i in range(80))
    pi.send_row(1, text)  # two ROW frames: 52 + 28 bytes
    board.wait_for_lcd(lambda rows: rows[1] == text[:16].decode(), timeout=LCD_WAIT)


def test_no_serial_byte_is_lost_while_the_lcd_redraws(board: BoardSimulator, pi: PiSide) -> None:
    pi.handshake()
    # Largest ROW frames (62 bytes on the wire), two in flight as the Pi
    # does: 124 bytes arrive back to back while every LCD cell changes.
    count, window = 40, 2
    texts = [bytes(0x41 + (seq + k) % 26 for k in range(52)) for seq in range(count)]
    frames = [
        Frame(MessageType.ROW, seq, bytes([seq % 2, 0, 52, 0]) + text)
        for seq, text in enumerate(texts)
    ]
    for frame in frames[:window]:
        pi.send(frame)
    for seq in range(count):
        pi.expect(lambda f, seq=seq: f.type == MessageType.ACK and f.seq == seq)
        if seq + window < count:
            pi.send(frames[seq + window])
    last = (texts[-2][:16].decode(), texts[-1][:16].decode())
    board.wait_for_lcd(lambda rows: rows == last, timeout=LCD_WAIT)


def test_press_and_release_reach_the_host_as_button_frames(
    board: BoardSimulator, pi: PiSide
) -> None:
    pi.handshake()
    board.press()
    press = pi.expect(is_type(MessageType.BUTTON))
    board.release()
    release = pi.expect(is_type(MessageType.BUTTON))
    assert press.payload[0] == 1
    assert release.payload[0] == 0
    assert press.seq != release.seq
    assert [b.payload[0] for b in pi.buttons] == [1, 0]


def test_a_bounce_shorter_than_20_ms_is_not_reported(board: BoardSimulator, pi: PiSide) -> None:
    pi.handshake()
    board.tap(5)  # simulated time: a contact bounce
    board.tap(8)
    board.tap(60)  # a real, if short, press
    pi.expect(lambda f: f.type == MessageType.BUTTON and f.payload[0] == 0)
    # Frames arrive in order: anything from the bounces would be here already.
    assert [b.payload[0] for b in pi.buttons] == [1, 0]
    press, release = pi.buttons
    pressed_at = int.from_bytes(press.payload[1:], "big")
    held_ms = (int.from_bytes(release.payload[1:], "big") - pressed_at) % 65536
    assert 40 <= held_ms <= 80  # the 60 ms press, measured on the board's own clock


def test_silence_from_the_pi_shows_pi_link_lost(board: BoardSimulator, pi: PiSide) -> None:
    pi.handshake()
    pi.send_row(0, b"carol: over")
    board.wait_for_text("carol: over", row=0, timeout=LCD_WAIT)
    pi.heartbeats = False
    board.wait_for_text("Pi link lost", row=0, timeout=LCD_WAIT)
    pi.heartbeats = True
    pi.handshake()
    pi.send_row(0, b"back again")
    board.wait_for_text("back again", row=0, timeout=LCD_WAIT)


def test_a_reset_mid_stream_announces_boot_and_recovers(board: BoardSimulator, pi: PiSide) -> None:
    pi.handshake()
    pi.send_row(0, b"before the reset")
    board.wait_for_text("before the reset", row=0, timeout=LCD_WAIT)
    pi.drain()

    # Stream rows without waiting for acks while the board resets under them.
    stop = threading.Event()

    def stream() -> None:
        seq = pi.tx_seq
        while not stop.is_set():
            text = b"streaming %03d" % seq
            pi.send(Frame(MessageType.ROW, seq, bytes([1, 0, len(text), 0]) + text))
            seq = (seq + 1) & 0xFF
            stop.wait(0.002)

    streamer = threading.Thread(target=stream)
    streamer.start()
    try:
        board.reset()
        boot = pi.expect(
            lambda f: f.type == MessageType.INFO and bool(f.payload[5] & INFO_FLAG_BOOT)
        )
    finally:
        stop.set()
        streamer.join()
    assert boot.payload[6] & EXTERNAL_RESET
    board.wait_for_text("waiting for Pi", row=0, timeout=LCD_WAIT)

    pi.handshake()
    pi.send_row(0, b"after the reset")
    pi.send_row(1, b"")
    board.wait_for_lcd(lambda rows: rows == ("after the reset ", " " * 16), timeout=LCD_WAIT)
