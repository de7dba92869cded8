"""Parsing what a station sends: a plain-mode line or a rich-mode JSON object
becomes one :data:`Command`. Pure functions, no state."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TypeGuard

from walkie.text import is_valid_session, sanitize

PROTOCOL_VERSION = 1
HISTORY_MAX = 200
HISTORY_DEFAULT = 10
UNKNOWN_COMMAND_SHOWN = 32
"""Characters of an unknown command's name that its error repeats."""
LARGEST_ID = 2**63 - 1
"""The largest message id or count a rich line may carry: what SQLite and
the journal store (a signed 64-bit integer). Larger is refused when parsed."""


@dataclass(frozen=True, slots=True)
class Say:
    text: str
    client_id: int | None = None


@dataclass(frozen=True, slots=True)
class Talk:
    pass


@dataclass(frozen=True, slots=True)
class Over:
    pass


@dataclass(frozen=True, slots=True)
class Nick:
    nick: str


@dataclass(frozen=True, slots=True)
class Who:
    pass


@dataclass(frozen=True, slots=True)
class HistoryRequest:
    count: int


@dataclass(frozen=True, slots=True)
class Resume:
    """Replay the next page of messages after ``after`` (a resume in several pages)."""

    after: int


@dataclass(frozen=True, slots=True)
class Help:
    pass


@dataclass(frozen=True, slots=True)
class Quit:
    pass


@dataclass(frozen=True, slots=True)
class Ping:
    pass


@dataclass(frozen=True, slots=True)
class Hello:
    version: int
    nick: str | None
    session: str | None
    last_seen: int | None
    history: int
    token: str | None = None
    channel: str | None = None
    """The channel ``last_seen`` is an id of (the welcome's ``channel``)."""


@dataclass(frozen=True, slots=True)
class Invalid:
    code: str
    text: str
    client_id: int | None = None


Command = (
    Say | Talk | Over | Nick | Who | HistoryRequest | Resume | Help | Quit | Ping | Hello | Invalid
)


def hello_argument(line: str) -> str | None:
    """What follows ``/hello`` (any case) when ``line`` is a hello, else ``None``."""
    name, _, argument = line.partition(" ")
    return argument if name.lower() == "/hello" else None


def parse_plain(line: str) -> Command:
    """A plain-mode line: a message, or a slash command."""
    if not line.startswith("/"):
        return Say(line)
    if line.startswith("//"):
        return Say(line[1:])
    name, _, argument = line[1:].partition(" ")
    argument = argument.strip()
    match name.lower():
        case "nick":
            return Nick(argument) if argument else Invalid("bad_nick", "usage: /nick NAME")
        case "who":
            return Who()
        case "talk":
            return Talk()
        case "over":
            return Over()
        case "history":
            return _history_request(argument)
        case "help":
            return Help()
        case "quit":
            return Quit()
        case "hello":
            return parse_hello(argument)
        case "auth":  # asked for first where a token is set; here it is not
            return Invalid("unknown", "this hub needs no token")
        case _:
            shown = sanitize(name)[:UNKNOWN_COMMAND_SHOWN]  # echoed: as clean as a message
            return Invalid("unknown", f"unknown command /{shown}; /help lists the commands")


def _history_request(argument: str) -> Command:
    if not argument:
        return HistoryRequest(HISTORY_DEFAULT)
    # ASCII digits only: int() also reads "٣" (an Arabic-Indic three).
    if not (argument.isascii() and argument.isdigit()) or not 1 <= int(argument) <= HISTORY_MAX:
        return Invalid("unknown", f"usage: /history [N], N from 1 to {HISTORY_MAX}")
    return HistoryRequest(int(argument))


def parse_hello(argument: str) -> Command:
    """The JSON object after ``/hello`` that puts a connection in rich mode."""
    fields = _json_object(argument)
    if fields is None:
        return Invalid("bad_json", "/hello takes a JSON object")
    version = fields.get("v")
    if version != PROTOCOL_VERSION or isinstance(version, bool):  # true == 1 in Python
        problem = "names no protocol version" if version is None else f"speaks version {version!r}"
        return Invalid("version", f"the hello {problem}; this hub speaks 1")
    nick, session = fields.get("nick"), fields.get("session")
    last, history = fields.get("last"), fields.get("history", 0)
    if nick is not None and not isinstance(nick, str):
        return Invalid("bad_json", "hello: nick must be a string")
    if session is not None and not (isinstance(session, str) and is_valid_session(session)):
        return Invalid("bad_json", "hello: session must be 1-64 of A-Z a-z 0-9 _ -")
    token = fields.get("token")
    if token is not None and not isinstance(token, str):
        return Invalid("bad_json", "hello: token must be a string")
    if last is not None and not _is_count(last):
        return Invalid("bad_json", "hello: last must be a message id")
    channel = fields.get("channel")
    if channel is not None and not isinstance(channel, str):
        return Invalid("bad_json", "hello: channel must be a string")
    if not _is_count(history):
        return Invalid("bad_json", "hello: history must be a count")
    return Hello(PROTOCOL_VERSION, nick, session, last, min(history, HISTORY_MAX), token, channel)


def parse_rich(line: str) -> Command:
    """A rich-mode line: one JSON object with a type ``t``."""
    fields = _json_object(line)
    if fields is None:
        return Invalid("bad_json", "expected one JSON object per line")
    match fields.get("t"):
        case "msg":
            client_id, text = fields.get("id"), fields.get("text")
            if not _is_count(client_id) or not isinstance(text, str):
                return Invalid("bad_json", "msg needs an integer id and a text")
            return Say(text, client_id)
        case "talk":
            return Talk()
        case "over":
            return Over()
        case "nick":
            nick = fields.get("nick")
            return Nick(nick) if isinstance(nick, str) else Invalid("bad_json", "nick needs a nick")
        case "who":
            return Who()
        case "history":
            count = fields.get("n", HISTORY_DEFAULT)
            if not _is_count(count):
                return Invalid("bad_json", "history needs a count n")
            return HistoryRequest(min(count, HISTORY_MAX))
        case "resume":
            after = fields.get("after")
            return Resume(after) if _is_count(after) else Invalid("bad_json", "resume needs after")
        case "ping":
            return Ping()
        case "quit":
            return Quit()
        case other:
            return Invalid("unknown", f"unknown message type {other!r}")


def _json_object(text: str) -> dict[str, object] | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _is_count(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= LARGEST_ID
