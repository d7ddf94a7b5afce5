"""The tables. One execution row per (job, question, model, region, sample) is the heart of
it all: each (question, model, region) cell is asked `runs` times."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from beacon_gql.db.types import UTCDateTime, utcnow

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Question(Base):
    __tablename__ = "questions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    category: Mapped[str] = mapped_column(String(64), index=True)
    text: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=0)
    language: Mapped[str] = mapped_column(String(35), default="en", index=True)
    """A BCP 47 tag: en, zh-Hans, ..."""
    translation_of: Mapped[str | None] = mapped_column(String(64))
    """The question this one translates; a question and its translations form a group."""


class Job(Base):
    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    spec_id: Mapped[str | None] = mapped_column(String(200))
    benchmark_name: Mapped[str] = mapped_column(String(200))
    public_key: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(String(200))
    question_ids: Mapped[list[str]] = mapped_column(JSON)
    models: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    regions: Mapped[list[str]] = mapped_column(JSON)
    min_regions: Mapped[int] = mapped_column(Integer)
    min_success_rate: Mapped[float] = mapped_column(Float)
    temperature: Mapped[float] = mapped_column(Float)
    max_tokens: Mapped[int] = mapped_column(Integer)
    top_p: Mapped[float | None] = mapped_column(Float)
    runs: Mapped[int] = mapped_column(Integer, default=1)
    provider_timeout_seconds: Mapped[float | None] = mapped_column(Float)
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expected: Mapped[int] = mapped_column(Integer)
    pending_count: Mapped[int] = mapped_column(Integer)
    running_count: Mapped[int] = mapped_column(Integer, default=0)
    completed_count: Mapped[int] = mapped_column(Integer, default=0)
    failed_count: Mapped[int] = mapped_column(Integer, default=0)
    cancelled_count: Mapped[int] = mapped_column(Integer, default=0)
    # Bumped in the same transaction as every state change, so events carry a
    # per-job sequence that every process agrees on.
    event_sequence: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_jobs_created_at_id", "created_at", "id"),)


class Execution(Base):
    __tablename__ = "executions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    question_id: Mapped[str] = mapped_column(ForeignKey("questions.id"))
    model_id: Mapped[str] = mapped_column(String(200))
    region: Mapped[str] = mapped_column(String(16))
    sample: Mapped[int] = mapped_column(Integer, default=1)
    """1..runs: which of the cell's repeated askings this is."""
    position: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    provider_id: Mapped[str | None] = mapped_column(String(200))
    prompt: Mapped[str] = mapped_column(Text)
    system_prompt: Mapped[str | None] = mapped_column(Text)
    temperature: Mapped[float] = mapped_column(Float)
    max_tokens: Mapped[int] = mapped_column(Integer)
    top_p: Mapped[float | None] = mapped_column(Float)
    response: Mapped[str | None] = mapped_column(Text)
    classification: Mapped[str | None] = mapped_column(String(32))
    classification_evidence: Mapped[list[str] | None] = mapped_column(JSON)
    classification_confidence: Mapped[float | None] = mapped_column(Float)
    classifier_version: Mapped[str | None] = mapped_column(String(64))
    meaning_vector: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    """The answer opening's sentence-encoder vector (`analysis.similarity.vector_bytes`);
    deferred: only the analysis reads it, by name."""
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    error_stage: Mapped[str | None] = mapped_column(String(32))
    error_transient: Mapped[bool | None] = mapped_column(Boolean)
    error_provider_id: Mapped[str | None] = mapped_column(String(200))
    available_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    claim_token: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The signed receipt of how it ended (docs/receipts.md): the canonical JSON payload
    # exactly as signed, the base64 Ed25519 signature, and the signing key's id.
    receipt_payload: Mapped[str | None] = mapped_column(Text)
    receipt_signature: Mapped[str | None] = mapped_column(String(100))
    receipt_key_id: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        UniqueConstraint(
            "job_id", "question_id", "model_id", "region", "sample", name="uq_execution_sample"
        ),
        Index("ix_executions_job_id_position", "job_id", "position"),
        Index("ix_executions_queue", "status", "available_at"),
        Index("ix_executions_lease", "status", "lease_expires_at"),
    )


class ExecutionAttempt(Base):
    """One provider call: what the predecessor never recorded."""

    __tablename__ = "execution_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    execution_id: Mapped[str] = mapped_column(
        ForeignKey("executions.id", ondelete="CASCADE"), index=True
    )
    attempt: Mapped[int] = mapped_column(Integer)
    claim_token: Mapped[str] = mapped_column(String(64))
    provider_id: Mapped[str | None] = mapped_column(String(200))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    duration_ms: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(64))
    http_status: Mapped[int | None] = mapped_column(Integer)
    message: Mapped[str | None] = mapped_column(Text)


class ReceiptRoot(Base):
    """The signed Merkle root over a job's receipts, made when the job ends (and again after
    a retry ends it anew)."""

    __tablename__ = "receipt_roots"

    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True)
    root: Mapped[str] = mapped_column(String(64))
    leaves: Mapped[int] = mapped_column(Integer)
    signature: Mapped[str] = mapped_column(String(100))
    key_id: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class UsedNonce(Base):
    __tablename__ = "used_nonces"

    public_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(200), primary_key=True)
    # First half of the Ed25519 signature (R): the same R under two different
    # signatures means the signer reused its nonce and leaked its private key.
    signature_r: Mapped[str] = mapped_column(String(64), index=True)
    signature: Mapped[str] = mapped_column(String(128))
    job_id: Mapped[str] = mapped_column(String(36))
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SignatureCommitment(Base):
    """The first signature each (key, R) was seen in: one R per key, enforced by the key.

    A second signature with the same R is caught by the primary key even when both arrive
    at once, where a look-up followed by an insert would let both through.
    """

    __tablename__ = "signature_commitments"

    public_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    signature_r: Mapped[str] = mapped_column(String(64), primary_key=True)
    signature: Mapped[str] = mapped_column(String(128))
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CompromisedKey(Base):
    __tablename__ = "compromised_keys"

    public_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    reason: Mapped[str] = mapped_column(Text)
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class IdempotencyKey(Base):
    __tablename__ = "idempotency_keys"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    spec_digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BiasAnalysisRecord(Base):
    """The analysis persisted once when its job ends; loaded, never recomputed, after that."""

    __tablename__ = "bias_analyses"

    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    report: Mapped[dict[str, Any]] = mapped_column(JSON)


class PersistedQuery(Base):
    """A GraphQL document registered under its SHA-256 (Apollo's automatic persisted
    queries, and the allow-list of BEACON_PERSISTED_QUERIES=only): every API process sees
    every registration."""

    __tablename__ = "persisted_queries"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    document: Mapped[str] = mapped_column(Text)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
