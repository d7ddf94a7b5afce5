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
labels are shuffled within each model (`PERMUTATIONS` times at most, with a fixed seed so an
analysis is reproducible) and p = (1 + shuffles at least as extreme) / (1 + shuffles). A
shuffle run stops early once `ENOUGH_EXCEEDANCES` shuffles beat the observation (Besag and
Clifford's sequential p-value): an unremarkable pair costs a few hundred shuffles, not
thousands. Only substantive answers count: refusals are the censorship tests' business.
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

    rng = np.random.default_rng(SEED)
    done = exceed = 0
    while done < PERMUTATIONS and exceed < ENOUGH_EXCEEDANCES:
        count = min(CHUNK, PERMUTATIONS - done)
        shuffled = np.zeros(count)
        for _, left, distances in groups:
            shuffled += _shuffled_statistics(rng, left, distances, count)
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


def _shuffled_statistics(
    rng: np.random.Generator, left: int, distances: npt.NDArray[np.float32], count: int
) -> npt.NDArray[np.float64]:
    """between mean - within mean for `count` random relabellings keeping the group sizes."""
    size = len(distances)
    labels = np.zeros(size)
    labels[:left] = 1.0
    x = rng.permuted(np.tile(labels, (count, 1)), axis=1)
    weighted = x @ distances.astype(np.float64)
    total = float(distances.sum()) / 2  # every pair once
    between_sum = np.einsum("ij,ij->i", weighted, 1.0 - x)
    within_sum = total - between_sum
    right = size - left
    within_pairs = comb(left, 2) + comb(right, 2)
    result: npt.NDArray[np.float64] = between_sum / (left * right) - within_sum / within_pairs
    return result
