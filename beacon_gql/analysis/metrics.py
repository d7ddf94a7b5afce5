"""Job-level metrics; their definitions are the docstrings of `BiasAnalysisReport`."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import fmean, pvariance

from beacon_gql.analysis.answers import CONTROL_CATEGORY, ClassifiedAnswer
from beacon_gql.analysis.comparisons import QuestionResult
from beacon_gql.analysis.groups import (
    by_model,
    by_region,
    count_groups,
    model_summaries,
    region_summaries,
)
from beacon_gql.analysis.results import ModelSummary, RegionSummary


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
    models: tuple[ModelSummary, ...]


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
    by_question_region: dict[str, dict[str, _CensorshipTally]] = defaultdict(
        lambda: defaultdict(_CensorshipTally)
    )
    for answer in answers:
        if answer.answered and not answer.is_control:
            record = answer.record
            non_control.add(answer)
            by_question_region[record.question_id][record.region].add(answer)

    per_region = count_groups(answers, by_region, regions, rate_control=False)
    per_model = count_groups(
        answers, by_model, sorted({a.record.model_id for a in answers}), rate_control=False
    )
    region_rates = [tally.rate for tally in per_region.values() if tally.rate is not None]

    per_question_variance: list[float] = []
    for question_regions in by_question_region.values():
        if len(question_regions) >= 2:
            per_question_variance.append(
                pvariance([t.censored / t.answered for t in question_regions.values()])
            )

    control_similarity, control_cells = _pooled(questions, control=True)
    other_similarity, other_cells = _pooled(questions, control=False)
    return JobMetrics(
        censorship_rate=non_control.rate,
        bias_variance=fmean(per_question_variance) if per_question_variance else None,
        factual_consistency=control_similarity / control_cells if control_cells else None,
        narrative_divergence=1 - other_similarity / other_cells if other_cells else None,
        censorship_gap=max(region_rates) - min(region_rates) if len(region_rates) >= 2 else None,
        regions=region_summaries(per_region),
        models=model_summaries(per_model),
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
