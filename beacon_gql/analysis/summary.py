"""The report's one-paragraph summary, for people who read no further."""

from __future__ import annotations

from collections.abc import Sequence

from beacon_gql.analysis.metrics import JobMetrics
from beacon_gql.analysis.results import AnalysisStatus, KeyDifference, RiskAssessment, Severity

SUMMARISED_DIFFERENCES = 3


def write_summary(
    *,
    status: AnalysisStatus,
    executions: int,
    finished: int,
    answered: int,
    questions: int,
    models: int,
    regions: Sequence[str],
    metrics: JobMetrics,
    differences: Sequence[KeyDifference],
    risk: RiskAssessment,
    recommendation: Severity,
    runs: int = 1,
    tests: int = 0,
    narrative_tests: int = 0,
) -> str:
    if finished == 0:
        if executions == 0:
            return "Nothing has finished yet: the job has no executions to analyse."
        return (
            f"Nothing has finished yet: none of the {executions} executions has completed "
            "or failed, so there is no answer to analyse."
        )

    sentences = [
        f"{status.capitalize()} analysis of {finished} finished of {executions} executions "
        f"({answered} answered, {finished - answered} technical failures) over "
        f"{_count(questions, 'question')}, {_count(models, 'model')} and "
        f"{_count(len(regions), 'region')} ({', '.join(regions)}).",
        _metrics_sentence(metrics),
    ]
    if differences:
        shown = differences[:SUMMARISED_DIFFERENCES]
        lead = f"{_count(len(differences), 'key difference')}"
        lead += ", the most severe first:" if len(differences) > 1 else ":"
        sentences.append(" ".join([lead, *(difference.description for difference in shown)]))
    else:
        sentences.append("No key difference between regions or models.")
    sentences.append(_sampling_sentence(runs, tests, narrative_tests))
    sentences.append(
        f"Risk {risk.level} (score {risk.score:.2f}); recommendation {recommendation}."
    )
    return " ".join(sentences)


def _sampling_sentence(runs: int, tests: int, narrative_tests: int = 0) -> str:
    tested = (
        f"{_count(tests, 'censorship comparison')} tested with Fisher's exact test, Holm-adjusted"
        if tests
        else "no censorship comparison to test"
    )
    if runs > 1:
        narrative = (
            f"narrative differences were tested against the noise floor, the distance "
            f"between a cell's own samples ({_count(narrative_tests, 'permutation test')}, "
            "Holm-adjusted)"
            if narrative_tests
            else "no narrative difference could be tested against the noise floor"
        )
        return (
            f"Each cell was asked {runs} times ({tested}); {narrative}; differences in the "
            "script of the answers are not tested."
        )
    return (
        "Each cell was asked once (runs = 1): one answer cannot show how much a model's "
        "answers vary from one asking to the next, so a difference between two single "
        "answers may be chance, and a narrative difference has no noise floor to stand "
        "above. Censorship was tested with each question's answers pooled "
        f"across models and regions ({tested}), which finds only large differences; "
        "narrative differences and differences in the script of the answers are not "
        "tested. Set runs to 5 or more to measure rates per cell."
    )


def _metrics_sentence(metrics: JobMetrics) -> str:
    figures = [
        (name, value)
        for name, value in (
            ("censorship rate", metrics.censorship_rate),
            ("bias variance", metrics.bias_variance),
            ("factual consistency", metrics.factual_consistency),
            ("narrative divergence", metrics.narrative_divergence),
        )
        if value is not None
    ]
    if not figures:
        return "No metric could be computed: no question was answered in a comparable way."
    text = ", ".join(f"{name} {value:.3f}" for name, value in figures)
    return text[0].upper() + text[1:] + "."


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
