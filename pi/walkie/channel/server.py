"""The hub's network shell: asyncio TCP connections around the pure
:class:`~walkie.channel.state.Channel`.

It owns what only I/O can do: reading and writing sockets, the per-station
rate limit (by pausing reads, so nothing is lost and nobody else waits),
dropping stations that do not read (write-buffer high-water mark), TCP
keepalive and the idle timeout of rich clients, the floor timer, and when the
history moves sent messages from its journal into SQLite and checkpoints.

Output is batched (:mod:`walkie.channel.batch`) and written when a read's
lines are handled, or at the end of the loop iteration for output caused
otherwise: a read full of lines for a thousand stations costs one ``send`` per
station, not one per line per station, and those sends run from C
(:mod:`walkie.channel.fanout`). A read of one line that is a plain member's
message for everyone (:meth:`Channel.relay`), the commonest read of all, is
written at once instead, past the batch, unless output that came before it
waits in the batch.

Example::

    hub = Hub(HubConfig(port=0), History(":memory:"))
    await hub.start()
    print(hub.port)
    await hub.serve_forever()
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import ssl
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import cast

from walkie.address import DEFAULT_PORT, format_address
from walkie.channel.batch import PLAIN, RICH, Mode, OutputBatch
from walkie.channel.descriptors import allow_stations
from walkie.channel.fanout import MemberGroup, write_each
from walkie.channel.history import History
from walkie.channel.lines import LineSplitter, LineTooLong
from walkie.channel.ratelimit import TokenBucket
from walkie.channel.render import plain_error, plain_notice, rich_notice
from walkie.channel.repeats import RepeatedEvent
from walkie.channel.state import (
    Broadcast,
    Channel,
    ChannelLimits,
    Close,
    Enter,
    Output,
    Penalty,
    Send,
)
from walkie.errors import ConnectError

log = logging.getLogger(__name__)

DEAD_PEER_DEADLINE = 60.0
"""A dead peer is found within this many seconds of its last word (SPEC §3)."""
IDLE_SWEEP_INTERVAL = 10.0
RICH_IDLE_TIMEOUT = DEAD_PEER_DEADLINE - IDLE_SWEEP_INTERVAL
"""Rich clients ping every 20 s; one silent for this long is gone, and the
sweep that notices comes within the deadline."""
TLS_HANDSHAKE_TIMEOUT = 10.0
"""Seconds a TLS connection has to finish its handshake (asyncio's default is
60): until it has, it is no station, and counts against no limit."""
WRONG_TOKEN_LOG_INTERVAL = 10.0
"""Seconds between log lines about wrong tokens: a flood of guesses is one
line per interval, with their count."""
SLOW_DOWN_NOTICE_INTERVAL = 10.0
BACKLOG_GRACE = 5.0
"""Seconds a station may stay above its send buffer before it is dropped."""
BACKLOG_HARD_LIMIT = 4
"""A station whose backlog exceeds this many send buffers is dropped at once."""
COMMIT_DELAY = 0.05
"""Seconds from a message being sent until it is moved from the journal into
SQLite, with the others sent meanwhile, in one transaction (queries of the
history commit first, so they see every message at once)."""
COMMIT_RETRY = 1.0
"""Seconds between tries while SQLite refuses the messages (a full disk)."""
CHECKPOINT_WHEN_QUIET = 1.0
"""Seconds without a new message after which the history is checkpointed
(its few-millisecond sync kept out of the way of the lines)."""
READ_SIZE = 256 * 1024
"""Bytes read from a socket at most at once (into one buffer all stations share)."""
LINGER = 2.0
"""Seconds a station that is hung up on may take to close its end after reading
the hub's last words, before the hub closes the connection anyway."""
TCP_KEEPALIVE_IDLE = 30
TCP_KEEPALIVE_INTERVAL = 10
TCP_KEEPALIVE_COUNT = 3
"""With these, the kernel declares a silent peer dead after 30 + 3 x 10 = 60 s."""


@dataclass(frozen=True, slots=True)
class HubConfig:
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    max_line: int = 1000
    floor_timeout: float = 30.0
    max_queued: int = 100
    max_rate: float = 5.0
    burst: int = 10
    max_send_buffer: int = 256 * 1024
    max_stations: int = 4096
    token: str | None = None
    """Shared token stations must present first (``None``: open hub)."""
    tls: ssl.SSLContext | None = None
    """Serve TLS with this server context (``None``: plain TCP)."""

    @property
    def limits(self) -> ChannelLimits:
        return ChannelLimits(
            max_line=self.max_line, floor_timeout=self.floor_timeout, max_queued=self.max_queued
        )


class Hub:
    """A running channel hub: listens, relays, keeps history."""

    def __init__(
        self, config: HubConfig, history: History, wall_clock: Callable[[], float] = time.time
    ) -> None:
        self.config = config
        self._wall_clock = wall_clock
        self.channel = Channel(history, config.limits, token=config.token)
        self.loop = asyncio.get_running_loop()
        self._connections: dict[int, _StationConnection] = {}
        # Each member's mode, and the members of each mode.
        self._modes: dict[int, Mode] = {}
        self._groups: dict[Mode, MemberGroup] = {PLAIN: MemberGroup(), RICH: MemberGroup()}
        # This loop iteration's output: written once per station, after every
        # read of the iteration.
        self._batch = OutputBatch()
        self._flush_handle: asyncio.Handle | None = None
        self.handling_read = False
        """A read's lines are being handled: it flushes when done, no callback needed."""
        # Connections with bytes queued in their transport: written through it
        # until it has sent them.
        self.backlogged: set[_StationConnection] = set()
        self._next_conn = 1
        self._max_stations = config.max_stations
        self._full = False
        """Refusing newcomers (logged once, when it starts, and when it ends)."""
        self._closed = False
        self._lingering: set[_StationConnection] = set()
        """Hung up on, no longer in the channel: waiting for the station to close."""
        self._wrong_tokens = RepeatedEvent(WRONG_TOKEN_LOG_INTERVAL)
        self._wrong_token_timer: asyncio.TimerHandle | None = None
        self._leaving: set[_StationConnection] = set()
        """Finished sending while lines of theirs waited for the floor: hung up
        on once those are sent."""
        self._server: asyncio.Server | None = None
        self._tick_handle: asyncio.TimerHandle | None = None
        self._tick_at: float | None = None
        self._sweeper: asyncio.TimerHandle | None = None
        self._commit_timer: asyncio.TimerHandle | None = None
        self._checkpoint_timer: asyncio.TimerHandle | None = None
        self._unchecked_seen = 0
        # Every read lands here and is copied out before the next one.
        self.read_buffer = memoryview(bytearray(READ_SIZE))

    async def start(self) -> None:
        # Beyond what the open-file limit allows, newcomers are told the hub
        # is full rather than refused by the kernel without a word.
        self._max_stations = allow_stations(self.config.max_stations)
        try:
            self._server = await self.loop.create_server(
                self._new_connection,
                self.config.host,
                self.config.port,
                backlog=1024,
                ssl=self.config.tls,
                ssl_handshake_timeout=TLS_HANDSHAKE_TIMEOUT if self.config.tls else None,
            )
        except OSError as exc:
            where = format_address(self.config.host, self.config.port)
            # asyncio words a failed bind as "error while attempting to bind on
            # address ('127.0.0.1', 32000): ..."; the plain reason reads better.
            reason = os.strerror(exc.errno) if exc.errno and exc.errno > 0 else exc.strerror
            raise ConnectError(f"cannot listen on {where}: {reason or exc}") from exc
        self._sweeper = self.loop.call_later(IDLE_SWEEP_INTERVAL, self._sweep_idle)

    @property
    def port(self) -> int:
        assert self._server is not None
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    def describe(self) -> str:
        """Where and how it listens, for the line a command prints once it does."""
        security = ("TLS" if self.config.tls else "plain TCP") + (
            ", token required" if self.config.token else ""
        )
        where = format_address(self.config.host, self.port)
        return f"{where} ({security}, history {self.channel.history.path})"

    async def serve_forever(self) -> None:
        assert self._server is not None
        await self._server.serve_forever()

    def close(self) -> None:
        """Stop listening, tell every station, and hang up. Idempotent."""
        if self._closed:
            return
        self._closed = True
        if self._server is not None:
            self._server.close()
        self.apply(self.channel.closing())
        self.flush()  # first: it may set the commit and checkpoint timers
        timers = (
            self._tick_handle,
            self._sweeper,
            self._commit_timer,
            self._checkpoint_timer,
            self._wrong_token_timer,
        )
        for handle in timers:
            if handle is not None:
                handle.cancel()
        for connection in [*self._connections.values(), *self._lingering]:
            connection.transport.close()

    # -- called by connections -------------------------------------------------

    def _new_connection(self) -> _StationConnection:
        conn = self._next_conn
        self._next_conn += 1
        return _StationConnection(self, conn)

    def attach(self, connection: _StationConnection) -> None:
        if len(self._connections) >= self._max_stations:
            if not self._full:
                self._full = True
                log.warning(
                    "the hub is full (%d stations): refusing newcomers until one leaves",
                    self._max_stations,
                )
            connection.finish(plain_error("the hub is full, try again later"))
            self._until_closed(connection)
            return
        self._connections[connection.conn] = connection
        log.info("connection %d from %s", connection.conn, connection.peer)
        self.apply(self.channel.connect(connection.conn, self.clock()))

    def detach(self, connection: _StationConnection, reason: str) -> None:
        self._lingering.discard(connection)
        self._leaving.discard(connection)
        if self._connections.pop(connection.conn, None) is None:
            return
        if self._full:
            self._full = False
            log.info("the hub has room again")
        nick = self.channel.nick_of(connection.conn)
        log.info("connection %d (%s) closed: %s", connection.conn, nick, reason)
        self.leave_groups(connection.conn)
        self.backlogged.discard(connection)
        self.apply(self.channel.disconnect(connection.conn, self.clock(), reason))

    def clock(self) -> float:
        """The monotonic time for the channel's next input, with its wall-clock
        offset brought up to date: a Pi has no clock of its own, and NTP often
        sets the time after the hub started."""
        now = time.monotonic()
        self.channel.wall_offset = self._wall_clock() - now
        return now

    def apply(self, outputs: list[Output]) -> None:
        """Carry out what the channel asked for."""
        batch = self._batch
        for output in outputs:
            if isinstance(output, Broadcast):
                batch.broadcast(output)
            elif isinstance(output, Send):
                if output.conn in self._connections:
                    batch.send(output.conn, output.data, self._modes.get(output.conn))
            elif isinstance(output, Enter):
                connection = self._connections.get(output.conn)
                if connection is not None:
                    self._enter(connection, output.rich)
            elif isinstance(output, Penalty):
                connection = self._connections.get(output.conn)
                if connection is not None:
                    self._log_wrong_token(connection)
                    connection.pause(output.seconds)
            elif isinstance(output, Close):
                connection = self._connections.get(output.conn)
                if connection is not None:
                    self.hang_up(connection)
        if self._leaving:
            self._hang_up_on_the_sent()
        self._schedule_tick()
        if batch and not self.handling_read and self._flush_handle is None:
            self._flush_handle = self.loop.call_soon(self.flush)

    def send(self, conn: int, data: bytes) -> None:
        """Queue ``data`` for one station, after what it already has coming."""
        self.apply([Send(conn, data)])

    @property
    def output_waiting(self) -> bool:
        """Output of this loop iteration is batched, not yet written."""
        return bool(self._batch)

    def write_now(self, broadcast: Broadcast) -> None:
        """Write a broadcast at once; only when no output is waiting
        (:attr:`output_waiting`), which would have to go first."""
        skip = () if broadcast.exclude is None else (broadcast.exclude,)
        self._write_shared(broadcast.plain, broadcast.rich, skip)
        self.flush()

    def _enter(self, connection: _StationConnection, rich: bool) -> None:
        before = self._modes.get(connection.conn)
        self.leave_groups(connection.conn)
        connection.rich = rich
        self._modes[connection.conn] = mode = RICH if rich else PLAIN
        self._groups[mode].add(connection)
        self._batch.change_mode(connection.conn, before, mode)

    def leave_groups(self, conn: int) -> None:
        """The station gets no more broadcasts (it is leaving)."""
        mode = self._modes.pop(conn, None)
        if mode is not None:
            self._groups[mode].remove(conn)

    def set_backlogged(self, connection: _StationConnection, backlogged: bool) -> None:
        """The station's bytes now wait in its transport (or no longer do):
        until they are sent, it is written through the transport."""
        if backlogged:
            self.backlogged.add(connection)
        else:
            self.backlogged.discard(connection)
        mode = self._modes.get(connection.conn)
        if mode is not None:
            self._groups[mode].changed()

    def hang_up(self, connection: _StationConnection) -> None:
        """Write what is queued for the station, then close its connection. It
        leaves the channel at once (its nick, the floor, its place), however
        long it takes to close its end."""
        data = self._batch.take_own(connection.conn, self._modes.get(connection.conn))
        connection.finish(data)  # first: while it is backlogged, its bytes go in order
        self.detach(connection, "left")
        self._until_closed(connection)

    def hang_up_once_sent(self, connection: _StationConnection) -> None:
        """Hang up on a station that has finished sending (``nc -N``, a
        script's end of input) once none of its lines waits for the floor:
        they are not lost for leaving early. The floor's timeout bounds the wait."""
        if self.channel.waiting_lines(connection.conn):
            self._leaving.add(connection)
        else:
            self.hang_up(connection)

    def _hang_up_on_the_sent(self) -> None:
        sent = [c for c in self._leaving if not self.channel.waiting_lines(c.conn)]
        for connection in sent:
            self._leaving.discard(connection)
            self.hang_up(connection)

    def _log_wrong_token(self, connection: _StationConnection) -> None:
        """A wrong token, with where it came from (for the admin, or fail2ban);
        a flood of them one line per :data:`WRONG_TOKEN_LOG_INTERVAL`."""
        now = time.monotonic()
        if self._wrong_tokens.happened(connection.peer, now):
            log.warning("wrong token from %s", connection.peer)
        due = self._wrong_tokens.summary_due
        if due is not None and self._wrong_token_timer is None:
            self._wrong_token_timer = self.loop.call_later(due - now, self._sum_up_wrong_tokens)

    def _sum_up_wrong_tokens(self) -> None:
        self._wrong_token_timer = None
        if (summary := self._wrong_tokens.summary(time.monotonic())) is not None:
            log.warning("wrong tokens: %s", summary)

    def _until_closed(self, connection: _StationConnection) -> None:
        """Close a station hung up on with the hub, should it stop first."""
        if not connection.transport.is_closing():
            self._lingering.add(connection)

    def flush(self) -> None:
        """Write the iteration's output now: one write per station."""
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        for connection in list(self.backlogged):
            connection.check_caught_up()
        if self._batch:
            self._write_batch()
        history = self.channel.history
        if self._commit_timer is None and history.pending:
            self._commit_timer = self.loop.call_later(COMMIT_DELAY, self._commit)
        if self._checkpoint_timer is None and history.unchecked:
            self._checkpoint_later()

    def _write_batch(self) -> None:
        ready = self._batch.take(self._modes.get)
        own = ready.own
        for conn in ready.ahead:  # e.g. a welcome, before the others hear of the join
            self._send_own(conn, own[conn])
        self._write_shared(ready.plain, ready.rich, skip=own)
        for conn, data in own.items():  # e.g. an ack, after the message went to everyone
            if conn not in ready.ahead:
                self._send_own(conn, data)

    def _write_shared(self, plain: bytes | None, rich: bytes | None, skip: Collection[int]) -> None:
        """``plain`` to every plain member, ``rich`` to every rich one, but those in ``skip``."""
        if plain:
            self._groups[PLAIN].write(plain, skip=skip)
        if rich:
            self._groups[RICH].write(rich, skip=skip)

    def _send_own(self, conn: int, data: bytes) -> None:
        station = self._connections.get(conn)
        if data and station is not None:
            station.send(data)

    # -- timers ---------------------------------------------------------------------

    def _schedule_tick(self) -> None:
        deadline = self.channel.next_deadline()
        if deadline == self._tick_at:
            return
        if self._tick_handle is not None:
            self._tick_handle.cancel()
            self._tick_handle = None
        self._tick_at = deadline
        if deadline is not None:
            self._tick_handle = self.loop.call_at(deadline, self._tick)

    def _tick(self) -> None:
        self._tick_handle = None
        self._tick_at = None
        self.apply(self.channel.tick(self.clock()))

    def _commit(self) -> None:
        self._commit_timer = None
        if not self.channel.history.try_commit():
            self._commit_timer = self.loop.call_later(COMMIT_RETRY, self._commit)

    def _checkpoint_later(self) -> None:
        self._unchecked_seen = self.channel.history.unchecked
        self._checkpoint_timer = self.loop.call_later(
            CHECKPOINT_WHEN_QUIET, self._checkpoint_if_quiet
        )

    def _checkpoint_if_quiet(self) -> None:
        history = self.channel.history
        if history.unchecked != self._unchecked_seen:  # messages came in meanwhile
            self._checkpoint_later()
            return
        self._checkpoint_timer = None
        if history.unchecked:
            history.checkpoint()

    def _sweep_idle(self) -> None:
        now = time.monotonic()
        for connection in list(self._connections.values()):
            if connection.rich and now - connection.last_heard > RICH_IDLE_TIMEOUT:
                connection.drop("timed out")
        self._sweeper = self.loop.call_later(IDLE_SWEEP_INTERVAL, self._sweep_idle)


class _StationConnection(asyncio.BufferedProtocol):
    """One station's TCP connection: bounded reading, rate limiting, dropping."""

    def __init__(self, hub: Hub, conn: int) -> None:
        self.hub = hub
        self.conn = conn
        self.rich = False
        self.transport: asyncio.Transport
        now = time.monotonic()
        self.last_heard = now
        self._splitter = LineSplitter(hub.channel.limits.max_wire_line)
        self._bucket = TokenBucket(hub.config.max_rate, hub.config.burst, now)
        self._throttled: asyncio.TimerHandle | None = None
        self._slow_down_told = -SLOW_DOWN_NOTICE_INTERVAL
        self._leave_reason = "left"
        self._eof = False
        self._finished = False
        self._linger: asyncio.TimerHandle | None = None
        self._backlog_check: asyncio.TimerHandle | None = None
        self._socket_fd: int | None = None
        """Where this station's bytes may go straight to the socket (plain TCP)."""
        self.peer = "an unknown address"
        """The station's address and port, for the log."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement the interface without subclassing it.
        self.transport = cast(asyncio.Transport, transport)
        self.transport.set_write_buffer_limits(high=self.hub.config.max_send_buffer)
        if peer := transport.get_extra_info("peername"):
            self.peer = format_address(*peer[:2])
        sock = transport.get_extra_info("socket")
        if sock is not None:
            _enable_keepalive(sock)
            if self.hub.config.tls is None:
                self._socket_fd = sock.fileno()
        self.hub.attach(self)

    def get_buffer(self, sizehint: int) -> memoryview:
        return self.hub.read_buffer

    def buffer_updated(self, nbytes: int) -> None:
        if self._finished:
            return  # hung up on: what it still sends is not read
        self.last_heard = time.monotonic()
        data = self.hub.read_buffer[:nbytes]
        if self._throttled is None:
            line = self._splitter.whole_line(data)
            if line is not None and self._relay(line):
                return
        self._splitter.feed(data)
        self._process_lines()

    def _relay(self, line: bytes) -> bool:
        """The hot path: a read of one line that is a message for everyone
        (:meth:`Channel.relay`) is written at once, unless output caused
        before it waits to be written first. False: nothing happened, the
        line takes the usual way."""
        hub = self.hub
        if hub.output_waiting:
            return False
        now = hub.clock()
        if self._bucket.seconds_until_token(now) > 0:
            return False
        broadcast = hub.channel.relay(self.conn, line, now)
        if broadcast is None:
            return False
        self._bucket.take(now)
        hub.write_now(broadcast)
        return True

    def eof_received(self) -> bool:
        # The peer finished sending (``nc -N``, a script's stdin ending): take
        # its last lines at the usual pace, then hang up.
        if self._finished:
            return False  # it has read our last words: close
        self._eof = True
        self._splitter.feed(b"\n")
        self._process_lines()
        # Half-open until we hang up; TLS closes on the peer's close_notify
        # whatever we return (and asyncio warns of a True).
        return self.hub.config.tls is None

    def connection_lost(self, exc: Exception | None) -> None:
        for timer in (self._throttled, self._backlog_check, self._linger):
            if timer is not None:
                timer.cancel()
        self.hub.detach(self, self._leave_reason)

    def pause_writing(self) -> None:
        # More unsent output than the send buffer: a burst a reading station
        # will catch up with, or a station that does not read. Give it a
        # moment; never let its backlog grow without bound or slow anyone down.
        if self._backlog_check is None:
            self._backlog_check = self.hub.loop.call_later(BACKLOG_GRACE, self._still_behind)

    def resume_writing(self) -> None:
        if self._backlog_check is not None:
            self._backlog_check.cancel()
            self._backlog_check = None

    def _still_behind(self) -> None:
        self._backlog_check = None
        self.drop("dropped: not reading")

    @property
    def closing(self) -> bool:
        """Hung up on, or gone: nothing more is read or written."""
        return self._finished or self.transport.is_closing()

    def finish(self, data: bytes) -> None:
        """Write ``data`` last and hang up, so that the station can read it.

        Closing a socket whose peer's lines are still unread resets the
        connection, and a reset can destroy what was sent before it (a hub
        that is full, a ``/quit``'s goodbye). So unless the station has
        finished sending, the hub only ends its own side, then ignores what
        arrives until the station closes too, for :data:`LINGER` seconds at
        most."""
        if self.closing:
            return
        if data:
            self.send(data)
        self._finished = True
        if self._eof or not self.transport.can_write_eof():  # TLS: close_notify
            self.transport.close()
            return
        self.transport.write_eof()
        if self._throttled is not None:
            self._throttled.cancel()
            self._throttled = None
            self.transport.resume_reading()
        self._linger = self.hub.loop.call_later(LINGER, self.transport.close)

    @property
    def direct_fd(self) -> int | None:
        return None if self in self.hub.backlogged else self._socket_fd

    def send(self, data: bytes) -> None:
        """Write ``data`` now: straight to the socket when allowed, else (or
        what the socket did not take) through the transport."""
        if self.closing:
            return
        fd = self.direct_fd
        if fd is not None:
            shortfall = write_each([fd], data)
            if not shortfall:
                return
            data = data[shortfall[0][1] :]
        self.queue(data)

    def queue(self, data: bytes) -> None:
        self.transport.write(data)
        if self._socket_fd is not None and self not in self.hub.backlogged:
            self.hub.set_backlogged(self, True)
        # Only a station already past its send buffer (pause_writing) can be
        # past the hard limit: the common case costs no extra look-up.
        if self._backlog_check is not None and (
            self.transport.get_write_buffer_size()
            > BACKLOG_HARD_LIMIT * self.hub.config.max_send_buffer
        ):
            self.drop("dropped: not reading")

    def check_caught_up(self) -> None:
        """Back to writing straight to the socket once the transport sent its queue."""
        if self.transport.get_write_buffer_size() == 0:
            self.hub.set_backlogged(self, False)

    def drop(self, reason: str) -> None:
        log.info(
            "connection %d from %s %s (%d bytes unsent)",
            self.conn,
            self.peer,
            reason,
            self.transport.get_write_buffer_size(),
        )
        self._leave_reason = reason
        self.hub.leave_groups(self.conn)
        self.transport.abort()

    def _process_lines(self) -> None:
        """Handle the complete lines received, then send what they caused:
        a read full of lines costs one write per station, a single line no delay."""
        hub = self.hub
        hub.handling_read = True
        try:
            self._process_buffered_lines()
        finally:
            hub.handling_read = False
            hub.flush()

    def _process_buffered_lines(self) -> None:
        if self._throttled is not None:
            return
        while True:
            now = self.hub.clock()
            wait = self._bucket.seconds_until_token(now)
            if wait > 0 and self._splitter.buffered:
                self._throttle(wait, now)
                return
            item = self._splitter.next_line()
            if item is None:
                if self._eof:
                    self.hub.hang_up_once_sent(self)
                return
            if isinstance(item, LineTooLong):
                self.hub.apply(self.hub.channel.line_too_long(self.conn))
                continue
            self._bucket.take(now)
            self.hub.apply(self.hub.channel.receive(self.conn, item, now))
            if self.closing or self._throttled is not None:
                return

    def _throttle(self, wait: float, now: float) -> None:
        if now - self._slow_down_told >= SLOW_DOWN_NOTICE_INTERVAL:
            self._slow_down_told = now
            rate = self.hub.config.max_rate
            text = f"slow down: at most {rate:g} lines a second"
            self.hub.send(self.conn, rich_notice(text) if self.rich else plain_notice(text))
        self.pause(wait)

    def pause(self, seconds: float) -> None:
        """Read nothing (and process nothing buffered) for ``seconds``."""
        if self._throttled is not None:
            self._throttled.cancel()
        else:
            self.transport.pause_reading()
        self._throttled = self.hub.loop.call_later(seconds, self._resume)

    def _resume(self) -> None:
        self._throttled = None
        if self.closing:
            return
        self.transport.resume_reading()
        self._process_lines()


def _enable_keepalive(sock: socket.socket) -> None:
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    for option, value in (
        ("TCP_KEEPIDLE", TCP_KEEPALIVE_IDLE),
        ("TCP_KEEPINTVL", TCP_KEEPALIVE_INTERVAL),
        ("TCP_KEEPCNT", TCP_KEEPALIVE_COUNT),
    ):
        if hasattr(socket, option):
            sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, option), value)
