"""`walkie server` as a real subprocess, driven over loopback sockets exactly as
netcat users and walkie's own clients would drive it."""

from __future__ import annotations

import json
import os
import re
import resource
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from support.history import messages_in_the_file_alone
from support.hub import DEADLINE, WALKIE, HubProcess, LineClient, listening_port
from support.lines import LineReader

StartHub = Callable[..., HubProcess]


def test_netcat_users_chat_without_echo(start_hub: StartHub) -> None:
    hub = start_hub()
    alice = LineClient.connect(hub.port, "alice")
    bob = LineClient.connect(hub.port, "bob")
    alice.send("hello bob")
    assert bob.expect(lambda line: line.startswith("<")) == "<alice> hello bob"
    bob.send("hi alice\r")
    assert alice.expect(lambda line: line.startswith("<")) == "<bob> hi alice"
    assert not [line for line in alice.quiet_for(0.3) if line.startswith("<alice>")]


def test_a_hub_started_with_its_stdin_closed_serves_and_stops_cleanly(tmp_path: Path) -> None:
    # `walkie server <&-`: the first socket would get descriptor 0, which
    # libuv (uvloop) refuses to close, aborting the hub as it stops
    hub = subprocess.Popen(
        [*WALKIE, "server", "--port", "0", "--history-db", str(tmp_path / "h.sqlite3")],
        stdin=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        preexec_fn=lambda: os.close(0),
    )
    assert hub.stderr is not None
    log = LineReader(hub.stderr)
    port = listening_port(log.first(lambda line: "listening on" in line))
    alice, bob = LineClient.connect(port, "alice"), LineClient.connect(port, "bob")
    alice.send("still here")
    bob.expect_line("<alice> still here")
    hub.terminate()
    assert hub.wait(DEADLINE) == 0, log.rest()


def test_without_uvloop_the_hub_chats_on_asyncios_own_loop(
    start_hub: StartHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    unavailable = tmp_path / "no-uvloop" / "uvloop"
    unavailable.mkdir(parents=True)
    (unavailable / "__init__.py").write_text('raise ImportError("no uvloop here")\n')
    monkeypatch.setenv("PYTHONPATH", str(unavailable.parent))
    hub = start_hub()
    assert hub.process is not None
    assert "uvloop" not in Path(f"/proc/{hub.process.pid}/maps").read_text()
    alice = LineClient.connect(hub.port, "alice")
    bob = LineClient.connect(hub.port, "bob")
    alice.send("hello on asyncio's loop")
    assert bob.expect(lambda line: line.startswith("<")) == "<alice> hello on asyncio's loop"


def test_a_netcat_listener_hears_a_line_sent_right_after_its_welcome(
    start_hub: StartHub,
) -> None:
    hub = start_hub()
    bob = LineClient.connect(hub.port, "bob")
    listener = LineClient.connect(hub.port)  # `nc pi 32000`, only reading
    bob.send("right after your welcome")
    assert listener.expect(lambda line: line.startswith("<")) == "<bob> right after your welcome"


def test_commands_answer_with_marked_notices(start_hub: StartHub) -> None:
    hub = start_hub()
    alice = LineClient.connect(hub.port, "alice")
    alice.send("/help")
    assert alice.expect(lambda line: line.startswith("* commands:"))
    alice.send("/who")
    alice.expect_line("* 1 on the channel: alice; the floor is free")
    alice.send("/bogus")
    assert alice.expect(lambda line: line.startswith("! unknown command /bogus"))
    alice.send("/quit")
    alice.expect_line("* bye")
    assert alice.closed_by_peer()


def test_the_floor_over_the_network(start_hub: StartHub) -> None:
    hub = start_hub()
    alice = LineClient.connect(hub.port, "alice")
    bob = LineClient.connect(hub.port, "bob")
    alice.send("/talk")
    bob.expect_line("* alice is talking")
    bob.send("/talk")
    bob.expect_line("! floor busy: alice is talking")
    bob.send("my turn next")
    bob.expect_line("* queued: alice is talking")
    alice.send("/over")
    alice.expect_line("* alice is over")
    alice.expect_line("<bob> my turn next")


def test_a_held_floor_times_out_and_a_dropped_holder_frees_it(start_hub: StartHub) -> None:
    hub = start_hub("--floor-timeout", "1")
    alice = LineClient.connect(hub.port, "alice")
    bob = LineClient.connect(hub.port, "bob")
    alice.send("/talk")
    bob.expect_line("* alice is talking")
    bob.expect_line("* alice's floor timed out")
    bob.send("/talk")
    alice.expect_line("* bob is talking")
    bob.close()
    alice.expect_line("* bob is over (disconnected)")


def test_history_survives_a_restart_of_the_hub(start_hub: StartHub, tmp_path: Path) -> None:
    db = tmp_path / "kept.sqlite3"
    hub = start_hub(history_db=db)
    alice = LineClient.connect(hub.port, "alice")
    alice.send("remember me")
    alice.send("/history 1")
    alice.expect(lambda line: line.endswith("<alice> remember me"))
    hub.process.kill()
    hub.process.wait()
    again = start_hub(history_db=db)
    bob = LineClient.connect(again.port, "bob")
    bob.send("/history")
    line = bob.expect(lambda line: line.startswith("[history"))
    assert line.endswith("<alice> remember me")


def test_invalid_utf8_is_refused_and_the_connection_stays_usable(start_hub: StartHub) -> None:
    hub = start_hub()
    alice = LineClient.connect(hub.port, "alice")
    bob = LineClient.connect(hub.port, "bob")
    alice.send(b"\xc3\x28 broken")
    alice.expect_line("! line refused: not valid UTF-8")
    alice.send("fine now")
    assert bob.expect(lambda line: line.startswith("<")) == "<alice> fine now"


def test_escapes_and_control_characters_never_reach_another_terminal(start_hub: StartHub) -> None:
    hub = start_hub()
    alice = LineClient.connect(hub.port, "alice")
    bob = LineClient.connect(hub.port, "bob")
    alice.send(b"\x1b[2J\x1b]0;owned\x07red\x1b[31m\x00 alert\x07\x08\x7f \xc2\x9b6n")
    line = bob.expect(lambda line: line.startswith("<"))
    assert line == "<alice> red alert "
    assert all(ch.isprintable() for ch in line)


def test_a_10mb_line_without_newline_costs_nothing(start_hub: StartHub) -> None:
    hub = start_hub("--max-line", "1000")
    alice = LineClient.connect(hub.port, "alice")
    bob = LineClient.connect(hub.port, "bob")
    before = hub.rss_kib()
    chunk = b"y" * (1 << 20)
    for _ in range(10):
        alice.sock.sendall(chunk)
    alice.expect_line("! line refused: longer than 1000 bytes")
    bob.send("still here")
    assert alice.expect(lambda line: line.startswith("<")) == "<bob> still here"
    alice.send(" end of the long line")
    alice.send("x" * 1001)
    alice.expect_line("! line refused: longer than 1000 bytes")
    alice.send("short again")
    assert bob.expect(lambda line: line.startswith("<")) == "<alice> short again"
    assert hub.rss_kib() - before < 8 * 1024


def test_a_flood_is_slowed_without_loss_while_others_keep_chatting(start_hub: StartHub) -> None:
    hub = start_hub("--max-rate", "1000", "--burst", "10")
    flooder = LineClient.connect(hub.port, "flooder")
    alice = LineClient.connect(hub.port, "alice")
    bob = LineClient.connect(hub.port, "bob")
    before = hub.rss_kib()
    flooder.sock.sendall(b"".join(b"flood %d\n" % n for n in range(3000)))
    flooder.expect(lambda line: line.startswith("* slow down"))
    alice.send("can you hear me")
    bob.expect_line("<alice> can you hear me")
    assert hub.rss_kib() - before < 8 * 1024
    flooder.send("last")
    bob.expect_line("<flooder> last")
    flood = [line for line in bob.received if line.startswith("<flooder> flood ")]
    assert [int(line.split()[-1]) for line in flood] == list(range(3000))


def silent_station(port: int, nick: str) -> socket.socket:
    """A plain station that joins as ``nick`` and then reads nothing, with a
    small receive buffer, so that the hub soon holds its output back."""
    station = socket.socket()
    station.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    station.connect(("127.0.0.1", port))
    station.sendall(f"/nick {nick}\n".encode())
    return station


def assert_caught_up(late: LineClient, alice: LineClient, count: int, padding: str) -> None:
    """A live line of alice's reaches ``late`` after every one of her ``count``
    numbered lines before it, in order and whole."""
    alice.send("and now live")
    late.expect_line("<alice> and now live")
    heard = [line for line in late.received if line.startswith("<alice> line ")]
    assert [int(line.split()[2]) for line in heard] == list(range(count))
    assert all(line.endswith(padding) for line in heard)


def test_a_station_that_never_reads_is_dropped_and_nobody_waits(start_hub: StartHub) -> None:
    # A fast talker, but one a reading station keeps up with.
    hub = start_hub("--max-rate", "3000", "--burst", "100", "--max-send-buffer", "65536")
    lazy = silent_station(hub.port, "lazy")
    alice = LineClient.connect(hub.port, "alice")
    bob = LineClient.connect(hub.port, "bob")
    big = "z" * 900

    def talk() -> None:
        # More than the kernel's socket buffers and the hub's send buffer together.
        for n in range(10000):
            alice.send(f"{n} {big}")

    talker = threading.Thread(target=talk)
    talker.start()
    bob.expect_line("* lazy dropped: not reading")
    last = bob.expect(lambda line: line.startswith("<alice> 9999 "))
    assert last.endswith(big)
    talker.join()
    lazy.close()


def test_a_station_that_falls_behind_and_catches_up_gets_every_line_in_order(
    start_hub: StartHub,
) -> None:
    # More than the kernel's buffers hold (about 3 MB on loopback) for a
    # station that reads nothing for a while, so lines wait in the hub too;
    # less than the hub may hold back for it.
    hub = start_hub("--max-rate", "0", "--max-send-buffer", str(4 * 1024 * 1024))
    behind = silent_station(hub.port, "behind")
    alice = LineClient.connect(hub.port, "alice")
    padding = "x" * 900
    count = 6000
    for first in range(0, count, 500):
        lines = (f"line {n:05d} {padding}\n" for n in range(first, first + 500))
        alice.sock.sendall("".join(lines).encode())
    alice.send("/who")
    alice.expect(lambda line: line.startswith("* 2 on the channel"))  # all of it handled
    late = LineClient(behind)
    late.send("/who")  # its own answer comes after the lines queued before it
    late.expect(lambda line: line.startswith("* 2 on the channel"))
    assert_caught_up(late, alice, count, padding)
    behind.close()


def test_a_station_behind_on_lines_sent_one_at_a_time_gets_every_one_in_order(
    start_hub: StartHub,
) -> None:
    # Each line is read on its own (the next is sent once bob has heard it), so
    # each takes the hub's quick way out; together they are more than the
    # kernel's buffers hold for a station reading nothing for a while.
    hub = start_hub("--max-rate", "0", "--max-line", "32000", "--max-send-buffer", "8000000")
    behind = silent_station(hub.port, "behind")
    bob = LineClient.connect(hub.port, "bob")
    alice = LineClient.connect(hub.port, "alice")
    padding = "y" * 30000
    count = 160  # 4.8 MB
    for n in range(count):
        alice.send(f"line {n:03d} {padding}")
        bob.expect_line(f"<alice> line {n:03d} {padding}")
    late = LineClient(behind)
    assert_caught_up(late, alice, count, padding)
    behind.close()


def test_a_script_that_ends_its_input_gets_its_answers_and_is_hung_up(
    start_hub: StartHub,
) -> None:
    # What `printf ... | nc -N hub 32000` does: lines, then a half-close.
    hub = start_hub()
    listener = LineClient.connect(hub.port, "listener")
    script = LineClient.connect(hub.port)
    script.sock.sendall(b"/nick piper\n/who\nhello from a script\n")
    script.sock.shutdown(socket.SHUT_WR)
    script.expect(lambda line: line.startswith("* 2 on the channel"))
    script.sock.settimeout(DEADLINE)
    assert script.sock.recv(4096) == b""  # then the hub hangs up
    listener.expect_line("<piper> hello from a script")
    listener.expect_line("* piper left")


def test_a_script_whose_line_waits_for_the_floor_stays_until_it_is_sent(
    start_hub: StartHub,
) -> None:
    # `echo "meeting at 5" | nc -N hub 32000` while someone talks: the line
    # is queued, and ending the input must not throw it away.
    hub = start_hub()
    holder = LineClient.connect(hub.port, "holder")
    holder.send("/talk")
    holder.expect_line("* holder is talking")
    script = LineClient.connect(hub.port, "piper")
    script.send("meeting at 5")
    script.expect_line("* queued: holder is talking")
    script.sock.shutdown(socket.SHUT_WR)
    assert not script.closed_by_peer(timeout=0.5)  # it waits for the floor
    holder.send("/over")
    holder.expect_line("<piper> meeting at 5")
    assert script.closed_by_peer()  # then the hub hangs up
    holder.expect_line("* piper left")


def test_a_script_waiting_for_a_floor_that_is_never_released_is_sent_at_its_timeout(
    start_hub: StartHub,
) -> None:
    # The holder never says /over: the floor's timeout bounds the wait.
    hub = start_hub("--floor-timeout", "1")
    holder = LineClient.connect(hub.port, "holder")
    holder.send("/talk")
    holder.expect_line("* holder is talking")
    script = LineClient.connect(hub.port, "piper")
    script.send("still here")
    script.expect_line("* queued: holder is talking")
    script.sock.shutdown(socket.SHUT_WR)
    holder.expect_line("* holder's floor timed out")
    holder.expect_line("<piper> still here")
    assert script.closed_by_peer()


def test_a_station_that_quits_leaves_at_once_though_it_keeps_its_end_open(
    start_hub: StartHub,
) -> None:
    hub = start_hub()
    alice = LineClient.connect(hub.port, "alice")
    bob = LineClient.connect(hub.port, "bob")
    alice.send("/talk")
    bob.expect_line("* alice is talking")
    alice.send("/quit")
    alice.expect_line("* bye")
    assert alice.closed_by_peer()  # the hub's end; alice's stays open, like a terminal's nc
    bob.send("/talk")  # at once: not while the hub waits for alice to close
    answer = bob.expect(lambda line: line.startswith(("* bob is talking", "! floor busy")))
    assert answer == "* bob is talking"
    assert "* alice left" in bob.received
    bob.send("/nick alice")  # the nick is free again too
    bob.expect_line("* bob is now alice")
    alice.close()


def test_the_hub_closes_a_hung_up_station_that_never_closes_its_end(start_hub: StartHub) -> None:
    hub = start_hub()
    quitter = LineClient.connect(hub.port, "quitter")
    quitter.send("/quit")
    assert quitter.closed_by_peer()
    deadline = time.monotonic() + DEADLINE
    with pytest.raises(OSError):  # the hub is gone: a reset, then a broken pipe
        while time.monotonic() < deadline:
            quitter.send("still here")  # read by no one
            time.sleep(0.1)
    quitter.close()


def test_a_full_hub_tells_a_newcomer_why_before_hanging_up(start_hub: StartHub) -> None:
    hub = start_hub("--max-stations", "1")
    alice = LineClient.connect(hub.port, "alice")
    with socket.create_connection(("127.0.0.1", hub.port), timeout=DEADLINE) as late:
        # walkie's client says hello at once: the hub never reads it, and must
        # not let that unread line reset the connection before its answer is read.
        late.sendall(b'{"t":"hello","v":1}\n')
        received = b""
        while chunk := late.recv(4096):
            received += chunk
    assert received == b"! the hub is full, try again later\n"
    assert hub.log is not None
    hub.log.wait_until(lambda line: line.startswith("WARNING") and "the hub is full" in line)
    alice.close()


def test_a_thousand_stations_hear_one_message(start_hub: StartHub) -> None:
    hub = start_hub("--max-rate", "0")
    selector = selectors.DefaultSelector()
    listeners = []
    for _ in range(1000):
        sock = socket.create_connection(("127.0.0.1", hub.port))
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ, bytearray())
        listeners.append(sock)
    for sock in listeners:  # join at once instead of after the grace period
        sock.sendall(b"/who\n")
    speaker = LineClient.connect(hub.port, "speaker")
    speaker.send("/who")
    speaker.expect(lambda line: line.startswith("* 1001 on the channel"))
    speaker.send("attention all stations")
    heard = 0
    deadline = time.monotonic() + DEADLINE
    while heard < 1000 and time.monotonic() < deadline:
        for key, _ in selector.select(timeout=1):
            buffer = key.data
            buffer += key.fileobj.recv(65536)  # type: ignore[union-attr]
            if b"<speaker> attention all stations\n" in buffer:
                selector.unregister(key.fileobj)
                heard += 1
    assert heard == 1000
    for sock in listeners:
        sock.close()


def test_a_rich_client_is_acked_and_resumes_after_a_hub_crash(
    start_hub: StartHub, tmp_path: Path
) -> None:
    db = tmp_path / "resume.sqlite3"
    hub = start_hub(history_db=db)
    alice = LineClient.connect(hub.port)
    alice.send("/hello " + json.dumps({"v": 1, "nick": "alice", "session": "abc"}))
    assert alice.expect_json("welcome")["nick"] == "alice"
    last = alice.expect_json("synced")["last"]
    bob = LineClient.connect(hub.port, "bob")
    bob.send("one")
    assert alice.expect_json("msg")["text"] == "one"
    alice.send_json(t="msg", id=1, text="from alice")
    mid = alice.expect_json("ack")["mid"]
    hub.process.kill()
    hub.process.wait()
    hub = start_hub(history_db=db)
    bob = LineClient.connect(hub.port, "bob")
    bob.send("two")
    alice = LineClient.connect(hub.port)
    alice.send("/hello " + json.dumps({"v": 1, "nick": "alice", "session": "abc", "last": mid}))
    replayed = alice.expect_json("msg")
    assert (replayed["text"], replayed["history"]) == ("two", True)
    alice.send_json(t="msg", id=1, text="from alice")
    assert alice.expect_json("ack")["mid"] == mid
    assert isinstance(last, int)


def test_ids_too_large_to_store_are_refused_and_harm_no_one_else(start_hub: StartHub) -> None:
    # 2**63 fits no SQLite integer and no journal record: refused when read,
    # it once broke the floor holder's connection when the floor freed.
    hub = start_hub()
    holder = LineClient.connect(hub.port, "holder")
    holder.send("/talk")
    holder.expect_line("* holder is talking")
    rogue = LineClient.connect(hub.port)
    rogue.send("/hello " + json.dumps({"v": 1, "nick": "rogue", "last": 2**63}))
    assert rogue.expect_json("error")["code"] == "bad_json"
    rogue = LineClient.connect(hub.port)
    rogue.send("/hello " + json.dumps({"v": 1, "nick": "rogue"}))
    rogue.expect_json("synced")
    for line in ({"t": "msg", "id": 2**63, "text": "x"}, {"t": "resume", "after": 2**63}):
        rogue.send(json.dumps(line))
        assert rogue.expect_json("error")["code"] == "bad_json"
    carol = LineClient.connect(hub.port, "carol")
    carol.send("waiting my turn")
    holder.send("/over")
    holder.expect_line("* holder is over")
    holder.expect_line("<carol> waiting my turn")
    assert hub.log is not None
    hub.stop()
    assert "Traceback" not in hub.log.rest()


def start_hub_with_open_files(
    tmp_path: Path, soft: int, hard: int, *args: str
) -> tuple[subprocess.Popen[bytes], LineReader, int]:
    """`walkie server ARGS` started under an open-file limit of ``soft``/``hard``."""
    hub = subprocess.Popen(
        [*WALKIE, "server", "--port", "0", "--history-db", str(tmp_path / "h.sqlite3"), *args],
        stderr=subprocess.PIPE,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard)),
    )
    assert hub.stderr is not None
    log = LineReader(hub.stderr)
    return hub, log, listening_port(log.first(lambda line: "listening on" in line))


def test_the_hub_raises_its_open_file_limit_for_its_stations(tmp_path: Path) -> None:
    # 1024 is a common soft limit (systemd's default), far below the hard one.
    hub, _, _ = start_hub_with_open_files(tmp_path, 256, 8192, "--max-stations", "1000")
    try:
        limits = Path(f"/proc/{hub.pid}/limits").read_text()
        soft = int(next(line for line in limits.splitlines() if "open files" in line).split()[3])
        assert soft >= 1000
    finally:
        hub.terminate()
        hub.wait(DEADLINE)


def test_stations_beyond_the_open_file_limit_are_told_the_hub_is_full(tmp_path: Path) -> None:
    # Not refused by the kernel without a word: the limit is said at start.
    hub, log, port = start_hub_with_open_files(tmp_path, 100, 100)
    try:
        said = log.first(lambda line: "open-file limit" in line)
        match = re.search(r"the open-file limit \(100\) allows about (\d+) stations", said)
        assert match, said
        allowed = int(match.group(1))
        assert 40 <= allowed <= 80  # what is left once the hub itself has started
        stations = [LineClient.connect(port) for _ in range(allowed)]  # each welcomed
        newcomer = LineClient(socket.create_connection(("127.0.0.1", port), timeout=DEADLINE))
        newcomer.expect_line("! the hub is full, try again later")
        for station in [*stations, newcomer]:
            station.close()
    finally:
        hub.terminate()
        hub.wait(DEADLINE)


def test_with_v_the_hub_logs_who_comes_and_goes(start_hub: StartHub) -> None:
    hub = start_hub("-v")
    alice = LineClient.connect(hub.port, "alice")
    host, port = alice.sock.getsockname()[:2]
    alice.send("/quit")
    assert alice.closed_by_peer()
    assert hub.log is not None
    hub.stop()
    log = hub.log.rest()
    assert f"INFO walkie.channel.server: connection 1 from {host}:{port}" in log
    assert "INFO walkie.channel.server: connection 1 (alice) closed: left" in log


def test_an_open_file_limit_that_leaves_no_room_for_stations_is_one_line(
    tmp_path: Path,
) -> None:
    hub = subprocess.run(
        [*WALKIE, "server", "--port", "0", "--history-db", str(tmp_path / "h.sqlite3")],
        capture_output=True,
        text=True,
        timeout=DEADLINE,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (30, 30)),
    )
    assert hub.returncode == 1
    assert hub.stderr.splitlines()[-1].startswith(
        "walkie server: the open-file limit (30) leaves no room for stations"
    )


def run_walkie(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*WALKIE, *args], capture_output=True, text=True, timeout=DEADLINE)


def test_bad_arguments_give_one_line_and_a_nonzero_exit() -> None:
    for args in (
        ["--port", "99999"],
        ["--port", "http"],
        ["--max-rate", "-1"],
        ["--max-line", "0"],
    ):
        result = run_walkie("server", *args)
        assert result.returncode == 2
        assert "Traceback" not in result.stderr
        assert result.stderr.strip().splitlines()[-1].startswith("walkie server: error:")


def test_a_port_in_use_is_one_clear_line(start_hub: StartHub, tmp_path: Path) -> None:
    hub = start_hub()
    result = run_walkie("server", "--port", str(hub.port), "--history-db", str(tmp_path / "x.db"))
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"walkie server: cannot listen on 127.0.0.1:{hub.port}: Address already in use"
    )
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_quiet_hub_writes_its_messages_into_the_database_file(
    start_hub: StartHub, tmp_path: Path
) -> None:
    # A backup that copies the history file alone, while the hub runs, has
    # what was said before the channel went quiet (not only what SQLite
    # happened to checkpoint every thousand messages).
    db = tmp_path / "history.sqlite3"
    hub = start_hub(history_db=db)
    alice = LineClient.connect(hub.port, "alice")
    for text in ("first", "second", "third"):
        alice.send(text)
    alice.send("/history 3")
    alice.expect(lambda line: line.endswith("<alice> third"))
    deadline = time.monotonic() + DEADLINE
    while (found := messages_in_the_file_alone(db, tmp_path)) != ["first", "second", "third"]:
        assert time.monotonic() < deadline, f"the database file holds {found}"
        time.sleep(0.1)


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("", "Is a directory"),
        ("a-file/history.sqlite3", "Not a directory ({tmp}/a-file)"),
    ],
    ids=["a directory", "under a file"],
)
def test_an_unusable_history_file_is_one_clear_line_with_the_reason(
    tmp_path: Path, path: str, reason: str
) -> None:
    (tmp_path / "a-file").write_text("")
    db = str(tmp_path / path)
    result = run_walkie("server", "--port", "0", "--history-db", db)
    assert result.returncode == 1
    expected = f"walkie server: cannot open history database {db}: {reason.format(tmp=tmp_path)}"
    assert result.stderr.strip() == expected


def test_a_history_file_another_hub_uses_is_refused_with_one_clear_line(
    start_hub: StartHub, tmp_path: Path
) -> None:
    db = tmp_path / "shared.sqlite3"
    hub = start_hub(history_db=db)
    result = run_walkie("server", "--port", "0", "--history-db", str(db))
    assert result.returncode == 1
    assert "cannot open history database" in result.stderr
    assert "another hub" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    alice = LineClient.connect(hub.port, "alice")  # the first hub carries on
    alice.send("still here")
    alice.send("/history 1")
    alice.expect(lambda line: line.endswith("<alice> still here"))


def test_verbose_is_taken_after_the_subcommand_too(tmp_path: Path) -> None:
    for args in (["-v", "server"], ["server", "-v"], ["server", "-vv"]):
        result = run_walkie(*args, "--port", "0", "--history-db", str(tmp_path))
        assert result.returncode == 1  # not argparse's 2: the option was taken
        assert result.stderr.startswith("walkie server: cannot open history database")


def test_help_describes_the_options() -> None:
    result = run_walkie("server", "--help")
    assert result.returncode == 0
    for option in ("--host", "--port", "--history-db", "--max-rate", "--floor-timeout"):
        assert option in result.stdout
    assert sys.executable


def test_stations_are_told_when_the_hub_stops(start_hub: StartHub) -> None:
    hub = start_hub()
    alice = LineClient.connect(hub.port, "alice")
    hub.process.send_signal(signal.SIGTERM)  # systemctl stop
    alice.expect_line("* the hub is shutting down")
    assert hub.process.wait(DEADLINE) == 0
