"""The history file itself: what another program finds in it, and what a hub
killed at any moment finds in it when it starts again."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from support.history import messages_in_the_file_alone
from walkie.channel import history as history_module
from walkie.channel import journal as journal_module
from walkie.channel.history import JOURNAL_SUFFIX, History
from walkie.channel.journal import JournalEntry, encode_entry
from walkie.errors import ConfigError


def test_a_checkpoint_puts_the_stored_messages_in_the_database_file(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    history = History(path)
    for text in ("one", "two", "three"):
        history.append("ann", text, ts=1.0)
    assert messages_in_the_file_alone(path, tmp_path) == []  # still in the WAL only
    assert history.unchecked == 3
    history.checkpoint()
    assert history.unchecked == 0
    assert messages_in_the_file_alone(path, tmp_path) == ["one", "two", "three"]
    history.close()


def test_a_channel_that_is_never_quiet_still_reaches_the_database_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(history_module, "CHECKPOINT_LIMIT", 5)
    path = tmp_path / "history.sqlite3"
    history = History(path)
    for number in range(12):
        history.append("ann", f"line {number}", ts=1.0)
    assert messages_in_the_file_alone(path, tmp_path) == [f"line {n}" for n in range(10)]
    assert history.unchecked == 2
    assert [m.text for m in history.latest(12)] == [f"line {n}" for n in range(12)]
    history.close()


def killed_after(path: Path, steps: str) -> None:
    """Run ``steps`` against ``History(path)`` as ``history`` in a process of its
    own, which then dies of SIGKILL: no commit, no close, nothing flushed."""
    script = "\n".join(
        [
            "import os, signal",
            "from walkie.channel.history import History",
            f"history = History({str(path)!r})",
            textwrap.dedent(steps),
            "os.kill(os.getpid(), signal.SIGKILL)",
        ]
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=60)
    assert result.returncode == -signal.SIGKILL, result.stderr.decode()


def test_messages_sent_but_not_yet_committed_survive_the_hub_being_killed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "history.sqlite3"
    killed_after(
        path,
        """
        history.append("ann", "one", ts=1.0)
        history.append("bob", "two, grüße", ts=2.0, session="s1", client_id=7)
        history.append("ann", "three", ts=3.0)
        """,
    )
    history = History(path)
    assert [(m.mid, m.nick, m.text) for m in history.latest(10)] == [
        (1, "ann", "one"),
        (2, "bob", "two, grüße"),
        (3, "ann", "three"),
    ]
    assert history.find("s1", 7) == 2  # bob's re-send will be recognised
    assert history.append("ann", "four", ts=4.0) == 4  # no id is used twice
    history.close()
    assert "recovered 3 message(s)" in caplog.text  # the journal says the hub crashed


def test_an_unopenable_journal_is_refused_with_its_path(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    journal = Path(str(path) + JOURNAL_SUFFIX)
    journal.mkdir()  # where the file should be
    with pytest.raises(ConfigError, match="cannot open history journal") as refused:
        History(path)
    assert str(journal) in str(refused.value)


def test_a_clean_close_leaves_nothing_to_recover(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "history.sqlite3"
    history = History(path)
    history.append("ann", "one", ts=1.0)
    history.close()
    reopened = History(path)
    assert [m.text for m in reopened.latest(10)] == ["one"]
    assert reopened.append("ann", "two", ts=2.0) == 2
    reopened.close()
    assert "recovered" not in caplog.text


def test_a_write_torn_by_the_kill_is_left_out_and_what_came_before_is_kept(
    tmp_path: Path,
) -> None:
    path = tmp_path / "history.sqlite3"
    killed_after(
        path,
        """
        history.append("ann", "whole", ts=1.0)
        history.append("ann", "torn in the middle", ts=2.0)
        """,
    )
    records = [JournalEntry(1, 1.0, "ann", "whole", None, None)]
    records.append(JournalEntry(2, 2.0, "ann", "torn in the middle", None, None))
    second_ends = sum(len(encode_entry(record)) for record in records)
    with Path(str(path) + JOURNAL_SUFFIX).open("r+b") as file:
        file.seek(second_ends - 5)  # the second copy got only part way
        file.write(bytes(5))
    history = History(path)
    assert [(m.mid, m.text) for m in history.latest(10)] == [(1, "whole")]
    assert history.append("ann", "next", ts=3.0) == 2
    history.close()


def test_older_journal_records_behind_the_newest_are_not_stored_twice(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    killed_after(
        path,
        """
        for number in range(5):
            history.append("ann", f"line {number}", ts=1.0)
        history.commit()  # stored: the journal starts again from its beginning
        history.append("ann", "line 5", ts=2.0)  # over "line 0": "line 1".. follow intact
        history.append("ann", "line 6", ts=2.0)
        """,
    )
    history = History(path)
    assert [(m.mid, m.text) for m in history.latest(20)] == [(n + 1, f"line {n}") for n in range(7)]
    history.close()


def test_a_query_sees_the_messages_appended_before_it(tmp_path: Path) -> None:
    history = History(tmp_path / "history.sqlite3")
    history.append("ann", "one", ts=1.0, session="s1", client_id=1)
    assert history.find("s1", 1) == 1
    history.append("ann", "two", ts=2.0)
    assert [m.text for m in history.after(0, 10)] == ["one", "two"]
    assert history.newest_id() == 2
    history.close()
    reopened = History(tmp_path / "history.sqlite3")
    assert [m.text for m in reopened.latest(10)] == ["one", "two"]
    reopened.close()


def test_a_channel_that_never_pauses_keeps_its_journal_small(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    history = History(path)
    text = "a long line of chat " * 60  # 1200 bytes: the pending ones outgrow the mapping
    record = len(encode_entry(JournalEntry(1, 1.0, "ann", text, None, None)))
    assert history_module.PENDING_LIMIT * record > journal_module.MAPPED_SIZE
    for _ in range(5 * history_module.PENDING_LIMIT):  # and nobody commits
        history.append("ann", text, ts=1.0)
    bound = 2 * history_module.PENDING_LIMIT * record  # what the journal grows to at most
    assert Path(str(path) + JOURNAL_SUFFIX).stat().st_size <= bound
    assert history.pending < history_module.PENDING_LIMIT
    history.commit()  # the journal starts again, and is cut back to its usual size
    assert Path(str(path) + JOURNAL_SUFFIX).stat().st_size == journal_module.MAPPED_SIZE
    history.close()
