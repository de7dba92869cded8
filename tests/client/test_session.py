"""The client's sans-I/O session core, fed JSON lines by hand: no sockets, no clock."""

from __future__ import annotations

import json
from typing import Any

import pytest

from walkie.client.session import (
    MAX_SEEN_MIDS,
    RESUME_HOLD_SECONDS,
    Acked,
    Busy,
    ClientSession,
    Error,
    Event,
    Floor,
    LinkChanged,
    LinkState,
    Message,
    NickChanged,
    NickTaken,
    OutboxFull,
    Queued,
    StationJoined,
    StationLeft,
    StationRenamed,
    Stations,
)


def line(**obj: Any) -> str:
    return json.dumps(obj)


def sent(session: ClientSession) -> list[dict[str, Any]]:
    out = []
    for text in session.data_to_send():
        if text.startswith("/hello "):
            out.append({"hello": json.loads(text[len("/hello ") :])})
        else:
            out.append(json.loads(text))
    return out


def welcome(session: ClientSession, nick: str = "alice", now: float = 0.0) -> None:
    session.receive_line(line(t="welcome", v=1, nick=nick, server="walkie", max_line=1000), now)


def connect(
    session: ClientSession, nick: str = "alice", last: int | None = 0
) -> list[dict[str, Any]]:
    """Connect, welcome, end the hello replay; returns what the client sent."""
    session.connection_made()
    welcome(session, nick)
    session.receive_line(line(t="synced", last=last), 0.0)
    return sent(session)


def msg(mid: int, text: str, nick: str = "bob", history: bool = False) -> str:
    return line(t="msg", mid=mid, nick=nick, text=text, ts=1.5, history=history)


def messages(events: list[Event]) -> list[tuple[int, str, bool]]:
    return [(e.mid, e.text, e.history) for e in events if isinstance(e, Message)]


def test_hello_carries_version_nick_and_a_session_id_kept_for_the_lifetime() -> None:
    session = ClientSession(nick="alice")
    session.connection_made()
    (first,) = sent(session)
    session.connection_lost("gone")
    session.connection_made()
    (second,) = sent(session)
    assert first["hello"]["v"] == 1
    assert first["hello"]["nick"] == "alice"
    assert first["hello"]["session"] == second["hello"]["session"]
    assert ClientSession().session_id != session.session_id


def test_a_fresh_start_shows_no_history_but_learns_where_to_resume_from() -> None:
    session = ClientSession(nick="alice")
    session.connection_made()
    assert "last" not in sent(session)[0]["hello"]
    welcome(session)
    session.receive_line(msg(41, "old news", history=True), 0)
    session.receive_line(line(t="synced", last=41), 0)
    assert messages(session.events_received()) == []
    session.connection_lost("gone")
    session.connection_made()
    assert sent(session)[0]["hello"]["last"] == 41


def test_an_empty_channel_resumes_from_the_synced_id() -> None:
    session = ClientSession()
    connect(session, last=0)
    session.connection_lost("gone")
    session.connection_made()
    assert sent(session)[0]["hello"]["last"] == 0


def test_initial_history_is_shown_marked_as_history() -> None:
    session = ClientSession(initial_history=5)
    session.connection_made()
    assert sent(session)[0]["hello"]["history"] == 5
    welcome(session)
    session.receive_line(msg(1, "earlier", history=True), 0)
    assert messages(session.events_received()) == [(1, "earlier", True)]


def test_welcome_makes_the_link_connected_with_the_hubs_nick() -> None:
    session = ClientSession(nick="alice")
    session.connecting()
    session.connection_made()
    welcome(session, nick="alice2")
    events = session.events_received()
    assert LinkChanged(LinkState.CONNECTED) in events
    assert session.nick == "alice2"
    assert session.connected


def test_a_line_is_sent_with_an_increasing_id_and_leaves_the_outbox_when_acked() -> None:
    session = ClientSession()
    connect(session)
    first = session.send_message("hello")
    second = session.send_message("again")
    assert [m["id"] for m in sent(session)] == [first, second]
    assert first is not None and second is not None and second > first
    session.receive_line(line(t="ack", id=first, mid=7), 0)
    assert [e.id for e in session.outbox] == [second]
    assert Acked(first, 7, "hello") in session.events_received()


def test_a_queued_ack_keeps_the_line_in_the_outbox_until_the_final_ack() -> None:
    session = ClientSession()
    connect(session)
    message_id = session.send_message("wait for me")
    assert message_id is not None
    session.receive_line(line(t="ack", id=message_id, queued=True), 0)
    assert session.outbox[0].queued
    assert Queued(message_id, "wait for me") in session.events_received()
    session.receive_line(line(t="ack", id=message_id, mid=3), 0)
    assert session.outbox == ()


def test_lines_typed_while_disconnected_are_sent_in_order_after_the_welcome() -> None:
    session = ClientSession()
    session.send_message("one")
    session.send_message("two")
    session.connection_made()
    assert len(sent(session)) == 1  # only the hello: wait for the welcome
    welcome(session)
    assert [m["text"] for m in sent(session)] == ["one", "two"]


def test_unacked_lines_are_resent_with_the_same_ids_after_a_reconnect() -> None:
    session = ClientSession()
    connect(session)
    first = session.send_message("one")
    second = session.send_message("two")
    sent(session)
    session.receive_line(line(t="ack", id=first, mid=10), 0)
    session.connection_lost("reset")
    assert session.state is LinkState.DISCONNECTED
    session.connection_made()
    welcome(session)
    resent = [m for m in sent(session) if m.get("t") == "msg"]
    assert resent == [{"t": "msg", "id": second, "text": "two"}]


def test_a_refused_line_is_reported_and_never_retried() -> None:
    session = ClientSession()
    connect(session)
    message_id = session.send_message("x")
    session.receive_line(line(t="error", code="not_stored", text="disk full", id=message_id), 0)
    assert Error("not_stored", "disk full", message_id, "x") in session.events_received()
    session.connection_lost("reset")
    session.connection_made()
    welcome(session)
    assert [m for m in sent(session) if m.get("t") == "msg"] == []


def test_lines_the_floor_queue_refuses_wait_here_and_go_in_order_when_it_frees() -> None:
    session = ClientSession()
    connect(session)
    first = session.send_message("first")
    sent(session)
    session.receive_line(line(t="error", code="queue_full", text="full", id=first), 0)
    session.send_message("second")  # after the held one, never before it
    assert sent(session) == []
    assert [entry.text for entry in session.outbox if entry.queued] == ["first", "second"]
    session.receive_line(line(t="floor", holder=None, reason="over"), 0)
    assert [m["text"] for m in sent(session) if m.get("t") == "msg"] == ["first", "second"]


def test_a_line_too_long_for_the_hub_is_refused_locally() -> None:
    session = ClientSession()
    connect(session)
    assert session.send_message("x" * 1001) is None
    (error,) = [e for e in session.events_received() if isinstance(e, Error)]
    assert error.code == "too_long"
    assert error.text == "line too long (1001 bytes; the hub takes 1000)"
    assert session.outbox == ()
    assert sent(session) == []


def test_empty_or_control_only_text_is_not_sent() -> None:
    session = ClientSession()
    connect(session)
    assert session.send_message("   ") is None
    assert session.send_message("\x1b[2J\x07") is None
    assert sent(session) == []


def test_outgoing_text_is_sanitised() -> None:
    session = ClientSession()
    connect(session)
    session.send_message("hi\x1b[31m red\tthere")
    assert sent(session)[0]["text"] == "hi red there"


def test_the_outbox_is_bounded() -> None:
    session = ClientSession(max_outbox=2)
    session.send_message("a")
    session.send_message("b")
    with pytest.raises(OutboxFull):
        session.send_message("c")


def test_the_same_mid_is_never_reported_twice() -> None:
    session = ClientSession()
    connect(session)
    session.receive_line(msg(5, "hi"), 0)
    session.receive_line(msg(5, "hi"), 0)
    session.connection_lost("reset")
    session.connection_made()
    welcome(session)
    session.receive_line(msg(5, "hi", history=True), 0)
    session.receive_line(msg(6, "missed", history=True), 0)
    assert messages(session.events_received()) == [(5, "hi", False), (6, "missed", True)]


def test_resume_asks_for_everything_after_the_newest_mid_seen() -> None:
    session = ClientSession()
    connect(session)
    session.receive_line(msg(8, "b"), 0)
    session.receive_line(msg(9, "c"), 0)
    session.connection_lost("reset")
    session.connection_made()
    assert sent(session)[0]["hello"]["last"] == 9


def test_our_own_line_stored_just_before_the_link_broke_is_not_shown_back_to_us() -> None:
    session = ClientSession(nick="alice")
    connect(session)
    message_id = session.send_message("did this arrive?")
    sent(session)
    session.connection_lost("reset")  # the ack was lost with the connection
    session.connection_made()
    welcome(session, now=100.0)
    assert session.holding
    session.receive_line(msg(1, "before", nick="bob", history=True), 100.0)
    session.receive_line(msg(2, "did this arrive?", nick="alice", history=True), 100.0)
    session.receive_line(line(t="synced", last=2), 100.0)
    assert messages(session.events_received()) == []
    session.receive_line(line(t="ack", id=message_id, mid=2), 100.1)
    assert messages(session.events_received()) == [(1, "before", True)]
    assert not session.holding


def test_held_messages_are_released_after_the_hold_time() -> None:
    session = ClientSession()
    connect(session)
    session.send_message("x")
    session.connection_lost("reset")
    session.connection_made()
    welcome(session, now=100.0)
    session.receive_line(msg(1, "missed", history=True), 100.0)
    session.tick(100.0 + RESUME_HOLD_SECONDS / 2)
    assert messages(session.events_received()) == []
    session.tick(100.0 + RESUME_HOLD_SECONDS)
    assert messages(session.events_received()) == [(1, "missed", True)]


def test_messages_held_when_the_link_breaks_again_are_fetched_by_the_next_resume() -> None:
    session = ClientSession()
    connect(session, last=0)
    session.send_message("x")
    session.connection_lost("reset")
    session.connection_made()
    welcome(session)
    session.receive_line(msg(1, "missed", history=True), 0)
    session.connection_lost("reset")
    session.connection_made()
    assert sent(session)[0]["hello"]["last"] == 0


def test_an_explicit_history_request_shows_seen_messages_again_marked() -> None:
    session = ClientSession()
    connect(session)
    session.receive_line(msg(4, "hi"), 0)
    assert session.request_history(5)
    assert sent(session) == [{"t": "history", "n": 5}]
    session.receive_line(msg(4, "hi", history=True), 0)
    session.receive_line(line(t="synced", last=4), 0)
    session.receive_line(msg(4, "hi", history=True), 0)
    assert messages(session.events_received()) == [(4, "hi", False), (4, "hi", True)]


def test_the_dedupe_memory_is_bounded() -> None:
    session = ClientSession()
    connect(session)
    for mid in range(1, MAX_SEEN_MIDS + 10):
        session.receive_line(msg(mid, "x"), 0)
    assert len(session._seen) == MAX_SEEN_MIDS


def test_received_text_is_sanitised() -> None:
    session = ClientSession()
    connect(session)
    session.receive_line(msg(1, "\x1b]0;pwned\x07hi\x1b[2J\u202eyo", nick="b\x1b[1mob"), 0)
    (message,) = [e for e in session.events_received() if isinstance(e, Message)]
    assert (message.nick, message.text) == ("bob", "hiyo")


def test_floor_busy_and_station_changes_are_tracked() -> None:
    session = ClientSession()
    connect(session)
    session.receive_line(line(t="stations", nicks=["alice", "bob"], holder=None), 0)
    session.receive_line(line(t="joined", nick="carol", count=3), 0)
    session.receive_line(line(t="floor", holder="bob", until=30.0), 0)
    session.receive_line(line(t="renamed", old="bob", new="rob"), 0)
    session.receive_line(line(t="left", nick="carol", count=2), 0)
    session.receive_line(line(t="busy", holder="rob"), 0)
    events = session.events_received()
    assert session.stations == ("alice", "rob")
    assert session.holder == "rob"
    assert Floor("bob", 30.0) in events
    assert Busy("rob") in events
    assert Stations(("alice", "bob"), None) in events
    assert StationJoined("carol") in events
    assert StationRenamed("bob", "rob") in events
    assert StationLeft("carol") in events


def test_a_rename_of_ourselves_changes_our_nick_for_later_hellos() -> None:
    session = ClientSession(nick="alice")
    connect(session)
    assert session.change_nick("ally")
    assert sent(session) == [{"t": "nick", "nick": "ally"}]
    session.receive_line(line(t="renamed", old="alice", new="ally"), 0)
    assert NickChanged("ally") in session.events_received()
    session.connection_lost("reset")
    session.connection_made()
    assert sent(session)[0]["hello"]["nick"] == "ally"


def test_an_invalid_nick_is_refused_before_sending() -> None:
    session = ClientSession()
    connect(session)
    with pytest.raises(ValueError):
        session.change_nick("9lives")


def test_commands_are_not_sent_while_offline() -> None:
    session = ClientSession()
    assert not session.talk()
    assert not session.over()
    assert sent(session) == []


def test_a_version_refusal_is_fatal() -> None:
    session = ClientSession()
    session.connection_made()
    session.receive_line(line(t="error", code="version", text="protocol version 2 needed"), 0)
    assert session.fatal is not None and session.fatal.code == "version"
    assert session.state is LinkState.CLOSED
    session.connection_lost("closed")
    assert session.state is LinkState.CLOSED


def test_plain_greeting_lines_before_the_welcome_are_skipped() -> None:
    session = ClientSession()
    session.connection_made()
    session.receive_line("* welcome to walkie, you are guest1", 0)
    welcome(session)
    assert session.connected


def test_a_non_walkie_answer_to_the_hello_is_fatal() -> None:
    session = ClientSession()
    session.connection_made()
    for _ in range(20):
        session.receive_line("SSH-2.0-OpenSSH_9.2", 0)
    assert session.fatal is not None


def test_a_non_json_object_before_the_welcome_is_fatal() -> None:
    session = ClientSession()
    session.connection_made()
    session.receive_line("{oops", 0)
    assert session.fatal is not None


def test_garbage_after_the_welcome_is_reported_not_fatal() -> None:
    session = ClientSession()
    connect(session)
    session.receive_line("{not json", 0)
    session.receive_line(line(t="msg", mid="x"), 0)
    session.receive_line(line(t="from-the-future"), 0)
    assert session.fatal is None
    assert [e.code for e in session.events_received() if isinstance(e, Error)] == [
        "protocol",
        "protocol",
    ]


def test_a_hub_with_a_new_history_is_not_confused_with_the_old_one() -> None:
    session = ClientSession(nick="alice")
    session.connection_made()
    session.receive_line(line(t="welcome", v=1, nick="alice", channel="old"), 0.0)
    session.receive_line(line(t="synced", last=0), 0.0)
    session.receive_line(msg(1, "from the old history"), 0.0)
    session.connection_lost("hub replaced")
    session.connection_made()
    assert sent(session)[-1]["hello"]["last"] == 1
    session.receive_line(line(t="welcome", v=1, nick="alice", channel="new"), 0.0)
    session.receive_line(line(t="synced", last=0), 0.0)
    session.events_received()
    session.receive_line(msg(1, "first of the new history"), 0.0)
    assert messages(session.events_received()) == [(1, "first of the new history", False)]


def test_a_resume_in_pages_asks_for_each_next_page_and_loses_nothing() -> None:
    session = ClientSession(nick="alice")
    connect(session, last=0)
    session.receive_line(msg(1, "seen before"), 0.0)
    session.events_received()
    session.connection_lost("hub restarted")
    session.connection_made()
    session.receive_line(line(t="welcome", v=1, nick="alice"), 0.0)
    session.receive_line(msg(2, "page one", history=True), 0.0)
    session.receive_line(msg(9, "live while replaying"), 0.0)
    session.receive_line(line(t="synced", last=2, more=True), 0.0)
    assert sent(session)[-1] == {"t": "resume", "after": 2}
    session.receive_line(msg(3, "page two", history=True), 0.0)
    session.receive_line(msg(9, "live while replaying", history=True), 0.0)
    session.receive_line(line(t="synced", last=9, more=False), 0.0)
    shown = messages(session.events_received())
    assert [text for _, text, _ in shown] == ["page one", "live while replaying", "page two"]
    session.connection_lost("again")
    session.connection_made()
    assert sent(session)[-1]["hello"]["last"] == 9


def test_a_wanted_nick_that_is_taken_is_told_once_per_nick_given() -> None:
    session = ClientSession(nick="zed")
    connect(session, nick="zed2")
    assert [e for e in session.events_received() if isinstance(e, NickTaken)] == [
        NickTaken("zed", "zed2")
    ]
    session.connection_lost("reset")
    connect(session, nick="zed2")  # the same answer again: nothing new to tell
    assert not [e for e in session.events_received() if isinstance(e, NickTaken)]
    session.connection_lost("reset")
    connect(session, nick="zed")  # freed meanwhile: got what we asked for
    assert not [e for e in session.events_received() if isinstance(e, NickTaken)]


def test_a_message_id_no_hub_could_store_is_not_taken_nor_sent_back() -> None:
    # A hostile hub's mid of 2**64 would come back in the next hello's
    # "last", which a real hub refuses: the link would fail for good.
    session = ClientSession(nick="alice")
    connect(session)
    session.events_received()
    session.receive_line(msg(2**64, "from a hub that lies"), 1.0)
    session.receive_line(msg(7, "fine"), 1.0)
    events = session.events_received()
    assert messages(events) == [(7, "fine", False)]
    assert any(isinstance(e, Error) and e.code == "protocol" for e in events)
    session.connection_lost("gone")
    session.connection_made()
    (hello,) = sent(session)
    assert hello["hello"]["last"] == 7
