"""An event worth a log line that may come in a flood (wrong tokens, say):
said at once the first time, then at most once per interval, the ones in
between counted in one line with the first few addresses they came from.
Pure: the hub passes the time in and calls back when a summary is due."""

from __future__ import annotations

import math

SOURCES_NAMED = 5
"""Addresses a summary names; past them it says how many others."""


class RepeatedEvent:
    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._said_at = -math.inf
        self._held = 0
        self._sources: dict[str, None] = {}  # in order, at most SOURCES_NAMED
        self._other_sources = False

    def happened(self, source: str, now: float) -> bool:
        """True: say this one now. False: it is held for :meth:`summary`."""
        if not self._held and now - self._said_at >= self.interval:
            self._said_at = now
            return True
        self._held += 1
        if source in self._sources:
            pass
        elif len(self._sources) < SOURCES_NAMED:
            self._sources[source] = None
        else:
            self._other_sources = True
        return False

    @property
    def summary_due(self) -> float | None:
        """When :meth:`summary` has something to say; None while nothing is held."""
        return self._said_at + self.interval if self._held else None

    def summary(self, now: float) -> str | None:
        """How many were held and where they came from; None if none were."""
        if not self._held:
            return None
        sources = ", ".join(self._sources) + (" and others" if self._other_sources else "")
        text = f"{self._held} more in {self.interval:g} s, from {sources}"
        self._said_at, self._held = now, 0
        self._sources, self._other_sources = {}, False
        return text
