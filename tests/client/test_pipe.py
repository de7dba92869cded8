"""`walkie client` in pipe mode, as real subprocesses against a real `walkie server`."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from support.clients import Probe, client_env
from support.hub import DEADLINE, WALKIE, HubProcess, LineClient

if TYPE_CHECKING:
    from support.clients import PipeClient, RunClient
    from support.hub import HubProcess as Hub

StartClient = Callable[..., "PipeClient"]


def chat(lines: list[str]) -> list[str]:
    return [line for line in lines if line.startswith("<")]


def test_lines_from_stdin_reach_another_client_and_the_sender_exits_0(
    hub: Hub, probe: Probe, pipe_client: StartClient
) -> None:
    bob = pipe_client(hub.address, "--nick", "bob")
    probe.wait_for("* bob joined…")
    alice = pipe_client(hub.address, "--nick", "alice")
    probe.wait_for("* alice joined…")
    alice.send("hello bob", "caf\u00e9 \u2713")
    assert alice.finish() == 0
    bob.stdout.wait_for("<alice> caf\u00e9 \u2713")
    bob.send("thanks")
    assert bob.finish() == 0
    assert chat(bob.stdout.rest()) == ["<alice> hello bob", "<alice> caf\u00e9 \u2713"]
    probe.wait_for("<bob> thanks")
    assert chat(alice.stdout.rest()) == []  # no echo of one's own lines


def test_a_client_whose_stdin_and_stdout_were_closed_joins_and_exits_0(
    hub: Hub, probe: Probe
) -> None:
    # `walkie client HOST <&- >&-`: nothing to send, nowhere to print its history
    probe.say("said before cy came")

    def close_stdin_and_stdout() -> None:
        os.close(0)
        os.close(1)

    cy = subprocess.run(
        [*WALKIE, "client", hub.address, "--nick", "cy", "--history", "5"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        timeout=DEADLINE,
        env=client_env(),
        preexec_fn=close_stdin_and_stdout,
    )
    assert cy.returncode == 0, cy.stderr
    assert "Traceback" not in cy.stderr
    probe.wait_for("* cy joined…")
    probe.wait_for("* cy left")


def test_a_fresh_start_prints_no_history(hub: Hub, run_client: RunClient) -> None:
    assert run_client(hub.address, stdin="one\ntwo\n").returncode == 0
    result = run_client(hub.address, stdin="")
    assert result.returncode == 0
    assert result.stdout == ""


def test_a_hub_killed_and_restarted_mid_chat_loses_and_duplicates_nothing(
    hub: Hub, probe: Probe, pipe_client: StartClient
) -> None:
    bob = pipe_client(hub.address, "--nick", "bob")
    probe.wait_for("* bob joined…")
    alice = pipe_client(hub.address, "--nick", "alice")
    probe.wait_for("* alice joined…")
    expected = [f"<alice> line {n}" for n in range(1, 31)]

    alice.send(*[f"line {n}" for n in range(1, 11)])
    bob.stdout.wait_for("<alice> line 5")
    hub.kill()  # lines 6..10 may be anywhere: unsent, unacked, stored but not relayed
    alice.send(*[f"line {n}" for n in range(11, 21)])  # typed while the hub is down
    hub.start()
    alice.send(*[f"line {n}" for n in range(21, 31)])
    assert alice.finish() == 0
    bob.stdout.wait_for("<alice> line 30")
    assert bob.finish() == 0
    assert chat(bob.stdout.rest()) == expected


def test_lines_typed_while_disconnected_are_delivered_once_after_reconnect(
    hub: Hub, probe: Probe, pipe_client: StartClient
) -> None:
    alice = pipe_client(hub.address, "--nick", "alice")
    probe.wait_for("* alice joined…")
    hub.kill()
    probe.close()
    alice.send("while", "you", "were", "away")
    hub.start()
    assert alice.finish() == 0
    watcher = socket.create_connection(("127.0.0.1", hub.port))
    watcher.sendall(b"/history 50\n/quit\n")
    replies = watcher.makefile("r", encoding="utf-8").read().splitlines()
    watcher.close()
    stored = [line.split("] ", 1)[1] for line in replies if line.startswith("[history")]
    assert stored == ["<alice> while", "<alice> you", "<alice> were", "<alice> away"]


def test_undelivered_lines_fail_after_the_delivery_timeout(
    hub: Hub, probe: Probe, pipe_client: StartClient
) -> None:
    alice = pipe_client(hub.address, "--nick", "alice", "--delivery-timeout", "0.5")
    probe.wait_for("* alice joined…")
    hub.kill()
    alice.send("into the void")
    assert alice.finish() == 1
    errors = alice.stderr.rest()
    assert errors[-1].startswith("walkie client: 1 line was not delivered within 0.5 s")
    assert "Traceback" not in "\n".join(errors)


def test_a_message_of_the_full_limit_goes_through_whatever_its_json_costs(
    hub: Hub, probe: Probe, run_client: RunClient
) -> None:
    # 1000 bytes of text, as a plain station may send; in JSON each " is two.
    quoted = '"' * 500 + "\u00e9" * 250
    result = run_client(hub.address, "--nick", "quoter", stdin=f"{quoted}\n")
    assert result.returncode == 0, result.stderr
    probe.wait_for(f"<quoter> {quoted}")


def test_a_hub_with_a_small_line_limit_takes_walkie_clients(
    tmp_path: Path, run_client: RunClient
) -> None:
    # The hello (with its session id) is longer than the smallest limit.
    small = HubProcess(tmp_path / "h.sqlite3", "--max-line", "16").start()
    try:
        listener = Probe(small.port)
        listener.say("/who")
        lines = "x" * 16 + "\n" + "y" * 17 + "\n"
        result = run_client(small.address, "--nick", "sender", stdin=lines)
        assert result.returncode == 1
        assert result.stderr.splitlines()[-1] == "walkie client: 1 line was refused"
        listener.wait_for("<sender> " + "x" * 16)
        listener.close()
    finally:
        small.stop()


def test_a_line_too_long_is_refused_with_an_error_exit(hub: Hub, run_client: RunClient) -> None:
    result = run_client(hub.address, stdin="fine\n" + "x" * 5000 + "\nalso fine\n")
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == "walkie client: 1 line was refused"


def test_a_refused_port_is_one_line_and_exit_1(run_client: RunClient) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, not listening: refused
        result = run_client(f"127.0.0.1:{port}", stdin="hi\n")
    assert result.returncode == 1
    assert (
        result.stderr == f"walkie client: cannot connect to 127.0.0.1:{port}: connection refused\n"
    )


def test_a_full_hub_is_one_line_and_exit_1(tmp_path: Path, run_client: RunClient) -> None:
    full = HubProcess(tmp_path / "full.sqlite3", "--max-stations", "1").start()
    only_station = Probe(full.port)
    try:
        only_station.wait_for("* welcome…")
        result = run_client(full.address, stdin="hi\n")
    finally:
        only_station.close()
        full.stop()
    assert result.returncode == 1
    assert result.stderr == (
        f"walkie client: cannot connect to {full.address}: the hub is full, try again later\n"
    )


@pytest.mark.parametrize(
    ("address", "message"),
    [
        (
            "127.0.0.1:99999",
            "walkie client: bad port 99999 in '127.0.0.1:99999': must be 1-65535\n",
        ),
        ("127.0.0.1:http", "walkie client: bad port 'http' in '127.0.0.1:http'\n"),
        ("[::1", "walkie client: bad address '[::1': use [IPv6]:PORT\n"),
    ],
)
def test_a_bad_address_is_one_line_and_exit_1(
    run_client: RunClient, address: str, message: str
) -> None:
    result = run_client(address)
    assert (result.returncode, result.stderr) == (1, message)


def test_an_unresolvable_host_is_one_line_and_exit_1(run_client: RunClient) -> None:
    result = run_client("no-such-hub.invalid", "--connect-timeout", "3", stdin="hi\n")
    assert result.returncode == 1
    assert result.stderr.startswith("walkie client: cannot connect to no-such-hub.invalid:32000: ")
    assert result.stderr.count("\n") == 1


def test_a_bad_nick_is_one_line_and_exit_1(run_client: RunClient) -> None:
    result = run_client("127.0.0.1", "--nick", "9lives")
    assert result.returncode == 1
    assert result.stderr.startswith("walkie client: invalid nick '9lives'")


@pytest.fixture
def future_hub() -> Iterator[int]:
    """A hub of a later protocol version: refuses every hello with a version error."""
    server = socket.create_server(("127.0.0.1", 0))
    port: int = server.getsockname()[1]

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                conn.recv(4096)
                conn.sendall(
                    b'{"t":"error","code":"version","text":"this hub speaks protocol 2"}\n'
                )

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield port
    server.close()


def test_a_version_mismatch_is_one_line_and_exit_1(future_hub: int, run_client: RunClient) -> None:
    result = run_client(f"127.0.0.1:{future_hub}", stdin="hi\n")
    assert result.returncode == 1
    assert result.stderr == f"walkie client: 127.0.0.1:{future_hub}: this hub speaks protocol 2\n"


@pytest.mark.parametrize("value", ["-1", "0", "nan", "inf"])
def test_a_timeout_must_be_a_finite_number_above_0(run_client: RunClient, value: str) -> None:
    result = run_client("127.0.0.1", "--connect-timeout", value)
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == (
        f"walkie client: error: argument --connect-timeout: must be a finite number > 0: {value}"
    )


def test_a_hub_back_with_a_new_history_file_replays_all_of_it(
    tmp_path: Path, pipe_client: StartClient, start_hub: Callable[..., HubProcess]
) -> None:
    # Message ids start again in a new file: the client's last id from the
    # old one must not hide what the new one holds.
    old = start_hub(history_db=tmp_path / "old.sqlite3")
    speaker = Probe(old.port)
    speaker.say("/who")  # a plain station joins with its first line
    listener = pipe_client(old.address, "--nick", "listener")
    speaker.wait_for("* listener joined…")
    for number in range(3):
        speaker.say(f"old {number}")
    listener.stdout.wait_until(lambda line: line.endswith("> old 2"))
    speaker.close()
    old.kill()
    new_file = tmp_path / "new.sqlite3"
    elsewhere = start_hub(history_db=new_file)  # the new file gets a message first
    writer = Probe(elsewhere.port)
    writer.say("said while you were away")
    writer.say("/history 1")  # stored once it is answered
    writer.reader.wait_until(lambda line: line.endswith("> said while you were away"))
    writer.close()
    elsewhere.stop()
    start_hub(history_db=new_file, port=old.port)
    listener.stdout.wait_until(lambda line: line.endswith("> said while you were away"))


def test_a_nick_taken_is_told_on_stderr(hub: Hub, probe: Probe, run_client: RunClient) -> None:
    probe.say("/nick zed")
    probe.wait_for("* guest1 is now zed")
    result = run_client(hub.address, "--nick", "ZED", stdin="hello\n")
    assert result.returncode == 0
    assert "* ZED is taken: you are ZED2" in result.stderr.splitlines()
    probe.wait_for("<ZED2> hello")


def test_lines_beyond_the_hubs_floor_queue_are_kept_and_sent_when_it_frees(
    tmp_path: Path, pipe_client: StartClient
) -> None:
    hub = HubProcess(tmp_path / "h.sqlite3", "--max-queued", "2", "--max-rate", "0").start()
    try:
        holder = Probe(hub.port)
        holder.say("/talk")
        holder.wait_for("* guest1 is talking")
        alice = pipe_client(hub.address, "--nick", "alice")
        holder.wait_for("* alice joined…")
        lines = [f"waiting line {number}" for number in range(5)]
        alice.send(*lines)
        time.sleep(0.5)  # all five reach the hub (or wait in the client) before the floor frees
        holder.say("/over")
        assert alice.finish() == 0
        for line in lines:
            holder.wait_for(f"<alice> {line}")
        said = [line for line in holder.reader.lines if line.startswith("<alice>")]
        assert said == [f"<alice> {line}" for line in lines]  # once each, in order
    finally:
        hub.stop()


def test_the_hubs_goodbye_is_read_before_the_client_exits(hub: Hub, run_client: RunClient) -> None:
    for _ in range(3):  # every time, not when the race allows
        result = run_client(hub.address, stdin="hello\n")
        assert result.returncode == 0
        assert result.stderr.splitlines()[-1] == "* bye"


def test_ctrl_c_while_the_hub_has_not_answered_yet_is_quiet() -> None:
    with socket.create_server(("127.0.0.1", 0)) as silent:  # connects, never welcomes
        port = silent.getsockname()[1]
        client = subprocess.Popen(
            [*WALKIE, "client", f"127.0.0.1:{port}"],
            stdin=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=client_env(),
        )
        time.sleep(0.5)  # in the first attempt, waiting for the welcome
        client.send_signal(signal.SIGINT)
        _, errors = client.communicate(timeout=DEADLINE)
    assert client.returncode == 130
    assert errors == ""


def test_ctrl_c_while_stdin_stays_open_exits_130_quietly(hub: Hub) -> None:
    # A pipe whose writer lives on (`tail -f log | walkie client`): the
    # thread reading it is still waiting when the client exits.
    ear = LineClient.connect(hub.port, "ear")
    read_end, write_end = os.pipe()
    try:
        client = subprocess.Popen(
            [*WALKIE, "client", hub.address],
            stdin=read_end,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=client_env(),
        )
        os.close(read_end)
        os.write(write_end, b"hello\n")
        ear.expect(lambda line: line.endswith("> hello"))
        client.send_signal(signal.SIGINT)
        _, errors = client.communicate(timeout=DEADLINE)
    finally:
        os.close(write_end)
    assert (client.returncode, errors) == (130, "* bye\n")


@pytest.mark.parametrize("stdin_ended", [True, False], ids=["stdin ended", "stdin open"])
def test_ctrl_c_while_lines_wait_for_the_floor_says_they_are_not_delivered(
    hub: Hub, stdin_ended: bool
) -> None:
    # With stdin open (`tail -f log | walkie client`) the client is still
    # reading it when Ctrl-C comes.
    holder = LineClient.connect(hub.port, "holder")
    holder.send("/talk")
    holder.expect_line("* holder is talking")
    client = subprocess.Popen(
        [*WALKIE, "client", hub.address, "--delivery-timeout", "60"],
        stdin=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=client_env(),
    )
    assert client.stdin is not None
    client.stdin.write("after you\n")
    client.stdin.flush()
    if stdin_ended:
        client.stdin.close()
    holder.expect(lambda line: line.endswith("joined (2 on the channel)"))
    time.sleep(0.5)  # its line queued, it waits for delivery
    client.send_signal(signal.SIGINT)
    assert client.wait(DEADLINE) == 130
    client.stdin.close()
    assert client.stderr is not None
    assert client.stderr.read().splitlines()[-1] == (  # after the hub's goodbye
        "! 1 line was not delivered: you left with Ctrl-C"
        " (waiting for the floor: holder is talking)"
    )


def test_a_line_longer_than_the_biggest_limit_is_refused_not_cut(
    tmp_path: Path, run_client: RunClient
) -> None:
    roomy = HubProcess(tmp_path / "h.sqlite3", "--max-line", "65536").start()
    try:
        result = run_client(roomy.address, stdin="a" * 65537 + "\nnext\n")
    finally:
        roomy.stop()
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == "walkie client: 1 line was refused"


def test_a_line_held_up_by_the_floor_says_so_when_time_runs_out(
    hub: Hub, probe: Probe, run_client: RunClient
) -> None:
    probe.say("/talk")
    probe.wait_for("* guest1 is talking")
    result = run_client(hub.address, "--delivery-timeout", "0.5", stdin="after you\n")
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        "walkie client: 1 line was not delivered within 0.5 s"
        " (waiting for the floor: guest1 is talking)"
    )
