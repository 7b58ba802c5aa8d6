from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ivr.personal.masking import mask_text
from ivr.slots import SLOT_TYPES, slot_type


@pytest.mark.parametrize(
    ("kind", "value", "masked"),
    [
        ("snils", "11223344595", "***-***-*** 95"),
        ("snils", "112 233 445 95", "***-***-*** 95"),
        ("snils", "1122334", "*****34"),  # a misheard value is masked as heard, never shown
        ("snils", "112 23", "*** 23"),
        ("inn", "500100732259", "**********59"),
        ("phone", "+79123456789", "+7 *** ***-**-89"),
        ("phone", "8 (912) 345-67-89", "+7 *** ***-**-89"),
        ("passport", "4510123456", "** ** ***456"),
        ("oms", "7712345678901234", "**** **** **** **34"),
        ("oms", "77123456", "******56"),
        ("address", "улица Лесная дом 5 квартира 12", "[адрес скрыт]"),
        ("fio", "Иванов Иван Иванович", "И. И. И."),
        ("fio", "Римский-Корсаков Николай Андреевич", "Р. Н. А."),
        ("date", "1980-11-25", "**.**.1980"),
        ("date", "пятое ноября тысяча девятьсот восьмидесятого года", "**.**.1980"),
        ("date", "первого марта", "**.**.****"),
        ("text", "перезвоните на 89123456789 по 502", "перезвоните на *********89 по 502"),
    ],
)
def test_mask_value_keeps_only_what_identifies_nobody(kind: str, value: str, masked: str) -> None:
    assert slot_type(kind).mask(value) == masked


def test_every_personal_kind_is_masked() -> None:
    samples = {
        "fio": "Петрова Анна Сергеевна",
        "snils": "11223344595",
        "inn": "500100732259",
        "phone": "+79123456789",
        "passport": "4510123456",
        "date": "1980-11-25",
        "oms": "7712345678901234",
        "address": "улица Лесная дом 5",
    }
    personal = {name for name, t in SLOT_TYPES.items() if t.personal}
    assert personal == set(samples)
    for kind in personal:
        assert slot_type(kind).mask(samples[kind]) != samples[kind]


@pytest.mark.parametrize(
    ("said", "masked"),
    [
        ("мой снилс 112-233-445 95", "мой снилс ***-***-*** 95"),
        ("снилс 112 233 445 95, а ошибка 502", "снилс *** *** *** 95, а ошибка 502"),
        ("мой телефон +7 912 345-67-89", "мой телефон +7 *** ***-**-89"),
        ("звоните 8 (912) 345-67-89", "звоните * (***) ***-**-89"),
        ("паспорт 4510 123456", "паспорт **** ****56"),
        ("ошибка 502 с 25.11.2026", "ошибка 502 с 25.11.2026"),
        ("номер 123-456 и 12345", "номер ***-*56 и 12345"),  # six digits are enough to hide
        ("код из смс 4821", "код из смс 4821"),
        ("Не могу войти в кабинет, пишет «ошибка»", "Не могу войти в кабинет, пишет «ошибка»"),
        ("один раз звонил, два раза писал", "один раз звонил, два раза писал"),
        (
            "мой снилс сто двенадцать двести тридцать три четыреста сорок пять девяносто пять",
            "мой снилс ***",
        ),
        ("инн ноль ноль семь, пятьсот один, двадцать три, спасибо", "инн ***, спасибо"),
        ("сто двадцать три четыреста пятьдесят шесть", "***"),
        ("двенадцать тридцать четыре пять", "двенадцать тридцать четыре пять"),  # five digits
        (
            "ошибка пятьсот два с двадцать пятого ноября две тысячи двадцать шестого года",
            "ошибка пятьсот два с двадцать пятого ноября две тысячи двадцать шестого года",
        ),
        # a date of birth or of a passport's issue, or any date long past: day and month hidden
        ("родился двадцать седьмого июля 1977 года", "родился **.** 1977 года"),
        ("дата рождения 3 марта 1980", "дата рождения **.** 1980"),
        ("родилась 27.07.1977", "родилась **.**.1977"),
        ("паспорт выдан 12 мая 2010 года", "паспорт выдан **.** 2010 года"),
        ("третьего марта тысяча девятьсот восьмидесятого года", "**.** тысяча девятьсот восьмидесятого года"),
        ("заявление от 01.02.2012 висит", "заявление от **.**.2012 висит"),
        ("оплатила пятнадцатого октября", "оплатила пятнадцатого октября"),
        ("в начале июля 1999 года", "в начале июля 1999 года"),  # no day: no date of anyone
        ("почта oleg.vinogradov@mail.ru, пишите", "почта o***@mail.ru, пишите"),
    ],
)
def test_mask_text_hides_long_numbers_in_what_a_caller_said(said: str, masked: str) -> None:
    assert mask_text(said) == masked


# Six digits, possibly with single separators between them, as a reader would still recognise.
_SIX_DIGITS = re.compile(r"\d(?:[ \-]?\d){5}")


@given(st.text(alphabet="0123456789 -+().абв\n", max_size=60) | st.text(max_size=60))
def test_mask_text_never_leaves_six_digits_of_the_input(text: str) -> None:
    assert not _SIX_DIGITS.search(mask_text(text))
