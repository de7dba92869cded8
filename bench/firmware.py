"""Part 5: the firmware's flash and static RAM, as `make -C firmware size`
reports them (avr-size -A: flash = .text + .data, RAM = .data + .bss + .noinit)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from bench.report import Section

FIRMWARE_DIR = Path(__file__).resolve().parents[1] / "firmware"
MAKE_TIMEOUT = 300.0
UNO_FLASH = 32_256  # 32 KiB minus the 512-byte Optiboot bootloader
UNO_RAM = 2_048
_SIZE_LINE = re.compile(
    r"^(?P<name>.+): flash (?P<flash>\d+) of (?P<flash_max>\d+) bytes, "
    r"static RAM (?P<ram>\d+) of (?P<ram_max>\d+) bytes$"
)


def run(quick: bool) -> Section:
    result = subprocess.run(
        ["make", "-s", "-C", str(FIRMWARE_DIR), "size"],
        capture_output=True,
        text=True,
        timeout=MAKE_TIMEOUT,
        check=False,
    )
    section = Section(
        "5. Firmware size (ATmega328P, Arduino Uno)",
        ["build", "flash", "static RAM", "method"],
    )
    for line in result.stdout.splitlines():
        match = _SIZE_LINE.match(line.strip())
        if match is None:
            continue
        flash, ram = int(match["flash"]), int(match["ram"])
        section.add(
            match["name"],
            f"{flash:,} B ({flash / UNO_FLASH:.0%} of the Uno's {UNO_FLASH:,}; "
            f"budget {int(match['flash_max']):,})",
            f"{ram:,} B ({ram / UNO_RAM:.0%} of {UNO_RAM:,}; budget {int(match['ram_max']):,})",
            "`make -C firmware size`: avr-size -A on the LTO build; flash = .text + .data, "
            "RAM = .data + .bss + .noinit (the stack comes on top)",
        )
    if not section.rows:
        raise RuntimeError(f"make -C firmware size printed no sizes: {result.stderr.strip()}")
    return section
