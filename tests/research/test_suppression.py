"""Secondary suppression, checked by brute force: for small tables, every table of non-negative counts
that agrees with everything published (shown cells, totals, statistics) is enumerated, and each
hidden cell must still have at least two possible values."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from app.research.suppression import figures, primary, scale_row, suppress

K = 3


def _possible_1d(values: Sequence[int], hidden: set[int], *, with_figures: bool) -> list[set[int]]:
    order = sorted(hidden)
    total = sum(values)
    remaining = total - sum(v for i, v in enumerate(values) if i not in hidden)
    published = figures(values) if with_figures else None
    seen: list[set[int]] = [set() for _ in order]
    for guess in itertools.product(range(remaining + 1), repeat=len(order)):
        if sum(guess) != remaining:
            continue
        trial = list(values)
        for i, v in zip(order, guess, strict=True):
            trial[i] = v
        if with_figures and figures(trial) != published:
            continue
        for s, v in zip(seen, guess, strict=True):
            s.add(v)
    return seen


class TestOneWay:
    def test_a_lone_small_cell_takes_another_with_it(self) -> None:
        assert suppress([4, 2, 0], [[0, 1, 2]], K) == {0, 1}

    def test_zero_is_shown_and_used_only_when_nothing_else_is_left(self) -> None:
        assert suppress([0, 2, 9], [[0, 1, 2]], K) == {1, 2}
        assert 0 not in suppress([0, 2, 9], [[0, 1, 2]], K)

    def test_two_small_cells_whose_sum_is_below_k_take_a_third(self) -> None:
        assert suppress([1, 1, 7, 8], [[0, 1, 2, 3]], K) == {0, 1, 2}

    def test_without_a_published_total_only_small_cells_hide(self) -> None:
        assert suppress([4, 2, 0], [], K) == {1}

    @settings(max_examples=150, derandomize=True, deadline=None)
    @given(st.lists(st.integers(min_value=0, max_value=6), min_size=2, max_size=5))
    def test_no_hidden_count_is_recoverable_from_the_total(self, values: list[int]) -> None:
        hidden = suppress(values, [list(range(len(values)))], K)
        assert {i for i, v in enumerate(values) if primary(v, K)} <= hidden
        if hidden and len(hidden) < len(values):
            for possible in _possible_1d(values, hidden, with_figures=False):
                assert len(possible) >= 2, (values, hidden)

    @settings(max_examples=80, derandomize=True, deadline=None)
    @given(st.lists(st.integers(min_value=0, max_value=5), min_size=5, max_size=5))
    def test_scale_statistics_are_shown_only_when_they_keep_hidden_cells_hidden(
        self, values: list[int]
    ) -> None:
        if sum(values) < K:
            return
        hidden, show = scale_row(values, K)
        if hidden and show:
            for possible in _possible_1d(values, hidden, with_figures=True):
                assert len(possible) >= 2, (values, hidden)


class TestTwoWay:
    """A ranking's table: each option's row adds up to n, and so does each place's column."""

    @staticmethod
    def _tables(n: int, size: int) -> list[list[list[int]]]:
        # Every table of `size` options ranked by n people: a multiset of n permutations.
        perms = list(itertools.permutations(range(size)))
        out = []
        for combo in itertools.combinations_with_replacement(range(len(perms)), n):
            table = [[0] * size for _ in range(size)]
            for p in combo:
                for place, option in enumerate(perms[p]):
                    table[option][place] += 1
            out.append(table)
        return out

    def test_no_hidden_cell_of_a_ranking_is_recoverable_from_row_and_column_totals(self) -> None:
        size = 3
        for n in (3, 4, 5):
            tables = self._tables(n, size)
            distinct = {tuple(map(tuple, t)) for t in tables}
            for table in distinct:
                flat = [v for row in table for v in row]
                groups = [list(range(r * size, (r + 1) * size)) for r in range(size)]
                groups += [[r * size + p for r in range(size)] for p in range(size)]
                hidden = suppress(flat, groups, K)
                if not hidden or len(hidden) == len(flat):
                    continue
                # Every table (of any counts with these margins) agreeing on the shown cells.
                seen: dict[int, set[int]] = {i: set() for i in hidden}
                for other in distinct:
                    other_flat = [v for row in other for v in row]
                    if all(other_flat[i] == flat[i] for i in range(len(flat)) if i not in hidden):
                        for i in hidden:
                            seen[i].add(other_flat[i])
                for i, values in seen.items():
                    assert len(values) >= 2, (table, sorted(hidden), i)
