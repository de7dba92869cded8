"""Where walkie keeps its files: the state directory (history, known hubs)."""

from __future__ import annotations

import os
from pathlib import Path


def state_dir() -> Path:
    """systemd's ``$STATE_DIRECTORY`` under the service, else the XDG state home."""
    if directory := os.environ.get("STATE_DIRECTORY"):
        return Path(directory.split(":")[0])
    xdg = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(xdg) / "walkie"


def default_history_db() -> Path:
    return state_dir() / "history.sqlite3"
