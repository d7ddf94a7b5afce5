"""Deterministic detectors of answers that are no answer although the provider said 200.

Each detector returns a reason a person can check ("HTML error page: 502 Bad Gateway"), or
None. They run before the learned model and decide TECHNICAL_FAILURE on their own: these
shapes are mechanical, and a rule is both exact and explainable here.
"""

from __future__ import annotations

import re

from beacon_gql.analysis import garbled, leaks, machine_output, truncation
from beacon_gql.analysis.text import normalise

_REASONING = re.compile(
    r"^\s*<(think|thinking|reasoning)>(.*?)(</\1>|\Z)", re.DOTALL | re.IGNORECASE
)


def without_reasoning(text: str) -> str:
    """The answer after a leading reasoning block (`<think>...</think>`, as reasoning models
    such as DeepSeek-R1 and Qwen3 emit it): the block is the model's notes, not its answer.
    An unclosed block has no answer after it."""
    block = _REASONING.match(text)
    return text if block is None else text[block.end() :]


def answer_part(text: str) -> str:
    """What of a response is judged as the answer: after any reasoning block, before any
    trailing padding (`garbled.without_trailing_debris`)."""
    return garbled.without_trailing_debris(without_reasoning(text))


def detect_failure(text: str, question: str | None = None) -> str | None:
    """Why `text` is no usable answer to `question`, or None when it may be one.

    With the question, output it asked for is no failure: "say hello ten times" answered
    with "hello hello ...", "what does 429 Too Many Requests mean?" answered by an
    explanation that opens with the error's name, a base64 string when one was asked for.
    """
    if not text.strip():
        return "empty answer"
    stripped = answer_part(text).strip()
    if not stripped:
        return "only a reasoning block, no answer after it"
    asked = normalise(question or "")
    if asked and _repeats_what_was_asked(stripped, asked):
        return None
    detectors = _SHAPES_FIRST + _QUOTABLE + _SHAPES_AFTER
    for detector in detectors:
        reason = detector(stripped)
        if reason is None:
            continue
        if detector in _SHAPE_DETECTORS or not (asked and _asked_about(stripped, asked, detector)):
            return reason
    return (
        leaks.escaped(stripped, asked)
        or leaks.echoed_prompt(stripped, asked)
        or leaks.error_notice(stripped, asked)
        or truncation.cut_word(stripped, asked)
        or machine_output.blob(stripped, asked)
    )


REQUESTED_MAX_UNITS = 3
REQUESTED_MAX_REPEATS = 12
"""A requested repetition names its count ("say hello ten times"); a loop runs on until the
token limit cuts it, usually far longer."""
_ASKS_FOR_TIMES = re.compile(r"\d|times|fois|veces|volte|mal\b|раз|回|次|遍|مرات|مرة")


def _repeats_what_was_asked(text: str, asked: str) -> bool:
    """Whether the answer only repeats, a few times, a few words of a question that asks for
    a count: a requested repetition, not a loop."""
    words = [word.strip(".,!?;:。、！？\"'«»") for word in normalise(text).split()]
    units = set(words) - {""}
    return (
        0 < len(units) <= REQUESTED_MAX_UNITS
        and len(words) <= REQUESTED_MAX_REPEATS * len(units)
        and all(re.search(rf"(?<!\w){re.escape(unit)}(?!\w)", asked) for unit in units)
        and _ASKS_FOR_TIMES.search(asked) is not None
    )


# Detectors that judge the text's shape (a page, a loop, garbled or cut text): what the
# question quotes does not excuse them. The others find an error or a token that a question
# may quote, and an answer explaining it may repeat. They run in this order.
_SHAPES_FIRST = (leaks.placeholder, leaks.raw_response, machine_output.html_page)
_QUOTABLE = (
    machine_output.json_error,
    machine_output.xml_error,
    machine_output.stack_trace,
    machine_output.tool_call,
    machine_output.token_ids,
    machine_output.template_tokens,
    machine_output.error_string,
)
_SHAPES_AFTER = (
    garbled.loop,
    garbled.garbage,
    garbled.word_salad,
    truncation.fragment,
    truncation.dangling,
    truncation.unclosed,
)
_SHAPE_DETECTORS = frozenset(_SHAPES_FIRST + _SHAPES_AFTER)


def _asked_about(text: str, asked: str, detector: object) -> bool:
    """Whether the error or token that `detector` found in the answer is what the question
    asks about, and the answer says more than the error itself. (A leaked template that
    repeats a question quoting an error is still a leaked template.)"""
    pattern = (
        machine_output.TEMPLATE_TOKEN
        if detector is machine_output.template_tokens
        else machine_output.ERROR_STRING
    )
    found = pattern.search(text)
    if found is None:
        return False
    quoted = normalise(found.group(0)).strip()
    return quoted in asked and len(text) > 2 * len(quoted) + 20
