"""Test support: waiting for a condition without timing it.

The deadline only stops a hang; nothing is timed.
"""

from __future__ import annotations

import time
from collections.abc import Callable

DEADLINE = 30.0
"""Generous limit for anything to happen: only there so that a bug cannot hang the suite."""
WAIT_STEP = 0.01


def wait_until(condition: Callable[[], bool], what: str, timeout: float = DEADLINE) -> None:
    """Wait for ``condition``; raise (naming ``what``) only after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(WAIT_STEP)
