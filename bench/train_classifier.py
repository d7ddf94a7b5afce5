"""Train the classifier's head on the TRAINING part of the evaluation set; write its weights.

    .venv/bin/python -m bench.train_classifier [--out beacon_gql/analysis/classifier_head.npz]

Multinomial logistic regression (numpy, full-batch Adam, L2). The two choices made here,
the L2 strength and how much the encoder's dimensions are shrunk against the hand-made
features, are picked by leave-one-language-out cross-validation on the training part: it
rewards what carries over to a language the model was not fitted on, which is what an
unseen set asks of it. The held-out part is never read here.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import numpy.typing as npt

from beacon_gql.analysis.encoder import DIMENSIONS
from beacon_gql.analysis.failures import detect_failure
from beacon_gql.analysis.features import feature_rows
from beacon_gql.analysis.head import LABELS, save_head
from bench.bench_classifier import PROJECT_ROOT, load_set

Array = npt.NDArray[np.float32]
L2_CHOICES = (0.01, 0.03, 0.1)
SHRINK_CHOICES = (1.0, 0.3)
STEPS = 600


def fit(
    x: Array, y: npt.NDArray[np.int64], l2: float, embedding_dims: int = 0, shrink: float = 1.0
) -> tuple[Array, Array, Array, Array]:
    """Standardise, then fit; the first `embedding_dims` columns are scaled down by `shrink`
    after standardising (a stronger penalty on the many encoder dimensions than on the few
    hand-made features)."""
    mean = x.mean(axis=0)
    scale = x.std(axis=0) + 1e-3
    scale[:embedding_dims] /= shrink
    z = (x - mean) / scale
    n, d = z.shape
    k = len(LABELS)
    onehot = np.eye(k, dtype=np.float32)[y]
    # Equal weight per label, so the rarer labels are not traded away for accuracy.
    counts = onehot.sum(axis=0)
    sample_weight = (n / (k * counts))[y][:, None]
    w = np.zeros((d, k), np.float32)
    b = np.zeros(k, np.float32)
    moments = [np.zeros_like(w), np.zeros_like(w), np.zeros_like(b), np.zeros_like(b)]
    rate, beta1, beta2 = 0.01, 0.9, 0.999
    for step in range(1, STEPS + 1):
        logits = z @ w + b
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        error = (p - onehot) * sample_weight / n
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


def predict(model: tuple[Array, Array, Array, Array], x: Array) -> npt.NDArray[np.int64]:
    mean, scale, w, b = model
    result: npt.NDArray[np.int64] = (((x - mean) / scale) @ w + b).argmax(axis=1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--out", default=str(PROJECT_ROOT / "beacon_gql" / "analysis" / "classifier_head.npz")
    )
    args = parser.parse_args()
    rows = [
        row
        for row in load_set("train")
        if row["label"] != "TECHNICAL_FAILURE" and detect_failure(row["answer"]) is None
    ]
    x, _ = feature_rows([row["answer"] for row in rows], [row["question"] for row in rows])
    y = np.array([LABELS.index(row["label"]) for row in rows], dtype=np.int64)
    languages = np.array([row["language"] for row in rows])
    print(f"training rows: {len(rows)}, features: {x.shape[1]}")
    best: tuple[float, float, float] | None = None
    for l2 in L2_CHOICES:
        for shrink in SHRINK_CHOICES:
            correct = 0
            for language in sorted(set(languages)):
                test = languages == language
                model = fit(x[~test], y[~test], l2, DIMENSIONS, shrink)
                correct += int((predict(model, x[test]) == y[test]).sum())
            accuracy = correct / len(y)
            print(f"l2={l2} shrink={shrink}: leave-one-language-out accuracy {accuracy:.3f}")
            if best is None or accuracy > best[0]:
                best = (accuracy, l2, shrink)
    assert best is not None
    model = fit(x, y, best[1], DIMENSIONS, best[2])
    print(
        f"chosen l2={best[1]} shrink={best[2]}; "
        f"training accuracy {(predict(model, x) == y).mean():.3f}"
    )
    save_head(args.out, *model)
    print(f"wrote {Path(args.out).relative_to(PROJECT_ROOT)} ({Path(args.out).stat().st_size} B)")


if __name__ == "__main__":
    main()
