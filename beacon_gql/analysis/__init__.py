"""Bias analysis: classify answers, compare them across regions and models, report.

`compute_analysis` is the entry point; `classify_answer` labels a single answer.
May import db/ (the rows it reads) and errors; execution/, services and the schema import it.
"""

from beacon_gql.analysis.answers import AnswerRecord
from beacon_gql.analysis.classify import Classification, ClassificationResult, classify_answer
from beacon_gql.analysis.report import compute_analysis
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
    Severity,
    TranslationGroup,
)
from beacon_gql.analysis.serialization import report_from_dict, report_to_dict
from beacon_gql.analysis.similarity import consistency, length_ratio

__all__ = [
    "AnalysisStatus",
    "AnswerRecord",
    "BiasAnalysisReport",
    "Classification",
    "ClassificationResult",
    "KeyDifference",
    "LabelCounts",
    "LanguageSummary",
    "ModelSummary",
    "PairComparison",
    "QuestionAnalysis",
    "RegionSummary",
    "RiskAssessment",
    "Severity",
    "TranslationGroup",
    "classify_answer",
    "compute_analysis",
    "consistency",
    "length_ratio",
    "report_from_dict",
    "report_to_dict",
]
