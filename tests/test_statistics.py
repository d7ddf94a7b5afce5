"""The statistics behind intervals and significance, against published reference values."""

from __future__ import annotations

import time

import pytest

from beacon_gql.analysis.statistics import (
    Interval,
    fisher_exact,
    holm_adjust,
    significant,
    wilson_interval,
)


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        # R: fisher.test(matrix(c(3, 1, 1, 3), 2)) -- Fisher's tea-tasting lady.
        ((3, 1, 1, 3), 0.4857142857),
        # SciPy's documentation examples for scipy.stats.fisher_exact.
        ((8, 2, 1, 5), 0.0349650350),
        ((6, 2, 1, 4), 0.1025641026),
        # Nothing can differ: one column is empty.
        ((0, 5, 0, 7), 1.0),
        # The most lopsided 2 x 2 of 10 answers each: 1 / C(20, 10) twice.
        ((10, 0, 0, 10), 2 / 184756),
    ],
)
def test_fishers_exact_test_matches_the_reference_values(
    table: tuple[int, int, int, int], expected: float
) -> None:
    assert fisher_exact(*table) == pytest.approx(expected, rel=1e-8)
    # The test is symmetric: swapping the groups changes nothing.
    a, b, c, d = table
    assert fisher_exact(c, d, a, b) == pytest.approx(expected, rel=1e-8)


def test_fishers_exact_test_copes_with_a_20000_execution_job() -> None:
    started = time.perf_counter()
    assert fisher_exact(5000, 5000, 5000, 5000) == pytest.approx(1.0)
    assert 0 < fisher_exact(5200, 4800, 4800, 5200) < 1e-7
    assert fisher_exact(6000, 4000, 4000, 6000) < 1e-100
    assert time.perf_counter() - started < 0.5


def test_wilson_intervals_match_the_textbook_values() -> None:
    six_of_ten = wilson_interval(6, 10)
    assert six_of_ten is not None
    assert (round(six_of_ten.low, 4), round(six_of_ten.high, 4)) == (0.3127, 0.8318)
    # At 0 or n successes the interval still has width, unlike p +- 1.96 sd.
    assert wilson_interval(0, 10) == Interval(0.0, pytest.approx(0.2775328))
    assert wilson_interval(10, 10) == Interval(pytest.approx(0.7224672), 1.0)
    assert wilson_interval(0, 0) is None
    with pytest.raises(ValueError, match="between 0 and 3"):
        wilson_interval(4, 3)


def test_holm_adjusts_step_down_and_keeps_the_order() -> None:
    # Sorted 0.01, 0.03, 0.04 -> 3 x 0.01, 2 x 0.03, then max(0.06, 1 x 0.04).
    assert holm_adjust([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm_adjust([0.5, 0.9]) == [1.0, 1.0]
    assert holm_adjust([]) == []
    assert [significant(p) for p in (0.049, 0.05, None)] == [True, False, False]
