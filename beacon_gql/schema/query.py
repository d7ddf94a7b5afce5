"""Query resolvers: each asks a service and wraps what it returns."""

from __future__ import annotations

from datetime import datetime

import strawberry

from beacon_gql.db.queries import ExecutionFilter, ExecutionRow
from beacon_gql.jobs.reading import encode_cursor
from beacon_gql.schema.context import Info
from beacon_gql.schema.execution_columns import executions_read_with_job
from beacon_gql.schema.types import (
    JobConnectionType,
    JobEdgeType,
    JobStatus,
    JobType,
    PageInfoType,
    QuestionType,
)


@strawberry.type(name="Provider", description="An LLM endpoint serving one region.")
class ProviderType:
    name: str
    region: str
    kind: str = strawberry.field(description="openai or hybrid-router.")
    models: list[str] = strawberry.field(description="The job model ids it serves.")
    healthy: bool
    last_error: str | None
    last_error_at: datetime | None
    latency_ms: float | None = strawberry.field(description="Recent latency (moving average).")


@strawberry.type
class Query:
    @strawberry.field(description="A job by id; null when unknown.")
    async def job(self, info: Info, id: strawberry.ID) -> JobType | None:
        reader = info.context.services.reader
        raw = info._raw_info
        with_executions, only = executions_read_with_job(raw.field_nodes, raw.fragments)
        executions: list[ExecutionRow] | None = None
        if with_executions:
            # The job and the list it shows in one read (one pooled connection, no SQLAlchemy
            # execution on PostgreSQL); `JobType.executions` finds the rows under the key it
            # loads them by.
            read = await reader.get_with_executions(str(id), only)
            found = None if read is None else read[:2]
            executions = None if read is None else read[2]
        else:
            found = await reader.get_with_analysis_stamp(str(id))
        if found is None:
            info.context.ledger.saw_live_data()
            return None
        row, analysis_stamp = found
        if executions is not None:
            info.context.loaders.executions.prime((row.id, ExecutionFilter(), only), executions)
        info.context.ledger.saw_job(row.id, row.status, row.event_sequence)
        # Read with the job: `biasAnalysis` needs no read of its own to know its version.
        info.context.loaders.analysis.prime(row.id, analysis_stamp)
        return JobType(row=row)

    @strawberry.field(description="Jobs, newest first, with cursor pagination.")
    async def jobs(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        status: JobStatus | None = None,
    ) -> JobConnectionType:
        info.context.ledger.saw_live_data()
        page = await info.context.services.reader.page(
            first=first, after=after, status=None if status is None else status.value
        )
        return JobConnectionType(
            edges=[
                JobEdgeType(cursor=encode_cursor(job), node=JobType(row=job)) for job in page.jobs
            ],
            page_info=PageInfoType(has_next_page=page.has_next_page, end_cursor=page.end_cursor),
        )

    @strawberry.field(
        description="The question catalogue: the built-in questions and the imported ones, "
        "optionally of one category and one language."
    )
    async def questions(
        self, info: Info, category: str | None = None, language: str | None = None
    ) -> list[QuestionType]:
        rows = await info.context.services.catalogue.filtered(category=category, language=language)
        return [QuestionType.of(row) for row in rows]

    @strawberry.field(description="The configured providers and their health.")
    def providers(self, info: Info, region: str | None = None) -> list[ProviderType]:
        info.context.ledger.saw_live_data()
        services = info.context.services
        wanted = None if region is None else services.normalise_region(region)
        return [
            ProviderType(
                name=status.name,
                region=status.region,
                kind=status.kind,
                models=list(status.models),
                healthy=status.healthy,
                last_error=status.last_error,
                last_error_at=status.last_error_at,
                latency_ms=status.latency_ms,
            )
            for status in services.registry.statuses(wanted)
        ]
