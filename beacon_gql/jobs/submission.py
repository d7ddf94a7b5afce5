"""`submitBiasJob`: the one workflow that creates jobs.

Order matters: shape, signature, trust, freshness and validation are checked before the
database is touched; then one transaction checks replay and writes the job with every
expected execution, or writes nothing.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import IntegrityError

from beacon_gql.db import questions as question_store
from beacon_gql.db import submissions as store
from beacon_gql.db.engine import SessionFactory
from beacon_gql.db.models import Job
from beacon_gql.errors import BadUserInput, Forbidden, Replayed, Unauthenticated
from beacon_gql.jobs.abuse import AuthFailureLimiter
from beacon_gql.jobs.canonical import canonical_json
from beacon_gql.jobs.catalogue_access import QuestionCatalogue
from beacon_gql.jobs.job_rows import new_job_rows
from beacon_gql.jobs.signing import VerifiedSignature, verify_spec_signature
from beacon_gql.jobs.spec import JobPlan, parse_job_spec
from beacon_gql.jobs.strict_json import (
    UnacceptableJSON,
    json_problem,
    strict_json_loads,
    text_problem,
)
from beacon_gql.jobs.trust import TrustStore

log = logging.getLogger("beacon_gql.submission")

MAX_IDEMPOTENCY_KEY_LENGTH = 200
# A portal clock a little ahead of ours is not a replay.
ALLOWED_CLOCK_SKEW = timedelta(seconds=60)


@dataclass(frozen=True)
class SubmissionResult:
    job: Job
    idempotent: bool


def _as_spec(jobspec: object) -> Mapping[str, object]:
    if isinstance(jobspec, str):
        try:
            jobspec = strict_json_loads(jobspec)
        except UnacceptableJSON as error:
            raise BadUserInput(f"jobspec is refused: {error.reason}", field="jobspec") from None
    if not isinstance(jobspec, Mapping):
        raise BadUserInput("jobspec must be a JSON object", field="jobspec")
    # A GraphQL literal or a WebSocket message reaches here without the HTTP body's checks;
    # NaN or infinity would verify (they sign as null) and then fail in the database.
    problem = json_problem(jobspec)
    if problem is not None:
        raise BadUserInput(f"jobspec is refused: {problem}", field="jobspec")
    return jobspec


# Width of the text columns the spec's id, benchmark name, nonce and idempotency key go to.
TEXT_COLUMN_LENGTH = 200


def _require_storable(plan: JobPlan, idempotency_key: str | None) -> None:
    """Strings stored in text columns (not in the JSON spec) must fit them on both databases,
    or the insert would fail as an internal error."""
    for field, value in (
        ("id", plan.spec_id),
        ("benchmark.name", plan.benchmark_name),
        ("metadata.nonce", plan.nonce),
        ("idempotencyKey", idempotency_key),
    ):
        problem = None if value is None else text_problem(value, max_length=TEXT_COLUMN_LENGTH)
        if problem is not None:
            raise BadUserInput(f"{field} {problem}", field=field)


def spec_digest(spec: Mapping[str, object]) -> str:
    return hashlib.sha256(canonical_json(spec).encode()).hexdigest()


class SubmissionService:
    def __init__(
        self,
        sessions: SessionFactory,
        trust: TrustStore,
        catalogue: QuestionCatalogue,
        known_models: Callable[[], frozenset[str]],
        *,
        max_spec_age_seconds: int,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        on_submitted: Callable[[Job], None] | None = None,
        auth_failures: AuthFailureLimiter | None = None,
    ) -> None:
        self._sessions = sessions
        self._trust = trust
        self._catalogue = catalogue
        self._known_models = known_models
        self._max_age = max_spec_age_seconds
        self._clock = clock
        self._on_submitted = on_submitted
        # Refused signatures per client address (BEACON_AUTH_FAILURE_*), in this process.
        self.auth_failures = auth_failures or AuthFailureLimiter()

    def _check_freshness(self, plan: JobPlan, now: datetime) -> None:
        if self._max_age == 0:
            return
        if plan.signed_at > now + ALLOWED_CLOCK_SKEW:
            raise Replayed(
                f"metadata.timestamp {plan.signed_at.isoformat()} is in the future; "
                "check the signing machine's clock"
            )
        age = (now - plan.signed_at).total_seconds()
        if age > self._max_age:
            raise Replayed(
                f"the spec was signed {age:.0f} s ago, more than the {self._max_age} s allowed; "
                "sign it again with a fresh nonce and timestamp"
            )

    async def submit(
        self, jobspec: object, idempotency_key: str | None, *, client_host: str | None = None
    ) -> SubmissionResult:
        """`client_host`: the network client's address, for the limit on refused signatures
        (None for in-process callers, which are not limited)."""
        self.auth_failures.check(client_host)
        try:
            return await self._submit(jobspec, idempotency_key)
        except (Unauthenticated, Forbidden):
            self.auth_failures.record_failure(client_host)
            raise

    async def _submit(self, jobspec: object, idempotency_key: str | None) -> SubmissionResult:
        spec = _as_spec(jobspec)
        if idempotency_key is not None and not (
            0 < len(idempotency_key) <= MAX_IDEMPOTENCY_KEY_LENGTH
        ):
            raise BadUserInput(
                f"idempotencyKey must be 1 to {MAX_IDEMPOTENCY_KEY_LENGTH} characters",
                field="idempotencyKey",
            )
        signature = verify_spec_signature(spec)
        now = self._clock()
        trusted = self._trust.require_trusted(signature.public_key, now)
        listed = spec.get("questions")
        wanted = [q for q in listed if isinstance(q, str)] if isinstance(listed, list) else []
        plan = parse_job_spec(
            spec,
            known_questions=await self._catalogue.known_ids(wanted),
            known_models=self._known_models(),
        )
        _require_storable(plan, idempotency_key)
        digest = spec_digest(spec)
        if idempotency_key is not None:
            existing = await self._find_idempotent(idempotency_key, digest)
            if existing is not None:
                return SubmissionResult(job=existing, idempotent=True)
        self._check_freshness(plan, now)
        try:
            job = await self._create(
                spec, plan, signature, trusted.kid, idempotency_key, digest, now
            )
        except (IntegrityError, Replayed) as error:
            # Two submissions raced on the same idempotency key or nonce; the one that waited
            # for the other's commit sees its nonce as used.
            log.info("submission raced: %s", getattr(error, "orig", error))
            if idempotency_key is not None:
                existing = await self._find_idempotent(idempotency_key, digest)
                if existing is not None:
                    return SubmissionResult(job=existing, idempotent=True)
            if isinstance(error, Replayed):
                raise
            raise Replayed("metadata.nonce has already been used with this key") from None
        log.info(
            "job submitted",
            extra={"job_id": job.id, "expected": job.expected, "kid": trusted.kid},
        )
        if self._on_submitted is not None:
            self._on_submitted(job)
        return SubmissionResult(job=job, idempotent=False)

    async def _find_idempotent(self, key: str, digest: str) -> Job | None:
        async with self._sessions() as session:
            found = await store.find_idempotent_job(session, key)
        if found is None:
            return None
        job, existing_digest = found
        if existing_digest != digest:
            raise BadUserInput(
                "idempotencyKey was already used for a different jobspec; use a new key",
                field="idempotencyKey",
            )
        return job

    async def _create(
        self,
        spec: Mapping[str, object],
        plan: JobPlan,
        signature: VerifiedSignature,
        kid: str,
        idempotency_key: str | None,
        digest: str,
        now: datetime,
    ) -> Job:
        public_key = signature.public_key
        signature_hex = signature.signature.hex()
        r_hex = signature.nonce_commitment.hex()
        async with self._sessions() as session:
            reason = await store.compromise_reason(session, public_key)
            if reason is None:
                # One R per key, held by a unique key rather than looked up: two specs
                # signed with one R and sent at the same moment cannot both get in.
                first = await store.commit_to_r(session, public_key, r_hex, signature_hex, now)
                if first is not None and first != signature_hex:
                    reason = (
                        "two different signatures by this key share their first half (R): "
                        "its signer reused an Ed25519 nonce, which reveals the private key"
                    )
                    # Recorded on its own: the refusal writes no job, but the key stays
                    # refused.
                    await session.rollback()
                    await store.mark_compromised(session, public_key, reason, now)
                    await session.commit()
                    log.warning("signing key compromised", extra={"public_key": public_key})
            if reason is not None:
                raise Forbidden(
                    f"key {kid} is compromised and refused: {reason}; generate a new key pair "
                    "and have it trusted"
                )
            if await store.nonce_used(session, public_key, plan.nonce):
                raise Replayed(
                    f"metadata.nonce {plan.nonce!r} has already been used with this key; "
                    "sign the spec again"
                )
            # Read here, in the job's transaction: the catalogue may have been changed by an
            # import since this process last read it.
            stored = await question_store.by_ids(session, plan.question_ids, share=True)
            rows = new_job_rows(
                plan=plan,
                spec=spec,
                public_key=public_key,
                key_id=kid,
                signature=signature_hex,
                signature_r=r_hex,
                question_texts={question.id: question.text for question in stored.values()},
                idempotency=None if idempotency_key is None else (idempotency_key, digest),
                now=now,
            )
            job = await store.insert_job(session, rows)
            await session.commit()
            return job
