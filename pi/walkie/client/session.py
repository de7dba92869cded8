"""The client side of the channel protocol's rich mode, without any I/O (sans-I/O).

:class:`ClientSession` owns everything a walkie client knows about its channel:
the hello (nick, a random session id kept for the object's lifetime, ``last`` =
the newest message id seen), the link state, the station list, the floor
holder, and the **outbox** of lines waiting for an ack. It never touches a
socket or a clock: the I/O shell (:mod:`walkie.client.connection`) tells it
when a connection is made or lost and hands it each received line; it hands
back lines to write (:meth:`ClientSession.data_to_send`) and typed events
(:meth:`ClientSession.events_received`).

Delivery guarantees kept here (docs/protocol.md §4, SPEC §5):

* every outgoing message gets a per-session increasing ``id``; it stays in the
  outbox until the hub acks it with a ``mid`` (or refuses it with an error,
  which is reported and never retried); after every reconnect the unacked
  entries are re-sent in order, and the hub's (session, id) idempotence makes
  the re-send safe;
* received messages are deduplicated by ``mid``: the same message is never
  reported twice, even when a resume replays it;
* after a reconnect, while re-sent lines from the previous connection are not
  yet acked, received messages are held back (bounded in count and time), so
  that a line of ours the hub stored just before the link broke is recognised
  by its ack's ``mid`` and not shown back to us as a missed message.

Example::

    session = ClientSession(nick="alice")
    session.connection_made()
    sock.sendall(session.data_to_send_bytes())      # the /hello line
    session.receive_line(b'{"t":"welcome","v":1,"nick":"alice"}', now=time.time())
    for event in session.events_received():
        print(event)
"""

from __future__ import annotations

import enum
import json
import secrets
from collections import deque
from dataclasses import dataclass
from typing import Any, TypeGuard

from walkie.channel.commands import LARGEST_ID
from walkie.errors import WalkieError
from walkie.text import NICK_RULE, is_valid_nick, sanitize

PROTOCOL_VERSION = 1
MAX_OUTBOX = 1000
"""Lines that may wait for an ack at once; :meth:`ClientSession.send_message` refuses more."""
MAX_SEEN_MIDS = 10_000
"""Message ids remembered for deduplication (older ones are forgotten first)."""
DEFAULT_MAX_LINE = 1000
"""The hub's line limit in bytes until its welcome says otherwise."""
MAX_HISTORY_REQUEST = 200
MAX_HELD_MESSAGES = 5000
"""Messages held back after a reconnect; beyond this they are released at once."""
MAX_PREAMBLE_LINES = 10
"""Plain-mode lines tolerated before the welcome (the hub greets before it knows our mode)."""
RESUME_HOLD_SECONDS = 5.0
"""Longest time messages are held back after a reconnect (see the module docstring)."""


class OutboxFull(WalkieError):
    """More than :data:`MAX_OUTBOX` lines are waiting for an ack."""


class LinkState(enum.Enum):
    """Where the connection to the hub stands."""

    CONNECTING = "connecting"
    """A TCP connection is being made, or the hello has not been answered yet."""
    CONNECTED = "connected"
    """The hub welcomed us; lines flow."""
    DISCONNECTED = "disconnected"
    """The link is down; the shell will retry (``retry_in`` seconds, if known)."""
    CLOSED = "closed"
    """Closed for good, by the user or by a fatal error (e.g. version mismatch)."""


@dataclass(frozen=True, slots=True)
class LinkChanged:
    state: LinkState
    reason: str = ""
    retry_in: float | None = None


@dataclass(frozen=True, slots=True)
class Welcome:
    nick: str
    server: str
    max_line: int
    floor_timeout: float | None


@dataclass(frozen=True, slots=True)
class Message:
    """A chat line from another station; ``history`` marks one replayed from the store."""

    mid: int
    nick: str
    text: str
    ts: float
    history: bool


@dataclass(frozen=True, slots=True)
class Synced:
    """The end of a history replay."""

    last: int | None


@dataclass(frozen=True, slots=True)
class Acked:
    """Our line ``id`` was stored by the hub as ``mid`` and delivered."""

    id: int
    mid: int
    text: str


@dataclass(frozen=True, slots=True)
class Queued:
    """Our line ``id`` waits at the hub for the floor to free (an :class:`Acked` follows)."""

    id: int
    text: str


@dataclass(frozen=True, slots=True)
class Floor:
    """The floor changed hands; ``holder`` is None when it is free."""

    holder: str | None
    until: float | None
    reason: str | None = None
    """Why a held floor was freed: ``over``, ``timeout`` or ``disconnected``."""


@dataclass(frozen=True, slots=True)
class Busy:
    """Our ``talk`` was refused: ``holder`` has the floor."""

    holder: str | None


@dataclass(frozen=True, slots=True)
class Stations:
    """The station list, whole (after welcome, ``who``) or updated by a join/leave/rename."""

    nicks: tuple[str, ...]
    holder: str | None


@dataclass(frozen=True, slots=True)
class StationJoined:
    """``nick`` joined the channel (the station list is updated already)."""

    nick: str


@dataclass(frozen=True, slots=True)
class StationLeft:
    """``nick`` left the channel (the station list is updated already)."""

    nick: str


@dataclass(frozen=True, slots=True)
class StationRenamed:
    """``old`` is now called ``new`` (maybe us: a :class:`NickChanged` follows then)."""

    old: str
    new: str


@dataclass(frozen=True, slots=True)
class NickChanged:
    """Our own nick is now ``nick``."""

    nick: str


@dataclass(frozen=True, slots=True)
class NickTaken:
    """The hub gave us ``given`` because ``wanted`` is taken (told once per nick given)."""

    wanted: str
    given: str


@dataclass(frozen=True, slots=True)
class Notice:
    text: str


@dataclass(frozen=True, slots=True)
class Error:
    """An error from the hub (or a line refused locally before sending).

    ``id`` and ``message_text`` name the refused line of ours, if any; such a
    line has left the outbox and is not retried.
    """

    code: str
    text: str
    id: int | None = None
    message_text: str | None = None


Event = (
    LinkChanged
    | Welcome
    | Message
    | Synced
    | Acked
    | Queued
    | Floor
    | Busy
    | Stations
    | StationJoined
    | StationLeft
    | StationRenamed
    | NickChanged
    | NickTaken
    | Notice
    | Error
)


@dataclass(slots=True)
class OutboxEntry:
    """A line of ours that the hub has not acknowledged with a mid yet."""

    id: int
    text: str
    queued: bool = False
    """The hub said it waits for the floor."""
    held: bool = False
    """The hub's queue for the floor was full: kept here, written again when
    the floor frees (with every later line, to keep their order)."""
    sent_on: int | None = None
    """The connection number it was last written to, if any."""


class ProtocolViolation(ValueError):
    """A line from the hub that does not follow docs/protocol.md."""


def new_session_id() -> str:
    """A random session id (32 hex digits)."""
    return secrets.token_hex(16)


class ClientSession:
    """One client's view of the channel: hello, events, outbox, dedupe. No I/O.

    Call :meth:`connection_made` when a TCP connection is up, :meth:`receive_line`
    for every line from the hub, :meth:`connection_lost` when it breaks, and
    :meth:`tick` now and then; after each, collect :meth:`data_to_send` and
    :meth:`events_received`.
    """

    def __init__(
        self,
        *,
        nick: str | None = None,
        session_id: str | None = None,
        initial_history: int = 0,
        max_outbox: int = MAX_OUTBOX,
        token: str | None = None,
    ) -> None:
        if nick is not None and not is_valid_nick(nick):
            raise ValueError(f"invalid nick {nick!r}: {NICK_RULE}")
        self.session_id = session_id or new_session_id()
        self.initial_history = max(0, min(initial_history, MAX_HISTORY_REQUEST))
        self.max_outbox = max_outbox
        self._token = token
        self._wanted_nick = nick
        self.nick: str | None = None
        """Our nick as the hub knows it (None before the first welcome)."""
        self._nick_taken_told: str | None = None
        self.state = LinkState.DISCONNECTED
        self.server = ""
        self.max_line = DEFAULT_MAX_LINE
        self.floor_timeout: float | None = None
        self.stations: tuple[str, ...] = ()
        self.holder: str | None = None
        self.floor_until: float | None = None
        self.fatal: Error | None = None
        """Set when the hub refused us for good (e.g. version mismatch): do not reconnect."""
        self.channel: str | None = None
        """The hub's history id: message ids are comparable only within one."""
        self.last_mid: int | None = None
        """The newest message id received from others (sent as ``last`` on resume)."""

        self._outbox: dict[int, OutboxEntry] = {}
        self._next_id = 1
        self._connection = 0
        self._welcomed = False
        self._preamble_lines = 0
        self.refused_because: str | None = None
        """What the hub said (a plain ``!`` line) before it welcomed this
        connection: why it hangs up, if it does (the hub is full)."""
        self._seen: set[int] = set()
        self._seen_order: deque[int] = deque()
        self._quiet_replay = False
        self._expect_hello_synced = False
        self._history_requests = 0
        self._pending_nick: str | None = None
        self._awaiting_resend: set[int] = set()
        self._held: list[Message] = []
        self._hold_started: float | None = None
        self._to_send: list[str] = []
        self._events: list[Event] = []

    # --- what the shell collects ---------------------------------------------

    def data_to_send(self) -> list[str]:
        """Lines to write to the hub, without line endings; empties the buffer."""
        lines, self._to_send = self._to_send, []
        return lines

    def data_to_send_bytes(self) -> bytes:
        """Like :meth:`data_to_send`, encoded and newline-terminated."""
        return b"".join(line.encode() + b"\n" for line in self.data_to_send())

    def events_received(self) -> list[Event]:
        """Events since the last call; empties the buffer."""
        events, self._events = self._events, []
        return events

    @property
    def outbox(self) -> tuple[OutboxEntry, ...]:
        """Lines waiting for an ack, oldest first."""
        return tuple(self._outbox.values())

    @property
    def connected(self) -> bool:
        return self.state is LinkState.CONNECTED

    @property
    def holding(self) -> bool:
        """Whether received messages are held back after a reconnect (see :meth:`tick`)."""
        return self._hold_started is not None

    hold_seconds = RESUME_HOLD_SECONDS

    # --- link events from the shell --------------------------------------------

    def connecting(self, reason: str = "") -> None:
        """The shell starts a connection attempt."""
        self._set_state(LinkState.CONNECTING, reason)

    def connection_made(self) -> None:
        """A TCP connection is up: queue the hello."""
        self._connection += 1
        self._welcomed = False
        self._preamble_lines = 0
        self.refused_because = None
        self._to_send = []
        hello: dict[str, Any] = {"v": PROTOCOL_VERSION, "session": self.session_id}
        if self._token is not None:
            hello["token"] = self._token
        nick = self._pending_nick or self._wanted_nick or self.nick
        if nick is not None:
            hello["nick"] = nick
        if self.last_mid is not None:
            hello["last"] = self.last_mid
            if self.channel is not None:
                hello["channel"] = self.channel
            self._quiet_replay = False
        else:
            # Ask for at least one stored message even when none is to be shown:
            # its mid (or the ``synced`` after it) is the baseline a later
            # resume starts from, so that nothing sent while we are away is lost.
            hello["history"] = max(1, self.initial_history)
            self._quiet_replay = self.initial_history == 0
        self._expect_hello_synced = True
        self._history_requests = 0
        self._to_send.append("/hello " + _dumps(hello))
        self._set_state(LinkState.CONNECTING, "")

    def connection_lost(self, reason: str = "", retry_in: float | None = None) -> None:
        """The connection broke (or an attempt failed); ``retry_in`` is the shell's plan."""
        self._welcomed = False
        self._to_send = []
        # Held messages were never shown and did not advance ``last_mid``: the
        # next resume fetches them again.
        self._held = []
        self._hold_started = None
        self._awaiting_resend = set()
        self.stations = ()
        self.holder = None
        self.floor_until = None
        if self.fatal is not None:
            self._set_state(LinkState.CLOSED, self.fatal.text)
        else:
            self._set_state(LinkState.DISCONNECTED, reason, retry_in)

    def closed(self, reason: str = "closed") -> None:
        """Closed for good; nothing more will be sent."""
        self._to_send = []
        self._set_state(LinkState.CLOSED, reason)

    def tick(self, now: float) -> None:
        """Let time pass: releases held-back messages after :data:`RESUME_HOLD_SECONDS`."""
        if self._hold_started is not None and now - self._hold_started >= RESUME_HOLD_SECONDS:
            self._release_held()

    # --- what the user does ------------------------------------------------------

    def send_message(self, text: str) -> int | None:
        """Queue a chat line; returns its id, or None when nothing was queued.

        Text empty after sanitising is ignored (the hub would ignore it without
        an ack). A line too long for the hub is refused at once with an
        :class:`Error` event (``too_long``) rather than sent and refused without
        an id. Raises :class:`OutboxFull` when :attr:`max_outbox` lines wait.
        """
        clean = sanitize(text).strip()
        if not clean:
            return None
        if len(self._outbox) >= self.max_outbox:
            raise OutboxFull(f"{len(self._outbox)} lines are already waiting to be delivered")
        message_id = self._next_id
        if len(clean.encode()) > self.max_line:
            self._events.append(
                Error(
                    "too_long",
                    f"line too long ({len(clean.encode())} bytes; the hub takes {self.max_line})",
                    message_id,
                    clean,
                )
            )
            self._next_id += 1
            return None
        self._next_id += 1
        entry = OutboxEntry(message_id, clean)
        self._outbox[message_id] = entry
        if any(waiting.held for waiting in self._outbox.values()):
            entry.held = entry.queued = True  # after the held ones, never before
        elif self._welcomed:
            self._write_entry(entry)
        return message_id

    def talk(self) -> bool:
        """Ask for the floor; False (nothing sent) while not connected."""
        return self._command({"t": "talk"})

    def over(self) -> bool:
        """Release the floor; False (nothing sent) while not connected."""
        return self._command({"t": "over"})

    def who(self) -> bool:
        return self._command({"t": "who"})

    def request_history(self, n: int = 10) -> bool:
        """Ask for the last ``n`` messages; they are reported even if seen before."""
        n = max(1, min(n, MAX_HISTORY_REQUEST))
        if self._command({"t": "history", "n": n}):
            self._history_requests += 1
            return True
        return False

    def ping(self) -> bool:
        return self._command({"t": "ping"})

    def quit(self) -> bool:
        return self._command({"t": "quit"})

    def change_nick(self, nick: str) -> bool:
        """Ask for a new nick (used for every later hello too); False while offline.

        Raises ValueError for a nick the hub would refuse.
        """
        if not is_valid_nick(nick):
            raise ValueError(f"invalid nick {nick!r}: {NICK_RULE}")
        self._wanted_nick = nick
        if self._command({"t": "nick", "nick": nick}):
            self._pending_nick = nick
            return True
        return False

    # --- lines from the hub -------------------------------------------------------

    def receive_line(self, line: str | bytes, now: float) -> None:
        """Handle one line from the hub (without or with its line ending)."""
        if isinstance(line, bytes):
            line = line.decode("utf-8", errors="replace")
        line = line.rstrip("\r\n")
        if not line:
            return
        if not self._welcomed and not line.startswith("{"):
            # The hub greets every new connection in plain mode before our
            # hello tells it we speak rich mode: skip those lines (bounded).
            self._preamble_lines += 1
            if line.startswith("! "):
                self.refused_because = sanitize(line[2:])
            if self._preamble_lines > MAX_PREAMBLE_LINES:
                self._fail("protocol", "the hub did not answer the hello as a walkie hub")
            return
        try:
            obj = json.loads(line)
            if not isinstance(obj, dict):
                raise ProtocolViolation("not a JSON object")
            self._dispatch(obj, now)
        except (ValueError, TypeError) as exc:
            if not self._welcomed:
                self._fail("protocol", f"the hub did not answer the hello as a walkie hub ({exc})")
            else:
                self._events.append(Error("protocol", f"unreadable line from the hub: {exc}"))
        self.tick(now)

    def _dispatch(self, obj: dict[str, Any], now: float) -> None:
        kind = obj.get("t")
        if kind == "welcome":
            self._on_welcome(obj, now)
        elif kind == "msg":
            self._on_msg(obj)
        elif kind == "synced":
            self._on_synced(obj)
        elif kind == "ack":
            self._on_ack(obj)
        elif kind == "floor":
            self.holder = _opt_str(obj, "holder")
            self.floor_until = _opt_float(obj, "until") if self.holder else None
            reason = None if self.holder else _opt_str(obj, "reason")
            self._events.append(Floor(self.holder, self.floor_until, reason))
            if self.holder is None:
                for entry in list(self._outbox.values()):
                    if entry.held:
                        self._write_entry(entry)
        elif kind == "busy":
            self._events.append(Busy(_opt_str(obj, "holder")))
        elif kind == "stations":
            self._on_stations(obj)
        elif kind in ("joined", "left", "renamed"):
            self._on_station_change(kind, obj)
        elif kind == "notice":
            self._events.append(Notice(sanitize(_str(obj, "text"))))
        elif kind == "error":
            self._on_error(obj)
        elif kind == "pong" or not isinstance(kind, str):
            pass
        # Unknown types are ignored: later protocol versions may add some.

    def _on_welcome(self, obj: dict[str, Any], now: float) -> None:
        version = obj.get("v", PROTOCOL_VERSION)
        if version != PROTOCOL_VERSION:
            self._fail(
                "version", f"the hub speaks protocol version {version}, we speak {PROTOCOL_VERSION}"
            )
            return
        self._welcomed = True
        channel = obj.get("channel")
        if isinstance(channel, str):
            if self.channel is not None and channel != self.channel:
                # A new history (the hub's file was replaced): its message ids
                # start again, so what we saw before says nothing about them.
                self._seen.clear()
                self._seen_order.clear()
                self.last_mid = None
            self.channel = channel
        old_nick = self.nick
        wanted = self._pending_nick or self._wanted_nick
        self.nick = sanitize(_str(obj, "nick"))
        self._pending_nick = None
        self.server = sanitize(str(obj.get("server", "")))
        max_line = obj.get("max_line")
        if isinstance(max_line, int) and max_line > 0:
            self.max_line = max_line
        self.floor_timeout = _opt_float(obj, "floor_timeout")
        self._events.append(Welcome(self.nick, self.server, self.max_line, self.floor_timeout))
        if wanted is not None and self.nick not in (wanted, self._nick_taken_told):
            self._events.append(NickTaken(wanted, self.nick))
            self._nick_taken_told = self.nick
        if old_nick is not None and old_nick != self.nick:
            self._events.append(NickChanged(self.nick))
        self._set_state(LinkState.CONNECTED, "")
        # Lines written on an earlier connection may have been stored before it
        # broke; hold received messages until their re-sends are acked.
        self._awaiting_resend = {
            entry.id
            for entry in self._outbox.values()
            if entry.sent_on is not None and entry.sent_on < self._connection
        }
        if self._awaiting_resend:
            self._hold_started = now
        for entry in list(self._outbox.values()):
            if len(entry.text.encode()) > self.max_line:
                del self._outbox[entry.id]
                self._awaiting_resend.discard(entry.id)
                self._events.append(
                    Error("too_long", "line too long for this hub", entry.id, entry.text)
                )
            else:
                self._write_entry(entry)
        if not self._awaiting_resend:
            self._hold_started = None

    def _on_msg(self, obj: dict[str, Any]) -> None:
        message = Message(
            mid=_int(obj, "mid"),
            nick=sanitize(_str(obj, "nick")),
            text=sanitize(_str(obj, "text")),
            ts=_opt_float(obj, "ts") or 0.0,
            history=obj.get("history") is True,
        )
        if message.history and self._history_requests > 0:
            # Answer to an explicit request: shown even if seen before.
            self._remember(message.mid, advance_last=True)
            self._events.append(message)
            return
        if not message.history:
            self._quiet_replay = False
        if self._hold_started is not None:
            if len(self._held) >= MAX_HELD_MESSAGES:
                self._release_held()
            else:
                self._held.append(message)
                return
        self._deliver(message)

    def _deliver(self, message: Message) -> None:
        # While a resume is still being replayed, a live message must not move
        # the resume point past the pages not yet received.
        replaying = self._expect_hello_synced and self.last_mid is not None
        seen = message.mid in self._seen
        self._remember(message.mid, advance_last=message.history or not replaying)
        if seen:
            return
        if message.history and self._quiet_replay:
            return
        self._events.append(message)

    def _on_synced(self, obj: dict[str, Any]) -> None:
        last = obj.get("last")
        last_mid = last if _is_id(last) else None
        if self._expect_hello_synced and obj.get("more") is True and last_mid is not None:
            # A long absence is replayed in pages: ask for the next one.
            self._to_send.append(_dumps({"t": "resume", "after": last_mid}))
            return
        if self._expect_hello_synced:
            self._expect_hello_synced = False
            self._quiet_replay = False
            if self.last_mid is None:
                # The baseline for the next resume: everything up to here is
                # either shown or from before we joined.
                self.last_mid = last_mid if last_mid is not None else 0
        elif self._history_requests > 0:
            self._history_requests -= 1
        self._events.append(Synced(last_mid))

    def _on_ack(self, obj: dict[str, Any]) -> None:
        message_id = _int(obj, "id")
        entry = self._outbox.get(message_id)
        if entry is None:
            return  # a duplicate ack, or one for a line refused locally
        mid = obj.get("mid")
        if _is_id(mid):
            del self._outbox[message_id]
            self._remember(mid, advance_last=False)
            self._events.append(Acked(message_id, mid, entry.text))
        elif obj.get("queued") is True:
            entry.queued = True
            self._events.append(Queued(message_id, entry.text))
        else:
            raise ProtocolViolation("ack without mid or queued")
        self._resend_resolved(message_id)

    def _on_stations(self, obj: dict[str, Any]) -> None:
        nicks = obj.get("nicks")
        if not isinstance(nicks, list):
            raise ProtocolViolation("stations without a nicks list")
        self.stations = tuple(sanitize(str(nick)) for nick in nicks)
        self.holder = _opt_str(obj, "holder")
        if self._pending_nick is not None and self._pending_nick in self.stations:
            if self.nick not in self.stations:
                self.nick = self._pending_nick
                self._events.append(NickChanged(self.nick))
            self._pending_nick = None
        self._events.append(Stations(self.stations, self.holder))

    def _on_station_change(self, kind: str, obj: dict[str, Any]) -> None:
        stations = list(self.stations)
        if kind == "joined":
            nick = sanitize(_str(obj, "nick"))
            if nick not in stations:
                stations.append(nick)
            self.stations = tuple(stations)
            self._events.append(StationJoined(nick))
        elif kind == "left":
            nick = sanitize(_str(obj, "nick"))
            self.stations = tuple(station for station in stations if station != nick)
            self._events.append(StationLeft(nick))
        else:
            old, new = sanitize(_str(obj, "old")), sanitize(_str(obj, "new"))
            self.stations = tuple(new if station == old else station for station in stations)
            if self.holder == old:
                self.holder = new
            self._events.append(StationRenamed(old, new))
            if old == self.nick:
                self.nick = new
                self._pending_nick = None
                self._events.append(NickChanged(new))

    def _on_error(self, obj: dict[str, Any]) -> None:
        code = str(obj.get("code", "unknown"))
        text = sanitize(str(obj.get("text", code)))
        raw_id = obj.get("id")
        message_id = raw_id if isinstance(raw_id, int) and not isinstance(raw_id, bool) else None
        if not self._welcomed or code == "version":
            self._fail(code, text)
            return
        held = self._outbox.get(message_id) if message_id is not None else None
        if code == "queue_full" and held is not None:
            # Bounded at the hub, kept here: nothing typed is lost.
            held.held = held.queued = True
            self._events.append(Queued(held.id, held.text))
            self._resend_resolved(held.id)
            return
        entry = self._outbox.pop(message_id, None) if message_id is not None else None
        if code in ("bad_nick", "nick_taken"):
            self._pending_nick = None
            self._wanted_nick = self.nick
        self._events.append(Error(code, text, message_id, entry.text if entry else None))
        if entry is not None:
            self._resend_resolved(entry.id)

    # --- helpers ----------------------------------------------------------------------

    def _command(self, obj: dict[str, Any]) -> bool:
        if not self._welcomed:
            return False
        self._to_send.append(_dumps(obj))
        return True

    def _write_entry(self, entry: OutboxEntry) -> None:
        entry.sent_on = self._connection
        entry.queued = entry.held = False
        self._to_send.append(_msg_line(entry.id, entry.text))

    def _resend_resolved(self, message_id: int) -> None:
        self._awaiting_resend.discard(message_id)
        if not self._awaiting_resend and self._hold_started is not None:
            self._release_held()

    def _release_held(self) -> None:
        held, self._held = self._held, []
        self._hold_started = None
        self._awaiting_resend = set()
        for message in held:
            self._deliver(message)

    def _remember(self, mid: int, *, advance_last: bool) -> None:
        if advance_last and (self.last_mid is None or mid > self.last_mid):
            self.last_mid = mid
        if mid in self._seen:
            return
        self._seen.add(mid)
        self._seen_order.append(mid)
        if len(self._seen_order) > MAX_SEEN_MIDS:
            self._seen.discard(self._seen_order.popleft())

    def _fail(self, code: str, text: str) -> None:
        self.fatal = Error(code, text)
        self._welcomed = False
        self._to_send = []
        self._events.append(self.fatal)
        self._set_state(LinkState.CLOSED, text)

    def _set_state(self, state: LinkState, reason: str, retry_in: float | None = None) -> None:
        if self.state is LinkState.CLOSED and state is not LinkState.CLOSED:
            return
        if state is self.state and state is not LinkState.DISCONNECTED:
            return
        self.state = state
        self._events.append(LinkChanged(state, reason, retry_in))


def _dumps(obj: dict[str, Any]) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def _msg_line(message_id: int, text: str) -> str:
    return _dumps({"t": "msg", "id": message_id, "text": text})


def _str(obj: dict[str, Any], key: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str):
        raise ProtocolViolation(f"{obj.get('t')!r} without a string {key!r}")
    return value


def _opt_str(obj: dict[str, Any], key: str) -> str | None:
    value = obj.get(key)
    return sanitize(value) if isinstance(value, str) and value else None


def _int(obj: dict[str, Any], key: str) -> int:
    value = obj.get(key)
    if not _is_id(value):
        raise ProtocolViolation(f"{obj.get('t')!r} without an id {key!r}")
    return value


def _is_id(value: object) -> TypeGuard[int]:
    """An id a hub may send: one it stores and would take back (a hello's
    ``last``), not a bool, not past LARGEST_ID."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= LARGEST_ID


def _opt_float(obj: dict[str, Any], key: str) -> float | None:
    value = obj.get(key)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None
