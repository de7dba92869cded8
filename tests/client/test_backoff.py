"""Reconnect delays: the first retry within a second, never more than five."""

from __future__ import annotations

import random

from walkie.client.backoff import MAX_DELAY, Backoff


def test_the_first_retry_comes_within_a_second() -> None:
    for seed in range(100):
        assert 0 < Backoff(rng=random.Random(seed)).next_delay() <= 1.0


def test_delays_grow_and_are_capped_with_jitter() -> None:
    backoff = Backoff(rng=random.Random(1))
    delays = [backoff.next_delay() for _ in range(50)]
    assert max(delays) <= MAX_DELAY
    assert delays[4] > delays[0]
    assert len(set(delays[10:])) > 1  # jitter: not all the same


def test_reset_starts_again_from_the_short_delay() -> None:
    backoff = Backoff(rng=random.Random(2))
    for _ in range(10):
        backoff.next_delay()
    backoff.reset()
    assert backoff.next_delay() <= 1.0
