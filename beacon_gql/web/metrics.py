"""/metrics in the Prometheus text format, read from the database so every process agrees."""

from __future__ import annotations

from sqlalchemy import func, select

from beacon_gql.db.engine import SessionFactory
from beacon_gql.db.models import Execution, Job
from beacon_gql.providers.registry import ProviderRegistry


async def render_metrics(sessions: SessionFactory, registry: ProviderRegistry) -> str:
    async with sessions() as session:
        jobs = (await session.execute(select(Job.status, func.count()).group_by(Job.status))).all()
        executions = (
            await session.execute(select(Execution.status, func.count()).group_by(Execution.status))
        ).all()
    lines = [
        "# HELP beacon_jobs Jobs by status.",
        "# TYPE beacon_jobs gauge",
        *(f'beacon_jobs{{status="{status}"}} {count}' for status, count in jobs),
        "# HELP beacon_executions Executions by status.",
        "# TYPE beacon_executions gauge",
        *(f'beacon_executions{{status="{status}"}} {count}' for status, count in executions),
        "# HELP beacon_provider_healthy 1 when the provider's last check or call succeeded.",
        "# TYPE beacon_provider_healthy gauge",
    ]
    statuses = registry.statuses()
    for status in statuses:
        labels = f'provider="{status.name}",region="{status.region}"'
        lines.append(f"beacon_provider_healthy{{{labels}}} {int(status.healthy)}")
    lines += [
        "# HELP beacon_provider_latency_ms Moving average of provider latency.",
        "# TYPE beacon_provider_latency_ms gauge",
    ]
    for status in statuses:
        if status.latency_ms is not None:
            labels = f'provider="{status.name}",region="{status.region}"'
            lines.append(f"beacon_provider_latency_ms{{{labels}}} {status.latency_ms:.1f}")
    return "\n".join(lines) + "\n"
