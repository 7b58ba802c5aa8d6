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


@pytest.mark.parametrize(
    "text,expected",
    [
        # the speaker label is for the screen: a person does not announce themselves
        ("Оператор: Назовите номер заявки.", "Назовите номер заявки."),
        ("Соединяю с учебным оператором. — Оператор: Здравствуйте!",
         "Соединяю с учебным оператором. Здравствуйте!"),
        ("Оператор ответит в течение дня.", "Оператор ответит в течение дня."),  # a word, not a label
        # «с … до …»: both numbers in the genitive
        ("обычно с 9 до 20 часов", "обычно с девяти до двадцати часов"),
        ("с 10 до 16 часов", "с десяти до шестнадцати часов"),
        # a key right after a number would merge with it
        ("Ошибка 500 или 502 — 2.", "Ошибка пятьсот или пятьсот два, кнопка два."),
        ("Не приходит СМС — 3.", "Не приходит СМС — три."),
        # a quoted command after a dash is announced as one; a quoted name or a quote inside a
        # sentence is not
        ("Другой вопрос — «назад», главное меню — решётка.",
         "Другой вопрос — скажите «назад», главное меню — решётка."),
        ("«Тема» — «Эскалация обращения».", "«Тема» — «Эскалация обращения»."),
        ("ИНН (в документе — «ИИН»)", "и-эн-эн (в документе — «и-и-эн»)"),
        # letters, not a word; Russian words for the English ones
        ("Назовите ФИО и ИНН.", "Назовите эф-и-о и и-эн-эн."),
        ("включите JavaScript и cookies, укажите e-mail", "включите джаваскрипт и куки, укажите имейл"),
        ("ВКонтакте, Telegram", "ВКонтакте, Телеграм"),
        ("ИННА", "ИННА"),  # only whole words
        # a site as people say it, «/» not read literally
        ("на сайте gosuslugi.ru.", "на сайте госуслуги точка ру."),
        ("https://www.gosuslugi.ru/contacts", "госуслуги точка ру, страница «контакты»"),
        ("страница gosuslugi.ru/help", "страница госуслуги точка ру, страница «помощь»"),
        ("example.com", "ексампле точка ком"),
        ("ошибка 500/502", "ошибка пятьсот или пятьсот два"),
        ("скриншот/лог", "скриншот или лог"),
    ],
)
def test_screen_marks_are_said_as_a_person_would(text, expected):
    assert speakable(text) == expected


def test_no_latin_letters_left_in_the_shipped_flows_spoken_prompts():
    """espeak switches to an English voice on Latin letters: a prompt of the Госуслуги flow must
    not make it (addresses, cookies, Telegram are said in Russian)."""
    from pathlib import Path

    from ivr.flow.loader import load_flow

    flow = load_flow(Path(__file__).resolve().parents[2] / "flows" / "gosuslugi.yaml")
    latin = set()
    for name, state in flow.states.items():
        for text in [*state.say, *state.nomatch, *state.noinput]:
            spoken = speakable(re.sub(r"\{[\w.]+\}", "", text))
            latin |= {(name, w) for w in re.findall(r"[A-Za-z]+", spoken)}
    assert not latin
