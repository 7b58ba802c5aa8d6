"""Looking for a practice person's data in everything ivr wrote: the forms a value takes on disk.

Shared by ``tests/unit/test_privacy_scan.py`` and ``benchmarks/bench_soak.py``. A value can reach a
file in the form the caller said it (digits with or without separators, number words as Vosk writes
them, a name in another case) or in a form the simulator made of it (formatted, read back), so each
value is looked for in all of these. Texts and forms are compared lower-cased with «ё» as «е»
(speech recognisers write «семенов» for «Семёнов»).
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ivr.engine import Call
from ivr.engine.records import SlotFilled
from ivr.personal.identifiers import format_passport, format_phone, format_snils
from ivr.personal.practice_data import PracticeIdentity, generate_identity
from ivr.slots import slot_type
from ivr.understanding.calendar import MONTHS_GENITIVE

TODAY = date(2026, 11, 25)
# Digits of a value appear as a run this long only if part of the value was left unmasked: masks
# keep at most three digits, and the files' own numbers (8-digit references, times) do not
# contain a given 7-digit window by chance.
WINDOW = 7
NAME = "\N{WORD JOINER}"  # a form starting with this is looked for as a whole word
_SPOKEN_GROUPS = {"snils": (3, 3, 3, 2), "inn": (3, 3, 3, 3), "passport": (2, 2, 3, 3)}


def fold(text: str) -> str:
    return text.lower().replace("ё", "е")


def people(seeds: Iterable[int] = (0, 1)) -> list[PracticeIdentity]:
    """Practice persons from ``ivr practice-data``'s generator, fixed by seed so a failure repeats
    (seed 0 is a man, seed 1 a woman: names are looked for in both genders' endings)."""
    return [generate_identity(random.Random(seed), today=TODAY) for seed in seeds]


def spoken(kind: str, value: str) -> list[str]:
    """A number as a caller dictates it in groups, written as Vosk writes it («сто двенадцать
    двести тридцать три …»): the whole, and every stretch of groups holding ``WINDOW`` or more
    digits (masking must hide those even when the rest is cut off)."""
    groups = [g.strip() for g in slot_type(kind).speak(value).split(",")]
    if kind == "phone":  # «плюс семь, девятьсот двенадцать, …»: the digits after +7
        sizes = [0, 3, 3, 2, 2]
    else:
        sizes = list(_SPOKEN_GROUPS[kind])
    forms = [" ".join(groups)]
    for start in range(len(groups)):
        for end in range(start + 1, len(groups) + 1):
            if sum(sizes[start:end]) >= WINDOW:
                forms.append(" ".join(groups[start:end]))
    return forms


def name_forms(fio: str) -> list[str]:
    """Surname, first name and patronymic in every case («Семёнов», «Семёнову», «Семёновым»), looked
    for as whole words (a stem would be found inside ordinary words: «анн» in «данных»). Made here
    from pymorphy3's paradigms, not by the masking code under test."""
    from ivr.understanding.lemmas import parses

    forms = set()
    for word in fio.lower().split():
        if len(word) >= 3:
            forms.add(word)
            for parse in parses(word):
                if {"Name", "Surn", "Patr"} & parse.tag.grammemes:
                    forms.update(form.word for form in parse.lexeme)
    return sorted(forms)


def value_forms(person: PracticeIdentity) -> dict[str, str]:
    """Every form of every value of ``person`` → which value it is (for the failure message).

    The birth date is looked for with its day and month (a date of an event said in free speech is
    kept on purpose, «ошибка 502 с 25.11.2026»: tests/unit/test_masking.py), and so is the e-mail
    address the hostile calls give."""
    found: dict[str, str] = {}

    def add(what: str, *forms: str) -> None:
        for form in forms:
            found.setdefault(fold(form), what)

    national = person.phone[2:]
    for what, digits in (
        ("СНИЛС", person.snils),
        ("ИНН", person.inn),
        ("телефон", national),
        ("паспорт", person.passport),
    ):
        add(what, digits, *(digits[i : i + WINDOW] for i in range(len(digits) - WINDOW + 1)))
    add(
        "СНИЛС",
        format_snils(person.snils),
        format_snils(person.snils).replace("-", " "),
        *spoken("snils", person.snils),
    )
    add("ИНН", " ".join(person.inn[i : i + 3] for i in range(0, 12, 3)), *spoken("inn", person.inn))
    add(
        "телефон",
        person.phone,
        "8" + national,
        format_phone(person.phone),
        f"({national[:3]}) {national[3:6]}",
        f"{national[3:6]}-{national[6:8]}-{national[8:]}",
        *spoken("phone", person.phone),
    )
    add(
        "паспорт",
        format_passport(person.passport),
        f"{person.passport[:2]} {person.passport[2:4]}",
        *spoken("passport", person.passport),
    )
    add("ФИО", *(NAME + form for form in name_forms(person.fio)))
    born = date.fromisoformat(person.birth_date)
    add("дата рождения", f"{born:%d.%m.%Y}", f"{born:%d.%m}.", f"{born.day} {MONTHS_GENITIVE[born.month - 1]} {born.year}")
    add("почта", email(person).split("@")[0])
    return found


def email(person: PracticeIdentity) -> str:
    """A practice address for ``person`` (the generator makes none)."""
    return f"praktika.{person.inn[-5:]}@yandex.ru"


@dataclass(frozen=True)
class Hit:
    where: str
    form: str
    what: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what} «{self.form}»"


def scan_text(where: str, text: str, forms: dict[str, str]) -> Iterator[Hit]:
    folded = fold(text)
    words = set(re.findall(r"\w+", folded))
    for form, what in forms.items():
        if form.startswith(NAME) and form[1:] in words or not form.startswith(NAME) and form in folded:
            yield Hit(where, form.lstrip(NAME), what)


def scan_tree(folder: Path, forms: dict[str, str]) -> list[Hit]:
    """Every file under ``folder``, whatever it is (reports, transcripts, cached audio or vectors):
    a binary file is searched as UTF-8 too, since a text inside it would be stored that way."""
    hits = []
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            text = path.read_bytes().decode("utf-8", errors="replace")
            hits += scan_text(str(path.relative_to(folder)), text, forms)
    return hits


def collected_forms(call: Call) -> dict[str, str]:
    """Forms of the personal values a call collected (valid or not), for calls whose caller is not
    a practice person (the convo files): long digit runs of every personal value, the words of a
    valid ФИО, a valid date as written on documents."""
    found: dict[str, str] = {}
    for turn in call.turns:
        match = turn.match
        if not isinstance(match, SlotFilled) or not slot_type(match.type).personal:
            continue
        what = f"{match.slot} ({match.type})"
        if match.type == "fio":
            if match.valid:
                found.update({NAME + fold(form): what for form in name_forms(match.value)})
            continue
        if match.type == "date":
            if match.valid:
                found[f"{date.fromisoformat(match.value):%d.%m.%Y}"] = what
            continue
        digits = "".join(ch for ch in match.value if ch.isdecimal())
        found.update({digits[i : i + WINDOW]: what for i in range(len(digits) - WINDOW + 1)})
    return found


def inflect(word: str, case: str) -> str:
    """``word`` (a name) in a grammatical case, as a caller would say it («звонил Семёнову»)."""
    from ivr.understanding.lemmas import parses

    for parse in parses(word.lower()):
        if {"Name", "Surn", "Patr"} & parse.tag.grammemes:
            inflected = parse.inflect({case})
            if inflected is not None:
                return inflected.word
    return word


def digit_words(digits: str) -> str:
    """Digits dictated one by one, as Vosk writes them."""
    names = "ноль один два три четыре пять шесть семь восемь девять".split()
    return " ".join(names[int(d)] for d in digits)


def hostile_calls(person: PracticeIdentity) -> list[list[str]]:
    """Calls on the Госуслуги flow in which ``person`` says their data in every way a caller might,
    as ``ivr run --caller`` lines (digits, ``*`` and ``#`` are keys, an empty line is silence).

    The values come at the slots that collect them and at the wrong ones (a СНИЛС as the
    reference, an ИНН as the account number), dictated in spoken groups and digit by digit, with
    and without separators, in a long problem statement and in the main menu, and the name in
    other cases and in part."""
    surname, name, patronymic = person.fio.split()
    national = person.phone[2:]
    born = date.fromisoformat(person.birth_date)
    said = {kind: spoken(kind, getattr(person, kind))[0] for kind in ("snils", "inn", "phone", "passport")}
    story = (
        f"Здравствуйте, меня зовут {person.fio}, снилс {format_snils(person.snils)}, "
        f"инн {person.inn}, телефон {format_phone(person.phone)}, паспорт {format_passport(person.passport)}. "
        "Не могу войти в личный кабинет уже неделю, пишет «ошибка [/] [bold red]», пароль не подходит. "
        f"Дата рождения {born:%d.%m.%Y}, родился {born.day} {MONTHS_GENITIVE[born.month - 1]} {born.year} года, "
        f"почта {email(person)}. "
    )
    in_cases = (
        f"звонил вчера, спрашивали {inflect(surname, 'gent')} {inflect(name, 'gent')} "
        f"{inflect(patronymic, 'gent')}, я сказал что это я, {inflect(surname, 'nomn')} "
        f"{inflect(name, 'nomn')}, и передал {inflect(name, 'datv')} {inflect(patronymic, 'datv')}"
    )
    auth = [
        "2",
        "2",
        "1",  # вход и доступ → блокировка → оператор
        f"меня зовут {surname.lower()} {name.lower()}",  # two words of three
        person.fio,
        "1",
        said["snils"] + " один",  # one digit too many: read back as invalid
        digit_words(person.snils),
        " ".join(slot_type("passport").speak(person.passport).split(",")[:2]),  # the series only: invalid
        format_passport(person.passport),
        story * 3,
        f"ошибка {person.snils} и {said['inn']}",
        said["phone"] + " два",
        f"{inflect(surname, 'nomn')} {name} {patronymic}",  # a name where digits are wanted
        "8" + national,
        in_cases + f", номер {national}, паспорт {person.passport}",
        person.snils,  # the СНИЛС as the reference number
        said["inn"],
        "{reference}",
    ]
    general = [
        "0",
        f"{surname.upper()} {name.upper()} {patronymic.upper()}",
        "2",
        f"{person.inn[:6]}-{person.inn[6:]}",
        person.inn,
        "1234",
        person.inn,  # an ИНН as the account number (a digits slot, not a personal one)
        story.lower() + in_cases,
        "{reference_words}",
    ]
    by_snils = [
        "0",
        inflect(surname, "nomn") + " " + name,
        "1",
        format_snils(person.snils).replace("-", " "),
        person.snils,
        said["snils"],
        format_phone(person.phone),
        story,
    ]
    main_menu = [story, story.lower(), in_cases, "", f"мой снилс {said['snils']}"]
    return [auth, general, by_snils, main_menu]
