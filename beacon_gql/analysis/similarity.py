"""How alike two answers to the same question are, in any script.

The default measure is a TF-IDF cosine (`TfidfIndex` has the weights). Tokens are the words
of the normalised answer (punctuation replaced by spaces, split on whitespace), except that
runs of CJK characters, written without spaces, become overlapping character bigrams
("天安门" -> "天安", "安门"), so Chinese, Japanese and Korean answers compare as well as
English ones. Answers in different scripts share no token and score 0.

Why words and binary term frequency rather than character 3-gram counts: a 1,000-character
answer has ~150 words but ~1,000 3-grams, and in pure Python 3-gram count vectors took over
2 s for a 5,000-execution job (counting alone ~1 s) where words and token sets take ~0.2 s.

An embedding model can replace the measure: implement `Similarity` and pass it to
`compute_analysis`.
"""

from __future__ import annotations

import math
import string
from collections import Counter
from collections.abc import Iterable, Sequence
from itertools import chain
from typing import Protocol

from beacon_gql.analysis.text import CJK_LETTER_RUN


class SimilarityIndex(Protocol):
    """Similarities among a fixed list of answers, addressed by their position in it."""

    def similarity(self, first: int, second: int) -> float:
        """How alike answers `first` and `second` are: 0.0 (nothing shared) to 1.0 (same)."""
        ...


class Similarity(Protocol):
    """A similarity measure, prepared once per question over all the answers to it."""

    def index(self, texts: Sequence[str]) -> SimilarityIndex:
        """Prepare the answers `texts`, normalised with `text.normalise`, for comparison."""
        ...


_SEPARATORS = (
    string.punctuation
    + "¡«·»¿"  # Latin-1 punctuation
    + "".join(map(chr, range(0x2000, 0x2070)))  # General Punctuation: dashes, ellipsis
    + "".join(map(chr, range(0x3000, 0x3040)))  # CJK Symbols and Punctuation: 。、「」
)
_PUNCTUATION_TO_SPACE = str.maketrans(dict.fromkeys(_SEPARATORS, " "))


def tokenize(normalised_text: str) -> list[str]:
    """The tokens of an answer already normalised with `text.normalise` (see module docs)."""
    words = normalised_text.translate(_PUNCTUATION_TO_SPACE).split()
    if normalised_text.isascii():
        return words
    tokens: list[str] = []
    for word in words:
        if CJK_LETTER_RUN.search(word) is None:
            tokens.append(word)
        else:
            tokens.extend(_split_cjk(word))
    return tokens


def _split_cjk(word: str) -> list[str]:
    tokens: list[str] = []
    position = 0
    for run in CJK_LETTER_RUN.finditer(word):
        if run.start() > position:
            tokens.append(word[position : run.start()])
        characters = run.group()
        if len(characters) == 1:
            tokens.append(characters)
        else:
            tokens.extend(characters[i : i + 2] for i in range(len(characters) - 1))
        position = run.end()
    if position < len(word):
        tokens.append(word[position:])
    return tokens


class TfidfIndex:
    """TF-IDF vectors of a list of answers, with IDF taken from that same list.

    Weight of token t in answer d: idf(t) if d contains t, else 0, where
    idf(t) = ln((1 + N) / (1 + df(t))) + 1, N the number of answers and df(t) the number
    containing t (the smoothed IDF of scikit-learn: a token in every answer still counts).
    Term frequency is binary, as with scikit-learn's `binary=True`: a verbose answer that
    repeats a word is not more about it, and sets make each comparison a C-level set
    intersection. The similarity is the cosine of two weight vectors; two answers without
    tokens are identical (1.0), one without tokens shares nothing (0.0).
    """

    def __init__(self, token_sets: Sequence[frozenset[str]]) -> None:
        document_frequency = Counter(chain.from_iterable(token_sets))
        answers = len(token_sets)
        self._idf_squared = {
            token: (math.log((1 + answers) / (1 + frequency)) + 1) ** 2
            for token, frequency in document_frequency.items()
        }
        self._token_sets = token_sets
        self._squared_norms = [self._weight(tokens) for tokens in token_sets]

    def _weight(self, tokens: Iterable[str]) -> float:
        """The sum of the squared weights of `tokens`."""
        total: float = sum(map(self._idf_squared.__getitem__, tokens))
        return total

    def similarity(self, first: int, second: int) -> float:
        """Cosine similarity of the TF-IDF vectors of answers `first` and `second`."""
        first_tokens, second_tokens = self._token_sets[first], self._token_sets[second]
        if first_tokens == second_tokens:
            # Also spares identical answers a cosine of 0.9999999999999998.
            return 1.0
        if not first_tokens or not second_tokens:
            return 0.0
        # The same model's answers in two regions differ in a few words: summing the
        # weights of the few differing tokens is cheaper than summing the many shared ones.
        only_first = first_tokens - second_tokens
        if 2 * len(only_first) < len(first_tokens):
            shared = self._squared_norms[first] - self._weight(only_first)
        else:
            shared = self._weight(first_tokens & second_tokens)
        norms = math.sqrt(self._squared_norms[first] * self._squared_norms[second])
        return min(1.0, shared / norms)


class TfidfSimilarity:
    """The default `Similarity`: TF-IDF cosine over words and CJK character bigrams."""

    def index(self, texts: Sequence[str]) -> TfidfIndex:
        """Tokenise and weight `texts`, the normalised answers to one question."""
        return TfidfIndex([frozenset(tokenize(text)) for text in texts])


def length_ratio(first: str, second: str) -> float:
    """Length of the shorter text over the longer, in characters; 1.0 for two empty texts."""
    shorter, longer = sorted((len(first), len(second)))
    return 1.0 if longer == 0 else shorter / longer
