"""The board link driver over real ptys against a fault-injecting fake board.

Nothing corrupted is ever shown, the newest screen always arrives, and nothing
hangs: noise, flipped bits and dropped bytes both ways, a board that resets
mid-frame (announced or not), a board that goes quiet, and a port that
disappears and comes back at the same path.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from support.board_events import EventLog
from support.waiting import DEADLINE, wait_until
from walkie.board.link import BoardReset, ButtonChanged, LinkDown, LinkState, LinkUp, RowContent
from walkie.board.port import BoardEvent, BoardLink, PortOpened, PortUnavailable

FakeBoard = Any  # the class lives in conftest.py; tests get instances from fixtures


@pytest.fixture
def recorder() -> EventLog:
    return EventLog()


@pytest.fixture
def driver(fake_board: FakeBoard, recorder: EventLog) -> Iterator[BoardLink]:
    with BoardLink(port=str(fake_board.link_path), on_event=recorder) as link:
        yield link


def screen(*texts: bytes) -> list[RowContent]:
    return [RowContent(text, marquee=len(text) > 16) for text in texts]


def shows(board: FakeBoard, rows: list[RowContent]) -> bool:
    with board.lock:
        return board.display == [row.data for row in rows]


def is_subsequence(part: list[tuple[bool, int]], whole: list[tuple[bool, int]]) -> bool:
    remaining = iter(whole)
    return all(item in remaining for item in part)


def test_the_screen_arrives_and_the_link_comes_up(
    fake_board: FakeBoard, driver: BoardLink, recorder: EventLog
) -> None:
    rows = screen(b"alice: hello", b"2 on")
    driver.show(rows)
    wait_until(lambda: shows(fake_board, rows), "the screen")
    assert driver.state is LinkState.UP
    assert driver.info is not None and (driver.info.cols, driver.info.rows) == (16, 2)
    assert recorder.count(PortOpened) == 1 and recorder.count(LinkUp) == 1


def test_through_noise_flips_and_drops_nothing_corrupted_is_shown_and_the_newest_wins(
    fake_board: FakeBoard, driver: BoardLink, recorder: EventLog
) -> None:
    wait_until(lambda: driver.state is LinkState.UP, "the link")
    fake_board.fault_rate = 0.02
    rng = random.Random(7)
    wanted: set[tuple[int, bytes]] = set()
    rows: list[RowContent] = []
    for number in range(40):
        message = f"bob: message {number} ".encode() + b"x" * rng.randrange(70)
        rows = screen(message[:80], f"{number} on".encode())
        wanted.update((index, row.data) for index, row in enumerate(rows))
        driver.show(rows)
        if number % 4 == 0:
            fake_board.press(number % 8 == 0)
        time.sleep(rng.uniform(0, 0.05))
    fake_board.press(False)
    time.sleep(0.3)
    fake_board.fault_rate = 0.0
    wait_until(lambda: shows(fake_board, rows), "the newest screen")
    with fake_board.lock:
        shown = list(fake_board.shown)
        buttons_sent = list(fake_board.buttons_sent)
    assert set(shown) <= wanted | {(0, b""), (1, b"")}

    def last_reported_press() -> bool | None:
        changes = [event for event in recorder.all() if isinstance(event, ButtonChanged)]
        return changes[-1].pressed if changes else None

    wait_until(lambda: last_reported_press() is False, "the final release")
    assert fake_board.rejected_frames > 0  # the faults did hit frames
    reported = [(e.pressed, e.board_ms) for e in recorder.all() if isinstance(e, ButtonChanged)]
    assert is_subsequence(reported, buttons_sent)


def test_a_board_reset_mid_frame_gets_the_screen_pushed_again(
    fake_board: FakeBoard, driver: BoardLink, recorder: EventLog
) -> None:
    rows = screen(b"carol: reset me", b"RX carol")
    driver.show(rows)
    wait_until(lambda: shows(fake_board, rows), "the screen")
    fake_board.reset(announce=True)
    wait_until(lambda: recorder.count(BoardReset) == 1, "the reset announcement")
    wait_until(lambda: shows(fake_board, rows), "the screen after the reset")
    assert recorder.count(LinkDown) == 1 and recorder.count(LinkUp) == 2


def test_a_silent_reset_is_noticed_by_the_dead_link_timer(
    fake_board: FakeBoard, driver: BoardLink, recorder: EventLog
) -> None:
    rows = screen(b"dave: are you there", b"1 on")
    driver.show(rows)
    wait_until(lambda: shows(fake_board, rows), "the screen")
    fake_board.reset(announce=False)
    wait_until(lambda: recorder.count(LinkDown) == 1, "the link to go down")
    wait_until(lambda: shows(fake_board, rows), "the screen after the reset")


def test_a_board_that_goes_quiet_takes_the_link_down(
    fake_board: FakeBoard, driver: BoardLink, recorder: EventLog
) -> None:
    wait_until(lambda: driver.state is LinkState.UP, "the link")
    fake_board.muted = True
    wait_until(lambda: recorder.count(LinkDown) == 1, "the link to go down")
    assert driver.state is LinkState.HANDSHAKING
    fake_board.muted = False
    wait_until(lambda: driver.state is LinkState.UP, "the link to come back")


def test_a_port_that_disappears_and_comes_back_gets_the_newest_screen(
    fake_board: FakeBoard, driver: BoardLink, recorder: EventLog
) -> None:
    driver.show(screen(b"erin: before", b"3 on"))
    wait_until(lambda: driver.state is LinkState.UP, "the link")
    fake_board.unplug()
    wait_until(lambda: recorder.count(LinkDown) == 1, "the link to go down")
    wait_until(lambda: recorder.count(PortUnavailable) >= 1, "the reopen attempts")
    newest = screen(b"erin: while unplugged", b"3 on")
    driver.show(newest)
    fake_board.replug()
    wait_until(lambda: shows(fake_board, newest), "the newest screen after replugging")
    assert recorder.count(PortOpened) == 2


def test_close_is_prompt_idempotent_and_leaves_the_port_free(
    fake_board: FakeBoard, recorder: EventLog
) -> None:
    link = BoardLink(port=str(fake_board.link_path), on_event=recorder).start()
    wait_until(lambda: link.state is LinkState.UP, "the link")
    link.close()
    link.close()
    with BoardLink(port=str(fake_board.link_path), on_event=recorder) as again:
        wait_until(lambda: again.state is LinkState.UP, "the link after reopening")


def test_a_screen_shown_just_before_close_is_on_the_board_afterwards(
    fake_board: FakeBoard, recorder: EventLog
) -> None:
    # The board keeps its screen after the Pi side stops (a station's last
    # screen says "offline"). Four pieces: twice the send window, so the
    # board must acknowledge the first two before the rest can go.
    link = BoardLink(port=str(fake_board.link_path), on_event=recorder).start()
    wait_until(lambda: link.state is LinkState.UP, "the link")
    last = screen(b"gina: " + b"g" * 74, b"offline " + b"o" * 72)
    link.show(last)
    link.close()
    assert shows(fake_board, last)


def test_close_returns_even_when_the_board_no_longer_acknowledges(
    fake_board: FakeBoard, recorder: EventLog
) -> None:
    # systemctl stop with a stuck Arduino: the link stays up (heartbeats) but
    # the last screen is never acknowledged; stopping must not wait for it.
    before = set(threading.enumerate())
    link = BoardLink(port=str(fake_board.link_path), on_event=recorder).start()
    (driver_thread,) = set(threading.enumerate()) - before
    wait_until(lambda: link.state is LinkState.UP, "the link")
    fake_board.ignoring_rows = True
    link.show(screen(b"hana: " + b"h" * 74, b"offline"))
    closer = threading.Thread(target=link.close, daemon=True)
    closer.start()
    closer.join(DEADLINE)
    assert not closer.is_alive(), "BoardLink.close() hung on a board that acknowledges nothing"
    assert not driver_thread.is_alive(), "close() returned with the driver still waiting"
    fake_board.ignoring_rows = False
    with BoardLink(port=str(fake_board.link_path), on_event=recorder) as again:
        wait_until(lambda: again.state is LinkState.UP, "the link after reopening")


def test_a_missing_port_is_reported_and_retried_without_dying(
    tmp_path: Path, recorder: EventLog, make_fake_board: Callable[[Path], FakeBoard]
) -> None:
    path = tmp_path / "ttyLATE"
    with BoardLink(port=str(path), on_event=recorder) as link:
        wait_until(lambda: recorder.count(PortUnavailable) == 1, "the open failure")
        board = make_fake_board(path)
        link.show(screen(b"late: hi", b""))
        wait_until(lambda: shows(board, screen(b"late: hi", b"")), "the screen")


def test_an_event_handler_that_raises_does_not_stop_the_driver(fake_board: FakeBoard) -> None:
    def broken(event: BoardEvent) -> None:
        raise RuntimeError("handler bug")

    with BoardLink(port=str(fake_board.link_path), on_event=broken) as link:
        rows = screen(b"frank: still here", b"")
        link.show(rows)
        wait_until(lambda: shows(fake_board, rows), "the screen")
