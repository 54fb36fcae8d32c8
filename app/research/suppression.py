"""Small-count suppression for export summaries (ETHICS 11).

Primary: a count from 1 to k-1 is shown as `*`. Secondary: wherever cells add up to a total that is
published (a scale statement's ratings add up to its n; a single-choice question's options add up to
its n; a ranking's table adds up along each option and along each place), a group holding hidden
cells holds at least two, whose sum is at least k, so subtraction recovers neither a cell nor a small
sum. Further cells are hidden smallest first (non-zero before zero), until every group holds.

Statistics computed from the counts (mean, sd, median, % in the top two) are more equations over the
same cells. A scale row with hidden cells keeps them only when an exhaustive search over every table
consistent with what is published still leaves each hidden cell at least two possible values;
otherwise (or when the search would pass `SEARCH_LIMIT` tables) the statistics are `*`. With a few
points and small counts they nearly always pin the cells down, so a row with a hidden cell usually
shows its n and counts only; the named team computes what it needs from responses.csv. A ranking row
with hidden cells hides its statistics (its table has totals both ways)."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

SUPPRESSED = "*"
# Tables a search may visit before it gives up and hides the statistics instead.
SEARCH_LIMIT = 20_000


def primary(value: int, k: int) -> bool:
    """A count that may not be shown: 1 to k-1 (0 is shown: nobody is in it)."""
    return 0 < value < k


def suppress(values: Sequence[int], groups: Sequence[Sequence[int]], k: int) -> set[int]:
    """The indexes of `values` to hide: primary, then secondary within each group (indexes of cells
    whose sum is published)."""
    hidden = {i for i, v in enumerate(values) if primary(v, k)}
    changed = True
    while changed:
        changed = False
        for group in groups:
            inside = [i for i in group if i in hidden]
            if not inside or len(inside) == len(group):
                continue
            if len(inside) >= 2 and sum(values[i] for i in inside) >= k:
                continue
            shown = [i for i in group if i not in hidden]
            # Smallest non-zero first: it hides least and, being non-zero, makes the hidden sum ambiguous.
            pick = min(shown, key=lambda i: (values[i] == 0, values[i], i))
            hidden.add(pick)
            changed = True
    return hidden


@dataclass(frozen=True, slots=True)
class Figures:
    """A rating's published statistics, rounded as the CSV writes them."""

    mean: str
    sd: str
    median: str
    top_two_pct: str


def figures(counts: Sequence[int]) -> Figures | None:
    """Mean, sample sd, median and % in the top two points of ratings 1..len(counts); None for none."""
    n = sum(counts)
    if n == 0:
        return None
    mean = sum(point * c for point, c in enumerate(counts, start=1)) / n
    if n > 1:
        square = sum((point - mean) ** 2 * c for point, c in enumerate(counts, start=1))
        sd = f"{math.sqrt(square / (n - 1)):.2f}"
    else:
        sd = ""
    median = _median(counts, n)
    top = sum(counts[-2:]) / n * 100
    return Figures(mean=f"{mean:.2f}", sd=sd, median=_number(median), top_two_pct=f"{top:.1f}")


def _median(counts: Sequence[int], n: int) -> float:
    def at(position: int) -> int:
        seen = 0
        for point, c in enumerate(counts, start=1):
            seen += c
            if seen > position:
                return point
        return len(counts)

    return (at((n - 1) // 2) + at(n // 2)) / 2


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def _compositions(total: int, parts: int) -> Iterator[tuple[int, ...]]:
    if parts == 1:
        yield (total,)
        return
    for first in range(total + 1):
        for rest in _compositions(total - first, parts - 1):
            yield (first, *rest)


def figures_keep_cells_hidden(counts: Sequence[int], hidden: set[int]) -> bool:
    """Whether publishing `figures(counts)` beside the shown cells and n leaves every hidden cell at
    least two possible values (an exhaustive search); False when the search would be too long."""
    if not hidden:
        return True
    published = figures(counts)
    order = sorted(hidden)
    remaining = sum(counts[i] for i in order)
    if math.comb(remaining + len(order) - 1, len(order) - 1) > SEARCH_LIMIT:
        return False
    possible: list[set[int]] = [set() for _ in order]
    trial = list(counts)
    for values in _compositions(remaining, len(order)):
        for i, v in zip(order, values, strict=True):
            trial[i] = v
        if figures(trial) == published:
            for seen, v in zip(possible, values, strict=True):
                seen.add(v)
    return all(len(seen) >= 2 for seen in possible)


def scale_row(counts: Sequence[int], k: int) -> tuple[set[int], bool]:
    """The cells of one rated statement to hide, and whether its statistics may be shown beside them
    (the caller hides the whole row when its n is below k)."""
    hidden = suppress(counts, [list(range(len(counts)))], k)
    return hidden, figures_keep_cells_hidden(counts, hidden)
