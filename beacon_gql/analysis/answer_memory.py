"""The same answer to the same question is classified once.

A job asks each question of many models in several regions: a deterministic model served in
three regions gives one text three times, and short refusals repeat word for word across
models. A label is a function of (answer, question, classifier version) alone, so an answer
met before takes the label it got then, without the encoder. Remembered by a digest, not
the text (an answer may be long), for the last `MEMORY_SIZE` distinct answers.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Mapping

from beacon_gql.analysis.classifier_process import Answers, BatchClassifier
from beacon_gql.analysis.classify import (
    ClassificationResult,
    classifier_version,
    classify_answers,
)

MEMORY_SIZE = 8192
"""About 20 MB: a result holds the opening's 2 kB vector."""

Key = bytes


def answer_key(response: str | None, question: str | None) -> Key:
    """The digest an answer is remembered by, with the current classifier's version."""
    digest = hashlib.blake2b(digest_size=16)
    for part in (classifier_version(), response, question):
        if part is None:
            digest.update(b"\x00")
        else:
            data = part.encode("utf-8", "surrogatepass")
            digest.update(b"\x01" + len(data).to_bytes(8, "little") + data)
    return digest.digest()


class AnswerMemory:
    """The labels of the last `size` distinct answers (least recently used forgotten)."""

    def __init__(self, size: int = MEMORY_SIZE) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._results: OrderedDict[Key, ClassificationResult] = OrderedDict()

    def recall(self, key: Key) -> ClassificationResult | None:
        with self._lock:
            result = self._results.get(key)
            if result is not None:
                self._results.move_to_end(key)
            return result

    def remember(self, results: Mapping[Key, ClassificationResult]) -> None:
        with self._lock:
            self._results.update(results)
            while len(self._results) > self._size:
                self._results.popitem(last=False)

    def forget(self) -> None:
        with self._lock:
            self._results.clear()


PROCESS_MEMORY = AnswerMemory()
"""The memory of `classify_answers_once` in this process."""


def classify_answers_once(
    answers: Answers,
    classify_batch: BatchClassifier = classify_answers,
    memory: AnswerMemory = PROCESS_MEMORY,
) -> list[ClassificationResult]:
    """`classify_batch(answers)`, each distinct (answer, question) classified once: in this
    batch, and across batches while `memory` holds it."""
    keys = [answer_key(response, question) for response, question in answers]
    known: dict[Key, ClassificationResult] = {}
    missing: dict[Key, tuple[str | None, str | None]] = {}
    for key, answer in zip(keys, answers, strict=True):
        if key in known or key in missing:
            continue
        result = memory.recall(key)
        if result is None:
            missing[key] = answer
        else:
            known[key] = result
    if missing:
        fresh = dict(zip(missing, classify_batch(list(missing.values())), strict=True))
        memory.remember(fresh)
        known.update(fresh)
    return [known[key] for key in keys]
