"""Where answers are classified: one process of its own per Python process, not a thread.

The encoder's forward pass holds the GIL often enough (tokenizer, phrase features, many
small numpy steps) that a thread running it beside an event loop makes every wake-up of the
loop wait for the GIL: in the worker, the provider calls crawled (the zero-latency pipeline
fell from 327 to 62 executions/s while the classifier ran continuously in a thread), and an
API server reclassifying a job would stop answering meanwhile. The process is started on
first use, keeps the model loaded, and is replaced if it dies.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from beacon_gql.analysis.classify import ClassificationResult, classify_answers

Answers = Sequence[tuple[str | None, str | None]]
BatchClassifier = Callable[[Answers], list[ClassificationResult]]

_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None


PARENT_CHECK_SECONDS = 1.0


def _exit_with_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(0)


def _watch_parent(parent: int) -> None:
    """In the classifier process: end when the process it classifies for is gone. A parent
    killed by a signal (SIGTERM from a supervisor, SIGKILL) never tells its pool to stop, and
    the process would stay, idle, holding its model's ~160 MB."""
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()


def classifier_process() -> ProcessPoolExecutor:
    """The process this Python process classifies in (one, whoever asks)."""
    global _pool
    with _lock:
        if _pool is None:
            # spawn: a fork of a process with an event loop and threads running is unsafe.
            _pool = ProcessPoolExecutor(
                1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_watch_parent,
                initargs=(os.getpid(),),
            )
        return _pool


def stop() -> None:
    """Stop the process, at shutdown: its queues and semaphores go with it. A process that
    exits without this leaves the multiprocessing resource tracker warning of leaked
    semaphores on stderr."""
    global _pool
    with _lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)


def _replace_broken(broken: Executor) -> None:
    global _pool
    with _lock:
        if _pool is broken:
            _pool = None
    broken.shutdown(wait=False, cancel_futures=True)


def _load_model() -> None:
    from beacon_gql.analysis.encoder import encode

    encode(["warm"])


def warm_up() -> None:
    """Start the process and load the model now, in the background: the first answers of a
    worker need not wait for both (about 2-4 s)."""
    classifier_process().submit(_load_model)


async def classify_in_process(
    answers: Answers,
    classify_batch: BatchClassifier = classify_answers,
    executor: Callable[[], Executor] = classifier_process,
) -> list[ClassificationResult]:
    """`classify_batch(answers)` run in `executor()` (so it must be picklable)."""
    loop = asyncio.get_running_loop()
    pool = executor()
    try:
        return await loop.run_in_executor(pool, classify_batch, list(answers))
    except BrokenProcessPool:
        # The process died (killed, out of memory): once more in a fresh one.
        _replace_broken(pool)
        return await loop.run_in_executor(executor(), classify_batch, list(answers))
