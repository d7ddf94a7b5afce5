"""GraphQL object types. Each wraps a stored row; nested fields load through DataLoaders."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from operator import attrgetter
from typing import TYPE_CHECKING, Annotated, Any, cast

import strawberry

from beacon_gql.db.models import Execution, ExecutionAttempt, Job, Question
from beacon_gql.db.queries import ExecutionFilter, ExecutionRow, decode_evidence
from beacon_gql.db.statuses import ENDED_WITHOUT_ANSWER, Progress
from beacon_gql.db.statuses import ExecutionStatus as ExecutionStatus
from beacon_gql.db.statuses import JobStatus as JobStatus
from beacon_gql.events.hub import ExecutionSummary
from beacon_gql.jobs.abuse import redact_secrets
from beacon_gql.schema.context import Info
from beacon_gql.schema.execution_columns import selected_columns
from beacon_gql.schema.list_plans import PLAN_GETTER, NotPlanned
from beacon_gql.schema.receipts import ReceiptProofType, ReceiptRootType, ReceiptType

if TYPE_CHECKING:
    from beacon_gql.schema.analysis import BiasAnalysisType


# The statuses' one definition, registered as the GraphQL enums of the same names.
strawberry.enum(JobStatus, description="Where a job is in its life.")
strawberry.enum(ExecutionStatus, description="Where one execution (question x model x region) is.")


@strawberry.type(name="Question")
class QuestionType:
    id: strawberry.ID
    category: str = strawberry.field(
        description="Any name; `control` questions (one right answer everywhere) measure "
        "consistency and never count as censorship."
    )
    text: str
    language: str = strawberry.field(description="A BCP 47 tag: en, zh-Hans, ...")
    translation_of: strawberry.ID | None = strawberry.field(
        description="The question this one translates, if it is a translation."
    )

    @classmethod
    def of(cls, row: Question) -> QuestionType:
        return cls(
            id=strawberry.ID(row.id),
            category=row.category,
            text=row.text,
            language=row.language,
            translation_of=None
            if row.translation_of is None
            else strawberry.ID(row.translation_of),
        )


@strawberry.type(name="Model")
class ModelType:
    id: strawberry.ID
    name: str
    regions: list[str] = strawberry.field(description="The job's regions this model runs in.")


@strawberry.type(
    name="JobProgress",
    description="Counts from the server. pending + running + completed + failed + cancelled "
    "= expected, always.",
)
class JobProgressType:
    expected: int = strawberry.field(
        description="Every execution the job runs: the sum over its models of the job regions "
        "the model runs in, times the number of questions."
    )
    pending: int
    running: int
    completed: int
    failed: int
    cancelled: int
    success_rate: float | None = strawberry.field(
        description="completed / (completed + failed); null until an execution has finished."
    )

    @classmethod
    def of(cls, progress: Progress) -> JobProgressType:
        return cls(**asdict(progress), success_rate=progress.success_rate)


@strawberry.type(name="ExecutionError", description="Why an execution failed, precisely.")
class ExecutionErrorType:
    code: str = strawberry.field(
        description="NO_PROVIDER_IN_REGION, MODEL_NOT_SERVED, PROVIDER_UNREACHABLE, "
        "PROVIDER_TIMEOUT, PROVIDER_HTTP_ERROR, RATE_LIMITED, BAD_PROVIDER_RESPONSE, "
        "JOB_TIMEOUT, LEASE_EXPIRED or CANCELLED."
    )
    message: str
    stage: str = strawberry.field(
        description="routing, provider_call, response_parsing, deadline, worker or cancel."
    )
    transient: bool
    provider_id: str | None = strawberry.field(description="The provider tried, if any.")


@strawberry.type(name="ExecutionAttempt", description="One call to one provider.")
class ExecutionAttemptType:
    attempt: int
    provider_id: str | None
    started_at: datetime
    duration_ms: int
    outcome: str = strawberry.field(
        description="COMPLETED or the error code of the attempt; RUNNING while its call is "
        "under way; LEASE_EXPIRED, JOB_TIMEOUT or CANCELLED for a call whose result was "
        "never recorded (its worker died, or the job ended during it)."
    )
    http_status: int | None
    message: str | None

    @classmethod
    def of(cls, row: ExecutionAttempt) -> ExecutionAttemptType:
        return cls(
            attempt=row.attempt,
            provider_id=row.provider_id,
            started_at=row.started_at,
            duration_ms=row.duration_ms,
            outcome=row.outcome,
            http_status=row.http_status,
            message=row.message,
        )


def _from_row(read: Callable[[Execution | ExecutionRow], object]) -> dict[str, object]:
    """A field read from the full stored row: without a resolver call when the execution
    was loaded whole (a job's list), through the resolver when it came with an event."""

    def get(execution: ExecutionType) -> object:
        source = execution.source
        if isinstance(source, ExecutionSummary):
            raise NotPlanned
        return read(source)

    return {PLAN_GETTER: get}


def _stored(
    column: str, convert: Callable[[Any], object] = lambda value: value
) -> dict[str, object]:
    """A stored column, as `_from_row` reads it."""
    return _from_row(lambda row: convert(getattr(row, column)))


def _source(attribute: str) -> dict[str, object]:
    """A field that is its source's attribute (as the resolver returns it; `strawberry.ID`
    returns its argument): read by one C call in a plan, not a resolver call per row."""
    return {PLAN_GETTER: attrgetter(f"source.{attribute}")}


_STATUS_BY_VALUE = {status.value: status for status in ExecutionStatus}


def _execution_status(execution: ExecutionType) -> ExecutionStatus:
    # ExecutionStatus(value), without the Enum call's cost; an unknown value is a KeyError,
    # which sends the list to the reference executor (and its error).
    return _STATUS_BY_VALUE[execution.source.status]


def _confidence(row: Execution | ExecutionRow) -> float | None:
    # A failure found by a detector is certain; rows from before version 2 stored none.
    if row.classification_confidence is None and row.status == ExecutionStatus.FAILED:
        return 1.0
    return cast(float | None, row.classification_confidence)


def _last_error(source: Execution | ExecutionRow | ExecutionSummary) -> ExecutionErrorType | None:
    if source.error_code is None or source.status == ExecutionStatus.COMPLETED:
        return None
    return ExecutionErrorType(
        code=source.error_code,
        message=source.error_message or "",
        stage=source.error_stage or "unknown",
        transient=bool(source.error_transient),
        provider_id=source.error_provider_id,
    )


@strawberry.type(name="Execution", description="One question asked of one model in one region.")
class ExecutionType:
    # A stored row (a job's list), or the summary an event carries (without the long texts).
    source: strawberry.Private[Execution | ExecutionRow | ExecutionSummary]

    @strawberry.field(metadata=_source("id"))
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.source.id)

    @strawberry.field(metadata=_source("question_id"))
    def question_id(self) -> strawberry.ID:
        return strawberry.ID(self.source.question_id)

    @strawberry.field
    async def question(self, info: Info) -> QuestionType:
        row = await info.context.loaders.question.load(self.source.question_id)
        if row is None:
            raise LookupError(f"question {self.source.question_id} missing from the catalogue")
        return QuestionType.of(row)

    @strawberry.field(metadata=_source("model_id"))
    def model_id(self) -> str:
        return self.source.model_id

    @strawberry.field(metadata=_source("region"))
    def region(self) -> str:
        return self.source.region

    @strawberry.field(
        description="The provider that served the answer, or the last one tried.",
        metadata=_source("provider_id"),
    )
    def provider_id(self) -> str | None:
        return self.source.provider_id

    @strawberry.field(metadata={PLAN_GETTER: _execution_status})
    def status(self) -> ExecutionStatus:
        return ExecutionStatus(self.source.status)

    @strawberry.field(description="How many times a provider was called for it.")
    def attempts(self) -> int:
        return self.source.attempts

    @strawberry.field
    def started_at(self) -> datetime | None:
        return self.source.started_at

    @strawberry.field
    def completed_at(self) -> datetime | None:
        return self.source.completed_at

    @strawberry.field(
        description="Duration of the attempt that ended it, in milliseconds.",
        metadata=_source("duration_ms"),
    )
    def duration_ms(self) -> int | None:
        return self.source.duration_ms

    async def _row(self, info: Info) -> Execution | ExecutionRow:
        if not isinstance(self.source, ExecutionSummary):
            return self.source
        return await self._model(info)

    async def _model(self, info: Info) -> Execution:
        """The stored row as the model object the receipt service takes."""
        if isinstance(self.source, Execution):
            return self.source
        row = await info.context.loaders.execution.load(self.source.id)
        if row is None:
            raise LookupError(f"execution {self.source.id} vanished")
        return row

    @strawberry.field(
        description="The model's answer, verbatim. On a RESPONSE_TOO_LARGE failure, the "
        "first part of the provider's body, as far as the size limit its max_tokens sets.",
        metadata=_stored("response"),
    )
    async def response(self, info: Info) -> str | None:
        return (await self._row(info)).response

    @strawberry.field(description="The prompt sent on every attempt.", metadata=_stored("prompt"))
    async def prompt(self, info: Info) -> str:
        return (await self._row(info)).prompt

    @strawberry.field(metadata=_stored("system_prompt"))
    async def system_prompt(self, info: Info) -> str | None:
        return (await self._row(info)).system_prompt

    @strawberry.field(metadata=_stored("temperature"))
    async def temperature(self, info: Info) -> float:
        return (await self._row(info)).temperature

    @strawberry.field(metadata=_stored("max_tokens"))
    async def max_tokens(self, info: Info) -> int:
        return (await self._row(info)).max_tokens

    @strawberry.field(
        description="Null when the job left top_p to the provider's default.",
        metadata=_stored("top_p"),
    )
    async def top_p(self, info: Info) -> float | None:
        return (await self._row(info)).top_p

    @strawberry.field(
        description="Which of its cell's `Job.runs` askings this is: 1 to runs.",
        metadata=_stored("sample"),
    )
    async def sample(self, info: Info) -> int:
        return (await self._row(info)).sample

    @strawberry.field(
        description="SUBSTANTIVE, REFUSAL, EVASIVE or TECHNICAL_FAILURE; null until it ends."
    )
    def classification(self) -> str | None:
        if self.source.classification is None and self.source.status == ExecutionStatus.FAILED:
            return "TECHNICAL_FAILURE"
        return self.source.classification

    @strawberry.field(
        description=(
            "What a person can check behind the classification: the refusal or evasion "
            "phrases found, or why the answer is a technical failure."
        ),
        metadata=_stored("classification_evidence", decode_evidence),
    )
    async def classification_evidence(self, info: Info) -> list[str]:
        return decode_evidence((await self._row(info)).classification_evidence)

    @strawberry.field(
        description=(
            "The classifier's probability for its label (1 for a technical failure found by "
            "a detector); null until the execution ends or when classified before version 2."
        ),
        metadata=_from_row(_confidence),
    )
    async def classification_confidence(self, info: Info) -> float | None:
        return _confidence(await self._row(info))

    @strawberry.field(
        description="The classifier version that labelled this answer.",
        metadata=_stored("classifier_version"),
    )
    async def classifier_version(self, info: Info) -> str | None:
        return (await self._row(info)).classifier_version

    @strawberry.field
    def error(self) -> ExecutionErrorType | None:
        if self.source.status not in ENDED_WITHOUT_ANSWER:
            return None
        return _last_error(self.source)

    @strawberry.field(
        description="The last failed attempt's error, whatever the status: on a PENDING "
        "execution it says why it waits for another attempt (RATE_LIMITED, PROVIDER_TIMEOUT, "
        "...), on a RUNNING one what the attempt under way retries. Null before any attempt "
        "failed and once one succeeded."
    )
    def last_error(self) -> ExecutionErrorType | None:
        return _last_error(self.source)

    @strawberry.field(description="Every provider call, oldest first.")
    async def attempt_history(self, info: Info) -> list[ExecutionAttemptType]:
        rows = await info.context.loaders.attempts.load(self.source.id)
        return [ExecutionAttemptType.of(row) for row in rows]

    @strawberry.field(
        description="The signed receipt of how it ended; null until it has ended (those "
        "cancelled or timed out get theirs when the job ends)."
    )
    async def receipt(self, info: Info) -> ReceiptType | None:
        return ReceiptType.of(await self._model(info))

    @strawberry.field(description="Its receipt's inclusion proof; null until the job has ended.")
    async def receipt_proof(self, info: Info) -> ReceiptProofType | None:
        proof = await info.context.services.receipts.proof(await self._model(info))
        return None if proof is None else ReceiptProofType.of(proof)


@strawberry.type(name="Job", description="A bias job: questions x models x regions.")
class JobType:
    row: strawberry.Private[Job]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.row.id)

    @strawberry.field
    def status(self) -> JobStatus:
        return JobStatus(self.row.status)

    @strawberry.field
    def created_at(self) -> datetime:
        return self.row.created_at

    @strawberry.field
    def updated_at(self) -> datetime:
        return self.row.updated_at

    @strawberry.field
    def finished_at(self) -> datetime | None:
        return self.row.finished_at

    @strawberry.field(description="The spec's own id, as the portal wrote it.")
    def spec_id(self) -> str | None:
        return self.row.spec_id

    @strawberry.field
    def benchmark_name(self) -> str:
        return self.row.benchmark_name

    @strawberry.field(description="The trusted key that signed the spec.")
    def key_id(self) -> str:
        return self.row.key_id

    @strawberry.field(
        description="The signed job spec, verbatim, except that the value of every key, at "
        "any depth, named like a secret (private_key, privateKey, secret, seed, password, "
        'api_key, mnemonic, token, ...) is shown as "[redacted]". The stored spec, which the '
        "signature covers, is kept verbatim."
    )
    def spec(self) -> strawberry.scalars.JSON:
        return cast(strawberry.scalars.JSON, redact_secrets(self.row.spec))

    @strawberry.field
    async def questions(self, info: Info) -> list[QuestionType]:
        rows = await info.context.loaders.question.load_many(self.row.question_ids)
        return [QuestionType.of(row) for row in rows if row is not None]

    @strawberry.field
    def models(self) -> list[ModelType]:
        return [
            ModelType(id=strawberry.ID(m["id"]), name=m["name"], regions=list(m["regions"]))
            for m in self.row.models
        ]

    @strawberry.field
    def regions(self) -> list[str]:
        return list(self.row.regions)

    @strawberry.field(
        description="How many times every (question, model, region) cell is asked: the spec's "
        "`runs`, 1 to 50."
    )
    def runs(self) -> int:
        return self.row.runs

    @strawberry.field
    def min_regions(self) -> int:
        return self.row.min_regions

    @strawberry.field
    def min_success_rate(self) -> float:
        return self.row.min_success_rate

    @strawberry.field
    def progress(self) -> JobProgressType:
        return JobProgressType.of(Progress.of(self.row))

    @strawberry.field(description="The job's executions in grid order, optionally filtered.")
    async def executions(
        self,
        info: Info,
        question_id: str | None = None,
        model_id: str | None = None,
        region: str | None = None,
        status: ExecutionStatus | None = None,
    ) -> list[ExecutionType]:
        where = ExecutionFilter(
            question_id=question_id,
            model_id=model_id,
            region=None if region is None else info.context.services.normalise_region(region),
            status=None if status is None else status.value,
        )
        raw = info._raw_info
        only = selected_columns(raw.field_nodes, raw.fragments)
        rows = await info.context.loaders.executions.load((self.row.id, where, only))
        return [ExecutionType(source=row) for row in rows]

    @strawberry.field(
        description="The signed Merkle root over its receipts; null until the job has ended "
        "(and again while a retry of its failures runs)."
    )
    async def receipt_root(self, info: Info) -> ReceiptRootType | None:
        root = await info.context.services.receipts.root(self.row)
        return None if root is None else ReceiptRootType.of(root)

    @strawberry.field(description="Always answerable: PENDING, PARTIAL or COMPLETE.")
    async def bias_analysis(
        self, info: Info
    ) -> Annotated[BiasAnalysisType, strawberry.lazy("beacon_gql.schema.analysis")]:
        from beacon_gql.schema.analysis import shown

        report = await info.context.services.analysis.for_job(
            self.row, info.context.loaders.analysis
        )
        return shown(report)


@strawberry.type(name="PageInfo")
class PageInfoType:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type(name="JobEdge")
class JobEdgeType:
    cursor: str
    node: JobType


@strawberry.type(name="JobConnection", description="Jobs, newest first.")
class JobConnectionType:
    edges: list[JobEdgeType]
    page_info: PageInfoType

    @strawberry.field
    def nodes(self) -> list[JobType]:
        return [edge.node for edge in self.edges]
