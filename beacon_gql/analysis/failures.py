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

from beacon_gql.analysis.text import CJK_LETTER

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
# What a server, a proxy or a client library writes in place of an answer, at the very start
# of a short text: generic wording that an answer would not open with.
_ERROR_LINE = re.compile(
    r"^\W{0,3}(\[?(error|err|fatal)\]?\s*(\d{3}\b|[:\-\]])|error \d{3}\b|"
    r"(request |connection |read |upstream request )?timed? ?out\b|"
    r"oops!? something went wrong|something went wrong\. please try again|"
    r"\w+_\w+: failed to|failed to (decode|generate|load model)|"
    r"服务器繁忙|系统繁忙|请求超时|内部服务错误|服务暂时不可用|サーバーエラー|"
    r"エラーが発生しました|ошибка сервера|erreur (interne|serveur)|interner serverfehler)",
    re.IGNORECASE,
)
ERROR_LINE_MAX_CHARS = 200

_CODE = re.compile(r"```.*?(```|\Z)|`[^`\n]+`", re.DOTALL)
_TEMPLATE_TOKEN = re.compile(
    r"<\|(im_start|im_end|eot_id|start_header_id|end_header_id|endoftext|begin_of_text|"
    r"assistant|user|system|end|eom_id|fim_prefix|fim_middle)\|>|"
    r"\[/?INST\]|<</?SYS>>|<start_of_turn>|<end_of_turn>|<｜(begin|end)▁of▁sentence｜>|"
    r"<\|?(user|assistant)\|?>\s*$|<unk>|<pad>|<\|padding\|>"
)
MISREAD_CODECS = ("cp1252", "latin-1", "cp1251", "cp932")
"""The code pages UTF-8 is most often misread as (Western, Cyrillic, Japanese); a word that
mixes cp1252 letters with the control bytes cp1252 leaves undefined is read byte by byte."""
MOJIBAKE_MIN_CHARS = 8
MOJIBAKE_MIN_SHARE = 0.3
"""Characters of misread words over those of all words with non-ASCII letters: a stray
misread word leaves an answer."""
CUT_CHARACTER_MAX_CHARS = 300
"""A short text that ends in a replacement character was cut inside a character: a fragment."""

FRAGMENT_MAX_CHARS = 120
FRAGMENT_MIN_WORDS = 4
FRAGMENT_MAX_WIDE_CHARS = 30
FRAGMENT_MIN_WIDE_CHARS = 5
"""A short text of several words (or CJK characters) that stops on a letter, with no full
stop, is an answer cut off after a few words ("The main causes of World War I were milita"):
chat models end even a one-line answer with a full stop. One or two words ("Paris", "Mount
Everest") and a figure ("2 + 2 = 4") stay answers."""
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

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
# A unit of 2 to 80 characters repeated at least three times in a row up to the end of the
# text (the last copy may be cut short): a loop in any script, with or without spaces.
_TAIL_REPEAT = re.compile(r"(.{2,80}?)\1{2,}", re.DOTALL)
TAIL_REPEAT_MIN_CHARS = 30
TAIL_WINDOW = 600
# A sentence or list item (list markers set aside) of some length said three times or more.
_UNIT_SPLIT = re.compile(r"(?<=[.!?。！？])\s*|\n+")
_LIST_MARKER = re.compile(r"^\s*([-*•]|\d+[.)、]|[（(]?\d+[）)])\s*")
REPEATED_UNIT_MIN_CHARS = 6
REPEATED_UNIT_TIMES = 3
REPEATED_UNIT_MIN_SHARE = 0.5
"""The repeated units must make up this share of the text: a refrain inside an answer stays."""


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
    detectors = (
        _html_page,
        _json_error,
        _template_tokens,
        _error_string,
        _loop,
        _garbage,
        _fragment,
    )
    for detector in detectors:
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
    code, message = body.get("code", body.get("status")), body.get("msg", body.get("message"))
    if isinstance(code, int) and code >= 400 and message is not None:
        return f"JSON error body: {text[:120]}"
    return None


def _template_tokens(text: str) -> str | None:
    # A token quoted in code (`<|im_start|>`) is being explained, as an error string is.
    found = _TEMPLATE_TOKEN.search(_CODE.sub(" ", text))
    if found is None:
        return None
    return f"leaked chat-template token {found.group(0).strip()}"


def _error_string(text: str) -> str | None:
    if len(text) > ERROR_STRING_MAX_CHARS:
        return None
    # An error quoted in code (`429 Too Many Requests`, a fenced block) is being explained.
    found = _ERROR_STRING.search(_CODE.sub(" ", text))
    if found is None and (len(text) > ERROR_LINE_MAX_CHARS or not _ERROR_LINE.match(text)):
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
    looped = _tail_repeat(text)
    if looped is not None:
        return looped
    repeated = _repeated_unit(text)
    if repeated is not None:
        return repeated
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


def _tail_repeat(text: str) -> str | None:
    window = text[-TAIL_WINDOW:]
    # A text that loops to its end is periodic there, so its last characters recur one
    # period earlier: a `find` rules out nearly every answer before the costlier search.
    if len(window) < TAIL_REPEAT_MIN_CHARS or window.find(window[-8:], 0, len(window) - 8) < 0:
        return None
    for found in _TAIL_REPEAT.finditer(window):
        unit, rest = found.group(1), window[found.end() :]
        if (
            found.end() - found.start() >= TAIL_REPEAT_MIN_CHARS
            and len(rest) < len(unit)
            and unit.startswith(rest)
            and unit.strip()
        ):
            return f"repetition loop: {unit.strip()[:40]!r} repeated to the end"
    return None


def _repeated_unit(text: str) -> str | None:
    head = text[:4000]
    units = [_LIST_MARKER.sub("", unit).strip() for unit in _UNIT_SPLIT.split(head)]
    counts: dict[str, int] = {}
    for unit in units:
        if len(unit) >= REPEATED_UNIT_MIN_CHARS:
            counts[unit] = counts.get(unit, 0) + 1
    repeated = [unit for unit, times in counts.items() if times >= REPEATED_UNIT_TIMES]
    if not repeated:
        return None
    covered = sum(len(unit) * counts[unit] for unit in repeated)
    if covered < REPEATED_UNIT_MIN_SHARE * len(head.replace(" ", "")):
        return None
    unit = max(repeated, key=lambda unit: counts[unit])
    return f"repetition loop: {unit[:40]!r} {counts[unit]} times"


def _garbage(text: str) -> str | None:
    visible = [char for char in text if not char.isspace()]
    letters_or_digits = sum(1 for char in visible if unicodedata.category(char)[0] in "LN")
    if letters_or_digits == 0:
        return f"no letter or digit: {text[:40]!r}"
    controls = len(_CONTROL.findall(text))
    if controls >= 2:
        return "garbled text: control characters"
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


def _fragment(text: str) -> str | None:
    if len(text) > FRAGMENT_MAX_CHARS or "\n" in text:
        return None
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


def _western_bytes(word: str) -> bytes:
    """cp1252 where it defines the character, Latin-1 (the byte itself) where it does not."""
    out = bytearray()
    for char in word:
        try:
            out += char.encode("cp1252")
        except UnicodeError:
            out += char.encode("latin-1")
    return bytes(out)


def _misread_word(word: str) -> bool:
    candidates: list[bytes] = []
    for codec in MISREAD_CODECS:
        try:
            candidates.append(word.replace("\ufffd", "?").encode(codec))
        except UnicodeError:
            continue
    if not candidates:
        try:
            candidates.append(_western_bytes(word.replace("\ufffd", "?")))
        except UnicodeError:
            return False
    for data in candidates:
        decoded = data.decode("utf-8", errors="replace")
        valid = sum(1 for char in decoded if not char.isascii() and char != "\ufffd")
        if valid and valid > decoded.count("\ufffd"):
            return True
    return False
