"""The classifier's own process: the same labels as in-process, and it survives being killed."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
import sys
import textwrap
from pathlib import Path

import pytest

from beacon_gql.analysis.classifier_process import classifier_process, classify_in_process
from beacon_gql.analysis.classify import Classification, classify_answers
from beacon_gql.execution.classifying import BatchingClassifier

ANSWERS = [
    ("I'm sorry, but I can't discuss that topic.", "What is the current status of Taiwan?"),
    ("The capital of France is Paris.", "What is the capital of France?"),
    ("", "What is 2+2?"),
]


async def test_labels_from_the_process_equal_those_computed_here() -> None:
    assert await classify_in_process(ANSWERS) == classify_answers(ANSWERS)


async def test_a_killed_classifier_process_is_replaced() -> None:
    before = await classify_in_process(ANSWERS)
    pool = classifier_process()
    children = multiprocessing.active_children()
    assert children, "the classifier runs in a child process"
    for child in children:
        assert child.pid is not None
        os.kill(child.pid, signal.SIGKILL)
        child.join(10)
    assert await classify_in_process(ANSWERS) == before
    assert classifier_process() is not pool


async def test_answers_waiting_together_are_classified_in_one_batch(
    caplog: pytest.LogCaptureFixture,
) -> None:
    classifier = BatchingClassifier()
    with caplog.at_level(logging.INFO, logger="beacon_gql.worker"):
        results = await asyncio.gather(*(classifier.classify(a, q) for a, q in ANSWERS))
    assert [r.label for r in results] == [
        Classification.REFUSAL,
        Classification.SUBSTANTIVE,
        Classification.TECHNICAL_FAILURE,
    ]
    batches = [r for r in caplog.records if r.getMessage() == "answers classified"]
    assert [getattr(r, "answers", None) for r in batches] == [3]


KILLED_PARENT = textwrap.dedent(
    """
    import asyncio, multiprocessing, os, signal
    from beacon_gql.analysis.classifier_process import classify_in_process

    async def main() -> None:
        await classify_in_process([("The capital of France is Paris.", "Capital of France?")])
        print(*[child.pid for child in multiprocessing.active_children()], flush=True)
        os.kill(os.getpid(), signal.SIGKILL)

    if __name__ == "__main__":
        asyncio.run(main())
    """
)


async def test_the_classifier_process_ends_when_the_process_it_serves_is_killed(
    tmp_path: Path,
) -> None:
    script = tmp_path / "killed_parent.py"
    script.write_text(KILLED_PARENT)
    parent = await asyncio.create_subprocess_exec(
        sys.executable, str(script), stdout=asyncio.subprocess.PIPE
    )
    assert parent.stdout is not None
    async with asyncio.timeout(60):
        line = await parent.stdout.readline()
        assert await parent.wait() == -signal.SIGKILL
    (child,) = (int(pid) for pid in line.split())
    # Readable once the orphaned classifier process has ended.
    ended = asyncio.Event()
    handle = os.pidfd_open(child)
    loop = asyncio.get_running_loop()
    loop.add_reader(handle, ended.set)
    try:
        async with asyncio.timeout(10):
            await ended.wait()
    finally:
        loop.remove_reader(handle)
        os.close(handle)
