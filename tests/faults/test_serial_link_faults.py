"""The station's serial link under faults, against the real firmware in the
board simulator: the port yanked and restored while screens stream, and line
noise at a bit-error rate of 1e-3 in both directions. Each time the newest
screen arrives intact, the button still gets through, and nothing hangs."""

from __future__ import annotations

import threading
from pathlib import Path

from faults.kit import NoisyRelay, StartSimulator
from support.board_events import EventLog
from support.waiting import DEADLINE, wait_until
from walkie.board.link import ButtonChanged, LinkDown, LinkUp, RowContent
from walkie.board.port import BoardLink, PortUnavailable
from walkie.sim import BoardSimulator

LCD_COLS = 16
SCREEN_INTERVAL = 0.005
"""Seconds between screens while streaming: far more often than the link can send."""
STREAM_SECONDS = 1.5
BIT_ERROR_RATE = 1e-3
NOISE_SEED = 1234


def screen(number: int) -> list[RowContent]:
    return [
        RowContent(f"screen {number:06d}".encode(), marquee=False),
        RowContent(f"status {number % 997:03d}".encode(), marquee=False),
    ]


def shown(rows: list[RowContent]) -> tuple[str, ...]:
    """What the LCD shows for ``rows``: the text padded to the width."""
    return tuple(row.data.decode().ljust(LCD_COLS) for row in rows)


class ScreenStream:
    """Shows a new screen every few milliseconds from a thread, like a busy channel."""

    def __init__(self, board: BoardLink) -> None:
        self.board = board
        self.count = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(SCREEN_INTERVAL):
            self.count += 1
            self.board.show(screen(self.count))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(DEADLINE)
        assert not self._thread.is_alive()


def close_without_hanging(board: BoardLink) -> None:
    closer = threading.Thread(target=board.close, daemon=True)
    closer.start()
    closer.join(DEADLINE)
    assert not closer.is_alive(), "BoardLink.close() hung"


def press_gets_through(simulator: BoardSimulator, events: EventLog) -> None:
    before = events.count(ButtonChanged)
    simulator.press()
    wait_until(
        lambda: any(
            isinstance(event, ButtonChanged) and event.pressed for event in events.all()[before:]
        ),
        "the press to reach the Pi side",
    )
    simulator.release()


def wait_shown(simulator: BoardSimulator, rows: list[RowContent]) -> None:
    wanted = shown(rows)
    simulator.wait_for_lcd(lambda lcd: tuple(lcd) == wanted, timeout=DEADLINE)


def test_a_yanked_and_restored_port_gets_the_newest_screen_and_the_button_back(
    start_simulator: StartSimulator, tmp_link: Path
) -> None:
    first = start_simulator(link=tmp_link)
    events = EventLog()
    board = BoardLink(str(tmp_link), on_event=events).start()
    try:
        wait_until(lambda: events.count(LinkUp) >= 1, "the first link up")
        stream = ScreenStream(board)
        wait_until(lambda: stream.count > 50, "screens streaming")
        first.stop()  # the USB cable pulled mid-stream
        wait_until(
            lambda: events.count(LinkDown) >= 1 and events.count(PortUnavailable) >= 1,
            "the Pi side noticing the port is gone",
        )
        second = start_simulator(link=tmp_link)  # plugged back in: same path, new pty
        wait_until(lambda: events.count(LinkUp) >= 2, "the link up again")
        threading.Event().wait(STREAM_SECONDS)
        stream.stop()
        final = screen(stream.count + 1)
        board.show(final)
        wait_shown(second, final)
        press_gets_through(second, events)
    finally:
        close_without_hanging(board)


def test_line_noise_at_a_bit_error_rate_of_1e_3_still_delivers_the_newest_screen(
    start_simulator: StartSimulator,
) -> None:
    simulator = start_simulator()
    relay = NoisyRelay(simulator.port, BIT_ERROR_RATE, NOISE_SEED)
    events = EventLog()
    board = BoardLink(relay.path, on_event=events).start()
    try:
        wait_until(lambda: events.count(LinkUp) >= 1, "the link up through the noise")
        stream = ScreenStream(board)
        threading.Event().wait(STREAM_SECONDS)
        stream.stop()
        final = screen(stream.count + 1)
        board.show(final)
        wait_shown(simulator, final)
        press_gets_through(simulator, events)
        assert relay.flips > 0, "the relay flipped no bits: the noise did not happen"
    finally:
        close_without_hanging(board)
        relay.close()
