"""The open-file limit a hub needs: one descriptor per station, and a few more.

Most systems start a process with a soft limit of 1024 open files (systemd's
default too) under a far higher hard limit. A hub of 4096 stations would
turn newcomers away at about a thousand, without a word: the kernel refuses
the accept. So the hub raises its soft limit as far as it needs, within the
hard one, and says so when even that is too low.
"""

from __future__ import annotations

import logging
import os
import resource

from walkie.errors import ConfigError

log = logging.getLogger(__name__)

SPARE_DESCRIPTORS = 64
"""Open files a hub needs besides its stations: the listening sockets, the
history, the journal, the event loop's own, a station daemon's serial port."""
SELECT_LIMIT = 1024
"""Descriptors select() can watch (FD_SETSIZE). pyserial waits on its port
with select(), so a process with a serial port keeps every descriptor below
it: a Pi station's hub takes at most this many stations, less the spare."""
MAX_STATIONS_BESIDE_A_SERIAL_PORT = SELECT_LIMIT - SPARE_DESCRIPTORS
OPENED_LATER = 16
"""Descriptors a running hub may still open besides its stations (the
history's checkpoints, a serial port coming back, DNS): kept free under a
limit that cannot take every station."""


def allow_stations(max_stations: int) -> int:
    """Raise the soft open-file limit for ``max_stations``; returns how many
    stations the limit now allows (``max_stations`` when all of them)."""
    needed = max_stations + SPARE_DESCRIPTORS
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        raised = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        if raised > soft:
            resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))
            soft = raised
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return max_stations
    allowed = soft - _open_descriptors() - OPENED_LATER
    if allowed < 1:
        raise ConfigError(
            f"the open-file limit ({soft}) leaves no room for stations:"
            " raise it (LimitNOFILE= in the unit, ulimit -n)"
        )
    allowed = min(allowed, max_stations)
    log.warning(
        "the open-file limit (%d) allows about %d stations, not max_stations %d: "
        "raise it (LimitNOFILE= in the unit, ulimit -n) or lower max_stations",
        soft,
        allowed,
        max_stations,
    )
    return allowed


def _open_descriptors() -> int:
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:  # no /proc: count as if the spare were all taken
        return SPARE_DESCRIPTORS - OPENED_LATER
