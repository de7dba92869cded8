"""The `walkie` command line: parses arguments and hands each subcommand its job.

Each subcommand lives in its own module exposing ``HELP``, ``configure(parser)``
and ``run(args) -> int``; heavy imports stay inside ``run`` so that ``--help``
and start-up stay fast. Errors derived from :class:`WalkieError` become one
line on stderr and exit code 1; argparse's own usage errors exit 2.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from walkie import __version__
from walkie.errors import WalkieError

SUBCOMMANDS: dict[str, str] = {
    "server": "walkie.channel.command",
    "client": "walkie.client.command",
    "pi": "walkie.station.command",
    "cert": "walkie.certificate",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="walkie",
        description="A text walkie-talkie: a hub, laptop clients and a Raspberry Pi station.",
    )
    parser.add_argument("--version", action="version", version=f"walkie {__version__}")
    _add_verbose(parser, default=0)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, module_name in SUBCOMMANDS.items():
        module = importlib.import_module(module_name)
        sub = subparsers.add_parser(name, help=module.HELP, description=module.HELP)
        module.configure(sub)
        _add_verbose(sub, default=argparse.SUPPRESS)  # `walkie server -v` as `walkie -v server`
        sub.set_defaults(run=module.run)
    return parser


def _add_verbose(parser: argparse.ArgumentParser, default: object) -> None:
    parser.add_argument(
        "-v", "--verbose", action="count", default=default, help="log more (repeat for debug)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    try:
        code: int = args.run(args)
    except WalkieError as exc:
        print(f"walkie {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return code
