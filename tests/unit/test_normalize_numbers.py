"""Normalization and dictated numbers, as callers say them and as Vosk writes them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from num2words import num2words

from ivr.understanding.lemmas import analyzer, lemma, lemmas
from ivr.understanding.normalize import normalize, tokens
from ivr.understanding.numbers import (
    extract_digits,
    is_number_word,
    number_groups,
    number_value,
    words_to_digits,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Не могу войти в «Госуслуги»!", "не могу войти в госуслуги"),
        ("  Учётная   запись — заблокирована...  ", "учетная запись заблокирована"),
        ("гос-услуги, „пароль“ (код) 'смс' \"да\"", "гос услуги пароль код смс да"),
        ("ЁЛКИ\tпалки\nещё", "елки палки еще"),
        ("паро\u0301ль", "пароль"),  # a stress mark written for speech synthesis
        ("е\u0308ж и\u0306од", "еж йод"),  # decomposed «ё» and «й»
        ("ошибка 500; код_2", "ошибка 500 код 2"),
        ("+7 (912) 345-67-89", "7 912 345 67 89"),
        ("?!…", ""),
        ("", ""),
    ],
)
def test_normalize(text: str, expected: str) -> None:
    assert normalize(text) == expected


def test_normalize_is_idempotent_and_tokens_split_it() -> None:
    text = "Ну, э-э… мне нужно «восстановить» пароль!"

    assert normalize(normalize(text)) == normalize(text)
    assert tokens(text) == ["ну", "э", "э", "мне", "нужно", "восстановить", "пароль"]


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("паролем", "пароль"),
        ("пароля", "пароль"),
        ("учётной", "учетный"),  # pymorphy writes «ё» in the normal form; normalized text never does
        ("заявления", "заявление"),
        ("звонил", "звонить"),
    ],
)
def test_lemma(word: str, expected: str) -> None:
    assert lemma(word) == expected


def test_lemmas_and_a_single_analyzer() -> None:
    assert lemmas("Забыла ПАРОЛЬ от учётки!")[:2] == ("забыть", "пароль")
    assert analyzer() is analyzer()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # error codes
        ("ошибка пятьсот два", "ошибка 502"),
        ("выдает ошибку четыреста четыре", "выдает ошибку 404"),
        ("код ошибки ноль ноль семь", "код ошибки 007"),
        # a lone ordinal stays a word: «второй раз» and «первого числа» are speech, not digits
        ("пятисотая ошибка", "пятисотая ошибка"),
        ("звоню второй раз", "звоню второй раз"),
        # years and dates
        ("две тысячи двадцать шесть", "2026"),
        ("в две тысячи двадцать четвертом году", "в 2024 году"),
        ("родился двадцать пятого марта тысяча девятьсот восьмидесятого года", "родился 25 марта 1980 года"),
        # digit by digit
        ("два ноль один", "201"),
        ("нуль один", "01"),
        # case forms
        ("с двумястами рублями", "с 200 рублями"),
        ("о двухстах четырех", "о 204"),
        ("тремястами", "300"),
        ("пятью", "5"),
        ("двух", "2"),
        ("одну минуту", "1 минуту"),
        ("сто тысяч", "100000"),
        ("пять тысяч пятьсот", "5500"),
        # «семью» is read as «семья», and plural «одни» is not a number
        ("справка на семью из семи человек", "справка на семью из 7 человек"),
        ("одни проблемы", "одни проблемы"),
        # typed digits
        ("1 2 3", "1 2 3"),
        ("плюс 7 девятьсот двенадцать", "плюс 7912"),
        ("2 тысячи двадцать шесть", "2026"),
        # no numbers: normalized and otherwise unchanged
        ("Не приходит СМС, что делать?", "не приходит смс что делать"),
        ("", ""),
    ],
)
def test_words_to_digits(text: str, expected: str) -> None:
    assert words_to_digits(text) == expected


def test_consecutive_chunks_become_one_run() -> None:
    snils = "сто двенадцать двести тридцать три четыреста сорок пять девяносто пять"

    assert words_to_digits(snils) == "11223344595"
    assert words_to_digits(f"мой снилс {snils} вот") == "мой снилс 11223344595 вот"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "мой снилс сто двенадцать двести тридцать три четыреста сорок пять девяносто пять",
            "11223344595",
        ),
        (
            "восемь девятьсот двенадцать триста сорок пять шестьдесят семь восемьдесят девять",
            "89123456789",
        ),
        (
            "плюс семь девятьсот двенадцать триста сорок пять шестьдесят семь восемьдесят девять",
            "79123456789",
        ),
        ("восемь девятьсот двенадцать три четыре пять шесть семь восемь девять", "89123456789"),
        ("номер заявления двенадцать тридцать четыре пятьдесят шесть", "123456"),
        ("ошибка пятьсот два", "502"),
        ("+7 (912) 345-67-89", "79123456789"),
        ("пятисотая ошибка", ""),
        ("я не знаю", ""),
    ],
)
def test_extract_digits(text: str, expected: str) -> None:
    assert extract_digits(text) == expected


@pytest.mark.parametrize(
    ("word", "expected"),
    [("пятьсот", 500), ("пятисотая", 500), ("первый", 1), ("одной", 1), ("007", 7), ("пароль", None)],
)
def test_number_value(word: str, expected: int | None) -> None:
    assert number_value(word) == expected


@given(st.integers(min_value=0, max_value=999_999))
def test_any_spoken_cardinal_is_read_back(number: int) -> None:
    assert words_to_digits(num2words(number, lang="ru")) == str(number)


# Above 9999 num2words itself inflects the wrong word («десятый тысяч первый» for 10001).
@given(st.integers(min_value=1, max_value=9_999))
def test_an_ordinal_is_read_only_when_it_ends_a_longer_number(number: int) -> None:
    spoken = num2words(number, lang="ru", to="ordinal")
    expected = str(number) if len(spoken.split()) > 1 else normalize(spoken)

    assert words_to_digits(spoken) == expected


@pytest.mark.parametrize(
    ("words", "groups"),
    [
        ("сто двенадцать двести тридцать три сорок пять", [112, 233, 45]),
        ("ноль ноль семь", [0, 0, 7]),
        ("две тысячи двадцать шестого", [2026]),
        ("сто тысяч пятьсот", [100500]),
        ("двадцать пять двадцать", [25, 20]),
        # a lone ordinal is a number here: the caller already knows these words are one
        ("двадцатого пятого", [20, 5]),
        ("пятого тысяча девятьсот восьмидесятого", [5, 1980]),
        ("двухтысячного", [2000]),
        ("второе", [2]),
        # case forms, capitals and «ё»
        ("двух тысяч двадцати", [2020]),
        ("Двадцать Четвёртого", [24]),
        ("", []),
        ("ноябрь", None),
        ("две тысячи 26", None),  # typed digits are not number words
    ],
)
def test_number_groups_splits_as_dictated(words: str, groups: list[int] | None) -> None:
    assert number_groups(words.split()) == groups


@given(st.lists(st.integers(min_value=0, max_value=999_999), min_size=1, max_size=4))
def test_number_groups_splits_where_words_to_digits_does(chunks: list[int]) -> None:
    spoken = " ".join(num2words(chunk, lang="ru") for chunk in chunks)
    groups = number_groups(spoken.split())

    assert groups is not None
    assert "".join(map(str, groups)) == words_to_digits(spoken)


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("тысяча", True),
        ("Четвёртого", True),
        ("двухтысячного", True),
        ("нуль", True),
        ("пятью", True),
        ("семью", False),  # far more often «семья»
        ("пароль", False),
        ("2026", False),
    ],
)
def test_is_number_word(word: str, expected: bool) -> None:
    assert is_number_word(word) is expected


def test_an_ordinal_homonym_is_read_after_a_cardinal() -> None:
    # «второе» is also the main course, but never after «двадцать»; alone it stays a word.
    assert words_to_digits("двадцать второе") == "22"
    assert words_to_digits("на второе") == "на второе"
    # An ordinal of thousands names its own multiplier and never ends a cardinal chunk.
    assert words_to_digits("сто двухтысячного") == "100 двухтысячного"


def test_characters_without_unicode_names_do_not_crash_lemmas():
    from ivr.understanding.lemmas import lemmas

    assert lemmas("пароль \U00017000") == ("пароль", "\U00017000")
