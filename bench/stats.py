"""Small statistics and formatting helpers shared by the benchmark parts."""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(samples: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile (``fraction`` in 0..1); NaN for no samples."""
    if not samples:
        return math.nan
    ordered = sorted(samples)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def ms(seconds: float) -> str:
    """Seconds as milliseconds with sensible precision."""
    if math.isnan(seconds):
        return "n/a"
    value = seconds * 1000
    if value < 1:
        return f"{value:.3f} ms"
    return f"{value:.2f} ms" if value < 10 else f"{value:.1f} ms"


def per_second(value: float) -> str:
    if math.isnan(value):
        return "n/a"
    if value >= 10_000:
        return f"{value / 1000:,.0f}k/s"
    return f"{value:,.0f}/s"


def microseconds(seconds: float) -> str:
    return "n/a" if math.isnan(seconds) else f"{seconds * 1e6:.2f} µs"


def ratio(a: float, b: float) -> str:
    if math.isnan(a) or math.isnan(b) or b == 0:
        return "n/a"
    return f"{a / b:.2f}"
