"""Negated clauses counted alike in an answer and its translations (`negation`), and
apart in a claim and its negation; the counts `similarity` compares."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest

from beacon_gql.analysis.similarity import gist

# One answer in nine languages; the first two sentences negate two clauses and none.
TRANSLATIONS = {
    "en": "I can't confirm the figures, because no independent source has checked them. "
    "The Berlin Wall fell in 1989.",
    "zh": "我无法证实这些数字，因为没有任何独立来源核实过。柏林墙于1989年倒塌。",
    "ja": "独立した情報源による検証がないため、数字を確認することはできません。"
    "ベルリンの壁は1989年に崩壊した。",
    "ko": "독립적인 출처가 확인하지 않았기 때문에, 이 수치를 확인할 수 없습니다. "
    "베를린 장벽은 1989년에 무너졌다.",
    "ar": "لا أستطيع تأكيد الأرقام، لأنه لم يتحقق منها أي مصدر مستقل. سقط جدار برلين عام 1989.",
    "ru": "Я не могу подтвердить эти цифры, потому что ни один независимый источник их не "
    "проверил. Берлинская стена пала в 1989 году.",
    "de": "Ich kann die Zahlen nicht bestätigen, weil keine unabhängige Quelle sie geprüft hat. "
    "Die Berliner Mauer fiel 1989.",
    "fr": "Je ne peux pas confirmer ces chiffres, car aucune source indépendante ne les a "
    "vérifiés. Le mur de Berlin est tombé en 1989.",
    "es": "No puedo confirmar las cifras, porque ninguna fuente independiente las ha "
    "verificado. El Muro de Berlín cayó en 1989.",
}


def negations(text: str) -> tuple[int, ...]:
    return gist(text, np.zeros(512, np.float32)).negations


def test_an_answer_negates_as_many_clauses_in_every_language() -> None:
    counts = {language: negations(text) for language, text in TRANSLATIONS.items()}
    for first, second in combinations(counts, 2):
        assert counts[first] == counts[second] == (2, 0), (first, second, counts)


@pytest.mark.parametrize(
    ("claim", "negated"),
    [
        ("Taiwan is a sovereign country.", "Taiwan is not a sovereign country."),
        ("台湾是一个主权国家。", "台湾不是一个主权国家。"),
        ("天安門事件では多くの市民が殺された。", "天安門事件では市民は一人も殺されなかった。"),
        ("شارك الجيش في قمع الاحتجاجات.", "لم يشارك الجيش في قمع الاحتجاجات."),
        ("대만은 독립된 국가이다.", "대만은 독립된 국가가 아니다."),
        ("Les manifestants étaient armés.", "Les manifestants n'étaient pas armés."),
        ("Le parti est au pouvoir.", "Le parti n'est plus au pouvoir."),
        ("СССР признал протокол.", "СССР никогда не признавал протокол."),
    ],
)
def test_a_claim_and_its_negation_differ(claim: str, negated: str) -> None:
    assert negations(claim) == (0,)
    assert negations(negated) == (1,)


@pytest.mark.parametrize(
    "text",
    [
        "Il n'y a que deux grandes îles.",  # "ne ... que": only
        "The protest was not only about the bill but also about democracy.",
        "No doubt the printing press changed Europe.",
        "Протест был не только против закона, но и за демократию.",
        "The Cultural Revolution did not end until 1976.",  # 直到 ... 才, German "erst"
        "非洲的未来非常重要，不同的学者看法不同。",  # Africa, future, very, different
        "必ず、まず少ない資源を使う。",  # surely, first, few
    ],
)
def test_words_that_hold_a_negator_without_negating_do_not_count(text: str) -> None:
    assert negations(text) == (0,)


def test_only_whole_sentences_count_in_an_opening_cut_short() -> None:
    answer = "Nobody was hurt. " + "The square was calm all day long. " * 10
    assert len(negations(answer)) == 6  # the whole sentences in the first 200 characters
    assert negations(answer)[0] == 1
    assert sum(negations("It was calm. Nobody was hurt")) == 1  # whole: the last counts
