"""The event loop walkie's daemons run on: `walkie server` and `walkie pi`."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop]:
    """uvloop's event loop where it is installed (the optional extra
    ``walkie[fast]``), else asyncio's own: uvloop takes a line from epoll to
    the hub's protocol in C, which shortens every line's way to its first
    send (docs/performance.md)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop
    loop_factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return loop_factory


def run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(main)`` on :func:`event_loop_factory`'s loop."""
    _open_standard_descriptors()
    with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
        return runner.run(main)


def _open_standard_descriptors() -> None:
    """/dev/null on any of descriptors 0-2 that a parent left closed
    (``walkie server <&-``): else the first socket would get one, and libuv
    (uvloop) aborts when it closes a descriptor below 3."""
    for fd in range(3):
        try:
            os.fstat(fd)
        except OSError:
            os.open(os.devnull, os.O_RDWR)  # the lowest free descriptor: this one
