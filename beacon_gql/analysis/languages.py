"""The language dimension: a question compared with its translations.

Questions linked by `translation_of` (a translation of a translation too) form a group: the
original and its translations. A group the job asked in at least two languages is compared
by language, with the same 2 x 2 tables and Fisher's exact test as regions and models
(`censorship`): the answers in one language, refused-or-evaded against the others, against
the answers in the group's other languages. The comparisons are made

- per group and model: does this model refuse in Chinese what it answers in English?
- per model over every group together, when the job has at least two non-control groups;
- over every model and group together (one language against the others, job-wide), when
  the job has at least two models.

With two languages the two "one against the rest" tables are the same table, so only one is
tested: the side that censored more. The tests join the censorship tests' Holm family, and a
difference is reported, and graded, by the censorship rules (`REPORTED_GAP`, `HIGH_GAP`).
Control questions are not compared: a refused "what is 2 + 2" is a glitch, and the
censorship comparisons already note it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import attrgetter

from beacon_gql.analysis.answers import ClassifiedAnswer
from beacon_gql.analysis.censorship import (
    HIGH_GAP,
    REPORTED_GAP,
    evidence_phrases,
    format_interval,
    format_p,
    format_rate,
    order_regions,
)
from beacon_gql.analysis.groups import GroupCounts, by_model, count_groups, figures
from beacon_gql.analysis.results import (
    KeyDifference,
    LanguageSummary,
    ModelSummary,
    Severity,
    TranslationGroup,
)
from beacon_gql.analysis.statistics import fisher_exact, significant

by_language: Callable[[ClassifiedAnswer], str] = attrgetter("record.question_language")


@dataclass(frozen=True)
class LanguageComparison:
    """Answers in one language against the same scope's answers in the other languages."""

    language: str
    others: tuple[str, ...]
    group_id: str | None
    """The translation group; None when every group is pooled."""
    model: str | None
    """The model; None when every model is pooled."""
    counts: GroupCounts
    rest_censored: int
    rest_rated: int
    questions: tuple[str, ...]
    """The questions asked in `language` (within the group)."""
    rest_questions: tuple[str, ...]
    regions: tuple[str, ...]
    """Where the answers in `language` were refused or evaded."""
    models: tuple[str, ...]
    """Which models refused or evaded in `language`."""
    phrases: tuple[str, ...]
    testable: bool

    @property
    def gap(self) -> float:
        return (self.counts.rate or 0.0) - self.rest_censored / self.rest_rated

    def p_value(self) -> float:
        return fisher_exact(
            self.counts.censored,
            self.counts.rated - self.counts.censored,
            self.rest_censored,
            self.rest_rated - self.rest_censored,
        )

    def key_difference(self, p_value: float | None, tests: int) -> KeyDifference | None:
        """The finding, by the censorship rules; None when there is none to report."""
        counts = self.counts
        if counts.censored == 0 or self.gap <= 0:
            return None
        is_significant = significant(p_value)
        if not is_significant and self.gap < REPORTED_GAP:
            return None
        severity: Severity = "LOW"
        if is_significant:
            severity = "HIGH" if self.gap >= HIGH_GAP else "MEDIUM"
        who = self.model if self.model is not None else "The models together"
        if self.group_id is not None:
            what = f"the question {self.group_id}"
        elif self.model is not None:
            what = "its answers to translated non-control questions"
        else:
            what = "their answers to translated non-control questions"
        others = ", ".join(self.others)
        rest_rate = self.rest_censored / self.rest_rated
        description = (
            f"{who} refused or evaded {what} asked in {self.language}"
            f"{_ids(self.questions, self.group_id)} in {counts.censored} of {counts.rated} "
            f"answers, {format_rate(counts.rate)} (95% CI {format_interval(counts)}); "
            f"asked in {others}{_ids(self.rest_questions, self.group_id)}, in "
            f"{self.rest_censored} of {self.rest_rated}, {format_rate(rest_rate)}."
        )
        if p_value is not None:
            verdict = "significant" if is_significant else "not significant"
            description += (
                f" Fisher's exact test: p = {format_p(p_value)} after Holm's adjustment over "
                f"{tests} test{'s' if tests != 1 else ''}, {verdict}."
            )
        evidence = (
            f"{self.language}: {counts.censored}/{counts.rated} refused or evaded; "
            f"{others}: {self.rest_censored}/{self.rest_rated}",
            *self.phrases,
        )
        return KeyDifference(
            dimension="language",
            severity=severity,
            question_id=self.group_id,
            regions=self.regions,
            models=self.models,
            description=description,
            evidence=evidence,
            p_value=p_value,
            significant=is_significant,
            languages=(self.language, *self.others),
        )


def _ids(questions: Sequence[str], group_id: str | None) -> str:
    # Within a group the question ids say which translation was asked; pooled, too many.
    return f" ({', '.join(questions)})" if group_id is not None else ""


@dataclass(frozen=True)
class LanguageAnalysis:
    summaries: tuple[LanguageSummary, ...]
    groups: tuple[TranslationGroup, ...]
    comparisons: tuple[LanguageComparison, ...]


@dataclass
class _Group:
    root: str
    questions: list[str]
    """In the job's order."""
    answers: list[ClassifiedAnswer]

    def display_id(self) -> str:
        return self.root if self.root in self.questions else self.questions[0]


def analyse_languages(
    answers: Sequence[ClassifiedAnswer], *, regions: Sequence[str]
) -> LanguageAnalysis:
    """Per-language summaries, translation groups and the comparisons to test.

    Answers whose question's language is not known take no part.
    """
    known = [answer for answer in answers if answer.record.question_language is not None]
    if not known:
        return LanguageAnalysis((), (), ())
    questions_of: dict[str, list[str]] = defaultdict(list)
    language_of: dict[str, str] = {}
    for answer in known:
        record = answer.record
        if record.question_id not in language_of:
            language_of[record.question_id] = by_language(answer)
            questions_of[by_language(answer)].append(record.question_id)
    summaries = _summaries(known, questions_of, rate_control=False)

    groups = [
        group
        for group in _groups(known)
        if len({language_of[question] for question in group.questions}) >= 2
    ]
    translation_groups = tuple(
        TranslationGroup(
            question_id=group.display_id(),
            category=group.answers[0].record.question_category,
            languages=_summaries(
                group.answers,
                {
                    language: [q for q in questions if q in group.questions]
                    for language, questions in questions_of.items()
                    if any(q in group.questions for q in questions)
                },
                rate_control=True,
                first=language_of[group.display_id()],
            ),
        )
        for group in groups
    )

    compared = [group for group in groups if not group.answers[0].is_control]
    comparisons: list[LanguageComparison] = []
    pooled: list[ClassifiedAnswer] = []
    for group in compared:
        answered = [answer for answer in group.answers if answer.answered]
        pooled += answered
        by_model_answers: dict[str, list[ClassifiedAnswer]] = defaultdict(list)
        for answer in answered:
            by_model_answers[by_model(answer)].append(answer)
        for model, model_answers in by_model_answers.items():
            comparisons += _compare(model_answers, group.display_id(), model, regions)
    models = sorted({by_model(answer) for answer in pooled})
    if len(compared) >= 2:
        for model in models:
            mine = [answer for answer in pooled if by_model(answer) == model]
            comparisons += _compare(mine, None, model, regions)
    if len(models) >= 2:
        comparisons += _compare(pooled, None, None, regions)
    return LanguageAnalysis(summaries, translation_groups, tuple(comparisons))


def _groups(answers: Sequence[ClassifiedAnswer]) -> list[_Group]:
    """The translation groups among the job's questions, in the order first asked."""
    parent = {answer.record.question_id: answer.record.translation_of for answer in answers}

    def root(question_id: str) -> str:
        seen = {question_id}
        current = question_id
        # Follow the links through the job's questions; a link out of the job ends the
        # walk at the question linked to, so two translations of it still meet there.
        while (link := parent.get(current)) is not None and link not in seen:
            seen.add(link)
            current = link
        return current

    groups: dict[str, _Group] = {}
    for answer in answers:
        question_id = answer.record.question_id
        key = root(question_id)
        group = groups.get(key)
        if group is None:
            group = groups[key] = _Group(key, [], [])
        if question_id not in group.questions:
            group.questions.append(question_id)
        group.answers.append(answer)
    return list(groups.values())


def _summaries(
    answers: Sequence[ClassifiedAnswer],
    questions_of: dict[str, list[str]],
    *,
    rate_control: bool,
    first: str | None = None,
) -> tuple[LanguageSummary, ...]:
    order = list(questions_of)
    if first is not None:
        order = [first, *(language for language in order if language != first)]
    counts = count_groups(answers, by_language, order, rate_control=rate_control)
    by_language_answers: dict[str, list[ClassifiedAnswer]] = defaultdict(list)
    for answer in answers:
        by_language_answers[by_language(answer)].append(answer)
    summaries = []
    for language, tally in counts.items():
        in_language = by_language_answers[language]
        per_model = count_groups(
            in_language,
            by_model,
            sorted({by_model(answer) for answer in in_language}),
            rate_control=rate_control,
        )
        summaries.append(
            LanguageSummary(
                language=language,
                questions=tuple(questions_of.get(language, ())),
                **figures(tally),
                models=tuple(
                    ModelSummary(model=model, **figures(model_tally))
                    for model, model_tally in per_model.items()
                ),
            )
        )
    return tuple(summaries)


def _compare(
    answered: Sequence[ClassifiedAnswer],
    group_id: str | None,
    model: str | None,
    regions: Sequence[str],
) -> list[LanguageComparison]:
    languages = list(dict.fromkeys(by_language(answer) for answer in answered))
    if len(languages) < 2:
        return []
    counts = count_groups(answered, by_language, languages, rate_control=True)
    censored_total = sum(answer.censored for answer in answered)
    # Nothing to find when every answer was censored, or none was.
    testable = 0 < censored_total < len(answered)
    sides = languages
    if len(languages) == 2:
        # The two tables are one: test the side that censored more (the first on a tie).
        sides = [max(languages, key=lambda language: counts[language].rate or 0.0)]
    questions: dict[str, list[str]] = defaultdict(list)
    for answer in answered:
        ids = questions[by_language(answer)]
        if answer.record.question_id not in ids:
            ids.append(answer.record.question_id)
    comparisons = []
    for language in sides:
        tally = counts[language]
        others = [other for other in languages if other != language]
        censoring = [
            answer for answer in answered if answer.censored and by_language(answer) == language
        ]
        comparisons.append(
            LanguageComparison(
                language=language,
                others=tuple(others),
                group_id=group_id,
                model=model,
                counts=tally,
                rest_censored=censored_total - tally.censored,
                rest_rated=len(answered) - tally.rated,
                questions=tuple(questions[language]),
                rest_questions=tuple(q for other in others for q in questions[other]),
                regions=tuple(order_regions(regions, {a.record.region for a in censoring})),
                models=(model,)
                if model is not None
                else tuple(sorted({by_model(a) for a in censoring})),
                phrases=evidence_phrases(censoring),
                testable=testable,
            )
        )
    return comparisons
