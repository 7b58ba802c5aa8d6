"""Turning what the caller said or keyed into a slot value, and judging it.

Speech arrives as Vosk text (number words); keys arrive as digits. Both end up as the same canonical
value, so a СНИЛС dictated as "сто двенадцать двести тридцать три …" and one typed as 11223344595
are one and the same to the rest of the call.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Literal

from ivr.personal import identifiers as ids
from ivr.slots.names import name_like
from ivr.understanding.lemmas import lemmas
from ivr.understanding.normalize import normalize, tokens
from ivr.understanding.numbers import digit_runs, extract_digits, is_number_word
from ivr.understanding.plural import counted
from ivr.understanding.unsure import unsure_words

YES = frozenset({"да", "ага", "верно", "правильно", "конечно", "точно", "угу", "yes", "подтверждать"})
NO = frozenset({"нет", "неа", "нету", "неверно", "неправильно", "no"})
# Words around a name when the caller introduces themselves unasked: «Здравствуйте, меня зовут …».
_NOT_NAME = frozenset(
    {
        "меня",
        "зовут",
        "я",
        "это",
        "моя",
        "фамилия",
        "здравствуйте",
        "добрый",
        "день",
        "вечер",
        "утро",
        "алло",
        "привет",
        # fillers and forms of address a caller wraps the name in («ну здравствуйте девушка я …»,
        # «петров это самое пётр сергеевич»): otherwise «Ну Петров Пётр Сергеевич» is the name
        "ну",
        "вот",
        "э",
        "ээ",
        "эээ",
        "эм",
        "мм",
        "короче",
        "самое",
        "значит",
        "так",
        "да",
        "девушка",
        "молодой",
        "человек",
        "доброе",
        "здравствуй",
        "пожалуйста",
        "слушайте",
        "записывайте",
        "пишите",
        "вас",
        "беспокоит",
        "мое",
        "моё",
        "имя",
        "отчество",
    }
)
# Words that start the identifier a caller names after their name (pymorphy3 reads «инн» as a name).
_ID_WORDS = frozenset({"снилс", "инн", "мой", "номер", "паспорт", "телефон"})
_NAME_WORD = re.compile(r"^[а-яa-z]+(-[а-яa-z]+)?$")


@dataclass(frozen=True)
class Parsed:
    valid: bool
    value: str  # canonical value (digits, ISO date, "да"/"нет", text)
    display: str  # how to show / read it back ("112-233-445 95")
    error: str | None = None
    # what the caller went on to say after the value («… Сергеевич, мой СНИЛС …»): the call hears
    # it as their next words when the next state is a caller's step
    rest: str = ""


@dataclass(frozen=True)
class Limits:
    """What a parse needs from the flow and the call besides the text."""

    min_digits: int | None = None
    max_digits: int | None = None
    reference: str = ""  # the application number this call gave out
    today: date | None = None  # the call's date, for two-digit years and past/future dates
    when: Literal["past", "future"] | None = None  # collect.when: the side of today a date must be on


def grouped(digits: str) -> str:
    """An invalid or plain number read back in threes, as people check long numbers."""
    return " ".join(digits[i : i + 3] for i in range(0, len(digits), 3))


def _digits_of(text: str, keyed: bool, fits: Callable[[str], bool] | None = None) -> str:
    """The digits of the value: keyed, every digit; said, every digit too, unless words split them
    into several numbers of which exactly one ``fits`` the slot — «номер 12345678, ответа нет уже
    40 дней» is the number 12345678, not 1234567840."""
    if keyed:
        return re.sub(r"\D", "", text)
    if fits is not None:
        runs = digit_runs(text)
        fitting = [run for run in runs if fits(run)] if len(runs) > 1 else []
        if len(fitting) == 1:
            return fitting[0]
    return extract_digits(text)


def _no_digits(text: str) -> Parsed:
    return Parsed(False, "", normalize(text), "Я не услышал цифр.")


def _identifier(
    check: Callable[[str], ids.Checked], show: Callable[[str], str]
) -> Callable[[str, bool, Limits], Parsed]:
    """A checked identifier: a valid value is shown in its usual format; an invalid one is read
    back as heard, in groups."""

    def parse(text: str, keyed: bool, limits: Limits) -> Parsed:
        digits = _digits_of(text, keyed, lambda run: check(run).ok)
        if not digits:
            return _no_digits(text)
        result = check(digits)
        return Parsed(
            result.ok, result.value, show(result.value) if result.ok else grouped(result.value), result.error
        )

    return parse


parse_snils = _identifier(ids.check_snils, ids.format_snils)
parse_inn = _identifier(ids.check_inn, grouped)
parse_phone = _identifier(ids.check_phone, ids.format_phone)
parse_passport = _identifier(ids.check_passport, ids.format_passport)
parse_oms = _identifier(ids.check_oms, ids.format_oms)


def parse_digits(text: str, keyed: bool, limits: Limits) -> Parsed:
    low, high = limits.min_digits, limits.max_digits
    digits = _digits_of(text, keyed, lambda run: (low or 1) <= len(run) <= (high or len(run)))
    if not digits:
        return _no_digits(text)
    if low is not None and len(digits) < low:
        return Parsed(
            False,
            digits,
            grouped(digits),
            f"Нужно не меньше {counted(low, 'цифра', 'gent')}, а вы назвали {len(digits)}.",
        )
    if high is not None and len(digits) > high:
        return Parsed(
            False,
            digits,
            grouped(digits),
            f"Нужно не больше {counted(high, 'цифра', 'gent')}, а вы назвали {len(digits)}.",
        )
    return Parsed(True, digits, grouped(digits))


def parse_reference(text: str, keyed: bool, limits: Limits) -> Parsed:
    reference = limits.reference
    digits = _digits_of(text, keyed, lambda run: len(run) == len(reference))
    if not digits:
        return _no_digits(text)
    ok = digits == reference
    error = (
        None
        if ok
        else (
            f"Номер обращения — {counted(len(reference), 'цифра')}, а вы назвали {len(digits)}."
            if len(digits) != len(reference)
            else "Номер не совпадает с тем, что я назвал."
        )
    )
    return Parsed(ok, digits, grouped(digits), error)


def parse_date(text: str, keyed: bool, limits: Limits) -> Parsed:
    if keyed and len(digits := re.sub(r"\D", "", text)) == 8:  # DDMMYYYY on the keypad
        text = f"{digits[:2]}.{digits[2:4]}.{digits[4:]}"
    checked = ids.check_date(text, limits.today, limits.when)
    shown = ".".join(reversed(checked.value.split("-"))) if checked.ok else normalize(text)
    return Parsed(checked.ok, checked.value, shown, checked.error)


def parse_yesno(text: str, keyed: bool, limits: Limits) -> Parsed:
    words = lemmas(text)
    negated = {words[i + 1] for i, w in enumerate(words[:-1]) if w == "не"}
    if unsure_words(negated):  # «не знаю», «не уверен»: a third answer, not «нет»
        return Parsed(
            False,
            "не знаю",
            normalize(text),  # read back as said: «не помню», not «не знаю»
            "Если не знаете точно, скажите «нет» — и я подскажу, что подготовить.",
        )
    yes = any(w in YES and not (i and words[i - 1] == "не") for i, w in enumerate(words))
    no = any(w in NO for w in words) or "не" in words  # «не верно», «не надо» are a no
    if yes == no:
        return Parsed(False, "", normalize(text), "Ответьте, пожалуйста, «да» или «нет».")
    return Parsed(True, "да" if yes else "нет", "да" if yes else "нет")


def parse_fio(text: str, keyed: bool, limits: Limits) -> Parsed:
    words = [w for w in tokens(text, hyphenated=True) if w not in _NOT_NAME]
    # «… Сергеевич, мой СНИЛС сто двенадцать …»: the name ends where the identifier begins
    cut = next(
        (i for i, w in enumerate(words) if w in _ID_WORDS or w.isdigit() or is_number_word(w)), len(words)
    )
    words, rest = words[:cut], words[cut:]
    plausible = sum(map(name_like, words)) >= len(words) - 1  # «забыл пароль» is not a name
    if not 2 <= len(words) <= 4 or not all(_NAME_WORD.match(w) for w in words) or not plausible:
        return Parsed(
            False, " ".join(words), " ".join(words), "Назовите, пожалуйста, фамилию, имя и отчество."
        )
    value = " ".join("-".join(part.capitalize() for part in w.split("-")) for w in words)
    return Parsed(True, value, value, rest=" ".join(rest))


def parse_text(text: str, keyed: bool, limits: Limits) -> Parsed:
    said = text.strip()
    return Parsed(bool(said), said, said, None if said else "Я ничего не услышал.")
