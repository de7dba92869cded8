"""What the kernel says about a process: CPU time and resident memory (Linux /proc)."""

from __future__ import annotations

import os
import re
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
_RSS = re.compile(r"VmRSS:\s+(\d+) kB")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of ``pid`` so far (utime + stime in /proc/PID/stat)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    # The command name (field 2) may hold spaces; the fields after it are fixed.
    fields = stat[stat.rindex(")") + 2 :].split()
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / CLOCK_TICKS


def rss_bytes(pid: int) -> int:
    """Resident set size of ``pid``."""
    match = _RSS.search(Path(f"/proc/{pid}/status").read_text())
    return int(match.group(1)) * 1024 if match else 0


def self_cpu_seconds() -> float:
    """CPU time used by this process (all threads)."""
    times = os.times()
    return times.user + times.system
