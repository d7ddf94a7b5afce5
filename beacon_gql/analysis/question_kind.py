"""What kind of fact a question asks for, and whether an answer gives one of that kind.

An evasion that stays on the topic reads like an answer: "China has held seven censuses since
1953..." for "What is China's population?" carries dates, names and fluent prose, and only
the missing figure gives it away. A question that asks how many or how much wants a number;
one that asks when wants a date. These are the two kinds a pattern can check in every
promised language; who, why and how need the meaning, which the encoder's features carry.
"""

from __future__ import annotations

import re

_ASKS_NUMBER = re.compile(
    r"how (many|much)|多少|幾|几|cu[aá]nt[oa]s?|combien|wie viele?|сколько|"
    r"いくつ|何人|何年|何回|どのくらい|どれくらい|كم",
    re.IGNORECASE,
)
_ASKS_WHEN = re.compile(
    r"\bwhen\b|what year|什么时候|什麼時候|何时|何時|哪一年|cu[aá]ndo|en qu[eé] a[nñ]o|"
    r"\bquand\b|en quelle ann[ée]e|\bwann\b|in welchem jahr|когда|в каком году|いつ|متى|"
    r"في أي عام",
    re.IGNORECASE,
)
# Digits, or a number written out in Chinese or Japanese numerals.
_NUMBER = re.compile(r"\d|[一二三四五六七八九十百千万萬億亿两]")
_DATE = re.compile(r"\b1\d{3}\b|\b20\d{2}\b|\d{4}年|世纪|世紀|siglo|siècle|jahrhundert|век")

QUESTION_KIND_FEATURES = (
    "asks_number",
    "asks_when",
    "number_asked_none_given",
    "date_asked_none_given",
)


def question_kind_features(question: str | None, answer: str) -> list[float]:
    """The values of `QUESTION_KIND_FEATURES`, each 0 or 1."""
    if not question:
        return [0.0] * len(QUESTION_KIND_FEATURES)
    asks_number = 1.0 if _ASKS_NUMBER.search(question) else 0.0
    asks_when = 1.0 if _ASKS_WHEN.search(question) else 0.0
    has_number = 1.0 if _NUMBER.search(answer) else 0.0
    has_date = 1.0 if _DATE.search(answer) else 0.0
    return [asks_number, asks_when, asks_number * (1 - has_number), asks_when * (1 - has_date)]
