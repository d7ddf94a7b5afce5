"""A reference point for the job query: the least a strawberry schema can cost.

    python -m bench.strawberry_floor_server --dsn postgresql://... --port 8125

The portal's job query against a minimal strawberry schema with the same type and field
names: plain attribute fields (no resolver methods, no DataLoaders, no ORM, no schema
extensions), every object built eagerly from the raw endpoint's three asyncpg queries.
Between raw (no GraphQL) and beacon, it tells how much of beacon's cost is GraphQL
execution itself and how much is what beacon adds on top; it is not a target.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator
from enum import Enum

import asyncpg
import strawberry
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from strawberry.asgi import GraphQL

from beacon_gql.db.statuses import ExecutionStatus, JobStatus, Progress
from bench.common import serve_baseline
from bench.raw_server import ANALYSIS, EXECUTIONS, JOB, execution_json

POOL: dict[str, asyncpg.Pool] = {}


# The package's own status enums (plain str enums, no ORM behind them).
strawberry.enum(JobStatus)
strawberry.enum(ExecutionStatus)


@strawberry.enum
class AnalysisStatus(Enum):
    PENDING = "PENDING"
    PARTIAL = "PARTIAL"
    COMPLETE = "COMPLETE"


@strawberry.type
class ExecutionError:
    code: str
    message: str


@strawberry.type
class Execution:
    question_id: strawberry.ID
    model_id: str
    region: str
    status: ExecutionStatus
    provider_id: str | None
    duration_ms: int | None
    response: str | None
    classification: str | None
    error: ExecutionError | None


class JobRow:
    """A jobs row from asyncpg, read by attribute as `Progress.of` reads a Job."""

    def __init__(self, row: asyncpg.Record) -> None:
        self._row = row

    def __getattr__(self, column: str) -> object:
        return self._row[column]


# The package's own progress fields (expected, then one count per execution status).
JobProgress = strawberry.type(
    dataclasses.make_dataclass(
        "JobProgress", [(field.name, int) for field in dataclasses.fields(Progress)]
    )
)


@strawberry.type
class BiasAnalysis:
    status: AnalysisStatus
    censorship_rate: float | None


@strawberry.type
class Job:
    status: JobStatus
    progress: JobProgress
    executions: list[Execution]
    bias_analysis: BiasAnalysis | None


@strawberry.type
class Query:
    @strawberry.field
    async def job(self, id: strawberry.ID) -> Job | None:
        async with POOL["pool"].acquire() as connection:
            row = await connection.fetchrow(JOB, str(id))
            if row is None:
                return None
            rows = await connection.fetch(EXECUTIONS, str(id))
            analysis = await connection.fetchrow(ANALYSIS, str(id))
        executions = []
        for execution in rows:
            shaped = execution_json(execution)
            error = shaped["error"]
            executions.append(
                Execution(
                    question_id=strawberry.ID(shaped["questionId"]),
                    model_id=shaped["modelId"],
                    region=shaped["region"],
                    status=ExecutionStatus(shaped["status"]),
                    provider_id=shaped["providerId"],
                    duration_ms=shaped["durationMs"],
                    response=shaped["response"],
                    classification=shaped["classification"],
                    error=None if error is None else ExecutionError(**error),
                )
            )
        return Job(
            status=JobStatus(row["status"]),
            progress=JobProgress(**dataclasses.asdict(Progress.of(JobRow(row)))),
            executions=executions,
            bias_analysis=None
            if analysis is None
            else BiasAnalysis(
                status=AnalysisStatus(analysis["status"]),
                censorship_rate=analysis["censorship_rate"],
            ),
        )


def create_app(dsn: str) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        POOL["pool"] = await asyncpg.create_pool(dsn, min_size=4, max_size=20)
        try:
            yield
        finally:
            await POOL.pop("pool").close()

    async def health(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    graphql = GraphQL[None, None](strawberry.Schema(query=Query))
    return Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),  # type: ignore[arg-type]
            Route("/health", health),
        ],
        lifespan=lifespan,
    )


def main() -> None:
    serve_baseline(create_app, __doc__ or "")


if __name__ == "__main__":
    main()
