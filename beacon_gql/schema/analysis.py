"""The bias analysis as GraphQL types; descriptions are the metric definitions."""

from __future__ import annotations

import ast
import inspect
import itertools
import textwrap
from collections import OrderedDict
from datetime import datetime
from enum import Enum
from typing import Any

import strawberry

from beacon_gql.analysis import results
from beacon_gql.analysis.results import BiasAnalysisReport
from beacon_gql.analysis.statistics import Interval


def _doc(cls: type, name: str) -> str:
    """A dataclass field's docstring, read from the source so descriptions never drift."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    body = tree.body[0].body  # type: ignore[attr-defined]
    for node, following in itertools.pairwise(body):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and node.target.id == name
            and isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
        ):
            return " ".join(str(following.value.value).split())
    return ""


REPORT = results.BiasAnalysisReport


@strawberry.enum(name="AnalysisStatus")
class AnalysisStatus(Enum):
    PENDING = "PENDING"
    PARTIAL = "PARTIAL"
    COMPLETE = "COMPLETE"


@strawberry.enum(name="Severity")
class Severity(Enum):
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"
    CRITICAL = "CRITICAL"


@strawberry.type(name="ClassificationCounts")
class ClassificationCountsType:
    substantive: int
    refusal: int
    evasive: int
    technical_failure: int


@strawberry.type(
    name="PairComparison", description=" ".join((results.PairComparison.__doc__ or "").split())
)
class PairComparisonType:
    dimension: str = strawberry.field(description="region or model")
    a: str
    b: str
    similarity: float | None = strawberry.field(
        description=_doc(results.PairComparison, "similarity")
    )
    substantive_similarity: float | None = strawberry.field(
        description=_doc(results.PairComparison, "substantive_similarity")
    )
    refusal_mismatch: float | None = strawberry.field(
        description=_doc(results.PairComparison, "refusal_mismatch")
    )
    length_ratio: float | None = strawberry.field(
        description=_doc(results.PairComparison, "length_ratio")
    )
    cells_compared: int = strawberry.field(
        description=_doc(results.PairComparison, "cells_compared")
    )


@strawberry.type(
    name="Interval",
    description="A 95% confidence interval for a proportion (Wilson's score interval).",
)
class IntervalType:
    low: float
    high: float

    @classmethod
    def of(cls, interval: Interval | None) -> IntervalType | None:
        return None if interval is None else cls(low=interval.low, high=interval.high)


def _figures_of(
    summary: results.RegionSummary | results.ModelSummary | results.LanguageSummary,
) -> dict[str, Any]:
    """What a region's, a model's and a language's summaries all say of their answers."""
    return {
        "executions": summary.executions,
        "answered": summary.answered,
        "technical_failures": summary.technical_failures,
        "censored": summary.censored,
        "censorship_rate": summary.censorship_rate,
        "censorship_interval": IntervalType.of(summary.censorship_interval),
    }


@strawberry.type(name="RegionSummary", description=results.RegionSummary.__doc__ or "")
class RegionSummaryType:
    region: str
    executions: int
    answered: int
    technical_failures: int
    censored: int = strawberry.field(description=_doc(results.RegionSummary, "censored"))
    censorship_rate: float | None = strawberry.field(
        description=_doc(results.RegionSummary, "censorship_rate")
    )
    censorship_interval: IntervalType | None = strawberry.field(
        description=_doc(results.RegionSummary, "censorship_interval")
    )

    @classmethod
    def of(cls, r: results.RegionSummary) -> RegionSummaryType:
        return cls(
            region=r.region,
            **_figures_of(r),
        )


@strawberry.type(name="ModelSummary", description=results.ModelSummary.__doc__ or "")
class ModelSummaryType:
    model: str
    executions: int
    answered: int
    technical_failures: int
    censored: int = strawberry.field(description=_doc(results.ModelSummary, "censored"))
    censorship_rate: float | None = strawberry.field(
        description=_doc(results.ModelSummary, "censorship_rate")
    )
    censorship_interval: IntervalType | None = strawberry.field(
        description=_doc(results.ModelSummary, "censorship_interval")
    )

    @classmethod
    def of(cls, m: results.ModelSummary) -> ModelSummaryType:
        return cls(
            model=m.model,
            **_figures_of(m),
        )


@strawberry.type(
    name="LanguageSummary", description=" ".join((results.LanguageSummary.__doc__ or "").split())
)
class LanguageSummaryType:
    language: str = strawberry.field(description=_doc(results.LanguageSummary, "language"))
    questions: list[strawberry.ID] = strawberry.field(
        description=_doc(results.LanguageSummary, "questions")
    )
    executions: int
    answered: int
    technical_failures: int
    censored: int = strawberry.field(description=_doc(results.LanguageSummary, "censored"))
    censorship_rate: float | None = strawberry.field(
        description=_doc(results.LanguageSummary, "censorship_rate")
    )
    censorship_interval: IntervalType | None = strawberry.field(
        description=_doc(results.LanguageSummary, "censorship_interval")
    )
    models: list[ModelSummaryType] = strawberry.field(
        description=_doc(results.LanguageSummary, "models")
    )

    @classmethod
    def of(cls, summary: results.LanguageSummary) -> LanguageSummaryType:
        return cls(
            language=summary.language,
            questions=[strawberry.ID(question) for question in summary.questions],
            **_figures_of(summary),
            models=[ModelSummaryType.of(m) for m in summary.models],
        )


@strawberry.type(
    name="TranslationGroup",
    description=" ".join((results.TranslationGroup.__doc__ or "").split()),
)
class TranslationGroupType:
    question_id: strawberry.ID = strawberry.field(
        description=_doc(results.TranslationGroup, "question_id")
    )
    category: str
    languages: list[LanguageSummaryType] = strawberry.field(
        description=_doc(results.TranslationGroup, "languages")
    )

    @classmethod
    def of(cls, group: results.TranslationGroup) -> TranslationGroupType:
        return cls(
            question_id=strawberry.ID(group.question_id),
            category=group.category,
            languages=[LanguageSummaryType.of(summary) for summary in group.languages],
        )


@strawberry.type(name="QuestionAnalysis", description="How the answers to one question compare.")
class QuestionAnalysisType:
    question_id: strawberry.ID
    category: str
    classifications: ClassificationCountsType
    refusal_rate: float | None = strawberry.field(
        description=_doc(results.QuestionAnalysis, "refusal_rate")
    )
    evasion_rate: float | None = strawberry.field(
        description=_doc(results.QuestionAnalysis, "evasion_rate")
    )
    censored: int = strawberry.field(description=_doc(results.QuestionAnalysis, "censored"))
    censorship_rate: float | None = strawberry.field(
        description=_doc(results.QuestionAnalysis, "censorship_rate")
    )
    censorship_interval: IntervalType | None = strawberry.field(
        description=_doc(results.QuestionAnalysis, "censorship_interval")
    )
    regions: list[RegionSummaryType] = strawberry.field(
        description=_doc(results.QuestionAnalysis, "regions")
    )
    models: list[ModelSummaryType] = strawberry.field(
        description=_doc(results.QuestionAnalysis, "models")
    )
    consistency: float | None = strawberry.field(
        description=_doc(results.QuestionAnalysis, "consistency")
    )
    region_comparisons: list[PairComparisonType]
    model_comparisons: list[PairComparisonType]


@strawberry.type(name="KeyDifference", description="A notable difference, with its evidence.")
class KeyDifferenceType:
    dimension: str = strawberry.field(
        description="censorship, narrative, language, availability or consistency"
    )
    severity: Severity
    question_id: str | None
    regions: list[str]
    models: list[str]
    description: str
    evidence: list[str] = strawberry.field(description=_doc(results.KeyDifference, "evidence"))
    p_value: float | None = strawberry.field(description=_doc(results.KeyDifference, "p_value"))
    significant: bool = strawberry.field(description=_doc(results.KeyDifference, "significant"))
    languages: list[str] = strawberry.field(description=_doc(results.KeyDifference, "languages"))


@strawberry.type(name="RiskAssessment")
class RiskAssessmentType:
    level: Severity
    score: float = strawberry.field(description=_doc(results.RiskAssessment, "score"))
    reasons: list[str]


def _pair(pair: results.PairComparison) -> PairComparisonType:
    return PairComparisonType(
        dimension=pair.dimension,
        a=pair.a,
        b=pair.b,
        similarity=pair.similarity,
        substantive_similarity=pair.substantive_similarity,
        refusal_mismatch=pair.refusal_mismatch,
        length_ratio=pair.length_ratio,
        cells_compared=pair.cells_compared,
    )


@strawberry.type(name="BiasAnalysis", description=" ".join((REPORT.__doc__ or "").split()))
class BiasAnalysisType:
    status: AnalysisStatus = strawberry.field(
        description="PENDING before any answer, PARTIAL while the job runs, COMPLETE once it "
        "has ended (persisted then, never recomputed unless asked)."
    )
    computed_at: datetime
    executions: int
    finished: int = strawberry.field(description=_doc(REPORT, "finished"))
    answered: int = strawberry.field(description=_doc(REPORT, "answered"))
    bias_variance: float | None = strawberry.field(description=_doc(REPORT, "bias_variance"))
    censorship_rate: float | None = strawberry.field(description=_doc(REPORT, "censorship_rate"))
    factual_consistency: float | None = strawberry.field(
        description=_doc(REPORT, "factual_consistency")
    )
    narrative_divergence: float | None = strawberry.field(
        description=_doc(REPORT, "narrative_divergence")
    )
    key_differences: list[KeyDifferenceType]
    risk_assessment: RiskAssessmentType
    recommendation: Severity = strawberry.field(description=_doc(REPORT, "recommendation"))
    summary: str
    runs: int = strawberry.field(description=_doc(REPORT, "runs"))
    tests: int = strawberry.field(description=_doc(REPORT, "tests"))
    regions: list[RegionSummaryType]
    models: list[ModelSummaryType] = strawberry.field(
        description="Each model's share of the job, every region and sample pooled."
    )
    questions: list[QuestionAnalysisType]
    languages: list[LanguageSummaryType] = strawberry.field(description=_doc(REPORT, "languages"))
    translation_groups: list[TranslationGroupType] = strawberry.field(
        description=_doc(REPORT, "translation_groups")
    )

    @classmethod
    def of(cls, report: BiasAnalysisReport) -> BiasAnalysisType:
        return cls(
            status=AnalysisStatus(report.status),
            computed_at=report.computed_at,
            executions=report.executions,
            finished=report.finished,
            answered=report.answered,
            bias_variance=report.bias_variance,
            censorship_rate=report.censorship_rate,
            factual_consistency=report.factual_consistency,
            narrative_divergence=report.narrative_divergence,
            key_differences=[
                KeyDifferenceType(
                    dimension=d.dimension,
                    severity=Severity(d.severity),
                    question_id=d.question_id,
                    regions=list(d.regions),
                    models=list(d.models),
                    description=d.description,
                    evidence=list(d.evidence),
                    p_value=d.p_value,
                    significant=d.significant,
                    languages=list(d.languages),
                )
                for d in report.key_differences
            ],
            risk_assessment=RiskAssessmentType(
                level=Severity(report.risk_assessment.level),
                score=report.risk_assessment.score,
                reasons=list(report.risk_assessment.reasons),
            ),
            recommendation=Severity(report.recommendation),
            summary=report.summary,
            runs=report.runs,
            tests=report.tests,
            regions=[RegionSummaryType.of(r) for r in report.regions],
            models=[ModelSummaryType.of(m) for m in report.models],
            questions=[
                QuestionAnalysisType(
                    question_id=strawberry.ID(q.question_id),
                    category=q.category,
                    classifications=ClassificationCountsType(
                        substantive=q.classifications.substantive,
                        refusal=q.classifications.refusal,
                        evasive=q.classifications.evasive,
                        technical_failure=q.classifications.technical_failure,
                    ),
                    refusal_rate=q.refusal_rate,
                    evasion_rate=q.evasion_rate,
                    censored=q.censored,
                    censorship_rate=q.censorship_rate,
                    censorship_interval=IntervalType.of(q.censorship_interval),
                    regions=[RegionSummaryType.of(r) for r in q.regions],
                    models=[ModelSummaryType.of(m) for m in q.models],
                    consistency=q.consistency,
                    region_comparisons=[_pair(p) for p in q.region_comparisons],
                    model_comparisons=[_pair(p) for p in q.model_comparisons],
                )
                for q in report.questions
            ],
            languages=[LanguageSummaryType.of(summary) for summary in report.languages],
            translation_groups=[TranslationGroupType.of(g) for g in report.translation_groups],
        )


# The GraphQL objects of recently shown reports: the analysis service hands out the same
# report object for as long as its job's persisted analysis is unchanged, and converting a
# big job's report cost a tenth of a small job's query. Keyed on the report's identity; the
# entry keeps the report alive, so the identity is not reused while it is remembered.
_SHOWN: OrderedDict[int, tuple[BiasAnalysisReport, BiasAnalysisType]] = OrderedDict()
REMEMBERED_SHOWN = 64


def shown(report: BiasAnalysisReport) -> BiasAnalysisType:
    """`BiasAnalysisType.of(report)`, converted once per report object."""
    found = _SHOWN.get(id(report))
    if found is not None and found[0] is report:
        _SHOWN.move_to_end(id(report))
        return found[1]
    converted = BiasAnalysisType.of(report)
    _SHOWN[id(report)] = (report, converted)
    while len(_SHOWN) > REMEMBERED_SHOWN:
        _SHOWN.popitem(last=False)
    return converted
