"""Mutations: the one submission workflow and the admin controls."""

from __future__ import annotations

import strawberry
from strawberry.scalars import JSON

from beacon_gql.schema.analysis import BiasAnalysisType
from beacon_gql.schema.context import Info
from beacon_gql.schema.types import JobType


@strawberry.input
class SubmitBiasJobInput:
    jobspec: JSON = strawberry.field(
        description="The portal's signed job spec, verbatim, with `signature` and `public_key`."
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Resubmitting with the same key returns the same job and creates nothing.",
    )


@strawberry.type
class SubmitBiasJobPayload:
    job: JobType
    idempotent: bool = strawberry.field(
        description="True when the idempotency key matched an earlier submission."
    )


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Create a job and every expected execution, or nothing (the only way to "
        "create a job)."
    )
    async def submit_bias_job(self, info: Info, input: SubmitBiasJobInput) -> SubmitBiasJobPayload:
        result = await info.context.services.submission.submit(
            input.jobspec, input.idempotency_key, client_host=info.context.client_host
        )
        if not result.idempotent:
            await info.context.services.job_submitted(result.job)
        return SubmitBiasJobPayload(job=JobType(row=result.job), idempotent=result.idempotent)

    @strawberry.mutation(description="Stop pending work; needs the admin token.")
    async def cancel_job(self, info: Info, id: strawberry.ID) -> JobType:
        info.context.require_admin()
        return JobType(row=await info.context.services.control.cancel(str(id)))

    @strawberry.mutation(
        description="Re-queue the failed executions of a finished job; needs the admin token."
    )
    async def retry_failed_executions(self, info: Info, job_id: strawberry.ID) -> JobType:
        info.context.require_admin()
        return JobType(row=await info.context.services.control.retry_failed(str(job_id)))

    @strawberry.mutation(description="Recompute and persist the analysis; needs the admin token.")
    async def recompute_bias_analysis(self, info: Info, job_id: strawberry.ID) -> BiasAnalysisType:
        info.context.require_admin()
        return BiasAnalysisType.of(await info.context.services.analysis.recompute(str(job_id)))
