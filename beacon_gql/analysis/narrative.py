"""The noise floor: do two regions' answers differ more than a cell's own samples do?

A model asked the same question twice in the same region does not answer with the same
words, nor always with the same story. So the distance (1 - `similarity.consistency`)
between two regions' answers means little alone; it is compared with the distance between
a cell's own samples (same question, model and region, another `sample`): the floor.

For one question and two regions a and b, each model with substantive answers in both and
at least two samples on one side contributes

    between mean (its a answers against its b answers) - within mean (a against a, b against b)

and the statistic is the sum over the models. Under "the region makes no difference" the
labels a and b are exchangeable within a model, so the p-value is a permutation test: the
labels are shuffled within each model, independently (`PERMUTATIONS` times at most, with a
fixed seed so an analysis is reproducible), and p = (1 + shuffles at least as extreme) /
(1 + shuffles). A shuffle run stops early once `ENOUGH_EXCEEDANCES` shuffles beat the
observation (Besag and Clifford's sequential p-value): an unremarkable pair costs a few
hundred shuffles, not thousands. A shuffle draws each model's relabelling from a bank
whose statistics are computed once (every relabelling, up to `BANK`).

Only substantive answers count: refusals are the censorship tests' business. The
statistic is one-sided: regions closer than a cell's own samples are no finding.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from math import comb

import numpy as np
import numpy.typing as npt

from beacon_gql.analysis.similarity import MeaningIndex

PERMUTATIONS = 4999
CHUNK = 500
BANK = 2000
"""Relabellings per model: all of them up to this many (10 samples in two regions of 5 have
252), else this many drawn at random."""
ENOUGH_EXCEEDANCES = 25
SEED = 20261206

Cell = tuple[str, str, int]  # (model_id, region, sample)


@dataclass(frozen=True)
class FloorTest:
    """Two regions' substantive answers to one question, against the noise floor."""

    a: str
    b: str
    models: tuple[str, ...]
    """The models that contributed (substantive answers in both regions)."""
    between: float
    """Mean distance between the same model's answers in a and in b."""
    within: float
    """Mean distance between a cell's own samples, in a or b: the floor."""
    spread: float
    """Standard deviation of those within-cell distances."""
    between_pairs: int
    within_pairs: int
    p_value: float
    """One-sided permutation p-value, not yet adjusted for the other tests."""

    @property
    def excess(self) -> float:
        return self.between - self.within


def floor_tests(
    positions: Mapping[Cell, int],
    substantive: frozenset[Cell],
    index: MeaningIndex,
    *,
    regions: Sequence[str],
    models: Sequence[str],
    samples: Sequence[int],
) -> tuple[FloorTest, ...]:
    """One test per pair of regions where some model has a floor (see the module docs)."""
    tests: list[FloorTest] = []
    for a, b in combinations(regions, 2):
        groups = []
        for model in models:
            left = [positions[(model, a, s)] for s in samples if (model, a, s) in substantive]
            right = [positions[(model, b, s)] for s in samples if (model, b, s) in substantive]
            if left and right and comb(len(left), 2) + comb(len(right), 2) > 0:
                groups.append((model, len(left), index.distances(left + right)))
        if groups:
            tests.append(_test(a, b, groups))
    return tuple(tests)


def _test(a: str, b: str, groups: list[tuple[str, int, npt.NDArray[np.float32]]]) -> FloorTest:
    between: list[float] = []
    within: list[float] = []
    observed = 0.0
    for _, left, distances in groups:
        size = len(distances)
        upper = np.triu_indices(size, 1)
        same = (np.arange(size)[:, None] < left) == (np.arange(size)[None, :] < left)
        pair_distances = distances[upper]
        pair_same = same[upper]
        between.extend(pair_distances[~pair_same].tolist())
        within.extend(pair_distances[pair_same].tolist())
        observed += float(pair_distances[~pair_same].mean() - pair_distances[pair_same].mean())

    # Each model's statistic is computed once for a bank of relabellings (all of them when
    # there are at most `BANK`); a shuffle then draws one relabelling per model, independently,
    # and adds up the models' statistics: a lookup, not a matrix product per shuffle.
    rng = np.random.default_rng(SEED)
    shapes: dict[tuple[int, int], list[npt.NDArray[np.float32]]] = {}
    for _, left, distances in groups:
        shapes.setdefault((left, len(distances)), []).append(distances)
    banks = [
        _bank_statistics(rng, left, np.stack(matrices).astype(np.float64))
        for (left, _), matrices in shapes.items()
    ]
    done = exceed = 0
    while done < PERMUTATIONS and exceed < ENOUGH_EXCEEDANCES:
        count = min(CHUNK, PERMUTATIONS - done)
        shuffled = np.zeros(count)
        for bank in banks:
            models, size = bank.shape
            drawn = rng.integers(0, size, (count, models))
            shuffled += bank[np.arange(models), drawn].sum(axis=1)
        exceed += int(np.count_nonzero(shuffled >= observed - 1e-9))
        done += count
    return FloorTest(
        a=a,
        b=b,
        models=tuple(model for model, _, _ in groups),
        between=float(np.mean(between)),
        within=float(np.mean(within)),
        spread=float(np.std(within)),
        between_pairs=len(between),
        within_pairs=len(within),
        p_value=(1 + exceed) / (1 + done),
    )


def _bank_statistics(
    rng: np.random.Generator, left: int, distances: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """between mean - within mean of each model of `distances` (models x size x size) under
    each relabelling of a bank that keeps the group sizes: models x relabellings."""
    _, size, _ = distances.shape
    if comb(size, left) <= BANK:
        labellings = np.zeros((comb(size, left), size))
        for row, chosen in enumerate(combinations(range(size), left)):
            labellings[row, list(chosen)] = 1.0
    else:
        labellings = (rng.random((BANK, size)).argsort(axis=1) < left).astype(np.float64)
    weighted = labellings[None, :, :] @ distances  # models x relabellings x size
    between_sum = np.einsum("mki,ki->mk", weighted, 1.0 - labellings)
    totals = distances.sum(axis=(1, 2)) / 2  # every pair once, per model
    within_sum = totals[:, None] - between_sum
    right = size - left
    within_pairs = comb(left, 2) + comb(right, 2)
    result: npt.NDArray[np.float64] = between_sum / (left * right) - within_sum / within_pairs
    return result
