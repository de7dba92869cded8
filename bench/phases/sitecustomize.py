"""Stamps between the phases of the hub's path from a read to its first send,
for `bench/run hub --phases`: Python imports this module at start-up when its
folder is on PYTHONPATH, as the bench puts it for the `walkie server`s it
starts.

It wraps, when `walkie.channel.server` is imported: asyncio's event loop's
`_process_events` (the wake-up from epoll; uvloop's is in C and not
stamped), `_StationConnection.buffer_updated` (the read), `History.append`
(the message stored) and `MemberGroup.write` (the first send). For every read
of one short line that stored a message, it keeps the four phases' durations;
at exit it appends them, grouped by the number of stations, as one JSON line
to the file named by $WALKIE_BENCH_PHASES. It changes what it measures a
little (a clock read per stamp) and relies on those four names: a
diagnostic, not part of walkie.
"""

from __future__ import annotations

import atexit
import importlib.abc
import importlib.util
import json
import os
import sys
import time
from types import ModuleType
from typing import Any

_Phases = list[float | None]

_OUT = os.environ.get("WALKIE_BENCH_PHASES")
_SHORT_READ = 64
"""Bytes: a read this small holds one line (the paced scenarios)."""
_now = time.perf_counter_ns
_stamps: dict[str, int] = {}
_phases: dict[int, list[_Phases]] = {}
"""Per read: the four phases in µs; the first is None on uvloop, whose loop
has no Python between epoll and the read to stamp."""


def _install(server: ModuleType) -> None:
    from asyncio import selector_events

    from walkie.channel import fanout, history

    loop_class: Any = selector_events.BaseSelectorEventLoop  # _process_events is private
    process_events = loop_class._process_events

    def woken(self: Any, event_list: Any) -> Any:
        _stamps["wake"] = _now()
        return process_events(self, event_list)

    buffer_updated = server._StationConnection.buffer_updated

    def read(self: Any, nbytes: int) -> None:
        wake = _stamps.get("wake")
        _stamps.clear()
        started = _now()
        buffer_updated(self, nbytes)
        if nbytes < _SHORT_READ and "appended" in _stamps and "sent" in _stamps:
            stations = len(self.hub._connections)
            _phases.setdefault(stations, []).append(
                [
                    None if wake is None else (started - wake) / 1000,
                    (_stamps["append"] - started) / 1000,
                    (_stamps["appended"] - _stamps["append"]) / 1000,
                    (_stamps["sent"] - _stamps["appended"]) / 1000,
                ]
            )

    append = history.History.append

    def stored(self: Any, *args: Any, **kwargs: Any) -> int:
        _stamps["append"] = _now()
        mid: int = append(self, *args, **kwargs)
        _stamps["appended"] = _now()
        return mid

    write = fanout.MemberGroup.write

    def sent(self: Any, *args: Any, **kwargs: Any) -> None:
        _stamps.setdefault("sent", _now())
        write(self, *args, **kwargs)

    loop_class._process_events = woken
    server._StationConnection.buffer_updated = read
    history.History.append = stored  # type: ignore[method-assign]
    fanout.MemberGroup.write = sent  # type: ignore[method-assign]


def _dump() -> None:
    if _OUT and _phases:
        with open(_OUT, "a") as file:
            file.write(json.dumps({str(k): v for k, v in _phases.items()}) + "\n")


class _AfterServerImport(importlib.abc.MetaPathFinder):
    """Installs the stamps once walkie.channel.server has been executed."""

    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        if name != "walkie.channel.server":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        loader = spec.loader
        execute = loader.exec_module

        def exec_module(module: ModuleType) -> None:
            execute(module)
            _install(module)

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


if _OUT:
    sys.meta_path.insert(0, _AfterServerImport())
    atexit.register(_dump)
