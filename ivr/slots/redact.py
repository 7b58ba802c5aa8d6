"""Masking free text that may repeat a personal value the call collected.

``mask_text`` hides long numbers wherever they stand, but a read-back («Спасибо, Петрова Анна
Сергеевна», «Вы назвали: 14.03.1980») repeats a value in a form no pattern knows. The redactor
remembers every personal value the call collected, in every form it was given or shown, and
replaces each with its type's mask before ``mask_text`` runs.
"""

from __future__ import annotations

import re

from ivr.slots.names import inflections, mask_free_text, name_like
from ivr.slots.types import slot_type

MIN_LENGTH = 3  # shorter fragments («да», a lone initial) identify nobody and would mangle words
NAME_WORDS = range(2, 5)  # a ФИО answer of this many plain words is the name as said


def _name_words(form: str) -> list[str]:
    """The words of a ФИО answer that are a name, to be found alone later. An answer of two to four
    plain words is a name as said; in anything longer (a whole story said when the name was asked)
    only the words that read as names count — taking every word made «снилс», «паспорт» and each
    digit group a «name», masked to its first character, and what was left of a passport number
    («50 18») was too short to be masked as a number."""
    words = form.split()
    if len(words) in NAME_WORDS and all(word.isalpha() for word in words):
        return words
    return [word for word in words if word.isalpha() and name_like(word.lower())]


class Redactor:
    def __init__(self) -> None:
        self._forms: dict[str, str] = {}  # a form of a personal value → its mask
        self._pattern: re.Pattern[str] | None = None
        self._names: dict[str, str] = {}  # a word of a collected name, in any case → its initial
        self._names_pattern: re.Pattern[str] | None = None

    def remember(self, type_name: str, *forms: str) -> None:
        """A personal value of ``type_name``, in each form it was said, stored or shown."""
        kind = slot_type(type_name)
        if not kind.personal:
            return
        value = forms[0] if forms else ""
        masked = kind.mask(value)
        if not masked.strip():
            # Nothing was heard as the value (a name said where a phone number was asked): the
            # words said are no form of it. Mapped to its empty mask they were erased wherever
            # they came back, and a name word next to them was left bare («Здравствуйте,  Ивановна»).
            return
        for form in forms:
            form = form.strip()
            if type_name == "fio" and len(form.split()) > NAME_WORDS[-1]:
                # a sentence the name was said in, not a form of the name: only its name words count
                for word in _name_words(form):
                    self._remember_name(word)
                continue
            if len(form) >= MIN_LENGTH and form not in self._forms:
                self._forms[form] = masked
                for word in _name_words(form) if type_name == "fio" else ():  # a name said alone
                    self._remember_name(word)
                self._pattern = None

    def _remember_name(self, word: str) -> None:
        if len(word) >= MIN_LENGTH:
            for inflected in inflections(word):
                self._names.setdefault(inflected, f"{word[0].upper()}.")
            self._names_pattern = None

    def answer(self, type_name: str, said: str) -> str:
        """What the caller said to fill a slot of ``type_name``, masked (after ``remember``): a
        personal value's answer by its type's mask, but a name by the name words remembered — it
        is often said inside a sentence («Здравствуйте, я Петров Пётр Сергеевич, мой СНИЛС …»),
        and the name's mask on the whole of it made every word an initial."""
        kind = slot_type(type_name)
        return kind.mask(said) if kind.personal and type_name != "fio" else self(said)

    def __call__(self, text: str) -> str:
        """``text`` with known personal values, names and any long number masked."""
        return mask_free_text(self.known(text))

    def known(self, text: str) -> str:
        """``text`` with only the remembered personal values masked (prompts the flow wrote,
        whose numbers — the application number — are the simulator's own)."""
        if self._forms:
            if self._pattern is None:
                alternatives = sorted(self._forms, key=len, reverse=True)
                self._pattern = re.compile("|".join(map(re.escape, alternatives)), re.IGNORECASE)
            lowered = {k.lower(): v for k, v in self._forms.items()}
            text = self._pattern.sub(lambda m: lowered[m.group().lower()], text)
        if self._names:
            # Whole words only: matched inside «Семёнову», the remembered «Семёнов» left «С.у».
            if self._names_pattern is None:
                alternatives = sorted(self._names, key=len, reverse=True)
                self._names_pattern = re.compile(
                    r"(?<!\w)(?:" + "|".join(map(re.escape, alternatives)) + r")(?!\w)", re.IGNORECASE
                )
            names = self._names
            text = self._names_pattern.sub(lambda m: names[m.group().lower()], text)
        return text
