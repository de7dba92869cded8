"""The Pi's link state machine, driven with bytes and times: no port, no clock."""

from __future__ import annotations

from walkie.board import messages
from walkie.board.frames import Frame, FrameDecoder, MessageType, encode_frame
from walkie.board.link import (
    DEAD_S,
    HEARTBEAT_S,
    HELLO_INTERVAL_S,
    PI_WINDOW,
    RETRY_S,
    BoardReset,
    ButtonChanged,
    Link,
    LinkDown,
    LinkState,
    LinkUp,
    Output,
    ProtocolMismatch,
    RowContent,
)
from walkie.board.messages import BoardInfo, RowPiece

INFO_16X2 = BoardInfo(1, 1, 0, 16, 2)
INFO_20X4 = BoardInfo(1, 1, 0, 20, 4)


def sent(output: Output) -> list[Frame]:
    return FrameDecoder().feed(output.data)


def rows_in(output: Output) -> list[tuple[int, RowPiece]]:
    return [
        (frame.seq, messages.parse_row(frame))
        for frame in sent(output)
        if frame.type is MessageType.ROW
    ]


def board(frame: Frame) -> bytes:
    return encode_frame(frame)


def up_link(info: BoardInfo = INFO_16X2, now: float = 0.0) -> tuple[Link, Output]:
    link = Link()
    link.connection_made(now)
    return link, link.receive(board(messages.info(info)), now)


def test_opening_the_port_flushes_and_says_hello() -> None:
    output = Link().connection_made(0.0)
    assert output.data.startswith(b"\x00")
    assert sent(output) == [messages.hello()]


def test_hello_repeats_every_250_ms_until_the_board_answers() -> None:
    link = Link()
    link.connection_made(0.0)
    assert link.next_deadline() == HELLO_INTERVAL_S
    assert sent(link.tick(0.1)) == []
    assert sent(link.tick(HELLO_INTERVAL_S)) == [messages.hello()]
    assert link.state is LinkState.HANDSHAKING


def test_info_brings_the_link_up_and_pushes_every_row() -> None:
    link = Link()
    link.show([RowContent(b"bob: hi", True)], 0.0)
    link.connection_made(0.0)
    output = link.receive(board(messages.info(INFO_16X2)), 0.01)
    assert output.events == [LinkUp(INFO_16X2)]
    assert link.is_up
    pushed = rows_in(output)
    assert [(seq, piece.row, piece.data) for seq, piece in pushed] == [
        (0, 0, b"bob: hi"),
        (1, 1, b""),
    ]
    assert pushed[0][1].marquee


def test_only_rows_the_board_has_are_pushed() -> None:
    link = Link()
    link.show([RowContent(bytes([65 + row])) for row in range(4)], 0.0)
    link.connection_made(0.0)
    output = link.receive(board(messages.info(INFO_16X2)), 0.0)
    assert [piece.row for _, piece in rows_in(output)] == [0, 1]


def test_at_most_two_rows_are_unacknowledged_and_an_ack_releases_the_next() -> None:
    link, output = up_link(INFO_20X4)
    assert len(rows_in(output)) == PI_WINDOW
    output = link.receive(board(messages.ack(0)), 0.01)
    assert [seq for seq, _ in rows_in(output)] == [2]
    output = link.receive(board(messages.ack(2)), 0.02)  # cumulative: acknowledges 1 too
    assert [seq for seq, _ in rows_in(output)] == [3]
    link.receive(board(messages.ack(3)), 0.03)
    assert link.rows_unacknowledged == 0


def test_unacknowledged_rows_are_resent_in_order_after_60_ms() -> None:
    link, first = up_link()
    assert rows_in(link.tick(RETRY_S / 2)) == []
    again = link.tick(RETRY_S)
    assert rows_in(again) == rows_in(first)
    assert link.stats.retransmissions == 2


def test_a_stale_ack_changes_nothing() -> None:
    link, _ = up_link()
    link.receive(board(messages.ack(200)), 0.01)
    assert link.rows_unacknowledged == 2


def test_unsent_rows_are_superseded_by_newer_ones() -> None:
    link, _ = up_link(INFO_20X4)  # rows 0 and 1 in flight, 2 and 3 waiting
    for text in (b"one", b"two", b"three"):
        link.show([RowContent(b""), RowContent(b""), RowContent(text)], 0.01)
    output = link.receive(board(messages.ack(1)), 0.02)
    rows = [(piece.row, piece.data) for _, piece in rows_in(output)]
    assert rows == [(3, b""), (2, b"three")]
    assert all(data not in (b"one", b"two") for _, data in rows)
    assert link.stats.rows_superseded >= 2


def test_a_row_already_sent_is_never_changed_under_its_seq() -> None:
    link, first = up_link()
    link.show([RowContent(b"newer")], 0.01)
    resent = link.tick(RETRY_S)
    assert rows_in(resent) == rows_in(first)


def test_an_unchanged_row_is_not_sent_again() -> None:
    link, _ = up_link()
    link.receive(board(messages.ack(1)), 0.01)
    assert rows_in(link.show([RowContent(b"")], 0.02)) == []


def test_a_long_row_goes_in_two_pieces_in_order() -> None:
    link = Link()
    text = bytes(range(0x21, 0x21 + 80))
    link.show([RowContent(text)], 0.0)
    link.connection_made(0.0)
    pieces = [piece for _, piece in rows_in(link.receive(board(messages.info(INFO_16X2)), 0.0))]
    assert [(p.row, p.total, p.offset, len(p.data)) for p in pieces] == [
        (0, 80, 0, 52),
        (0, 80, 52, 28),
    ]


def test_rows_longer_than_80_bytes_are_cut() -> None:
    link = Link()
    link.show([RowContent(b"x" * 200)], 0.0)
    assert link.screen[0].data == b"x" * 80


def test_a_button_press_is_acknowledged_and_reported_once() -> None:
    link, _ = up_link()
    output = link.receive(board(messages.button(0, True, 1234)), 0.1)
    assert output.events == [ButtonChanged(True, 1234)]
    assert messages.ack(0) in sent(output)
    duplicate = link.receive(board(messages.button(0, True, 1234)), 0.2)
    assert duplicate.events == []
    assert messages.ack(0) in sent(duplicate)
    assert link.stats.duplicates == 1
    released = link.receive(board(messages.button(1, False, 1500)), 0.3)
    assert released.events == [ButtonChanged(False, 1500)]


def test_a_button_message_from_the_future_is_ignored_without_ack() -> None:
    link, _ = up_link()
    output = link.receive(board(messages.button(5, True, 1)), 0.1)
    assert output.events == []
    assert sent(output) == []


def test_buttons_before_the_handshake_are_ignored() -> None:
    link = Link()
    link.connection_made(0.0)
    assert link.receive(board(messages.button(0, True, 1)), 0.1).events == []


def test_a_heartbeat_goes_out_after_a_quiet_second() -> None:
    link, _ = up_link()
    link.receive(board(messages.ack(1)), 0.0)
    assert sent(link.tick(HEARTBEAT_S - 0.01)) == []
    assert sent(link.tick(HEARTBEAT_S)) == [messages.heartbeat()]


def test_the_board_heartbeats_keep_the_link_up() -> None:
    link, _ = up_link()
    link.receive(board(messages.ack(1)), 0.0)
    for second in range(1, 10):
        link.receive(board(messages.heartbeat()), float(second))
        link.tick(second + 0.5)
    assert link.is_up


def test_three_silent_seconds_take_the_link_down_and_restart_the_handshake() -> None:
    link, _ = up_link()
    assert link.next_deadline() is not None
    assert link.tick(DEAD_S - 0.01).events == []
    output = link.tick(DEAD_S)
    assert output.events == [LinkDown("no frame from the board for 3 s")]
    assert sent(output) == [messages.hello()]
    assert link.state is LinkState.HANDSHAKING


def test_a_boot_info_restarts_the_handshake_and_the_screen_is_pushed_again() -> None:
    link, _ = up_link()
    link.show([RowContent(b"alice: hello")], 0.01)
    boot = BoardInfo(1, 1, 0, 16, 2, boot=True, reset_cause=2)
    output = link.receive(board(messages.info(boot)), 0.5)
    assert output.events == [BoardReset(boot), LinkDown("the board reset")]
    assert sent(output) == [messages.hello()]
    again = link.receive(board(messages.info(INFO_16X2)), 0.6)
    assert again.events == [LinkUp(INFO_16X2)]
    assert [(seq, piece.data) for seq, piece in rows_in(again)] == [(0, b"alice: hello"), (1, b"")]


def test_a_late_answer_to_an_earlier_hello_neither_resets_rows_nor_loses_buttons() -> None:
    link, _ = up_link()  # rows 0 and 1 went out as seq 0 and 1
    link.receive(board(messages.ack(1)), 0.01)
    output = link.receive(board(messages.info(INFO_16X2)), 0.02)  # answers a HELLO that crossed
    assert output.events == []
    assert rows_in(output) == []
    # The board restarted its send counter when it answered: seq 0 is new, not a duplicate.
    assert link.receive(board(messages.button(0, True, 7)), 0.03).events == [ButtonChanged(True, 7)]
    # Our next row continues our own numbering.
    assert [seq for seq, _ in rows_in(link.show([RowContent(b"next")], 0.04))] == [2]


def test_a_board_with_another_protocol_is_reported_once_and_not_used() -> None:
    link = Link()
    link.connection_made(0.0)
    other = BoardInfo(2, 1, 0, 16, 2)
    assert link.receive(board(messages.info(other)), 0.0).events == [ProtocolMismatch(other)]
    assert link.receive(board(messages.info(other)), 0.3).events == []
    assert not link.is_up


def test_losing_the_port_takes_the_link_down_and_reopening_pushes_again() -> None:
    link, _ = up_link()
    output = link.connection_lost(1.0, "port failed")
    assert output.events == [LinkDown("port failed")]
    assert link.state is LinkState.CLOSED and link.next_deadline() is None
    assert link.receive(board(messages.info(INFO_16X2)), 1.1).events == []
    link.connection_made(2.0)
    assert len(rows_in(link.receive(board(messages.info(INFO_16X2)), 2.1))) == 2


def test_after_link_down_a_held_button_is_reported_again() -> None:
    link, _ = up_link()
    link.receive(board(messages.button(0, True, 1)), 0.1)
    link.receive(board(messages.info(BoardInfo(1, 1, 0, 16, 2, boot=True))), 0.2)
    link.receive(board(messages.info(INFO_16X2)), 0.3)
    assert link.receive(board(messages.button(0, True, 5)), 0.4).events == [ButtonChanged(True, 5)]


def test_the_deadline_is_the_earliest_of_retry_heartbeat_and_dead_link() -> None:
    link, _ = up_link(now=10.0)
    assert link.next_deadline() == 10.0 + RETRY_S
    link.receive(board(messages.ack(1)), 10.01)
    assert link.next_deadline() == 10.0 + HEARTBEAT_S
