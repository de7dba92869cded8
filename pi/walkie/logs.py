"""Logging set-up: plain lines on a terminal, syslog priority prefixes
(``<4>`` for a warning) when stderr goes to the journal, so that
``journalctl -p warning`` filters walkie's messages properly."""

from __future__ import annotations

import logging
import os

_PRIORITY = {
    logging.DEBUG: 7,
    logging.INFO: 6,
    logging.WARNING: 4,
    logging.ERROR: 3,
    logging.CRITICAL: 2,
}


class JournalFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        priority = _PRIORITY.get(record.levelno, 6)
        return f"<{priority}>{super().format(record)}"


def use_journal_levels(level: int | None = None) -> None:
    """Log INFO and up (or ``level``); with priority prefixes under systemd."""
    root = logging.getLogger()
    if level is None:
        level = min(root.level, logging.INFO) if root.level else logging.INFO
    root.setLevel(level)
    if os.environ.get("JOURNAL_STREAM"):
        for handler in root.handlers:
            handler.setFormatter(JournalFormatter("%(name)s: %(message)s"))
