"""`bench/run [PART ...] [--quick]`: run the benchmarks, print Markdown tables."""

from __future__ import annotations

import argparse
import platform
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from bench.loadgen import GENERATOR_LOOPS
from bench.report import Section, failed

PARTS = ("hub", "lcd", "serial", "footprint", "firmware")


def machine() -> str:
    """One line naming the machine: cores, CPU model, Python."""
    model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    import os

    return (
        f"{os.cpu_count()} cores, {model}, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}"
    )


def _runner(part: str, args: argparse.Namespace) -> Callable[[], Section]:
    quick: bool = args.quick
    if part == "hub":
        from bench import hub

        return lambda: hub.run(quick, args.walkie_src, args.phases, args.relay, args.generator_loop)
    if part == "lcd":
        from bench import lcd

        return lambda: lcd.run(quick)
    if part == "serial":
        from bench import serial_stream

        return lambda: serial_stream.run(quick)
    if part == "footprint":
        from bench import footprint

        return lambda: footprint.run(quick)
    from bench import firmware

    return lambda: firmware.run(quick)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/run", description=__doc__)
    parser.add_argument("parts", nargs="*", metavar="PART", help=f"any of {', '.join(PARTS)}")
    parser.add_argument("--quick", action="store_true", help="smaller runs, about a minute")
    parser.add_argument(
        "--walkie-src",
        metavar="DIR",
        default=None,
        help="run the hub from another walkie source tree (DIR/pi), e.g. a patched copy",
    )
    parser.add_argument(
        "--phases",
        action="store_true",
        help="also time the phases of the walkie hub's path from a read to its first send",
    )
    parser.add_argument(
        "--relay",
        action="store_true",
        help="run a bare asyncio relay (bench/relay.py) in walkie's place: the floor under it",
    )
    parser.add_argument(
        "--generator-loop",
        choices=GENERATOR_LOOPS,
        default="uvloop",
        help="the hub load generator's event loop (default uvloop where installed): "
        "asyncio's own reproduces the figures before 2026-12-02",
    )
    args = parser.parse_args(argv)
    unknown = [part for part in args.parts if part not in PARTS]
    if unknown:
        parser.error(f"unknown part {unknown[0]!r}; choose from {', '.join(PARTS)}")
    parts = args.parts or list(PARTS)
    started = time.monotonic()
    print(f"walkie bench{' --quick' if args.quick else ''} on {machine()}\n", flush=True)
    status = 0
    for part in parts:
        part_started = time.monotonic()
        try:
            section = _runner(part, args)()
        except Exception as error:  # one broken part must not hide the others
            traceback.print_exc(file=sys.stderr)
            section = failed(part, f"{type(error).__name__}: {error}")
            status = 1
        print(section.markdown(), flush=True)
        print(f"({part}: {time.monotonic() - part_started:.0f} s)\n", flush=True)
    print(f"total {time.monotonic() - started:.0f} s", flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
