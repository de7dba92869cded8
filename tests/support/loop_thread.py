"""Test support: an asyncio service (a hub, a station) on its own thread and
loop, so that a test can drive it with blocking sockets."""

from __future__ import annotations

import asyncio
import threading

DEADLINE = 20.0
"""Seconds before a start or stop counts as hung; nothing is timed."""


class LoopThread:
    """Runs :meth:`serve` until :meth:`stop`; subclasses call :meth:`serving`
    with their port once they listen."""

    def __init__(self) -> None:
        self._ready = threading.Event()
        self._ports: list[int] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=asyncio.run, args=(self._run(),))

    def start(self) -> int:
        """Start the service; the port it listens on."""
        self._thread.start()
        assert self._ready.wait(DEADLINE), f"{type(self).__name__} did not start"
        return self._ports[0]

    def stop(self) -> None:
        """Stop the service as a signal would, and wait until it has shut down."""
        if not self._thread.is_alive():
            return
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(DEADLINE)
        assert not self._thread.is_alive(), f"{type(self).__name__} did not stop"

    async def serve(self, stop: asyncio.Event) -> None:
        raise NotImplementedError

    def serving(self, port: int) -> None:
        self._ports.append(port)
        self._ready.set()

    async def _run(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        await self.serve(self._stop)
