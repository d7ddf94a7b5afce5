"""Classify answers as they are recorded: batched, in a process of their own.

The encoder costs ~0.1 s per pass plus a little per answer, so answers are classified
together: a request waits while the previous batch runs, and the next batch takes every
request that arrived meanwhile. A worker with 64 attempts in flight sends them in a handful
of passes.

The batches run in a separate process, not a thread: the forward pass holds the GIL often
enough (tokenizer, phrase features, many small numpy steps) that a thread running it beside
the event loop makes every wake-up of the loop wait for the GIL, and the provider calls of
the worker crawl (measured: the zero-latency pipeline fell from 327 to 62 executions/s when
the classifier ran continuously in a thread). One process per Python process, started on
first use, keeps the model loaded; it is replaced if it dies.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from beacon_gql.analysis.classify import ClassificationResult, classify_answers

log = logging.getLogger("beacon_gql.worker")

BatchClassifier = Callable[[Sequence[tuple[str | None, str | None]]], list[ClassificationResult]]
MAX_BATCH = 256

_pool_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None


def classifier_process() -> ProcessPoolExecutor:
    """The process this Python process classifies in (one, whoever asks)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            # spawn: a fork of a process with an event loop and threads running is unsafe.
            _pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
        return _pool


def _replace_broken(broken: Executor) -> None:
    global _pool
    with _pool_lock:
        if _pool is broken:
            _pool = None
    broken.shutdown(wait=False, cancel_futures=True)


class BatchingClassifier:
    def __init__(
        self,
        classify_batch: BatchClassifier = classify_answers,
        executor: Callable[[], Executor] = classifier_process,
    ) -> None:
        """`classify_batch` runs in `executor()` (it must be picklable for a process)."""
        self._classify_batch = classify_batch
        self._executor = executor
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

    async def _run(
        self, answers: list[tuple[str | None, str | None]]
    ) -> list[ClassificationResult]:
        loop = asyncio.get_running_loop()
        executor = self._executor()
        try:
            return await loop.run_in_executor(executor, self._classify_batch, answers)
        except BrokenProcessPool:
            # The process died (killed, out of memory): once more in a fresh one.
            _replace_broken(executor)
            return await loop.run_in_executor(self._executor(), self._classify_batch, answers)

    async def _drain(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[:MAX_BATCH], self._waiting[MAX_BATCH:]
            started = time.monotonic()
            try:
                results = await self._run([(response, question) for response, question, _ in batch])
            except Exception as error:  # every waiting attempt learns why
                for *_, future in batch:
                    if not future.done():
                        future.set_exception(error)
                continue
            log.info(
                "answers classified",
                extra={"answers": len(batch), "seconds": round(time.monotonic() - started, 3)},
            )
            for (*_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)
