"""The raw baseline of the job query: a plain Starlette + asyncpg endpoint.

    python -m bench.raw_server --dsn postgresql://... --port 8123

`POST /raw/job` with the GraphQL request body the portal sends (only `variables.id` is
read) returns `{"data": {"job": ...}}` with exactly the JSON the beacon server gives for the
portal's job query, built from the same tables with three hand-written queries on one
pooled connection and serialised by Starlette's JSONResponse. No GraphQL, no ORM: what the
query costs when nothing stands between the rows and the bytes. Served by uvicorn with the
same options as `beacon-gql serve` (uvloop, httptools).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bench.common import serve_baseline

JOB = """SELECT status, expected, pending_count, running_count, completed_count, failed_count,
                cancelled_count FROM jobs WHERE id = $1"""
EXECUTIONS = """SELECT question_id, model_id, region, status, provider_id, duration_ms, response,
                       classification, error_code, error_message
                FROM executions WHERE job_id = $1 ORDER BY position"""
ANALYSIS = """SELECT status, (report ->> 'censorship_rate')::float8 AS censorship_rate
              FROM bias_analyses WHERE job_id = $1"""


def execution_json(row: asyncpg.Record) -> dict[str, Any]:
    status = row["status"]
    classification = row["classification"]
    if classification is None and status == "FAILED":
        classification = "TECHNICAL_FAILURE"
    error = None
    if status in ("FAILED", "CANCELLED") and row["error_code"] is not None:
        error = {"code": row["error_code"], "message": row["error_message"] or ""}
    return {
        "questionId": row["question_id"],
        "modelId": row["model_id"],
        "region": row["region"],
        "status": status,
        "providerId": row["provider_id"],
        "durationMs": row["duration_ms"],
        "response": row["response"],
        "classification": classification,
        "error": error,
    }


def create_app(dsn: str) -> Starlette:
    pool: asyncpg.Pool | None = None

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        nonlocal pool
        pool = await asyncpg.create_pool(dsn, min_size=4, max_size=20)
        try:
            yield
        finally:
            await pool.close()

    async def job(request: Request) -> Response:
        body = await request.json()
        job_id = str(body["variables"]["id"])
        assert pool is not None
        async with pool.acquire() as connection:
            row = await connection.fetchrow(JOB, job_id)
            if row is None:
                return JSONResponse({"data": {"job": None}})
            executions = await connection.fetch(EXECUTIONS, job_id)
            analysis = await connection.fetchrow(ANALYSIS, job_id)
        return JSONResponse(
            {
                "data": {
                    "job": {
                        "status": row["status"],
                        "progress": {
                            "expected": row["expected"],
                            "pending": row["pending_count"],
                            "running": row["running_count"],
                            "completed": row["completed_count"],
                            "failed": row["failed_count"],
                            "cancelled": row["cancelled_count"],
                        },
                        "executions": [execution_json(e) for e in executions],
                        # The benchmark's jobs are finished, so the analysis is persisted.
                        "biasAnalysis": None
                        if analysis is None
                        else {
                            "status": analysis["status"],
                            "censorshipRate": analysis["censorship_rate"],
                        },
                    }
                }
            }
        )

    async def health(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[Route("/raw/job", job, methods=["POST"]), Route("/health", health)],
        lifespan=lifespan,
    )


def main() -> None:
    serve_baseline(create_app, __doc__ or "")


if __name__ == "__main__":
    main()
