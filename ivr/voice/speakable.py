"""Turn digits in a prompt into the Russian words a speech synthesizer should say.

espeak-ng reads «8 800 555-35-35» as one long number or digit by digit depending on spacing,
and «08:00» as «ноль восемь двоеточие ноль ноль». Callers expect the hotline style instead:
phone numbers in their groups, times as hours and minutes, other numbers as cardinal words.
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
    if _GENITIVE_BEFORE.search(match.string, 0, match.start()):
        return _genitive(words)
    return words


def speakable(text: str) -> str:
    """Digits → Russian words; everything else is left exactly as written."""
    text = _ROUND_THE_CLOCK.sub("двадцать четыре на семь", text)
    text = _DATE.sub(lambda m: date_words(*m.groups()), text)
    text = _TIME.sub(_time, text)
    text = _DIGIT_RUN.sub(_phone_or_number, text)
    text = _DECIMAL.sub(lambda m: _decimal(m.group(1), m.group(2)), text)
    return _NUMBER.sub(_number, text)
