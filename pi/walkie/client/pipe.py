"""Pipe mode of `walkie client` (stdin not a terminal): lines in, chat lines out.

* Each stdin line is sent as a message (UTF-8; undecodable bytes replaced;
  empty lines skipped).
* **stdout carries chat lines only**, one per received message, as
  ``<nick> text`` — live ones and ones missed while the link was down (replayed
  from the hub's history after a reconnect) alike, each exactly once. Our own
  lines are not echoed.
* **stderr** carries everything else: notices as ``* text``, errors about our
  lines as ``! text``.
* The link reconnects silently; lines read while it is down are delivered
  after reconnecting, once.
* When stdin ends the client exits 0 once every queued line is acknowledged;
  if that takes longer than ``--delivery-timeout`` seconds, or the hub refused
  some lines, it exits non-zero with a one-line error. Failing to connect at
  the start is an error at once (no retries).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import sys
import threading
from typing import BinaryIO, TextIO

from walkie.client.connection import ChannelConnection
from walkie.client.session import Error, Event, Message, NickTaken, Notice
from walkie.errors import WalkieError
from walkie.known_hubs import HubSecurity

MAX_STDIN_LINE = 64 * 1024
"""Bytes of one stdin line that are read whole, the most any hub takes
(``max_line``); of a longer line one byte more is read, which every hub
refuses as too long, and the rest skipped."""
STDIN_QUEUE = 64
"""Lines read ahead from stdin while the outbox is full."""


class LinesRefused(WalkieError):
    """The hub (or the client's own limits) refused some lines."""


async def run_pipe(
    host: str,
    port: int,
    *,
    nick: str | None = None,
    initial_history: int = 0,
    delivery_timeout: float = 30.0,
    connect_timeout: float = 10.0,
    security: HubSecurity | None = None,
    stdin: BinaryIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run pipe mode until stdin ends and its lines are delivered; returns the exit code."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    refused = 0

    def on_event(event: Event) -> None:
        nonlocal refused
        if isinstance(event, NickTaken):
            _write(err, f"* {event.wanted} is taken: you are {event.given}\n")
        elif isinstance(event, Message):
            _write(out, f"<{event.nick}> {event.text}\n")
        elif isinstance(event, Notice):
            _write(err, f"* {event.text}\n")
        elif isinstance(event, Error) and event is not conn.session.fatal:
            # (the fatal one is the line the client ends with)
            if event.message_text is not None:
                refused += 1
            _write(err, f"! {event.text}\n")

    conn = ChannelConnection(
        host,
        port,
        nick=nick,
        on_event=on_event,
        initial_history=initial_history,
        connect_timeout=connect_timeout,
        security=security,
    )
    interrupted_while = ""  # why lines still waited when Ctrl-C came
    try:
        await conn.connect()
        try:
            await _send_stdin(conn, stdin or _stdin())
            if conn.failure is not None:
                raise conn.failure
            await conn.wait_delivered(delivery_timeout)
        except asyncio.CancelledError:  # Ctrl-C, while reading or waiting
            interrupted_while = conn.why_undelivered()
            raise
    finally:
        await conn.close()  # the hub's last words may still acknowledge some
        if interrupted_while and conn.session.outbox:
            _write(err, f"! {conn.undelivered()}: you left with Ctrl-C ({interrupted_while})\n")
    if refused:
        raise LinesRefused(f"{refused} line{'s were' if refused > 1 else ' was'} refused")
    return 0


async def _send_stdin(conn: ChannelConnection, stdin: BinaryIO) -> None:
    """Send each line of ``stdin`` until it ends, or the link does for good."""
    lines = _read_lines_in_thread(stdin)
    link_ended = asyncio.create_task(conn.wait_closed())
    while True:
        next_line = asyncio.create_task(lines.get())
        await asyncio.wait({next_line, link_ended}, return_when=asyncio.FIRST_COMPLETED)
        if not next_line.done():
            next_line.cancel()
            return
        text = next_line.result()
        if text is None:
            return
        await conn.send(text)


def _stdin() -> BinaryIO:
    """Standard input through a file object of its own; an empty one when the
    parent closed it (`<&-`). The reading thread may still wait in it at exit,
    and Python aborts ("could not acquire lock for <stdin>") when it closes
    sys.stdin under a reader."""
    if sys.stdin is None:
        return io.BytesIO()
    try:
        return open(os.dup(sys.stdin.fileno()), "rb")  # the reading thread owns it
    except (OSError, ValueError):  # no descriptor to share: read it as it is
        return sys.stdin.buffer


def _write(stream: TextIO | None, text: str) -> None:
    if stream is None:
        return  # the parent closed it (`>&-`): nobody to tell
    try:
        stream.write(text)
        stream.flush()
    except BrokenPipeError:
        pass  # nobody reads any more; keep delivering what we were given


def _read_lines_in_thread(stream: BinaryIO) -> asyncio.Queue[str | None]:
    """Read ``stream`` line by line in a daemon thread (works for pipes and files alike).

    The queue is bounded, so a huge stdin is read only as fast as lines are
    delivered; ``None`` marks the end. A daemon thread never keeps the
    process alive when it blocks on a stdin that never ends.
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str | None] = asyncio.Queue(STDIN_QUEUE)

    def put(item: str | None) -> None:
        asyncio.run_coroutine_threadsafe(queue.put(item), loop).result()

    def reader() -> None:
        try:
            skipping = False  # inside the tail of an overlong line
            while True:
                chunk = stream.readline(MAX_STDIN_LINE + 1)
                if not chunk:
                    break
                complete = chunk.endswith(b"\n")
                if not skipping:
                    put(chunk.decode("utf-8", errors="replace").rstrip("\r\n"))
                skipping = not complete
        except (OSError, ValueError, RuntimeError):
            pass  # stdin closed or the event loop gone
        with contextlib.suppress(RuntimeError):
            put(None)

    threading.Thread(target=reader, name="walkie stdin", daemon=True).start()
    return queue
