"""What callers say about the line itself — «алло», «подождите», «вы меня слышите» — is no request.

A menu that decides by meaning finds a nearest choice for any sentence, and for talk about the call
that choice is whatever sits near «line» and «hearing»: «слышно меня» and «сейчас подождите» went
to the «повторите» command. The intent-detection answer is an out-of-scope class: examples of what
is *not* a request, compared like a choice's. When no phrase
word of any choice was heard and these texts are at least as near to the caller's words as the
nearest choice (mean of the ``top_k`` nearest, as for choices), the router hears no request and
the menu asks again, as for silence or mumbling — or, very near them (``semantic.SURE_LINE_TALK``),
answers «Слушаю вас» without spending a try.

The texts are the language's, not a flow's: every flow's menus share them, and a flow author does
not write them; a text a flow gives one of a menu's choices is that choice's, not compared here.
«Плохо слышно», «связь плохая» are not here: they ask for the prompt again. The texts were written
apart from the evaluation sets, in the kinds callers use: checking the line, asking to wait,
asides, greetings and acknowledgements alone, asking who speaks. ``ivr chat --trace`` shows how
near a sentence is to them.
Measured on every evaluation phrasing where no phrase word was heard (Госуслуги tune / report /
two fresh sets, polyclinic; 1,600 in all): the three that were routed although they ask nothing
now get «не понял», and the nearest routed request stays 0.011 behind its choice.
"""

from __future__ import annotations

from ivr.understanding.lemmas import only_with

CHATTER: tuple[str, ...] = (
    # checking the line
    "алло",
    "алло алло",
    "вы меня слышите",
    "слышите меня",
    "вы тут",
    "вы ещё тут",
    "я слушаю",
    "есть кто живой на линии",
    # asking to wait
    "подождите",
    "подождите минутку",
    "секунду",
    "одну секундочку",
    "минуточку",
    "погодите",
    "сейчас сейчас",
    "щас",
    "сейчас найду",
    "сейчас достану паспорт",
    "подождите я записываю",
    "дайте мне минуту",
    # asides and apologies
    "извините я отвлеклась",
    "простите меня отвлекли",
    "я на улице",
    "я за рулём",
    "извините у меня ребёнок плачет",
    "тише пожалуйста я разговариваю",
    # who is speaking
    "кто это",
    "кто со мной говорит",
    "это робот",
    "я с роботом разговариваю",
    "это автоответчик",
    # greetings, acknowledgements and fillers alone
    "здравствуйте",
    "добрый день",
    "да да",
    "ага",
    "угу",
    "понятно",
    "хорошо",
    "так",
    "ну вот",
    "эээ",
    "ой",
    "я не туда попал",
    "извините ошиблась номером",
)


# Asking to wait or checking the line, by the words alone: where no meaning is asked — a value
# being collected («подождите» is no name, «алло» no СНИЛС) — and where the menu heard nothing.
_HOLD = frozenset(
    {
        "алло", "подождать", "погодить", "секунда", "секундочка", "минута", "минутка", "минуточка",
        "момент", "моментик", "слышать",
    }
)  # fmt: skip
_WITH_HOLD = frozenset(
    {
        "вы", "я", "мы", "ну", "да", "а", "так", "вот", "пожалуйста", "один", "сейчас", "тут", "ещё",
        "еще", "найти", "достать", "посмотреть", "записывать", "дать", "мне", "меня", "паспорт",
        "документ", "снилс", "инн", "полис", "карта", "телефон", "очки", "ручка",
    }
)  # fmt: skip


def holding_on(text: str) -> bool:
    """«Подождите», «секундочку, сейчас паспорт найду», «алло, вы меня слышите»: one word of waiting
    or of checking the line, every other word only what goes with it."""
    return only_with(text, _HOLD, _WITH_HOLD)
