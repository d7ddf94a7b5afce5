"""Per question: classification counts, per-region and per-model censorship, and the
region-pair and model-pair comparisons.

With several samples per cell the comparisons match samples by number: sample 2 of a model
in one region is compared with sample 2 of the same model in the other region. Samples are
independent draws, so any fixed matching is as good as another, and this one costs no more
than one sample per cell did, times the samples.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations
from math import comb

from beacon_gql.analysis.answers import ClassifiedAnswer
from beacon_gql.analysis.classify import Classification
from beacon_gql.analysis.groups import (
    by_model,
    by_region,
    count_groups,
    model_summaries,
    region_summaries,
)
from beacon_gql.analysis.narrative import FloorTest, floor_tests
from beacon_gql.analysis.results import (
    LabelCounts,
    PairComparison,
    PairDimension,
    QuestionAnalysis,
    rounded,
    rounded_interval,
)
from beacon_gql.analysis.similarity import Gist, MeaningIndex, length_ratio
from beacon_gql.analysis.statistics import wilson_interval

MAX_MODELS_FOR_PAIRS = 16
"""Above this many models a question gets no model-pair table: it would grow with the square
of the models (20,000 pairs for 200 models), too slow to compute and too long to read."""

Cell = tuple[str, str, int]  # (model_id, region, sample)


@dataclass(frozen=True)
class PairTally:
    """Unrounded sums behind a `PairComparison`, kept so job metrics pool them exactly."""

    dimension: PairDimension
    a: str
    b: str
    cells: int
    similarity_sum: float
    mismatches: int
    length_ratio_sum: float
    substantive_cells: int
    substantive_similarity_sum: float
    substantive_labels: tuple[str, ...]
    """The models (for regions) or regions (for models) of the substantive cells, each once."""

    def comparison(self) -> PairComparison:
        return PairComparison(
            dimension=self.dimension,
            a=self.a,
            b=self.b,
            similarity=rounded(_mean(self.similarity_sum, self.cells)),
            substantive_similarity=rounded(
                _mean(self.substantive_similarity_sum, self.substantive_cells)
            ),
            refusal_mismatch=rounded(_mean(self.mismatches, self.cells)),
            length_ratio=rounded(_mean(self.length_ratio_sum, self.cells)),
            cells_compared=self.cells,
            substantive_cells_compared=self.substantive_cells,
        )


@dataclass(frozen=True)
class QuestionResult:
    analysis: QuestionAnalysis
    region_tallies: tuple[PairTally, ...]
    floor_tests: tuple[FloorTest, ...] = ()
    """Region pairs against the noise floor (`narrative`); empty with one sample per cell."""


def analyse_question(
    answers: Sequence[ClassifiedAnswer], *, regions: Sequence[str]
) -> QuestionResult:
    """Analyse the answers to one question (all of `answers` share its id)."""
    record = answers[0].record
    # The database holds one execution per sample; should a caller pass two, the later wins.
    cells: dict[Cell, ClassifiedAnswer] = {
        (answer.record.model_id, answer.record.region, answer.record.sample): answer
        for answer in answers
    }
    answered_cells = [cell for cell, answer in cells.items() if answer.answered]
    positions = {cell: position for position, cell in enumerate(answered_cells)}
    # Only answers can be compared.
    index = MeaningIndex([_gist(cells[cell]) for cell in answered_cells])
    comparer = _Comparer(cells, positions, index)
    models = sorted({model for model, _, _ in cells})
    samples = sorted({sample for _, _, sample in cells})

    region_tallies = tuple(
        comparer.tally(
            "region",
            a,
            b,
            [
                ((model, a, sample), (model, b, sample), model)
                for model in models
                for sample in samples
            ],
        )
        for a, b in combinations(regions, 2)
    )
    model_tallies: tuple[PairTally, ...] = ()
    if len(models) <= MAX_MODELS_FOR_PAIRS:
        model_tallies = tuple(
            comparer.tally(
                "model",
                a,
                b,
                [
                    ((a, region, sample), (b, region, sample), region)
                    for region in regions
                    for sample in samples
                ],
            )
            for a, b in combinations(models, 2)
        )

    substantive = frozenset(cell for cell in answered_cells if cells[cell].substantive)
    tests = floor_tests(
        positions, substantive, index, regions=regions, models=models, samples=samples
    )

    counts = _label_counts(cells.values())
    every = list(cells.values())
    per_region = count_groups(every, by_region, regions, rate_control=True)
    per_model = count_groups(every, by_model, models, rate_control=True)
    censored = counts.censored
    cross_region_cells = sum(tally.cells for tally in region_tallies)
    cross_region_similarity = sum(tally.similarity_sum for tally in region_tallies)
    analysis = QuestionAnalysis(
        question_id=record.question_id,
        category=record.question_category,
        classifications=counts,
        unfinished=sum(1 for answer in cells.values() if not answer.finished),
        refusal_rate=rounded(_mean(counts.refusal, counts.answered)),
        evasion_rate=rounded(_mean(counts.evasive, counts.answered)),
        censored=censored,
        censorship_rate=rounded(_mean(censored, counts.answered)),
        censorship_interval=rounded_interval(wilson_interval(censored, counts.answered)),
        regions=region_summaries(per_region),
        models=model_summaries(per_model),
        consistency=rounded(_mean(cross_region_similarity, cross_region_cells)),
        region_comparisons=tuple(tally.comparison() for tally in region_tallies),
        model_comparisons=tuple(tally.comparison() for tally in model_tallies),
        model_pairs_omitted=comb(len(models), 2) if len(models) > MAX_MODELS_FOR_PAIRS else 0,
    )
    return QuestionResult(analysis, region_tallies, tests)


def _gist(answer: ClassifiedAnswer) -> Gist:
    if answer.gist is None:  # `answers.classify_records` gives every answer one
        raise ValueError(f"execution {answer.record.execution_id} answered without a gist")
    return answer.gist


class _Comparer:
    def __init__(
        self,
        cells: dict[Cell, ClassifiedAnswer],
        positions: dict[Cell, int],
        index: MeaningIndex,
    ) -> None:
        self._cells = cells
        self._positions = positions
        self._index = index

    def tally(
        self, dimension: PairDimension, a: str, b: str, matched: list[tuple[Cell, Cell, str]]
    ) -> PairTally:
        cells = mismatches = substantive_cells = 0
        similarity_sum = length_ratio_sum = substantive_similarity_sum = 0.0
        substantive_labels: list[str] = []
        for left_cell, right_cell, label in matched:
            left_position = self._positions.get(left_cell)
            right_position = self._positions.get(right_cell)
            if left_position is None or right_position is None:
                continue
            left, right = self._cells[left_cell], self._cells[right_cell]
            similarity = self._index.similarity(left_position, right_position)
            cells += 1
            similarity_sum += similarity
            mismatches += left.censored != right.censored
            length_ratio_sum += length_ratio(left.text, right.text)
            # Any script: the encoder compares meanings across languages.
            if left.substantive and right.substantive:
                substantive_cells += 1
                substantive_similarity_sum += similarity
                substantive_labels.append(label)
        return PairTally(
            dimension=dimension,
            a=a,
            b=b,
            cells=cells,
            similarity_sum=similarity_sum,
            mismatches=mismatches,
            length_ratio_sum=length_ratio_sum,
            substantive_cells=substantive_cells,
            substantive_similarity_sum=substantive_similarity_sum,
            substantive_labels=tuple(dict.fromkeys(substantive_labels)),
        )


def _label_counts(answers: Iterable[ClassifiedAnswer]) -> LabelCounts:
    totals = dict.fromkeys(Classification, 0)
    for answer in answers:
        if answer.classification is not None:
            totals[answer.classification.label] += 1
    return LabelCounts(
        substantive=totals[Classification.SUBSTANTIVE],
        refusal=totals[Classification.REFUSAL],
        evasive=totals[Classification.EVASIVE],
        technical_failure=totals[Classification.TECHNICAL_FAILURE],
    )


def _mean(total: float, count: int) -> float | None:
    return None if count == 0 else total / count
