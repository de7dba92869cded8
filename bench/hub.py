"""Part 1: hub fan-out, `walkie server --max-rate 0` against mosquitto.

Both servers run as subprocesses on loopback and get the same load from the
same generator (`bench.loadgen`): one sender, 100 and 1000 receivers, a
burst and a paced run (500 lines/s) on the same connections.

The server and the generator are pinned to different cores, and each plan
runs in rounds that alternate the two servers, the rounds pooled: on a
shared 2-core machine the scheduler's placement alone moved one server's
paced latency by 2x between identical runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from bench.loadgen import (
    PAYLOAD_SIZE,
    PROBES,
    Adapter,
    FanOut,
    MqttAdapter,
    RunResult,
    Scenario,
    WalkieAdapter,
    generator_loop,
)
from bench.report import Section
from bench.servers import HOST, RELAY, Mosquitto, WalkieServer, _Server
from bench.stats import microseconds, ms, per_second, percentile, ratio

PACED_RATE = 500.0
WARM_UP = Scenario("warm-up, not counted", 2500, PACED_RATE, 1000, 60.0)
"""Run once, unmeasured, before the first round: a machine that was idle
serves the first few seconds of paced load slowly (this virtual machine's
adaptive idle polling, ``haltpoll``, starts short), and without it whichever
server went first had its first paced round 2-7x slower than the rest."""
ROUNDS = 3
"""Rounds per plan (alternating the servers); one with --quick."""
SETUP_TIMEOUT = 120.0
"""Seconds for connecting and warming up 1000 receivers at most."""
PHASES_DIR = Path(__file__).resolve().parent / "phases"
_PHASES_FILE = "WALKIE_BENCH_PHASES"
PHASES = (
    "epoll wake-up → read (asyncio)",
    "read → store (split, rate limit, parse, sanitize, floor)",
    "store (History.append)",
    "store → first write (render, batch, flush)",
)
MIN_PHASE_READS = 50
"""Reads at one number of stations below which it is set-up, not a paced run."""


@dataclass(frozen=True)
class Plan:
    receivers: int
    scenarios: tuple[Scenario, ...]
    mosquitto_nodelay: bool = False
    """mosquitto as it does best at these scenarios: Nagle's algorithm on (its
    default) joins a burst's packets and doubled its throughput here; off, it
    no longer sat on paced lines (3-4 ms to the first receiver in three of four
    paced sessions, against 0.2 ms)."""


def plans(quick: bool) -> list[Plan]:
    """What runs: a burst and a paced plan for 100 and for 1000 receivers,
    sized for --quick or a full run; each plan's rounds on fresh servers."""
    sizes = (
        [(100, 2000, 1000), (1000, 300, 500)] if quick else [(100, 10000, 2500), (1000, 1000, 1000)]
    )
    result = []
    for receivers, burst_lines, paced_lines in sizes:
        window = 1000 if receivers <= 100 else 500
        burst = Scenario("burst", burst_lines, None, window, timeout=60.0)
        paced = Scenario(f"paced {PACED_RATE:g}/s", paced_lines, PACED_RATE, window, 60.0)
        result.append(Plan(receivers, (burst,)))
        # With 1000 receivers the window, not the rate, sets the pace: a burst
        # again, where Nagle's algorithm on served mosquitto better (129k
        # against 75k deliveries/s).
        result.append(Plan(receivers, (paced,), mosquitto_nodelay=receivers <= 100))
    return result


async def _measure(server: _Server, adapter: Adapter, plan: Plan, warm_up: bool) -> list[RunResult]:
    fan_out = FanOut(adapter, HOST, server.port, plan.receivers, server.pid)
    try:
        await asyncio.wait_for(fan_out.connect(), SETUP_TIMEOUT)
        if warm_up:
            await fan_out.run(WARM_UP)
        return [await fan_out.run(scenario) for scenario in plan.scenarios]
    finally:
        fan_out.close()


def _measure_pinned(
    server: _Server,
    adapter: Adapter,
    plan: Plan,
    loop_factory: Callable[[], asyncio.AbstractEventLoop],
    warm_up: bool = False,
) -> list[RunResult]:
    with _pinned(server.pid), asyncio.Runner(loop_factory=loop_factory) as runner:
        return runner.run(_measure(server, adapter, plan, warm_up))


@contextlib.contextmanager
def _pinned(server_pid: int) -> Iterator[None]:
    """The server on one core, this process (the generator) on another."""
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        yield
        return
    os.sched_setaffinity(server_pid, {cores[0]})
    os.sched_setaffinity(0, {cores[1]})
    try:
        yield
    finally:
        os.sched_setaffinity(0, set(cores))


def run(
    quick: bool,
    walkie_src: str | None = None,
    phases: bool = False,
    relay: bool = False,
    generator: str = "uvloop",
) -> Section:
    """The fan-out table; with ``phases``, and a table of the walkie hub's path
    from a read to its first send (bench/phases/sitecustomize.py); with
    ``relay``, a bare asyncio relay (bench/relay.py) in walkie's place;
    ``generator`` names the generator's event loop (:data:`GENERATOR_LOOPS`)."""
    saved = {name: os.environ.get(name) for name in ("PYTHONPATH", _PHASES_FILE)}
    paths = [str(PHASES_DIR)] if phases else []
    if walkie_src:
        paths.append(f"{walkie_src}/pi")
    with tempfile.TemporaryDirectory() as scratch:
        stamps = Path(scratch) / "phases.jsonl"
        if paths:
            os.environ["PYTHONPATH"] = os.pathsep.join(paths)
        if phases:
            os.environ[_PHASES_FILE] = str(stamps)
        try:
            section = _run(quick, walkie_src, relay, generator)
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
        if phases:
            section.after.append(_phases_section(stamps))
    return section


def _phases_section(stamps: Path) -> Section:
    """Median durations per phase, for each number of stations, from every hub run."""
    pooled: dict[int, list[list[float | None]]] = {}
    if stamps.exists():
        for line in stamps.read_text().splitlines():
            for stations, rows in json.loads(line).items():
                pooled.setdefault(int(stations), []).extend(rows)
    section = Section(
        "1b. The walkie hub's path from a read to its first send (paced reads of one line)",
        ["stations", "reads", *PHASES, "to the first write"],
    )
    for stations, rows in sorted(pooled.items()):
        if len(rows) < MIN_PHASE_READS:
            continue  # joins and stray lines during set-up
        columns = [[v for row in rows if (v := row[i]) is not None] for i in range(len(PHASES))]
        totals = [sum(v for v in row if v is not None) for row in rows]
        section.add(
            str(stations),
            str(len(rows)),
            *(f"{percentile(column, 0.5):.1f} µs" if column else "n/a" for column in columns),
            f"{percentile(totals, 0.5):.1f} µs from the {'wake-up' if columns[0] else 'read'}",
        )
    section.notes.append(
        "Medians of time.perf_counter_ns() stamps taken inside the hub process by "
        "bench/phases/sitecustomize.py (which wraps asyncio's _process_events, "
        "buffer_updated, History.append and the first MemberGroup.write); the stamps "
        "themselves add a little to each phase. On uvloop the wake-up is in C and not "
        "stamped (n/a)."
    )
    return section


def _run(quick: bool, walkie_src: str | None, relay: bool, generator: str) -> Section:
    loop_name, loop_factory = generator_loop(generator)
    with_mosquitto = Mosquitto.available()
    title = "1. Hub fan-out: walkie server vs mosquitto " + Mosquitto.version()
    if walkie_src:
        title += " (walkie from a patched copy)"
    if relay:
        title += " (in walkie's place: the bare asyncio relay of bench/relay.py)"
    command = RELAY if relay else None
    section = Section(
        title, ["scenario", "figure", "walkie", "mosquitto", "walkie/mosq.", "method"]
    )
    rounds = 1 if quick else ROUNDS
    warm_up = True
    for plan in plans(quick):
        walkie_rounds: list[list[RunResult]] = []
        mosquitto_rounds: list[list[RunResult]] = []
        for _ in range(rounds):
            with WalkieServer(command=command) as walkie:
                walkie_rounds.append(
                    _measure_pinned(walkie, WalkieAdapter(), plan, loop_factory, warm_up)
                )
            warm_up = False
            if with_mosquitto:
                with Mosquitto(nodelay=plan.mosquitto_nodelay) as broker:
                    mosquitto_rounds.append(
                        _measure_pinned(broker, MqttAdapter(), plan, loop_factory)
                    )
        for index in range(len(plan.scenarios)):
            ours = RunResult.merged([results[index] for results in walkie_rounds])
            theirs = (
                RunResult.merged([results[index] for results in mosquitto_rounds])
                if mosquitto_rounds
                else None
            )
            _add_rows(section, ours, theirs)
    section.notes += [
        f"Load generator: one asyncio process on {loop_name}'s event loop (bench/loadgen.py), "
        "one sender, N receivers; "
        f"walkie as plain TCP lines, mosquitto as MQTT 3.1.1 QoS 0 (hand-written packets); "
        f"{PAYLOAD_SIZE}-byte payloads carrying a monotonic_ns stamp.",
        "Burst: as fast as the window allows (the sender stays at most 1000 lines, "
        "500 for 1000 receivers, ahead of the slowest probe receiver); "
        f"paced: {PACED_RATE:g} lines/s offered (with 1000 receivers that is 500k "
        "deliveries/s, more than either server delivers here, so the window sets the pace).",
        "mosquitto as it does best at each: its default config (Nagle's algorithm on), "
        "but set_tcp_nodelay true for 100 receivers paced; walkie as it comes.",
        f"Each scenario: {rounds} round(s) alternating walkie and mosquitto, each on a fresh "
        "server, pooled (counts and times added, latency samples together); the server "
        "pinned to one core, the generator to another; before the first round, "
        f"{WARM_UP.lines / PACED_RATE:g} s of paced load not counted (an idle machine serves "
        "the first seconds of load slowly, whichever server comes first).",
        "On 2 cores the generator often is the limit (its own CPU row); the servers' CPU "
        "time per delivery is the fairer comparison. Lower is better except deliveries/s.",
    ]
    if not with_mosquitto:
        section.notes.append("mosquitto is not installed (Debian package mosquitto): no peer.")
    return section


def _add_rows(section: Section, ours: RunResult, theirs: RunResult | None) -> None:
    scenario = f"{ours.receivers} rx, {ours.scenario.name}, {ours.scenario.lines} lines"

    def both(value: RunResult | None, fmt: str) -> str:
        return "n/a" if value is None else fmt

    nan = float("nan")
    rate_t = theirs.deliveries_per_second if theirs else nan
    cpu_t = theirs.cpu_per_delivery if theirs else nan
    section.add(
        scenario,
        "deliveries/s",
        per_second(ours.deliveries_per_second),
        both(theirs, per_second(rate_t)),
        ratio(ours.deliveries_per_second, rate_t),
        "deliveries counted at every receiver ÷ (last arrival − first send)",
    )
    at_socket = (
        "stamp in the payload → the kernel queued it on a probe's socket "
        f"(SO_TIMESTAMPNS), {PROBES} probes: the server's own fan-out"
    )
    read = f"stamp in the payload → read on {PROBES} probe receivers"
    first = "as above, the probe connected first only: the server's delay before its first send"
    rows = [  # (figure, RunResult's samples, percentile, method)
        ("p50 latency at the socket", "arrival_latencies", 0.5, at_socket),
        ("p99 latency at the socket", "arrival_latencies", 0.99, at_socket),
        ("p50 at the socket, first receiver", "first_arrival_latencies", 0.5, first),
        ("p50 latency, read", "latencies", 0.5, f"{read}, one by one by the one generator"),
        ("p99 latency, read", "latencies", 0.99, read),
        ("p50 read, first receiver", "first_latencies", 0.5, f"{first}, and its reading"),
    ]
    for name, samples, fraction, method in rows:
        value = percentile(getattr(ours, samples), fraction)
        peer = percentile(getattr(theirs, samples), fraction) if theirs else nan
        section.add("", name, ms(value), both(theirs, ms(peer)), ratio(value, peer), method)
    section.add(
        "",
        "server CPU per delivery",
        microseconds(ours.cpu_per_delivery),
        both(theirs, microseconds(cpu_t)),
        ratio(ours.cpu_per_delivery, cpu_t),
        "server utime+stime (/proc/PID/stat) over the run ÷ deliveries",
    )
    section.add(
        "",
        "lost / generator CPU",
        f"{ours.lost} / {ours.generator_load:.0%}",
        both(theirs, f"{theirs.lost} / {theirs.generator_load:.0%}" if theirs else ""),
        "",
        "expected − counted deliveries / generator CPU time ÷ run time",
    )
