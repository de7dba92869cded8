"""How the hub's words look on the wire, in plain mode (for people with
netcat) and in rich mode (JSON lines for walkie's own clients)."""

from __future__ import annotations

import json
from datetime import date

from walkie.channel.history import StoredMessage
from walkie.timestamps import history_stamp


def rich(**fields: object) -> bytes:
    """One rich-mode line: a compact JSON object."""
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def plain_message(nick: str, text: str) -> bytes:
    return f"<{nick}> {text}\n".encode()


def rich_message(message: StoredMessage, *, history: bool) -> bytes:
    return rich(
        t="msg",
        mid=message.mid,
        nick=message.nick,
        text=message.text,
        ts=message.ts,
        history=history,
    )


def plain_history(message: StoredMessage) -> bytes:
    stamp = history_stamp(message.ts, date.today())
    return f"[history {stamp}] <{message.nick}> {message.text}\n".encode()


def plain_notice(text: str) -> bytes:
    return f"* {text}\n".encode()


def plain_error(text: str) -> bytes:
    return f"! {text}\n".encode()


def rich_notice(text: str) -> bytes:
    return rich(t="notice", text=text)


def rich_error(code: str, text: str, client_id: int | None = None) -> bytes:
    if client_id is None:
        return rich(t="error", code=code, text=text)
    return rich(t="error", code=code, text=text, id=client_id)
