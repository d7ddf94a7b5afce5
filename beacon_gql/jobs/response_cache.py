"""Answers to read-only GraphQL requests about finished jobs, reused while nothing they read
has changed.

A finished job changes only when an admin re-queues its failures (its event sequence moves
on) or recomputes its analysis (a new `computed_at`). An entry keeps the versions of the jobs
its answer was built from; every hit first reads those versions again (one primary-key query)
and is thrown away if any moved, so a change made by another process is never missed.

The resolvers say what a request read in its `ReadLedger`: a finished job makes the answer
reusable; anything live (a running job, the job list, provider health) makes it not.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from beacon_gql.db.queries import JobVersion
from beacon_gql.db.statuses import TERMINAL_JOB_STATUSES

# Called with the job ids, sorted.
VersionReader = Callable[[tuple[str, ...]], Awaitable[Mapping[str, JobVersion]]]


@dataclass
class ReadLedger:
    """What one request's resolvers read."""

    finished_jobs: dict[str, int] = field(default_factory=dict)  # job id -> event sequence
    live: bool = False

    def saw_job(self, job_id: str, status: str, event_sequence: int) -> None:
        seen = self.finished_jobs.setdefault(job_id, event_sequence)
        if status not in TERMINAL_JOB_STATUSES or seen != event_sequence:
            self.live = True

    def saw_live_data(self) -> None:
        self.live = True

    @property
    def reusable(self) -> bool:
        return bool(self.finished_jobs) and not self.live


@dataclass(frozen=True)
class CachedAnswer:
    body: bytes
    versions: Mapping[str, JobVersion]

    @property
    def size(self) -> int:
        return len(self.body)


class ResponseCache:
    """A least-recently-used map from a request to its answer, bounded in bytes."""

    def __init__(self, max_bytes: int, read_versions: VersionReader) -> None:
        self._max_bytes = max_bytes
        self._read_versions = read_versions
        self._entries: OrderedDict[bytes, CachedAnswer] = OrderedDict()
        self._bytes = 0
        self.hits = 0
        self.misses = 0

    @property
    def enabled(self) -> bool:
        return self._max_bytes > 0

    def __len__(self) -> int:
        return len(self._entries)

    async def lookup(self, key: bytes) -> bytes | None:
        entry = self._entries.get(key)
        if entry is None:
            self.misses += 1
            return None
        current = await self._read_versions(tuple(sorted(entry.versions)))
        if current != entry.versions:
            self._drop(key)
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return entry.body

    async def store(self, key: bytes, body: bytes, ledger: ReadLedger) -> None:
        if not ledger.reusable or len(key) + len(body) > self._max_bytes // 4:
            return
        versions = await self._read_versions(tuple(sorted(ledger.finished_jobs)))
        unchanged = all(
            job_id in versions and versions[job_id].event_sequence == sequence
            for job_id, sequence in ledger.finished_jobs.items()
        )
        if not unchanged:
            return  # the job moved on while the answer was being built
        self._drop(key)
        self._entries[key] = CachedAnswer(body=body, versions=versions)
        self._bytes += len(key) + len(body)
        while self._bytes > self._max_bytes:
            oldest = next(iter(self._entries))
            self._drop(oldest)

    def _drop(self, key: bytes) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._bytes -= len(key) + entry.size


def request_key(*parts: bytes) -> bytes:
    """One key from the parts of a request that can change its answer; lengths first, so no
    two different requests give the same bytes."""
    return b"".join(len(part).to_bytes(8, "big") + part for part in parts)
