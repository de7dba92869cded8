"""The history file itself: what another program finds in it."""

from __future__ import annotations

from pathlib import Path

import pytest

from support.history import messages_in_the_file_alone
from walkie.channel import history as history_module
from walkie.channel.history import History


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
