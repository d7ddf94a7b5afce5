"""Offline verification of a JSON export (`beacon-gql export --format json`) against the
server's published keys: every receipt's signature, every execution against its receipt,
and the job's signed Merkle root (docs/receipts.md, "Verifying an export")."""

from __future__ import annotations

import base64
import binascii
import json
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from nacl.exceptions import CryptoError
from nacl.signing import VerifyKey

from beacon_gql.receipts.keys import key_id_of
from beacon_gql.receipts.merkle import merkle_root
from beacon_gql.receipts.payload import RECEIPT_TYPE, root_message, sha256_text, spec_hash

REDACTED = "[redacted]"


@dataclass(frozen=True)
class Problem:
    subject: str  # "execution <id> (question, model, region)", "job", "keys"
    message: str

    def __str__(self) -> str:
        return f"{self.subject}: {self.message}"


@dataclass
class Verification:
    job_id: str
    receipts_checked: int = 0
    root: str | None = None
    leaves: int | None = None
    root_key_id: str | None = None
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def published_keys(document: Mapping[str, Any]) -> tuple[dict[str, VerifyKey], list[Problem]]:
    """keyId -> key from a beacon-keys document; an entry whose id is not its key's is
    refused (ids are derived from the keys, so that a list cannot rename one)."""
    keys: dict[str, VerifyKey] = {}
    problems: list[Problem] = []
    entries = document.get("keys")
    if not isinstance(entries, list):
        return keys, [Problem("keys", "the key list has no 'keys' array")]
    for entry in entries:
        if not isinstance(entry, Mapping):
            problems.append(Problem("keys", "a key entry is not an object"))
            continue
        key_id = entry.get("keyId")
        try:
            raw = base64.b64decode(str(entry.get("publicKey")), validate=True)
            key = VerifyKey(raw)
        except (binascii.Error, ValueError, TypeError, CryptoError):
            problems.append(Problem("keys", f"key {key_id!r} is not a valid Ed25519 key"))
            continue
        if key_id != key_id_of(raw):
            problems.append(
                Problem(
                    "keys", f"key {key_id!r} does not match its public key (id {key_id_of(raw)})"
                )
            )
            continue
        keys[key_id] = key
    return keys, problems


def _signature_valid(keys: Mapping[str, VerifyKey], key_id: str, message: str, sig: str) -> bool:
    try:
        keys[key_id].verify(message.encode("utf-8"), base64.b64decode(sig, validate=True))
    except (CryptoError, binascii.Error, ValueError):
        return False
    return True


def _same_time(signed: object, shown: object) -> bool:
    if signed is None or shown is None:
        return signed is None and shown is None
    try:
        return datetime.fromisoformat(str(signed)) == datetime.fromisoformat(str(shown))
    except ValueError:
        return False


def _same_number(signed: object, shown: object) -> bool:
    if isinstance(signed, int | float) and isinstance(shown, int | float):
        return float(signed) == float(shown)
    return signed == shown


# (payload key, what it is called, how the export shows it, how to compare)
Comparison = tuple[
    str, str, Callable[[Mapping[str, Any]], object], Callable[[object, object], bool]
]


def _equal(a: object, b: object) -> bool:
    return a == b


def _response_hash(execution: Mapping[str, Any]) -> object:
    response = execution.get("response")
    return None if response is None else sha256_text(str(response))


COMPARISONS: tuple[Comparison, ...] = (
    ("questionId", "question id", lambda e: e.get("questionId"), _equal),
    ("questionText", "question text", lambda e: (e.get("question") or {}).get("text"), _equal),
    ("model", "model", lambda e: e.get("modelId"), _equal),
    ("region", "region", lambda e: e.get("region"), _equal),
    ("provider", "provider", lambda e: e.get("providerId"), _equal),
    ("prompt", "prompt", lambda e: e.get("prompt"), _equal),
    ("systemPrompt", "system prompt", lambda e: e.get("systemPrompt"), _equal),
    ("temperature", "temperature", lambda e: e.get("temperature"), _same_number),
    ("maxTokens", "max tokens", lambda e: e.get("maxTokens"), _same_number),
    ("status", "status", lambda e: e.get("status"), _equal),
    ("responseHash", "answer", _response_hash, _equal),
    ("errorCode", "error code", lambda e: (e.get("error") or {}).get("code"), _equal),
    ("attempt", "attempt number", lambda e: e.get("attempts"), _same_number),
    ("startedAt", "start time", lambda e: e.get("startedAt"), _same_time),
    ("completedAt", "end time", lambda e: e.get("completedAt"), _same_time),
)
# Shown exactly in the message: short values whose change is best seen.
_QUOTED = {
    "questionId",
    "model",
    "region",
    "provider",
    "temperature",
    "maxTokens",
    "status",
    "errorCode",
    "attempt",
}


def _subject(execution: Mapping[str, Any]) -> str:
    return (
        f"execution {execution.get('id')} ({execution.get('questionId')}, "
        f"{execution.get('modelId')}, {execution.get('region')})"
    )


def verify_export(export: Mapping[str, Any], keys_document: Mapping[str, Any]) -> Verification:
    job = export.get("job") or {}
    executions = export.get("executions") or []
    result = Verification(job_id=str(job.get("id")))
    keys, key_problems = published_keys(keys_document)
    result.problems += key_problems

    expected_spec_hash = spec_hash(job["spec"]) if isinstance(job.get("spec"), Mapping) else None
    spec_redacted = REDACTED in json.dumps(job.get("spec"))
    spec_mismatch = False

    times_seen = Counter(str(e.get("id")) for e in executions if isinstance(e, Mapping))
    seen: set[str] = set()
    leaves: dict[int, tuple[str, str]] = {}  # position -> (execution id, payload)
    # Positions named by receipts that failed: not reported again as removed.
    accounted: set[int] = set()
    for execution in executions:
        if not isinstance(execution, Mapping):
            result.problems.append(Problem("export", "an execution entry is not an object"))
            continue
        subject = _subject(execution)
        execution_id = str(execution.get("id"))
        if execution_id in seen:
            if times_seen[execution_id] > 0:
                result.problems.append(
                    Problem(subject, f"appears {times_seen[execution_id]} times (duplicated)")
                )
                times_seen[execution_id] = 0
            continue
        seen.add(execution_id)
        receipt = execution.get("receipt")
        if not isinstance(receipt, Mapping):
            result.problems.append(Problem(subject, "has no receipt (added, or never signed)"))
            continue
        key_id = str(receipt.get("keyId"))
        payload_text = str(receipt.get("payload"))
        accounted.add(_claimed_position(payload_text))
        if key_id not in keys:
            result.problems.append(
                Problem(subject, f"its receipt is signed by key {key_id}, which is not published")
            )
            continue
        if not _signature_valid(keys, key_id, payload_text, str(receipt.get("signature"))):
            result.problems.append(
                Problem(subject, "its receipt's signature does not verify (receipt altered)")
            )
            continue
        result.receipts_checked += 1
        payload = json.loads(payload_text)
        if payload.get("type") != RECEIPT_TYPE or payload.get("keyId") != key_id:
            result.problems.append(Problem(subject, "its receipt is not a beacon-receipt/1"))
            continue
        if payload.get("jobId") != job.get("id") or payload.get("executionId") != execution_id:
            result.problems.append(
                Problem(
                    subject,
                    f"its receipt is for execution {payload.get('executionId')} of job "
                    f"{payload.get('jobId')} (added from elsewhere)",
                )
            )
            continue
        for key, name, shown_of, same in COMPARISONS:
            signed, shown = payload.get(key), shown_of(execution)
            if not same(signed, shown):
                detail = f": signed {signed!r}, export says {shown!r}" if key in _QUOTED else ""
                result.problems.append(Problem(subject, f"{name} changed{detail}"))
        # Fields only some versions export: an export without one cannot show it changed;
        # one with it must match (a payload without the key signed null).
        for key, name in (("sample", "sample"), ("topP", "top_p")):
            if key in execution and not _same_number(payload.get(key), execution.get(key)):
                result.problems.append(
                    Problem(
                        subject,
                        f"{name} changed: signed {payload.get(key)!r}, "
                        f"export says {execution.get(key)!r}",
                    )
                )
        if expected_spec_hash is not None and payload.get("specHash") != expected_spec_hash:
            spec_mismatch = True
        position = payload.get("position")
        if not isinstance(position, int) or position in leaves:
            result.problems.append(
                Problem(subject, f"its receipt's position {position!r} is taken")
            )
            continue
        leaves[position] = (execution_id, payload_text)

    if spec_mismatch:
        if spec_redacted:
            result.notes.append(
                "the job spec is shown with secret-like values redacted, so its hash cannot be "
                "compared with the receipts' specHash"
            )
        else:
            result.problems.append(Problem("job", "the job spec differs from the one signed"))
    _check_root(result, job, keys, leaves, accounted)
    return result


def _claimed_position(payload_text: str) -> int:
    """The position a receipt says it has, trusted or not (-1 if it says none)."""
    try:
        position = json.loads(payload_text).get("position")
    except (ValueError, AttributeError):
        return -1
    return position if isinstance(position, int) else -1


def _check_root(
    result: Verification,
    job: Mapping[str, Any],
    keys: Mapping[str, VerifyKey],
    leaves: Mapping[int, tuple[str, str]],
    accounted: set[int],
) -> None:
    signed_root = job.get("receiptRoot")
    if not isinstance(signed_root, Mapping):
        result.problems.append(Problem("job", "has no receipt root (it has not ended?)"))
        return
    root, count, key_id = (
        signed_root.get("root"),
        signed_root.get("leaves"),
        signed_root.get("keyId"),
    )
    result.root, result.leaves, result.root_key_id = (
        str(root),
        count if isinstance(count, int) else None,
        str(key_id),
    )
    if key_id not in keys:
        result.problems.append(
            Problem("job", f"its root is signed by key {key_id}, which is not published")
        )
        return
    message = root_message(
        str(job.get("id")), str(root), count if isinstance(count, int) else -1, str(key_id)
    )
    if not isinstance(count, int) or not _signature_valid(
        keys, str(key_id), message, str(signed_root.get("signature"))
    ):
        result.problems.append(
            Problem("job", "the root's signature does not verify (root altered)")
        )
        return
    missing = [p for p in range(count) if p not in leaves and p not in accounted]
    extra = sorted(p for p in leaves if not 0 <= p < count)
    for position in missing:
        result.problems.append(
            Problem(
                f"position {position}",
                f"removed: the signed root covers {count} receipts"
                f"{_cell_hint(job, position, count)}",
            )
        )
    for position in extra:
        execution_id = leaves[position][0]
        result.problems.append(
            Problem(
                f"execution {execution_id}",
                f"added: position {position} is outside the signed root's {count} receipts",
            )
        )
    if missing or extra or len(leaves) != count:
        return
    computed = merkle_root([leaves[p][1].encode("utf-8") for p in range(count)]).hex()
    if computed != root:
        result.problems.append(
            Problem("job", f"the receipts give root {computed}, not the signed {root}")
        )


def _cell_hint(job: Mapping[str, Any], position: int, count: int) -> str:
    """The (question, model, region) at that position, when the job's own grid (questions x
    models x their regions, the order positions follow, each cell `runs` times in a row)
    accounts for exactly `count` executions."""
    cells = [
        (question.get("id"), model.get("id"), region)
        for question in job.get("questions") or []
        for model in job.get("models") or []
        for region in model.get("regions") or []
    ]
    if not cells or count % len(cells):
        return ""
    runs = count // len(cells)
    question, model, region = cells[position // runs]
    sample = "" if runs == 1 else f", sample {position % runs + 1}"
    return f"; there the grid has ({question}, {model}, {region}{sample})"


def report_lines(result: Verification, keys_source: str) -> Sequence[str]:
    lines = [f"job {result.job_id}: keys from {keys_source}"]
    lines += [f"note: {note}" for note in result.notes]
    if result.ok:
        lines.append(
            f"OK: {result.receipts_checked} receipts signed and matching their executions; "
            f"root {result.root} over {result.leaves} receipts, signed by key {result.root_key_id}"
        )
        return lines
    lines += [f"FAIL {problem}" for problem in result.problems]
    lines.append(f"verification FAILED: {len(result.problems)} problem(s)")
    return lines
