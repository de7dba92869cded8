"""One asyncio fan-out load generator, with one small adapter per protocol.

The same code drives `walkie server` (plain TCP lines) and mosquitto (MQTT
3.1.1, QoS 0), so the two servers get exactly the same load:

* N receivers connect (in batches) and finish their handshake, then one sender.
* Warm-up: the sender repeats a ``^`` payload until every receiver has seen one,
  so every receiver is joined/subscribed before anything is measured.
* A measured run: the sender sends ``lines`` payloads, each ``~`` and the
  19-digit ``time.monotonic_ns()`` at which it was written, padded to
  ``PAYLOAD_SIZE`` bytes; in a burst (as fast as the window allows) or paced
  (on a schedule of ``rate`` lines per second).
* Window: the sender never runs more than ``window`` lines ahead of the
  slowest probe receiver, so neither server is pushed into dropping slow
  readers (walkie drops a station whose send buffer overflows).
* Every receiver counts ``~`` bytes (one per delivery, a C-speed
  ``bytes.count``); a few probe receivers, spread over the connection order
  (each joined in its place), also parse each stamp, for two latencies: to
  the moment the kernel queued the bytes on the probe's socket
  (``SO_TIMESTAMPNS``), which is the server's own fan-out, and to the read
  that carried them, which adds the generator's own pace: it reads its
  receivers one after another on one core, more slowly than either server
  writes them, where real receivers each read their own.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, cast

from bench import mqtt
from bench.procstat import cpu_seconds, self_cpu_seconds
from walkie.eventloop import event_loop_factory

MARK = b"~"
WARM = b"^"
STAMP_DIGITS = 19
PAYLOAD_SIZE = 32
PROBES = 8
CONNECT_BATCH = 100
HANDSHAKE_TIMEOUT = 30.0
WARM_INTERVAL = 0.05
WARM_TIMEOUT = 60.0
STALL_TIMEOUT = 10.0
"""A run ends early (and reports the loss) if no delivery arrives for this long."""
BURST_BATCH = 64
"""Lines the sender writes in one go in a burst."""
HANDSHAKE_BYTES_KEPT = 4096
SETTLE = 0.3
"""Seconds of quiet after the warm-up, for stray notices to drain."""
PROBE_READ_SIZE = 256 * 1024
SO_TIMESTAMPNS = 35
"""Linux (asm-generic): each read says when its bytes reached the socket
(SCM_TIMESTAMPNS ancillary data, a CLOCK_REALTIME timespec)."""
_TIMESPEC = struct.Struct("@qq")


GENERATOR_LOOPS = ("uvloop", "asyncio")


def generator_loop(name: str) -> tuple[str, Callable[[], asyncio.AbstractEventLoop]]:
    """The event loop the generator runs on, and its name: uvloop (the
    default) where it is installed, as for `walkie server`, else asyncio's
    own. On asyncio's loop the generator's Python per read cost about as much
    as a server's send, so at 100 receivers paced it was the generator that set
    how fast a line reached the later receivers, whichever server it measured
    (docs/performance.md)."""
    if name == "uvloop":
        factory = event_loop_factory()
        return ("asyncio" if factory is asyncio.new_event_loop else "uvloop"), factory
    return "asyncio", asyncio.new_event_loop


class Adapter(Protocol):
    """What differs between the protocols: handshakes and framing."""

    name: str

    def receiver_hello(self, index: int) -> bytes: ...

    def sender_hello(self) -> bytes: ...

    def receiver_ready(self, head: bytes) -> bool: ...

    def sender_ready(self, head: bytes) -> bool: ...

    def frame(self, payload: bytes) -> bytes: ...


class WalkieAdapter:
    """walkie's plain mode, as netcat would speak it: one line per message."""

    name = "walkie"

    def receiver_hello(self, index: int) -> bytes:
        return b"/help\n"  # any line joins the channel at once (no 1 s grace)

    def sender_hello(self) -> bytes:
        return b""

    def receiver_ready(self, head: bytes) -> bool:
        return b"/help lists" in head and b"commands:" in head

    def sender_ready(self, head: bytes) -> bool:
        return b"* welcome" in head

    def frame(self, payload: bytes) -> bytes:
        return payload + b"\n"


class MqttAdapter:
    """MQTT 3.1.1: receivers subscribe to one topic, the sender publishes at QoS 0."""

    name = "mosquitto"
    topic = b"walkie/bench"

    def receiver_hello(self, index: int) -> bytes:
        return mqtt.connect(f"rx{index}") + mqtt.subscribe(self.topic)

    def sender_hello(self) -> bytes:
        return mqtt.connect("tx")

    def receiver_ready(self, head: bytes) -> bool:
        return mqtt.has_packet(head, mqtt.SUBACK)

    def sender_ready(self, head: bytes) -> bool:
        return mqtt.has_packet(head, mqtt.CONNACK)

    def frame(self, payload: bytes) -> bytes:
        return mqtt.publish(self.topic, payload)


@dataclass(frozen=True)
class Scenario:
    name: str
    lines: int
    rate: float | None  # lines per second; None for a burst
    window: int
    timeout: float


@dataclass
class RunResult:
    scenario: Scenario
    receivers: int
    sent: int
    deliveries: int
    seconds: float
    latencies: list[float]
    first_latencies: list[float]
    """Those of the probe connected first (the first a server writes to, in order)."""
    arrival_latencies: list[float]
    """Stamp → the kernel queued the bytes on a probe's socket (SO_TIMESTAMPNS):
    the server's own fan-out, whatever the generator's reading adds."""
    first_arrival_latencies: list[float]
    """Those of the probe connected first."""
    server_cpu: float
    generator_cpu: float

    @classmethod
    def merged(cls, results: list[RunResult]) -> RunResult:
        """Several runs of one scenario as one: counts and times added up,
        latency samples pooled."""
        first = results[0]
        return cls(
            scenario=first.scenario,
            receivers=first.receivers,
            sent=sum(r.sent for r in results),
            deliveries=sum(r.deliveries for r in results),
            seconds=sum(r.seconds for r in results),
            latencies=[value for r in results for value in r.latencies],
            first_latencies=[value for r in results for value in r.first_latencies],
            arrival_latencies=[value for r in results for value in r.arrival_latencies],
            first_arrival_latencies=[v for r in results for v in r.first_arrival_latencies],
            server_cpu=sum(r.server_cpu for r in results),
            generator_cpu=sum(r.generator_cpu for r in results),
        )

    @property
    def expected(self) -> int:
        return self.sent * self.receivers

    @property
    def lost(self) -> int:
        return self.expected - self.deliveries

    @property
    def deliveries_per_second(self) -> float:
        return self.deliveries / self.seconds if self.seconds > 0 else float("nan")

    @property
    def cpu_per_delivery(self) -> float:
        return self.server_cpu / self.deliveries if self.deliveries else float("nan")

    @property
    def generator_load(self) -> float:
        """The generator's CPU time as a fraction of one core during the run."""
        return self.generator_cpu / self.seconds if self.seconds > 0 else float("nan")


@dataclass
class _Shared:
    total: int = 0
    expected: int = -1
    last_ns: int = 0
    progress: asyncio.Event = field(default_factory=asyncio.Event)
    done: asyncio.Event = field(default_factory=asyncio.Event)
    ready: int = 0
    all_ready: asyncio.Event = field(default_factory=asyncio.Event)
    wanted_ready: int = 0
    warm: int = 0
    all_warm: asyncio.Event = field(default_factory=asyncio.Event)


class _Receiver(asyncio.Protocol):
    def __init__(self, shared: _Shared, adapter: Adapter, index: int, probe: bool) -> None:
        self.shared = shared
        self.adapter = adapter
        self.index = index
        self.probe = probe
        self.transport: asyncio.Transport | None = None
        self.head = b""
        self.ready = False
        self.warm = False
        self.seen = 0
        self.latencies: list[float] = []
        self.arrival_latencies: list[float] = []
        self._pending = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's does not subclass it
        hello = self.adapter.receiver_hello(self.index)
        if hello:
            self.transport.write(hello)

    def data_received(self, data: bytes, arrival_ns: int | None = None) -> None:
        shared = self.shared
        if not self.ready:
            self.head = (self.head + data)[:HANDSHAKE_BYTES_KEPT]
            if self.adapter.receiver_ready(self.head):
                self.ready = True
                self.head = b""
                shared.ready += 1
                if shared.ready >= shared.wanted_ready:
                    shared.all_ready.set()
        count = data.count(MARK)
        if count or self._pending:
            now = time.monotonic_ns()
            shared.total += count
            shared.last_ns = now
            if self.probe:
                self._parse_stamps(data, now, arrival_ns)
            if shared.total >= shared.expected >= 0:
                shared.done.set()
        elif not self.warm and WARM in data:
            self.warm = True
            shared.warm += 1
            if shared.warm >= shared.wanted_ready:
                shared.all_warm.set()

    def _parse_stamps(self, data: bytes, now: int, arrival_ns: int | None) -> None:
        buffer = self._pending + data if self._pending else data
        position = 0
        while True:
            start = buffer.find(MARK, position)
            if start < 0:
                self._pending = b""
                break
            end = start + 1 + STAMP_DIGITS
            if end > len(buffer):
                self._pending = buffer[start:]
                break
            stamp = int(buffer[start + 1 : end])
            self.latencies.append((now - stamp) / 1e9)
            if arrival_ns is not None:
                self.arrival_latencies.append((arrival_ns - stamp) / 1e9)
            self.seen += 1
            position = end
        self.shared.progress.set()

    def reset(self) -> None:
        self.seen = 0
        self.latencies = []
        self.arrival_latencies = []
        self._pending = b""


class _StampedSocket:
    """A probe receiver's connection, read with ``recvmsg`` so that each read
    also says when the kernel queued its bytes on the socket: the moment the
    server's ``send`` reached this receiver, which on loopback the sender's
    own system call carries out. The generator reads its sockets one after
    another, so the later probes of a fan-out are read later than their bytes
    arrived; this time does not depend on it. (Only the newest segment's time
    is given per read: exact for paced lines, each read one line.)"""

    def __init__(self, sock: socket.socket, receiver: _Receiver) -> None:
        self.sock = sock
        self.receiver = receiver
        sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        asyncio.get_running_loop().add_reader(sock.fileno(), self._readable)
        receiver.connection_made(cast(asyncio.BaseTransport, self))

    def _readable(self) -> None:
        try:
            data, ancillary, _, _ = self.sock.recvmsg(
                PROBE_READ_SIZE, socket.CMSG_SPACE(_TIMESPEC.size)
            )
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self.abort()
            return
        arrival_ns = None
        for level, kind, value in ancillary:
            if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                seconds, nanoseconds = _TIMESPEC.unpack(value)
                # CLOCK_REALTIME, as the stamps' CLOCK_MONOTONIC (the offset taken now)
                offset = time.time_ns() - time.monotonic_ns()
                arrival_ns = seconds * 1_000_000_000 + nanoseconds - offset
        self.receiver.data_received(data, arrival_ns)

    def write(self, data: bytes) -> None:
        self.sock.sendall(data)  # the handshake: a few bytes into an empty buffer

    def abort(self) -> None:
        if self.sock.fileno() >= 0:
            asyncio.get_running_loop().remove_reader(self.sock.fileno())
            self.sock.close()


class _Sender(asyncio.Protocol):
    def __init__(self, adapter: Adapter) -> None:
        self.adapter = adapter
        self.transport: asyncio.Transport | None = None
        self.head = b""
        self.ready = asyncio.Event()
        self.writable = asyncio.Event()
        self.writable.set()
        self.lost = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's does not subclass it
        hello = self.adapter.sender_hello()
        if hello:
            self.transport.write(hello)

    def data_received(self, data: bytes) -> None:
        if not self.ready.is_set():
            self.head = (self.head + data)[:HANDSHAKE_BYTES_KEPT]
            if self.adapter.sender_ready(self.head):
                self.ready.set()

    def pause_writing(self) -> None:
        self.writable.clear()

    def resume_writing(self) -> None:
        self.writable.set()

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self.writable.set()


def _payload(stamp_ns: int) -> bytes:
    text = MARK + b"%019d" % stamp_ns
    return text + b"." * (PAYLOAD_SIZE - len(text))


def _probe_indexes(receivers: int) -> set[int]:
    count = min(PROBES, receivers)
    if count <= 1:
        return {0}
    return {round(k * (receivers - 1) / (count - 1)) for k in range(count)}


class FanOut:
    """N receivers and one sender connected to one server; run scenarios on them."""

    def __init__(
        self, adapter: Adapter, host: str, port: int, receivers: int, server_pid: int
    ) -> None:
        self.adapter = adapter
        self.host = host
        self.port = port
        self.receiver_count = receivers
        self.server_pid = server_pid
        self.shared = _Shared(wanted_ready=receivers)
        self.receivers: list[_Receiver] = []
        self.sender: _Sender | None = None

    async def connect(self) -> None:
        """Receivers in batches, but each probe on its own once everyone before
        it has joined, and joined before anyone after it: a server writes to
        its receivers in the order they joined, so each probe's place in that
        order is its index."""
        loop = asyncio.get_running_loop()
        probes = sorted(_probe_indexes(self.receiver_count))
        index = 0
        while index < self.receiver_count:
            if index in probes:
                await self._until_ready(index)
                self.receivers.append(await self._connect_probe(index))
                await self._until_ready(index + 1)
                index += 1
                continue
            end = min(
                [index + CONNECT_BATCH, self.receiver_count, *(p for p in probes if p > index)]
            )
            self.receivers += await asyncio.gather(
                *(self._connect_receiver(i) for i in range(index, end))
            )
            index = end
        await self._until_ready(self.receiver_count)
        _, sender = await loop.create_connection(
            lambda: _Sender(self.adapter), self.host, self.port
        )
        self.sender = sender
        await asyncio.wait_for(sender.ready.wait(), HANDSHAKE_TIMEOUT)
        await self._warm_up()

    async def _until_ready(self, count: int) -> None:
        """Until ``count`` receivers have finished their handshake."""
        shared = self.shared
        shared.wanted_ready = count
        if shared.ready < count:
            shared.all_ready.clear()
            await asyncio.wait_for(shared.all_ready.wait(), HANDSHAKE_TIMEOUT)

    async def _connect_receiver(self, index: int) -> _Receiver:
        _, receiver = await asyncio.get_running_loop().create_connection(
            lambda: _Receiver(self.shared, self.adapter, index, probe=False), self.host, self.port
        )
        return receiver

    async def _connect_probe(self, index: int) -> _Receiver:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        await asyncio.get_running_loop().sock_connect(sock, (self.host, self.port))
        receiver = _Receiver(self.shared, self.adapter, index, probe=True)
        _StampedSocket(sock, receiver)
        return receiver

    async def _warm_up(self) -> None:
        sender = self._sender()
        deadline = time.monotonic() + WARM_TIMEOUT
        while not self.shared.all_warm.is_set():
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"{self.shared.warm} of {self.receiver_count} receivers warmed up"
                )
            assert sender.transport is not None
            sender.transport.write(self.adapter.frame(WARM))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.shared.all_warm.wait(), WARM_INTERVAL)
        await asyncio.sleep(SETTLE)

    def _sender(self) -> _Sender:
        assert self.sender is not None, "connect() first"
        return self.sender

    def close(self) -> None:
        for protocol in [*self.receivers, self.sender]:
            if protocol is not None and protocol.transport is not None:
                protocol.transport.abort()

    async def run(self, scenario: Scenario) -> RunResult:
        sender = self._sender()
        assert sender.transport is not None
        shared = self.shared
        shared.total = 0
        shared.expected = -1
        shared.done.clear()
        probes = [r for r in self.receivers if r.probe]
        for probe in probes:
            probe.reset()
        start_ns = time.monotonic_ns()
        shared.last_ns = start_ns
        server_cpu = cpu_seconds(self.server_pid)
        own_cpu = self_cpu_seconds()
        deadline = time.monotonic() + scenario.timeout
        sent = 0
        while sent < scenario.lines and time.monotonic() < deadline and not sender.lost:
            ahead = sent - min(probe.seen for probe in probes)
            if ahead >= scenario.window:
                shared.progress.clear()
                try:
                    await asyncio.wait_for(shared.progress.wait(), STALL_TIMEOUT)
                except TimeoutError:
                    break
                continue
            room = min(scenario.window - ahead, scenario.lines - sent)
            if scenario.rate is None:
                batch = min(BURST_BATCH, room)
            else:
                due_at = start_ns + sent * 1e9 / scenario.rate
                wait = (due_at - time.monotonic_ns()) / 1e9
                if wait > 0:
                    await asyncio.sleep(wait)
                elapsed = (time.monotonic_ns() - start_ns) / 1e9
                batch = max(1, min(room, int(elapsed * scenario.rate) + 1 - sent))
            chunk = b"".join(
                self.adapter.frame(_payload(time.monotonic_ns())) for _ in range(batch)
            )
            sender.transport.write(chunk)
            sent += batch
            if not sender.writable.is_set():
                await sender.writable.wait()
            elif scenario.rate is None:
                await asyncio.sleep(0)  # let the receivers read
        shared.expected = sent * self.receiver_count
        if shared.total < shared.expected:
            await self._drain(deadline)
        end_ns = shared.last_ns
        first = min(probes, key=lambda probe: probe.index)
        return RunResult(
            scenario=scenario,
            receivers=self.receiver_count,
            sent=sent,
            deliveries=shared.total,
            seconds=(end_ns - start_ns) / 1e9,
            latencies=[value for probe in probes for value in probe.latencies],
            first_latencies=first.latencies,
            arrival_latencies=[value for probe in probes for value in probe.arrival_latencies],
            first_arrival_latencies=first.arrival_latencies,
            server_cpu=cpu_seconds(self.server_pid) - server_cpu,
            generator_cpu=self_cpu_seconds() - own_cpu,
        )

    async def _drain(self, deadline: float) -> None:
        shared = self.shared
        while not shared.done.is_set():
            before = shared.total
            remaining = max(0.1, deadline - time.monotonic())
            try:
                await asyncio.wait_for(shared.done.wait(), min(STALL_TIMEOUT, remaining))
            except TimeoutError:
                if shared.total == before or time.monotonic() >= deadline:
                    return
