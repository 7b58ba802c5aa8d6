"""Turn a prompt as written (for the screen) into the Russian a speech synthesizer should say.

espeak-ng reads «8 800 555-35-35» as one long number or digit by digit depending on spacing,
and «08:00» as «ноль восемь двоеточие ноль ноль». Callers expect the hotline style instead:
phone numbers in their groups, times as hours and minutes, other numbers as cardinal words.

The screen form has more that does not survive speech: the speaker label «Оператор:» (a
person does not announce themselves before every line), a site address (espeak switches to an
English voice and spells «gosuslugi.ru»), «/» (read «слэш»), abbreviations espeak reads as a word
(«ИНН» → «инн»), a key right after a number («Ошибка 500 или 502 — 2» is heard as one number),
and a quoted command after a dash («Другой вопрос — «назад»»: the quotes are lost, the caller
hears a statement, not what to say). Each is rewritten here, in the spoken form only.
"""

from __future__ import annotations

import re
from decimal import Decimal

from num2words import num2words

from ivr.understanding.calendar import MONTHS_GENITIVE

# Nouns after which a number takes the feminine form («одна минута», «две секунды»).
_FEMININE = re.compile(
    r"\s*(минут|секунд|недел|цифр|попыт|строк|копе|тысяч|справк|услуг|заявк|ошибк|кнопк|букв)",
    re.IGNORECASE,
)

# A run of digits with the separators phone numbers are written with; whether it really is a
# phone number (and not «10 000») is decided in _phone_or_number.
_DIGIT_RUN = re.compile(r"(?<![\w.,:/])\+?\(?\d[\d\s()\-\u00a0]*\d\)?(?![\w:/]|[.,]\d)")
_TIME = re.compile(r"(?<![\d:.])([01]?\d|2[0-3]):([0-5]\d)(?![\d:])")
_DATE = re.compile(r"(?<![\d.])(0?[1-9]|[12]\d|3[01])\.(0?[1-9]|1[0-2])\.(\d{4})(?![\d.])")
_ROUND_THE_CLOCK = re.compile(r"(?<![\d/])24\s*/\s*7(?![\d/])")
_DECIMAL = re.compile(r"(?<![\d.,])(\d+)[,.](\d+)(?![\d.,])")
_NUMBER = re.compile(r"\d+")
# Prepositions that put the number after them in the genitive: «до тридцати рабочих дней»,
# «в течение одного рабочего дня», «не более девяноста дней».
_GENITIVE_BEFORE = re.compile(r"\b(?:до|от|около|из|более|менее|свыше|после|течение|кроме)\s+$", re.IGNORECASE)
# Clock times also follow «с» («с восьми ноль-ноль до двадцати ноль-ноль»).
_GENITIVE_BEFORE_TIME = re.compile(r"\b(?:с|до|от|после|около)\s+$", re.IGNORECASE)


_MAX_CARDINAL = 10**15  # beyond this a number is an identifier: say it digit by digit
_DIGITS = ("ноль", "один", "два", "три", "четыре", "пять", "шесть", "семь", "восемь", "девять")


def _digit_by_digit(digits: str) -> str:
    return " ".join(_DIGITS[int(d)] for d in digits)


def _cardinal(n: int, gender: str = "m") -> str:
    if n >= _MAX_CARDINAL:
        return _digit_by_digit(str(n))
    return num2words(n, lang="ru", gender=gender)


def _decimal(whole: str, fraction: str) -> str:
    if len(fraction) > 3 or int(whole) >= _MAX_CARDINAL:
        return f"{_cardinal(int(whole))} запятая {_digit_by_digit(fraction)}"
    return num2words(Decimal(f"{int(whole)}.{fraction}"), lang="ru")


def _group(digits: str) -> str:
    """A group of a phone number: «800» → восемьсот, «05» → ноль пять, «00» → ноль-ноль."""
    if len(digits) > 1 and digits.startswith("0"):
        if set(digits) == {"0"}:
            return "-".join(["ноль"] * len(digits))
        return "ноль " + _group(digits[1:]) if len(digits) > 1 else "ноль"
    return _cardinal(int(digits))


def _split_plain(digits: str) -> list[str]:
    """Group an unbroken phone number the way it is dictated."""
    n = len(digits)
    if n == 11:
        return [digits[0], digits[1:4], digits[4:7], digits[7:9], digits[9:]]
    if n == 10:
        return [digits[:3], digits[3:6], digits[6:8], digits[8:]]
    if n == 12:
        return [digits[:2], digits[2:5], digits[5:8], digits[8:10], digits[10:]]
    if n == 7:
        return [digits[:3], digits[3:5], digits[5:]]
    return [digits[i : i + 3] for i in range(0, n, 3)]


def phone_words(phone: str) -> str:
    plus = phone.strip().startswith("+")
    groups = re.findall(r"\d+", phone)
    if len(groups) == 1:
        groups = _split_plain(groups[0])
    words = [_group(g) for g in groups]
    if plus:
        words[0] = "плюс " + words[0]
    return ", ".join(words)


def time_words(hours: str, minutes: str) -> str:
    h = _cardinal(int(hours))
    if minutes == "00":
        return f"{h} ноль-ноль"
    if minutes.startswith("0"):
        return f"{h} ноль {_cardinal(int(minutes[1]))}"
    return f"{h} {_cardinal(int(minutes))}"


def date_words(day: str, month: str, year: str) -> str:
    d = num2words(int(day), lang="ru", to="ordinal", gender="n")
    y = num2words(int(year), lang="ru", to="ordinal", case="genitive")
    return f"{d} {MONTHS_GENITIVE[int(month) - 1]} {y} года"


def _gender_after(text: str, end: int) -> str:
    return "f" if _FEMININE.match(text, end) else "m"


def _phone_or_number(match: re.Match[str]) -> str:
    run = match.group(0)
    groups = re.findall(r"\d+", run)
    digits = sum(len(g) for g in groups)
    trailing_ws = run[len(run.rstrip()) :]
    if digits < 7:
        if len(groups) > 1 and all(len(g) == 3 for g in groups[1:]) and not re.search(r"[-()+]", run):
            return re.sub(r"\D", "", run)  # «10 000» → a plain number for the cardinal pass
        return run
    phone_like = (
        re.search(r"[-()+]", run) is not None
        or digits >= 10
        or any(len(g) != 3 for g in groups[1:])
    )
    if not phone_like:
        return re.sub(r"\D", "", run) if len(groups) > 1 else run
    return phone_words(run) + trailing_ws


def _genitive(words: str) -> str:
    """Decline a spelled-out cardinal: num2words knows only the nominative, pymorphy3 inflects it."""
    from ivr.understanding.lemmas import analyzer

    declined = []
    for word in words.split():
        parses = analyzer().parse(word)
        numeral = next((p for p in parses if p.tag.POS == "NUMR"), parses[0])
        form = numeral.inflect({"gent"})
        declined.append(form.word if form else word)
    return " ".join(declined)


def _time(match: re.Match[str]) -> str:
    hours, minutes = match.groups()
    if _GENITIVE_BEFORE_TIME.search(match.string, 0, match.start()):
        hours_words = _genitive(_cardinal(int(hours)))
        return time_words(hours, minutes).replace(_cardinal(int(hours)), hours_words, 1)
    return time_words(hours, minutes)


def _number(match: re.Match[str]) -> str:
    words = _cardinal(int(match.group(0)), _gender_after(match.string, match.end()))
    before = match.string[: match.start()]
    if _GENITIVE_BEFORE.search(before) or (
        _FROM_BEFORE.search(before) and _UNTIL_AFTER.match(match.string, match.end())
    ):
        return _genitive(words)
    return words


# «Оператор:» opening a line (or after «— » inside one): shown on screen, not said.
_SPEAKER = re.compile(r"(?:(?<=^)|\s*—\s*)Оператор:\s*")
_URL = re.compile(
    r"(?<![\w@/.])(?:https?://)?(?:www\.)?([a-z][a-z0-9-]*)\.(ru|com|org|net)((?:/[a-z0-9_-]+)*)/?(?![\w/])",
    re.IGNORECASE,
)
_SITE_NAMES = {"gosuslugi": "госуслуги"}
_DOMAINS = {"ru": "ру", "com": "ком", "org": "орг", "net": "нет"}
_PAGES = {"contacts": "контакты", "help": "помощь", "faq": "частые вопросы"}
_LATIN = dict(zip("abcdefghijklmnopqrstuvwxyz",
                  ("а", "б", "к", "д", "е", "ф", "г", "х", "и", "дж", "к", "л", "м", "н", "о", "п", "к",
                   "р", "с", "т", "у", "в", "в", "кс", "й", "з")))
_SLASH = re.compile(r"(?<=\w)\s*/\s*(?=\w)")
# A keypad key right after a number: «502 — 2» → «502, кнопка 2».
_KEY_AFTER_NUMBER = re.compile(r"(?<=\d)\s+—\s+(?=\d\b)")
# A quoted command right after a dash (and not a quoted name before it): «— «назад»» → «— скажите «назад»».
_QUOTED_COMMAND = re.compile(r"(?<=[\w)])\s+—\s+(?=«[^«»]{1,40}»(?:[.,;!?]|\s+или\s|$))")
# Said as letters (espeak reads them as words) or in Russian (espeak switches to an English voice).
_SPOKEN_AS = {
    "ИНН": "и-эн-эн", "ИИН": "и-и-эн", "ФИО": "эф-и-о", "ОС": "о-эс", "ОМС": "о-эм-эс",
    "ГИБДД": "гэ-и-бэ-дэ-дэ", "ВК": "вэ-ка", "PDF": "пэ-дэ-эф",
    "cookies": "куки", "cookie": "куки", "JavaScript": "джаваскрипт", "e-mail": "имейл",
    "Telegram": "Телеграм", "Facebook": "Фейсбук", "Instagram": "Инстаграм",
}
_ABBREVIATION = re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, _SPOKEN_AS)) + r")(?![\w-])")
# «с 9 до 20 часов»: «с» puts the first number in the genitive when «до» follows.
_FROM_BEFORE = re.compile(r"\bс\s+$", re.IGNORECASE)
_UNTIL_AFTER = re.compile(r"\s+до\s+\d")


def _latin_word(word: str) -> str:
    return "".join(_LATIN.get(c, c) for c in word.lower())


def url_words(match: re.Match[str]) -> str:
    """«https://www.gosuslugi.ru/contacts» → «госуслуги точка ру, страница «контакты»»."""
    name, domain, path = match.groups()
    spoken = f"{_SITE_NAMES.get(name.lower(), _latin_word(name))} точка {_DOMAINS[domain.lower()]}"
    pages = [p for p in path.split("/") if p]
    if pages:
        spoken += ", страница " + ", ".join(f"«{_PAGES.get(p.lower(), _latin_word(p))}»" for p in pages)
    return spoken


def speakable(text: str) -> str:
    """The spoken form of a prompt: numbers in words, and the screen-only marks said as a person
    would say them (see the module docstring); everything else is left exactly as written."""
    text = _SPEAKER.sub(" ", text).strip()
    text = _URL.sub(url_words, text)
    text = _ABBREVIATION.sub(lambda m: _SPOKEN_AS[m.group(1)], text)
    text = _KEY_AFTER_NUMBER.sub(", кнопка ", text)
    text = _QUOTED_COMMAND.sub(" — скажите ", text)
    text = _ROUND_THE_CLOCK.sub("двадцать четыре на семь", text)
    text = _DATE.sub(lambda m: date_words(*m.groups()), text)
    text = _TIME.sub(_time, text)
    text = _DIGIT_RUN.sub(_phone_or_number, text)
    text = _DECIMAL.sub(lambda m: _decimal(m.group(1), m.group(2)), text)
    text = _SLASH.sub(" или ", text)
    return _NUMBER.sub(_number, text)
