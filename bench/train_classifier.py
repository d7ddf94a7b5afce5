"""Train the classifier's head on the TRAINING parts of the two evaluation sets; write it.

    .venv/bin/python -m bench.train_classifier [--out beacon_gql/analysis/classifier_head.npz]

The sets: our own (tests/data/classification/answers.jsonl, composed, nine languages) and
the public one (tests/data/classification_public/xstest.jsonl, real model answers labelled
by people, English). Only rows with `split == "train"` are read; the held-out parts are
never read here.

Multinomial logistic regression (numpy, full-batch Adam, L2). Every (source, label) pair
weighs the same in total, so neither the larger public set nor the commonest label decides
alone. The two choices made here, the L2 strength and how much the encoder's dimensions
are shrunk against the hand-made features, are picked by leave-one-group-out
cross-validation on the training parts, a group being one language of our set or the whole
public set: it rewards what carries over to a language, or a source of answers, the model
was not fitted on. The score is the mean of the two sources' cross-validated accuracies.
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from beacon_gql.analysis.encoder import DIMENSIONS
from beacon_gql.analysis.failures import detect_failure
from beacon_gql.analysis.features import feature_rows
from beacon_gql.analysis.head import LABELS, save_head
from bench.bench_classifier import DATA, PROJECT_ROOT, PUBLIC_DATA, load_set

Array = npt.NDArray[np.float32]
Labels = npt.NDArray[np.int64]
L2_CHOICES = (0.01, 0.03, 0.1)
SHRINK_CHOICES = (1.0, 0.3)
STEPS = 600
PUBLIC_GROUP = "public"


def fit(
    x: Array,
    y: Labels,
    l2: float,
    embedding_dims: int = 0,
    shrink: float = 1.0,
    sample_weight: Array | None = None,
) -> tuple[Array, Array, Array, Array]:
    """Standardise, then fit; the first `embedding_dims` columns are scaled down by `shrink`
    after standardising (a stronger penalty on the many encoder dimensions than on the few
    hand-made features). `sample_weight` (mean 1) defaults to equal weight per label."""
    mean = x.mean(axis=0)
    scale = x.std(axis=0) + 1e-3
    scale[:embedding_dims] /= shrink
    z = (x - mean) / scale
    n, d = z.shape
    k = len(LABELS)
    onehot = np.eye(k, dtype=np.float32)[y]
    if sample_weight is None:
        counts = onehot.sum(axis=0)
        sample_weight = (n / (k * np.maximum(counts, 1)))[y].astype(np.float32)
    weight = sample_weight[:, None]
    w = np.zeros((d, k), np.float32)
    b = np.zeros(k, np.float32)
    moments = [np.zeros_like(w), np.zeros_like(w), np.zeros_like(b), np.zeros_like(b)]
    rate, beta1, beta2 = 0.01, 0.9, 0.999
    for step in range(1, STEPS + 1):
        logits = z @ w + b
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        error = (p - onehot) * weight / n
        grad_w = z.T @ error + l2 * w
        grad_b = error.sum(axis=0)
        for index, (param, grad) in enumerate(((w, grad_w), (b, grad_b))):
            m, v = moments[2 * index], moments[2 * index + 1]
            m *= beta1
            m += (1 - beta1) * grad
            v *= beta2
            v += (1 - beta2) * grad * grad
            corrected = (m / (1 - beta1**step)) / (np.sqrt(v / (1 - beta2**step)) + 1e-8)
            param -= rate * corrected
    return mean, scale, w, b


def predict(model: tuple[Array, Array, Array, Array], x: Array) -> Labels:
    mean, scale, w, b = model
    result: Labels = (((x - mean) / scale) @ w + b).argmax(axis=1)
    return result


def balanced_weights(sources: npt.NDArray[Any], y: Labels) -> Array:
    """Each (source, label) pair present gets the same total weight; mean weight 1."""
    pairs = list(zip(sources.tolist(), y.tolist(), strict=True))
    counts = Counter(pairs)
    weights = np.array([1.0 / counts[pair] for pair in pairs], np.float32)
    result: Array = weights * (len(weights) / weights.sum())
    return result


def training_rows() -> list[dict[str, Any]]:
    """The training parts of both sets, technical failures left to the detectors."""
    rows = []
    for source, data in (("own", DATA), (PUBLIC_GROUP, PUBLIC_DATA)):
        for row in load_set("train", data):
            if row["label"] != "TECHNICAL_FAILURE" and detect_failure(row["answer"]) is None:
                rows.append({**row, "origin": source})
    return rows


def cross_validate(
    x: Array,
    y: Labels,
    sources: npt.NDArray[Any],
    groups: npt.NDArray[Any],
    l2: float,
    shrink: float,
) -> dict[str, float]:
    """Leave-one-group-out accuracy per source."""
    correct = np.zeros(len(y), bool)
    for group in sorted(set(groups.tolist())):
        test = groups == group
        model = fit(
            x[~test], y[~test], l2, DIMENSIONS, shrink, balanced_weights(sources[~test], y[~test])
        )
        correct[test] = predict(model, x[test]) == y[test]
    return {source: float(correct[sources == source].mean()) for source in sorted(set(sources))}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--out", default=str(PROJECT_ROOT / "beacon_gql" / "analysis" / "classifier_head.npz")
    )
    args = parser.parse_args()
    rows = training_rows()
    x, _ = feature_rows([row["answer"] for row in rows], [row["question"] for row in rows])
    y = np.array([LABELS.index(row["label"]) for row in rows], dtype=np.int64)
    sources = np.array([row["origin"] for row in rows])
    groups = np.array(
        [PUBLIC_GROUP if row["origin"] == PUBLIC_GROUP else row["language"] for row in rows]
    )
    print(f"training rows: {dict(Counter(sources.tolist()))}, features: {x.shape[1]}")
    best: tuple[float, float, float] | None = None
    for l2 in L2_CHOICES:
        for shrink in SHRINK_CHOICES:
            scores = cross_validate(x, y, sources, groups, l2, shrink)
            score = sum(scores.values()) / len(scores)
            shown = ", ".join(f"{source} {value:.3f}" for source, value in scores.items())
            print(f"l2={l2} shrink={shrink}: leave-one-group-out accuracy {shown}")
            if best is None or score > best[0]:
                best = (score, l2, shrink)
    assert best is not None
    model = fit(x, y, best[1], DIMENSIONS, best[2], balanced_weights(sources, y))
    print(
        f"chosen l2={best[1]} shrink={best[2]}; "
        f"training accuracy {(predict(model, x) == y).mean():.3f}"
    )
    save_head(args.out, *model)
    print(f"wrote {args.out} ({Path(args.out).stat().st_size} B)")


if __name__ == "__main__":
    main()
