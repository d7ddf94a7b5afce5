"""The exact bytes the predecessor's portal signs.

The portal signs `json-stable-stringify` 1.3.0 output, which is JavaScript's `JSON.stringify`
for every leaf with object keys sorted by `Array.prototype.sort`. A verifier must rebuild that
text byte for byte from the parsed jobspec, so every rule below follows JavaScript, not Python's
`json` module: Python differs on key order, number text, and which characters it escapes.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Final

from beacon_gql.errors import BadUserInput

# Top-level keys the portal adds or changes after (or alongside) signing; nested keys of the
# same name are signed.
UNSIGNED_TOP_LEVEL_KEYS: Final = frozenset({"signature", "public_key", "id", "created_at"})

# Integers up to 2**53 are exact JavaScript numbers; beyond that JS holds the nearest double,
# and that double is what it writes.
_MAX_EXACT_JS_INTEGER: Final = 2**53

# JSON.stringify escapes only these; lone surrogates are escaped since ES2019 ("well-formed
# JSON.stringify"), which is what the portal's browsers run.
_NEEDS_ESCAPE: Final = re.compile(r'["\\\x00-\x1f\ud800-\udfff]')
_SURROGATE: Final = re.compile(r"[\ud800-\udfff]")
_SHORT_ESCAPES: Final = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}


def canonical_json(value: object) -> str:
    """Write `value` exactly as json-stable-stringify 1.3.0 (no spacing) would in a browser."""
    parts: list[str] = []
    try:
        _write(value, parts)
    except RecursionError:
        raise BadUserInput("jobspec is nested too deeply to be canonicalised") from None
    return "".join(parts)


def signable_message(spec: Mapping[str, object]) -> bytes:
    """The bytes the portal's signJobSpecForAPI signs for this jobspec."""
    signable = {key: value for key, value in spec.items() if key not in UNSIGNED_TOP_LEVEL_KEYS}
    constraints = signable.get("constraints")
    # The portal deletes it when `=== 0`: a JS number zero, so not false and not "0".
    if isinstance(constraints, Mapping) and _is_number_zero(
        constraints.get("min_success_rate", None)
    ):
        signable["constraints"] = {
            key: value for key, value in constraints.items() if key != "min_success_rate"
        }
    # Lone surrogates are written as \udxxx escapes, so the text is always valid UTF-8.
    return canonical_json(signable).encode("utf-8")


def _number_text(number: int | float) -> str:
    """ECMAScript Number::toString of the double `number` is (or rounds to), as JSON writes it."""
    if isinstance(number, int) and abs(number) <= _MAX_EXACT_JS_INTEGER:
        return str(number)
    try:
        as_double = float(number)
    except OverflowError:
        # JSON.parse reads such a literal as ±Infinity, which JSON.stringify writes as null.
        return "null"
    if not math.isfinite(as_double):
        return "null"
    if as_double == 0:
        return "0"  # both 0 and -0 are written "0"
    sign = "-" if as_double < 0 else ""
    digits, point = _shortest_digits(abs(as_double))
    return sign + _layout(digits, point)


def _shortest_digits(positive: float) -> tuple[str, int]:
    """Shortest round-tripping digits (as JS picks them) and the decimal point position `n`.

    The value is 0.DIGITS x 10**n, i.e. ECMAScript's s x 10**(n - k) with k = len(digits).
    Python's repr() already chooses the shortest round-tripping digits; only its layout differs.
    """
    mantissa, _, exponent_text = repr(positive).partition("e")
    integer_part, _, fraction_part = mantissa.partition(".")
    all_digits = integer_part + fraction_part
    significant = all_digits.lstrip("0")
    leading_zeros = len(all_digits) - len(significant)
    point = len(integer_part) + int(exponent_text or "0") - leading_zeros
    return significant.rstrip("0"), point


def _layout(digits: str, point: int) -> str:
    """Steps 6-10 of ECMAScript Number::toString for a positive finite number."""
    length = len(digits)
    if length <= point <= 21:
        return digits + "0" * (point - length)
    if 0 < point <= 21:
        return f"{digits[:point]}.{digits[point:]}"
    if -6 < point <= 0:
        return f"0.{'0' * -point}{digits}"
    exponent = point - 1
    exponent_text = f"e+{exponent}" if exponent >= 0 else f"e-{-exponent}"
    if length == 1:
        return digits + exponent_text
    return f"{digits[0]}.{digits[1:]}{exponent_text}"


def _is_number_zero(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == 0


def _write(value: object, parts: list[str]) -> None:
    # bool before int: Python's bool is an int, JavaScript's boolean is not a number.
    if value is None:
        parts.append("null")
    elif value is True:
        parts.append("true")
    elif value is False:
        parts.append("false")
    elif isinstance(value, str):
        parts.append(_string_text(value))
    elif isinstance(value, int | float):
        parts.append(_number_text(value))
    elif isinstance(value, Mapping):
        _write_object(value, parts)
    elif isinstance(value, list | tuple):
        parts.append("[")
        for index, item in enumerate(value):
            if index:
                parts.append(",")
            _write(item, parts)
        parts.append("]")
    else:
        raise BadUserInput(
            f"jobspec contains a {type(value).__name__} value, which is not a JSON value"
        )


def _write_object(value: Mapping[object, object], parts: list[str]) -> None:
    keys: list[str] = []
    for key in value:
        if not isinstance(key, str):
            raise BadUserInput(f"jobspec object key {key!r} is not a string")
        keys.append(key)
    # Array.prototype.sort compares UTF-16 code units: an astral character (a surrogate pair,
    # 0xD800-0xDFFF) sorts before U+E000-U+FFFF, unlike Python's code point order.
    keys.sort(key=_utf16_sort_key)
    parts.append("{")
    for index, key in enumerate(keys):
        if index:
            parts.append(",")
        parts.append(_string_text(key))
        parts.append(":")
        _write(value[key], parts)
    parts.append("}")


def _utf16_sort_key(text: str) -> bytes:
    return text.encode("utf-16-be", "surrogatepass")


def _string_text(text: str) -> str:
    if _SURROGATE.search(text):
        # A Python str may hold a surrogate pair as two code points; JavaScript sees one
        # well-formed character there and writes it raw. Only unpaired ones stay surrogates.
        text = text.encode("utf-16-be", "surrogatepass").decode("utf-16-be", "surrogatepass")
    return '"' + _NEEDS_ESCAPE.sub(_escape, text) + '"'


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    short = _SHORT_ESCAPES.get(char)
    return short if short is not None else f"\\u{ord(char):04x}"
