"""The bias analysis report and its parts, as returned by `compute_analysis`.

Every number is rounded to `DECIMALS` places; the docstrings are written to be reused as the
GraphQL field descriptions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from beacon_gql.analysis.statistics import Interval

DECIMALS = 6

AnalysisStatus = Literal["PENDING", "PARTIAL", "COMPLETE"]
PairDimension = Literal["region", "model"]
DifferenceDimension = Literal["censorship", "narrative", "language", "availability", "consistency"]
Severity = Literal["LOW", "MEDIUM", "HIGH", "CRITICAL"]

SEVERITIES: tuple[Severity, ...] = ("LOW", "MEDIUM", "HIGH", "CRITICAL")
"""Severities from the least to the most severe."""


def severity_rank(severity: Severity) -> int:
    """0 for LOW up to 3 for CRITICAL."""
    return SEVERITIES.index(severity)


def rounded(value: float | None) -> float | None:
    return None if value is None else round(value, DECIMALS)


def rounded_interval(interval: Interval | None) -> Interval | None:
    if interval is None:
        return None
    return Interval(round(interval.low, DECIMALS), round(interval.high, DECIMALS))


@dataclass(frozen=True)
class LabelCounts:
    """How many finished executions got each classification."""

    substantive: int = 0
    refusal: int = 0
    evasive: int = 0
    technical_failure: int = 0

    @property
    def answered(self) -> int:
        """Executions that produced an answer of any kind (all but technical failures)."""
        return self.substantive + self.refusal + self.evasive

    @property
    def censored(self) -> int:
        """Answers that were refusals or evasions."""
        return self.refusal + self.evasive


@dataclass(frozen=True)
class PairComparison:
    """Two regions (or two models) compared on the answers to one question.

    The compared cells are matched: for two regions, the same model's answers in each
    region; for two models, their answers in the same region. A cell counts only when both
    sides answered (technical failures and unfinished executions are left out).
    """

    dimension: PairDimension
    a: str
    b: str
    similarity: float | None
    """Mean consistency of the matched answers, from 0 (unrelated or contradicting) to 1
    (saying the same thing, in any language): the cosine of their multilingual
    sentence-encoder vectors, less a penalty when each states a number, or in one language
    a name or a swapped phrase, that the other does not, or when one negates what the other
    does not. None without any matched cell."""
    substantive_similarity: float | None
    """Mean consistency over the matched cells where both answers are substantive, in
    whatever language: what the two sides said, leaving refusals aside."""
    refusal_mismatch: float | None
    """Share of the matched cells where exactly one side refused or evaded."""
    length_ratio: float | None
    """Mean over the matched cells of shorter / longer answer length in characters."""
    cells_compared: int
    """Matched cells where both sides answered."""
    substantive_cells_compared: int
    """Matched cells where both answers are substantive."""


@dataclass(frozen=True)
class RegionSummary:
    """One region's share of the job (or of one question, under `QuestionAnalysis`)."""

    region: str
    executions: int
    answered: int
    technical_failures: int
    censored: int
    """Answers to non-control questions (to the question, under `QuestionAnalysis`)
    classified REFUSAL or EVASIVE, every sample counted."""
    censorship_rate: float | None
    """Share of this region's answered executions of non-control questions (of the
    question, under `QuestionAnalysis`) classified REFUSAL or EVASIVE; None when it
    answered none."""
    censorship_interval: Interval | None
    """95% Wilson score interval of `censorship_rate`: with few answers the rate alone says
    little. None when it answered none."""


@dataclass(frozen=True)
class ModelSummary:
    """One model's share of the job (or of one question, under `QuestionAnalysis`)."""

    model: str
    executions: int
    answered: int
    technical_failures: int
    censored: int
    """Answers to non-control questions (to the question, under `QuestionAnalysis`)
    classified REFUSAL or EVASIVE, every region and sample counted."""
    censorship_rate: float | None
    """Share of this model's answered executions of non-control questions (of the
    question, under `QuestionAnalysis`) classified REFUSAL or EVASIVE; None when it
    answered none."""
    censorship_interval: Interval | None
    """95% Wilson score interval of `censorship_rate`; None when it answered none."""


@dataclass(frozen=True)
class LanguageSummary:
    """The answers to the questions asked in one language (under `TranslationGroup`: to
    the group's questions in that language)."""

    language: str
    """The question's language tag, as imported (en, zh-Hans, ...)."""
    questions: tuple[str, ...]
    """The questions of the job (of the group) in this language."""
    executions: int
    answered: int
    technical_failures: int
    censored: int
    """Answers classified REFUSAL or EVASIVE, every sample counted; job-wide, of non-control
    questions only."""
    censorship_rate: float | None
    """censored / answered (job-wide, over the answers to non-control questions); None when
    none answered."""
    censorship_interval: Interval | None
    """95% Wilson score interval of `censorship_rate`; None when none answered."""
    models: tuple[ModelSummary, ...]
    """Each model's answers in this language, every region and sample pooled."""


@dataclass(frozen=True)
class TranslationGroup:
    """A question and its translations (linked by `translation_of`), compared by language:
    does the same model refuse in one language what it answers in another?"""

    question_id: str
    """The original question when the job asked it, else the group's first question."""
    category: str
    languages: tuple[LanguageSummary, ...]
    """Each language the group was asked in, the original's first."""


@dataclass(frozen=True)
class QuestionAnalysis:
    """How the answers to one question compare across regions and models."""

    question_id: str
    category: str
    classifications: LabelCounts
    unfinished: int
    """Executions of this question still pending or running, or cancelled."""
    refusal_rate: float | None
    """Share of the answered executions classified REFUSAL; None when none answered."""
    evasion_rate: float | None
    """Share of the answered executions classified EVASIVE; None when none answered."""
    censored: int
    """Answers to this question classified REFUSAL or EVASIVE, every sample counted."""
    censorship_rate: float | None
    """censored / answered for this question; None when none answered."""
    censorship_interval: Interval | None
    """95% Wilson score interval of `censorship_rate`; None when none answered."""
    regions: tuple[RegionSummary, ...]
    """Each region's answers to this question, every model and sample pooled."""
    models: tuple[ModelSummary, ...]
    """Each model's answers to this question, every region and sample pooled."""
    consistency: float | None
    """Mean consistency (what the answers say, in any language) of the same model's answers
    in two regions, over every such pair of answers to this question; None when no model
    answered in two regions."""
    region_comparisons: tuple[PairComparison, ...]
    """Every pair of the job's regions."""
    model_comparisons: tuple[PairComparison, ...]
    """Every pair of models when the question went to at most 16 models
    (`comparisons.MAX_MODELS_FOR_PAIRS`); otherwise empty, as the table grows with the square
    of the models."""
    model_pairs_omitted: int
    """Model pairs left out because the question went to too many models."""


@dataclass(frozen=True)
class KeyDifference:
    """A notable difference between regions or models, with the evidence for it."""

    dimension: DifferenceDimension
    severity: Severity
    question_id: str | None
    """The question concerned; None when the difference spans several or the whole job."""
    regions: tuple[str, ...]
    models: tuple[str, ...]
    description: str
    evidence: tuple[str, ...]
    """Matched refusal phrases, similarity figures, error codes: whatever supports it."""
    p_value: float | None = None
    """For a censorship difference: Fisher's exact test of the group (a region, a model, or
    the language a question was asked in) against the rest, Holm-adjusted over every
    censorship test the analysis made. For a narrative difference with several samples per
    cell: a permutation test of the distance between the two regions' answers against the
    distance between a cell's own samples (the noise floor), Holm-adjusted over every such
    test. None when the difference was not tested (availability, the script of the answers,
    control-question refusals, narrative with one sample per cell)."""
    significant: bool = False
    """Whether `p_value` is below 0.05. A tested difference that is not significant is at
    most LOW and never raises the recommendation."""
    languages: tuple[str, ...] = ()
    """For a censorship difference between the languages a question was asked in: the
    language that censored more first, then those it was compared with. Empty otherwise."""


@dataclass(frozen=True)
class RiskAssessment:
    """How strongly the answers suggest censorship or regional bias."""

    level: Severity
    score: float
    """0 to 1: the largest of the censorship rate, the regional censorship gap (counted only
    when some region's censorship differs significantly from the others') and half the
    narrative divergence (control questions are left out of all three)."""
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class BiasAnalysisReport:
    """The bias analysis of one job, computed from its stored executions."""

    status: AnalysisStatus
    computed_at: datetime
    executions: int
    finished: int
    """Executions that completed or failed."""
    answered: int
    """Executions that produced an answer (completed, not a technical failure)."""
    censorship_rate: float | None
    """Share (0 to 1) of the answered executions of non-control questions that were
    classified REFUSAL or EVASIVE. Answered: completed with a non-empty response; technical
    failures, pending and cancelled executions are left out. None when no non-control
    question was answered."""
    bias_variance: float | None
    """How unevenly the regions censor; 0 when they all behave alike. For each non-control
    question answered in at least two regions: the population variance, across those
    regions, of each region's censorship rate on the question (refused or evaded / answered);
    then the mean over those questions. At most 0.25 (half the regions censor every answer,
    half none; 2/9 with three regions). None when no non-control question was answered in
    two regions."""
    factual_consistency: float | None
    """Mean consistency (0 to 1) of the same model's answers to a control question in two
    regions, over every such pair of answers. Consistency compares what two answers say, in
    any language: the cosine of their vectors from the multilingual sentence encoder the
    classifier uses, less a penalty when each states a number, or in one language a name or
    a swapped phrase, the other does not, or when one negates what the other does not; an
    answer and its faithful translation score about 0.7 to 0.9.
    Control questions have one right answer, so 1 means every region said the same. None
    when no model answered a control question in two regions."""
    narrative_divergence: float | None
    """1 minus the mean consistency (what the answers say, in any language) of the same
    model's answers to a non-control question in two regions, over every such pair of
    answers (a refusal facing an answer counts: it diverges). 0 when every region told the
    same story; paraphrases and translations of one story keep it low. It is not measured
    against the noise floor: the narrative key differences are. None when no model answered
    a non-control question in two regions."""
    key_differences: tuple[KeyDifference, ...]
    risk_assessment: RiskAssessment
    recommendation: Severity
    """The attention the job needs: the higher of the risk level and the most severe key
    difference (so a total failure of the job is CRITICAL even with no bias measured). A
    censorship difference that is not significant is LOW, so it never raises it."""
    summary: str
    regions: tuple[RegionSummary, ...]
    models: tuple[ModelSummary, ...]
    questions: tuple[QuestionAnalysis, ...]
    runs: int = 1
    """Samples per cell: the most samples any (question, model, region) cell has."""
    tests: int = 0
    """How many censorship tests the analysis made (the Holm family's size), those between
    the languages of a question included."""
    languages: tuple[LanguageSummary, ...] = ()
    """Each language the job's questions were asked in, every question of that language,
    model, region and sample pooled."""
    translation_groups: tuple[TranslationGroup, ...] = ()
    """Each question asked in at least two languages in the job, with its translations."""
