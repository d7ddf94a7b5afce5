"""Canonical JSON must match the portal's json-stable-stringify output byte for byte."""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from beacon_gql.errors import BadUserInput
from beacon_gql.jobs.canonical import canonical_json, signable_message

# What JavaScript's (1, 2.5, ...).toString() prints, checked against node's output.
JS_NUMBER_TEXT = [
    (0, "0"),
    (-7, "-7"),
    (1.0, "1"),
    (2.5, "2.5"),
    (2.50, "2.5"),
    (-0.0, "0"),
    (0.00003, "0.00003"),
    (0.000001, "0.000001"),
    (1e-7, "1e-7"),
    (1.5e-7, "1.5e-7"),
    (5e-324, "5e-324"),
    (1e21, "1e+21"),
    (1e20, "100000000000000000000"),
    (1.5e300, "1.5e+300"),
    (-1.5e-300, "-1.5e-300"),
    (1.7976931348623157e308, "1.7976931348623157e+308"),
    (123456789.125, "123456789.125"),
    (123e-20, "1.23e-18"),
    (0.1 + 0.2, "0.30000000000000004"),
    (100.0, "100"),
    (1e16, "10000000000000000"),
    (600000000000, "600000000000"),
    (2**53, "9007199254740992"),
    # Integers beyond 2**53 become the nearest double in JavaScript.
    (2**53 + 1, "9007199254740992"),
    (123456789012345678901, "123456789012345680000"),
    (-(2**60), "-1152921504606847000"),
    (10**21, "1e+21"),
    # JSON.stringify writes non-finite numbers (and literals too big for a double) as null.
    (10**400, "null"),
    (math.nan, "null"),
    (math.inf, "null"),
    (-math.inf, "null"),
]

_JS_NUMBER_GRAMMAR = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]*[1-9])?(e[+-][1-9][0-9]*)?")


@pytest.mark.parametrize(("number", "expected"), JS_NUMBER_TEXT, ids=[t for _, t in JS_NUMBER_TEXT])
def test_numbers_are_written_as_javascript_writes_them(number: float, expected: str) -> None:
    assert canonical_json(number) == expected


def test_booleans_are_not_numbers() -> None:
    assert canonical_json([True, False, 1, 0, 1.0]) == "[true,false,1,0,1]"


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_every_finite_double_round_trips_in_javascript_number_grammar(number: float) -> None:
    text = canonical_json(number)
    assert _JS_NUMBER_GRAMMAR.fullmatch(text), text
    assert float(text) == number
    # ECMAScript wants the shortest round-tripping digits, which is what repr() picks too.
    assert _significant_digits(text) == _significant_digits(repr(number))


def _significant_digits(number_text: str) -> str:
    mantissa = number_text.lower().partition("e")[0]
    return mantissa.replace("-", "").replace(".", "").strip("0")


def test_keys_sort_by_utf16_code_units_not_code_points() -> None:
    astral = "\U0001f600"  # a surrogate pair in UTF-16: 0xD83D 0xDE00
    fullwidth = "\uff21"  # one code unit, 0xFF21, above the surrogates
    assert sorted([astral, fullwidth]) == [fullwidth, astral]  # Python's order is the trap
    assert canonical_json({fullwidth: 1, astral: 2, "z": 3, "é": 4}) == (
        '{"z":3,"é":4,"\U0001f600":2,"\uff21":1}'
    )


def test_keys_sort_at_every_level_and_arrays_keep_their_order() -> None:
    value: dict[str, object] = {"b": [{"y": 1, "x": 2}, 3, "a"], "a": {"d": None, "c": True}}
    assert canonical_json(value) == '{"a":{"c":true,"d":null},"b":[{"x":2,"y":1},3,"a"]}'


def test_empty_and_falsy_values_are_kept() -> None:
    value: dict[str, object] = {"n": None, "f": False, "z": 0, "s": "", "l": [], "o": {}}
    assert canonical_json(value) == '{"f":false,"l":[],"n":null,"o":{},"s":"","z":0}'


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('say "hi"', r'"say \"hi\""'),
        ("back\\slash", r'"back\\slash"'),
        ("\b\t\n\f\r", r'"\b\t\n\f\r"'),
        ("\x00\x01\x0b\x1f", r'"\u0000\u0001\u000b\u001f"'),
        # JSON.stringify leaves these alone; Go and Python's ensure_ascii would not.
        ("</script> & é 中 \x7f \u2028\u2029 /", '"</script> & é 中 \x7f \u2028\u2029 /"'),
    ],
    ids=["quotes", "backslash", "short-escapes", "other-controls", "left-raw"],
)
def test_strings_are_escaped_like_json_stringify(text: str, expected: str) -> None:
    assert canonical_json(text) == expected


def test_lone_surrogates_are_escaped_in_lowercase() -> None:
    parsed = json.loads(r'{"\udfff": "cut flag \ud83c", "pair": "\ud83d\ude00"}')
    assert canonical_json(parsed) == r'{"pair":"' + "\U0001f600" + r'","\udfff":"cut flag \ud83c"}'


def test_a_surrogate_pair_held_as_two_code_points_is_one_character() -> None:
    assert canonical_json("\ud83d\ude00") == '"\U0001f600"'


@pytest.mark.parametrize(
    "value",
    [{1: "a"}, {"a": {1, 2}}, b"bytes", datetime(2025, 1, 1, tzinfo=UTC), object()],
    ids=["int-key", "set", "bytes", "datetime", "object"],
)
def test_non_json_values_are_bad_user_input(value: object) -> None:
    with pytest.raises(BadUserInput):
        canonical_json(value)


def test_deep_nesting_is_bad_user_input_not_a_crash() -> None:
    value: object = []
    for _ in range(100_000):
        value = [value]
    with pytest.raises(BadUserInput, match="nested too deeply"):
        canonical_json(value)


def _spec(**constraints: object) -> dict[str, object]:
    return {
        "id": "job-1",
        "created_at": "2025-10-14T09:16:33.491Z",
        "signature": "sig",
        "public_key": "key",
        "version": "v1",
        "constraints": {"regions": ["US"], **constraints},
        "metadata": {"models": [{"id": "llama3.2-1b"}], "created_at": "kept", "id": 7},
        "wallet_auth": {"signature": "0xkept", "public_key": "kept"},
    }


def test_signable_message_drops_only_top_level_unsigned_keys() -> None:
    assert signable_message(_spec()).decode() == (
        '{"constraints":{"regions":["US"]},'
        '"metadata":{"created_at":"kept","id":7,"models":[{"id":"llama3.2-1b"}]},'
        '"version":"v1","wallet_auth":{"public_key":"kept","signature":"0xkept"}}'
    )


@pytest.mark.parametrize("zero", [0, 0.0, -0.0], ids=["int", "float", "negative"])
def test_min_success_rate_zero_is_not_signed(zero: float) -> None:
    assert b"min_success_rate" not in signable_message(_spec(min_success_rate=zero))
    assert signable_message(_spec(min_success_rate=zero)) == signable_message(_spec())


@pytest.mark.parametrize(
    ("rate", "signed_as"),
    [(0.5, "0.5"), (1.0, "1"), (False, "false"), ("0", '"0"'), (None, "null")],
    ids=["half", "one", "false", "string-zero", "null"],
)
def test_min_success_rate_other_than_number_zero_is_signed(rate: object, signed_as: str) -> None:
    assert f'"min_success_rate":{signed_as}'.encode() in signable_message(
        _spec(min_success_rate=rate)
    )


def test_signable_message_leaves_the_spec_untouched() -> None:
    spec = _spec(min_success_rate=0)
    before = json.dumps(spec, sort_keys=True)
    signable_message(spec)
    assert json.dumps(spec, sort_keys=True) == before


def test_signable_message_with_a_lone_surrogate_is_valid_utf8() -> None:
    spec = json.loads(r'{"benchmark": {"description": "cut \ud83c"}, "x": "é"}')
    assert signable_message(spec) == b'{"benchmark":{"description":"cut \\ud83c"},"x":"\xc3\xa9"}'
