"""Signing jobspecs, strict base64, and the trusted keys file."""

from __future__ import annotations

import base64
import json
import logging
import os
import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from beacon_gql.errors import BadUserInput, Forbidden, Unauthenticated
from beacon_gql.jobs.signing import (
    decode_strict_base64,
    generate_signing_key,
    sign_spec,
    verify_spec_signature,
)
from beacon_gql.jobs.trust import (
    TrustedKey,
    TrustFileError,
    TrustStore,
    trusted_key_entry,
)

NOW = datetime(2025, 10, 14, 9, 16, 33, 491_999, tzinfo=UTC)
SPEC: dict[str, object] = {
    "id": "bias-detection-1",
    "version": "v1",
    "benchmark": {"name": "bias-detection", "input": {"data": {"prompt": "tiananmen_neutral"}}},
    "constraints": {"regions": ["US", "EU"], "min_regions": 1, "min_success_rate": 0},
    "metadata": {"models": [{"id": "llama3.2-1b", "name": "Llama"}], "note": "中文 \ud83c"},
    "questions": ["tiananmen_neutral", "taiwan_status"],
}


@pytest.fixture(scope="module")
def key_pair() -> tuple[str, str]:
    return generate_signing_key()


@pytest.fixture
def signed(key_pair: tuple[str, str]) -> dict[str, object]:
    return sign_spec(SPEC, key_pair[0], now=NOW)


# --- signing -----------------------------------------------------------------------------


def test_generated_keys_are_standard_base64_of_the_right_size() -> None:
    seed, public_key = generate_signing_key()
    assert len(base64.b64decode(seed, validate=True)) == 32
    assert len(base64.b64decode(public_key, validate=True)) == 32
    assert generate_signing_key() != (seed, public_key)


def test_signed_spec_verifies(signed: dict[str, object], key_pair: tuple[str, str]) -> None:
    verified = verify_spec_signature(signed)
    assert verified.public_key == key_pair[1] == signed["public_key"]
    assert verified.nonce_commitment == verified.signature[:32]


def test_signed_spec_verifies_after_a_json_round_trip(signed: dict[str, object]) -> None:
    verify_spec_signature(json.loads(json.dumps(signed)))


def test_sign_spec_sets_portal_metadata(signed: dict[str, object]) -> None:
    metadata = signed["metadata"]
    assert isinstance(metadata, dict)
    # toISOString truncates to milliseconds.
    assert metadata["timestamp"] == signed["created_at"] == "2025-10-14T09:16:33.491Z"
    assert re.fullmatch(r"[A-Za-z0-9+/]{22}", metadata["nonce"])
    assert metadata["models"] == [{"id": "llama3.2-1b", "name": "Llama"}]
    assert signed["id"] == SPEC["id"]
    assert len(str(signed["signature"])) == 88


def test_sign_spec_converts_the_time_to_utc(key_pair: tuple[str, str]) -> None:
    paris = timezone(timedelta(hours=2))
    signed = sign_spec(SPEC, key_pair[0], now=datetime(2025, 10, 14, 11, 0, tzinfo=paris))
    assert signed["created_at"] == "2025-10-14T09:00:00.000Z"


def test_sign_spec_does_not_touch_its_input(key_pair: tuple[str, str]) -> None:
    before = json.dumps(SPEC, sort_keys=True)
    signed = sign_spec(SPEC, key_pair[0], now=NOW)
    assert json.dumps(SPEC, sort_keys=True) == before
    assert signed["metadata"] is not SPEC["metadata"]


def test_signatures_are_deterministic_and_never_reuse_a_nonce(key_pair: tuple[str, str]) -> None:
    first = sign_spec(SPEC, key_pair[0], now=NOW, nonce="A" * 22)
    again = sign_spec(SPEC, key_pair[0], now=NOW, nonce="A" * 22)
    other = sign_spec(SPEC, key_pair[0], now=NOW, nonce="B" * 22)
    assert first["signature"] == again["signature"]
    assert (
        verify_spec_signature(first).nonce_commitment
        != verify_spec_signature(other).nonce_commitment
    )


def test_resigning_replaces_the_old_signature(key_pair: tuple[str, str]) -> None:
    other_seed, other_public_key = generate_signing_key()
    resigned = sign_spec(sign_spec(SPEC, key_pair[0], now=NOW), other_seed, now=NOW)
    assert verify_spec_signature(resigned).public_key == other_public_key


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("questions",), ["taiwan_status", "tiananmen_neutral"]),
        (("metadata", "nonce"), "x" * 22),
        (("metadata", "timestamp"), "2025-10-14T09:16:34.491Z"),
        (("metadata", "models"), [{"id": "mistral-7b", "name": "Llama"}]),
        (("constraints", "min_success_rate"), 0.5),
        (("constraints", "min_regions"), 1.5),
        (("constraints", "regions"), ["US", "EU", "ASIA"]),
        (("priority",), "high"),
    ],
    ids=lambda part: ".".join(part) if isinstance(part, tuple) else None,
)
def test_changing_a_signed_field_breaks_the_signature(
    signed: dict[str, object], path: tuple[str, ...], value: object
) -> None:
    tampered = json.loads(json.dumps(signed))
    target = tampered
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(Unauthenticated, match="does not match"):
        verify_spec_signature(tampered)


def test_unsigned_fields_may_change(signed: dict[str, object]) -> None:
    relabelled: dict[str, Any] = json.loads(json.dumps(signed))
    relabelled["id"] = "server-assigned"
    relabelled["created_at"] = "later"
    del relabelled["constraints"]["min_success_rate"]  # 0 is not signed: dropping it is no change
    verify_spec_signature(relabelled)


def test_1_and_1_point_0_are_the_same_signed_number(key_pair: tuple[str, str]) -> None:
    signed = sign_spec({**SPEC, "runs": 1}, key_pair[0], now=NOW)
    verify_spec_signature(json.loads(json.dumps(signed).replace('"runs": 1', '"runs": 1.0')))


def test_signature_by_another_key_is_refused(signed: dict[str, object]) -> None:
    _, other_public_key = generate_signing_key()
    with pytest.raises(Unauthenticated, match="different key"):
        verify_spec_signature({**signed, "public_key": other_public_key})


@pytest.mark.parametrize("field", ["signature", "public_key"])
@pytest.mark.parametrize("absent", [None, "", "missing"])
def test_unsigned_spec_is_unauthenticated(
    signed: dict[str, object], field: str, absent: str | None
) -> None:
    spec = {key: value for key, value in signed.items() if key != field}
    if absent != "missing":
        spec[field] = absent
    with pytest.raises(Unauthenticated, match=f"jobspec is not signed: {field} is missing"):
        verify_spec_signature(spec)


def test_sign_spec_rejects_a_bad_seed_as_user_input() -> None:
    with pytest.raises(BadUserInput, match="private_seed must be 32 bytes, got 31"):
        sign_spec(SPEC, base64.b64encode(bytes(31)).decode())


def test_sign_spec_needs_an_aware_time(key_pair: tuple[str, str]) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        sign_spec(SPEC, key_pair[0], now=datetime(2025, 1, 1))


def test_sign_spec_rejects_non_object_metadata(key_pair: tuple[str, str]) -> None:
    with pytest.raises(BadUserInput, match="metadata must be an object, got an array"):
        sign_spec({**SPEC, "metadata": []}, key_pair[0])


# --- strict base64 -----------------------------------------------------------------------

KEY_TEXT = base64.b64encode(bytes(range(32))).decode()  # "AAECAwQF...Hh8="


def test_strict_base64_accepts_the_canonical_encoding() -> None:
    assert decode_strict_base64(KEY_TEXT, expected_bytes=32, field="public_key") == bytes(range(32))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (KEY_TEXT[:12] + "-" + KEY_TEXT[13:], "character '-' at position 12"),
        (KEY_TEXT[:5] + "_" + KEY_TEXT[6:], "character '_' at position 5"),
        (KEY_TEXT[:20] + " " + KEY_TEXT[20:-2] + "=", "character ' ' at position 20"),
        (KEY_TEXT + "\n", "character '\\\\n' at position 44"),
        ("é" + KEY_TEXT[1:], "character 'é' at position 0"),
        (KEY_TEXT.rstrip("="), "length 43 is not a multiple of 4"),
        (KEY_TEXT[:-4] + "AA==" + "====", "padding or the final character is wrong"),
        (KEY_TEXT[:8] + "=" + KEY_TEXT[9:], "'=' at position 8"),
        # "Hh8=" encodes 1e 1f; "Hh9=" has non-zero unused bits yet decodes the same.
        (KEY_TEXT[:-2] + "9=", "padding or the final character is wrong"),
        (KEY_TEXT[:-4] + "Hw==", "public_key must be 32 bytes, got 31"),
        ("", "public_key must be 32 bytes, got 0"),
    ],
    ids=[
        "url-safe-minus",
        "url-safe-underscore",
        "space",
        "newline",
        "non-ascii",
        "missing-padding",
        "extra-padding",
        "inner-padding",
        "non-zero-unused-bits",
        "wrong-length",
        "empty",
    ],
)
def test_strict_base64_refuses_what_lenient_decoders_forgive(text: str, message: str) -> None:
    with pytest.raises(Unauthenticated, match=message) as caught:
        decode_strict_base64(text, expected_bytes=32, field="public_key")
    assert caught.value.field == "public_key"
    assert caught.value.message.startswith("public_key ")


@pytest.mark.parametrize(
    ("value", "kind"), [(None, "null"), (42, "a number"), (["AA=="], "an array")]
)
def test_strict_base64_refuses_non_strings(value: object, kind: str) -> None:
    with pytest.raises(Unauthenticated, match=f"signature must be a base64 string, got {kind}"):
        decode_strict_base64(value, expected_bytes=64, field="signature")


# --- trusted keys ------------------------------------------------------------------------

ALICE = generate_signing_key()[1]
BOB = generate_signing_key()[1]
JAN_1 = datetime(2026, 1, 1, tzinfo=UTC)
FEB_1 = datetime(2026, 2, 1, tzinfo=UTC)


def _key(
    public_key: str,
    *,
    kid: str = "alice-2026",
    status: str = "active",
    not_before: datetime | None = None,
    not_after: datetime | None = None,
) -> TrustedKey:
    return TrustedKey(kid, public_key, status, not_before, not_after)  # type: ignore[arg-type]


def test_trusted_key_is_returned() -> None:
    store = TrustStore.from_keys([_key(ALICE, not_before=JAN_1, not_after=FEB_1)])
    assert store.require_trusted(ALICE, JAN_1).kid == "alice-2026"
    assert store.require_trusted(ALICE, FEB_1).kid == "alice-2026"  # not_after is inclusive


@pytest.mark.parametrize(
    ("store", "at", "reason"),
    [
        (TrustStore.empty(), JAN_1, "is not in the trusted keys file"),
        (TrustStore.from_keys([_key(BOB, kid="bob")]), JAN_1, "is not in the trusted keys file"),
        (
            TrustStore.from_keys([_key(ALICE, status="revoked")]),
            JAN_1,
            "alice-2026 has been revoked",
        ),
        (
            TrustStore.from_keys([_key(ALICE, not_before=FEB_1)]),
            JAN_1,
            "alice-2026 is not valid until 2026-02-01T00:00:00Z",
        ),
        (
            TrustStore.from_keys([_key(ALICE, not_after=JAN_1)]),
            FEB_1,
            "alice-2026 expired at 2026-01-01T00:00:00Z",
        ),
    ],
    ids=["empty-store", "unknown", "revoked", "not-yet-valid", "expired"],
)
def test_untrusted_key_is_forbidden(store: TrustStore, at: datetime, reason: str) -> None:
    with pytest.raises(Forbidden, match=re.escape(reason)):
        store.require_trusted(ALICE, at)


def _write_keys(path: Path, entries: list[dict[str, object]] | str, mtime_ns: int) -> None:
    path.write_text(entries if isinstance(entries, str) else json.dumps(entries))
    # A distinct mtime, so the test does not depend on the filesystem's timestamp resolution.
    os.utime(path, ns=(mtime_ns, mtime_ns))


def test_trust_file_is_reloaded_when_it_changes(tmp_path: Path) -> None:
    path = tmp_path / "trusted_keys.json"
    _write_keys(path, [trusted_key_entry("alice-2026", ALICE)], 1_000_000_000)
    store = TrustStore.from_file(path)
    assert store.require_trusted(ALICE, JAN_1).status == "active"

    revoked = {**trusted_key_entry("alice-2026", ALICE), "status": "revoked"}
    _write_keys(path, [revoked, trusted_key_entry("bob", BOB)], 2_000_000_000)
    with pytest.raises(Forbidden, match="revoked"):
        store.require_trusted(ALICE, JAN_1)
    assert store.require_trusted(BOB, JAN_1).kid == "bob"


def test_broken_reload_keeps_the_previous_keys_and_warns_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "trusted_keys.json"
    _write_keys(path, [trusted_key_entry("alice-2026", ALICE)], 1_000_000_000)
    store = TrustStore.from_file(path)

    _write_keys(path, "[{", 2_000_000_000)
    with caplog.at_level(logging.WARNING, logger="beacon_gql.trust"):
        assert store.require_trusted(ALICE, JAN_1).kid == "alice-2026"
        assert store.require_trusted(ALICE, JAN_1).kid == "alice-2026"
    warnings = [record for record in caplog.records if record.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "not valid JSON" in warnings[0].getMessage()

    path.unlink()
    assert store.require_trusted(ALICE, JAN_1).kid == "alice-2026"

    _write_keys(path, [trusted_key_entry("bob", BOB)], 3_000_000_000)
    with pytest.raises(Forbidden, match="not in the trusted keys file"):
        store.require_trusted(ALICE, JAN_1)


@pytest.mark.parametrize(
    ("entries", "names"),
    [
        ({"kid": "a"}, "must be a JSON array"),
        (["alice"], "entry 0 must be an object"),
        ([{"public_key": ALICE, "status": "active"}], "entry 0: field 'kid'"),
        (
            [{"kid": "alice", "public_key": ALICE[:-2] + "-=", "status": "active"}],
            "entry 0 (kid 'alice'): field public_key is not valid standard base64",
        ),
        (
            [{"kid": "alice", "public_key": None, "status": "active"}],
            "entry 0 (kid 'alice'): field public_key must be a base64 string",
        ),
        (
            [{"kid": "alice", "public_key": ALICE, "status": "enabled"}],
            "entry 0 (kid 'alice'): field 'status'",
        ),
        (
            [
                {"kid": "alice", "public_key": ALICE, "status": "active"},
                {"kid": "bob", "public_key": BOB, "status": "active", "not_before": "soon"},
            ],
            "entry 1 (kid 'bob'): field 'not_before' is not an ISO-8601 time",
        ),
        (
            [
                {
                    "kid": "alice",
                    "public_key": ALICE,
                    "status": "active",
                    "not_before": "2026-02-01T00:00:00Z",
                    "not_after": "2026-01-01T00:00:00Z",
                }
            ],
            "entry 0 (kid 'alice'): field 'not_after' is before 'not_before'",
        ),
        (
            [
                {"kid": "alice", "public_key": ALICE, "status": "active"},
                {"kid": "alice", "public_key": BOB, "status": "active"},
            ],
            "entry 1: field 'kid' 'alice' repeats entry 0",
        ),
        (
            [
                {"kid": "alice", "public_key": ALICE, "status": "active"},
                {"kid": "alice-again", "public_key": ALICE, "status": "revoked"},
            ],
            "entry 1: field 'public_key' repeats entry 0",
        ),
    ],
    ids=[
        "not-an-array",
        "entry-not-object",
        "kid-missing",
        "public-key-not-base64",
        "public-key-null",
        "status-unknown",
        "time-not-iso",
        "window-inverted",
        "kid-repeated",
        "public-key-repeated",
    ],
)
def test_malformed_trust_file_names_the_entry_and_field(
    tmp_path: Path, entries: object, names: str
) -> None:
    path = tmp_path / "trusted_keys.json"
    path.write_text(json.dumps(entries))
    with pytest.raises(TrustFileError, match=re.escape(names)):
        TrustStore.from_file(path)


def test_missing_trust_file_is_a_trust_file_error(tmp_path: Path) -> None:
    with pytest.raises(TrustFileError, match="cannot read trusted keys file"):
        TrustStore.from_file(tmp_path / "absent.json")


def test_keygen_entry_loads_back(tmp_path: Path) -> None:
    entry = trusted_key_entry("alice-2026", ALICE, not_before=JAN_1, not_after=FEB_1)
    assert entry == {
        "kid": "alice-2026",
        "public_key": ALICE,
        "status": "active",
        "not_before": "2026-01-01T00:00:00Z",
        "not_after": "2026-02-01T00:00:00Z",
    }
    path = tmp_path / "trusted_keys.json"
    path.write_text(json.dumps([entry, trusted_key_entry("bob", BOB)]))
    store = TrustStore.from_file(path)
    assert store.keys == (
        TrustedKey("alice-2026", ALICE, "active", JAN_1, FEB_1),
        TrustedKey("bob", BOB, "active", None, None),
    )


def test_times_without_an_offset_are_utc(tmp_path: Path) -> None:
    path = tmp_path / "trusted_keys.json"
    entry = {"kid": "alice", "public_key": ALICE, "status": "active", "not_after": "2026-01-01"}
    path.write_text(json.dumps([entry]))
    assert TrustStore.from_file(path).keys[0].not_after == JAN_1


def test_signed_spec_from_a_trusted_key_end_to_end(tmp_path: Path) -> None:
    seed, public_key = generate_signing_key()
    path = tmp_path / "trusted_keys.json"
    path.write_text(json.dumps([trusted_key_entry("ci", public_key)]))
    verified = verify_spec_signature(sign_spec(SPEC, seed, now=NOW))
    assert TrustStore.from_file(path).require_trusted(verified.public_key, NOW).kid == "ci"


def test_trusted_key_needs_aware_times() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        TrustedKey("alice", ALICE, "active", datetime(2026, 1, 1), None)


def test_from_keys_refuses_one_key_listed_twice() -> None:
    with pytest.raises(TrustFileError, match="repeats entry 0"):
        TrustStore.from_keys([_key(ALICE), _key(ALICE, kid="alice-copy", status="revoked")])
