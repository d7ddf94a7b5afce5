"""The head the trainer fits and the one the service reads from its weights file agree, and the
hidden layer learns what a linear model cannot."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from beacon_gql.analysis.head import read_head, save_head
from bench.train_classifier import fit


def exclusive_or(count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Label 1 where exactly one of two features is positive, else 0: no line separates them."""
    random = np.random.default_rng(seed)
    x = random.standard_normal((count, 6)).astype(np.float32)
    y = ((x[:, 0] > 0) ^ (x[:, 1] > 0)).astype(np.int64)
    return x, y


def test_the_saved_head_reads_answers_as_the_trainer_fitted_them(tmp_path: Path) -> None:
    x, y = exclusive_or(600, seed=1)
    fitted = fit(x, y, l2=0.001)
    path = tmp_path / "head.npz"
    save_head(str(path), fitted.mean, fitted.scale, fitted.weights, fitted.bias, fitted.hidden)
    head = read_head(path.read_bytes())

    unseen, truth = exclusive_or(400, seed=2)
    probabilities = head.probabilities(unseen)
    assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    assert (probabilities.argmax(axis=1) == fitted.logits(unseen).argmax(axis=1)).all()
    # A linear model scores about 0.5 here; the hidden layer is what reads the rule.
    assert (probabilities.argmax(axis=1) == truth).mean() > 0.85


def test_a_head_without_a_hidden_layer_is_the_logistic_regression(tmp_path: Path) -> None:
    x, _ = exclusive_or(50, seed=3)
    weights = np.arange(18, dtype=np.float32).reshape(6, 3) / 10
    bias = np.array([0.5, -0.5, 0.0], np.float32)
    path = tmp_path / "head.npz"
    save_head(str(path), np.zeros(6, np.float32), np.ones(6, np.float32), weights, bias)
    head = read_head(path.read_bytes())

    assert head.hidden is None
    expected = x @ weights + bias
    assert np.allclose(head.logits(x), expected, atol=1e-5)
