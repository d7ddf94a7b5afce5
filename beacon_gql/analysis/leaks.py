"""Detectors of what a broken client or server puts where the answer's text belongs.

The provider's raw response or its stream events passed on unparsed, a placeholder value
("null", "[object Object]"), text escaped twice (`\\u5929\\u5b89` for 天安), the prompt
echoed back with an empty turn for the answer, or a notice that an error happened and to
try again. `failures.detect_failure` runs them with the machine-output detectors.
"""

from __future__ import annotations

import re

import orjson

from beacon_gql.analysis.machine_output import ASKED_FOR_ENCODING
from beacon_gql.analysis.text import normalise

PLACEHOLDERS = frozenset(
    {"null", "none", "nil", "undefined", "nan", "[object object]", "{}", "[]", '""', "''"}
)
"""What a program prints for a value it never set: an answer that is only this is none."""
PLACEHOLDER_MAX_CHARS = 40
"""Longer than any placeholder with spaces inside: a longer answer is not normalised for it."""

_STREAM_EVENT = re.compile(r"^data: (\{|\[DONE\])", re.MULTILINE)
STREAM_MIN_EVENTS = 2
_RESPONSE_OBJECTS = frozenset({"chat.completion", "text_completion", "chat.completion.chunk"})
_RESPONSE_KEYS = ({"choices", "model"}, {"candidates"}, {"message", "done", "model"})
"""OpenAI-compatible, Gemini and Ollama response bodies."""

_ESCAPE = re.compile(r"\\u[0-9a-fA-F]{4}|\\x[0-9a-fA-F]{2}")
ESCAPED_MIN = 4
ESCAPED_MIN_SHARE = 0.5
"""Escapes (`\\u5929`, `\\xe5`) making up this share of the text: it was encoded twice."""

_ROLE_TURN = re.compile(
    r"^\s*(#+\s*)?(user|human|assistant|ai|instruction|response|input|output|system|"
    r"question|answer)\s*:",
    re.IGNORECASE | re.MULTILINE,
)
_EMPTY_LAST_TURN = re.compile(
    r"(^|\n)\s*(#+\s*)?(assistant|ai|response|output|answer)\s*:\s*$", re.IGNORECASE
)

NOTICE_MAX_CHARS = 200
NOTICE_OPENING_CHARS = 60
_TROUBLE = re.compile(
    r"error|went wrong|failed|busy|overloaded|unavailable|unable to get|"
    r"erreur|échec|fehler|fehlgeschlagen|ошибк|не удалось|错误|錯誤|出错|出錯|失败|失敗|خطأ|エラー",
    re.IGNORECASE,
)
_TRY_AGAIN = re.compile(
    r"try again|retry|réessayer|de nuevo|otra vez|erneut|noch einmal|попробуйте (позже|снова|ещё)|"
    r"повторите|稍后再试|稍後再試|重试|重試|المحاولة مرة أخرى|再度お試し|もう一度",
    re.IGNORECASE,
)
"""A short text that opens by saying something failed and then says to try again is the
service's notice, not an answer; either alone may be advice ("if the upload failed, check the
file"), and an explanation of an error names it later ("... check Nginx's error.log")."""


def placeholder(text: str) -> str | None:
    if len(text) <= PLACEHOLDER_MAX_CHARS and normalise(text) in PLACEHOLDERS:
        return f"a placeholder value instead of an answer: {text[:20]!r}"
    return None


def raw_response(text: str) -> str | None:
    if len(_STREAM_EVENT.findall(text[:4000])) >= STREAM_MIN_EVENTS:
        return "the provider's stream events instead of an answer"
    if not text.startswith("{"):
        return None
    try:
        body = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(body, dict):
        return None
    if body.get("object") in _RESPONSE_OBJECTS or any(
        keys <= body.keys() for keys in _RESPONSE_KEYS
    ):
        return f"the provider's raw response instead of an answer: {text[:80]}"
    return None


def escaped(text: str, asked: str) -> str | None:
    """Unless the question asks for an encoding ("How is 你好 written as Unicode escapes?")."""
    escapes = _ESCAPE.findall(text)
    if len(escapes) < ESCAPED_MIN or ASKED_FOR_ENCODING.search(asked):
        return None
    if sum(map(len, escapes)) >= ESCAPED_MIN_SHARE * len(text):
        return f"escaped characters instead of text (encoded twice): {text[:40]}"
    return None


def echoed_prompt(text: str, asked: str) -> str | None:
    """The question alone, or the prompt in a role template whose answer turn is empty."""
    said = normalise(text)
    if asked and said.rstrip("?？ ") == asked.rstrip("?？ "):
        return "the question repeated, no answer"
    if len(_ROLE_TURN.findall(text)) >= 2 and _EMPTY_LAST_TURN.search(text.rstrip()):
        return "the prompt echoed with an empty answer turn"
    return None


def error_notice(text: str, asked: str) -> str | None:
    """Unless the question is about a failure ("My upload failed, what now?"): then a short
    answer may well say what failed and to try again."""
    if len(text) > NOTICE_MAX_CHARS or _TROUBLE.search(asked):
        return None
    if _TROUBLE.search(text[:NOTICE_OPENING_CHARS]) and _TRY_AGAIN.search(text):
        return f"error notice instead of an answer: {text[:120]}"
    return None
