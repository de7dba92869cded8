"""Fixtures shared by the whole suite."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from support.clients import PipeClient
from support.hub import TOKEN, HubProcess, start_hub_process


@pytest.fixture
def start_hub(tmp_path: Path) -> Iterator[Callable[..., HubProcess]]:
    """Start `walkie server` subprocesses (a fresh history file unless given)."""
    hubs: list[HubProcess] = []

    def start(*extra: str, history_db: Path | None = None, port: int = 0) -> HubProcess:
        hub = start_hub_process(history_db or tmp_path / "history.sqlite3", *extra, port=port)
        hubs.append(hub)
        return hub

    yield start
    for hub in hubs:
        hub.stop()


@pytest.fixture
def token_file(tmp_path: Path) -> Path:
    """A file holding :data:`TOKEN`, readable by its owner only."""
    path = tmp_path / "token"
    path.write_text(TOKEN + "\n")
    path.chmod(0o600)
    return path


@pytest.fixture
def pipe_client() -> Iterator[Callable[..., PipeClient]]:
    """Start `walkie client ADDRESS ARGS...` in pipe mode; none outlives its test."""
    clients: list[PipeClient] = []

    def start(address: str, *args: str) -> PipeClient:
        client = PipeClient(address, *args)
        clients.append(client)
        return client

    yield start
    for client in clients:
        client.kill()
