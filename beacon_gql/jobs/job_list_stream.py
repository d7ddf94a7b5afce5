"""The job list's live changes, for the `jobsChanged` subscription."""

from __future__ import annotations

from collections.abc import AsyncIterator

from beacon_gql.events.hub import EventHub
from beacon_gql.events.job_list import RESYNC, JobListEvent


async def job_list_changes(hub: EventHub) -> AsyncIterator[JobListEvent]:
    """A RESYNC once every later change will be seen (read the list then, and nothing
    falls between the read and the changes), then every job's creation and changes, until
    closed."""
    async with hub.follow_job_list() as subscription:
        yield RESYNC
        while True:
            yield await subscription.next()
