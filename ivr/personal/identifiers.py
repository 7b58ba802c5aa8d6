"""Checks of the personal identifiers a caller dictates: СНИЛС, ИНН, phone, passport, dates.

Callers misspeak and speech recognition mishears, so a check never just says "no": it returns the
Russian sentence the IVR reads back, naming what exactly is wrong, so the caller knows what to fix.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import chain, repeat
from typing import Literal

from num2words import num2words

from ivr.understanding.calendar import MONTHS_GENITIVE
from ivr.understanding.normalize import normalize
from ivr.understanding.numbers import is_number_word, number_groups

ASCII_DIGITS = "0123456789"


@dataclass(frozen=True)
class Checked:
    """Keeps the best-effort value even on failure, so the IVR can read back what it heard."""

    ok: bool
    value: str
    error: str | None = None


# Spaces, dashes, dots and brackets are how people and recognisers group digits: no meaning.
_SEPARATORS = re.compile(r"[\s\-‐‑–—.()/№]+")


def _dictated_digits(text: str, ask: str) -> tuple[str, str | None]:
    """Separate the digits from the grouping; a stray letter is worth telling the caller about."""
    compact = _SEPARATORS.sub("", text)
    digits = "".join(ch for ch in compact if ch in ASCII_DIGITS)
    stray = next((ch for ch in compact if ch not in ASCII_DIGITS), None)
    if stray is not None:
        return digits, f"В ответе есть «{stray}», а нужны только цифры: назовите {ask}."
    if not digits:
        return digits, f"Не слышно ни одной цифры: назовите {ask}."
    return digits, None


def snils_control_number(first9: str) -> str:
    """Public so the practice-data generator and this check agree by construction."""
    total = sum(int(digit) * weight for digit, weight in zip(first9, range(9, 0, -1)))
    if total > 101:
        total %= 101
    return "00" if total in (100, 101) else f"{total:02d}"


# By rule, numbers up to 001-001-998 were issued before the control number existed.
_SNILS_CHECKED_ABOVE = 1_001_998


def check_snils(text: str) -> Checked:
    """Reports length before checksum: a missing digit is the usual mistake and the easier fix."""
    digits, error = _dictated_digits(text, "СНИЛС — 11 цифр")
    if error is None and len(digits) != 11:
        error = f"В СНИЛС 11 цифр, а вы назвали {len(digits)}."
    if (
        error is None
        and int(digits[:9]) > _SNILS_CHECKED_ABOVE
        and digits[9:] != snils_control_number(digits[:9])
    ):
        error = "Контрольное число СНИЛС не сходится: проверьте цифры."
    return Checked(error is None, digits, error)


_INN_WEIGHTS = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)


def _inn_digit(digits: str, weights: Sequence[int]) -> str:
    return str(sum(int(digit) * weight for digit, weight in zip(digits, weights)) % 11 % 10)


def inn_control_digits(first10: str) -> str:
    """The two control digits of a person's INN; the second one also covers the first."""
    eleventh = _inn_digit(first10, _INN_WEIGHTS[1:])
    return eleventh + _inn_digit(first10 + eleventh, _INN_WEIGHTS)


def check_inn(text: str) -> Checked:
    """Only a person's INN is accepted: callers often read out their employer's 10-digit one."""
    digits, error = _dictated_digits(text, "ИНН — 12 цифр")
    if error is None and len(digits) == 10:
        error = "ИНН физического лица состоит из 12 цифр; 10 цифр — это ИНН организации."
    elif error is None and len(digits) != 12:
        error = f"ИНН физического лица состоит из 12 цифр, а вы назвали {len(digits)}."
    elif error is None and digits[10:] != inn_control_digits(digits[:10]):
        error = "Контрольные цифры ИНН не сходятся: проверьте цифры."
    return Checked(error is None, digits, error)


_PHONE_EXAMPLE = "Например: +7 912 345-67-89."


def check_phone(text: str) -> Checked:
    """Accepts the trunk prefix 8 and a bare 10-digit number, as Russians say phone numbers."""
    stripped = text.strip()
    plus = stripped.startswith("+")
    digits, error = _dictated_digits(stripped.removeprefix("+"), "номер телефона — +7 и 10 цифр")
    if error is not None:
        return Checked(False, digits, error)
    trunk_prefix_ok = digits.startswith("7") if plus else len(digits) != 11 or digits[0] in "78"
    if not trunk_prefix_ok:
        return Checked(False, digits, f"Российский номер начинается с +7 или 8. {_PHONE_EXAMPLE}")
    body = digits[1:] if plus or len(digits) == 11 else digits
    if len(body) != 10:
        return Checked(
            False,
            digits,
            f"Номер телефона — это +7 и 10 цифр, а вы назвали {len(body)}. {_PHONE_EXAMPLE}",
        )
    return Checked(True, "+7" + body)


def check_passport(text: str) -> Checked:
    """Series and number are checked together because callers read them in one breath."""
    digits, error = _dictated_digits(text, "серию и номер паспорта — 10 цифр")
    if error is None and len(digits) != 10:
        error = (
            "Серия и номер паспорта — это 10 цифр: 4 цифры серии и 6 цифр номера, "
            f"а вы назвали {len(digits)}."
        )
    return Checked(error is None, digits, error)


def check_oms(text: str) -> Checked:
    """A compulsory-insurance (ОМС) policy of the unified format: 16 digits. Only the length is
    checked — the control digit's rule is not published with the format, and rejecting a real
    policy would teach the caller that theirs is wrong."""
    digits, error = _dictated_digits(text, "номер полиса ОМС — 16 цифр")
    if error is None and len(digits) != 16:
        error = f"В номере полиса ОМС 16 цифр, а вы назвали {len(digits)}."
    return Checked(error is None, digits, error)


def format_oms(digits: str) -> str:
    """Four groups of four, as printed on the policy card."""
    _require(r"[0-9]{16}", digits, "16 digits")
    return " ".join(digits[i : i + 4] for i in range(0, 16, 4))


# --- dates ----------------------------------------------------------------------------------------

_DATE_EXAMPLE = "например, 25 ноября 1980 года"
_DATE_UNCLEAR = f"Не удалось разобрать дату: назовите число, месяц и год, {_DATE_EXAMPLE}."


def _number_run(tokens: Sequence[str]) -> list[str]:
    run: list[str] = []
    for token in tokens:
        if not (token.isdigit() or is_number_word(token)):
            break
        run.append(token)
    return run


def one_number(tokens: Sequence[str]) -> int | None:
    """The one number ``tokens`` say, typed («27») or in words («двадцать седьмого»), if they say one."""
    if len(tokens) == 1 and tokens[0].isdigit():
        return int(tokens[0])
    groups = number_groups(tokens)
    return groups[0] if groups and len(groups) == 1 else None


# A two-digit year is at most this many years ahead: «восьмидесятого» said in 2026 is 1980, not 2080,
# while «тридцатого» (a deadline) is still 2030.
TWO_DIGIT_AHEAD = 20
When = Literal["past", "future"] | None


def _full_year(short: int, today: date, when: When) -> int:
    """The year a caller means by its last two digits: this century's, unless that is too far ahead
    (or, for a past-only date, ahead at all) — then the last century's."""
    year = today.year - today.year % 100 + short
    if when == "past" and year > today.year:
        return year - 100
    # a future date named with a year already gone is a slip, said so by the future rule, not 2125
    return year - 100 if when is None and year > today.year + TWO_DIGIT_AHEAD else year


# «когда вы впервые обратились?» — «вчера»: a day counted back from the call's date
_DAYS_BACK = {"сегодня": 0, "вчера": 1, "позавчера": 2}


def _parse_date(text: str, today: date, when: When) -> date | str:
    """The date, or the Russian explanation of why there is none."""
    tokens = re.findall(r"[0-9]+|[а-я]+", normalize(text))
    month_at = next((i for i, token in enumerate(tokens) if token in MONTHS_GENITIVE), None)
    back = {_DAYS_BACK[token] for token in tokens if token in _DAYS_BACK}
    if len(back) == 1 and month_at is None and not any(token.isdigit() for token in tokens):
        found = today - timedelta(days=back.pop())
        if when == "future" and found < today:
            return "Эта дата уже прошла — назовите сегодняшнюю или будущую дату."
        return found
    if month_at is not None:
        day_tokens = _number_run(tokens[:month_at][::-1])[::-1]  # the number words just before
        month = MONTHS_GENITIVE.index(tokens[month_at]) + 1
        year_tokens = _number_run(tokens[month_at + 1 :])
    else:
        numbers = [token for token in tokens if token.isdigit()]
        if len(numbers) == 3 and len(numbers[0]) == 4:
            numbers.reverse()  # ISO order: year first
        if len(numbers) not in (2, 3):
            return _DATE_UNCLEAR
        day_tokens, month, year_tokens = numbers[:1], int(numbers[1]), numbers[2:]
    if not year_tokens:
        return f"Назовите дату вместе с годом, {_DATE_EXAMPLE}."
    day, year = one_number(day_tokens), one_number(year_tokens)
    if day is None or year is None:
        return _DATE_UNCLEAR
    if year < 100:
        year = _full_year(year, today, when)
    if not 1 <= month <= 12:
        return f"Номер месяца — от 1 до 12, а вы назвали {month}."
    if not 1900 <= year <= 2099:
        return f"Год {year} похож на ошибку: назовите год полностью, например 1980."
    try:
        found = date(year, month, day)
    except (ValueError, OverflowError):  # 31 February, or a recogniser's 10**20
        return (
            f"Даты {day} {MONTHS_GENITIVE[month - 1]} {year} года не существует: "
            "проверьте число и месяц."
        )
    if when == "past" and found > today:
        return "Эта дата ещё не наступила — назовите прошедшую дату, например, 25 ноября 1980 года."
    if when == "future" and found < today:
        return "Эта дата уже прошла — назовите сегодняшнюю или будущую дату."
    return found


def check_date(text: str, today: date | None = None, when: When = None) -> Checked:
    """Reads dates typed with digits and dates as speech recognition writes them, in words.

    The year is required: a date of birth without a year is useless. A two-digit year is the
    nearest such year on the allowed side of ``today`` (the call's date; the machine's if none):
    «восьмидесятого» is 1980, «двадцать пятого» 2025. ``when``: only past (a birth, a payment) or
    only future (an appointment) dates are valid, today included.
    """
    parsed = _parse_date(text, today or date.today(), when)
    if isinstance(parsed, str):
        return Checked(False, text.strip(), parsed)
    return Checked(True, parsed.isoformat())


# --- formatting and reading back ------------------------------------------------------------------


def _require(pattern: str, value: str, what: str) -> None:
    if not re.fullmatch(pattern, value):
        raise ValueError(f"expected {what}, got {value!r}")


def format_snils(digits: str) -> str:
    """The grouping printed on the green card, which is how callers recognise their number."""
    _require(r"[0-9]{11}", digits, "11 digits")
    return f"{digits[:3]}-{digits[3:6]}-{digits[6:9]} {digits[9:]}"


def format_phone(canonical: str) -> str:
    """The grouping Russians write and say, easier to compare by eye than 11 digits in a row."""
    _require(r"\+7[0-9]{10}", canonical, "+7 and 10 digits")
    body = canonical[2:]
    return f"+7 {body[:3]} {body[3:6]}-{body[6:8]}-{body[8:]}"


def format_passport(digits: str) -> str:
    """Series as two pairs and the number, as printed in the passport itself."""
    _require(r"[0-9]{10}", digits, "10 digits")
    return f"{digits[:2]} {digits[2:4]} {digits[4:]}"


def _speak_group(group: str) -> str:
    """Leading zeros are said one by one, or "007" would be heard as just "семь"."""
    rest = group.lstrip("0")
    words = ["ноль"] * (len(group) - len(rest))
    if rest:
        words.append(num2words(int(rest), lang="ru"))
    return " ".join(words)


def speak_digits(value: str, groups: Sequence[int] = ()) -> str:
    """Read a number back in short groups: a caller can confirm "сто двенадцать", not 11 digits.
    Digits beyond ``groups`` are read in threes."""
    digits = "".join(ch for ch in value if ch in ASCII_DIGITS)
    words: list[str] = []
    for size in chain(groups, repeat(3)):
        if not digits:
            break
        words.append(_speak_group(digits[:size]))
        digits = digits[size:]
    return ", ".join(words)


PHONE_GROUPS = (3, 3, 2, 2)


def speak_phone(value: str) -> str:
    """A valid number as «плюс семь» and its groups; an invalid one read back as heard."""
    phone = check_phone(value)
    if phone.ok:
        return "плюс семь, " + speak_digits(phone.value[2:], PHONE_GROUPS)
    return speak_digits(value, PHONE_GROUPS)
