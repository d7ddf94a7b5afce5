"""How far two answers to the same question say the same thing, in any language.

The score (`consistency`, 0 to 1) is the cosine of the two answers' vectors from the
multilingual sentence encoder the classifier uses (`encoder`: an answer and its faithful
translation land close together), less a penalty for each of three contradictions sentence
encoders are known to miss, since a swapped year, a swapped name or an added "not" barely
moves a sentence's vector (0.85 to 0.97 for such pairs, against 0.7 to 0.93 for
translations):

- numbers: each answer states a number the other does not ("fell in 1989" / "fell in
  1961"). Digits are written alike in every language the tool meets; one side adding a
  figure the other leaves out ("June 4" / "6月4日") is detail, not contradiction.
- names and swapped spans: the two answers are in the same language (they share at least
  `SAME_LANGUAGE` of their words) and either each names someone or something the other
  does not (capitalised words inside a sentence: "Washington" / "Lincoln"), or they are
  one text but for a single short span, swapped on each side ("毛泽东" / "孙中山",
  "peaceful" / "violent"), and the encoder, though it sees the rest alike, puts them
  below `SWAP_COSINE`, which a synonym does not. The swap look serves scripts without
  capitals (Chinese, Japanese, Arabic) and swapped words that are not names. Only within
  one language, as translations spell names differently. One penalty for both looks.
- negation (`negation`): in what both openings hold (`_aligned_negations`), the two
  answers negate a different number of clauses (one language), or one negates and the
  other does not (two languages: a translation may move a negation between clauses,
  rarely drops it). "Taiwan is a sovereign country" / "... has no government of its own".

All looks are taken at the same part of the answer the encoder sees, its opening
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

from beacon_gql.analysis.encoder import DIMENSIONS, HEAD_CHARS, Matrix, encode, opening
from beacon_gql.analysis.failures import answer_part
from beacon_gql.analysis.negation import negated_clauses
from beacon_gql.analysis.text import HAN_AND_KANA

NUMBER_PENALTY = 0.3
NAME_PENALTY = 0.3
"""Taken once for a swapped name or a swapped span (they are two looks at one thing)."""
NEGATION_PENALTY = 0.4
"""More than the others: a sentence and its negation keep a cosine up to 0.97, and
translations go down to 0.7."""
SAME_LANGUAGE = 0.3
"""Share (Jaccard) of lower-case words above which two answers count as one language."""
NEAR_DUPLICATE = 0.5
"""Share (Jaccard) of words above which two answers in one language may be one text with a
span swapped."""
SWAP_COSINE = 0.93
"""Below this cosine, a one-span swap between near-duplicates changed what they say: a
synonym ("largest" / "biggest") or a reworded phrase ("protesters were killed" /
"demonstrators died") leaves the vector above 0.94, another name or an antonym ("毛泽东" /
"孙中山", "peaceful" / "violent") moves it to 0.80-0.92."""
SWAP_FLOOR = 0.5
"""Below this cosine two answers are not one text with a span swapped: the swap check (the
costly one) is not run. Near-duplicates with a swapped span score 0.6-0.95."""
SWAP_SPAN = 6
"""The most words a swapped span holds on each side; twice as many characters in Chinese
and Japanese, where a word is one to four."""

_NUMBER = re.compile(r"\d+")
# Chinese and Japanese run without spaces: each Han or kana character is one word to the
# same-language and swap checks (a sentence-long run of characters would be one word).
_TOKEN = re.compile(rf"[{HAN_AND_KANA}]|[^\W{HAN_AND_KANA}]+")
_CJK_CHARACTER = re.compile(rf"[{HAN_AND_KANA}]")
_FUNCTION = frozenset("的了是在和与也就都而及或之其这那个一")
"""Chinese characters that carry grammar, not a claim; kana-only spans are skipped too."""
_KANA = re.compile(r"[\u3040-\u309f]+")
# `\w+` rather than letters only: a third faster, and figures have no capitals, so they
# never pass for names.
_WORD = re.compile(r"\w+")
_SENTENCE_OPENER = re.compile(r"(?:^|[.!?。！？:;\"«»“”()])\s*(\w+)")


@dataclass(frozen=True)
class Gist:
    """What the score compares of one answer: its opening's vector, and the numbers, names,
    words and negations of that opening."""

    vector: Matrix
    numbers: frozenset[str]
    names: frozenset[str]
    """Words with a capital letter that do not open a sentence, case-folded."""
    words: frozenset[str]
    """Every word, case-folded (each Chinese or Japanese character a word)."""
    tokens: tuple[str, ...]
    """The same words in order, for the swap check."""
    negations: tuple[int, ...]
    """Negated clauses per sentence (`negation.negated_clauses`)."""
    cut: bool
    """The opening is cut short of the whole answer."""
    span: int
    """The most tokens a swapped span holds here (`SWAP_SPAN`)."""


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
    text = opening(answer_part(response))
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    # `int` reads every script's digits ("١٩٢٨" is 1928), which NFKC leaves as they are.
    numbers = frozenset(str(int(number)) for number in _NUMBER.findall(text))
    # Capitalised words, less those that open a sentence (a word capitalised both ways is
    # taken for the ordinary word: a rare loss, and these run for every answer).
    # Set operations and `map`, not a loop per word: these run for every answer.
    in_order = _WORD.findall(text)
    found = set(in_order)
    capitalised = found.difference(map(str.lower, found))
    capitalised.difference_update(_SENTENCE_OPENER.findall(text))
    names = frozenset(map(str.casefold, capitalised))
    span = SWAP_SPAN
    if text.isascii():  # `lower` is `casefold` there, and no character is Chinese
        tokens = tuple(map(str.lower, in_order))
    else:
        tokens = tuple(_TOKEN.findall(text.casefold()))
        if 2 * len(_CJK_CHARACTER.findall(text)) > len(tokens):
            span = 2 * SWAP_SPAN
    words = frozenset(tokens)
    cut = len(text) >= HEAD_CHARS
    negations = negated_clauses(text, words, complete=not cut)
    return Gist(vector, numbers, names, words, tokens, negations, cut, span)


def gists(responses: Sequence[str], vectors: Matrix | None = None) -> list[Gist]:
    """Gists of `responses`; their vectors are encoded here (in one batch) unless given."""
    if vectors is None:  # what the classifier encodes (`features.feature_rows`)
        vectors = encode([opening(answer_part(response)) for response in responses])
    return [gist(response, vector) for response, vector in zip(responses, vectors, strict=True)]


def _each_says_more(first: frozenset[str], second: frozenset[str]) -> bool:
    return bool(first - second) and bool(second - first)


def penalty(first: Gist, second: Gist, cosine: float) -> float:
    """What the number, name, swap and negation checks take off the cosine (see the
    module docstring); `cosine` is the encoder's, which the swap check reads."""
    total = 0.0
    if _each_says_more(first.numbers, second.numbers):
        total += NUMBER_PENALTY
    names_differ = _each_says_more(first.names, second.names)
    may_be_swapped = SWAP_FLOOR <= cosine < SWAP_COSINE
    ours, theirs = _aligned_negations(first, second)
    # One side negates and the other does not: a contradiction in any language. Counts
    # that differ otherwise are one only in one language (a translation moves a negation
    # between clauses, rarely drops it).
    language_matters = ours != theirs
    if language_matters and (ours == 0) != (theirs == 0):
        total += NEGATION_PENALTY
        language_matters = False
    if not (names_differ or may_be_swapped or language_matters):
        return total  # most pairs of unlike answers: no set of words compared
    # The share of words in common, from the two differences the swap check reads too.
    ours_only, theirs_only = first.words - second.words, second.words - first.words
    union = len(first.words) + len(theirs_only)
    overlap = (len(first.words) - len(ours_only)) / union if union else 0.0
    same = overlap >= SAME_LANGUAGE
    span = min(first.span, second.span)
    if same and (
        names_differ
        or (
            may_be_swapped
            and overlap >= NEAR_DUPLICATE
            and 0 < len(ours_only) <= span
            and 0 < len(theirs_only) <= span
            and _one_span_swapped(first, second, ours_only, theirs_only, span)
        )
    ):
        total += NAME_PENALTY
    if language_matters and same:
        total += NEGATION_PENALTY
    return total


def _aligned_negations(first: Gist, second: Gist) -> tuple[int, int]:
    """Negated clauses in what both openings hold: all of both when neither is cut short
    (one language joins with a comma what another splits in two sentences), else the
    sentences both hold (a Chinese opening holds more of an answer than an English one of
    as many characters)."""
    if not (first.cut or second.cut):
        return sum(first.negations), sum(second.negations)
    both = min(len(first.negations), len(second.negations))
    return sum(first.negations[:both]), sum(second.negations[:both])


def _one_span_swapped(
    first: Gist, second: Gist, ours_only: frozenset[str], theirs_only: frozenset[str], span: int
) -> bool:
    """The two texts are one text but for a single short span, on each side holding a
    word that carries content: what the claim hangs on (another name, an antonym)."""
    if not _clustered(ours_only, first, span) or not _clustered(theirs_only, second, span):
        return False  # words changed in two places: the common case among near-duplicates
    ours, theirs = first.tokens, second.tokens
    start = 0  # the common beginning (difflib would cost ten times as much)
    shortest = min(len(ours), len(theirs))
    while start < shortest and ours[start] == theirs[start]:
        start += 1
    ours, theirs = ours[start:], theirs[start:]
    if first.cut or second.cut:
        # An opening cut at `HEAD_CHARS` ends wherever the swapped span's length puts the
        # cut: what follows the span agrees only as far as both go, less the cut word.
        ours, theirs = ours[:-1] if first.cut else ours, theirs[:-1] if second.cut else theirs
        for mine in range(1, min(span, len(ours) - 1) + 1):
            # Where the text after our span picks up again in theirs.
            anchor, other = ours[mine], 0
            while anchor in theirs[other + 1 : span + 1]:
                other = theirs.index(anchor, other + 1, span + 1)
                if _swapped(ours[:mine], theirs[:other], ours[mine:], theirs[other:], span):
                    return True
        return False
    end = 0
    shortest = min(len(ours), len(theirs))
    while end < shortest and ours[-1 - end] == theirs[-1 - end]:
        end += 1
    return _swapped(ours[: len(ours) - end], theirs[: len(theirs) - end], (), (), span)


def _clustered(only: frozenset[str], side: Gist, span: int) -> bool:
    """The words only this side has lie within `span` words of each other (those in the
    end of an opening cut short aside: the other's cut falls elsewhere)."""
    tokens = side.tokens
    ends = len(tokens) - span - 1 if side.cut else len(tokens)
    positions = [place for place in map(tokens.index, only) if place < ends]
    return bool(positions) and max(positions) - min(positions) < span


def _swapped(
    ours: tuple[str, ...],
    theirs: tuple[str, ...],
    after: tuple[str, ...],
    other: tuple[str, ...],
    span: int,
) -> bool:
    """`ours` and `theirs` are short spans that carry content, and what follows them
    agrees as far as both go."""
    both = min(len(after), len(other))
    return (
        0 < len(ours) <= span
        and 0 < len(theirs) <= span
        and after[:both] == other[:both]
        and _content(ours)
        and _content(theirs)
    )


def _content(span: tuple[str, ...]) -> bool:
    return any(
        not token.isdigit()
        and token not in _FUNCTION
        and not _KANA.fullmatch(token)
        and (len(token) > 2 or not token.isascii())
        for token in span
    )


def consistency(first: Gist, second: Gist) -> float:
    """How far two answers say the same thing: 0 (unrelated or contradicting) to 1."""
    return _score(float(np.dot(first.vector, second.vector)), first, second)


_SAME = 1 - 1e-5
"""Float32 puts the cosine of a vector with itself at 0.99999...; the same text scores 1."""


def _score(cosine: float, first: Gist, second: Gist) -> float:
    if cosine >= _SAME:
        cosine = 1.0
    return min(1.0, max(0.0, cosine - penalty(first, second, cosine)))


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
