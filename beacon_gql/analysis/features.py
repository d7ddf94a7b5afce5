"""What the learned model sees of an answer and its question: one row of numbers each.

[answer opening's vector a (512) | a * q (512) | |a - q| (512) | closing's vector c (512) |
hand-made features], q being the question's vector; c is a for an answer no longer than its
opening.

The hand-made features are language-independent numbers a person would also look at: where
the phrases of each family (`phrases.Family`) stand (opening, closing, anywhere), what share
of the sentences carry a refusal, a generality or an official formula (an answer with a
disclaimer has most sentences free of them; an evasion has none free), how long the answer
is, how many figures it gives, and how close it is to the question (a relevant answer sits
near its question in the encoder's space; a deflection or an answer to another question
does not).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from beacon_gql.analysis.encoder import (
    DIMENSIONS,
    Matrix,
    closing,
    encode,
    encode_questions,
    opening,
)
from beacon_gql.analysis.phrases import FAMILIES, Family, PhraseHit, find_phrases
from beacon_gql.analysis.question_kind import QUESTION_KIND_FEATURES, question_kind_features
from beacon_gql.analysis.text import normalise

EDGE_CHARS = 160
"""A phrase in the first or the last this many characters "opens" or "closes" the answer."""

_SENTENCE_END = re.compile(r"(?<=[.!?。！？؟\n])\s*")
_FIGURE = re.compile(r"\d+")
# A capitalised word after another word (not a sentence's first): names of people, places,
# institutions and events, the concrete content an evasion lacks (Latin, Greek, Cyrillic).
_NAME = re.compile(r"(?<=[\w,;:] )[A-ZÀ-ÞΑ-ΩА-Я][\w'-]+")
_MARKED = (
    Family.DECLINE,
    Family.CHANGE_SUBJECT,
    Family.OBJECTION,
    Family.GENERALITY,
    Family.OFFICIAL_LINE,
)

HAND_FEATURES = (
    *(f"{family}_{where}" for family in FAMILIES for where in ("opens", "closes", "count")),
    *(f"sentences_{family}" for family in _MARKED),
    "sentences_unmarked",
    "log_chars",
    "log_sentences",
    "log_figures",
    "log_names",
    *QUESTION_KIND_FEATURES,
    "question_off_topic",
)
"""`question_off_topic` stays last: `classify` reads it back for the evidence."""

ENCODED_FEATURES = 4 * DIMENSIONS
"""The answer's vector, then its product with the question's and their distance, dimension
by dimension: how an answer relates to what was asked (an answer on the topic that skips
the question's point is EVASIVE), which one similarity number cannot show; then the
closing's vector (session 8: +0.013 leave-one-source-out accuracy, most on long answers and
on background given in place of the point)."""
_CLOSING = slice(3 * DIMENSIONS, ENCODED_FEATURES)

OFF_TOPIC_BELOW = 0.15
"""Cosine similarity to the question under which an answer counts as off the topic.

Relevant answers range widely (0.2 to 0.6: a good answer to "the greatest leader?" may name
Churchill and his war without repeating the question's words), so only how far an answer
falls under this floor is a feature; above it, relevance says nothing about the label."""


@dataclass(frozen=True)
class Analysed:
    """The normalised answer and its phrase hits, kept for the evidence."""

    text: str
    hits: list[PhraseHit]
    names: int = 0


def analyse(answer: str) -> Analysed:
    text = normalise(answer)
    return Analysed(text, find_phrases(text), len(_NAME.findall(answer)))


def hand_features(
    analysed: Analysed, question: str | None, answer: str, question_similarity: float
) -> list[float]:
    text, hits = analysed.text, analysed.hits
    size = len(text)
    values: list[float] = []
    for family in FAMILIES:
        starts = [hit.start for hit in hits if hit.family is family]
        values.append(float(any(start < EDGE_CHARS for start in starts)))
        values.append(float(any(start >= size - EDGE_CHARS for start in starts)))
        values.append(math.log1p(len(starts)))
    sentences = [part for part in _SENTENCE_END.split(text) if part.strip()] or [text]
    bounds: list[tuple[int, int]] = []
    position = 0
    for sentence in sentences:
        start = text.find(sentence, position)
        bounds.append((start, start + len(sentence)))
        position = start + len(sentence)
    marked_any = [False] * len(bounds)
    for family in _MARKED:
        marked = [False] * len(bounds)
        for hit in hits:
            if hit.family is not family:
                continue
            for index, (start, end) in enumerate(bounds):
                if start <= hit.start < end:
                    marked[index] = True
                    marked_any[index] = True
        values.append(sum(marked) / len(bounds))
    values.append(1.0 - sum(marked_any) / len(bounds))
    values.append(math.log1p(size))
    values.append(math.log1p(len(sentences)))
    values.append(math.log1p(len(_FIGURE.findall(text))))
    values.append(math.log1p(analysed.names))
    values.extend(question_kind_features(question, answer))
    values.append(max(0.0, OFF_TOPIC_BELOW - question_similarity))
    return values


def feature_rows(
    answers: Sequence[str], questions: Sequence[str | None]
) -> tuple[Matrix, list[Analysed]]:
    """The model's input for each (answer, question), encoded in one batch."""
    closings = [closing(answer) for answer in answers]
    long = [index for index, text in enumerate(closings) if text]
    # One batch for openings and closings: the encoder's passes fill up better.
    encoded = encode([opening(answer) for answer in answers] + [closings[i] for i in long])
    vectors = encoded[: len(answers)]
    analysed = [analyse(answer) for answer in answers]
    rows = np.empty((len(answers), ENCODED_FEATURES + len(HAND_FEATURES)), np.float32)
    rows[:, :DIMENSIONS] = vectors
    rows[:, _CLOSING] = vectors
    rows[long, _CLOSING] = encoded[len(answers) :]
    asked = encode_questions([question for question in questions if question and question.strip()])
    for index, question in enumerate(questions):
        if question and question.strip():
            question_vector = asked[" ".join(question.split())]
            similarity = float(vectors[index] @ question_vector)
        else:
            # Without the question, relevance cannot be judged: count the answer as on topic.
            question_vector = vectors[index]
            similarity = 1.0
        rows[index, DIMENSIONS : 2 * DIMENSIONS] = vectors[index] * question_vector
        rows[index, 2 * DIMENSIONS : 3 * DIMENSIONS] = np.abs(vectors[index] - question_vector)
        rows[index, ENCODED_FEATURES:] = hand_features(
            analysed[index], question, answers[index], similarity
        )
    return rows, analysed
