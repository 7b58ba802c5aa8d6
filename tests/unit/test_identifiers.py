from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ivr.personal.identifiers import (
    check_date,
    check_inn,
    check_passport,
    check_phone,
    check_snils,
    format_passport,
    format_phone,
    format_snils,
    number_groups,
    snils_control_number,
)
from ivr.slots import slot_type

PHONE_LENGTH = "Номер телефона — это +7 и 10 цифр, а вы назвали {}. Например: +7 912 345-67-89."
PHONE_PREFIX = "Российский номер начинается с +7 или 8. Например: +7 912 345-67-89."
DATE_UNCLEAR = (
    "Не удалось разобрать дату: назовите число, месяц и год, например, 25 ноября 1980 года."
)

# --- СНИЛС


@pytest.mark.parametrize(
    ("text", "digits"),
    [
        ("112-233-445 95", "11223344595"),  # the sample printed on Pension Fund cards
        ("112 233 445 95", "11223344595"),
        ("11223344595", "11223344595"),
        ("123-456-789 64", "12345678964"),  # 9+16+21+24+25+24+21+16+9 = 165; 165 % 101 = 64
        ("001-019-989 00", "00101998900"),  # weighted sum exactly 100 -> 00
        ("001-019-998 00", "00101999800"),  # weighted sum exactly 101 -> 00
        ("644-444-447 00", "64444444700"),  # 54 + 4*35 + 7 = 201; 201 % 101 = 100 -> 00
        ("001-001-998 12", "00100199812"),  # at or below 001-001-998 the control is not checked
    ],
)
def test_valid_snils_is_accepted_as_digits(text: str, digits: str) -> None:
    checked = check_snils(text)
    assert checked.ok
    assert checked.value == digits
    assert checked.error is None


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("112-233-445 9", "В СНИЛС 11 цифр, а вы назвали 10."),
        ("112-233-445 955", "В СНИЛС 11 цифр, а вы назвали 12."),
        ("112-233-445 96", "Контрольное число СНИЛС не сходится: проверьте цифры."),
        ("001-001-999 12", "Контрольное число СНИЛС не сходится: проверьте цифры."),
        ("112-233-44б 95", "В ответе есть «б», а нужны только цифры: назовите СНИЛС — 11 цифр."),
        ("", "Не слышно ни одной цифры: назовите СНИЛС — 11 цифр."),
    ],
)
def test_invalid_snils_says_what_is_wrong(text: str, error: str) -> None:
    checked = check_snils(text)
    assert not checked.ok
    assert checked.error == error


def test_rejected_snils_keeps_the_digits_heard() -> None:
    assert check_snils("112-233-445 9").value == "1122334459"


@given(st.integers(min_value=1_001_999, max_value=999_999_999))
def test_formatted_snils_round_trips(first9: int) -> None:
    digits = f"{first9:09d}" + snils_control_number(f"{first9:09d}")
    assert check_snils(format_snils(digits)).value == digits
    assert check_snils(format_snils(digits)).ok


def test_format_snils_groups_like_the_card() -> None:
    assert format_snils("11223344595") == "112-233-445 95"


# --- ИНН


@pytest.mark.parametrize("inn", ["500100732259", "773370857141", "5001 0073 2259"])
def test_valid_person_inn_is_accepted(inn: str) -> None:
    checked = check_inn(inn)
    assert checked.ok
    assert checked.value == inn.replace(" ", "")


def test_inn_control_digit_wraps_ten_to_zero() -> None:
    # 5001007300: the first weighted sum is 120, 120 % 11 = 10 -> the eleventh digit is 0.
    assert check_inn("500100730004").ok
    assert not check_inn("500100730014").ok


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("7707083893", "ИНН физического лица состоит из 12 цифр; 10 цифр — это ИНН организации."),
        ("50010073225", "ИНН физического лица состоит из 12 цифр, а вы назвали 11."),
        ("500100732249", "Контрольные цифры ИНН не сходятся: проверьте цифры."),  # 11th digit
        ("500100732258", "Контрольные цифры ИНН не сходятся: проверьте цифры."),  # 12th digit
        ("50010073225x", "В ответе есть «x», а нужны только цифры: назовите ИНН — 12 цифр."),
        ("  ", "Не слышно ни одной цифры: назовите ИНН — 12 цифр."),
    ],
)
def test_invalid_inn_says_what_is_wrong(text: str, error: str) -> None:
    checked = check_inn(text)
    assert not checked.ok
    assert checked.error == error


# --- phone


@pytest.mark.parametrize(
    "text",
    ["+7 912 345-67-89", "89123456789", "79123456789", "9123456789", "8 (912) 345-67-89"],
)
def test_phone_in_any_usual_form_becomes_canonical(text: str) -> None:
    assert check_phone(text) == check_phone("+79123456789")
    assert check_phone(text).value == "+79123456789"
    assert check_phone(text).ok


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("912345678", PHONE_LENGTH.format(9)),
        ("+7 912 345 67 8", PHONE_LENGTH.format(9)),
        ("+7 912 345 67 890", PHONE_LENGTH.format(11)),
        ("+8 912 345 67 89", PHONE_PREFIX),
        ("19123456789", PHONE_PREFIX),
        (
            "не помню",
            "В ответе есть «н», а нужны только цифры: назовите номер телефона — +7 и 10 цифр.",
        ),
    ],
)
def test_invalid_phone_explains_the_format(text: str, error: str) -> None:
    checked = check_phone(text)
    assert not checked.ok
    assert checked.error == error


@given(st.integers(min_value=0, max_value=10**10 - 1))
def test_formatted_phone_round_trips(body: int) -> None:
    phone = f"+7{body:010d}"
    assert format_phone(phone)[:3] == "+7 "
    assert check_phone(format_phone(phone)).value == phone


# --- dates


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("25.11.2026", "2026-11-25"),
        ("25 11 2026", "2026-11-25"),
        ("2026-11-25", "2026-11-25"),
        ("25 ноября 2026", "2026-11-25"),
        ("25 ноября 2026 года", "2026-11-25"),
        ("двадцать пятое ноября две тысячи двадцать шестого года", "2026-11-25"),
        ("третье января двадцать пятого года", "2025-01-03"),
        ("тридцать первое декабря тысяча девятьсот девяносто девятого года", "1999-12-31"),
        ("первое сентября двухтысячного года", "2000-09-01"),
        ("родилась двадцать девятого февраля две тысячи двадцать четвёртого года", "2024-02-29"),
        ("десятого мая тысяча девятьсот восемьдесят пятого", "1985-05-10"),
    ],
)
def test_dates_typed_or_spoken_become_iso(text: str, iso: str) -> None:
    assert check_date(text) == check_date(iso)
    assert check_date(text).value == iso


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("первого марта", "Назовите дату вместе с годом, например, 25 ноября 1980 года."),
        ("25.11", "Назовите дату вместе с годом, например, 25 ноября 1980 года."),
        ("31.02.2026", "Даты 31 февраля 2026 года не существует: проверьте число и месяц."),
        (
            "двадцать девятое февраля двадцать пятого года",
            "Даты 29 февраля 2025 года не существует: проверьте число и месяц.",
        ),
        ("25.13.2026", "Номер месяца — от 1 до 12, а вы назвали 13."),
        ("25.11.3026", "Год 3026 похож на ошибку: назовите год полностью, например 1980."),
        ("на прошлой неделе", DATE_UNCLEAR),  # «вчера» is a date now (counted from the call)
        ("ноября 2026 года", DATE_UNCLEAR),
    ],
)
def test_invalid_dates_say_what_is_wrong(text: str, error: str) -> None:
    checked = check_date(text)
    assert not checked.ok
    assert checked.error == error


# --- passport


@pytest.mark.parametrize("text", ["45 10 123456", "4510 123456", "4510123456", "45 10 № 123456"])
def test_passport_series_and_number_become_ten_digits(text: str) -> None:
    assert check_passport(text).ok
    assert check_passport(text).value == "4510123456"
    assert format_passport("4510123456") == "45 10 123456"


def test_short_passport_says_how_many_digits_were_heard() -> None:
    checked = check_passport("45 10 12345")
    assert not checked.ok
    assert checked.error == (
        "Серия и номер паспорта — это 10 цифр: 4 цифры серии и 6 цифр номера, а вы назвали 9."
    )


# --- robustness


@given(st.text())
def test_checks_never_crash_and_always_explain_a_rejection(text: str) -> None:
    for check in (check_snils, check_inn, check_phone, check_passport, check_date):
        checked = check(text)
        assert checked.ok == (checked.error is None)
        if checked.error is not None:
            assert any("а" <= ch <= "я" for ch in checked.error.lower())


# --- spoken numbers


@pytest.mark.parametrize(
    ("words", "groups"),
    [
        ("сто двенадцать двести тридцать три сорок пять", [112, 233, 45]),
        ("ноль ноль семь", [0, 0, 7]),
        ("две тысячи двадцать шестого", [2026]),
        ("двадцать пять двадцать", [25, 20]),
        ("двадцатого пятого", [20, 5]),  # an ordinal ends its number
        ("пятого тысяча девятьсот восьмидесятого", [5, 1980]),
        ("ноябрь", None),
    ],
)
def test_number_words_are_split_as_dictated(words: str, groups: list[int] | None) -> None:
    assert number_groups(words.split()) == groups


@pytest.mark.parametrize(
    ("kind", "value", "spoken"),
    [
        (
            "snils",
            "112-233-445 95",
            "сто двенадцать, двести тридцать три, четыреста сорок пять, девяносто пять",
        ),
        ("snils", "00705010005", "ноль ноль семь, ноль пятьдесят, сто, ноль пять"),
        (
            "phone",
            "+79123456789",
            "плюс семь, девятьсот двенадцать, триста сорок пять, "
            "шестьдесят семь, восемьдесят девять",
        ),
        ("phone", "912 34", "девятьсот двенадцать, тридцать четыре"),  # invalid: read back as heard
        ("inn", "500100732259", "пятьсот, сто, семьсот тридцать два, двести пятьдесят девять"),
        (
            "passport",
            "4510123456",
            "сорок пять, десять, сто двадцать три, четыреста пятьдесят шесть",
        ),
        ("passport", "0501 012345", "ноль пять, ноль один, ноль двенадцать, триста сорок пять"),
        ("digits", "1234567", "сто двадцать три, четыреста пятьдесят шесть, семь"),
        ("reference", "000", "ноль ноль ноль"),
    ],
)
def test_speak_digits_reads_in_dictation_groups(kind: str, value: str, spoken: str) -> None:
    assert slot_type(kind).speak(value) == spoken


def test_speak_digits_rejects_a_type_that_is_not_digits() -> None:
    with pytest.raises(ValueError, match="fio"):
        slot_type("fio").speak("Иванов")


@pytest.mark.parametrize(
    ("text", "when", "iso", "error"),
    [
        ("десятого мая восьмидесятого года", None, "1980-05-10", None),  # not 2080
        ("третье января двадцать пятого года", None, "2025-01-03", None),
        ("пятое мая тридцатого года", None, "2030-05-05", None),  # a deadline may be ahead
        ("пятое мая тридцатого года", "past", "1930-05-05", None),  # a birth date never is
        ("первое декабря двадцать шестого года", "past", None, "Эта дата ещё не наступила"),
        ("25.11.2026", "past", "2026-11-25", None),  # today counts as past and as future
        ("24.11.2026", "future", None, "Эта дата уже прошла"),
        ("первое декабря двадцать пятого года", "future", None, "Эта дата уже прошла"),  # not 2125
        # a day counted back from the call's date: «когда вы впервые обратились?» — «вчера»
        ("вчера", "past", "2026-11-24", None),
        ("это было позавчера", "past", "2026-11-23", None),
        ("сегодня утром", None, "2026-11-25", None),
        ("вчера", "future", None, "Эта дата уже прошла"),
        ("вчера или позавчера", "past", None, "Не удалось разобрать дату"),
    ],
)
def test_two_digit_years_and_past_or_future_dates_are_judged_against_the_call_date(text, when, iso, error):
    checked = check_date(text, date(2026, 11, 25), when)
    assert checked.ok == (iso is not None)
    if iso:
        assert checked.value == iso
    else:
        assert checked.error.startswith(error)
