"""The learned part: a multinomial logistic regression over `features.feature_rows`.

Its weights ship in the package (`classifier_head.npz`, a few kilobytes of float32) and were
trained by `bench/train_classifier.py` on the training part of
tests/data/classification/answers.jsonl. Three labels: SUBSTANTIVE, REFUSAL, EVASIVE;
technical failures are decided by `failures.detect_failure` before the model is asked.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np

from beacon_gql.analysis.encoder import Matrix

LABELS = ("SUBSTANTIVE", "REFUSAL", "EVASIVE")
WEIGHTS_FILE = "classifier_head.npz"


@dataclass(frozen=True)
class Head:
    mean: Matrix
    scale: Matrix
    weights: Matrix  # (features, labels)
    bias: Matrix  # (labels,)
    digest: str
    """The first hex digits of the weights file's SHA-256: part of the classifier version."""

    def probabilities(self, rows: Matrix) -> Matrix:
        logits = ((rows - self.mean) / self.scale) @ self.weights + self.bias
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        probabilities: Matrix = exp / exp.sum(axis=1, keepdims=True)
        return probabilities


def save_head(path: str, mean: Matrix, scale: Matrix, weights: Matrix, bias: Matrix) -> None:
    np.savez_compressed(
        path,
        mean=mean.astype(np.float32),
        scale=scale.astype(np.float32),
        weights=weights.astype(np.float32),
        bias=bias.astype(np.float32),
    )


@cache
def load_head() -> Head:
    data = resources.files("beacon_gql.analysis").joinpath(WEIGHTS_FILE).read_bytes()
    import io

    with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
        return Head(
            mean=arrays["mean"],
            scale=arrays["scale"],
            weights=arrays["weights"],
            bias=arrays["bias"],
            digest=hashlib.sha256(data).hexdigest()[:12],
        )
