"""The channel as a pure state machine: nicks, messages, the floor, history.

No sockets here: each test feeds lines to :class:`Channel` and reads what it
would write to whom.
"""

from __future__ import annotations

import json
import time

import pytest

from walkie.channel.history import History
from walkie.channel.state import Broadcast, Channel, ChannelLimits, Close, Enter, Output, Send


class Net:
    """Delivers a channel's outputs to stations the way the hub shell would."""

    def __init__(self, limits: ChannelLimits | None = None, history: History | None = None):
        self.channel = Channel(history or History(":memory:"), limits or ChannelLimits())
        self.inbox: dict[int, list[bytes]] = {}
        self.members: dict[int, bool] = {}
        self.closed: set[int] = set()
        self.now = 0.0

    def apply(self, outputs: list[Output]) -> None:
        for out in outputs:
            if isinstance(out, Send):
                self.inbox[out.conn].append(out.data)
            elif isinstance(out, Broadcast):
                for conn, rich in self.members.items():
                    data = out.rich if rich else out.plain
                    if conn != out.exclude and data is not None:
                        self.inbox[conn].append(data)
            elif isinstance(out, Enter):
                self.members[out.conn] = out.rich
            elif isinstance(out, Close):
                self.closed.add(out.conn)

    def connect(self, conn: int, nick: str | None = None) -> int:
        self.inbox[conn] = []
        self.apply(self.channel.connect(conn, self.now))
        if nick:
            self.say(conn, f"/nick {nick}")
        return conn

    def connect_rich(self, conn: int, **hello: object) -> int:
        self.inbox[conn] = []
        self.apply(self.channel.connect(conn, self.now))
        self.lines(conn)  # the plain-mode greeting, which rich clients skip
        self.say(conn, "/hello " + json.dumps({"v": 1, **hello}))
        return conn

    def say(self, conn: int, line: str | bytes) -> None:
        data = line.encode() if isinstance(line, str) else line
        self.apply(self.channel.receive(conn, data, self.now))

    def leave(self, conn: int) -> None:
        self.members.pop(conn, None)
        self.apply(self.channel.disconnect(conn, self.now))

    def wait(self, seconds: float) -> None:
        self.now += seconds
        self.apply(self.channel.tick(self.now))

    def lines(self, conn: int) -> list[str]:
        got = [line.decode().rstrip("\n") for line in self.inbox[conn]]
        self.inbox[conn].clear()
        return got

    def objects(self, conn: int) -> list[dict[str, object]]:
        return [json.loads(line) for line in self.lines(conn)]


@pytest.fixture
def net() -> Net:
    return Net()


def test_a_message_reaches_every_other_station_and_is_not_echoed(net: Net) -> None:
    alice, bob, carol = net.connect(1, "alice"), net.connect(2, "bob"), net.connect(3, "carol")
    for conn in (alice, bob, carol):
        net.lines(conn)
    net.say(alice, "hello all")
    assert net.lines(bob) == ["<alice> hello all"]
    assert net.lines(carol) == ["<alice> hello all"]
    assert net.lines(alice) == []


def test_a_station_without_a_nick_gets_a_unique_one(net: Net) -> None:
    first, second = net.connect(1), net.connect(2)
    assert "you are guest1" in net.lines(first)[0]
    assert "you are guest2" in net.lines(second)[0]


def test_a_new_connection_joins_after_a_grace_period_if_it_stays_silent(net: Net) -> None:
    watcher = net.connect(1, "watcher")
    net.lines(watcher)
    net.connect(2)
    assert net.lines(watcher) == []
    net.wait(1.5)
    assert net.lines(watcher) == ["* guest2 joined (2 on the channel)"]


def test_a_silent_listener_gets_what_was_said_while_it_was_joining(net: Net) -> None:
    bob = net.connect(1, "bob")
    net.say(bob, "before you came")
    listener = net.connect(2)
    assert "you are guest2" in net.lines(listener)[0]
    net.say(bob, "just after your welcome")
    net.wait(0.5)
    net.say(bob, "still in your first second")
    assert net.lines(listener) == []
    net.wait(1.0)
    assert net.lines(listener) == [
        "<bob> just after your welcome",
        "<bob> still in your first second",
    ]
    net.say(bob, "and now live")
    assert net.lines(listener) == ["<bob> and now live"]


def test_a_plain_station_speaking_at_once_hears_what_came_first(net: Net) -> None:
    bob = net.connect(1, "bob")
    carol = net.connect(2)
    net.lines(carol)
    net.say(bob, "welcome carol")
    net.say(carol, "/nick carol")
    assert net.lines(carol)[0] == "<bob> welcome carol"


def test_nick_changes_are_validated_and_unique(net: Net) -> None:
    alice, bob = net.connect(1, "alice"), net.connect(2)
    net.lines(bob)
    net.say(bob, "/nick ALICE")
    assert net.lines(bob) == ["! nick ALICE is taken"]
    net.say(bob, "/nick 9lives")
    assert net.lines(bob)[0].startswith("! invalid nick")
    net.lines(alice)
    net.say(bob, "/nick bob")
    assert net.lines(alice) == ["* guest2 is now bob"]


def test_who_lists_stations_and_the_talker(net: Net) -> None:
    alice, bob = net.connect(1, "alice"), net.connect(2, "bob")
    net.say(bob, "/talk")
    net.lines(alice)
    net.say(alice, "/who")
    assert net.lines(alice) == ["* 2 on the channel: alice, bob; bob is talking"]


def test_talk_is_refused_with_the_holders_name_while_someone_holds_the_floor(net: Net) -> None:
    alice, bob, carol = net.connect(1, "alice"), net.connect(2, "bob"), net.connect(3, "carol")
    for conn in (alice, bob, carol):
        net.lines(conn)
    net.say(alice, "/talk")
    assert net.lines(bob) == ["* alice is talking"]
    assert net.lines(alice) == ["* alice is talking"]
    net.say(bob, "/talk")
    assert net.lines(bob) == ["! floor busy: alice is talking"]
    net.say(alice, "/talk")  # again: plain words only, never the rich floor object
    assert net.lines(alice) == ["* you already hold the floor"]
    net.say(alice, "/over")
    assert net.lines(carol) == ["* alice is talking", "* alice is over"]


def test_lines_sent_while_another_holds_the_floor_wait_in_order(net: Net) -> None:
    alice, bob, carol = net.connect(1, "alice"), net.connect(2, "bob"), net.connect(3, "carol")
    net.say(alice, "/talk")
    for conn in (alice, bob, carol):
        net.lines(conn)
    net.say(bob, "first")
    net.say(carol, "second")
    net.say(bob, "third")
    assert net.lines(bob) == ["* queued: alice is talking", "* queued: alice is talking"]
    net.say(alice, "still mine")
    assert net.lines(carol) == ["* queued: alice is talking", "<alice> still mine"]
    net.say(alice, "/over")
    assert net.lines(alice) == ["* alice is over", "<bob> first", "<carol> second", "<bob> third"]


def test_a_held_floor_times_out(net: Net) -> None:
    net.channel = Channel(History(":memory:"), ChannelLimits(floor_timeout=30))
    alice, bob = net.connect(1, "alice"), net.connect(2, "bob")
    net.say(alice, "/talk")
    net.say(bob, "waiting line")
    net.lines(bob)
    net.wait(29)
    assert net.channel.floor_holder == "alice"
    net.wait(1.5)
    assert net.channel.floor_holder is None
    assert net.lines(bob) == ["* alice's floor timed out"]
    assert net.lines(alice)[-1] == "<bob> waiting line"


def test_the_floor_is_freed_at_once_when_its_holder_disconnects(net: Net) -> None:
    alice, bob = net.connect(1, "alice"), net.connect(2, "bob")
    net.say(alice, "/talk")
    net.say(bob, "queued line")
    net.lines(bob)
    net.leave(alice)
    assert net.channel.floor_holder is None
    assert net.lines(bob) == ["* alice left", "* alice is over (disconnected)"]


def test_queued_lines_of_a_station_that_leaves_are_dropped(net: Net) -> None:
    alice, bob, carol = net.connect(1, "alice"), net.connect(2, "bob"), net.connect(3, "carol")
    net.say(alice, "/talk")
    net.say(bob, "never mind")
    net.leave(bob)
    net.lines(carol)
    net.say(alice, "/over")
    assert net.lines(carol) == ["* alice is over"]


def test_the_floor_queue_is_bounded_per_station() -> None:
    net = Net(ChannelLimits(max_queued=2))
    alice, bob = net.connect(1, "alice"), net.connect(2, "bob")
    net.say(alice, "/talk")
    net.lines(bob)
    for n in range(3):
        net.say(bob, f"line {n}")
    assert net.lines(bob)[-1] == "! line refused: 2 lines already wait for the floor"


def test_invalid_utf8_and_escapes_never_reach_others(net: Net) -> None:
    alice, bob = net.connect(1, "alice"), net.connect(2, "bob")
    net.lines(alice)
    net.lines(bob)
    net.say(alice, b"bad \xff\xfe bytes")
    assert net.lines(alice) == ["! line refused: not valid UTF-8"]
    net.say(alice, "\x1b[2J\x1b]0;title\x07clean\x00")
    net.say(alice, "\x1b[2J\x07")
    assert net.lines(bob) == ["<alice> clean"]


def test_history_answers_with_marked_stored_messages(net: Net) -> None:
    alice, bob = net.connect(1, "alice"), net.connect(2, "bob")
    for n in range(5):
        net.say(alice, f"message {n}")
    net.lines(bob)
    net.say(bob, "/history 2")
    got = net.lines(bob)
    assert [line.split("] ", 1)[1] for line in got[:2]] == [
        "<alice> message 3",
        "<alice> message 4",
    ]
    assert all(line.startswith("[history ") for line in got[:2])
    assert got[2] == "* end of history (2 messages)"
    net.say(bob, "/history 1")
    assert net.lines(bob)[1] == "* end of history (1 message)"


def test_unknown_commands_and_bad_arguments_get_an_error(net: Net) -> None:
    alice = net.connect(1, "alice")
    net.lines(alice)
    net.say(alice, "/frobnicate")
    net.say(alice, "/history lots")
    net.say(alice, "/history \u0663")  # an Arabic-Indic three: a digit, not an ASCII one
    net.say(alice, "/over")
    assert [line[:2] for line in net.lines(alice)] == ["! ", "! ", "! ", "! "]


def test_quit_says_bye_and_closes(net: Net) -> None:
    alice = net.connect(1, "alice")
    net.lines(alice)
    net.say(alice, "/quit")
    assert net.lines(alice) == ["* bye"]
    assert alice in net.closed


def test_a_rich_client_gets_welcome_station_list_floor_and_sync(net: Net) -> None:
    net.connect(1, "bob")
    alice = net.connect_rich(2, nick="alice", session="s1")
    kinds = [obj["t"] for obj in net.objects(alice)[:]]
    assert kinds[-4:] == ["welcome", "stations", "floor", "synced"]


def test_rich_messages_are_acked_with_ids_and_resends_are_not_delivered_twice(net: Net) -> None:
    bob = net.connect(1, "bob")
    alice = net.connect_rich(2, nick="alice", session="s1")
    net.objects(alice)
    net.lines(bob)
    net.say(alice, json.dumps({"t": "msg", "id": 1, "text": "hi"}))
    (ack,) = net.objects(alice)
    assert ack["t"] == "ack" and ack["id"] == 1
    net.say(alice, json.dumps({"t": "msg", "id": 1, "text": "hi"}))
    assert net.objects(alice) == [ack]
    assert net.lines(bob) == ["<alice> hi"]


def test_a_resend_after_a_hub_restart_is_recognised(tmp_path) -> None:
    path = tmp_path / "history.sqlite3"
    first = Net(history=History(path))
    alice = first.connect_rich(1, nick="alice", session="s1")
    first.say(alice, json.dumps({"t": "msg", "id": 7, "text": "hi"}))
    first.channel.history.close()
    second = Net(history=History(path))
    bob = second.connect(1, "bob")
    alice = second.connect_rich(2, nick="alice", session="s1")
    second.lines(bob)
    second.objects(alice)
    second.say(alice, json.dumps({"t": "msg", "id": 7, "text": "hi"}))
    assert second.objects(alice)[0]["t"] == "ack"
    assert second.lines(bob) == []


def test_a_resuming_client_gets_what_it_missed_marked_as_history(net: Net) -> None:
    bob = net.connect(1, "bob")
    net.say(bob, "before")
    alice = net.connect_rich(2, nick="alice", session="s1")
    last = net.objects(alice)[-1]["last"]
    net.leave(alice)
    net.say(bob, "missed one")
    net.say(bob, "missed two")
    alice = net.connect_rich(3, nick="alice", session="s1", last=last)
    messages = [obj for obj in net.objects(alice) if obj["t"] == "msg"]
    assert [(m["text"], m["history"]) for m in messages] == [
        ("missed one", True),
        ("missed two", True),
    ]


def test_a_rich_client_queued_by_the_floor_gets_a_queued_ack_then_the_final_one(net: Net) -> None:
    bob = net.connect(1, "bob")
    alice = net.connect_rich(2, nick="alice", session="s1")
    net.say(bob, "/talk")
    net.objects(alice)
    net.say(alice, json.dumps({"t": "msg", "id": 1, "text": "after you"}))
    assert net.objects(alice) == [{"t": "ack", "id": 1, "queued": True}]
    net.say(bob, "/over")
    floor, ack = net.objects(alice)
    assert floor == {"t": "floor", "holder": None, "reason": "over"}
    assert ack["t"] == "ack" and ack["id"] == 1 and isinstance(ack["mid"], int)


def test_a_rich_talk_refused_names_the_holder(net: Net) -> None:
    net.connect(1, "bob")
    alice = net.connect_rich(2, nick="alice", session="s1")
    net.say(1, "/talk")
    net.objects(alice)
    net.say(alice, '{"t":"talk"}')
    assert net.objects(alice) == [{"t": "busy", "holder": "bob"}]


def test_a_reconnecting_session_takes_its_nick_back_from_its_ghost(net: Net) -> None:
    ghost = net.connect_rich(1, nick="alice", session="s1")
    again = net.connect_rich(2, nick="alice", session="s1")
    assert ghost in net.closed
    welcome = next(o for o in net.objects(again) if o["t"] == "welcome")
    assert welcome["nick"] == "alice"
    other = net.connect_rich(3, nick="alice", session="s2")
    welcome = next(o for o in net.objects(other) if o["t"] == "welcome")
    assert welcome["nick"] == "alice2"


@pytest.mark.parametrize(
    ("hello", "problem"),
    [
        ('/hello {"v": 99}', "the hello speaks version 99; this hub speaks 1"),
        ("/Hello {}", "the hello names no protocol version; this hub speaks 1"),
        ('/hello {"v": true}', "the hello speaks version True; this hub speaks 1"),
    ],
)
def test_a_wrong_protocol_version_is_refused_and_closed(net: Net, hello: str, problem: str) -> None:
    conn = net.connect(1)
    net.lines(conn)
    net.say(conn, hello)  # the first line, in any case
    (error,) = net.objects(conn)
    assert (error["code"], error["text"]) == ("version", problem)
    assert conn in net.closed


@pytest.mark.parametrize("session", ["", "x" * 65, "with space"])
def test_a_hello_with_a_malformed_session_is_refused(net: Net, session: str) -> None:
    conn = net.connect(1)
    net.lines(conn)
    net.say(conn, "/hello " + json.dumps({"v": 1, "session": session}))
    (error,) = net.objects(conn)
    assert error["code"] == "bad_json" and "session" in error["text"]
    assert conn in net.closed


def test_the_welcome_names_the_history_so_clients_notice_a_new_one(tmp_path) -> None:
    def channel_of(path: object) -> object:
        net = Net(history=History(path))  # type: ignore[arg-type]
        conn = net.connect_rich(1, nick="alice")
        welcome = next(o for o in net.objects(conn) if o["t"] == "welcome")
        net.channel.history.close()
        return welcome["channel"]

    first = channel_of(tmp_path / "a.sqlite3")
    assert channel_of(tmp_path / "a.sqlite3") == first
    assert channel_of(tmp_path / "b.sqlite3") != first


def test_a_long_absence_is_replayed_in_pages_without_skipping_anything() -> None:
    net = Net(ChannelLimits(resume_limit=4))
    bob = net.connect(1, "bob")
    for n in range(10):
        net.say(bob, f"line {n}")
    alice = net.connect_rich(2, nick="alice", session="s1", last=0)
    first = net.objects(alice)
    assert [o["text"] for o in first if o["t"] == "msg"] == [f"line {n}" for n in range(4)]
    assert first[-1] == {"t": "synced", "last": 4, "more": True}
    replayed = []
    while True:
        net.say(alice, json.dumps({"t": "resume", "after": first[-1]["last"]}))
        first = net.objects(alice)
        replayed += [o["text"] for o in first if o["t"] == "msg"]
        if not first[-1]["more"]:
            break
    assert replayed == [f"line {n}" for n in range(4, 10)]


def test_a_connection_that_never_presents_the_token_is_closed_within_30_s() -> None:
    # Else connections without the token could hold every place on the hub.
    net = Net()
    net.channel.token = "sesame"
    silent, slow = net.connect(1), net.connect(2)
    net.wait(10)
    net.say(slow, "/auth sesame")
    net.lines(silent)
    net.wait(20.5)
    assert net.lines(silent) == ["! no token within 30 s, bye"]
    assert net.closed == {silent}
    assert net.channel.next_deadline() is None


def test_quitting_with_lines_waiting_for_the_floor_says_they_are_not_sent(net: Net) -> None:
    holder, leaver = net.connect(1, "holder"), net.connect(2, "leaver")
    net.say(holder, "/talk")
    net.say(leaver, "first")
    net.say(leaver, "second")
    net.lines(leaver)
    net.say(leaver, "/quit")
    assert net.lines(leaver) == [
        "! 2 queued lines not sent: you left before the floor",
        "* bye",
    ]


def test_a_stored_message_from_another_day_shows_its_date(net: Net) -> None:
    alice, bob = net.connect(1, "alice"), net.connect(2, "bob")
    net.channel.wall_offset = time.time() - 3 * 86400  # three days ago
    net.say(alice, "old news")
    net.lines(bob)
    net.say(bob, "/history 1")
    sent = time.strftime("%Y-%m-%d", time.localtime(net.channel.wall_offset))
    assert net.lines(bob)[0].startswith(f"[history {sent} ")
