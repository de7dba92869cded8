"""Reconnect timing: exponential backoff with jitter, as a pure object.

The first retry comes within a second (SPEC §5), later ones back off
exponentially with random jitter, never waiting more than :data:`MAX_DELAY`.
The random source is injected so tests are deterministic.
"""

from __future__ import annotations

import random

FIRST_DELAY = 0.5
"""Upper bound of the first retry's delay, in seconds."""
MAX_DELAY = 5.0
"""No retry waits longer than this, in seconds."""
FACTOR = 2.0


class Backoff:
    """Delays between reconnects: ``next_delay()`` after each failure, ``reset()`` on success.

    Attempt *n* (from 0) waits ``min(MAX_DELAY, FIRST_DELAY * FACTOR**n)``
    times a random factor in [0.5, 1] ("equal jitter"), so many clients that
    lost the same hub do not all come back in the same instant.
    """

    def __init__(
        self,
        *,
        first: float = FIRST_DELAY,
        cap: float = MAX_DELAY,
        factor: float = FACTOR,
        rng: random.Random | None = None,
    ) -> None:
        self.first = first
        self.cap = cap
        self.factor = factor
        self._rng = rng or random.Random()
        self._attempt = 0

    def next_delay(self) -> float:
        ceiling = min(self.cap, self.first * self.factor ** min(self._attempt, 32))
        self._attempt += 1
        return ceiling * self._rng.uniform(0.5, 1.0)

    def reset(self) -> None:
        self._attempt = 0
