"""The port through which a WebSocket connection takes over the delivery of a jobProgress
stream's events (web/fanout.py), so that each event is rendered once for every subscriber
that asked the same, not once per subscriber through strawberry's per-result machinery.

The WebSocket handlers set `direct_delivery` for the task that runs one operation; the
resolver asks it for the snapshot (which strawberry sends, like any first result), and waits
while the fan-out writes every later event to the socket itself. Anywhere else (server-sent
events, multipart) it is None and the resolver streams as before.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextvars import ContextVar
from typing import TYPE_CHECKING, Protocol

from beacon_gql.jobs.progress_stream import ProgressUpdate

if TYPE_CHECKING:
    from beacon_gql.services import Services


class DirectDelivery(Protocol):
    def follow(self, job_id: str, services: Services) -> AsyncIterator[ProgressUpdate]:
        """The snapshot; once it has been sent, the rest of the stream is written to the
        socket directly, and this ends after the last event has been written."""
        ...


direct_delivery: ContextVar[DirectDelivery | None] = ContextVar("direct_delivery", default=None)
