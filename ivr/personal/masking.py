"""Masking of personal data before anything is written to disk.

Transcripts and reports outlive the rehearsal and get shared; a caller who practised with real
data must not find their СНИЛС or passport in a file. Masks keep a few last digits so the caller
can still tell which number a line is about.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date

from ivr.personal.identifiers import (
    Checked,
    check_date,
    check_inn,
    check_oms,
    check_passport,
    check_phone,
    check_snils,
    format_oms,
    format_passport,
    format_phone,
    format_snils,
    one_number,
)
from ivr.understanding.calendar import MONTHS_GENITIVE
from ivr.understanding.numbers import is_number_word, number_groups


def _digit_masker(check: Callable[[str], Checked], fmt: Callable[[str], str], visible: int,
                  keep_last: int) -> Callable[[str], str]:
    """A masker for one kind of identifier: the valid value in its usual format with only the last
    ``keep_last`` digits (and ``visible`` leading characters) left; an invalid one masked as heard,
    never shown."""

    def mask(value: str) -> str:
        checked = check(value)
        if not checked.ok:
            return mask_digits(mask_text(value), keep_last)
        shown = fmt(checked.value)
        return shown[:visible] + mask_digits(shown[visible:], keep_last)

    return mask


def mask_digits(text: str, keep_last: int) -> str:
    """Star out digits but keep separators, so the masked value still looks like what it was."""
    total = sum(ch.isdecimal() for ch in text)
    seen = 0
    masked = []
    for ch in text:
        if ch.isdecimal():
            seen += 1
            ch = ch if seen > total - keep_last else "*"
        masked.append(ch)
    return "".join(masked)


mask_snils = _digit_masker(check_snils, format_snils, 0, 2)
mask_inn = _digit_masker(check_inn, str, 0, 2)
mask_phone = _digit_masker(check_phone, format_phone, 2, 2)  # "+7" says nothing about the person
mask_passport = _digit_masker(check_passport, format_passport, 0, 3)
mask_oms = _digit_masker(check_oms, format_oms, 0, 2)


def mask_fio(value: str) -> str:
    """Initials only: enough to tell whose call it was, not enough to identify anyone."""
    return " ".join(f"{word[0]}." for word in value.split())


def mask_date(value: str) -> str:
    """The year alone stays: it tells a payment of 2025 from one of 2026 without naming the day."""
    checked = check_date(value)
    return f"**.**.{checked.value[:4]}" if checked.ok else "**.**.****"


ADDRESS_MASK = "[адрес скрыт]"


def mask_address(value: str) -> str:
    """Nothing of an address stays: a street with a house number finds the person as surely as a
    name does, and no part of it helps the caller read their report."""
    return ADDRESS_MASK if value.strip() else ""


# A run of digits as people write them: "112-233-445 95", "8 (912) 345-67-89", "+79123456789".
_DIGIT_RUN = re.compile(r"(?P<lead>\+\d[ \-(]*)?\d(?:[ \t\-‐–—()]{0,3}\d)*")
_CYRILLIC_WORD = re.compile(r"[а-яё]+", re.IGNORECASE)
_WORD_GAP = re.compile(r"[\s,\-–—]+")
# Shorter numbers are error codes, days and amounts that a transcript is useless without.
MIN_MASKED_DIGITS = 6


def _mask_digit_run(match: re.Match[str]) -> str:
    run = match.group()
    if sum(ch.isdecimal() for ch in run) < MIN_MASKED_DIGITS:
        return run
    lead = match.group("lead") or ""
    return lead + mask_digits(run[len(lead) :], 2)


def _number_word_runs(text: str) -> Iterator[list[re.Match[str]]]:
    """Stretches of consecutive number words, as a recogniser writes dictated digits."""
    run: list[re.Match[str]] = []
    for word in [*_CYRILLIC_WORD.finditer(text), None]:
        is_number = word is not None and is_number_word(word.group())
        if run and not (word is not None and is_number
                        and _WORD_GAP.fullmatch(text, run[-1].end(), word.start())):
            yield run
            run = []
        if word is not None and is_number:
            run.append(word)


def _mask_number_words(text: str) -> str:
    """Speech recognition writes "сто двенадцать двести тридцать три…", not digits."""
    pieces, end = [], 0  # built in one pass: slicing per run was quadratic in the runs
    for run in _number_word_runs(text):
        groups = number_groups([word.group() for word in run]) or []
        if sum(len(str(group)) for group in groups) >= MIN_MASKED_DIGITS:
            pieces += [text[end : run[0].start()], "***"]
            end = run[-1].end()
    return "".join(pieces) + text[end:] if pieces else text


# An e-mail address names its owner; the domain alone («mail.ru») names nobody and stays.
_EMAIL = re.compile(r"(?<![\w.+-])([\w.+-])[\w.+-]*@(?P<domain>[\w-]+(?:\.[\w-]+)+)")

# A date said in passing is usually the event the call is about («ошибка с 25.11.2026», «оплатила
# пятнадцатого октября»), and the transcript is useless without it. A date of birth or of a
# passport's issue is personal data, and so is any date this many years back (no hotline question
# is about one): their day and month are masked, the year stays, as in a collected date's mask.
OLD_DATE_YEARS = 10
_PERSONAL_DATE_CUE = re.compile(r"(?:рожд|родил|выдан|д\.\s?р|г\.\s?р)", re.IGNORECASE)
_CUE_WINDOW = 40  # characters before the date: «родился», «дата рождения», «паспорт выдан»
_NUMERIC_DATE = re.compile(r"(?<![\d.])(\d{1,2})[./](\d{1,2})[./](\d{4}|\d{2})(?![\d.])")
_MONTH = re.compile(r"(?<![а-яё])(?:" + "|".join(MONTHS_GENITIVE) + r")(?![а-яё])", re.IGNORECASE)
_TOKEN = re.compile(r"[а-яё]+|\d+", re.IGNORECASE)
_YEAR_AFTER = re.compile(r"^\s+(?:(\d{4})|((?:[а-яё]+\s+){0,4}[а-яё]+))", re.IGNORECASE)


def _personal_date(text: str, start: int, year: int | None) -> bool:
    if _PERSONAL_DATE_CUE.search(text, max(0, start - _CUE_WINDOW), start):
        return True
    return year is not None and 1900 <= year <= date.today().year - OLD_DATE_YEARS


def _number_of(words: list[str], low: int, high: int) -> int | None:
    """The number a few words say («двадцать седьмого», «27»), if it lies in [low, high]."""
    value = one_number(words) if words else None
    return value if value is not None and low <= value <= high else None


def _year_after(text: str, end: int) -> int | None:
    found = _YEAR_AFTER.match(text[end:])
    if found is None:
        return None
    if found.group(1):
        return int(found.group(1))
    words = found.group(2).split()
    while words and not is_number_word(words[-1]):  # «… седьмого года»
        words.pop()
    return _number_of(words, 1000, 2100)


def _mask_dates(text: str) -> str:
    """Day and month of a personal date hidden, in digits («27.07.1977») or words («двадцать
    седьмого июля тысяча девятьсот семьдесят седьмого года»)."""

    def numeric(match: re.Match[str]) -> str:
        year = int(match.group(3)) if len(match.group(3)) == 4 else None
        if not _personal_date(text, match.start(), year):
            return match.group()
        return f"**.**.{match.group(3)}"

    text = _NUMERIC_DATE.sub(numeric, text)
    pieces, end = [], 0
    for month in _MONTH.finditer(text):
        start = _day_start(text, end, month.start())
        if start is None or not _personal_date(text, start, _year_after(text, month.end())):
            continue
        pieces += [text[end:start], "**.**"]
        end = month.end()
    return "".join(pieces) + text[end:] if pieces else text


def _day_start(text: str, begin: int, month_at: int) -> int | None:
    """Where the day said before a month begins («27 июля», «двадцать седьмого июля»), if one is."""
    tokens = list(_TOKEN.finditer(text, max(begin, month_at - 40), month_at))
    if not tokens or text[tokens[-1].end() : month_at].strip():
        return None
    last = tokens[-1]
    if len(tokens) > 1 and not text[tokens[-2].end() : last.start()].strip():
        pair = tokens[-2]
        if _number_of([pair.group(), last.group()], 1, 31) is not None:
            return pair.start()
    return last.start() if _number_of([last.group()], 1, 31) is not None else None


def mask_text(text: str) -> str:
    """Mask every long number in free speech, whether written as digits or as words, e-mail
    addresses, and the day and month of a personal date."""
    text = _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group('domain')}", text)
    return _DIGIT_RUN.sub(_mask_digit_run, _mask_number_words(_mask_dates(text)))
