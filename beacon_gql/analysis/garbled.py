"""Detectors of text that is no answer although it is text: repetition loops, garbled or
mis-decoded characters, word salad (text cut short is `truncation`'s).
`failures.detect_failure` runs them after the machine-output detectors.
"""

from __future__ import annotations

import contextlib
import itertools
import re
import unicodedata
import zlib

from beacon_gql.analysis.machine_output import CODE
from beacon_gql.analysis.text import CJK_LETTER

MISREAD_CODECS = ("cp1252", "latin-1", "cp1251", "cp932")
"""The code pages UTF-8 is most often misread as (Western, Cyrillic, Japanese); a word that
mixes cp1252 letters with the control bytes cp1252 leaves undefined is read byte by byte."""
MOJIBAKE_MIN_CHARS = 8
MOJIBAKE_MIN_SHARE = 0.3
"""Characters of misread words over those of all words with non-ASCII letters: a stray
misread word leaves an answer."""
GB_MISREAD_MIN_CHARS = 8
"""Characters of Chinese in GB2312 shown in a Western code page ("ÄÏ¾©´óÍÀÉ±" is "南京大屠杀"):
runs of four or more Latin-1 letters and signs that read back as Chinese. No Western
language strings four such characters together."""
_HIGH_LATIN_RUN = re.compile(r"[\u00a1-\u00ff]{4,}")
CUT_CHARACTER_MAX_CHARS = 300
"""A short text that ends in a replacement character was cut inside a character: a fragment."""

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

DOUBLE_MISREAD_REPLACEMENT = "\u00ef\u00bf\u00bd"
"""U+FFFD's UTF-8 bytes read as Latin-1: text that was garbled twice."""
UNASSIGNED_MIN = 2
"""Code points Unicode leaves unassigned do not occur in text; bytes read in the wrong
encoding (UTF-8 as UTF-16) land on them."""
SYMBOL_CATEGORIES = frozenset({"Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po", "Sc", "Sk", "So"})
"""Punctuation and symbols, but not mathematical ones: worked maths is full of them."""
_TABLE_RULE = re.compile(r"^\s*\|.*\|\s*$", re.MULTILINE)
MOSTLY_SYMBOLS = 0.4
"""Share of ASCII and Latin punctuation or symbols; CJK punctuation is left out of it, since a
list of CJK words in full-width brackets is about half punctuation."""

SALAD_MIN_WORDS = 8
SALAD_MAX_CHARS = 400
SALAD_MIN_SHARE = 0.25
SALAD_MIN_SCRIPTS = 5
SALAD_MIN_SYMBOL_WORDS = 3
"""Word salad, as a broken sampler or a mangled stream gives it: words said twice in a row
or doubled into one ("the the 的的的 について について") in a quarter of a short text; or
words of five scripts or more mixed with words that are only symbols ("Dear hiring жалко
管理者 ⟨⟨ ✓✓ ᚠᚢᚦ ∂∂"). Writing doubles a word now and then ("had had"), and a list of
greetings spans many scripts, but neither comes with a quarter of doubles or with runs of
bare symbols."""
_SAME_SCRIPT = {"HIRAGANA": "CJK", "KATAKANA": "CJK", "HALFWIDTH": "CJK", "IDEOGRAPHIC": "CJK"}

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


DEBRIS_MIN_CHARS = 100
DEBRIS_MAX_LETTER_SHARE = 0.1
DEBRIS_MIN_SPACE_SHARE = 0.5
READABLE_MIN_CHARS = 100
"""A finished answer followed by padding (hundreds of blank lines with stray "(0)" or "$$"
among them, as Llama-2-7b-chat's answers in Do-Not-Answer end) is judged by the answer: a
careful reader takes the refusal or the answer and ignores the padding. The padding is
the trailing lines, at least `DEBRIS_MIN_CHARS` long, mostly blank and nearly letterless;
the answer before it must be `READABLE_MIN_CHARS` long, else the whole text is judged."""


def without_trailing_debris(text: str) -> str:
    lines = text.split("\n")
    letters = spaces = size = 0
    cut = len(lines)
    for index in range(len(lines) - 1, -1, -1):
        line = lines[index]
        line_letters = sum(char.isalpha() for char in line)
        if letters + line_letters > DEBRIS_MAX_LETTER_SHARE * (size + len(line) + 1):
            break
        letters += line_letters
        spaces += sum(char.isspace() for char in line) + 1
        size += len(line) + 1
        cut = index
    if size < DEBRIS_MIN_CHARS or spaces < DEBRIS_MIN_SPACE_SHARE * size:
        return text
    readable = "\n".join(lines[:cut]).rstrip()
    return readable if len(readable) >= READABLE_MIN_CHARS else text


def loop(text: str) -> str | None:
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
        # A CJK character carries about what a short Latin word does.
        if len(unit) >= REPEATED_UNIT_MIN_CHARS or len(CJK_LETTER.findall(unit)) >= 2:
            counts[unit] = counts.get(unit, 0) + 1
    repeated = [unit for unit, times in counts.items() if times >= REPEATED_UNIT_TIMES]
    if not repeated:
        return None
    covered = sum(len(unit) * counts[unit] for unit in repeated)
    if covered < REPEATED_UNIT_MIN_SHARE * len(head.replace(" ", "")):
        return None
    unit = max(repeated, key=lambda unit: counts[unit])
    return f"repetition loop: {unit[:40]!r} {counts[unit]} times"


def word_salad(text: str) -> str | None:
    words = text.split()
    if len(words) < SALAD_MIN_WORDS or len(text) > SALAD_MAX_CHARS:
        return None
    folded = [word.casefold() for word in words]
    doubled = sum(1 for before, word in itertools.pairwise(folded) if word == before)
    doubled += sum(1 for word in folded if len(word) >= 2 and _one_character_repeated(word))
    if doubled >= SALAD_MIN_SHARE * len(words):
        return f"word salad: {doubled} of {len(words)} words doubled"
    scripts = {_script(word) for word in words} - {None}
    symbols = sum(1 for word in words if not any(char.isalnum() for char in word))
    if len(scripts) >= SALAD_MIN_SCRIPTS and symbols >= SALAD_MIN_SYMBOL_WORDS:
        return f"word salad: words of {len(scripts)} scripts among bare symbols"
    return None


def _one_character_repeated(word: str) -> bool:
    # Runs of ASCII punctuation ("...", "--", "**") are writing, not doubling.
    return word == word[0] * len(word) and not (word[0].isascii() and not word[0].isalnum())


def _script(word: str) -> str | None:
    """The script of a word's first letter, by its Unicode name ("CYRILLIC", "CJK")."""
    for char in word:
        if char.isalpha():
            script = unicodedata.name(char, "").split(" ", 1)[0]
            return _SAME_SCRIPT.get(script, script)
    return None


def garbage(text: str) -> str | None:
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
    if text.count(DOUBLE_MISREAD_REPLACEMENT) >= 3:
        return "garbled text: replacement characters misread as Latin-1"
    if _is_mojibake(text):
        return "garbled text: mis-decoded UTF-8 (mojibake)"
    if _is_gb_misread(text):
        return "garbled text: Chinese (GB2312) shown in a Western code page"
    unassigned = sum(1 for char in visible if unicodedata.category(char) == "Cn")
    if unassigned >= UNASSIGNED_MIN:
        return "garbled text: characters Unicode does not assign"
    # Code, JSON and tables are mostly symbols by nature: judge the prose around them.
    visible = [char for char in _TABLE_RULE.sub(" ", CODE.sub(" ", text)) if not char.isspace()]
    if len(visible) >= 30:
        symbols = sum(
            1
            for char in visible
            if char < "\u3000" and unicodedata.category(char) in SYMBOL_CATEGORIES
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


def _is_gb_misread(text: str) -> bool:
    misread = 0
    for run in _HIGH_LATIN_RUN.findall(text):
        data = run.encode("latin-1")[: len(run) // 2 * 2]
        try:
            decoded = data.decode("gb2312")
        except UnicodeDecodeError:
            continue
        if all(char >= "\u3000" for char in decoded):
            misread += len(data)
    return misread >= GB_MISREAD_MIN_CHARS


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
    # A character the code page lacks becomes "?": mojibake often carries a few such
    # characters (a Shift-JIS misreading with a "€" in it) and is still read back.
    candidates = [word.replace("\ufffd", "?").encode(codec, "replace") for codec in MISREAD_CODECS]
    with contextlib.suppress(UnicodeError):
        candidates.append(_western_bytes(word.replace("\ufffd", "?")))
    for data in candidates:
        decoded = data.decode("utf-8", errors="replace")
        valid = sum(1 for char in decoded if not char.isascii() and char != "\ufffd")
        if valid and valid > decoded.count("\ufffd"):
            return True
    return False
