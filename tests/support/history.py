"""Reading a hub's history file the way another program would."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path


def messages_in_the_file_alone(path: Path, scratch: Path) -> list[str]:
    """The texts a copy of the database file holds without its WAL (what a
    backup of that one file would have); ``scratch`` is a directory for the copy."""
    copy = scratch / "copy-of-the-file-alone.sqlite3"
    shutil.copyfile(path, copy)
    with sqlite3.connect(copy) as db:
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master")}
        if "messages" not in tables:  # even the table is still in the WAL
            return []
        return [text for (text,) in db.execute("SELECT text FROM messages ORDER BY mid")]
