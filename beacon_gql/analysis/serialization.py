"""The report as a JSON-safe dict, and back, for persisting it when a job ends.

The dict holds only str, int, float, bool, None, lists and dicts, with `computed_at` as an
ISO 8601 string, so `report_from_dict(json.loads(json.dumps(report_to_dict(r)))) == r`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar, cast, get_args

from beacon_gql.analysis.results import (
    AnalysisStatus,
    BiasAnalysisReport,
    DifferenceDimension,
    KeyDifference,
    LabelCounts,
    LanguageSummary,
    ModelSummary,
    PairComparison,
    PairDimension,
    QuestionAnalysis,
    RegionSummary,
    RiskAssessment,
    Severity,
    TranslationGroup,
)
from beacon_gql.analysis.statistics import Interval

FORMAT_VERSION = 2
"""2 added samples: intervals, model summaries and p-values. Added since, without a new
version (a report stored before reads them as empty): the language comparisons
(`languages`, `translation_groups`, `KeyDifference.languages`)."""


class OutdatedReport(ValueError):
    """A report stored in an earlier format: recompute it from the executions."""


_T = TypeVar("_T")


def report_to_dict(report: BiasAnalysisReport) -> dict[str, object]:
    """The report as plain JSON values; field names are the dataclasses' (snake_case)."""
    data = cast(dict[str, object], _json_values(dataclasses.asdict(report)))
    data["computed_at"] = report.computed_at.isoformat()
    return {"format_version": FORMAT_VERSION, **data}


def report_from_dict(data: Mapping[str, object]) -> BiasAnalysisReport:
    """Rebuild a report written by `report_to_dict`; ValueError names the first bad field."""
    fields = _Fields(data, "report")
    version = fields.integer("format_version")
    if version < FORMAT_VERSION:
        raise OutdatedReport(f"report.format_version: {version} predates {FORMAT_VERSION}")
    if version != FORMAT_VERSION:
        raise ValueError(f"report.format_version: unsupported version {version}")
    try:
        computed_at = datetime.fromisoformat(fields.string("computed_at"))
    except ValueError as error:
        raise ValueError(f"report.computed_at: {error}") from None
    return BiasAnalysisReport(
        status=fields.choice("status", AnalysisStatus),
        computed_at=computed_at,
        executions=fields.integer("executions"),
        finished=fields.integer("finished"),
        answered=fields.integer("answered"),
        censorship_rate=fields.optional_number("censorship_rate"),
        bias_variance=fields.optional_number("bias_variance"),
        factual_consistency=fields.optional_number("factual_consistency"),
        narrative_divergence=fields.optional_number("narrative_divergence"),
        key_differences=fields.records("key_differences", _key_difference),
        risk_assessment=_risk_assessment(fields.record("risk_assessment")),
        recommendation=fields.choice("recommendation", Severity),
        summary=fields.string("summary"),
        regions=fields.records("regions", _region_summary),
        models=fields.records("models", _model_summary),
        questions=fields.records("questions", _question_analysis),
        runs=fields.integer("runs"),
        tests=fields.integer("tests"),
        languages=fields.records("languages", _language_summary, missing_as_empty=True),
        translation_groups=fields.records(
            "translation_groups", _translation_group, missing_as_empty=True
        ),
    )


def _json_values(value: object) -> object:
    if isinstance(value, dict):
        return {key: _json_values(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_values(item) for item in value]
    return value


def _key_difference(fields: _Fields) -> KeyDifference:
    return KeyDifference(
        dimension=fields.choice("dimension", DifferenceDimension),
        severity=fields.choice("severity", Severity),
        question_id=fields.optional_string("question_id"),
        regions=fields.strings("regions"),
        models=fields.strings("models"),
        description=fields.string("description"),
        evidence=fields.strings("evidence"),
        p_value=fields.optional_number("p_value"),
        significant=fields.boolean("significant"),
        languages=fields.strings("languages", missing_as_empty=True),
    )


def _risk_assessment(fields: _Fields) -> RiskAssessment:
    return RiskAssessment(
        level=fields.choice("level", Severity),
        score=fields.number("score"),
        reasons=fields.strings("reasons"),
    )


def _figures(fields: _Fields) -> dict[str, Any]:
    """What a region's, a model's and a language's summaries all say of their answers."""
    return {
        "executions": fields.integer("executions"),
        "answered": fields.integer("answered"),
        "technical_failures": fields.integer("technical_failures"),
        "censored": fields.integer("censored"),
        "censorship_rate": fields.optional_number("censorship_rate"),
        "censorship_interval": _interval(fields, "censorship_interval"),
    }


def _region_summary(fields: _Fields) -> RegionSummary:
    return RegionSummary(
        region=fields.string("region"),
        **_figures(fields),
    )


def _model_summary(fields: _Fields) -> ModelSummary:
    return ModelSummary(
        model=fields.string("model"),
        **_figures(fields),
    )


def _language_summary(fields: _Fields) -> LanguageSummary:
    return LanguageSummary(
        language=fields.string("language"),
        questions=fields.strings("questions"),
        **_figures(fields),
        models=fields.records("models", _model_summary),
    )


def _translation_group(fields: _Fields) -> TranslationGroup:
    return TranslationGroup(
        question_id=fields.string("question_id"),
        category=fields.string("category"),
        languages=fields.records("languages", _language_summary),
    )


def _interval(fields: _Fields, key: str) -> Interval | None:
    if fields.is_null(key):
        return None
    bounds = fields.record(key)
    return Interval(low=bounds.number("low"), high=bounds.number("high"))


def _question_analysis(fields: _Fields) -> QuestionAnalysis:
    counts = fields.record("classifications")
    return QuestionAnalysis(
        question_id=fields.string("question_id"),
        category=fields.string("category"),
        classifications=LabelCounts(
            substantive=counts.integer("substantive"),
            refusal=counts.integer("refusal"),
            evasive=counts.integer("evasive"),
            technical_failure=counts.integer("technical_failure"),
        ),
        unfinished=fields.integer("unfinished"),
        refusal_rate=fields.optional_number("refusal_rate"),
        evasion_rate=fields.optional_number("evasion_rate"),
        censored=fields.integer("censored"),
        censorship_rate=fields.optional_number("censorship_rate"),
        censorship_interval=_interval(fields, "censorship_interval"),
        regions=fields.records("regions", _region_summary),
        models=fields.records("models", _model_summary),
        consistency=fields.optional_number("consistency"),
        region_comparisons=fields.records("region_comparisons", _pair_comparison),
        model_comparisons=fields.records("model_comparisons", _pair_comparison),
        model_pairs_omitted=fields.integer("model_pairs_omitted"),
    )


def _pair_comparison(fields: _Fields) -> PairComparison:
    return PairComparison(
        dimension=fields.choice("dimension", PairDimension),
        a=fields.string("a"),
        b=fields.string("b"),
        similarity=fields.optional_number("similarity"),
        substantive_similarity=fields.optional_number("substantive_similarity"),
        refusal_mismatch=fields.optional_number("refusal_mismatch"),
        length_ratio=fields.optional_number("length_ratio"),
        cells_compared=fields.integer("cells_compared"),
        substantive_cells_compared=fields.integer("substantive_cells_compared"),
    )


class _Fields:
    """Typed reads from one JSON object, with errors that say where the bad value is."""

    def __init__(self, data: object, where: str) -> None:
        if not isinstance(data, Mapping):
            raise ValueError(f"{where}: expected an object, got {type(data).__name__}")
        self._data = cast(Mapping[str, object], data)
        self._where = where

    def _value(self, key: str) -> object:
        if key not in self._data:
            raise ValueError(f"{self._where}.{key}: missing")
        return self._data[key]

    def _error(self, key: str, expected: str) -> ValueError:
        return ValueError(f"{self._where}.{key}: expected {expected}, got {self._data[key]!r}")

    def string(self, key: str) -> str:
        value = self._value(key)
        if not isinstance(value, str):
            raise self._error(key, "a string")
        return value

    def is_null(self, key: str) -> bool:
        return self._value(key) is None

    def boolean(self, key: str) -> bool:
        value = self._value(key)
        if not isinstance(value, bool):
            raise self._error(key, "true or false")
        return value

    def optional_string(self, key: str) -> str | None:
        return None if self._value(key) is None else self.string(key)

    def integer(self, key: str) -> int:
        value = self._value(key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._error(key, "an integer")
        return value

    def number(self, key: str) -> float:
        value = self._value(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self._error(key, "a number")
        return float(value)

    def optional_number(self, key: str) -> float | None:
        return None if self._value(key) is None else self.number(key)

    def choice(self, key: str, literal: Any) -> Any:
        # `literal` is a Literal[...] alias; the caller's annotation gives the result its type.
        value = self._value(key)
        if value not in get_args(literal):
            raise self._error(key, f"one of {', '.join(get_args(literal))}")
        return value

    def strings(self, key: str, *, missing_as_empty: bool = False) -> tuple[str, ...]:
        if missing_as_empty and key not in self._data:
            return ()
        value = self._value(key)
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self._error(key, "a list of strings")
        return tuple(value)

    def record(self, key: str) -> _Fields:
        return _Fields(self._value(key), f"{self._where}.{key}")

    def records(
        self, key: str, parse: Callable[[_Fields], _T], *, missing_as_empty: bool = False
    ) -> tuple[_T, ...]:
        if missing_as_empty and key not in self._data:
            return ()
        value = self._value(key)
        if not isinstance(value, list):
            raise self._error(key, "a list")
        return tuple(
            parse(_Fields(item, f"{self._where}.{key}[{i}]")) for i, item in enumerate(value)
        )
