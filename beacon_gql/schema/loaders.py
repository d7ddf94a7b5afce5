"""Per-request DataLoaders: nested fields cost one query per level, not one per parent."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from strawberry.dataloader import DataLoader

from beacon_gql.db.models import Execution, ExecutionAttempt, Question
from beacon_gql.db.queries import ExecutionFilter, ExecutionRow
from beacon_gql.jobs.reading import JobReader

# (job id, filter, the columns the query's selection reads or None for all)
ExecutionsKey = tuple[str, ExecutionFilter, frozenset[str] | None]


@dataclass
class Loaders:
    executions: DataLoader[ExecutionsKey, list[ExecutionRow]]
    execution: DataLoader[str, Execution | None]
    question: DataLoader[str, Question | None]
    attempts: DataLoader[str, list[ExecutionAttempt]]
    # When each job's persisted analysis was computed (its version): the report itself is
    # read only when this process has not decoded that version yet (AnalysisService).
    analysis: DataLoader[str, datetime | None]


def create_loaders(reader: JobReader) -> Loaders:
    async def load_executions(keys: Sequence[ExecutionsKey]) -> list[list[ExecutionRow]]:
        by_filter: dict[tuple[ExecutionFilter, frozenset[str] | None], list[str]]
        by_filter = defaultdict(list)
        for job_id, where, only in keys:
            by_filter[(where, only)].append(job_id)
        found: dict[ExecutionsKey, list[ExecutionRow]] = {}
        for (where, only), job_ids in by_filter.items():
            grouped = await reader.executions_for_jobs(job_ids, where, only)
            for job_id in job_ids:
                found[(job_id, where, only)] = grouped.get(job_id, [])
        return [found[key] for key in keys]

    async def load_execution(ids: Sequence[str]) -> list[Execution | None]:
        found = await reader.executions_by_ids(ids)
        return [found.get(i) for i in ids]

    async def load_questions(ids: Sequence[str]) -> list[Question | None]:
        found = await reader.questions_by_ids(ids)
        return [found.get(i) for i in ids]

    async def load_attempts(ids: Sequence[str]) -> list[list[ExecutionAttempt]]:
        found = await reader.attempts_for_executions(ids)
        return [found.get(i, []) for i in ids]

    async def load_analyses(job_ids: Sequence[str]) -> list[datetime | None]:
        found = await reader.analysis_stamps(job_ids)
        return [found.get(i) for i in job_ids]

    return Loaders(
        executions=DataLoader(load_fn=load_executions),
        execution=DataLoader(load_fn=load_execution),
        question=DataLoader(load_fn=load_questions),
        attempts=DataLoader(load_fn=load_attempts),
        analysis=DataLoader(load_fn=load_analyses),
    )
