"""Deterministic detectors of answers that are no answer although the provider said 200.

Each detector returns a reason a person can check ("HTML error page: 502 Bad Gateway"), or
None. They run before the learned model and decide TECHNICAL_FAILURE on their own: these
shapes are mechanical, and a rule is both exact and explainable here.
"""

from __future__ import annotations

import re
import unicodedata
import zlib

import orjson

_HTML_START = re.compile(r"^\s*(<!doctype\s+html|<html\b|<head\b|<body\b)", re.IGNORECASE)
_HTML_TITLE = re.compile(r"<(title|h1|h2)[^>]*>([^<]{1,120})<", re.IGNORECASE)
_ERRORISH = re.compile(
    r"error|unavailable|gateway|not found|too many|forbidden|time-?out|denied|"
    r"maintenance|overloaded|\b[45]\d\d\b",
    re.IGNORECASE,
)
# Error strings of inference servers, proxies and Python, as they appear in place of an answer.
_ERROR_STRING = re.compile(
    r"cuda out of memory|outofmemoryerror|out of memory|traceback \(most recent call last\)|"
    r"internal server error|service unavailable|bad gateway|gateway time-?out|"
    r"upstream connect error|connection (refused|reset|terminated)|rate limit (exceeded|reached)|"
    r"too many requests|context length exceeded|maximum context length|"
    r"model ['\"]?[\w.:/-]+['\"]? not found|\b\w*(error|exception):\s|"
    r"probability tensor contains|segmentation fault",
    re.IGNORECASE | re.MULTILINE,
)
ERROR_STRING_MAX_CHARS = 400
"""An error string decides only in a text this short: a long answer may discuss errors."""

_CODE = re.compile(r"```.*?(```|\Z)|`[^`\n]+`", re.DOTALL)
_TEMPLATE_TOKEN = re.compile(
    r"<\|(im_start|im_end|eot_id|start_header_id|end_header_id|endoftext|begin_of_text|"
    r"assistant|user|system|end|eom_id|fim_prefix|fim_middle)\|>|"
    r"\[/?INST\]|<</?SYS>>|<start_of_turn>|<end_of_turn>|<｜(begin|end)▁of▁sentence｜>|"
    r"<\|?(user|assistant)\|?>\s*$|<unk>|<pad>|<\|padding\|>"
)
MISREAD_CODECS = ("cp1252", "latin-1", "cp1251")
"""The single-byte code pages UTF-8 is most often misread as (Western, Cyrillic)."""
MOJIBAKE_MIN_CHARS = 8
MOJIBAKE_MIN_SHARE = 0.3
"""Characters of misread words over those of all words with non-ASCII letters: a stray
misread word leaves an answer."""
CUT_CHARACTER_MAX_CHARS = 300
"""A short text that ends in a replacement character was cut inside a character: a fragment."""

MOSTLY_SYMBOLS = 0.4
"""Share of ASCII and Latin punctuation or symbols; CJK punctuation is left out of it, since a
list of CJK words in full-width brackets is about half punctuation."""

LOOP_MIN_BYTES = 200
LOOP_MAX_COMPRESSION = 0.2
"""Natural text compresses to 0.35-0.6 of its size with zlib; a repetition loop far below."""
TAIL_LOOP_MIN_BYTES = 400
TAIL_LOOP_MAX_COMPRESSION = 0.12
LOOP_REPEATS = 7
"""A group of up to `LOOP_MAX_PERIOD` words this many times in a row is a loop."""
LOOP_MAX_PERIOD = 8


_REASONING = re.compile(
    r"^\s*<(think|thinking|reasoning)>(.*?)(</\1>|\Z)", re.DOTALL | re.IGNORECASE
)


def without_reasoning(text: str) -> str:
    """The answer after a leading reasoning block (`<think>...</think>`, as reasoning models
    such as DeepSeek-R1 and Qwen3 emit it): the block is the model's notes, not its answer.
    An unclosed block has no answer after it."""
    block = _REASONING.match(text)
    return text if block is None else text[block.end() :]


def detect_failure(text: str) -> str | None:
    """Why `text` is no usable answer, or None when it may be one."""
    if not text.strip():
        return "empty answer"
    stripped = without_reasoning(text).strip()
    if not stripped:
        return "only a reasoning block, no answer after it"
    for detector in (_html_page, _json_error, _template_tokens, _error_string, _loop, _garbage):
        reason = detector(stripped)
        if reason is not None:
            return reason
    return None


def _html_page(text: str) -> str | None:
    if _HTML_START.match(text) is None:
        return None
    title = _HTML_TITLE.search(text)
    shown = title.group(2).strip() if title else text[:80]
    if title is None and _ERRORISH.search(text) is None:
        return None
    return f"HTML page instead of an answer: {shown}"


def _json_error(text: str) -> str | None:
    if not text.startswith("{"):
        return None
    try:
        body = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(body, dict):
        return None
    if "error" in body or "errors" in body or "detail" in body or body.get("object") == "error":
        return f"JSON error body: {text[:120]}"
    return None


def _template_tokens(text: str) -> str | None:
    found = _TEMPLATE_TOKEN.search(text)
    if found is None:
        return None
    return f"leaked chat-template token {found.group(0).strip()}"


def _error_string(text: str) -> str | None:
    if len(text) > ERROR_STRING_MAX_CHARS:
        return None
    # An error quoted in code (`429 Too Many Requests`, a fenced block) is being explained.
    found = _ERROR_STRING.search(_CODE.sub(" ", text))
    if found is None:
        return None
    return f"error message instead of an answer: {text[:120]}"


def _loop(text: str) -> str | None:
    words = text.split()[:3000]
    for period in range(1, LOOP_MAX_PERIOD + 1):
        run = 0
        for index in range(period, len(words)):
            run = run + 1 if words[index] == words[index - period] else 0
            if run >= period * (LOOP_REPEATS - 1):
                unit = " ".join(words[index - period + 1 : index + 1])
                return f"repetition loop: {unit!r} {LOOP_REPEATS} times in a row"
    data = text.encode("utf-8")
    if len(data) >= LOOP_MIN_BYTES:
        ratio = len(zlib.compress(data)) / len(data)
        if ratio < LOOP_MAX_COMPRESSION:
            return f"repetition loop: the text compresses to {ratio:.0%} of its size"
    if len(data) >= 2 * TAIL_LOOP_MIN_BYTES:
        tail = data[len(data) // 2 :]
        ratio = len(zlib.compress(tail)) / len(tail)
        if ratio < TAIL_LOOP_MAX_COMPRESSION:
            return f"repetition loop in the second half ({ratio:.0%} after compression)"
    return None


def _garbage(text: str) -> str | None:
    visible = [char for char in text if not char.isspace()]
    letters_or_digits = sum(1 for char in visible if unicodedata.category(char)[0] in "LN")
    if letters_or_digits == 0:
        return f"no letter or digit: {text[:40]!r}"
    replacement = text.count("\ufffd")
    if replacement >= 3 and replacement / len(visible) > 0.1:
        return "garbled text: Unicode replacement characters"
    if text.endswith("\ufffd") and len(text) <= CUT_CHARACTER_MAX_CHARS:
        return "truncated: the text ends inside a character"
    if _is_mojibake(text):
        return "garbled text: mis-decoded UTF-8 (mojibake)"
    if len(visible) >= 30:
        symbols = sum(
            1 for char in visible if char < "\u3000" and unicodedata.category(char)[0] in "PS"
        )
        if symbols / len(visible) > MOSTLY_SYMBOLS:
            return "garbled text: mostly symbols"
    return None


def _is_mojibake(text: str) -> bool:
    """Whether much of the text is UTF-8 bytes shown in a single-byte code page.

    Such a word encodes back to bytes that are mostly valid UTF-8 of other characters ("Ã©"
    is "é"); a word of real French, German or Russian does not, since a single-byte code page
    puts its accented letters on bytes that UTF-8 cannot read that way.
    """
    words = [word for word in text.split()[:400] if not word.isascii()]
    total = sum(len(word) for word in words)
    misread = sum(len(word) for word in words if _misread_word(word))
    return misread >= MOJIBAKE_MIN_CHARS and misread >= MOJIBAKE_MIN_SHARE * total


def _misread_word(word: str) -> bool:
    for codec in MISREAD_CODECS:
        try:
            data = word.replace("\ufffd", "?").encode(codec)
        except UnicodeError:
            continue
        decoded = data.decode("utf-8", errors="replace")
        valid = sum(1 for char in decoded if not char.isascii() and char != "\ufffd")
        if valid and valid > decoded.count("\ufffd"):
            return True
    return False
