"""Mutations: the one submission workflow and the admin controls."""

from __future__ import annotations

import strawberry
from strawberry.scalars import JSON

from beacon_gql.jobs.question_import import records_from_inputs
from beacon_gql.schema.analysis import BiasAnalysisType
from beacon_gql.schema.context import Info
from beacon_gql.schema.types import JobType, QuestionType


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


@strawberry.input(description="A question to add to the catalogue, or to update.")
class QuestionInput:
    id: strawberry.ID
    text: str
    category: str
    language: str = strawberry.field(description="A BCP 47 tag: en, zh-Hans, ...")
    translation_of: strawberry.ID | None = strawberry.field(
        default=None, description="The id of the question this one translates."
    )


@strawberry.type
class ImportQuestionsPayload:
    added: list[strawberry.ID]
    updated: list[strawberry.ID] = strawberry.field(
        description="Already in the catalogue, with another text, category, language or "
        "translation_of."
    )
    unchanged: list[strawberry.ID]
    questions: list[QuestionType] = strawberry.field(description="The catalogue afterwards.")


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

    @strawberry.mutation(
        description="Add questions to the catalogue, or update them, all or none; a question's "
        "text cannot change once a job has used it. Needs the admin token."
    )
    async def import_questions(
        self, info: Info, questions: list[QuestionInput]
    ) -> ImportQuestionsPayload:
        info.context.require_admin()
        records = records_from_inputs(
            {
                "id": str(question.id),
                "text": question.text,
                "category": question.category,
                "language": question.language,
                "translation_of": None
                if question.translation_of is None
                else str(question.translation_of),
            }
            for question in questions
        )
        catalogue = info.context.services.catalogue
        result = await catalogue.import_questions(records)
        return ImportQuestionsPayload(
            added=[strawberry.ID(q) for q in result.added],
            updated=[strawberry.ID(q) for q in result.updated],
            unchanged=[strawberry.ID(q) for q in result.unchanged],
            questions=[QuestionType.of(row) for row in await catalogue.all()],
        )

    @strawberry.mutation(description="Recompute and persist the analysis; needs the admin token.")
    async def recompute_bias_analysis(self, info: Info, job_id: strawberry.ID) -> BiasAnalysisType:
        info.context.require_admin()
        return BiasAnalysisType.of(await info.context.services.analysis.recompute(str(job_id)))
