"""«Спасибо», «благодарю, всё понятно»: the caller thanks the line — no request, and no miss.

Callers thank an information page as they would a person. Heard as a request it was «Извините, я
не понял» — and three thanks reached the operator. It is answered instead (``Thanks`` in
``engine.interpret``), and only where nothing else was understood: «спасибо, а ещё у меня не
приходит смс» is a topic first.
"""

from __future__ import annotations

from ivr.understanding.lemmas import only_with

THANKS = frozenset(
    {"спасибо", "спасибочки", "благодарить", "благодарность", "благодарный", "спс", "пасиб", "пасибо"}
)
# What goes with thanks and asks for nothing: «большое», «за помощь», «всё понятно», «девушка».
_WITH_THANKS = frozenset(
    {
        "большой", "огромный", "очень", "за", "помощь", "информация", "консультация", "ответ",
        "подсказка", "понятно", "ясно", "хорошо", "ладно", "отлично", "понять", "всё", "все", "весь",
        "вы", "ты", "вам", "девушка", "молодой", "человек", "ок", "окей", "около", "ну", "вот", "так",
        "а", "и", "да", "пожалуйста", "уже", "тогда", "сердечно", "искренне", "заранее",
    }
)  # fmt: skip


def only_thanks(text: str) -> bool:
    """The utterance is thanks and nothing else: one word of ``THANKS``, the rest only words that
    go with thanks. («ок» reads as «около»: both are listed.)"""
    return only_with(text, THANKS, _WITH_THANKS)
