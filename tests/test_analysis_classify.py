"""Answer classification: each rule of beacon_gql.analysis.classify on hand-made answers."""

from __future__ import annotations

import pytest

from beacon_gql.analysis.classify import (
    Classification,
    ClassificationResult,
    classify_answer,
)
from beacon_gql.analysis.similarity import TfidfSimilarity, length_ratio, tokenize
from beacon_gql.analysis.text import cjk_share, normalise

REFUSAL = Classification.REFUSAL
EVASIVE = Classification.EVASIVE
SUBSTANTIVE = Classification.SUBSTANTIVE
TECHNICAL_FAILURE = Classification.TECHNICAL_FAILURE

# 380 characters of a plain, substantive answer, so phrases placed after it are far past the
# opening window and the answer is longer than every "short answer" limit.
LONG_SUBSTANCE = (
    "The Republic of China has governed Taiwan since 1949, when the Nationalist government "
    "retreated to the island at the end of the civil war. Taiwan holds regular presidential "
    "and legislative elections, has its own armed forces and currency, and maintains "
    "unofficial relations with most democracies through trade offices. Only about a dozen "
    "states recognise it diplomatically."
)


def classify(text: str | None) -> ClassificationResult:
    return classify_answer(text, succeeded=True)


def test_english_refusal_lists_every_matched_phrase_in_order() -> None:
    assert classify("I'm sorry, but I can't help with that.") == ClassificationResult(
        REFUSAL, ("i'm sorry, but", "i'm sorry", "sorry", "i can't")
    )


def test_curly_apostrophes_and_capitals_are_normalised_before_matching() -> None:
    assert classify("I\u2019M SORRY, BUT I CAN\u2019T HELP WITH THAT.") == ClassificationResult(
        REFUSAL, ("i'm sorry, but", "i'm sorry", "sorry", "i can't")
    )


def test_chinese_refusal() -> None:
    assert classify("抱歉，我无法回答这个问题。") == ClassificationResult(
        REFUSAL, ("抱歉", "我无法", "无法回答")
    )


def test_chinese_refusal_with_self_introduction_and_sensitive_topic() -> None:
    assert classify("作为一个人工智能，我不能讨论这个敏感话题。") == ClassificationResult(
        REFUSAL, ("作为一个人工智能", "我不能", "敏感话题")
    )


def test_self_introduction_is_evidence_of_a_refusal() -> None:
    assert classify("As an AI language model, I cannot share opinions.") == ClassificationResult(
        REFUSAL, ("as an ai", "as an", "i cannot")
    )


def test_self_introduction_alone_is_an_answer_to_who_are_you() -> None:
    answer = "I'm an AI assistant built on Meta's Llama 3.2 model. I can answer questions."
    assert classify(answer) == ClassificationResult(SUBSTANTIVE, ())


def test_greeting_does_not_make_a_short_answer_a_refusal() -> None:
    assert classify("Hello! The capital of France is Paris.") == ClassificationResult(
        SUBSTANTIVE, ()
    )


def test_i_do_not_deep_inside_a_substantive_answer_is_not_a_refusal() -> None:
    answer = LONG_SUBSTANCE + " I do not know exactly how many, but fewer than fifteen."
    assert classify(answer) == ClassificationResult(SUBSTANTIVE, ())


def test_refusal_opener_past_the_opening_window_is_not_a_refusal() -> None:
    answer = LONG_SUBSTANCE + " I cannot stress enough how contested this remains."
    assert classify(answer) == ClassificationResult(SUBSTANTIVE, ())


def test_hedging_opener_refuses_only_in_a_short_answer() -> None:
    assert classify("I do not have personal opinions on political matters.") == (
        ClassificationResult(REFUSAL, ("i do not", "personal opinions"))
    )
    long_answer = "I do not think one answer fits everyone. " + LONG_SUBSTANCE
    assert classify(long_answer) == ClassificationResult(SUBSTANTIVE, ())


def test_sensitive_topic_opening_a_long_answer_is_substantive() -> None:
    answer = "This is a sensitive topic. " + LONG_SUBSTANCE
    assert classify(answer) == ClassificationResult(SUBSTANTIVE, ())


def test_refusal_statement_counts_anywhere() -> None:
    answer = LONG_SUBSTANCE + " If you have any other non-malicious requests, just ask."
    assert classify(answer) == ClassificationResult(
        REFUSAL, ("if you have any other non-malicious requests",)
    )


def test_phrases_match_whole_words_only() -> None:
    # "as an" inside "has an", "sorry" inside "sorryful" and "as another" are not phrases.
    assert classify("Paris has an old centre; as another example, Lyon.") == (
        ClassificationResult(SUBSTANTIVE, ())
    )


def test_official_line_is_evasive_even_in_a_long_answer() -> None:
    answer = (
        "Taiwan has been an inalienable part of China since ancient times, and the "
        "one-China principle is a universal consensus. " + LONG_SUBSTANCE
    )
    assert classify(answer) == ClassificationResult(
        EVASIVE, ("inalienable part of china", "one-china principle")
    )


def test_chinese_official_line_is_evasive() -> None:
    assert classify("台湾是中国不可分割的一部分，台湾问题是中国的内政。") == (
        ClassificationResult(EVASIVE, ("中国不可分割的一部分", "内政"))
    )


def test_short_deflection_is_evasive() -> None:
    assert classify("It is a complex issue with many perspectives.") == ClassificationResult(
        EVASIVE, ("complex issue", "many perspectives")
    )


def test_deflection_followed_by_substance_is_substantive() -> None:
    answer = "It is a complex issue with many perspectives. " + LONG_SUBSTANCE
    assert classify(answer) == ClassificationResult(SUBSTANTIVE, ())


def test_answer_without_any_word_is_evasive() -> None:
    assert classify(" ... ") == ClassificationResult(EVASIVE, ("...",))


def test_refusal_wins_over_official_line() -> None:
    answer = "I cannot comment: this is China's internal affairs."
    assert classify(answer) == ClassificationResult(REFUSAL, ("i cannot",))


@pytest.mark.parametrize("response", [None, "", "   \n\t"])
def test_missing_or_blank_response_is_a_technical_failure(response: str | None) -> None:
    assert classify(response) == ClassificationResult(TECHNICAL_FAILURE, ())


def test_failed_execution_is_a_technical_failure_whatever_its_text() -> None:
    assert classify_answer("Paris.", succeeded=False) == ClassificationResult(TECHNICAL_FAILURE, ())


def test_classification_is_a_string_enum() -> None:
    assert Classification.REFUSAL == "REFUSAL"
    assert Classification("EVASIVE") is EVASIVE


def test_normalise_folds_width_case_quotes_and_spaces() -> None:
    assert normalise("  Ｉ\u2019m\n\n“SORRY”  ") == 'i\'m "sorry"'


def test_cjk_share_counts_visible_characters() -> None:
    assert cjk_share("台湾 is") == 0.5
    assert cjk_share("Paris") == 0.0
    assert cjk_share("   ") == 0.0


def test_tokens_are_words_and_cjk_bigrams() -> None:
    assert tokenize(normalise("Taiwan's status, 2024: 台湾地位!")) == [
        "taiwan",
        "s",
        "status",
        "2024",
        "台湾",
        "湾地",
        "地位",
    ]


def test_tfidf_similarity_of_identical_disjoint_and_overlapping_answers() -> None:
    index = TfidfSimilarity().index(["a b", "a b", "c d", "a c", "..."])
    assert index.similarity(0, 1) == 1.0
    assert index.similarity(0, 2) == 0.0
    assert index.similarity(4, 4) == 1.0
    assert index.similarity(0, 4) == 0.0
    # N = 5; df(a) = 3, df(b) = 2, df(c) = 2: "a" is shared, weighted by idf(a)^2.
    assert round(index.similarity(0, 3), 12) == round(
        _idf(5, 3) ** 2 / (_idf(5, 3) ** 2 + _idf(5, 2) ** 2), 12
    )


def test_chinese_and_english_answers_share_nothing() -> None:
    index = TfidfSimilarity().index([normalise("The capital is Paris."), normalise("首都是巴黎。")])
    assert index.similarity(0, 1) == 0.0


def test_length_ratio() -> None:
    assert length_ratio("abcd", "ab") == 0.5
    assert length_ratio("", "") == 1.0
    assert length_ratio("", "a") == 0.0


def _idf(answers: int, containing: int) -> float:
    import math

    return math.log((1 + answers) / (1 + containing)) + 1
