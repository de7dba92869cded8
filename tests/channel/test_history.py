"""The history file itself: what another program finds in it, and what a hub
killed at any moment finds in it when it starts again."""

from __future__ import annotations

import contextlib
import resource
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.history import messages_in_the_file_alone
from walkie.channel import history as history_module
from walkie.channel import journal as journal_module
from walkie.channel.history import JOURNAL_SUFFIX, History, HistoryFull
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


def killed_after(path: Path, steps: str, before: str = "") -> None:
    """Run ``steps`` against ``History(path)`` as ``history`` in a process of its
    own (``before`` runs before it opens), which then dies of SIGKILL: no
    commit, no close, nothing flushed."""
    script = "\n".join(
        [
            "import os, signal",
            before,
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


@contextlib.contextmanager
def files_cannot_grow_past(size: int) -> Iterator[None]:
    """This process's files cannot grow past ``size`` bytes (RLIMIT_FSIZE), as
    on a full disk; Python ignores the SIGXFSZ, so such writes fail with EFBIG."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))


def test_a_history_on_a_full_disk_holds_a_bounded_number_of_messages_and_stores_them_later(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(history_module, "UNSTORED_LIMIT", 50)
    path = tmp_path / "history.sqlite3"
    history = History(path)
    history.append("ann", "first", ts=1.0)
    assert history.try_commit()
    with files_cannot_grow_past(Path(f"{path}-wal").stat().st_size):
        for number in range(50):
            history.append("ann", f"waiting {number}", ts=2.0)
        assert not history.try_commit()
        assert history.failure is not None
        assert [m.text for m in history.latest(2)] == ["waiting 48", "waiting 49"]
        assert [m.mid for m in history.after(49, 10)] == [50, 51]
        with pytest.raises(HistoryFull):
            history.append("ann", "one too many", ts=3.0)
        assert history.newest_id() == 51, "a refused message takes no id"
    assert history.try_commit()
    assert history.failure is None
    history.close()
    reopened = History(path)
    assert [m.text for m in reopened.after(0, 100)] == ["first"] + [
        f"waiting {n}" for n in range(50)
    ]
    reopened.close()


def test_a_history_whose_journal_cannot_grow_refuses_the_message_and_changes_nothing(
    tmp_path: Path,
) -> None:
    path = tmp_path / "history.sqlite3"
    history = History(path)
    history.append("ann", "first", ts=1.0)  # maps the journal's first mebibyte
    text = "x" * 1000
    with files_cannot_grow_past(journal_module.MAPPED_SIZE):
        with pytest.raises(HistoryFull, match="journal cannot grow"):
            for _ in range(2 * journal_module.MAPPED_SIZE // len(text)):
                history.append("ann", text, ts=2.0)  # nobody commits: the journal fills
        refused_at = history.newest_id()
        assert history.pending == refused_at
        journal = Path(str(path) + JOURNAL_SUFFIX)
        assert journal.stat().st_size == journal_module.MAPPED_SIZE
    history.append("ann", "after", ts=3.0)  # room again: the journal grows
    assert history.newest_id() == refused_at + 1
    history.close()
    reopened = History(path)
    texts = [m.text for m in reopened.after(0, 5000)]
    assert texts == ["first", *[text] * (refused_at - 1), "after"]
    reopened.close()


def test_messages_waiting_for_room_survive_the_hub_being_killed_twice_on_a_full_disk(
    tmp_path: Path,
) -> None:
    path = tmp_path / "history.sqlite3"
    history = History(path)
    history.append("ann", "stored", ts=1.0)  # and the journal gets its first mebibyte
    history.close()
    full_disk = "import resource; resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))"
    steps = """
        history.append("ann", "one", ts=2.0)
        history.append("bob", "two", ts=3.0)
        """
    killed_after(path, steps, before=full_disk)
    steps = """
        assert [m.text for m in history.latest(3)] == ["stored", "one", "two"]
        assert history.failure is not None  # recovered, but SQLite still refuses them
        history.append("cy", "three", ts=4.0)
        """
    killed_after(path, steps, before=full_disk)
    history = History(path)  # room again
    assert [(m.mid, m.text) for m in history.latest(10)] == [
        (1, "stored"),
        (2, "one"),
        (3, "two"),
        (4, "three"),
    ]
    history.close()
