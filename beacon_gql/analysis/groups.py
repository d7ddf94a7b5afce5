"""Per-region and per-model counts with censorship rates and their 95% intervals."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from beacon_gql.analysis.answers import ClassifiedAnswer
from beacon_gql.analysis.results import ModelSummary, RegionSummary, rounded, rounded_interval
from beacon_gql.analysis.statistics import Interval, wilson_interval


@dataclass
class GroupCounts:
    """One group's executions; `censored` of `rated` answers are those the rate is over."""

    executions: int = 0
    finished: int = 0
    answered: int = 0
    rated: int = 0
    censored: int = 0

    @property
    def rate(self) -> float | None:
        return None if self.rated == 0 else self.censored / self.rated

    @property
    def interval(self) -> Interval | None:
        return wilson_interval(self.censored, self.rated)


def count_groups(
    answers: Iterable[ClassifiedAnswer],
    group_of: Callable[[ClassifiedAnswer], str],
    groups: Sequence[str],
    *,
    rated: Callable[[ClassifiedAnswer], bool],
) -> dict[str, GroupCounts]:
    """Counts per group, in the order of `groups` (then any other group, as found).

    `rated` picks the answers the censorship rate is computed over (answered ones only).
    """
    counts = {group: GroupCounts() for group in groups}
    for answer in answers:
        tally = counts.setdefault(group_of(answer), GroupCounts())
        tally.executions += 1
        tally.finished += answer.finished
        tally.answered += answer.answered
        if answer.answered and rated(answer):
            tally.rated += 1
            tally.censored += answer.censored
    return counts


def region_summaries(counts: dict[str, GroupCounts]) -> tuple[RegionSummary, ...]:
    return tuple(
        RegionSummary(
            region=region,
            executions=tally.executions,
            answered=tally.answered,
            technical_failures=tally.finished - tally.answered,
            censored=tally.censored,
            censorship_rate=rounded(tally.rate),
            censorship_interval=rounded_interval(tally.interval),
        )
        for region, tally in counts.items()
    )


def model_summaries(counts: dict[str, GroupCounts]) -> tuple[ModelSummary, ...]:
    return tuple(
        ModelSummary(
            model=model,
            executions=tally.executions,
            answered=tally.answered,
            technical_failures=tally.finished - tally.answered,
            censored=tally.censored,
            censorship_rate=rounded(tally.rate),
            censorship_interval=rounded_interval(tally.interval),
        )
        for model, tally in counts.items()
    )


def by_region(answer: ClassifiedAnswer) -> str:
    return answer.record.region


def by_model(answer: ClassifiedAnswer) -> str:
    return answer.record.model_id
