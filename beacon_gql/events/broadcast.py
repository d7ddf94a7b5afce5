"""Cross-process pub/sub for job events, with backends that survive a lost connection.

broadcaster's stock backends don't reconnect: its Postgres backend uses one asyncpg connection
for both LISTEN and NOTIFY and simply stops receiving when that connection dies, and its Redis
listener task dies silently on ConnectionError. Either way the process keeps running, deaf to
every event. So the Postgres and Redis backends here are our own: they notice a lost listening
connection (termination callback or failed health check), reconnect with exponential backoff and
jitter, re-subscribe every channel and then call the ``on_reconnect`` callbacks, because
whatever was published in the gap is gone and subscribers must reload their state. Publishing
retries on a fresh connection a bounded number of times. ``memory://`` is a plain
in-process queue.

backend           the interface, limits and the reconnect/retry machinery the two share
memory_backend    memory://, one process
postgres_backend  LISTEN/NOTIFY
redis_backend     SUBSCRIBE/PUBLISH
This module picks one from the URL.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from beacon_gql.events.backend import MAX_PAYLOAD_BYTES as MAX_PAYLOAD_BYTES
from beacon_gql.events.backend import BroadcastBackend as BroadcastBackend
from beacon_gql.events.backend import BroadcastUnavailableError as BroadcastUnavailableError
from beacon_gql.events.memory_backend import MemoryBackend as MemoryBackend
from beacon_gql.events.postgres_backend import PostgresBackend as PostgresBackend
from beacon_gql.events.redis_backend import RedisBackend as RedisBackend


def create_backend(url: str) -> BroadcastBackend:
    scheme = urlsplit(url).scheme.lower()
    if scheme == "memory":
        return MemoryBackend(url)
    if scheme in ("postgres", "postgresql", "postgresql+asyncpg"):
        return PostgresBackend(url)
    if scheme in ("redis", "rediss"):
        return RedisBackend(url)
    # Name the scheme only: the URL may carry a password.
    raise ValueError(
        f"unsupported broadcast URL scheme {scheme!r}; supported: memory://, postgres://, "
        "postgresql://, postgresql+asyncpg://, redis://, rediss://"
    )
