"""The asyncio shell around :class:`~walkie.client.session.ClientSession`: one link to a hub.

:class:`ChannelConnection` owns the socket and the timers; every protocol
decision is made by the sans-I/O core. It connects, says hello, feeds each
received line to the core and writes what the core emits, pings every
:data:`PING_INTERVAL` seconds, drops a hub that stays silent for
:data:`DEAD_AFTER` seconds, and reconnects on its own (first retry within 1 s,
then exponential backoff with jitter capped at 5 s, see
:mod:`walkie.client.backoff`). Lines sent while the link is down wait in the
core's outbox and are delivered exactly once after reconnecting.

It has no user interface: the terminal client, pipe mode and the Pi station
all use it, and learn what happens through ``on_event`` (the event classes of
:mod:`walkie.client.session`, including :class:`LinkChanged` for link state).

Example::

    import asyncio
    from walkie.client.connection import ChannelConnection
    from walkie.client.session import Message

    def show(event):
        if isinstance(event, Message):
            print(f"<{event.nick}> {event.text}")

    async def main():
        async with ChannelConnection("127.0.0.1", 32000, nick="pi", on_event=show) as conn:
            await conn.connect()            # or conn.start() to retry from the start
            await conn.send("on my way")    # queued; survives reconnects
            await conn.talk()
            await conn.over()
            await conn.wait_delivered(timeout=30)

    asyncio.run(main())
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hashlib
import logging
import socket
import ssl
import time
from collections.abc import Callable
from types import TracebackType

from walkie.address import DEFAULT_PORT, format_address
from walkie.client.backoff import Backoff
from walkie.client.session import (
    ClientSession,
    Event,
    LinkState,
    Notice,
    OutboxEntry,
    OutboxFull,
)
from walkie.errors import ConnectError, WalkieError
from walkie.known_hubs import HubSecurity

log = logging.getLogger(__name__)

PING_INTERVAL = 20.0
"""Seconds between keepalive pings while connected (the hub drops clients silent for 50 s)."""
DEAD_AFTER = 50.0
"""A hub that sends nothing (not even a pong) for this long is considered gone."""
QUIT_ANSWER_WAIT = 1.0
"""Seconds a closing client waits for the hub to answer its quit and hang up."""
CANCEL_RETRY = 0.1
"""Seconds between cancels of the link task while it has not stopped."""
CONNECT_TIMEOUT = 10.0
"""Seconds allowed for TCP connect plus the hub's welcome."""
MAX_INCOMING_LINE = 1 << 20
"""Longest line accepted from the hub (a station list of thousands of nicks fits)."""

EventCallback = Callable[[Event], None]


class DeliveryTimeout(WalkieError):
    """Queued lines were not acknowledged in time."""


class HubRefused(ConnectError):
    """The hub refused us for good (e.g. another protocol version); not retried."""


class ChannelConnection:
    """A self-healing rich-mode connection to a walkie hub.

    Keyword options: ``nick`` (wanted nick; the hub may pick a variant),
    ``on_event`` (called with every event, in order, on the event loop),
    ``initial_history`` (messages to show from before we joined, on a fresh
    start), ``session_id`` (defaults to a random one kept for the object's
    lifetime), ``connect_timeout``, ``ping_interval``, ``dead_after`` and
    ``backoff`` (a :class:`Backoff`).

    Use it as an async context manager or call :meth:`close`; ``close`` is
    idempotent.
    """

    def __init__(
        self,
        host: str,
        port: int = DEFAULT_PORT,
        *,
        nick: str | None = None,
        on_event: EventCallback | None = None,
        initial_history: int = 0,
        session_id: str | None = None,
        connect_timeout: float = CONNECT_TIMEOUT,
        ping_interval: float = PING_INTERVAL,
        dead_after: float = DEAD_AFTER,
        backoff: Backoff | None = None,
        security: HubSecurity | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.security = security or HubSecurity()
        self.session = ClientSession(
            nick=nick,
            session_id=session_id,
            initial_history=initial_history,
            token=self.security.token,
        )
        self.on_event = on_event
        self.connect_timeout = connect_timeout
        self.ping_interval = ping_interval
        self.dead_after = dead_after
        self._backoff = backoff or Backoff()
        self._writer: asyncio.StreamWriter | None = None
        self._task: asyncio.Task[None] | None = None
        self._first_attempt: asyncio.Future[None] | None = None
        self._changed = asyncio.Event()
        self._hold_timer: asyncio.TimerHandle | None = None
        self._closing = False
        self._last_reason = ""
        self._refusal: WalkieError | None = None
        self.failure: WalkieError | None = None
        """Why the link ended for good, if it did (fatal hub refusal, first-connect failure)."""

    # --- state, read-only --------------------------------------------------------

    @property
    def address(self) -> str:
        return format_address(self.host, self.port)

    @property
    def state(self) -> LinkState:
        return self.session.state

    @property
    def nick(self) -> str | None:
        return self.session.nick

    @property
    def stations(self) -> tuple[str, ...]:
        return self.session.stations

    @property
    def holder(self) -> str | None:
        """Who holds the floor (None when free)."""
        return self.session.holder

    @property
    def outbox(self) -> tuple[OutboxEntry, ...]:
        """Our lines not yet acknowledged, oldest first."""
        return self.session.outbox

    # --- life cycle -----------------------------------------------------------------

    async def connect(self) -> None:
        """Connect now and wait for the hub's welcome, then stay connected.

        Raises :class:`~walkie.errors.ConnectError` (refused, unreachable, no
        welcome within ``connect_timeout``, or :class:`HubRefused`) if this
        first attempt fails; afterwards the link heals itself in the background.
        """
        if self._task is not None:
            raise RuntimeError("already started")
        first_attempt = asyncio.get_running_loop().create_future()
        # If the wait below is cancelled (Ctrl-C), nobody reads how the attempt
        # ended: mark it read, or asyncio logs it as an error.
        first_attempt.add_done_callback(lambda done: done.cancelled() or done.exception())
        self._first_attempt = first_attempt
        self._task = asyncio.create_task(self._run(), name=f"walkie link {self.address}")
        await asyncio.shield(first_attempt)

    def start(self) -> None:
        """Start connecting in the background, retrying from the very first attempt."""
        if self._task is not None:
            raise RuntimeError("already started")
        self._task = asyncio.create_task(self._run(), name=f"walkie link {self.address}")

    async def wait_connected(self, timeout: float | None = None) -> None:
        """Wait until the hub has welcomed us (raises TimeoutError, or the fatal failure)."""
        async with asyncio.timeout(timeout):
            await self._wait_for(lambda: self.session.connected)

    async def wait_delivered(self, timeout: float | None = None) -> None:
        """Wait until every queued line is acknowledged with a mid (or refused).

        Raises :class:`DeliveryTimeout` if lines still wait after ``timeout``
        seconds, or the link's fatal failure if it closed for good.
        """
        try:
            async with asyncio.timeout(timeout):
                await self._wait_for(lambda: not self.session.outbox)
        except TimeoutError:
            raise DeliveryTimeout(
                f"{self.undelivered()} within {timeout:g} s ({self.why_undelivered()})"
            ) from None

    def undelivered(self) -> str:
        """How many lines still wait, as the client says when it leaves without them."""
        count = len(self.session.outbox)
        return f"{count} {'line was' if count == 1 else 'lines were'} not delivered"

    def why_undelivered(self) -> str:
        """What the lines still waiting wait for."""
        if self.state is not LinkState.CONNECTED:
            return f"link {self.state.value}{self._reason_suffix()}"
        if any(entry.queued for entry in self.session.outbox):
            return f"waiting for the floor: {self.session.holder or 'someone'} is talking"
        return "sent, not yet acknowledged by the hub"

    async def wait_closed(self) -> None:
        """Wait until the link has ended for good (closed, or a fatal failure)."""
        if self._task is not None:
            await asyncio.wait({self._task})

    async def close(self) -> None:
        """Say goodbye to the hub (if connected) and stop; idempotent."""
        if self._closing:
            await self.wait_closed()
            return
        self._closing = True
        if self.session.quit():
            self._pump()
            writer = self._writer
            if writer is not None:
                with contextlib.suppress(OSError, asyncio.TimeoutError):
                    await asyncio.wait_for(writer.drain(), 1.0)
            if self._task is not None:
                # The hub answers a quit with its last words and hangs up:
                # read them (briefly waited for) rather than cut them off.
                await asyncio.wait({self._task}, timeout=QUIT_ANSWER_WAIT)
        if self._task is not None:
            # uvloop's open_connection swallows a cancel that lands just as
            # the connection completes, and the link would run on: cancel
            # again until the task has stopped.
            while not self._task.done():
                self._task.cancel()
                await asyncio.wait({self._task}, timeout=CANCEL_RETRY)
        self.session.closed()
        self._pump()

    async def __aenter__(self) -> ChannelConnection:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # --- what the user does -----------------------------------------------------------

    async def send(self, text: str) -> int | None:
        """Queue a chat line, waiting while the outbox is full; returns its id.

        Returns None when nothing was queued: the text was empty after
        sanitising, or too long (then an ``Error`` event says so).
        """
        while True:
            try:
                return self.send_nowait(text)
            except OutboxFull:
                await self._wait_for(lambda: len(self.session.outbox) < self.session.max_outbox)

    def send_nowait(self, text: str) -> int | None:
        """Like :meth:`send` but raises :class:`~walkie.client.session.OutboxFull` at once."""
        self._raise_if_failed()
        message_id = self.session.send_message(text)
        self._pump()
        return message_id

    async def talk(self) -> bool:
        """Ask for the floor (answered by a ``Floor`` or ``Busy`` event); False if offline."""
        return self._do(self.session.talk())

    async def over(self) -> bool:
        """Release the floor; False if offline."""
        return self._do(self.session.over())

    async def who(self) -> bool:
        """Ask for the station list (answered by a ``Stations`` event); False if offline."""
        return self._do(self.session.who())

    async def request_history(self, n: int = 10) -> bool:
        """Ask for the last ``n`` messages (``Message`` events, history=True, then ``Synced``)."""
        return self._do(self.session.request_history(n))

    async def set_nick(self, nick: str) -> bool:
        """Ask for a new nick (kept for later reconnects); raises ValueError if invalid."""
        return self._do(self.session.change_nick(nick))

    # --- internals ------------------------------------------------------------------

    def _do(self, sent: bool) -> bool:
        self._pump()
        return sent

    def _raise_if_failed(self) -> None:
        if self.failure is not None:
            raise self.failure

    def _reason_suffix(self) -> str:
        return f": {self._last_reason}" if self._last_reason else ""

    async def _wait_for(self, condition: Callable[[], bool]) -> None:
        while not condition():
            self._raise_if_failed()
            if self._closing and self._task is not None and self._task.done():
                raise ConnectError("connection closed")
            await self._changed.wait()

    def _pump(self) -> None:
        """Write what the core wants sent, hand out its events, wake waiters."""
        lines = self.session.data_to_send()
        if lines and self._writer is not None and not self._writer.is_closing():
            self._writer.write(b"".join(line.encode() + b"\n" for line in lines))
        for event in self.session.events_received():
            if self.on_event is None:
                continue
            try:
                self.on_event(event)
            except Exception:
                log.exception("on_event callback failed for %r", event)
        if self.session.holding and self._hold_timer is None:
            self._hold_timer = asyncio.get_running_loop().call_later(
                self.session.hold_seconds, self._hold_expired
            )
        self._changed.set()
        self._changed = asyncio.Event()

    def _hold_expired(self) -> None:
        self._hold_timer = None
        self.session.tick(time.time())
        self._pump()

    def _finish_first_attempt(self, failure: WalkieError | None) -> None:
        future = self._first_attempt
        if future is not None and not future.done():
            if failure is None:
                future.set_result(None)
            else:
                future.set_exception(failure)

    async def _run(self) -> None:
        try:
            while True:
                self.session.connecting()
                self._pump()
                welcomed = await self._attempt()
                if self._closing:
                    break  # the hub hung up on our quit: closed, not lost
                if self.session.fatal is not None:
                    self.failure = HubRefused(f"{self.address}: {self.session.fatal.text}")
                    break
                if self._refusal is not None:
                    self.failure = self._refusal
                    break
                if welcomed:
                    self._backoff.reset()
                elif self._first_attempt is not None and not self._first_attempt.done():
                    self.failure = ConnectError(
                        f"cannot connect to {self.address}: {self._last_reason}"
                    )
                    break
                delay = self._backoff.next_delay()
                self.session.connection_lost(self._last_reason, retry_in=delay)
                self._pump()
                await asyncio.sleep(delay)
        finally:
            self._finish_first_attempt(self.failure or ConnectError("connection closed"))
            if self.failure is not None:
                self.session.closed(str(self.failure))
            self._pump()

    async def _attempt(self) -> bool:
        """One connection, from TCP connect until it breaks; True if the hub welcomed us."""
        self._last_reason = ""
        welcomed = False
        heard = False
        try:
            async with asyncio.timeout(self.connect_timeout):
                reader, writer = await asyncio.open_connection(
                    self.host, self.port, limit=MAX_INCOMING_LINE, ssl=self._tls_context()
                )
        except (OSError, TimeoutError) as exc:
            self._last_reason = describe_connect_error(exc, self.host)
            if _plain_answer_to_tls(exc):  # set up differently: no retry will help
                self._refusal = ConnectError(f"{self.address}: {self._last_reason}")
            return False
        try:
            self._check_certificate(writer)
        except WalkieError as exc:
            self._refusal = exc
            writer.close()
            return False
        _enable_keepalive(writer)
        self._writer = writer
        pinger: asyncio.Task[None] | None = None
        try:
            self.session.connection_made()
            self._pump()
            deadline = time.monotonic() + self.connect_timeout
            while True:
                timeout = self.dead_after
                if not welcomed:
                    timeout = max(0.0, deadline - time.monotonic())
                try:
                    line = await asyncio.wait_for(reader.readline(), timeout)
                except TimeoutError:
                    self._last_reason = (
                        "hub stopped answering" if welcomed else "no welcome from the hub"
                    )
                    break
                if not line.endswith(b"\n"):
                    self._last_reason = "connection closed by the hub"
                    if not heard and self.security.certificate_check is None:
                        # Every hub greets first, unless it waits for a TLS handshake.
                        self._last_reason = (
                            "the hub closed the connection without a word (does it want TLS?)"
                        )
                    break
                heard = True
                self.session.receive_line(line, time.time())
                self._pump()
                if self.session.fatal is not None:
                    break
                if not welcomed and self.session.connected:
                    welcomed = True
                    self._finish_first_attempt(None)
                    pinger = asyncio.create_task(self._ping_loop())
        except (OSError, ValueError) as exc:  # ValueError: a line over MAX_INCOMING_LINE
            self._last_reason = describe_connect_error(exc, self.host)
        finally:
            if not welcomed and self.session.refused_because:
                self._last_reason = self.session.refused_because
            if pinger is not None:
                pinger.cancel()
            self._writer = None
            if self._hold_timer is not None:
                self._hold_timer.cancel()
                self._hold_timer = None
            writer.close()
            with contextlib.suppress(OSError, asyncio.CancelledError):
                await asyncio.wait_for(writer.wait_closed(), 1.0)
        return welcomed

    def _tls_context(self) -> ssl.SSLContext | None:
        if self.security.certificate_check is None:
            return None
        # No certificate authority: the hub's certificate is pinned on first use.
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        return context

    def _check_certificate(self, writer: asyncio.StreamWriter) -> None:
        check = self.security.certificate_check
        if check is None:
            return
        tls = writer.get_extra_info("ssl_object")
        certificate = tls.getpeercert(binary_form=True) if tls is not None else None
        if not certificate:
            raise ConnectError(f"{self.address} sent no TLS certificate")
        fingerprint = hashlib.sha256(certificate).hexdigest()
        if check(self.address, fingerprint) and self.on_event is not None:
            self.on_event(Notice(f"trusting hub {self.address} on first use: sha256:{fingerprint}"))

    async def _ping_loop(self) -> None:
        while True:
            await asyncio.sleep(self.ping_interval)
            if self.session.ping():
                self._pump()


def _plain_answer_to_tls(exc: BaseException) -> bool:
    return isinstance(exc, ssl.SSLError) and exc.reason == "WRONG_VERSION_NUMBER"


def describe_connect_error(exc: BaseException, host: str) -> str:
    """A short human reason for a failed connection."""
    if _plain_answer_to_tls(exc):
        return "the hub does not speak TLS"  # it answered in plain text
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve host {host!r}"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, ConnectionResetError):
        return "connection reset"
    if isinstance(exc, OSError) and exc.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
        return "host unreachable"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return str(exc) or type(exc).__name__


def _enable_keepalive(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
