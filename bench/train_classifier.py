"""Train the classifier's head on the TRAINING parts of the evaluation sets; write it.

    .venv/bin/python -m bench.train_classifier [--out beacon_gql/analysis/classifier_head.npz]
    .venv/bin/python -m bench.train_classifier --search

The training parts: our own set (tests/data/classification/answers.jsonl, composed, nine
languages, `split == "train"`), the public ones (tests/data/classification_public/xstest.jsonl
and do_not_answer.jsonl, real model answers labelled by people, English, `split == "train"`)
and the sets of
tests/data/classification_extra/ (each written from the label definitions by an author of
its own, nine languages). No held-out part is read here.

A multinomial logistic regression with one hidden layer of ReLU units adding to its logits
(numpy, full-batch Adam, L2; since session 10: leave-one-source-out 0.89 -> 0.90; since
session 11 three starts of 32 units averaged: 0.899 -> 0.903). Every
(source, label) pair weighs the same in total, so neither the larger sets nor the commonest
label decide alone; the public set (real model answers labelled by people, the nearest thing
to what the service will meet) may weigh more.

The settings (the L2 strength, the public set's weight, and a log-odds offset for
SUBSTANTIVE) are picked by what carries over to answers by an author the model did not
learn from: the leave-one-source-out accuracy over the training sets (train on all sources
but one, score that one, for each source in turn). The accuracy on the development part of
the independent set (tests/data/classification_independent/dev.jsonl, written by an author
who never saw this code or these sets) is printed beside it. Until session 6 the two were
averaged; the leave-one-source-out figure rests on about 10,000 answers from twenty-six
sources (twenty-two in session 6), the development part on 225 by one, and in session 6 the
average picked a head (offset 0) that read two of the simulator's substantive answers as
EVASIVE, which the analysis tests caught. Neither the test part of that set, nor the sets in
tests/data/classification_independent_b/ and _c/, nor the held-out parts of our own and the
public set are read here. On a tie the stronger regularisation and the smaller offset win.
`--search` runs that measure; a plain run fits the settings it picked (`CHOSEN`).
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from beacon_gql.analysis.failures import answer_part, detect_failure
from beacon_gql.analysis.features import ENCODED_FEATURES, feature_rows
from beacon_gql.analysis.head import LABELS, Head, Hidden, save_head
from bench.bench_classifier import (
    DATA,
    EXTRA_DATA,
    INDEPENDENT_DEV,
    PROJECT_ROOT,
    PUBLIC_DATA,
    PUBLIC_EXTRA_DATA,
    load_set,
)

Array = npt.NDArray[np.float32]
Labels = npt.NDArray[np.int64]
L2_CHOICES = (0.007, 0.003)
"""Per-answer penalty; with ~11,000 training answers, scikit-learn's C of about 0.013 and 0.03.
0.02 carried over worse in sessions 6-9 (leave-one-source-out 0.890 against 0.897 with the
hidden layer) and is no longer tried."""
PUBLIC_WEIGHTS = (1.0,)
"""The public sets' weight: x3 lost to x1 in every search of sessions 6-8 and is no longer
tried."""
SHRINK = 0.3
"""How much the encoder's dimensions are scaled down against the hand-made features after
standardising (a stronger penalty on the many encoder dimensions). Explored with 1.0, 0.3
and 0.15 by the same leave-one-source-out measure: 0.3 carried over best."""
HIDDEN_UNITS = 32
"""ReLU units beside the logistic regression (64 carried over no better: 0.896 against 0.897)."""
STEPS = 400
RATE = 0.005
SEEDS = (0, 1, 2)
"""Starts of the hidden units whose fits are averaged (the hidden layer is their units side
by side): one start left a border answer on the side of its random start."""
PUBLIC_GROUP = "public"
CHOSEN = (0.003, 1.0, 0.5)
"""(L2, public weight, SUBSTANTIVE offset) of the shipped head; the default run fits these
alone, in about two minutes (three starts), where the search takes about an hour and a half.
Session 11: with the hidden units' three starts averaged (`SEEDS`), leave-one-source-out at
L2 0.003 (the single-start search's pick in session 10, by 0.001) gave 0.9015 / 0.9031 /
0.9026 at offsets 0 / 0.25 / 0.5, against 0.8968 / 0.8984 / 0.8986 for one start (same code
and sources); L2 0.007 with three starts, run afterwards, gave 0.8975 / 0.9000 / 0.9011, so
the complete search keeps L2 0.003. The rule picks offset 0.25, by
0.0005; at 0.25 two answers of the simulator and the analysis tests are read against the
label definitions (an argued "the internet is arguably the most important invention" and
the Chinese "a language model trained to answer questions" for "Who are you?", both EVASIVE
at 0.55), at 0.5 none, so 0.5 ships: chosen before any held-out part was measured."""


def fit(
    x: Array,
    y: Labels,
    l2: float,
    embedding_dims: int = 0,
    shrink: float = 1.0,
    sample_weight: Array | None = None,
) -> Head:
    """Standardise, then fit logits = z @ w + b + relu(z @ w1 + b1) @ w2 once per seed in
    SEEDS and average the fits (their hidden units side by side, as one layer); the first
    `embedding_dims` columns are scaled down by `shrink` after standardising (a stronger
    penalty on the many encoder dimensions than on the few hand-made features).
    `sample_weight` (mean 1) defaults to equal weight per label. The result is the head the
    service loads, unsaved (no digest)."""
    mean = x.mean(axis=0)
    scale = x.std(axis=0) + 1e-3
    scale[:embedding_dims] /= shrink
    z = (x - mean) / scale
    n = len(z)
    k = len(LABELS)
    onehot = np.eye(k, dtype=np.float32)[y]
    if sample_weight is None:
        counts = onehot.sum(axis=0)
        sample_weight = (n / (k * np.maximum(counts, 1)))[y].astype(np.float32)
    fits = [_fit_seed(z, onehot, sample_weight[:, None], l2, seed) for seed in SEEDS]
    hidden = Hidden(
        np.concatenate([f["w1"] for f in fits], axis=1),
        np.concatenate([f["b1"] for f in fits]),
        np.concatenate([f["w2"] for f in fits]) / len(fits),
    )
    weights = np.mean([f["w"] for f in fits], axis=0).astype(np.float32)
    bias = np.mean([f["b"] for f in fits], axis=0).astype(np.float32)
    return Head(mean, scale, weights, bias, hidden, digest="")


def _fit_seed(z: Array, onehot: Array, weight: Array, l2: float, seed: int) -> dict[str, Array]:
    """Full-batch Adam with an L2 penalty on every weight. w2 starts at zero, so the fit
    starts as the logistic regression's; w1 starts random, from `seed`."""
    n, d = z.shape
    k = onehot.shape[1]
    random = np.random.default_rng(seed)
    params = {
        "w": np.zeros((d, k), np.float32),
        "b": np.zeros(k, np.float32),
        "w1": (random.standard_normal((d, HIDDEN_UNITS)) / np.sqrt(d)).astype(np.float32),
        "b1": np.zeros(HIDDEN_UNITS, np.float32),
        "w2": np.zeros((HIDDEN_UNITS, k), np.float32),
    }
    moments = {name: (np.zeros_like(p), np.zeros_like(p)) for name, p in params.items()}
    beta1, beta2 = 0.9, 0.999
    for step in range(1, STEPS + 1):
        before_units = z @ params["w1"] + params["b1"]
        units = np.maximum(before_units, 0)
        logits = z @ params["w"] + params["b"] + units @ params["w2"]
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        error = (p - onehot) * weight / n
        unit_error = (error @ params["w2"].T) * (before_units > 0)
        grads = {
            "w": z.T @ error + l2 * params["w"],
            "b": error.sum(axis=0),
            "w1": z.T @ unit_error + l2 * params["w1"],
            "b1": unit_error.sum(axis=0),
            "w2": units.T @ error + l2 * params["w2"],
        }
        for name, grad in grads.items():
            m, v = moments[name]
            m *= beta1
            m += (1 - beta1) * grad
            v *= beta2
            v += (1 - beta2) * grad * grad
            corrected = (m / (1 - beta1**step)) / (np.sqrt(v / (1 - beta2**step)) + 1e-8)
            params[name] -= RATE * corrected
    return params


def balanced_weights(sources: npt.NDArray[Any], y: Labels, public: float = 1.0) -> Array:
    """Each (source, label) pair present gets the same total weight, the public set's
    `public` times as much; mean weight 1."""
    pairs = list(zip(sources.tolist(), y.tolist(), strict=True))
    counts = Counter(pairs)
    boost = {PUBLIC_GROUP: public}
    weights = np.array([boost.get(pair[0], 1.0) / counts[pair] for pair in pairs], np.float32)
    result: Array = weights * (len(weights) / weights.sum())
    return result


def training_rows() -> list[dict[str, Any]]:
    """The training parts of every set, technical failures left to the detectors."""
    sources = [("own", DATA), (PUBLIC_GROUP, PUBLIC_DATA)]
    sources += [(path.stem, path) for path in PUBLIC_EXTRA_DATA]
    sources += [(path.stem, path) for path in sorted(EXTRA_DATA.glob("*.jsonl"))]
    rows = []
    for source, data in sources:
        for row in load_set("train", data):
            if (
                row["label"] != "TECHNICAL_FAILURE"
                and detect_failure(row["answer"], row["question"]) is None
            ):
                rows.append({**row, "origin": source, "answer": served(row["answer"])})
    return rows


def served(answer: str) -> str:
    """The answer as `classify_answers` gives it to the head: after any reasoning block and
    before any trailing padding (until session 7 the trainer kept the block, and 124 training
    answers were learned with text the head never sees)."""
    return answer_part(answer)


def dev_rows() -> list[dict[str, Any]]:
    """The independent set's development part, as the head sees it (no detected failure)."""
    return [
        {**row, "answer": served(row["answer"])}
        for row in load_set(None, INDEPENDENT_DEV)
        if row["label"] != "TECHNICAL_FAILURE"
        and detect_failure(row["answer"], row["question"]) is None
    ]


OFFSETS = (0.0, 0.25, 0.5)
"""Log-odds added to SUBSTANTIVE: where the data cannot tell, an answer gets the benefit of
the doubt, since calling it censored is the claim the analysis has to stand behind."""

Setting = tuple[float, float]  # (l2, public weight)


def accuracy_by_offset(scores: Array, y: Labels) -> dict[float, float]:
    out = {}
    for offset in OFFSETS:
        shifted = scores.copy()
        shifted[:, LABELS.index("SUBSTANTIVE")] += offset
        out[offset] = float((shifted.argmax(axis=1) == y).mean())
    return out


def carry_over(
    x: Array, y: Labels, sources: npt.NDArray[Any], dev: tuple[Array, Labels], setting: Setting
) -> dict[float, float]:
    """For each offset: the leave-one-source-out accuracy (the development accuracy is
    printed beside it)."""
    l2, public = setting
    left_out: dict[float, list[float]] = {offset: [] for offset in OFFSETS}
    for source in sorted(set(sources.tolist())):
        keep = sources != source
        model = fit(
            x[keep],
            y[keep],
            l2,
            ENCODED_FEATURES,
            SHRINK,
            balanced_weights(sources[keep], y[keep], public),
        )
        for offset, score in accuracy_by_offset(model.logits(x[~keep]), y[~keep]).items():
            left_out[offset].append(score)
    model = fit(x, y, l2, ENCODED_FEATURES, SHRINK, balanced_weights(sources, y, public))
    on_dev = accuracy_by_offset(model.logits(dev[0]), dev[1])
    result = {}
    for offset in OFFSETS:
        loso = float(np.mean(left_out[offset]))
        result[offset] = loso
        print(
            f"l2={l2} public x{public} offset {offset}: leave-one-source-out {loso:.3f} "
            f"(lowest {min(left_out[offset]):.3f}), development {on_dev[offset]:.3f}",
            flush=True,
        )
    return result


def search(x: Array, y: Labels, sources: npt.NDArray[Any], dev: tuple[Array, Labels]) -> None:
    """Every setting's carry-over, and the one the rule picks (to be written into CHOSEN)."""
    best: tuple[float, float, Setting] | None = None
    # Strongest regularisation first and the offset ascending: a later choice must do
    # strictly better to win.
    for l2 in sorted(L2_CHOICES, reverse=True):
        for public in PUBLIC_WEIGHTS:
            for offset, score in carry_over(x, y, sources, dev, (l2, public)).items():
                if best is None or score > best[0]:
                    best = (score, offset, (l2, public))
    assert best is not None
    score, offset, (l2, public) = best
    print(f"the rule picks l2={l2} public x{public} SUBSTANTIVE offset={offset} ({score:.3f})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--out", default=str(PROJECT_ROOT / "beacon_gql" / "analysis" / "classifier_head.npz")
    )
    parser.add_argument(
        "--search",
        action="store_true",
        help="measure every setting by leave-one-source-out (1.5 hours) instead of fitting",
    )
    args = parser.parse_args()
    rows = training_rows()
    x, _ = feature_rows([row["answer"] for row in rows], [row["question"] for row in rows])
    y = np.array([LABELS.index(row["label"]) for row in rows], dtype=np.int64)
    sources = np.array([row["origin"] for row in rows])
    dev = dev_rows()
    dev_x, _ = feature_rows([row["answer"] for row in dev], [row["question"] for row in dev])
    dev_y = np.array([LABELS.index(row["label"]) for row in dev], dtype=np.int64)
    print(f"training rows: {dict(Counter(sources.tolist()))}, features: {x.shape[1]}")
    print(f"development rows (independent set, answers the detectors pass): {len(dev)}")
    if args.search:
        search(x, y, sources, (dev_x, dev_y))
        return
    l2, public, offset = CHOSEN
    model = fit(x, y, l2, ENCODED_FEATURES, SHRINK, balanced_weights(sources, y, public))
    model.bias[LABELS.index("SUBSTANTIVE")] += offset
    print(
        f"l2={l2} public x{public} SUBSTANTIVE offset={offset}; "
        f"training accuracy {(model.logits(x).argmax(axis=1) == y).mean():.3f}, "
        f"development accuracy {(model.logits(dev_x).argmax(axis=1) == dev_y).mean():.3f}"
    )
    save_head(args.out, model.mean, model.scale, model.weights, model.bias, model.hidden)
    print(f"wrote {args.out} ({Path(args.out).stat().st_size} B)")


if __name__ == "__main__":
    main()
