"""`walkie server`: run a channel hub until interrupted."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from walkie import eventloop
from walkie.argtypes import number_in, port_number, whole_number_in
from walkie.channel.ranges import LIMIT_RANGES
from walkie.paths import default_history_db

if TYPE_CHECKING:
    from walkie.channel.server import HubConfig

HELP = "run a channel hub that stations and laptops join"


def configure(parser: argparse.ArgumentParser) -> None:
    defaults = _defaults()
    parser.add_argument(
        "--host",
        default=defaults.host,
        help="address to listen on (default %(default)s; 0.0.0.0 for every interface)",
    )
    parser.add_argument(
        "--port", type=port_number, default=defaults.port, help="TCP port (default %(default)s)"
    )
    parser.add_argument(
        "--history-db",
        type=Path,
        default=None,
        help=f"SQLite history file (default {default_history_db()})",
    )
    parser.add_argument(
        "--max-line",
        type=whole_number_in(*LIMIT_RANGES["max_line"]),
        default=defaults.max_line,
        help="longest message, in bytes of its text (default %(default)s)",
    )
    parser.add_argument(
        "--max-rate",
        type=number_in(*LIMIT_RANGES["max_rate"]),
        default=defaults.max_rate,
        help="lines per second per station, 0 for no limit (default %(default)s)",
    )
    parser.add_argument(
        "--burst",
        type=whole_number_in(*LIMIT_RANGES["burst"]),
        default=defaults.burst,
        help="lines a station may send at once before the rate applies (default %(default)s)",
    )
    parser.add_argument(
        "--max-queued",
        type=whole_number_in(*LIMIT_RANGES["max_queued"]),
        default=defaults.max_queued,
        help="lines per station waiting for the floor (default %(default)s)",
    )
    parser.add_argument(
        "--max-send-buffer",
        type=whole_number_in(*LIMIT_RANGES["max_send_buffer"]),
        default=defaults.max_send_buffer,
        help="bytes of unsent output before a station is dropped (default %(default)s)",
    )
    parser.add_argument(
        "--max-stations",
        type=whole_number_in(*LIMIT_RANGES["max_stations"]),
        default=defaults.max_stations,
        help="connections at most (default %(default)s)",
    )
    parser.add_argument(
        "--token-file",
        type=Path,
        default=None,
        help="require the shared token in this file (not world-readable) before anything else; "
        "default: systemd's credential 'token', if any",
    )
    parser.add_argument(
        "--tls-cert",
        type=Path,
        default=None,
        help="serve TLS with this certificate (see `walkie cert`)",
    )
    parser.add_argument("--tls-key", type=Path, default=None, help="the certificate's private key")
    parser.add_argument(
        "--floor-timeout",
        type=number_in(*LIMIT_RANGES["floor_timeout"]),
        default=defaults.floor_timeout,
        help="seconds a station may hold the floor (default %(default)s)",
    )


def _defaults() -> HubConfig:
    from walkie.channel.server import HubConfig

    return HubConfig()


def config_from_args(args: argparse.Namespace) -> HubConfig:
    from walkie.channel.server import HubConfig
    from walkie.secrets import find_token, optional_tls_context

    return HubConfig(
        token=find_token(args.token_file),
        tls=optional_tls_context(args.tls_cert, args.tls_key, names=("--tls-cert", "--tls-key")),
        host=args.host,
        port=args.port,
        max_line=args.max_line,
        floor_timeout=args.floor_timeout,
        max_queued=args.max_queued,
        max_rate=args.max_rate,
        burst=args.burst,
        max_send_buffer=args.max_send_buffer,
        max_stations=args.max_stations,
    )


def run(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    eventloop.run(_serve(config, args.history_db or default_history_db()))
    return 0


async def _serve(config: HubConfig, history_path: Path) -> None:
    from walkie.channel.history import History
    from walkie.channel.server import Hub

    history = History(history_path)
    hub = Hub(config, history)
    try:
        await hub.start()
        print(f"walkie hub listening on {hub.describe()}", file=sys.stderr, flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await stop.wait()
    finally:
        hub.close()
        history.close()
