"""A bare asyncio relay, for `bench/run hub --relay`: the floor under walkie.

It speaks just enough of walkie's plain mode for bench/loadgen (a welcome, an
answer to `/help`, every other line sent to everyone else as `<s> line`) and
fans each line out like the hub does, with `map(os.write)` over the sockets,
but keeps no channel: no nicks, floor, history, rate limit or batching. Run in
walkie's place against mosquitto, it shows what any Python asyncio server pays
on this machine before its first send, whatever its own work. Only the paced
runs say that: it writes every line on its own, so bursts are slow. It runs
on the event loop `walkie server` runs on (uvloop where it is installed).

    python -m bench.relay server --port 0 [ignored walkie server options]
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from itertools import repeat
from typing import cast

from walkie.eventloop import event_loop_factory

_READ_SIZE = 256 * 1024
_buffer = memoryview(bytearray(_READ_SIZE))
_members: dict[int, int] = {}
"""Connection id → socket fd, for every connection that has said /help."""
_others: dict[int, list[int]] = {}
"""Connection id → the other members' fds, built when first needed."""


class _Relay(asyncio.BufferedProtocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self.fd: int = transport.get_extra_info("socket").fileno()
        self.rest = b""
        self.transport.write(b"* welcome\n")

    def get_buffer(self, sizehint: int) -> memoryview:
        return _buffer

    def buffer_updated(self, nbytes: int) -> None:
        *lines, self.rest = (self.rest + _buffer[:nbytes].tobytes()).split(b"\n")
        for line in lines:
            if line == b"/help":
                self.transport.write(b"* /help lists the commands:\n")
                _members[id(self)] = self.fd
                _others.clear()
            else:
                others = _others.get(id(self))
                if others is None:
                    others = [fd for key, fd in _members.items() if key != id(self)]
                    _others[id(self)] = others
                list(map(os.write, others, repeat(b"<s> " + line + b"\n")))

    def connection_lost(self, exc: Exception | None) -> None:
        _members.pop(id(self), None)
        _others.clear()


async def _serve(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(_Relay, "127.0.0.1", port, backlog=1024)
    print(f"relay listening on 127.0.0.1:{server.sockets[0].getsockname()[1]}", file=sys.stderr)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()


if __name__ == "__main__":
    argv = sys.argv[1:]
    port = int(argv[argv.index("--port") + 1]) if "--port" in argv else 0
    with asyncio.Runner(loop_factory=event_loop_factory()) as runner:  # walkie server's loop
        runner.run(_serve(port))
