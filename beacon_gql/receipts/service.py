"""Signing receipts: in the worker's batched settle path as results are recorded, and for the
whole job (late receipts and the Merkle root) once it ends."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from beacon_gql.db import questions as question_store
from beacon_gql.db import receipts as store
from beacon_gql.db.engine import SessionFactory
from beacon_gql.db.models import Execution, Job, ReceiptRoot
from beacon_gql.db.statuses import (
    ENDED_WITHOUT_ANSWER,
    TERMINAL_JOB_STATUSES,
    ExecutionStatus,
)
from beacon_gql.receipts.keys import Keyring
from beacon_gql.receipts.merkle import inclusion_proof, merkle_root
from beacon_gql.receipts.payload import (
    Receipt,
    ReceiptFacts,
    ReceiptOutcome,
    receipt_payload,
    root_message,
    spec_hash,
)

log = logging.getLogger("beacon_gql.receipts")

# The statuses an execution ends in; only these get a receipt.
ENDED = frozenset({ExecutionStatus.COMPLETED, *ENDED_WITHOUT_ANSWER})


@dataclass(frozen=True)
class InclusionProof:
    leaf_index: int
    tree_size: int
    root: str
    path: list[str]


def facts_of(execution: Execution, *, spec_hash: str, question_text: str) -> ReceiptFacts:
    return ReceiptFacts(
        job_id=execution.job_id,
        spec_hash=spec_hash,
        execution_id=execution.id,
        position=execution.position,
        question_id=execution.question_id,
        question_text=question_text,
        model=execution.model_id,
        region=execution.region,
        prompt=execution.prompt,
        system_prompt=execution.system_prompt,
        temperature=execution.temperature,
        max_tokens=execution.max_tokens,
        started_at=execution.started_at,
        attempt=execution.attempts,
        # Read only where executions carry them (repeated sampling, top_p); a row without
        # them gives a payload without the keys.
        sample=getattr(execution, "sample", None),
        top_p=getattr(execution, "top_p", None),
    )


class ReceiptService:
    def __init__(self, sessions: SessionFactory, keyring: Keyring) -> None:
        self._sessions = sessions
        self.keyring = keyring
        self._question_texts: dict[str, str] = {}
        self._spec_hashes: dict[str, str] = {}

    # ---- the worker's path ----------------------------------------------------------

    async def facts(self, execution: Execution, job: Job) -> ReceiptFacts:
        """What the receipt of a claimed execution will say besides its outcome; cached
        reads only (the catalogue is fixed, a job's spec never changes)."""
        return facts_of(
            execution,
            spec_hash=self._spec_hash(job),
            question_text=await self._question_text(execution.question_id, job),
        )

    def seal(self, facts: ReceiptFacts, values: Mapping[str, Any]) -> dict[str, Any]:
        """The receipt columns to record with an execution's final `values` ({} when the
        values do not end it: a retry is not an answer)."""
        if values.get("status") not in ENDED:
            return {}
        receipt = self.sign(facts, ReceiptOutcome.of(values))
        return {
            "receipt_payload": receipt.payload,
            "receipt_signature": receipt.signature,
            "receipt_key_id": receipt.key_id,
        }

    def sign(self, facts: ReceiptFacts, outcome: ReceiptOutcome) -> Receipt:
        key_id = self.keyring.key_id
        payload = receipt_payload(facts, outcome, key_id)
        return Receipt(payload, self.keyring.sign(payload.encode("utf-8")), key_id)

    def _spec_hash(self, job: Job) -> str:
        found = self._spec_hashes.get(job.id)
        if found is None:
            found = self._spec_hashes[job.id] = spec_hash(job.spec)
        return found

    async def _question_text(self, question_id: str, job: Job) -> str:
        # Kept: the texts of the questions a job uses, all read at its first miss (so a
        # worker needs no database read per question later, even while it is down). A used
        # question's text never changes; an unused one's may, by an import, so the rest of
        # the catalogue is not read ahead (jobs/catalogue_access.py).
        text = self._question_texts.get(question_id)
        if text is None:
            async with self._sessions() as session:
                found = await question_store.by_ids(session, {*job.question_ids, question_id})
            self._question_texts.update((q.id, q.text) for q in found.values())
            text = self._question_texts.get(question_id, "")
        return text

    # ---- the job's end --------------------------------------------------------------

    async def seal_job(self, job_id: str) -> ReceiptRoot | None:
        """Once the job has ended: sign the receipts of executions that ended outside a
        worker's settle (cancelled, timed out, lease lost) and the Merkle root over all of
        them. Deterministic, so two processes doing it at once write the same bytes."""
        async with self._sessions() as session:
            job = await session.get(Job, job_id)
            if job is None or job.status not in TERMINAL_JOB_STATUSES:
                return None
            existing = await store.get_root(session, job_id)
            if existing is not None and _current(existing, job):
                return existing
            executions = await store.executions_in_order(session, job_id)
            if any(e.status not in ENDED for e in executions):
                return None
            late: list[tuple[str, str, str, str, str]] = []
            payloads: list[str] = []
            for execution in executions:
                if execution.receipt_payload is None:
                    receipt = self.sign(
                        facts_of(
                            execution,
                            spec_hash=self._spec_hash(job),
                            question_text=await self._question_text(execution.question_id, job),
                        ),
                        ReceiptOutcome(
                            status=execution.status,
                            provider=execution.provider_id,
                            response=execution.response,
                            error_code=execution.error_code,
                            completed_at=execution.completed_at,
                        ),
                    )
                    late.append(
                        (
                            execution.id,
                            execution.status,
                            receipt.payload,
                            receipt.signature,
                            receipt.key_id,
                        )
                    )
                    payloads.append(receipt.payload)
                else:
                    payloads.append(execution.receipt_payload)
            root = merkle_root([p.encode("utf-8") for p in payloads]).hex()
            key_id = self.keyring.key_id
            signature = self.keyring.sign(
                root_message(job_id, root, len(payloads), key_id).encode("utf-8")
            )
            await store.store_late_receipts(session, late)
            await store.save_root(
                session,
                job_id=job_id,
                root=root,
                leaves=len(payloads),
                signature=signature,
                key_id=key_id,
                signed_at=datetime.now(UTC),
            )
            try:
                await session.commit()
            except IntegrityError:
                # Another process sealed it at the same moment, with the same bytes.
                await session.rollback()
                return await store.get_root(session, job_id)
            log.info(
                "receipts sealed",
                extra={"job_id": job_id, "leaves": len(payloads), "root": root},
            )
            return await store.get_root(session, job_id)

    async def root(self, job: Job) -> ReceiptRoot | None:
        """The job's root; a job that ended in a process that stopped before sealing it is
        sealed now. None while the job runs."""
        if job.status not in TERMINAL_JOB_STATUSES:
            return None
        async with self._sessions() as session:
            existing = await store.get_root(session, job.id)
        if existing is not None and _current(existing, job):
            return existing
        return await self.seal_job(job.id)

    async def proof(self, execution: Execution) -> InclusionProof | None:
        """The audit path of one execution's receipt in its job's tree (RFC 6962 2.1.1)."""
        async with self._sessions() as session:
            job = await session.get(Job, execution.job_id)
        if job is None or await self.root(job) is None:
            return None
        async with self._sessions() as session:
            executions = await store.executions_in_order(session, execution.job_id)
        leaves = _leaves(executions)
        if leaves is None:
            return None
        index = next((i for i, e in enumerate(executions) if e.id == execution.id), None)
        if index is None:
            return None
        return InclusionProof(
            leaf_index=index,
            tree_size=len(leaves),
            root=merkle_root(leaves).hex(),
            path=[step.hex() for step in inclusion_proof(leaves, index)],
        )


def _current(root: ReceiptRoot, job: Job) -> bool:
    """Whether the root was signed after the job's last ending: a retry that raced with the
    sealing of the previous ending must not leave that root in place."""
    return job.finished_at is None or root.signed_at >= job.finished_at


def _leaves(executions: Sequence[Execution]) -> list[bytes] | None:
    payloads = [e.receipt_payload for e in executions]
    if any(p is None for p in payloads):
        return None
    return [p.encode("utf-8") for p in payloads if p is not None]
