"""Text normalisation and script detection shared by classification and similarity."""

from __future__ import annotations

import re
import unicodedata

HAN_AND_KANA = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
"""Hiragana/Katakana, CJK Extension A, CJK Unified Ideographs, Compatibility Ideographs
(a character class's body): the scripts written without spaces between words."""
_CJK_LETTERS = HAN_AND_KANA + "\uac00-\ud7af"  # and Hangul
# CJK Symbols and Punctuation (。、「」...) count towards the CJK share of an answer:
# they are only ever written inside CJK text.
_CJK_PUNCTUATION = "\u3000-\u303f"

CJK_LETTER_RUN = re.compile(f"[{_CJK_LETTERS}]+")
CJK_LETTER = re.compile(f"[{_CJK_LETTERS}]")
_CJK_CHARACTER_RUN = re.compile(f"[{_CJK_LETTERS}{_CJK_PUNCTUATION}]+")

MAINLY_CJK_SHARE = 0.5
"""An answer whose CJK share is at least this is said to be written mainly in CJK script."""

_STRAIGHT_QUOTES = str.maketrans(
    {
        "\u2018": "'",  # left single quotation mark
        "\u2019": "'",  # right single quotation mark, the usual typographic apostrophe
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",  # prime
        "\u02bc": "'",  # modifier letter apostrophe
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',
    }
)


def normalise(text: str) -> str:
    """Return `text` ready for matching: NFKC, casefolded, straight quotes, single spaces.

    NFKC folds full-width forms (common in CJK answers) to their ASCII equivalents, so
    "ＩＣＡＮ'Ｔ" and "I can't" compare equal after casefolding.
    """
    folded = unicodedata.normalize("NFKC", text).casefold()
    if not folded.isascii():
        folded = folded.translate(_STRAIGHT_QUOTES)
    return " ".join(folded.split())


def cjk_share(text: str) -> float:
    """Share of the non-whitespace characters of `text` that are CJK characters (0.0 if none).

    CJK characters are Han ideographs, kana, Hangul and CJK punctuation.
    """
    if text.isascii():
        return 0.0
    visible = len("".join(text.split()))
    if visible == 0:
        return 0.0
    cjk = sum(map(len, _CJK_CHARACTER_RUN.findall(text)))
    return cjk / visible


def is_mainly_cjk(text: str) -> bool:
    """True when at least `MAINLY_CJK_SHARE` of the visible characters of `text` are CJK."""
    return cjk_share(text) >= MAINLY_CJK_SHARE
