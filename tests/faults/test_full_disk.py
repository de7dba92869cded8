"""The hub's disk filling up under a stream of messages, and room coming back.

A full disk is made real for one process with its file size limit
(RLIMIT_FSIZE, which the tests may set for their own child): from that moment
a file of the hub's can no longer grow — SQLite's WAL, and the journal past
its first mebibyte — exactly as on a full SD card. Python ignores the
SIGXFSZ that comes with it, so the writes fail with EFBIG.
"""

from __future__ import annotations

import contextlib
import json
import resource
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

from support.hub import HubProcess, LineClient
from support.waiting import DEADLINE

MESSAGES = 2500
TEXT_SIZE = 900
"""Bytes per message: the WAL needs room after a few, the journal's first
mebibyte holds about a thousand."""
QUIET = 2.5
"""Seconds without a message: longer than the hub waits to checkpoint a quiet
channel, which tries to store what waits once by itself."""


class Listener:
    """A netcat user who only listens, read on a thread of its own so that the
    hub never waits for it."""

    def __init__(self, port: int) -> None:
        self.client = LineClient.connect(port, "lis")
        self.heard: list[str] = []
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        with contextlib.suppress(AssertionError):  # the deadline: the assertions tell
            self.client.expect(self._hear)

    def _hear(self, line: str) -> bool:
        if line.startswith("<sam> "):
            self.heard.append(line.removeprefix("<sam> "))
        return line == "<sam> after"

    def join(self) -> list[str]:
        self._thread.join(DEADLINE)
        return self.heard


def message(number: int) -> str:
    label = f"m{number} "
    return label + "x" * (TEXT_SIZE - len(label))


def send(sender: LineClient, number: int, text: str) -> dict[str, object]:
    """Send one rich message; the hub's answer to it: an ack or an error."""
    sender.send_json(t="msg", id=number, text=text)
    line = sender.expect(lambda line: _answer(line, number) is not None)
    answer = _answer(line, number)
    assert answer is not None
    return answer


def _answer(line: str, number: int) -> dict[str, object] | None:
    if not line.startswith("{"):
        return None
    obj: dict[str, object] = json.loads(line)
    return obj if obj["t"] in ("ack", "error") and obj.get("id") == number else None


def newest_two(client: LineClient) -> list[str]:
    """The texts of the hub's answer to a rich client's history request for 2."""
    client.send_json(t="history", n=2)
    texts = []
    while (obj := json.loads(client.expect(lambda line: line.startswith("{"))))["t"] != "synced":
        if obj["t"] == "msg":
            texts.append(str(obj["text"]))
    return texts


def test_a_hub_whose_disk_fills_keeps_the_channel_going_and_stores_every_message_it_sent(
    start_hub: Callable[..., HubProcess], tmp_path: Path
) -> None:
    db = tmp_path / "history.sqlite3"
    hub = start_hub("--max-rate", "0", history_db=db)
    assert hub.process is not None and hub.log is not None
    listener = Listener(hub.port)
    sender = LineClient.connect(hub.port)
    sender.send("/hello " + json.dumps({"v": 1, "nick": "sam", "session": "s1"}))
    sender.expect_json("synced")
    before = send(sender, 0, "before")
    assert before["t"] == "ack"
    sender.send_json(t="history", n=1)  # a query commits: "before" is in the WAL now
    sender.expect_json("synced")

    wal_size = Path(f"{db}-wal").stat().st_size
    _, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.prlimit(hub.process.pid, resource.RLIMIT_FSIZE, (wal_size, hard))
    answers = {number: send(sender, number, message(number)) for number in range(1, MESSAGES)}
    hub.log.wait_until(lambda line: "cannot store the history" in line)
    hub.log.wait_until(lambda line: "new messages are refused" in line)

    acked = [number for number, answer in answers.items() if answer["t"] == "ack"]
    refused = [number for number, answer in answers.items() if answer["t"] == "error"]
    assert {answers[number].get("code") for number in refused} == {"not_stored"}
    assert len(acked) > 1000, "the channel went on while SQLite refused (the journal held them)"
    assert refused, "the journal filled up too: later messages were refused, not lost"
    assert acked == list(range(1, len(acked) + 1)), "refused only once the journal was full"
    assert newest_two(sender) == [message(acked[-2]), message(acked[-1])], "seen, unstored"

    # Room comes back while the channel is quiet: the hub's own retries store them.
    assert sender.quiet_for(QUIET) == []
    resource.prlimit(hub.process.pid, resource.RLIMIT_FSIZE, (hard, hard))
    hub.log.wait_until(lambda line: "the history is stored in" in line and "again" in line)
    after = send(sender, MESSAGES, "after")
    assert after["t"] == "ack"
    hub.log.wait_until(lambda line: "takes new messages again" in line)
    assert listener.join() == ["before", *(message(n) for n in acked), "after"]
    hub.stop()
    assert hub.process.returncode == 0

    with contextlib.closing(sqlite3.connect(db)) as stored:
        rows = list(stored.execute("SELECT mid, text FROM messages ORDER BY mid"))
    assert rows == [
        (before["mid"], "before"),
        *((answers[n]["mid"], message(n)) for n in acked),
        (after["mid"], "after"),
    ]
    first = rows[0][0]
    assert [mid for mid, _ in rows] == list(range(first, first + len(rows))), "no id skipped"
