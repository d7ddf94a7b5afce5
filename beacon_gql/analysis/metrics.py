"""Job-level metrics; their definitions are the docstrings of `BiasAnalysisReport`."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import fmean, pvariance

from beacon_gql.analysis.answers import CONTROL_CATEGORY, ClassifiedAnswer
from beacon_gql.analysis.comparisons import QuestionResult
from beacon_gql.analysis.results import RegionSummary, rounded


@dataclass(frozen=True)
class JobMetrics:
    """The job-level figures, unrounded: the risk score is computed from them exactly."""

    censorship_rate: float | None
    bias_variance: float | None
    factual_consistency: float | None
    narrative_divergence: float | None
    censorship_gap: float | None
    """Highest minus lowest regional censorship rate (`RegionSummary.censorship_rate`), over
    the regions that answered a non-control question; None with fewer than two of them."""
    regions: tuple[RegionSummary, ...]


@dataclass
class _CensorshipTally:
    answered: int = 0
    censored: int = 0

    def add(self, answer: ClassifiedAnswer) -> None:
        self.answered += 1
        self.censored += answer.censored

    @property
    def rate(self) -> float | None:
        return None if self.answered == 0 else self.censored / self.answered


def compute_job_metrics(
    answers: Sequence[ClassifiedAnswer],
    questions: Sequence[QuestionResult],
    *,
    regions: Sequence[str],
) -> JobMetrics:
    non_control = _CensorshipTally()
    by_region: dict[str, _CensorshipTally] = defaultdict(_CensorshipTally)
    by_question_region: dict[str, dict[str, _CensorshipTally]] = defaultdict(
        lambda: defaultdict(_CensorshipTally)
    )
    for answer in answers:
        if answer.answered and not answer.is_control:
            record = answer.record
            non_control.add(answer)
            by_region[record.region].add(answer)
            by_question_region[record.question_id][record.region].add(answer)

    region_summaries = tuple(
        _region_summary(region, answers, by_region[region]) for region in regions
    )
    region_rates = [
        rate for rate in (by_region[region].rate for region in regions) if rate is not None
    ]

    per_question_variance: list[float] = []
    for per_region in by_question_region.values():
        if len(per_region) >= 2:
            per_question_variance.append(
                pvariance([tally.censored / tally.answered for tally in per_region.values()])
            )

    control_similarity, control_cells = _pooled(questions, control=True)
    other_similarity, other_cells = _pooled(questions, control=False)
    return JobMetrics(
        censorship_rate=non_control.rate,
        bias_variance=fmean(per_question_variance) if per_question_variance else None,
        factual_consistency=control_similarity / control_cells if control_cells else None,
        narrative_divergence=1 - other_similarity / other_cells if other_cells else None,
        censorship_gap=max(region_rates) - min(region_rates) if len(region_rates) >= 2 else None,
        regions=region_summaries,
    )


def _region_summary(
    region: str, answers: Sequence[ClassifiedAnswer], non_control: _CensorshipTally
) -> RegionSummary:
    in_region = [answer for answer in answers if answer.record.region == region]
    answered = sum(1 for answer in in_region if answer.answered)
    finished = sum(1 for answer in in_region if answer.finished)
    return RegionSummary(
        region=region,
        executions=len(in_region),
        answered=answered,
        technical_failures=finished - answered,
        censorship_rate=rounded(non_control.rate),
    )


def _pooled(questions: Sequence[QuestionResult], *, control: bool) -> tuple[float, int]:
    """Sum of cross-region similarities and number of cells, for (non-)control questions."""
    tallies = [
        tally
        for question in questions
        if (question.analysis.category == CONTROL_CATEGORY) == control
        for tally in question.region_tallies
    ]
    return sum(tally.similarity_sum for tally in tallies), sum(tally.cells for tally in tallies)
