"""The analysis input: one record per execution, and its classification."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

import numpy as np

from beacon_gql.analysis.classify import (
    CENSORED_LABELS,
    FAILED_EXECUTION,
    Classification,
    ClassificationResult,
    classify_answers,
)
from beacon_gql.analysis.similarity import Gist, gists, vector_from_bytes
from beacon_gql.analysis.text import is_mainly_cjk, normalise
from beacon_gql.db.statuses import ExecutionStatus

CONTROL_CATEGORY = "control"
"""Questions with one right answer everywhere; they measure consistency, never censorship."""


@dataclass(frozen=True)
class AnswerRecord:
    """One execution (one sample of a question x model x region cell) as the analysis
    sees it."""

    execution_id: str
    question_id: str
    question_category: str
    model_id: str
    region: str
    status: str  # PENDING, RUNNING, COMPLETED, FAILED or CANCELLED
    response: str | None
    error_code: str | None
    sample: int = 1
    """1..runs: which asking of the cell this is."""
    classification: str | None = None
    """The label stored when the answer was recorded; None to classify it here."""
    classification_evidence: tuple[str, ...] = ()
    question_text: str | None = None
    """What the model was asked: the classifier judges the answer against it."""
    question_language: str | None = None
    """The question's language tag; None when not known (no language comparison)."""
    translation_of: str | None = None
    """The question this one translates, if any: they are compared by language."""
    vector: bytes | None = None
    """The answer's encoder vector stored with its label (`similarity.vector_bytes`); None
    to encode it here."""


_TECHNICAL_FAILURE = ClassificationResult(Classification.TECHNICAL_FAILURE, (FAILED_EXECUTION,))


@dataclass(frozen=True)
class ClassifiedAnswer:
    """A record with what the analysis derives from it, computed once up front.

    The flags are stored rather than derived on access: the comparisons read them for every
    pair of answers, and in a 5,000-execution job the property calls alone cost ~10%.
    """

    record: AnswerRecord
    classification: ClassificationResult | None
    """None while the execution is pending or running, and for a cancelled one."""
    text: str
    """The normalised response; empty when there is none."""
    mainly_cjk: bool
    finished: bool
    """The execution ran to an end: it completed or failed (cancelled does not count)."""
    answered: bool
    """It produced an answer: finished and not a technical failure."""
    censored: bool
    """It answered with a refusal or an evasion."""
    substantive: bool
    is_control: bool
    gist: Gist | None = None
    """What the meaning comparisons read (`similarity`); None unless it answered."""


def classify_records(records: Iterable[AnswerRecord]) -> list[ClassifiedAnswer]:
    """Each record with its label: the stored one, else classified now (in one batch).

    A FAILED execution is a technical failure; a pending, running or cancelled one has no
    label yet.
    """
    records = list(records)
    labels: list[ClassificationResult | None] = []
    unlabelled: list[int] = []
    vectors: list[bytes | None] = [record.vector for record in records]
    for index, record in enumerate(records):
        status = record.status.upper()
        if status == ExecutionStatus.FAILED:
            labels.append(_TECHNICAL_FAILURE)
        elif status != ExecutionStatus.COMPLETED:
            labels.append(None)
        elif record.classification is not None:
            labels.append(
                ClassificationResult(
                    Classification(record.classification), record.classification_evidence
                )
            )
        else:
            labels.append(None)
            unlabelled.append(index)
    if unlabelled:
        fresh = classify_answers(
            [(records[index].response, records[index].question_text) for index in unlabelled]
        )
        for index, result in zip(unlabelled, fresh, strict=True):
            labels[index] = result
            vectors[index] = result.vector
    classified = [_classified(record, label) for record, label in zip(records, labels, strict=True)]
    return _with_gists(classified, vectors)


def _with_gists(
    classified: list[ClassifiedAnswer], vectors: list[bytes | None]
) -> list[ClassifiedAnswer]:
    """Each answer with its gist; answers stored without a vector (before vectors were
    stored) are encoded here, in one batch."""
    answered = [index for index, answer in enumerate(classified) if answer.answered]
    missing = [index for index in answered if vectors[index] is None]
    fresh = gists([classified[index].record.response or "" for index in missing])
    found = dict(zip(missing, fresh, strict=True))
    stored = [index for index in answered if index not in found]
    if stored:
        found.update(
            zip(
                stored,
                gists(
                    [classified[index].record.response or "" for index in stored],
                    np.stack([vector_from_bytes(vectors[index] or b"") for index in stored]),
                ),
                strict=True,
            )
        )
    for index, item in found.items():
        classified[index] = replace(classified[index], gist=item)
    return classified


def _classified(
    record: AnswerRecord, classification: ClassificationResult | None
) -> ClassifiedAnswer:
    text = normalise(record.response) if record.response else ""
    label = None if classification is None else classification.label
    return ClassifiedAnswer(
        record=record,
        classification=classification,
        text=text,
        mainly_cjk=is_mainly_cjk(text),
        finished=label is not None,
        answered=label is not None and label is not Classification.TECHNICAL_FAILURE,
        censored=label in CENSORED_LABELS,
        substantive=label is Classification.SUBSTANTIVE,
        is_control=record.question_category == CONTROL_CATEGORY,
    )
