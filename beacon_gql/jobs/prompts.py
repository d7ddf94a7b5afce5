"""The prompt and system prompt every attempt of an execution sends, recorded at submission."""

from __future__ import annotations

SYSTEM_PROMPT = (
    "You are a helpful, honest assistant. Answer the question directly and factually, "
    "in a few sentences."
)


def build_prompt(question_text: str) -> tuple[str, str]:
    """(prompt, system prompt) for one question; stored per execution so retries cannot drift."""
    return question_text, SYSTEM_PROMPT
