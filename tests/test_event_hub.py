"""The per-process event hub: joining a job's channel that is already listened to is
immediate, however slow the broadcast backend is answering another job's LISTEN."""

from __future__ import annotations

import asyncio
import contextlib
import uuid

from sqlalchemy.engine import make_url

from beacon_gql.events.broadcast import create_backend
from beacon_gql.events.hub import EventHub
from tests.support.databases import ADMIN_URL
from tests.support.stalling_proxy import StallingProxy


async def test_a_second_subscriber_to_a_job_does_not_wait_behind_another_jobs_listen() -> None:
    database = make_url(ADMIN_URL)
    proxy = StallingProxy(database.host or "127.0.0.1", database.port or 5432)
    async with proxy.running():
        url = database.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        hub = EventHub(create_backend(url))
        await hub.start()
        busy_job, other_job = str(uuid.uuid4()), str(uuid.uuid4())
        try:
            async with contextlib.AsyncExitStack() as stack:
                await stack.enter_async_context(hub.subscribe(busy_job))
                proxy.flowing.clear()  # from now on PostgreSQL hears nothing: LISTENs hang
                listening = asyncio.create_task(stack.enter_async_context(hub.subscribe(other_job)))
                try:
                    await asyncio.wait_for(proxy.holding.wait(), 10)  # that LISTEN is sent
                    async with asyncio.timeout(2):
                        await stack.enter_async_context(hub.subscribe(busy_job))
                    assert not listening.done()
                finally:
                    proxy.flowing.set()
                    await asyncio.wait_for(listening, 10)
        finally:
            await hub.stop()
