"""«Не знаю», «не уверен», «не помню»: the caller cannot say — a third answer, not a topic.

One home for what both a yes/no question (where it is not «нет») and a menu (where it is not a
choice) must recognise. In a menu the meaning model otherwise finds a page for it: with examples
in the flow, «ну не знаю» sat nearest «не знаю какой пароль ставил» and went to the password page.
"""

from __future__ import annotations

from ivr.understanding.matcher import phrase_key

# Lemmas that, negated, say the caller does not know (not what the caller wants).
# «не уверена» is read as the participle of «уверить», «не уверен» as «уверенный».
UNSURE = frozenset({"знать", "уверенный", "уверен", "уверить", "помнить", "понимать", "сказать", "разобраться"})


def unsure_words(negated: set[str] | frozenset[str]) -> bool:
    """Whether any of the negated lemmas says «I cannot say»."""
    return bool(negated & UNSURE)


def only_unsure(text: str) -> bool:
    """The utterance says nothing but «I don't know» («ну не знаю», «даже не знаю что сказать»,
    «я не помню»): every content word is one of ``UNSURE`` and one of them is negated. «не помню
    пароль» names a topic and is not this."""
    key = phrase_key(text)
    return bool(key) and all(word in UNSURE for word, _ in key) and any(negated for _, negated in key)
