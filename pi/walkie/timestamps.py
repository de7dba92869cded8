"""When a stored message was sent, as walkie shows it: the hub's plain
history lines and the terminal client's alike."""

from __future__ import annotations

from datetime import date, datetime


def history_stamp(ts: float, today: date) -> str:
    """When a stored message was sent, in local time: ``HH:MM`` on ``today``,
    ``YYYY-MM-DD HH:MM`` on any other day, ``--:--`` when not known."""
    try:
        sent = datetime.fromtimestamp(ts) if ts else None
    except (OverflowError, ValueError, OSError):  # the hub's number, and no hub is trusted
        sent = None
    if sent is None:
        return "--:--"
    return sent.strftime("%H:%M" if sent.date() == today else "%Y-%m-%d %H:%M")
