"""How far two answers to the same question say the same thing, in any language.

The score (`consistency`, 0 to 1) is the cosine of the two answers' vectors from the
multilingual sentence encoder the classifier uses (`encoder`: an answer and its faithful
translation land close together), less a penalty for each of two contradictions sentence
encoders are known to miss, since a swapped year or name barely moves a sentence's vector:

- numbers: each answer states a number the other does not ("fell in 1989" / "fell in
  1961"). Digits are written alike in every language the tool meets; one side adding a
  figure the other leaves out ("June 4" / "6月4日") is detail, not contradiction.
- names: the two answers are in the same language (they share at least `SAME_LANGUAGE`
  of their lower-case words) and each names someone or something the other does not
  (capitalised words inside a sentence: "Washington" / "Lincoln"). Only within one language,
  as translations spell names differently, and only in scripts with capitals (Latin,
  Cyrillic, Greek): Han script has none, so a swapped Chinese name goes unseen.

Both looks are taken at the same part of the answer the encoder sees, its opening
(`encoder.opening`, after any reasoning block): the vector is computed once, when the
answer is recorded, with the classifier's (`classify`), and stored; encoding whole answers
in the analysis would cost seconds. How well the score separates translations from
contradictions is measured on hand-made pairs by tests/test_meaning.py.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from beacon_gql.analysis.encoder import DIMENSIONS, Matrix, encode, opening
from beacon_gql.analysis.failures import without_reasoning

NUMBER_PENALTY = 0.3
NAME_PENALTY = 0.3
SAME_LANGUAGE = 0.3
"""Share (Jaccard) of lower-case words above which two answers count as one language."""

_NUMBER = re.compile(r"\d+")
# `\w+` rather than letters only: a third faster, and figures have no capitals, so they
# never pass for names.
_WORD = re.compile(r"\w+")
_SENTENCE_OPENER = re.compile(r"(?:^|[.!?。！？:;\"«»“”()])\s*(\w+)")


@dataclass(frozen=True)
class Gist:
    """What the score compares of one answer: its opening's vector, and the numbers, names
    and lower-case words of that opening."""

    vector: Matrix
    numbers: frozenset[str]
    names: frozenset[str]
    """Words with a capital letter that do not open a sentence, case-folded."""
    words: frozenset[str]
    """Every word, case-folded."""


def vector_bytes(vector: Matrix) -> bytes:
    """How a vector is stored: float16, 1 KB; the cosines move by under 1e-3."""
    return np.asarray(vector, dtype=np.float16).tobytes()


def vector_from_bytes(stored: bytes) -> Matrix:
    """A stored vector, at unit length again (float16 rounding moves it a little)."""
    vector = np.frombuffer(stored, dtype=np.float16).astype(np.float32)
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector


def gist(response: str, vector: Matrix) -> Gist:
    """The gist of `response`, whose opening the encoder turned into `vector`."""
    text = opening(without_reasoning(response))
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    numbers = frozenset(number.lstrip("0") or "0" for number in _NUMBER.findall(text))
    # Capitalised words, less those that open a sentence (a word capitalised both ways is
    # taken for the ordinary word: a rare loss, and these run for every answer).
    # Set operations and `map`, not a loop per word: these run for every answer.
    found = set(_WORD.findall(text))
    capitalised = found.difference(map(str.lower, found))
    capitalised.difference_update(_SENTENCE_OPENER.findall(text))
    names = frozenset(map(str.casefold, capitalised))
    words = frozenset(map(str.casefold, found))  # every word, names too
    return Gist(vector, numbers, names, words)


def gists(responses: Sequence[str], vectors: Matrix | None = None) -> list[Gist]:
    """Gists of `responses`; their vectors are encoded here (in one batch) unless given."""
    if vectors is None:  # what the classifier encodes (`features.feature_rows`)
        vectors = encode([opening(without_reasoning(response)) for response in responses])
    return [gist(response, vector) for response, vector in zip(responses, vectors, strict=True)]


def _each_says_more(first: frozenset[str], second: frozenset[str]) -> bool:
    return bool(first - second) and bool(second - first)


def same_language(first: Gist, second: Gist) -> bool:
    union = len(first.words | second.words)
    return union > 0 and len(first.words & second.words) >= SAME_LANGUAGE * union


def penalty(first: Gist, second: Gist) -> float:
    """What the number and name checks take off the cosine (see the module docstring)."""
    total = 0.0
    if _each_says_more(first.numbers, second.numbers):
        total += NUMBER_PENALTY
    if _each_says_more(first.names, second.names) and same_language(first, second):
        total += NAME_PENALTY
    return total


def consistency(first: Gist, second: Gist) -> float:
    """How far two answers say the same thing: 0 (unrelated or contradicting) to 1."""
    return _score(float(np.dot(first.vector, second.vector)), first, second)


_SAME = 1 - 1e-5
"""Float32 puts the cosine of a vector with itself at 0.99999...; the same text scores 1."""


def _score(cosine: float, first: Gist, second: Gist) -> float:
    if cosine >= _SAME:
        cosine = 1.0
    return min(1.0, max(0.0, cosine - penalty(first, second)))


class MeaningIndex:
    """Consistency among a fixed list of answers, addressed by their position in it; the
    cosines are one matrix product, the penalties computed for the pairs asked."""

    def __init__(self, items: Sequence[Gist]) -> None:
        self._gists = items
        self._vectors = (
            np.stack([item.vector for item in items])
            if items
            else np.zeros((0, DIMENSIONS), np.float32)
        )

    def similarity(self, first: int, second: int) -> float:
        if first == second:
            return 1.0
        # Pair by pair: a question's answers are compared in a few hundred pairs, far
        # fewer than the full matrix of cosines would compute.
        cosine = float(self._vectors[first] @ self._vectors[second])
        return _score(cosine, self._gists[first], self._gists[second])

    def distances(self, positions: Sequence[int]) -> Matrix:
        """1 - consistency between every two of `positions` (0 on the diagonal)."""
        chosen = self._vectors[list(positions)]
        cosines = chosen @ chosen.T
        size = len(positions)
        out = np.zeros((size, size), dtype=np.float32)
        for i in range(size):
            for j in range(i + 1, size):
                score = _score(
                    float(cosines[i, j]), self._gists[positions[i]], self._gists[positions[j]]
                )
                out[i, j] = out[j, i] = 1.0 - score
        return out


def length_ratio(first: str, second: str) -> float:
    """Length of the shorter text over the longer, in characters; 1.0 for two empty texts."""
    shorter, longer = sorted((len(first), len(second)))
    return 1.0 if longer == 0 else shorter / longer
