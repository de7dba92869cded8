"""The channel itself, as a pure state machine: stations, nicks, the floor,
lines waiting for the floor, and history replay.

It never touches a socket or a clock. The hub's network shell tells it what
happened (:meth:`Channel.connect`, :meth:`Channel.receive`,
:meth:`Channel.disconnect`, :meth:`Channel.tick`) with the current monotonic
time, and carries out the :data:`Output` list each call returns. See
docs/protocol.md for the behaviour this implements.

Example::

    channel = Channel(History(":memory:"), ChannelLimits())
    outputs = channel.connect(1, now=0.0)
    outputs += channel.receive(1, b"hello", now=0.1)
"""

from __future__ import annotations

import hmac
import itertools
from collections import deque
from dataclasses import dataclass, field

from walkie import __version__
from walkie.channel import commands as cmd
from walkie.channel import render
from walkie.channel.history import History, HistoryFull, StoredMessage
from walkie.text import NICK_RULE, is_valid_nick, sanitize

JOIN_GRACE = 1.0
"""Seconds a new connection has to say /hello before it joins in plain mode."""

AUTH_DEADLINE = 30.0
"""Seconds a connection to a hub with a token has to present it before it is
closed: connections without the token cannot hold the hub's places."""
AUTH_PENALTY = 1.0
"""Seconds a connection is not read after its first wrong token; doubled each time."""
MAX_AUTH_FAILURES = 3
"""Wrong tokens a plain connection may send before it is closed."""

RESUME_LIMIT = 500
"""Messages replayed at most to a client resuming from its last seen id."""
TLS_HANDSHAKE = b"\x16\x03"
"""How a TLS client's first bytes begin (a handshake record). A plain hub hangs
up on it: split at random newlines, its random bytes could pass for lines."""
RICH_LINE_ROOM = 1024
"""Bytes a rich line may have besides its message's text: the JSON around it,
or a whole hello with the longest token (256 bytes, each may be escaped)."""

HELP_TEXT = (
    "commands: /nick NAME, /who, /talk (take the floor), /over (release it), "
    "/history [N], /help, /quit; any other line is a message"
)


@dataclass(frozen=True, slots=True)
class ChannelLimits:
    max_line: int = 1000
    """The longest message, in bytes of its text: a plain line, or the text in a rich one."""
    floor_timeout: float = 30.0
    max_queued: int = 100
    resume_limit: int = RESUME_LIMIT

    @property
    def max_wire_line(self) -> int:
        """The longest line read from a station: a rich line's message may have
        every character escaped in two bytes (``"`` as ``\\"``), within the room
        for the rest. Longer plain messages are refused as the text is read."""
        return 2 * self.max_line + RICH_LINE_ROOM


@dataclass(frozen=True, slots=True)
class Send:
    """Write ``data`` to one connection."""

    conn: int
    data: bytes


@dataclass(frozen=True, slots=True)
class Broadcast:
    """Write to every member: ``plain`` to plain-mode ones, ``rich`` to rich-mode
    ones (``None``: nothing for that mode), except ``exclude``."""

    plain: bytes | None
    rich: bytes | None
    exclude: int | None = None


@dataclass(frozen=True, slots=True)
class Enter:
    """The connection is now a member of the channel and gets broadcasts."""

    conn: int
    rich: bool


@dataclass(frozen=True, slots=True)
class Penalty:
    """Read nothing more from the connection for ``seconds`` (after a wrong token)."""

    conn: int
    seconds: float


@dataclass(frozen=True, slots=True)
class Close:
    """Close the connection (after writing what is queued for it)."""

    conn: int


Output = Send | Broadcast | Enter | Penalty | Close


@dataclass(slots=True)
class _Station:
    conn: int
    nick: str
    join_deadline: float
    rich: bool = False
    member: bool = False
    session: str | None = None
    queued: int = 0
    authenticated: bool = True
    auth_deadline: float = 0.0
    auth_failures: int = 0
    greeted_after: int | None = None
    """The newest message id when it was welcomed into the channel: joining in
    plain mode, it is sent every message that came after (none is lost while
    the hub waits to learn its mode)."""


@dataclass(frozen=True, slots=True)
class _QueuedLine:
    station: _Station
    text: str
    client_id: int | None


@dataclass(slots=True)
class _Floor:
    holder: _Station | None = None
    until: float = 0.0


@dataclass
class Channel:
    """Everything the hub knows about the channel; one instance per hub."""

    history: History
    limits: ChannelLimits = field(default_factory=ChannelLimits)
    wall_offset: float = 0.0
    """Added to the monotonic ``now`` to give wall-clock timestamps (the shell
    keeps it current: the wall clock may be set while the hub runs)."""
    token: str | None = None
    """The shared token every station must present first, if the hub has one."""

    def __post_init__(self) -> None:
        self._stations: dict[int, _Station] = {}
        # Connections that have not joined yet, oldest (earliest deadline) first.
        self._pending: dict[int, _Station] = {}
        # Connections that have not presented the hub's token yet, oldest first.
        self._unauthenticated: dict[int, _Station] = {}
        self._member_count = 0
        self._rich_member_count = 0
        self._by_nick: dict[str, _Station] = {}
        self._floor = _Floor()
        self._waiting: deque[_QueuedLine] = deque()
        self._guest_numbers = itertools.count(1)

    # -- inputs -------------------------------------------------------------

    def connect(self, conn: int, now: float) -> list[Output]:
        station = _Station(conn, self._free_guest_nick(), now + JOIN_GRACE)
        self._stations[conn] = station
        self._by_nick[station.nick.lower()] = station
        if self.token is not None:
            station.authenticated = False
            station.auth_deadline = now + AUTH_DEADLINE
            self._unauthenticated[conn] = station
            text = "welcome to walkie; this hub needs a token: /auth TOKEN"
        else:
            self._pending[conn] = station
            station.greeted_after = self.history.newest_id()
            text = f"welcome to walkie, you are {station.nick}; /help lists the commands"
        return [Send(conn, render.plain_notice(text))]

    def receive(self, conn: int, line: bytes, now: float) -> list[Output]:
        """One complete line (without its ending) from a connection."""
        relayed = self.relay(conn, line, now)
        if relayed is not None:
            return [relayed]
        station = self._stations.get(conn)
        if station is None:
            return []
        out: list[Output] = []
        if not station.member and line.startswith(TLS_HANDSHAKE):
            return [Close(conn)]
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            self._join_if_pending(station, out)
            self._error(station, "utf8", "line refused: not valid UTF-8", None, out)
            return out
        if not station.member:
            if (argument := cmd.hello_argument(text)) is not None:
                self._hello(station, cmd.parse_hello(argument), now, out)
                return out
            if not station.authenticated:
                self._authenticate_plain(station, text, out)
                return out
            self._join(station, out)
        if station.rich and not text.strip():
            return out  # a blank line (or a half-close) carries no object: nothing to answer
        command = cmd.parse_rich(text) if station.rich else cmd.parse_plain(text)
        self._execute(station, command, now, out)
        return out

    def relay(self, conn: int, line: bytes, now: float) -> Broadcast | None:
        """The commonest line, in a few steps: a message from a plain member
        that goes to everyone at once (text that needs no cleaning, the floor
        free or the sender's). Stores it and returns its broadcast, the only
        output :meth:`receive` would give for it; no deadline changes. For any
        other line ``None``, having changed nothing: :meth:`receive` (which
        tries this first) handles it in full."""
        station = self._stations.get(conn)
        if (
            station is None
            or not station.member
            or station.rich
            or line.startswith(b"/")
            or len(line) > self.limits.max_line
        ):
            return None
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            return None
        holder = self._floor.holder
        if holder is not None and holder is not station:
            return None
        if not text.isprintable() or not text.strip() or self.history.refusing:
            return None  # refusing: receive() tries to store it once and tells the sender
        try:
            return self._message(station, text, None, now)[0]
        except HistoryFull:
            return None

    def line_too_long(self, conn: int) -> list[Output]:
        station = self._stations.get(conn)
        if station is None:
            return []
        out: list[Output] = []
        self._join_if_pending(station, out)
        self._refuse_too_long(station, None, out)
        return out

    def disconnect(self, conn: int, now: float, reason: str = "left") -> list[Output]:
        station = self._stations.pop(conn, None)
        if station is None:
            return []
        del self._by_nick[station.nick.lower()]
        self._pending.pop(conn, None)
        self._unauthenticated.pop(conn, None)
        out: list[Output] = []
        if station.queued:
            self._waiting = deque(q for q in self._waiting if q.station is not station)
        if station.member:
            self._member_count -= 1
            self._rich_member_count -= station.rich
            count = self._member_count
            out.append(
                Broadcast(
                    render.plain_notice(f"{station.nick} {reason}"),
                    render.rich(t="left", nick=station.nick, count=count),
                )
            )
        if self._floor.holder is station:
            self._release(f"{station.nick} is over (disconnected)", "disconnected", now, out)
        return out

    def tick(self, now: float) -> list[Output]:
        """Let time pass: floor timeouts, connections that never said hello."""
        out: list[Output] = []
        holder = self._floor.holder
        if holder is not None and now >= self._floor.until:
            self._release(f"{holder.nick}'s floor timed out", "timeout", now, out)
        for station in list(self._pending.values()):
            if now < station.join_deadline:
                break
            self._join(station, out)
        for station in list(self._unauthenticated.values()):
            if now < station.auth_deadline:
                break
            del self._unauthenticated[station.conn]
            self._error(station, "auth", f"no token within {AUTH_DEADLINE:g} s, bye", None, out)
            out.append(Close(station.conn))
        return out

    def closing(self) -> list[Output]:
        """The hub is stopping: every member is told before it hangs up."""
        text = "the hub is shutting down"
        return [Broadcast(render.plain_notice(text), render.rich_notice(text))]

    def next_deadline(self) -> float | None:
        """When :meth:`tick` next has something to do, if ever."""
        deadlines = []
        if (joining := next(iter(self._pending.values()), None)) is not None:
            deadlines.append(joining.join_deadline)
        if (unknown := next(iter(self._unauthenticated.values()), None)) is not None:
            deadlines.append(unknown.auth_deadline)
        if self._floor.holder is not None:
            deadlines.append(self._floor.until)
        return min(deadlines, default=None)

    # -- views ----------------------------------------------------------------

    @property
    def nicks(self) -> list[str]:
        return sorted((s.nick for s in self._stations.values() if s.member), key=str.lower)

    @property
    def floor_holder(self) -> str | None:
        holder = self._floor.holder
        return None if holder is None else holder.nick

    def waiting_lines(self, conn: int) -> int:
        """How many of the station's lines wait for the floor."""
        station = self._stations.get(conn)
        return 0 if station is None else station.queued

    def nick_of(self, conn: int) -> str | None:
        station = self._stations.get(conn)
        return None if station is None else station.nick

    # -- joining ----------------------------------------------------------------

    def _hello(self, station: _Station, hello: cmd.Command, now: float, out: list[Output]) -> None:
        station.rich = True
        if not isinstance(hello, cmd.Hello):
            assert isinstance(hello, cmd.Invalid)
            out.append(Send(station.conn, render.rich_error(hello.code, hello.text)))
            out.append(Close(station.conn))
            return
        if not station.authenticated and not self._token_matches(station, hello.token, out):
            out.append(Send(station.conn, render.rich_error("auth", "wrong or missing token")))
            out.append(Close(station.conn))
            return
        if hello.session is not None:  # checked by the parser
            station.session = hello.session
        if hello.nick is not None:
            self._claim_nick_on_hello(station, hello.nick, now, out)
        out.append(
            Send(
                station.conn,
                render.rich(
                    t="welcome",
                    v=cmd.PROTOCOL_VERSION,
                    nick=station.nick,
                    server=f"walkie {__version__}",
                    channel=self.history.channel_id,
                    max_line=self.limits.max_line,
                    floor_timeout=self.limits.floor_timeout,
                ),
            )
        )
        self._join(station, out)
        out.append(Send(station.conn, self._stations_line()))
        out.append(Send(station.conn, self._floor_line()))
        if hello.last_seen is not None:
            # An id seen on another channel (the history file was replaced)
            # says nothing here: everything in this one was missed.
            elsewhere = hello.channel is not None and hello.channel != self.history.channel_id
            self._resume(station, 0 if elsewhere else hello.last_seen, out)
        else:
            self._replay(station, self.history.latest(hello.history) if hello.history else [], out)

    def _authenticate_plain(self, station: _Station, text: str, out: list[Output]) -> None:
        command, _, argument = text.partition(" ")
        command = command.lower()  # as every other command
        if command == "/quit":
            out.append(Send(station.conn, render.plain_notice("bye")))
            out.append(Close(station.conn))
        elif command != "/auth":
            out.append(
                Send(station.conn, render.plain_error("this hub needs a token first: /auth TOKEN"))
            )
        elif self._token_matches(station, argument.strip(), out):
            station.authenticated = True
            welcome = f"token accepted, you are {station.nick}; /help lists the commands"
            out.append(Send(station.conn, render.plain_notice(welcome)))
            self._join(station, out)
        elif station.auth_failures < MAX_AUTH_FAILURES:
            out.append(Send(station.conn, render.plain_error("wrong token")))
        else:
            out.append(Send(station.conn, render.plain_error("wrong token; too many tries, bye")))
            out.append(Close(station.conn))

    def _token_matches(self, station: _Station, given: str | None, out: list[Output]) -> bool:
        assert self.token is not None
        if given is not None and hmac.compare_digest(given.encode(), self.token.encode()):
            station.authenticated = True
            del self._unauthenticated[station.conn]
            return True
        # Each wrong guess costs more time: guessing a token is not worth it.
        station.auth_failures += 1
        out.append(Penalty(station.conn, AUTH_PENALTY * 2 ** (station.auth_failures - 1)))
        return False

    def _claim_nick_on_hello(
        self, station: _Station, wanted: str, now: float, out: list[Output]
    ) -> None:
        if not is_valid_nick(wanted):
            out.append(
                Send(
                    station.conn,
                    render.rich_error("bad_nick", f"invalid nick {wanted!r}: {NICK_RULE}"),
                )
            )
            return
        owner = self._by_nick.get(wanted.lower())
        if owner is station:
            return
        if owner is not None and owner.session is not None and owner.session == station.session:
            # A ghost of this client's previous connection: the new one wins.
            out.extend(self.disconnect(owner.conn, now, "reconnected"))
            out.append(Close(owner.conn))
        self._rename(station, self._free_variant(wanted))

    def _join_if_pending(self, station: _Station, out: list[Output]) -> None:
        if not station.member and station.authenticated:
            self._join(station, out)

    def _join(self, station: _Station, out: list[Output]) -> None:
        station.member = True
        self._pending.pop(station.conn, None)
        self._member_count += 1
        self._rich_member_count += station.rich
        out.append(Enter(station.conn, station.rich))
        if station.greeted_after is not None and not station.rich:
            for message in self.history.after(station.greeted_after, self.limits.resume_limit):
                out.append(Send(station.conn, render.plain_message(message.nick, message.text)))
        count = self._member_count
        out.append(
            Broadcast(
                render.plain_notice(f"{station.nick} joined ({count} on the channel)"),
                render.rich(t="joined", nick=station.nick, count=count),
                exclude=station.conn,
            )
        )

    # -- commands ---------------------------------------------------------------

    def _execute(
        self, station: _Station, command: cmd.Command, now: float, out: list[Output]
    ) -> None:
        match command:
            case cmd.Say(text, client_id):
                self._say(station, sanitize(text), client_id, now, out)
            case cmd.Talk():
                self._talk(station, now, out)
            case cmd.Over():
                self._over(station, now, out)
            case cmd.Nick(nick):
                self._change_nick(station, nick, out)
            case cmd.Who():
                self._who(station, out)
            case cmd.Resume(after):
                self._resume(station, after, out)
            case cmd.HistoryRequest(count):
                self._replay(station, self.history.latest(count), out, requested=True)
            case cmd.Help():
                self._notice(station, HELP_TEXT, out)
            case cmd.Ping():
                out.append(Send(station.conn, render.rich(t="pong")))
            case cmd.Quit():
                if station.queued and not station.rich:  # a walkie client keeps its own
                    lines = "line" if station.queued == 1 else "lines"
                    text = f"{station.queued} queued {lines} not sent: you left before the floor"
                    out.append(Send(station.conn, render.plain_error(text)))
                self._notice(station, "bye", out)
                out.append(Close(station.conn))
            case cmd.Hello():
                self._error(
                    station, "unknown", "hello is only allowed as the first line", None, out
                )
            case cmd.Invalid(code, text, client_id):
                self._error(station, code, text, client_id, out)

    def _say(
        self, station: _Station, text: str, client_id: int | None, now: float, out: list[Output]
    ) -> None:
        if not text.strip():
            if client_id is not None:
                self._error(station, "empty", "empty message ignored", client_id, out)
            return
        if len(text.encode()) > self.limits.max_line:
            self._refuse_too_long(station, client_id, out)
            return
        if station.session is not None and client_id is not None:
            stored = self.history.find(station.session, client_id)
            if stored is not None:
                out.append(Send(station.conn, render.rich(t="ack", id=client_id, mid=stored)))
                return
        holder = self._floor.holder
        if holder is None or holder is station:
            self._deliver(station, text, client_id, now, out)
            return
        if station.queued >= self.limits.max_queued:
            self._error(
                station,
                "queue_full",
                f"line refused: {self.limits.max_queued} lines already wait for the floor",
                client_id,
                out,
            )
            return
        station.queued += 1
        self._waiting.append(_QueuedLine(station, text, client_id))
        if station.rich:
            out.append(Send(station.conn, render.rich(t="ack", id=client_id, queued=True)))
        else:
            self._notice(station, f"queued: {holder.nick} is talking", out)

    def _deliver(
        self, station: _Station, text: str, client_id: int | None, now: float, out: list[Output]
    ) -> None:
        try:
            broadcast, mid = self._message(station, text, client_id, now)
        except HistoryFull as exc:
            self._error(
                station, "not_stored", f"message not sent: cannot store it ({exc})", client_id, out
            )
            return
        out.append(broadcast)
        if station.rich and client_id is not None:
            out.append(Send(station.conn, render.rich(t="ack", id=client_id, mid=mid)))

    def _message(
        self, station: _Station, text: str, client_id: int | None, now: float
    ) -> tuple[Broadcast, int]:
        """Store a message; its broadcast to everyone but the sender, and its id."""
        session = station.session if client_id is not None else None
        ts = round(now + self.wall_offset, 3)
        mid = self.history.append(station.nick, text, ts, session, client_id)
        broadcast = Broadcast(
            render.plain_message(station.nick, text),
            # Rendered only for someone to read: the hot path of a plain channel.
            render.rich_message(StoredMessage(mid, ts, station.nick, text), history=False)
            if self._rich_member_count
            else None,
            exclude=station.conn,
        )
        return broadcast, mid

    def _talk(self, station: _Station, now: float, out: list[Output]) -> None:
        holder = self._floor.holder
        if holder is station:
            if station.rich:
                out.append(Send(station.conn, self._floor_line()))
            else:
                self._notice(station, "you already hold the floor", out)
            return
        if holder is not None:
            if station.rich:
                out.append(Send(station.conn, render.rich(t="busy", holder=holder.nick)))
            else:
                out.append(
                    Send(station.conn, render.plain_error(f"floor busy: {holder.nick} is talking"))
                )
            return
        self._floor = _Floor(station, now + self.limits.floor_timeout)
        out.append(Broadcast(render.plain_notice(f"{station.nick} is talking"), self._floor_line()))

    def _over(self, station: _Station, now: float, out: list[Output]) -> None:
        if self._floor.holder is station:
            self._release(f"{station.nick} is over", "over", now, out)
        elif station.rich:
            # A repeated or late release: answer with the truth, never an error.
            out.append(Send(station.conn, self._floor_line()))
        else:
            out.append(Send(station.conn, render.plain_error("you do not hold the floor")))

    def _release(self, notice: str, reason: str, now: float, out: list[Output]) -> None:
        """Free the floor; ``reason`` tells rich stations why: over, timeout, disconnected."""
        self._floor = _Floor()
        out.append(Broadcast(render.plain_notice(notice), self._floor_line(reason)))
        waiting, self._waiting = self._waiting, deque()
        for queued in waiting:
            queued.station.queued -= 1
            self._deliver(queued.station, queued.text, queued.client_id, now, out)

    def _change_nick(self, station: _Station, wanted: str, out: list[Output]) -> None:
        if not is_valid_nick(wanted):
            self._error(
                station,
                "bad_nick",
                f"invalid nick: {NICK_RULE}",
                None,
                out,
            )
            return
        owner = self._by_nick.get(wanted.lower())
        if owner is not None and owner is not station:
            self._error(station, "nick_taken", f"nick {wanted} is taken", None, out)
            return
        old = station.nick
        if old == wanted:
            return
        self._rename(station, wanted)
        out.append(
            Broadcast(
                render.plain_notice(f"{old} is now {wanted}"),
                render.rich(t="renamed", old=old, new=wanted),
            )
        )

    def _who(self, station: _Station, out: list[Output]) -> None:
        if station.rich:
            out.append(Send(station.conn, self._stations_line()))
            return
        nicks = self.nicks
        talking = (
            f"; {self.floor_holder} is talking" if self.floor_holder else "; the floor is free"
        )
        self._notice(station, f"{len(nicks)} on the channel: {', '.join(nicks)}{talking}", out)

    def _resume(self, station: _Station, after: int, out: list[Output]) -> None:
        """One page of what a station missed; ``"more": true`` when another follows."""
        page = self.history.after(after, self.limits.resume_limit)
        for message in page:
            out.append(Send(station.conn, render.rich_message(message, history=True)))
        last = page[-1].mid if page else after
        more = len(page) == self.limits.resume_limit and last < self.history.newest_id()
        out.append(Send(station.conn, render.rich(t="synced", last=last, more=more)))

    def _replay(
        self,
        station: _Station,
        messages: list[StoredMessage],
        out: list[Output],
        *,
        requested: bool = False,
    ) -> None:
        if station.rich:
            for message in messages:
                out.append(Send(station.conn, render.rich_message(message, history=True)))
            last = messages[-1].mid if messages else self.history.newest_id()
            out.append(Send(station.conn, render.rich(t="synced", last=last)))
            return
        for message in messages:
            out.append(Send(station.conn, render.plain_history(message)))
        if requested:
            count = len(messages)
            self._notice(
                station, f"end of history ({count} message{'' if count == 1 else 's'})", out
            )

    # -- helpers ----------------------------------------------------------------

    def _notice(self, station: _Station, text: str, out: list[Output]) -> None:
        data = render.rich_notice(text) if station.rich else render.plain_notice(text)
        out.append(Send(station.conn, data))

    def _refuse_too_long(self, station: _Station, client_id: int | None, out: list[Output]) -> None:
        limit = self.limits.max_line
        self._error(station, "too_long", f"line refused: longer than {limit} bytes", client_id, out)

    def _error(
        self, station: _Station, code: str, text: str, client_id: int | None, out: list[Output]
    ) -> None:
        if station.rich:
            out.append(Send(station.conn, render.rich_error(code, text, client_id)))
        else:
            out.append(Send(station.conn, render.plain_error(text)))

    def _floor_line(self, freed_because: str | None = None) -> bytes:
        """The rich floor object; a floor just freed says why (``reason``)."""
        holder = self._floor.holder
        if holder is None:
            if freed_because is not None:
                return render.rich(t="floor", holder=None, reason=freed_because)
            return render.rich(t="floor", holder=None)
        until = round(self._floor.until + self.wall_offset, 3)
        return render.rich(t="floor", holder=holder.nick, until=until)

    def _stations_line(self) -> bytes:
        return render.rich(t="stations", nicks=self.nicks, holder=self.floor_holder)

    def _rename(self, station: _Station, nick: str) -> None:
        del self._by_nick[station.nick.lower()]
        station.nick = nick
        self._by_nick[nick.lower()] = station

    def _free_guest_nick(self) -> str:
        while True:
            nick = f"guest{next(self._guest_numbers)}"
            if nick not in self._by_nick:
                return nick

    def _free_variant(self, wanted: str) -> str:
        if wanted.lower() not in self._by_nick:
            return wanted
        for number in itertools.count(2):
            suffix = str(number)
            candidate = wanted[: 16 - len(suffix)] + suffix
            if candidate.lower() not in self._by_nick:
                return candidate
        raise AssertionError("unreachable")
