"""Fixtures for the client tests: a real hub, real `walkie client` processes in
pipe mode and on a real terminal, and a plain-mode probe watching the channel.
The classes behind them live in tests/support; deadlines only prevent hangs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from support.clients import Probe, RunClient, Terminal
from support.clients import run_client as _run_client
from support.hub import WALKIE, HubProcess


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[HubProcess]:
    """A running hub with the per-client rate limit off (tests send bursts)."""
    running = HubProcess(tmp_path / "history.sqlite3", "--max-rate", "0").start()
    yield running
    running.stop()


@pytest.fixture
def probe(hub: HubProcess) -> Iterator[Probe]:
    """A plain-mode station on ``hub`` that sees join notices and messages."""
    station = Probe(hub.port)
    station.wait_for("* welcome…")
    station.say("/who")  # a plain station joins the channel with its first line
    station.reader.wait_until(lambda line: " on the channel: " in line)
    yield station
    station.close()


@pytest.fixture
def terminal(hub: HubProcess) -> Iterator[Terminal]:
    """`walkie client --nick alice` on a 100x24 terminal, connected."""
    screen = Terminal(*WALKIE, "client", hub.address, "--nick", "alice")
    screen.wait_for("connected to")
    yield screen
    screen.close()


@pytest.fixture
def run_client() -> RunClient:
    """Run `walkie client ARGS...` to completion in pipe mode (``stdin=`` text)."""
    return _run_client
