"""Classify answers as they are recorded: batched, in a thread, off the event loop.

The encoder costs ~0.1 s per pass plus a little per answer, so answers are classified
together: a request waits while the previous batch runs, and the next batch takes every
request that arrived meanwhile. The event loop never runs the model; a worker with 64
attempts in flight sends them in a handful of passes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from beacon_gql.analysis.classify import ClassificationResult, classify_answers

BatchClassifier = Callable[[Sequence[tuple[str | None, str | None]]], list[ClassificationResult]]
MAX_BATCH = 256


class BatchingClassifier:
    def __init__(self, classify_batch: BatchClassifier = classify_answers) -> None:
        self._classify_batch = classify_batch
        self._waiting: list[tuple[str | None, str | None, asyncio.Future[ClassificationResult]]]
        self._waiting = []
        self._drainer: asyncio.Task[None] | None = None

    async def classify(self, response: str | None, question: str | None) -> ClassificationResult:
        """The classification of one successful answer to `question`."""
        future: asyncio.Future[ClassificationResult] = asyncio.get_running_loop().create_future()
        self._waiting.append((response, question, future))
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.create_task(self._drain(), name="classifier")
        return await future

    async def _drain(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[:MAX_BATCH], self._waiting[MAX_BATCH:]
            try:
                results = await asyncio.to_thread(
                    self._classify_batch, [(response, question) for response, question, _ in batch]
                )
            except Exception as error:  # every waiting attempt learns why
                for *_, future in batch:
                    if not future.done():
                        future.set_exception(error)
                continue
            for (*_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)
