"""What one receipt says, as canonical JSON (docs/receipts.md, "Receipt payload").

The payload is written with the job specs' canonical form (`jobs/canonical.py`: keys sorted,
no spaces, JavaScript's number and string rules), so a verifier in any language rebuilds
the same bytes from the parsed object, and the stored text is exactly what was signed.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from beacon_gql.jobs.canonical import canonical_json

RECEIPT_TYPE: Final = "beacon-receipt/1"
ROOT_TYPE: Final = "beacon-receipt-root/1"


@dataclass(frozen=True)
class ReceiptFacts:
    """What an execution was asked, known since its job was submitted and it was claimed."""

    job_id: str
    spec_hash: str
    execution_id: str
    position: int
    question_id: str
    question_text: str
    model: str
    region: str
    prompt: str
    system_prompt: str | None
    temperature: float
    max_tokens: int
    started_at: datetime | None
    attempt: int
    # Only when the execution row has one (repeated sampling of one cell): the payload of
    # an execution without it has no "sample" key at all.
    sample: Any = None
    # Likewise top_p, a generation parameter a job may leave to the provider.
    top_p: float | None = None


@dataclass(frozen=True)
class ReceiptOutcome:
    """How it ended."""

    status: str
    provider: str | None
    response: str | None
    error_code: str | None
    completed_at: datetime | None

    @classmethod
    def of(cls, values: Mapping[str, Any]) -> ReceiptOutcome:
        return cls(
            status=values["status"],
            provider=values.get("provider_id"),
            response=values.get("response"),
            error_code=values.get("error_code"),
            completed_at=values.get("completed_at"),
        )


@dataclass(frozen=True)
class Receipt:
    payload: str
    signature: str
    key_id: str


def spec_hash(spec: Mapping[str, object]) -> str:
    """SHA-256 (hex) of the stored job spec's canonical JSON, signature included."""
    return sha256_text(canonical_json(spec))


def sha256_text(text: str) -> str:
    # surrogatepass: a lone surrogate cannot make hashing fail; valid text is plain UTF-8.
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def timestamp(moment: datetime | None) -> str | None:
    """UTC, microseconds, trailing Z: 2026-12-06T19:39:20.123456Z."""
    if moment is None:
        return None
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    # isoformat is several times faster than strftime; "+00:00" becomes "Z".
    return moment.isoformat(timespec="microseconds")[:-6] + "Z"


def receipt_payload(facts: ReceiptFacts, outcome: ReceiptOutcome, key_id: str) -> str:
    body: dict[str, object] = {
        "type": RECEIPT_TYPE,
        "jobId": facts.job_id,
        "specHash": facts.spec_hash,
        "executionId": facts.execution_id,
        "position": facts.position,
        "questionId": facts.question_id,
        "questionText": facts.question_text,
        "model": facts.model,
        "region": facts.region,
        "provider": outcome.provider,
        "prompt": facts.prompt,
        "systemPrompt": facts.system_prompt,
        "temperature": facts.temperature,
        "maxTokens": facts.max_tokens,
        "status": outcome.status,
        "responseHash": None if outcome.response is None else sha256_text(outcome.response),
        "errorCode": outcome.error_code,
        "startedAt": timestamp(facts.started_at),
        "completedAt": timestamp(outcome.completed_at),
        "attempt": facts.attempt,
        "keyId": key_id,
    }
    if facts.sample is not None:
        body["sample"] = facts.sample
    if facts.top_p is not None:
        body["topP"] = facts.top_p
    return flat_canonical_json(body)


def flat_canonical_json(body: Mapping[str, object]) -> str:
    """canonical_json(body), byte for byte, for an object whose keys are ASCII: sorted
    UTF-16 code units are then plain sorted strings, and only the values need the generic
    writer. This runs once per answer on the worker's path, so values that repeat from one
    execution to the next (prompts, question texts, models, the job's ids) are written once."""
    return (
        "{" + ",".join(f"{_value_text(key)}:{_value_text(body[key])}" for key in sorted(body)) + "}"
    )


# Longer strings are not kept: a cache of prompts must not become a cache of answers.
_CACHED_STRING_LENGTH: Final = 4096


def _value_text(value: object) -> str:
    if isinstance(value, str) and len(value) <= _CACHED_STRING_LENGTH:
        return _repeated_string_text(value)
    return canonical_json(value)


@functools.lru_cache(maxsize=1024)
def _repeated_string_text(value: str) -> str:
    return canonical_json(value)


def root_message(job_id: str, root: str, leaves: int, key_id: str) -> str:
    """The text a job's root signature covers."""
    return canonical_json(
        {"type": ROOT_TYPE, "jobId": job_id, "root": root, "leaves": leaves, "keyId": key_id}
    )
