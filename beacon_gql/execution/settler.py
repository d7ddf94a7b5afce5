"""Group commit for finished attempts.

Recording each attempt in a transaction of its own makes every one of them update its
job's row, and those updates queue on the row's lock: the worker's attempts finish far
faster than they can be recorded one by one. The settler records whatever has finished
since its last commit in one transaction (one job-row update per job, one event sequence
range), then publishes the batch's events in one round trip.

Nothing is lost if the process dies with results not yet committed: their claims expire
and the executions run again as a new attempt, so each (execution, attempt) is recorded
at most once. Provider calls never happen here, only database writes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from beacon_gql.db import queue
from beacon_gql.db.engine import SessionFactory
from beacon_gql.db.transitions import ExecutionChange
from beacon_gql.receipts.payload import ReceiptFacts
from beacon_gql.receipts.service import ReceiptService

log = logging.getLogger("beacon_gql.worker")

RETRY_SECONDS = 1.0

Announcer = Callable[[Sequence[ExecutionChange]], Awaitable[None]]
WriteTurn = Callable[[], contextlib.AbstractAsyncContextManager[object]]


@dataclass
class _Waiting:
    settlement: queue.Settlement
    receipt_facts: ReceiptFacts | None
    done: asyncio.Future[bool] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class Settler:
    """Records settlements in batches of up to `max_batch`, one batch at a time, so events
    are published in commit order."""

    def __init__(
        self,
        sessions: SessionFactory,
        announce: Announcer,
        *,
        write_turn: WriteTurn,
        max_batch: int,
        give_up_after_seconds: float,
        receipts: ReceiptService | None = None,
    ) -> None:
        self._sessions = sessions
        self._receipts = receipts
        self._announce = announce
        self._write_turn = write_turn
        self._max_batch = max_batch
        self._give_up_after = give_up_after_seconds
        self._waiting: list[_Waiting] = []
        self._arrived = asyncio.Event()

    async def settle(
        self, settlement: queue.Settlement, receipt_facts: ReceiptFacts | None = None
    ) -> bool:
        """Returns once the settlement is committed and its event published: True if its
        claim still held, False if it was discarded. Raises if the database stayed
        unreachable for `give_up_after_seconds` (the claim then expires). With
        `receipt_facts`, an ending is recorded with its signed receipt."""
        waiting = _Waiting(settlement, receipt_facts)
        self._waiting.append(waiting)
        self._arrived.set()
        return await waiting.done

    async def run(self) -> None:
        """Until cancelled; cancel it only once no `settle` call is waiting."""
        while True:
            await self._arrived.wait()
            self._arrived.clear()
            while self._waiting:
                batch = self._waiting[: self._max_batch]
                del self._waiting[: self._max_batch]
                await self._settle_batch(batch)

    async def _settle_batch(self, batch: list[_Waiting]) -> None:
        try:
            changes = await self._write([self._sealed(w) for w in batch])
        except Exception as error:
            for waiting in batch:
                if not waiting.done.done():
                    waiting.done.set_exception(error)
            return
        try:
            await self._announce(changes)
        except Exception:
            # Committed is what counts: subscribers heal from a fresh snapshot, and the
            # settler must go on for the attempts still to come.
            log.exception("could not announce %d changes", len(changes))
        settled = {change.execution.id for change in changes}
        for waiting in batch:
            if not waiting.done.done():
                waiting.done.set_result(waiting.settlement.execution_id in settled)

    def _sealed(self, waiting: _Waiting) -> queue.Settlement:
        """Receipts are signed here, per batch and outside any transaction: CPU only."""
        settlement = waiting.settlement
        if self._receipts is None or waiting.receipt_facts is None:
            return settlement
        receipt = self._receipts.seal(waiting.receipt_facts, settlement.ending.values())
        if not receipt:
            return settlement
        return replace(settlement, receipt=receipt)

    async def _write(self, settlements: list[queue.Settlement]) -> list[ExecutionChange]:
        deadline = time.monotonic() + self._give_up_after
        while True:
            try:
                async with self._write_turn(), self._sessions() as session:
                    changes = await queue.settle_many(session, settlements, now=datetime.now(UTC))
                    await session.commit()
                return changes
            except Exception as error:
                if time.monotonic() > deadline:
                    raise
                log.warning(
                    "database unavailable while recording %d results; retrying: %r",
                    len(settlements),
                    error,
                )
                await asyncio.sleep(RETRY_SECONDS)
