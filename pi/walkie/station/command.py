"""`walkie pi`: the Pi station daemon (or, with --simulate, the same daemon
against the board simulator and mock GPIO)."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from pathlib import Path

from walkie.address import DEFAULT_PORT
from walkie.argtypes import port_number
from walkie.station.config import DEFAULT_CONFIG_PATH, StationConfig

SIMULATED_LCDS = ("16x2", "20x4")

HELP = "run the Raspberry Pi station: channel, Arduino LCD and PTT button, GPIO button and LED"

EPILOG = """\
with --simulate, the keys are: a = press/release the Arduino's PTT button,
p = press/release the Pi's GPIO button, q = quit. When stdin is not a
terminal, send the same letters as lines (or "press arduino", "release pi").
"""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument(
        "--config",
        metavar="FILE",
        type=Path,
        default=None,
        help=f"TOML config file (default {DEFAULT_CONFIG_PATH}, if it exists)",
    )
    parser.add_argument(
        "--simulate",
        action="store_true",
        help="run against the board simulator (the real firmware) and mock GPIO",
    )
    parser.add_argument(
        "--lcd",
        choices=SIMULATED_LCDS,
        default=None,
        help="with --simulate: the LCD's size, and the firmware built for it (default 16x2)",
    )
    parser.add_argument(
        "--port",
        type=port_number,
        default=None,
        help=f"TCP port of the hub this station serves (server role; default {DEFAULT_PORT})",
    )
    parser.add_argument(
        "--role",
        choices=("server", "client"),
        default=None,
        help="host the channel here (the default), or join a hub elsewhere",
    )
    parser.add_argument(
        "--hub", metavar="HOST[:PORT]", default=None, help="join this hub (implies --role client)"
    )
    parser.add_argument("--nick", default=None, help="this station's nick (default pi)")
    parser.add_argument(
        "--serial",
        metavar="PORT",
        default=None,
        help="the Arduino's serial port (default: auto-detect)",
    )


def run(args: argparse.Namespace) -> int:
    from walkie.logs import use_journal_levels

    use_journal_levels()
    config = station_config(args)
    from walkie import eventloop

    cols, rows = (int(n) for n in (args.lcd or SIMULATED_LCDS[0]).split("x"))
    eventloop.run(_main(config, simulate=args.simulate, lcd_size=(cols, rows)))
    return 0


async def _main(config: StationConfig, *, simulate: bool, lcd_size: tuple[int, int]) -> None:
    from walkie.channel.server import Hub
    from walkie.station.daemon import Station

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)

    def announce(hub: Hub) -> None:
        print(f"walkie hub listening on {hub.describe()}", file=sys.stderr, flush=True)

    if simulate:
        from walkie.station.simulate import run_simulated

        await run_simulated(config, stop, on_hub_ready=announce, lcd_size=lcd_size)
    else:
        await Station(config, on_hub_ready=announce).run(stop)


def station_config(args: argparse.Namespace) -> StationConfig:
    """The config file (or none) with the command line's flags over it, checked."""
    from walkie.errors import ConfigError
    from walkie.station.config import load_config, with_overrides
    from walkie.text import NICK_RULE, is_valid_nick

    if args.nick is not None and not is_valid_nick(args.nick):
        raise ConfigError(f"invalid nick {args.nick!r}: {NICK_RULE}")
    if args.lcd is not None and not args.simulate:
        raise ConfigError("--lcd is for --simulate: a real board reports its LCD's size")
    if args.hub is not None and args.role == "server":
        raise ConfigError("--hub joins a hub elsewhere: not with --role server")
    config = with_overrides(
        load_config(args.config),
        role=args.role,
        nick=args.nick,
        port=args.port,
        hub=args.hub,
        serial=args.serial,
    )
    if args.role == "client" and not config.client.hub:
        raise ConfigError("--role client needs --hub HOST[:PORT] or client.hub in the config")
    if args.port is not None and config.role == "client":
        raise ConfigError("--port is for the hub a server-role station runs: give --hub HOST:PORT")
    if config.role == "server" and config.client.hub and args.role is None:
        # The file alone says both (a client.hub alone would make a client):
        # a flag may settle it, but nothing may be ignored without a word.
        raise ConfigError(
            f"{args.config or DEFAULT_CONFIG_PATH}: client.hub: a server-role station joins"
            ' no hub (set role = "client" to join it, or leave client.hub out)'
        )
    return config
