"""Detectors of answers cut off before they say anything: a few words, then nothing.

A chat model ends even a one-line answer with a full stop, and closes what it opens. A short
text that stops on a letter after several words, on a comma, on half a word of the question,
on an article or a conjunction, or inside a bracket, a bold span or a code block it opened
was cut: a token limit of a few tokens, a dropped stream. One or two words ("Paris",
"Mount Everest"), a figure ("2 + 2 = 4") and a closed answer stay answers.
`failures.detect_failure` runs these after the machine-output detectors.
"""

from __future__ import annotations

import re
import unicodedata

from beacon_gql.analysis.text import CJK_LETTER, normalise

FRAGMENT_MAX_CHARS = 120
FRAGMENT_MIN_WORDS = 4
FRAGMENT_MAX_WIDE_CHARS = 30
FRAGMENT_MIN_WIDE_CHARS = 5
"""A short text of several words (or CJK characters) that stops on a letter is cut ("The
main causes of World War I were milita")."""
CLAUSE_MARKS = ",;،、，"
"""An answer does not end on a comma: a short text that does was cut off."""

CUT_WORD_MIN_CHARS = 2
CUT_WORD_MIN_MISSING = 2
"""The last word is the start of a word of the question, at least this much shorter
("ibupro" of "ibuprofen", "Elterng" of "Elterngeld"): cut inside the word. A plural or
a case ending is one or two letters, so a word shorter by those alone stays a word."""
YES_OR_NO = frozenset(
    word
    for words in (
        "yes no",
        "oui non",
        "sí si no",
        "ja nein",
        "да нет",
        "はい いいえ",
        "是 不 是的 不是",
        "نعم لا",
    )
    for word in words.split()
)
"""A one-word answer is often the start of a longer word of the question ("No" of
"Nokia", "Yes" of "yesterday")."""

DANGLING_WORDS = frozenset(
    word
    for words in (
        "the a an and or but of to in on at for with from by as that which than because if",
        "le la les un une des de du et ou mais que qui pour avec dans en à au aux sur par",
        "el la los las un una unos unas de del y o pero que para con en por al sobre",
        "der die das den dem des ein eine einen einem und oder aber dass mit von zu im in für "
        "auf bei als",
        "и в на с по для что но или как из к о у от",
    )
    for word in words.split()
)
"""English, French, Spanish, German and Russian articles, prepositions and conjunctions: a
short text that ends on one of these, with no full stop, stops mid-phrase ("Yes, but",
"Answer: The")."""

ECHO_MIN_CJK = 3
"""CJK answers are not split into words: one that repeats the question's first characters
and stops there ("台北捷運" for "台北捷運幾點收班？") was cut; two characters may be the answer."""

UNCLOSED_MAX_CHARS = FRAGMENT_MAX_CHARS
_PAIRS = (("(", ")"), ("（", "）"), ("[", "]"), ("「", "」"), ("『", "』"), ("《", "》"))
_MARKS = ("```", "**")
"""A short text that stops on a letter or a digit inside a bracket, a bold span or a code
block it opened ("刘晓波（1955—20", "1. **ダイヤル式の") was cut after a few words. A longer
one cut there by the token limit has said something (at 300 characters this read a real
small model's 64-token answers as failures)."""

_WORD = re.compile(r"\w+")


def fragment(text: str) -> str | None:
    if len(text) > FRAGMENT_MAX_CHARS or "\n" in text:
        return None
    if (text[-1] in CLAUSE_MARKS and len(text.split()) >= 2) or text[-1] in "、，":
        return f"truncated: {text[-30:]!r} stops after a comma"
    if unicodedata.category(text[-1])[0] != "L":
        return None
    wide = CJK_LETTER.findall(text)
    words = text.split()
    if wide:
        cut = (
            FRAGMENT_MIN_WIDE_CHARS <= len(text) <= FRAGMENT_MAX_WIDE_CHARS and len(set(wide)) >= 4
        )
    else:
        cut = len(words) >= FRAGMENT_MIN_WORDS and len(set(words)) >= 3
    return f"truncated: {text[-30:]!r} stops mid-sentence" if cut else None


def dangling(text: str) -> str | None:
    if len(text) > FRAGMENT_MAX_CHARS or not text[-1].isalpha():
        return None
    words = _WORD.findall(normalise(text))
    if len(words) >= 2 and words[-1] in DANGLING_WORDS:
        return f"truncated: {text[-30:]!r} stops on {words[-1]!r}"
    return None


def unclosed(text: str) -> str | None:
    if len(text) > UNCLOSED_MAX_CHARS or not text[-1].isalnum():
        return None
    for opening, closing in _PAIRS:
        if text.count(opening) > text.count(closing):
            return f"truncated: {text[-30:]!r} stops inside {opening!r}"
    for mark in _MARKS:
        if text.count(mark) % 2 == 1:
            return f"truncated: {text[-30:]!r} stops inside {mark!r}"
    return None


def cut_word(text: str, asked: str) -> str | None:
    """With `asked` the normalised question: the text stops inside a word of the question, or,
    in CJK, stops after repeating the question's first characters."""
    if len(text) > FRAGMENT_MAX_CHARS or not asked or not text[-1].isalnum():
        return None
    answer = normalise(text)
    words = _WORD.findall(answer)
    if not words or (len(words) == 1 and words[0] in YES_OR_NO):
        return None
    last = words[-1]
    if CJK_LETTER.search(last):
        said = "".join(words)
        question = "".join(_WORD.findall(asked))
        if (
            len(CJK_LETTER.findall(said)) >= ECHO_MIN_CJK
            and len(said) < len(question)
            and question.startswith(said)
        ):
            return f"truncated: {text[-30:]!r} stops after the question's first words"
        return None
    if len(last) < CUT_WORD_MIN_CHARS:
        return None
    asked_words = set(_WORD.findall(asked))
    if last in asked_words:
        return None
    if any(
        word.startswith(last) and len(word) - len(last) >= CUT_WORD_MIN_MISSING
        for word in asked_words
    ):
        return f"truncated: {text[-30:]!r} stops inside a word"
    return None
