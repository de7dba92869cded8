"""`walkie client HOST[:PORT]`: argument parsing, then pipe mode or the terminal UI.

With stdin and stdout on a terminal the interactive UI runs
(:mod:`walkie.client.ui`); otherwise pipe mode (:mod:`walkie.client.pipe`).
``HOST[:PORT]`` is read by :mod:`walkie.address`. Bad arguments raise
:class:`~walkie.errors.ConfigError`, which the CLI prints as one line.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from walkie.address import DEFAULT_PORT, format_address, parse_address
from walkie.argtypes import positive_float
from walkie.errors import ConfigError
from walkie.known_hubs import HubSecurity, KnownHubs
from walkie.secrets import read_token

HELP = "join a hub: a line UI on a terminal, or send stdin lines and print received ones"

DEFAULT_DELIVERY_TIMEOUT = 45.0
"""Longer than the hub's default floor timeout (30 s): a line queued behind a held floor
still gets through."""
DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_TERMINAL_HISTORY = 10


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "address", metavar="HOST[:PORT]", help=f"the hub (default port {DEFAULT_PORT})"
    )
    parser.add_argument("--nick", help="wanted nick (the hub picks one when absent or taken)")
    parser.add_argument(
        "--delivery-timeout",
        type=positive_float,
        default=DEFAULT_DELIVERY_TIMEOUT,
        metavar="SECONDS",
        help="pipe mode: after stdin ends, how long to wait for queued lines to be "
        f"acknowledged before failing (default {DEFAULT_DELIVERY_TIMEOUT:g})",
    )
    parser.add_argument(
        "--connect-timeout",
        type=positive_float,
        default=DEFAULT_CONNECT_TIMEOUT,
        metavar="SECONDS",
        help=f"time allowed for each connection attempt (default {DEFAULT_CONNECT_TIMEOUT:g})",
    )
    parser.add_argument(
        "--token-file",
        type=Path,
        default=None,
        metavar="FILE",
        help="the hub's shared token, read from FILE (not world-readable)",
    )
    parser.add_argument(
        "--tls",
        action="store_true",
        help="speak TLS; the hub's certificate is pinned on first use (see --known-hubs)",
    )
    parser.add_argument(
        "--known-hubs",
        type=Path,
        default=None,
        metavar="FILE",
        help="pinned hub certificates (default: known_hubs in the state directory)",
    )
    parser.add_argument(
        "--history",
        type=int,
        default=None,
        metavar="N",
        help="recent messages to show on start (default: "
        f"{DEFAULT_TERMINAL_HISTORY} on a terminal, 0 in pipe mode)",
    )


def run(args: argparse.Namespace) -> int:
    import asyncio

    from walkie.text import NICK_RULE, is_valid_nick

    host, port = parse_address(args.address)
    nick: str | None = args.nick
    if nick is not None and not is_valid_nick(nick):
        raise ConfigError(f"invalid nick {nick!r}: {NICK_RULE}")
    history: int | None = args.history
    if history is not None and not 0 <= history <= 200:
        raise ConfigError(f"--history must be 0-200, not {history}")
    known_hubs = KnownHubs(args.known_hubs)
    if not args.tls:
        known_hubs.refuse_plain_text_to(format_address(host, port))
    security = HubSecurity(
        token=read_token(args.token_file) if args.token_file else None,
        certificate_check=known_hubs.check if args.tls else None,
    )
    # A stream the parent closed (`<&-`) is None: pipe mode, reading nothing.
    if (
        sys.stdin is not None
        and sys.stdin.isatty()
        and sys.stdout is not None
        and sys.stdout.isatty()
    ):
        from walkie.client.ui import run_terminal

        return asyncio.run(
            run_terminal(
                host,
                port,
                nick=nick,
                initial_history=DEFAULT_TERMINAL_HISTORY if history is None else history,
                connect_timeout=args.connect_timeout,
                security=security,
            )
        )
    from walkie.client.pipe import run_pipe

    return asyncio.run(
        run_pipe(
            host,
            port,
            nick=nick,
            initial_history=history or 0,
            delivery_timeout=args.delivery_timeout,
            connect_timeout=args.connect_timeout,
            security=security,
        )
    )
