"""The predecessor portal's own signatures (tests/vectors) verify, and its forgeries do not."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from nacl.signing import VerifyKey

from beacon_gql.errors import Unauthenticated
from beacon_gql.jobs.canonical import signable_message
from beacon_gql.jobs.signing import verify_spec_signature

# The predecessor portal's signed specs, kept as it wrote them.
VECTORS_PATH = Path(__file__).resolve().parent / "vectors" / "portal_signed_jobspecs.json"
EXPECTED_CASE_COUNT = 35
PORTAL_MAIN_KEY = "V4kSt7SG6Ulgl+x9RIz9AWrj7qOwlHlX2F5IRskwhDw="


def _load_cases() -> list[dict[str, Any]]:
    if not VECTORS_PATH.is_file():
        return []
    cases: list[dict[str, Any]] = json.loads(VECTORS_PATH.read_text(encoding="utf-8"))["cases"]
    return cases


CASES = _load_cases()
VALID = [case for case in CASES if case["expect"] == "valid"]
INVALID = [case for case in CASES if case["expect"] == "invalid"]


def _by_name(cases: list[dict[str, Any]]) -> list[Any]:
    # A missing vectors file must fail the run: an empty parametrize would only skip.
    if not CASES:
        return [pytest.param(None, id="vectors-file-missing")]
    return [pytest.param(case, id=case["name"]) for case in cases]


def _jobspec(case: dict[str, Any] | None) -> dict[str, Any]:
    if case is None:
        pytest.fail(f"signing vectors not found at {VECTORS_PATH}")
    # Parse from JSON text, as the server receives it.
    parsed: dict[str, Any] = json.loads(json.dumps(case["jobspec"]))
    return parsed


def test_vectors_file_is_present_and_complete() -> None:
    assert VECTORS_PATH.is_file(), f"signing vectors not found at {VECTORS_PATH}"
    assert len(CASES) == EXPECTED_CASE_COUNT
    assert len({case["name"] for case in CASES}) == EXPECTED_CASE_COUNT
    assert {case["expect"] for case in CASES} == {"valid", "invalid"}


@pytest.mark.parametrize("case", _by_name(VALID))
def test_portal_signature_verifies(case: dict[str, Any] | None) -> None:
    jobspec = _jobspec(case)
    assert case is not None
    assert signable_message(jobspec).decode("utf-8") == case["signed_message"]
    verified = verify_spec_signature(jobspec)
    assert verified.public_key == jobspec["public_key"]


@pytest.mark.parametrize("case", _by_name(INVALID))
def test_forged_or_mangled_jobspec_is_unauthenticated(case: dict[str, Any] | None) -> None:
    jobspec = _jobspec(case)
    with pytest.raises(Unauthenticated):
        verify_spec_signature(jobspec)


@pytest.mark.parametrize("case", _by_name(INVALID))
def test_tampered_vectors_fail_for_the_stated_reason(case: dict[str, Any] | None) -> None:
    """Where our canonical form differs from what was signed, the signature itself is genuine.

    That rules out passing these cases by accident (e.g. by a canonicalisation bug that would
    also break valid signatures): the content, not the signature, is what changed.
    """
    jobspec = _jobspec(case)
    assert case is not None
    if signable_message(jobspec).decode("utf-8") == case["signed_message"]:
        return  # the signature or key is what is broken; the other test covers it
    VerifyKey(base64.b64decode(jobspec["public_key"])).verify(
        case["signed_message"].encode("utf-8"), base64.b64decode(jobspec["signature"])
    )


def test_portal_reuses_one_nonce_per_key() -> None:
    """The portal's signatures share R for one key, so a server can spot an exposed key."""
    commitments = {
        verify_spec_signature(_jobspec(case)).nonce_commitment
        for case in VALID
        if case["jobspec"]["public_key"] == PORTAL_MAIN_KEY
    }
    messages = {
        case["signed_message"] for case in VALID if case["jobspec"]["public_key"] == PORTAL_MAIN_KEY
    }
    assert len(messages) > 1
    assert len(commitments) == 1
