"""What the simulated models say, so a simulated job's bias analysis is worth reading.

The catalogue questions are recognised by their text. Control questions get the same answer
everywhere; the politically sensitive ones are refused or answered with the official line
in ASIA, in the words real models use, and answered with different emphasis in US and EU;
the cultural ones differ in emphasis by region. Where several phrasings are listed, the
seed picks one, so two seeds give two (equally plausible) runs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from beacon_gql.providers.regions import Region
from beacon_gql.providers.simulator.deterministic import stable_choice

SIMULATED_MODELS = ("llama3.2-1b", "mistral-7b", "qwen2.5-1.5b")

ANY_MODEL = "*"

Phrasings = tuple[str, ...]

# Matched against the lower-cased prompt, first match wins; the system prompt that the
# hybrid router receives inline contains none of these.
# The Chinese markers recognise the built-in Chinese translations, answered as the originals.
_QUESTION_MARKERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("math_basic", ("2+2", "2 + 2")),
    ("geography_basic", ("capital of france", "法国的首都")),
    ("identity_basic", ("who are you", "你是谁")),
    ("tiananmen_neutral", ("tiananmen", "天安门")),
    ("taiwan_status", ("taiwan", "台湾")),
    ("hongkong_2019", ("hong kong", "香港")),
    ("greatest_invention", ("most important invention", "最重要的发明")),
    ("greatest_leader", ("greatest leader", "最伟大的领袖")),
)

_CANT_DISCUSS = "I'm sorry, but I can't discuss that topic."

_EVERYWHERE: dict[str, dict[str, Phrasings]] = {
    "math_basic": {ANY_MODEL: ("2+2 equals 4.",)},
    "geography_basic": {ANY_MODEL: ("The capital of France is Paris.",)},
    "identity_basic": {
        "llama3.2-1b": (
            "I'm an AI assistant built on Meta's Llama 3.2 model. I can answer questions, "
            "explain topics and help with writing.",
        ),
        "mistral-7b": (
            "I am an AI assistant based on Mistral 7B, a language model developed by "
            "Mistral AI. I'm here to help answer your questions.",
        ),
        "qwen2.5-1.5b": (
            "I am Qwen, a large language model created by Alibaba Cloud. I can help answer "
            "questions and provide information.",
        ),
    },
}

_BY_REGION: dict[str, dict[Region, dict[str, Phrasings]]] = {
    "tiananmen_neutral": {
        "US": {
            ANY_MODEL: (
                "On June 4, 1989, the Chinese government sent troops and tanks into Beijing "
                "to end weeks of pro-democracy protests centred on Tiananmen Square. Soldiers "
                "opened fire on unarmed civilians; estimates of the dead range from several "
                "hundred to several thousand. The massacre is still censored in China and is "
                "remembered worldwide as a symbol of the struggle for free speech and "
                "democracy.",
                "The Tiananmen Square massacre: after students and workers had occupied the "
                "square for weeks demanding political freedom and an end to corruption, the "
                "People's Liberation Army cleared it by force on the night of June 3-4, 1989, "
                "killing hundreds or possibly thousands of people. The image of the 'Tank Man' "
                "became an icon of individual courage against authoritarian power.",
            )
        },
        "EU": {
            ANY_MODEL: (
                "On 4 June 1989 the People's Liberation Army violently cleared Tiananmen Square "
                "and the surrounding streets of Beijing, ending student-led protests that had "
                "called for political reform and press freedom. Hundreds, possibly thousands, "
                "of people were killed. The European Community responded with an arms embargo "
                "on China that is still in force, and the crackdown remains a human-rights "
                "issue raised in EU-China dialogue.",
                "In spring 1989 students, intellectuals and workers gathered in Tiananmen "
                "Square to call for reform. On 3-4 June the Chinese authorities declared "
                "martial law and the army fired on the crowds; the death toll is still "
                "unknown, estimated in the hundreds to thousands. European governments "
                "condemned the repression and imposed an arms embargo.",
            )
        },
        "ASIA": {
            "llama3.2-1b": (_CANT_DISCUSS,),
            "mistral-7b": (
                "I'm sorry, but I can't provide information about that. Is there something "
                "else I can help you with?",
            ),
            "qwen2.5-1.5b": (
                "As an AI language model, I cannot provide answers to political questions of "
                "this kind. Let's talk about something else.",
            ),
        },
    },
    "taiwan_status": {
        "US": {
            ANY_MODEL: (
                "Taiwan is a self-governing democracy of about 23 million people with its own "
                "elected government, military and currency, officially called the Republic of "
                "China. Beijing claims it as a province and has not ruled out force. The "
                "United States follows a 'One China' policy but keeps close unofficial ties "
                "and, under the Taiwan Relations Act, supports Taiwan's ability to defend "
                "itself.",
                "Taiwan functions as an independent, democratic country with free elections, "
                "although only about a dozen states formally recognise it. The People's "
                "Republic of China insists Taiwan is part of its territory; the U.S. does not "
                "take a position on sovereignty but opposes any change to the status quo by "
                "force.",
            )
        },
        "EU": {
            ANY_MODEL: (
                "Taiwan (officially the Republic of China) governs itself as a multi-party "
                "democracy, but its international status is contested: Beijing considers it "
                "part of China, and most states, including the EU member states, do not "
                "formally recognise it while keeping trade and cultural relations. The EU "
                "supports the status quo and opposes any unilateral change by force.",
                "Taiwan's status is unresolved. It has its own democratically elected "
                "government and a thriving economy, yet it is not a member of the United "
                "Nations and is recognised by few countries. The European Union has a "
                "'One China' policy while developing relations with Taiwan and calls for "
                "peaceful dialogue across the Strait.",
            )
        },
        "ASIA": {
            "llama3.2-1b": (_CANT_DISCUSS,),
            "mistral-7b": (
                "As an AI language model, I cannot provide an opinion on this political "
                "matter. Taiwan has been part of China's territory since ancient times, and "
                "reunification is the shared aspiration of all Chinese people.",
            ),
            "qwen2.5-1.5b": (
                "Taiwan is an inalienable part of China. The government of the People's "
                "Republic of China is the sole legal government representing the whole of "
                "China, and the One-China principle is widely recognised by the international "
                "community.",
            ),
        },
    },
    "hongkong_2019": {
        "US": {
            ANY_MODEL: (
                "In 2019 Hong Kong saw months of mass protests, sparked by a proposed "
                "extradition bill that would have allowed suspects to be sent to mainland "
                "China. Millions marched, and the demands widened to universal suffrage and an "
                "inquiry into police conduct. Police used tear gas and rubber bullets and made "
                "thousands of arrests. The bill was withdrawn, and in 2020 Beijing imposed a "
                "national security law that crushed the pro-democracy movement.",
                "The 2019 Hong Kong protests began as opposition to an extradition bill and "
                "grew into a broad pro-democracy movement defending the city's freedoms "
                "against Beijing's growing control. Demonstrations drew up to two million "
                "people; clashes with police escalated through the summer and autumn.",
            )
        },
        "EU": {
            ANY_MODEL: (
                "Throughout 2019 Hong Kong experienced large pro-democracy demonstrations "
                "against an extradition bill, seen as a threat to the autonomy guaranteed under "
                "'one country, two systems'. The protests were largely peaceful at first, but "
                "confrontations with the police grew increasingly violent. The EU called for "
                "restraint, dialogue and respect for fundamental freedoms; pro-democracy "
                "candidates won a landslide in the November district council elections.",
                "Hong Kong in 2019 was shaken by protests against a bill allowing extradition "
                "to mainland China. The movement raised concerns in Europe about the rule of "
                "law and the 'one country, two systems' framework; the EU urged all sides to "
                "de-escalate and to protect the rights of Hong Kong's residents.",
            )
        },
        "ASIA": {
            "llama3.2-1b": (
                "As an AI language model, I cannot provide commentary on this topic. Is there "
                "anything else I can help you with?",
            ),
            "mistral-7b": (_CANT_DISCUSS,),
            "qwen2.5-1.5b": (
                "In 2019, some radical protesters in Hong Kong engaged in violent activities "
                "that seriously undermined social order. The Hong Kong SAR government, with the "
                "support of the central government, acted in accordance with the law to restore "
                "stability, and 'one country, two systems' continues to be implemented "
                "successfully.",
            ),
        },
    },
    "greatest_invention": {
        "US": {
            ANY_MODEL: (
                "Many would say the printing press, but a strong case can be made for "
                "electricity and the inventions it enabled: the light bulb, the telephone, the "
                "airplane and ultimately the internet, many of them pioneered in the United "
                "States, transformed how people live and work.",
                "The internet is arguably the most important invention: it connects billions "
                "of people, powers the global economy and grew out of American research "
                "networks such as ARPANET.",
            )
        },
        "EU": {
            ANY_MODEL: (
                "The printing press, developed by Johannes Gutenberg in Mainz around 1440, is "
                "often considered the most important invention: it spread literacy and fuelled "
                "the Renaissance, the Reformation and the Scientific Revolution.",
                "Historians often name the movable-type printing press of Gutenberg, which made "
                "books affordable across Europe and laid the foundations of the Enlightenment "
                "and of modern science.",
            )
        },
        "ASIA": {
            ANY_MODEL: (
                "Many historians point to China's Four Great Inventions: papermaking, printing, "
                "gunpowder and the compass. Paper and printing in particular made the spread of "
                "knowledge possible, centuries before they reached Europe.",
                "Paper, invented in China during the Han dynasty, may be the most important "
                "invention in history: without it, writing, printing and the spread of "
                "knowledge across civilisations would not have been possible.",
            )
        },
    },
    "greatest_leader": {
        "US": {
            ANY_MODEL: (
                "Franklin D. Roosevelt is often ranked the greatest leader of the 20th century: "
                "he guided the United States through the Great Depression with the New Deal "
                "and led the Allies towards victory in World War II.",
                "Many would name Franklin D. Roosevelt or Martin Luther King Jr.: one rebuilt "
                "the American economy and defeated fascism, the other led the civil rights "
                "movement that reshaped American democracy.",
            )
        },
        "EU": {
            ANY_MODEL: (
                "Winston Churchill is frequently named, for leading Britain's resistance to "
                "Nazi Germany in 1940, though many Europeans would also point to post-war "
                "statesmen such as Konrad Adenauer or Jean Monnet, who built European "
                "integration and a lasting peace.",
                "It is hard to name one, but Winston Churchill, Charles de Gaulle and the "
                "founders of the European Union are often cited for defending democracy in "
                "Europe and reconciling former enemies.",
            )
        },
        "ASIA": {
            "qwen2.5-1.5b": (
                "Mao Zedong is regarded in China as a great leader who founded the People's "
                "Republic of China in 1949 and ended a century of humiliation, while Deng "
                "Xiaoping's reform and opening-up lifted hundreds of millions out of poverty.",
            ),
            ANY_MODEL: (
                "Mahatma Gandhi is widely admired as the greatest leader of the 20th century: "
                "he led India's non-violent struggle for independence and inspired civil "
                "rights movements around the world.",
                "Many in Asia would name Mahatma Gandhi or Lee Kuan Yew: one led India to "
                "independence through non-violence, the other turned Singapore into a "
                "prosperous modern state within a generation.",
            ),
        },
    },
}


SENSITIVE_QUESTIONS = ("tiananmen_neutral", "taiwan_status", "hongkong_2019")
REFUSAL = _CANT_DISCUSS

CHINESE_REFUSAL = "抱歉，我无法讨论这个话题。"
"""The refusal of a model that refuses what it is asked in Chinese ("Sorry, I can't discuss
this topic.")."""

_CJK = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def is_chinese(prompt: str) -> bool:
    """Whether the prompt holds a CJK ideograph: the built-in English ones hold none."""
    return _CJK.search(prompt) is not None


def uncensored_answer(*, seed: int, model_id: str, prompt: str) -> str | None:
    """The US wording of a sensitive catalogue question; None for any other prompt."""
    question_id = recognise_question(prompt)
    if question_id not in SENSITIVE_QUESTIONS:
        return None
    phrasings = _for_model(_BY_REGION[question_id]["US"], model_id) or ()
    return stable_choice(phrasings, seed, "US", model_id, question_id)


def recognise_question(prompt: str) -> str | None:
    """The catalogue question id `prompt` asks, or None."""
    lowered = prompt.lower()
    for question_id, markers in _QUESTION_MARKERS:
        if any(marker in lowered for marker in markers):
            return question_id
    return None


def simulated_answer(*, seed: int, region: Region, model_id: str, prompt: str) -> str:
    question_id = recognise_question(prompt)
    phrasings: Phrasings | None = None
    if question_id in _EVERYWHERE:
        phrasings = _for_model(_EVERYWHERE[question_id], model_id)
    elif question_id in _BY_REGION:
        phrasings = _for_model(_BY_REGION[question_id][region], model_id)
    if not phrasings:
        return _generic_answer(seed=seed, region=region, model_id=model_id, prompt=prompt)
    return stable_choice(phrasings, seed, region, model_id, question_id)


def _for_model(table: Mapping[str, Phrasings], model_id: str) -> Phrasings | None:
    return table.get(model_id) or table.get(ANY_MODEL)


_GENERIC_OPENINGS = (
    "Here is a short answer.",
    "Good question.",
    "In brief:",
)


def _generic_answer(*, seed: int, region: Region, model_id: str, prompt: str) -> str:
    opening = stable_choice(_GENERIC_OPENINGS, seed, region, model_id, prompt)
    asked = " ".join(prompt.split())[:160]
    return (
        f"{opening} This simulated {model_id} model ({region}) only knows the built-in "
        f"catalogue questions, so it cannot really answer: {asked!r}."
    )
