"""Classify answers as they are recorded: batched, in the classifier's own process.

One answer alone costs 4-6 ms of CPU, one of a batch of 50 to 250 about 2-4 ms, and each
call to the classifier's process costs a round trip, so answers are classified together: a
request waits while the previous batch runs, and the next batch takes every
request that arrived meanwhile. A worker with 64 attempts in flight sends them in a handful
of passes. The batches run in a process, not a thread beside the event loop: see
`analysis.classifier_process`. An answer met before (the same text to the same question,
`analysis.answer_memory`) takes its label here, without a trip to that process, and a batch
carries each distinct answer once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import Executor

from beacon_gql.analysis.answer_memory import AnswerMemory, Key, answer_key
from beacon_gql.analysis.classifier_process import (
    BatchClassifier,
    classifier_process,
    classify_in_process,
)
from beacon_gql.analysis.classify import ClassificationResult, classify_answers

log = logging.getLogger("beacon_gql.worker")

MAX_BATCH = 256

Waiting = tuple[Key, str | None, str | None, asyncio.Future[ClassificationResult]]


class BatchingClassifier:
    def __init__(
        self,
        classify_batch: BatchClassifier = classify_answers,
        executor: Callable[[], Executor] = classifier_process,
        memory: AnswerMemory | None = None,
    ) -> None:
        """`classify_batch` runs in `executor()` (it must be picklable for a process)."""
        self._classify_batch = classify_batch
        self._executor = executor
        self._memory = AnswerMemory() if memory is None else memory
        self._waiting: list[Waiting] = []
        self._drainer: asyncio.Task[None] | None = None

    async def classify(self, response: str | None, question: str | None) -> ClassificationResult:
        """The classification of one successful answer to `question`."""
        key = answer_key(response, question)
        known = self._memory.recall(key)
        if known is not None:
            return known
        future: asyncio.Future[ClassificationResult] = asyncio.get_running_loop().create_future()
        self._waiting.append((key, response, question, future))
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.create_task(self._drain(), name="classifier")
        return await future

    async def _drain(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[:MAX_BATCH], self._waiting[MAX_BATCH:]
            distinct: dict[Key, tuple[str | None, str | None]] = {}
            for key, response, question, _ in batch:
                distinct.setdefault(key, (response, question))
            started = time.monotonic()
            try:
                results = await classify_in_process(
                    list(distinct.values()), self._classify_batch, self._executor
                )
            except Exception as error:  # every waiting attempt learns why
                for *_, future in batch:
                    if not future.done():
                        future.set_exception(error)
                continue
            log.info(
                "answers classified",
                extra={"answers": len(distinct), "seconds": round(time.monotonic() - started, 3)},
            )
            labels = dict(zip(distinct, results, strict=True))
            self._memory.remember(labels)
            for key, *_, future in batch:
                if not future.done():
                    future.set_result(labels[key])
