"""A token bucket: how many lines a station may send, with time passed in."""

from __future__ import annotations


class TokenBucket:
    """``burst`` tokens at most, refilled at ``rate`` per second; rate 0 means unlimited."""

    def __init__(self, rate: float, burst: int, now: float) -> None:
        self.rate = rate
        self.burst = max(1, burst)
        self._tokens = float(self.burst)
        self._updated = now

    @property
    def unlimited(self) -> bool:
        return self.rate <= 0

    def take(self, now: float) -> bool:
        """Take one token if there is one; False means the caller must wait."""
        if self.unlimited:
            return True
        self._refill(now)
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False

    def seconds_until_token(self, now: float) -> float:
        """How long until :meth:`take` will succeed."""
        if self.unlimited:
            return 0.0
        self._refill(now)
        return max(0.0, (1.0 - self._tokens) / self.rate)

    def _refill(self, now: float) -> None:
        elapsed = max(0.0, now - self._updated)
        self._updated = now
        self._tokens = min(float(self.burst), self._tokens + elapsed * self.rate)
