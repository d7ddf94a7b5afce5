"""The bias analysis of a job: `compute_analysis` and the report it returns.

The steps, each in its own module: classify every answer (`classify`), compare the answers
to each question across regions and models (`comparisons`), pool those into job metrics
(`metrics`), compare a question with its translations (`languages`), pick out the key
differences (`differences`, `censorship`), assess the risk (`risk`) and write the summary
(`summary`). `serialization` turns the report into JSON values and back.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from beacon_gql.analysis.answers import AnswerRecord, ClassifiedAnswer, classify_records
from beacon_gql.analysis.censorship import find_censorship_differences
from beacon_gql.analysis.comparisons import analyse_question
from beacon_gql.analysis.differences import find_key_differences
from beacon_gql.analysis.languages import analyse_languages
from beacon_gql.analysis.metrics import compute_job_metrics
from beacon_gql.analysis.results import (
    AnalysisStatus,
    BiasAnalysisReport,
    KeyDifference,
    LabelCounts,
    LanguageSummary,
    ModelSummary,
    PairComparison,
    QuestionAnalysis,
    RegionSummary,
    RiskAssessment,
    TranslationGroup,
    rounded,
)
from beacon_gql.analysis.risk import assess_risk, recommend
from beacon_gql.analysis.serialization import report_from_dict, report_to_dict
from beacon_gql.analysis.summary import write_summary

__all__ = [
    "AnalysisStatus",
    "AnswerRecord",
    "BiasAnalysisReport",
    "KeyDifference",
    "LabelCounts",
    "LanguageSummary",
    "ModelSummary",
    "PairComparison",
    "QuestionAnalysis",
    "RegionSummary",
    "RiskAssessment",
    "TranslationGroup",
    "compute_analysis",
    "report_from_dict",
    "report_to_dict",
]


def compute_analysis(
    answers: Sequence[AnswerRecord],
    *,
    status: AnalysisStatus,
    expected_regions: Sequence[str],
    computed_at: datetime,
) -> BiasAnalysisReport:
    """Analyse a job's executions, finished or not.

    `answers` holds every execution of the job: each question x model x region cell once
    per sample.
    Questions are reported in the order they first appear in `answers`; regions in the order
    of `expected_regions`, followed by any other region found in `answers`. Answers are
    compared by meaning (`similarity`), with the vectors stored with their labels.
    """
    classified = classify_records(answers)
    regions = _regions(expected_regions, answers)
    questions = [analyse_question(group, regions=regions) for group in _by_question(classified)]
    metrics = compute_job_metrics(classified, questions, regions=regions)
    languages = analyse_languages(classified, regions=regions)
    censorship = find_censorship_differences(
        classified, regions=regions, others=languages.comparisons
    )
    differences = find_key_differences(
        classified, questions, regions=regions, censorship=censorship.differences
    )
    risk = assess_risk(metrics, regional_gap_significant=censorship.regional_gap_significant)
    recommendation = recommend(risk, differences)
    finished = sum(1 for answer in classified if answer.finished)
    answered = sum(1 for answer in classified if answer.answered)
    runs = max((answer.sample for answer in answers), default=1)
    summary = write_summary(
        status=status,
        executions=len(classified),
        finished=finished,
        answered=answered,
        questions=len(questions),
        models=len({answer.model_id for answer in answers}),
        regions=regions,
        metrics=metrics,
        differences=differences,
        risk=risk,
        recommendation=recommendation,
        runs=runs,
        tests=censorship.tests,
        narrative_tests=sum(len(question.floor_tests) for question in questions),
    )
    return BiasAnalysisReport(
        status=status,
        computed_at=computed_at,
        executions=len(classified),
        finished=finished,
        answered=answered,
        censorship_rate=rounded(metrics.censorship_rate),
        bias_variance=rounded(metrics.bias_variance),
        factual_consistency=rounded(metrics.factual_consistency),
        narrative_divergence=rounded(metrics.narrative_divergence),
        key_differences=differences,
        risk_assessment=risk,
        recommendation=recommendation,
        summary=summary,
        regions=metrics.regions,
        models=metrics.models,
        questions=tuple(question.analysis for question in questions),
        runs=runs,
        tests=censorship.tests,
        languages=languages.summaries,
        translation_groups=languages.groups,
    )


def _regions(expected: Sequence[str], answers: Sequence[AnswerRecord]) -> tuple[str, ...]:
    unexpected = sorted({answer.region for answer in answers} - set(expected))
    return (*dict.fromkeys(expected), *unexpected)


def _by_question(answers: Sequence[ClassifiedAnswer]) -> list[list[ClassifiedAnswer]]:
    groups: dict[str, list[ClassifiedAnswer]] = {}
    for answer in answers:
        groups.setdefault(answer.record.question_id, []).append(answer)
    return list(groups.values())
