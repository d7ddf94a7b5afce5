"""Censorship differences between regions and between models, tested for significance.

Each group (a region, or a model) is compared with the rest of the job on the same
answers: its refused-or-evaded answers and its other answers against the rest's, in a 2 x 2
table, with Fisher's exact test. The comparisons are made

- per non-control question, every model and sample pooled for a region (every region and
  sample pooled for a model): with one sample per cell this is what can still be pooled;
- over every non-control question together, when the job has at least two of them.

A table is tested only when there is something to find: both sides answered, and the
scope holds at least one censored and one other answer. All the tests of an analysis form
one family: their p-values are Holm-adjusted over it, so the more comparisons a job makes,
the stronger a difference must be to count.

A difference is reported when the group censored more than the rest and either its test
is significant (adjusted p < 0.05) or its rate is at least `REPORTED_GAP` above the rest's.
Severity: significant and at least `HIGH_GAP` above the rest, HIGH; significant, MEDIUM;
not significant, LOW. Control questions ("what is 2 + 2") are never tested: a refusal there
is a glitch, reported as a LOW consistency note under the same gap rule.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from beacon_gql.analysis.answers import ClassifiedAnswer
from beacon_gql.analysis.groups import GroupCounts, by_model, by_region, count_groups
from beacon_gql.analysis.results import KeyDifference, Severity
from beacon_gql.analysis.statistics import fisher_exact, holm_adjust, significant

REPORTED_GAP = 0.25
HIGH_GAP = 0.5

GroupKind = Literal["region", "model"]
GroupOf = Callable[[ClassifiedAnswer], str]

_DIMENSIONS: tuple[tuple[GroupKind, GroupOf, GroupOf], ...] = (
    ("region", by_region, by_model),
    ("model", by_model, by_region),
)
"""(kind, the group an answer belongs to, the other dimension's label of it)."""


@dataclass(frozen=True)
class GroupComparison:
    """One group against the rest, on one question or (question_id None) on all of them."""

    kind: GroupKind
    group: str
    question_id: str | None
    control: bool
    group_counts: GroupCounts
    rest_censored: int
    rest_rated: int
    censoring: tuple[str, ...]
    """The models (for a region) or regions (for a model) where the group censored."""
    phrases: tuple[str, ...]
    testable: bool

    @property
    def gap(self) -> float:
        rate = self.group_counts.rate or 0.0
        return rate - (self.rest_censored / self.rest_rated)

    def p_value(self) -> float:
        counts = self.group_counts
        return fisher_exact(
            counts.censored,
            counts.rated - counts.censored,
            self.rest_censored,
            self.rest_rated - self.rest_censored,
        )


class OtherComparison(Protocol):
    """A comparison made elsewhere (between languages) that joins this family of tests."""

    @property
    def testable(self) -> bool: ...

    def p_value(self) -> float: ...

    def key_difference(self, p_value: float | None, tests: int) -> KeyDifference | None: ...


@dataclass(frozen=True)
class CensorshipFindings:
    differences: tuple[KeyDifference, ...]
    tests: int
    """The size of the Holm family: how many tables were tested."""
    regional_gap_significant: bool
    """Some region censored significantly more than the others."""


def find_censorship_differences(
    answers: Sequence[ClassifiedAnswer],
    *,
    regions: Sequence[str],
    others: Sequence[OtherComparison] = (),
) -> CensorshipFindings:
    """The censorship differences between regions and models, and those of `others`, all
    tested as one Holm family."""
    by_question: dict[str, list[ClassifiedAnswer]] = defaultdict(list)
    for answer in answers:
        by_question[answer.record.question_id].append(answer)
    non_control = [answer for answer in answers if answer.answered and not answer.is_control]
    questions_answered = {answer.record.question_id for answer in non_control}

    comparisons: list[GroupComparison] = []
    if len(questions_answered) >= 2:
        comparisons += _compare(non_control, None, regions, control=False)
    for question_id, group in by_question.items():
        answered = [answer for answer in group if answer.answered]
        control = group[0].is_control
        comparisons += _compare(answered, question_id, regions, control=control)

    tested: list[GroupComparison | OtherComparison] = [
        *(comparison for comparison in comparisons if comparison.testable),
        *(comparison for comparison in others if comparison.testable),
    ]
    adjusted = dict(
        zip(
            (id(comparison) for comparison in tested),
            holm_adjust([comparison.p_value() for comparison in tested]),
            strict=True,
        )
    )
    tests = len(adjusted)
    differences: list[KeyDifference] = []
    regional_gap_significant = False
    for comparison in comparisons:
        p_value = adjusted.get(id(comparison))
        difference = _difference(comparison, p_value, tests, regions)
        if difference is not None:
            differences.append(difference)
            regional_gap_significant |= comparison.kind == "region" and difference.significant
    for other in others:
        difference = other.key_difference(adjusted.get(id(other)), tests)
        if difference is not None:
            differences.append(difference)
    return CensorshipFindings(tuple(differences), tests, regional_gap_significant)


def _compare(
    answered: Sequence[ClassifiedAnswer],
    question_id: str | None,
    regions: Sequence[str],
    *,
    control: bool,
) -> list[GroupComparison]:
    censored_total = sum(answer.censored for answer in answered)
    # Nothing to find when every answer was censored, or none was.
    testable = not control and 0 < censored_total < len(answered)
    comparisons: list[GroupComparison] = []
    for kind, group_of, other_of in _DIMENSIONS:
        order = list(regions) if kind == "region" else sorted({by_model(a) for a in answered})
        counts = count_groups(answered, group_of, order, rate_control=True)
        rated = [(group, tally) for group, tally in counts.items() if tally.rated]
        if len(rated) < 2:
            continue
        censored_in: dict[str, list[ClassifiedAnswer]] = defaultdict(list)
        for answer in answered:
            if answer.censored:
                censored_in[group_of(answer)].append(answer)
        for group, tally in rated:
            censoring_answers = censored_in.get(group, [])
            # For a region, the models that censored in it; for a model, the regions.
            others = {other_of(a) for a in censoring_answers}
            censoring = (
                tuple(sorted(others)) if kind == "region" else tuple(order_regions(regions, others))
            )
            comparisons.append(
                GroupComparison(
                    kind=kind,
                    group=group,
                    question_id=question_id,
                    control=control,
                    group_counts=tally,
                    rest_censored=censored_total - tally.censored,
                    rest_rated=len(answered) - tally.rated,
                    censoring=censoring,
                    phrases=evidence_phrases(censoring_answers),
                    testable=testable,
                )
            )
    return comparisons


def order_regions(regions: Sequence[str], subset: Iterable[str]) -> list[str]:
    wanted = set(subset)
    return [*(r for r in regions if r in wanted), *sorted(wanted - set(regions))]


def _difference(
    comparison: GroupComparison, p_value: float | None, tests: int, regions: Sequence[str]
) -> KeyDifference | None:
    counts = comparison.group_counts
    if counts.censored == 0 or comparison.gap <= 0:
        return None
    is_significant = significant(p_value)
    if not is_significant and comparison.gap < REPORTED_GAP:
        return None
    severity: Severity = "LOW"
    if is_significant:
        severity = "HIGH" if comparison.gap >= HIGH_GAP else "MEDIUM"
    others = "the other regions" if comparison.kind == "region" else "the other models"
    if comparison.question_id is None:
        what = "answers to non-control questions"
        subject = f"{counts.censored} of {counts.rated} of its {what}"
        rest = f"{others} {comparison.rest_censored} of {comparison.rest_rated}"
    else:
        kind = "the control question" if comparison.control else "the question"
        subject = f"{kind} {comparison.question_id} in {counts.censored} of {counts.rated} answers"
        rest = f"{others} in {comparison.rest_censored} of {comparison.rest_rated}"
    by_whom = (
        f" ({', '.join(comparison.censoring)})"
        if comparison.kind == "region"
        else f" (in {', '.join(comparison.censoring)})"
    )
    description = (
        f"{comparison.group} refused or evaded {subject}{by_whom}, "
        f"{format_rate(counts.rate)} (95% CI {format_interval(counts)}); {rest}, "
        f"{format_rate(comparison.rest_censored / comparison.rest_rated)}."
    )
    if p_value is not None:
        verdict = "significant" if is_significant else "not significant"
        description += (
            f" Fisher's exact test: p = {format_p(p_value)} after Holm's adjustment over "
            f"{tests} test{'s' if tests != 1 else ''}, {verdict}."
        )
    evidence = (
        f"{comparison.group}: {counts.censored}/{counts.rated} refused or evaded; "
        f"rest: {comparison.rest_censored}/{comparison.rest_rated}",
        *comparison.phrases,
    )
    group_regions: tuple[str, ...]
    if comparison.kind == "region":
        group_regions, models = (comparison.group,), comparison.censoring
    else:
        group_regions, models = comparison.censoring, (comparison.group,)
    return KeyDifference(
        dimension="consistency" if comparison.control else "censorship",
        severity=severity,
        question_id=comparison.question_id,
        regions=tuple(order_regions(regions, group_regions)),
        models=models,
        description=description,
        evidence=evidence,
        p_value=p_value,
        significant=is_significant,
    )


def format_rate(rate: float | None) -> str:
    return "n/a" if rate is None else f"{rate:.0%}"


def format_interval(counts: GroupCounts) -> str:
    interval = counts.interval
    return "n/a" if interval is None else f"{interval.low:.0%}-{interval.high:.0%}"


def format_p(p_value: float) -> str:
    # Below this the float underflows to 0, which would read as certainty.
    return "< 1e-300" if p_value < 1e-300 else f"{p_value:.2g}"


def evidence_phrases(answers: Iterable[ClassifiedAnswer]) -> tuple[str, ...]:
    phrases: dict[str, None] = {}
    for answer in answers:
        if answer.classification is not None:
            phrases.update(dict.fromkeys(answer.classification.evidence))
    return tuple(phrases)
