"""The learned part: a multinomial logistic regression over `features.feature_rows`, with one
small hidden layer of ReLU units adding to the same logits.

Its weights ship in the package (`classifier_head.npz`, float32) and were trained by
`bench/train_classifier.py` on the training parts of the evaluation sets. Three labels:
SUBSTANTIVE, REFUSAL, EVASIVE; technical failures are decided by `failures.detect_failure`
before the model is asked. A weights file without the hidden layer (before session 10) is
the logistic regression alone.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import numpy as np

from beacon_gql.analysis.encoder import Matrix

LABELS = ("SUBSTANTIVE", "REFUSAL", "EVASIVE")
WEIGHTS_FILE = "classifier_head.npz"


@dataclass(frozen=True)
class Hidden:
    weights: Matrix  # (features, units)
    bias: Matrix  # (units,)
    out: Matrix  # (units, labels)


@dataclass(frozen=True)
class Head:
    mean: Matrix
    scale: Matrix
    weights: Matrix  # (features, labels)
    bias: Matrix  # (labels,)
    hidden: Hidden | None
    digest: str
    """The first hex digits of the weights file's SHA-256: part of the classifier version."""

    def logits(self, rows: Matrix) -> Matrix:
        standard: Matrix = (rows - self.mean) / self.scale
        logits: Matrix = standard @ self.weights + self.bias
        if self.hidden is not None:
            units = np.maximum(standard @ self.hidden.weights + self.hidden.bias, 0)
            logits = logits + units @ self.hidden.out
        return logits

    def probabilities(self, rows: Matrix) -> Matrix:
        logits = self.logits(rows)
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        probabilities: Matrix = exp / exp.sum(axis=1, keepdims=True)
        return probabilities


def save_head(
    path: str,
    mean: Matrix,
    scale: Matrix,
    weights: Matrix,
    bias: Matrix,
    hidden: Hidden | None = None,
) -> None:
    arrays = {"mean": mean, "scale": scale, "weights": weights, "bias": bias}
    if hidden is not None:
        arrays |= {"hidden_weights": hidden.weights, "hidden_bias": hidden.bias}
        arrays["hidden_out"] = hidden.out
    as_float32: dict[str, Any] = {name: array.astype(np.float32) for name, array in arrays.items()}
    np.savez_compressed(path, **as_float32)


@cache
def load_head() -> Head:
    return read_head(resources.files("beacon_gql.analysis").joinpath(WEIGHTS_FILE).read_bytes())


def read_head(data: bytes) -> Head:
    with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
        hidden = None
        if "hidden_weights" in arrays:
            hidden = Hidden(arrays["hidden_weights"], arrays["hidden_bias"], arrays["hidden_out"])
        return Head(
            mean=arrays["mean"],
            scale=arrays["scale"],
            weights=arrays["weights"],
            bias=arrays["bias"],
            hidden=hidden,
            digest=hashlib.sha256(data).hexdigest()[:12],
        )
