"""Small numeric helpers shared by the harness and the report."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence


def percentile(sorted_values: Sequence[float], pct: float) -> float | None:
    """Nearest-rank percentile of an already sorted sequence; None when it is empty."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(pct / 100.0 * len(sorted_values)))
    return float(sorted_values[min(rank, len(sorted_values)) - 1])


def summarize_ms(values_s: Iterable[float]) -> dict[str, float | int | None]:
    """p50/p95/p99/max (milliseconds) and count of durations given in seconds."""
    ordered = sorted(values_s)
    out: dict[str, float | int | None] = {"count": len(ordered)}
    for name, pct in (("p50", 50.0), ("p95", 95.0), ("p99", 99.0)):
        value = percentile(ordered, pct)
        out[name] = None if value is None else round(value * 1000.0, 2)
    out["max"] = round(ordered[-1] * 1000.0, 2) if ordered else None
    return out


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """numerator / denominator rounded, or None when either is missing or the denominator is 0."""
    if numerator is None or denominator is None or denominator == 0:
        return None
    return round(numerator / denominator, 3)
