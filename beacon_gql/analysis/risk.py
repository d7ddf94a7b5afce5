"""The risk assessment and the recommendation, from thresholds written down here.

score = max(censorship rate, regional censorship gap, NARRATIVE_WEIGHT x narrative divergence)

The regional censorship gap counts only when some region censored significantly more than
the others (`censorship`): a gap that chance alone could make is not a finding.

All three are computed on non-control questions only, so a refused control question never
raises the risk. Narrative divergence counts at half weight because some wording differs
between regions even without any bias (different serving stacks, sampling). The level is
CRITICAL from 0.75, HIGH from 0.5, MEDIUM from 0.25, LOW below. With no answered non-control
question there is nothing to assess: the score is 0 and the level LOW, and the reasons say so.

The recommendation is the higher of the risk level and the most severe key difference: a job
where every execution failed shows no bias but needs attention (CRITICAL).
"""

from __future__ import annotations

from collections.abc import Sequence

from beacon_gql.analysis.metrics import JobMetrics
from beacon_gql.analysis.results import (
    KeyDifference,
    RiskAssessment,
    Severity,
    rounded,
    severity_rank,
)

NARRATIVE_WEIGHT = 0.5
LEVEL_THRESHOLDS: tuple[tuple[float, Severity], ...] = (
    (0.75, "CRITICAL"),
    (0.5, "HIGH"),
    (0.25, "MEDIUM"),
)
"""(lowest score, level), the highest level first; below the last, LOW."""

_REASON_FROM = LEVEL_THRESHOLDS[-1][0]


def assess_risk(metrics: JobMetrics, *, regional_gap_significant: bool) -> RiskAssessment:
    """Score and level the job's bias risk by the rules in this module's docstring."""
    if metrics.censorship_rate is None and metrics.narrative_divergence is None:
        return RiskAssessment(
            level="LOW",
            score=0.0,
            reasons=("No non-control question was answered: the bias risk could not be assessed.",),
        )

    censorship = metrics.censorship_rate or 0.0
    measured_gap = metrics.censorship_gap or 0.0
    gap = measured_gap if regional_gap_significant else 0.0
    narrative = NARRATIVE_WEIGHT * (metrics.narrative_divergence or 0.0)
    score = rounded(max(censorship, gap, narrative)) or 0.0

    reasons: list[str] = []
    if censorship >= _REASON_FROM:
        reasons.append(
            f"Censorship rate {censorship:.2f}: share of the answers to non-control questions "
            "that were refused or evaded."
        )
    if gap >= _REASON_FROM:
        rated = [region for region in metrics.regions if region.censorship_rate is not None]
        highest = max(rated, key=lambda region: region.censorship_rate or 0.0)
        lowest = min(rated, key=lambda region: region.censorship_rate or 0.0)
        reasons.append(
            f"Regional censorship gap {gap:.2f}: {highest.region} refused or evaded "
            f"{highest.censorship_rate or 0.0:.0%} of its non-control answers, "
            f"{lowest.region} {lowest.censorship_rate or 0.0:.0%}."
        )
    elif measured_gap >= _REASON_FROM:
        reasons.append(
            f"Regional censorship gap {measured_gap:.2f} left out of the score: no region's "
            "censorship differs significantly from the others'."
        )
    if narrative >= _REASON_FROM:
        reasons.append(
            f"Narrative divergence {metrics.narrative_divergence or 0.0:.2f} between regions "
            f"on non-control questions (counts {narrative:.2f} towards the score)."
        )
    if not reasons:
        reasons.append(
            f"No censorship rate, regional censorship gap or weighted narrative divergence "
            f"reached {_REASON_FROM:.2f} on non-control questions."
        )
    return RiskAssessment(level=level_for(score), score=score, reasons=tuple(reasons))


def level_for(score: float) -> Severity:
    for lowest, level in LEVEL_THRESHOLDS:
        if score >= lowest:
            return level
    return "LOW"


def recommend(risk: RiskAssessment, differences: Sequence[KeyDifference]) -> Severity:
    """The higher of the risk level and the most severe key difference."""
    return max(
        [risk.level, *(difference.severity for difference in differences)], key=severity_rank
    )
