from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ivr.voice.speakable import speakable


@pytest.mark.parametrize(
    "text,expected",
    [
        ("8 800 555-35-35", "восемь, восемьсот, пятьсот пятьдесят пять, тридцать пять, тридцать пять"),
        ("8-800-100-70-10", "восемь, восемьсот, сто, семьдесят, десять"),
        ("88001007010", "восемь, восемьсот, сто, семьдесят, десять"),
        ("+7 (495) 123-45-67", "плюс семь, четыреста девяносто пять, сто двадцать три, сорок пять, шестьдесят семь"),
        ("555-05-00", "пятьсот пятьдесят пять, ноль пять, ноль-ноль"),
        ("08:00", "восемь ноль-ноль"),
        ("9:05", "девять ноль пять"),
        ("21:30", "двадцать один тридцать"),
        ("115", "сто пятнадцать"),
        ("10 000 рублей", "десять тысяч рублей"),
        ("2 минуты", "две минуты"),
        ("1 попытка", "одна попытка"),
        ("1,5 часа", "одна целая пять десятых часа"),
        ("01.02.2024", "первое февраля две тысячи двадцать четвёртого года"),
        ("24/7", "двадцать четыре на семь"),
    ],
)
def test_examples(text, expected):
    assert speakable(text) == expected


def test_a_whole_prompt():
    prompt = "Служба поддержки работает с 08:00 до 20:00. Звоните 8 800 100-70-10 или 115, нажмите 1."
    assert speakable(prompt) == (
        "Служба поддержки работает с восьми ноль-ноль до двадцати ноль-ноль. "
        "Звоните восемь, восемьсот, сто, семьдесят, десять или сто пятнадцать, нажмите один."
    )


def test_numbers_after_prepositions_are_declined():
    assert speakable("ответ в течение 1 рабочего дня, до 5 рабочих дней, не более 90 дней") == (
        "ответ в течение одного рабочего дня, до пяти рабочих дней, не более девяноста дней")
    assert speakable("до 1 недели") == "до одной недели"
    assert speakable("не более 3 файлов") == "не более трёх файлов"
    assert speakable("ошибка 502, ждите 10 минут") == "ошибка пятьсот два, ждите десять минут"
    assert speakable("откроемся в 09:00") == "откроемся в девять ноль-ноль"


def test_text_without_digits_is_untouched():
    text = "Здравствуйте! Назовите, пожалуйста, цель обращения."
    assert speakable(text) == text


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.integers(0, 10**9).map(str), st.sampled_from([" ", "-", ":", ".", ",", "(", ")", "+", "/", " слово "])), max_size=12))
def test_no_digit_survives(parts):
    assert not re.search(r"\d", speakable("".join(parts)))
