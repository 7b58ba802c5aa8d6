"""Turning what the caller said or keyed into a slot value, and judging it.

Speech arrives as Vosk text (number words); keys arrive as digits. Both end up as the same canonical
value, so a СНИЛС dictated as "сто двенадцать двести тридцать три …" and one typed as 11223344595
are one and the same to the rest of the call.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ivr.flow.schema import Collect
from ivr.personal import identifiers as ids
from ivr.understanding.lemmas import lemmas, parses
from ivr.understanding.normalize import normalize, tokens
from ivr.understanding.numbers import extract_digits

DIGIT_SLOTS = frozenset({"digits", "number", "snils", "inn", "phone", "passport", "reference"})
YES = frozenset({"да", "ага", "верно", "правильно", "конечно", "точно", "угу", "yes", "подтверждать"})
NO = frozenset({"нет", "неверно", "неправильно", "не", "no"})
_NAME_TAGS = frozenset({"Name", "Surn", "Patr"})
_NAME_WORD = re.compile(r"^[а-яa-z]+(-[а-яa-z]+)?$")


@dataclass(frozen=True)
class Parsed:
    valid: bool
    value: str  # canonical value (digits, ISO date, "да"/"нет", text)
    display: str  # how to show / read it back ("112-233-445 95")
    error: str | None = None


def parse_slot(collect: Collect, text: str, *, keyed: bool, reference: str = "") -> Parsed:
    kind = collect.type
    if kind in DIGIT_SLOTS:
        digits = re.sub(r"\D", "", text) if keyed else extract_digits(text)
        if not digits:
            return Parsed(False, "", normalize(text), "Я не услышал цифр.")
        return _digits(collect, digits, reference)
    if kind == "date":
        if keyed and len(digits := re.sub(r"\D", "", text)) == 8:  # DDMMYYYY on the keypad
            text = f"{digits[:2]}.{digits[2:4]}.{digits[4:]}"
        checked = ids.check_date(text)
        shown = ".".join(reversed(checked.value.split("-"))) if checked.ok else normalize(text)
        return Parsed(checked.ok, checked.value, shown, checked.error)
    if kind == "yesno":
        return _yesno(text)
    if kind == "fio":
        return _fio(text)
    said = text.strip()
    return Parsed(bool(said), said, said, None if said else "Я ничего не услышал.")


def _checked(result: ids.Checked, show) -> Parsed:
    """A valid value is shown in its usual format; an invalid one is read back as heard, in groups."""
    display = show(result.value) if result.ok else _grouped(result.value)
    return Parsed(result.ok, result.value, display, result.error)


def _grouped(digits: str) -> str:
    return " ".join(digits[i:i + 3] for i in range(0, len(digits), 3))


def _digits(collect: Collect, digits: str, reference: str) -> Parsed:
    kind = collect.type
    if kind == "snils":
        return _checked(ids.check_snils(digits), ids.format_snils)
    if kind == "inn":
        return _checked(ids.check_inn(digits), _grouped)
    if kind == "phone":
        return _checked(ids.check_phone(digits), ids.format_phone)
    if kind == "passport":
        return _checked(ids.check_passport(digits), lambda v: f"{v[:2]} {v[2:4]} {v[4:]}")
    if kind == "reference":
        ok = digits == reference
        error = None if ok else (f"Номер обращения — {len(reference)} цифр, а вы назвали {len(digits)}."
                                 if len(digits) != len(reference) else
                                 "Номер не совпадает с тем, что я назвал.")
        return Parsed(ok, digits, _grouped(digits), error)
    low, high = collect.min_digits, collect.max_digits
    if low is not None and len(digits) < low:
        return Parsed(False, digits, _grouped(digits), f"Нужно не меньше {low} цифр, а вы назвали {len(digits)}.")
    if high is not None and len(digits) > high:
        return Parsed(False, digits, _grouped(digits), f"Нужно не больше {high} цифр, а вы назвали {len(digits)}.")
    return Parsed(True, digits, _grouped(digits))


def _yesno(text: str) -> Parsed:
    words = set(lemmas(text))
    yes, no = bool(words & YES), bool(words & NO)
    if yes == no:
        return Parsed(False, "", normalize(text), "Ответьте, пожалуйста, «да» или «нет».")
    return Parsed(True, "да" if yes else "нет", "да" if yes else "нет")


def _name_like(word: str) -> bool:
    """Some reading of the word is a first name, surname or patronymic (pymorphy3 guesses unknown
    surnames by their endings: «абдуллаев», «цой»)."""
    return any(_NAME_TAGS & p.tag.grammemes for p in parses(word))


def _fio(text: str) -> Parsed:
    words = [w for w in tokens(text) if w not in ("меня", "зовут", "я", "это", "моя", "фамилия")]
    plausible = sum(map(_name_like, words)) >= len(words) - 1  # «забыл пароль» is not a name
    if not 2 <= len(words) <= 4 or not all(_NAME_WORD.match(w) for w in words) or not plausible:
        return Parsed(False, " ".join(words), " ".join(words),
                      "Назовите, пожалуйста, фамилию, имя и отчество.")
    value = " ".join(w.capitalize() for w in words)
    return Parsed(True, value, value)
