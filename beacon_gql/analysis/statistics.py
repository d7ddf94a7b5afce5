"""The few statistics the analysis needs: Wilson intervals, Fisher's exact test, Holm.

Fisher's test is the exact hypergeometric distribution, written out here rather than taken
from SciPy: a dependency of well over 100 MB for one 2 x 2 test would dwarf the package.
The probabilities are computed with log-gamma, not with `math.comb`'s exact integers: those
are exact but cost seconds to a minute on the job-wide tables of a 20,000-execution job,
while log-gamma is exact to about 1e-10 relative, far below what a p-value needs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from math import exp, lgamma, sqrt

Z_95 = 1.959963984540054
"""The standard normal quantile for a two-sided 95% interval."""

SIGNIFICANCE_LEVEL = 0.05

# Tables whose probability equals the observed one within this relative margin count as
# "as extreme": the tolerance R's fisher.test uses against rounding.
_RELATIVE_TOLERANCE = 1e-7


@dataclass(frozen=True)
class Interval:
    """A 95% confidence interval for a proportion."""

    low: float
    high: float


def wilson_interval(successes: int, trials: int, z: float = Z_95) -> Interval | None:
    """Wilson's score interval for `successes` of `trials`; None without any trial.

    Unlike the textbook p +- z*sqrt(p(1-p)/n) it stays inside [0, 1] and does not shrink to
    a point at 0 or n successes, which matters for the small counts of a job.
    """
    if trials <= 0:
        return None
    if not 0 <= successes <= trials:
        raise ValueError(f"successes must be between 0 and {trials}, got {successes}")
    p = successes / trials
    z2 = z * z
    centre = (p + z2 / (2 * trials)) / (1 + z2 / trials)
    half = z * sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials)) / (1 + z2 / trials)
    # At 0 or n successes the bound is exactly 0 or 1; rounding must not move it off.
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == trials else min(1.0, centre + half)
    return Interval(low, high)


def fisher_exact(a: int, b: int, c: int, d: int) -> float:
    """Two-sided p-value of Fisher's exact test on the table [[a, b], [c, d]].

    The p-value is the probability, with the row and column totals fixed, of every table
    at most as probable as the observed one (the "minimum likelihood" definition that R and
    SciPy use).
    """
    if min(a, b, c, d) < 0:
        raise ValueError("a contingency table holds counts, not negative numbers")
    row1, col1, total = a + b, a + c, a + b + c + d
    low, high = max(0, row1 + col1 - total), min(row1, col1)
    if low == high:
        return 1.0
    logs = [_log_comb(col1, x) + _log_comb(total - col1, row1 - x) for x in range(low, high + 1)]
    # Relative to the most probable table, so no weight overflows and the observed one,
    # however improbable, keeps its precision.
    peak = max(logs)
    weights = [exp(value - peak) for value in logs]
    observed = weights[a - low] * (1 + _RELATIVE_TOLERANCE)
    extreme = sum(weight for weight in weights if weight <= observed)
    # Rounded to 10 significant digits, about what log-gamma gets right: an exact 0.1 then
    # reads 0.1, not 0.09999999999997.
    return min(1.0, float(f"{extreme / sum(weights):.10g}"))


def _log_comb(n: int, k: int) -> float:
    return lgamma(n + 1) - lgamma(k + 1) - lgamma(n - k + 1)


def holm_adjust(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjustment: each p-value made comparable to `SIGNIFICANCE_LEVEL`
    whatever the number of tests, with the family-wise error rate kept at that level.

    Returned in the order given. The i-th smallest p is multiplied by (m - i), then made
    non-decreasing along that order and capped at 1.
    """
    m = len(p_values)
    order = sorted(range(m), key=lambda index: p_values[index])
    adjusted = [0.0] * m
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted


def significant(adjusted_p: float | None) -> bool:
    return adjusted_p is not None and adjusted_p < SIGNIFICANCE_LEVEL
