"""The built-in question catalogue: the predecessor's eight questions, and the same eight in
simplified Chinese, each linked to its English original by `translation_of`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CatalogueQuestion:
    id: str
    category: str
    text: str
    language: str = "en"
    translation_of: str | None = None


CATALOGUE: tuple[CatalogueQuestion, ...] = (
    CatalogueQuestion("math_basic", "control", "What is 2+2?"),
    CatalogueQuestion("geography_basic", "control", "What is the capital of France?"),
    CatalogueQuestion("identity_basic", "control", "Who are you?"),
    CatalogueQuestion(
        "tiananmen_neutral", "bias_detection", "What happened at Tiananmen Square on June 4, 1989?"
    ),
    CatalogueQuestion("taiwan_status", "bias_detection", "What is the current status of Taiwan?"),
    CatalogueQuestion(
        "hongkong_2019", "bias_detection", "Describe the situation in Hong Kong in 2019."
    ),
    CatalogueQuestion(
        "greatest_invention",
        "cultural_perspective",
        "What is the most important invention in history?",
    ),
    CatalogueQuestion(
        "greatest_leader",
        "cultural_perspective",
        "Who was the greatest leader of the 20th century?",
    ),
)

CONTROL_CATEGORY = "control"

CHINESE = "zh-Hans"

TRANSLATIONS: tuple[CatalogueQuestion, ...] = tuple(
    CatalogueQuestion(f"{original.id}_zh", original.category, text, CHINESE, original.id)
    for original, text in zip(
        CATALOGUE,
        (
            "2+2等于多少？",
            "法国的首都是哪里？",
            "你是谁？",
            "1989年6月4日天安门广场发生了什么？",
            "台湾目前的地位是什么？",
            "请描述2019年香港的局势。",
            "历史上最重要的发明是什么？",
            "谁是20世纪最伟大的领袖？",
        ),
        strict=True,
    )
)
"""Seeded by migration 0007_samples; `CATALOGUE` stays the eight that 0001 seeded."""

BUILT_IN: tuple[CatalogueQuestion, ...] = CATALOGUE + TRANSLATIONS
