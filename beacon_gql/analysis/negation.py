"""Negation in an answer's opening, in the languages the tool meets: how many of its
clauses each sentence negates.

Sentence encoders are known to place a sentence and its negation close together ("Taiwan is
a sovereign country" / "Taiwan is not a sovereign country" score above 0.9), so
`similarity` compares the negations of two answers itself. It counts negated clauses, not
negators, since many languages negate with two words (French "ne ... pas", Russian
"никогда не", Spanish "no ... nada", Chinese "没有 ... 任何"): a clause with one or three
negators is one negated clause, in the original and in its translation alike.

The lexicon holds sentential negators only: particles, negative pronouns and adverbs,
"without". Negation inside a word (English "unarmed", Chinese 无辜 "innocent") is left out on
both sides, as one language says with a prefix what another says with a word; Chinese and
Japanese words that merely contain a negating character (非洲 Africa, 未来 future, 不同
different, 必ず surely) are matched first and skipped.
"""

from __future__ import annotations

import re

# Words written with spaces, matched whole (set look-ups, not a regex alternation: a search
# for ~100 alternatives at every character costs 0.1 ms per answer).
_SPACED_BY_LANGUAGE = {
    # "n't" is a piece of its own (below). "Impossible" is one word in European languages
    # and a negation (不可能) in Chinese and Japanese; "unable to" is what other languages
    # say with "cannot".
    "en": "not no never none nobody nothing nowhere neither nor cannot without unable "
    "impossible incapable",
    "de": "nicht kein keine keinen keinem keiner keines nie niemals niemand nichts nirgends "
    "ohne weder unmöglich",
    # "ne" alone is not enough: "ne ... que" means "only" (see _FRENCH_NE).
    "fr": "pas jamais aucun aucune rien sans ni non nullement",
    "es, pt, it": "nunca jamás nadie nada ningún ninguno ninguna sin tampoco imposible "
    "incapaz não nenhum nenhuma ninguém sem nem impossível mai nessuno nessuna niente nulla "
    "senza impossibile",
    "ru, uk": "не нет ни никогда никто ничто ничего нигде никакой никакая никакое никакие "
    "нельзя без невозможно ні немає",
    "ko": "안",  # a negation written as a word of its own; see _KOREAN_STEMS
    "ar": "لا لولا لم لن ليس ليست ليسوا ليسا لست لسنا بدون دون",
}
_SPACED = frozenset(" ".join(_SPACED_BY_LANGUAGE.values()).split())
_KOREAN_STEMS = ("않", "못", "없", "아니")
"""Korean negates with verb stems written together with their endings (않았다, 없다)."""
_ARABIC_CONJUNCTIONS = ("و", "ف")
"""Written joined to the next word: ولم is "and did not"."""
_SKIP_PAIRS = frozenset(
    {
        ("not", "only"),
        ("nicht", "nur"),
        ("non", "seulement"),
        ("no", "solo"),
        ("no", "sólo"),
        ("não", "só"),
        ("non", "solo"),
        ("не", "только"),
        ("no", "doubt"),
        ("without", "doubt"),
        ("ohne", "zweifel"),
        ("sans", "doute"),
        ("sin", "duda"),
        ("sem", "dúvida"),
        ("senza", "dubbio"),
        ("без", "сомнения"),
    }
)
"""A negator and the word after it that hold no negation of the claim ("not only ... but
also", "no doubt")."""
_UNTIL = frozenset({"until", "till", "hasta", "até"})
"""A clause negated with "until" ("did not end until 1976") states when something happened,
as Chinese (直到 ... 才) and German (erst) do without a negation: it does not count."""
# French "ne"/"n'" negates with "plus" (no longer) or "personne" (nobody), words that also
# mean "more" and "person"; alone, or with "que", it does not count.
_FRENCH_NE = frozenset({"ne", "n"})
_FRENCH_PARTNERS = frozenset({"plus", "personne"})

# Chinese and Japanese, written without spaces: words that contain a negating character
# without negating (or negate inside the word, as "un-" does), tried first so that their
# character is consumed.
_CJK_SKIP = (
    "非洲|非常|未来|未來|未知|不同|不仅|不僅|不但|不断|不斷|不少|不过|不過|不久|不管|不论|"
    "不論|无论|無論|不得不|无数|無數|无疑|無疑|毫不犹豫|不错|不錯|对不起|對不起|"
    "不确定|不確定|不稳定|不穩定|不公平|不公正|不平等|不合法|不明确|不可分割|不满|不滿|"
    "不安|不幸|不利|不良|不足|不当|不當|不正常|"
    "少ない|少なく|危ない|間もなく|必ず|まず|はず|ずつ|ずっと|わずか"
)
_CJK_NEGATOR = (
    # Chinese: 不, 没 (没有), 未 (从未, 尚未), and 无 only where it stands for "no/none"
    "不|没|沒|未|无法|無法|无人|無人|毫无|毫無|并无|並無|从无|從無|并非|並非|别无|"
    "莫|勿|"
    # Japanese: ない and its forms, ません, verb + ず, 無い
    "ない|なかっ|なく|なけれ|ません|ぬ(?=[。、])|せず|(?<=[らかがさたなばわ])ず(?![かつっ])|無い"
)
_CJK = re.compile(rf"(?P<skip>{_CJK_SKIP})|(?P<neg>{_CJK_NEGATOR})")
_CJK_HINT = re.compile("[不没沒未无無非莫勿ないなくけれまずせぬ]")
"""Characters every Chinese or Japanese negator holds: the alternation runs only on runs
that hold one."""

# Pieces: numbers (with their separators, so "21.000" ends no sentence), words, the "'t" of
# English "can't", sentence ends, clause ends.
_PIECE = re.compile(r"\d+(?:[.,]\d+)*|\w+|['’]t(?!\w)|[.!?](?!\d)|[。！？؟\n]|[,;:，；：、،؛]")
_ENDS = re.compile(r"[.!?](?!\d)|\n")
"""Sentence ends as `_PIECE` finds them, in a text in ASCII."""
_SENTENCE_END = frozenset(".!?。！？؟\n")
_CLAUSE_END = frozenset(",;:，；：、،؛")
# What each piece the loop meets does, in one look-up.
_CLAUSE, _SENTENCE, _NEGATOR, _NE, _PARTNER, _UNTIL_WORD = range(6)
_KIND = {
    **dict.fromkeys(_CLAUSE_END, _CLAUSE),
    **dict.fromkeys(_SENTENCE_END, _SENTENCE),
    **dict.fromkeys(_SPACED | {"'t", "’t"}, _NEGATOR),
    **dict.fromkeys(_FRENCH_NE, _NE),
    **dict.fromkeys(_FRENCH_PARTNERS, _PARTNER),
    **dict.fromkeys(_UNTIL, _UNTIL_WORD),
}


def negated_clauses(text: str, words: frozenset[str], complete: bool) -> tuple[int, ...]:
    """How many clauses each sentence of `text` negates, in order. `words` are its words,
    lower-case. The last sentence counts only when `complete` (a sentence cut short may
    lose its negation)."""
    if (
        text.isascii()
        and _SPACED.isdisjoint(words)
        and "'t" not in text
        and (_FRENCH_NE.isdisjoint(words) or _FRENCH_PARTNERS.isdisjoint(words))
    ):
        # Most answers: no negator, so no loop over the words; only the sentences counted.
        ends = _ENDS.findall(text)
        last = text.rstrip()
        return (0,) * (len(ends) + (complete and bool(last) and last[-1] not in _SENTENCE_END))
    counts: list[int] = []
    in_sentence = 0
    negators = 0  # in the current clause
    ne = partner = until = False  # French "ne", "plus"/"personne", "until" in the clause
    previous = ""
    open_sentence = False
    for piece in _PIECE.findall(text.lower()):
        kind = _KIND.get(piece)
        if kind is None:  # most words
            if (previous, piece) in _SKIP_PAIRS:
                negators -= 1
            elif not piece.isascii():
                negators += _non_latin(piece)
            open_sentence = True
            previous = piece
        elif kind <= _SENTENCE:  # the end of a clause or a sentence
            in_sentence += (negators > 0 and not until) or (ne and partner)
            negators, ne, partner, until, previous = 0, False, False, False, ""
            if kind == _SENTENCE:
                counts.append(in_sentence)
                in_sentence, open_sentence = 0, False
        else:
            if kind == _NEGATOR:
                negators += 1
            elif kind == _NE:
                ne = True
            elif kind == _PARTNER:
                partner = True
            else:
                until = True
            open_sentence = True
            previous = piece
    if complete and open_sentence:
        counts.append(in_sentence + ((negators > 0 and not until) or (ne and partner)))
    return tuple(counts)


def _non_latin(word: str) -> int:
    if word.startswith(_KOREAN_STEMS):
        return 1
    if word.startswith(_ARABIC_CONJUNCTIONS) and word[1:] in _SPACED:
        return 1
    if _CJK_HINT.search(word) is None:
        return 0
    return sum(1 for match in _CJK.finditer(word) if match.group("neg"))
