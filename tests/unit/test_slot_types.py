"""Every registered slot type, walked through a real call, its transcript and its report.

A type added to the registry without a sample here fails the first test, so nobody can add a slot
type without saying whether it is personal data and proving that it is masked on disk.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from ivr.engine import Engine, ManualClock
from ivr.flow.loader import parse_flow
from ivr.report import report
from ivr.slots import SLOT_TYPES, slot_type
from ivr.slots.parsers import Limits

# type → (what the caller says, forms of the value that must never reach disk when masked)
SAMPLES: dict[str, tuple[str, list[str]]] = {
    "text": ("перезвоните мне завтра", []),
    "digits": ("сто двадцать три", []),
    "number": ("42", []),
    "yesno": ("да", []),
    "fio": ("Петрова Анна Сергеевна", ["Петрова", "Анна", "Сергеевна", "петрова"]),
    "snils": ("112-233-445 95", ["11223344595", "112-233-445", "112 233 445", "233-445"]),
    "inn": ("500100732259", ["500100732259", "5001007322"]),
    "phone": ("+7 912 345-67-89", ["9123456789", "912 345", "345-67"]),
    "passport": ("4506 123456", ["4506123456", "4506", "123456", "45 06"]),
    "address": ("улица Лесная дом пять квартира двенадцать", ["Лесная", "квартира двенадцать", "лесная"]),
    "oms": ("7712 3456 7890 1234", ["7712345678901234", "7712 3456", "3456 7890", "7890 12"]),
    "date": ("14.03.1980", ["14.03.1980", "1980-03-14", "14.03", "03-14"]),
    "reference": ("{reference}", []),
}
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=timezone(timedelta(hours=3)))


def _flow(kind: str):
    return parse_flow(
        f"""
flow: {{id: walk, title: Проверка, start: ask}}
states:
  ask:
    say: "Назовите значение. Номер обращения {{reference}}."
    collect: {{slot: value, type: {kind}, on_fail: next}}
    checklist: [{{item: Значение, slot: value}}]
    next: done
  done: {{say: "Спасибо, вы назвали {{value}}.", end: true}}
""",
        f"<{kind}>",
    )


def test_every_registered_type_has_a_sample_here():
    assert set(SAMPLES) == set(SLOT_TYPES)


@pytest.mark.parametrize("kind", sorted(SLOT_TYPES))
def test_a_personal_type_never_reaches_disk_unmasked(kind: str, tmp_path: Path):
    said, secrets = SAMPLES[kind]
    assert bool(secrets) == slot_type(kind).personal, "a personal type needs secrets to look for, and only it"
    engine = Engine(_flow(kind))
    call = engine.start_call(clock=ManualClock(NOW), transcript=tmp_path / "t.jsonl", seed=1)
    turn = call.speech(said.replace("{reference}", call.reference))
    assert call.slots["value"].valid, (kind, call.slots["value"])
    assert turn.match is not None and call.ended
    report.write(call, tmp_path)
    written = "\n".join(p.read_text(encoding="utf-8") for p in tmp_path.iterdir())
    for secret in secrets:
        assert secret not in written, f"{kind}: «{secret}» written unmasked"
    if not secrets:  # not personal: the value itself is in the transcript, for the caller to read
        assert json.loads((tmp_path / "t.jsonl").read_text().splitlines()[1])["match"]["value"]


def test_a_collected_date_is_masked_in_transcript_and_report(tmp_path: Path):
    """The bug that showed slot-type rules lived in seven places: ``type: date`` (the Госуслуги
    payment and complaint dates) went to disk raw because masking only knew ``date_of_birth``."""
    engine = Engine(_flow("date"))
    call = engine.start_call(clock=ManualClock(NOW), transcript=tmp_path / "t.jsonl")
    call.speech("четырнадцатое марта тысяча девятьсот восьмидесятого года")
    assert call.slots["value"].value == "1980-03-14"
    md, js = report.write(call, tmp_path)
    turn = json.loads((tmp_path / "t.jsonl").read_text().splitlines()[1])
    assert turn["match"]["value"] == "**.**.1980"
    assert "четырнадцатое" not in turn["input"] and "марта" not in turn["input"]
    for path in (md, js, tmp_path / "t.jsonl"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"14[.\-/ ]03|03-14|1980-03", text), path
    assert "**.**.1980" in md.read_text(encoding="utf-8")


def test_a_name_said_in_a_sentence_leaves_the_sentence_readable(tmp_path: Path):
    """«Здравствуйте, я Петрова Анна Сергеевна, мой СНИЛС …» at the name prompt was written as
    «З. я. П. А. С. м. С. 1. 9.»: the name's mask on the whole sentence. The name becomes initials,
    the number stars, the other words stay."""
    engine = Engine(_flow("fio"))
    call = engine.start_call(clock=ManualClock(NOW), transcript=tmp_path / "t.jsonl")
    call.speech("Здравствуйте, я Петрова Анна Сергеевна, мой СНИЛС 112-233-445 95")
    turn = json.loads((tmp_path / "t.jsonl").read_text().splitlines()[1])
    assert turn["input"] == "Здравствуйте, я П. А. С., мой СНИЛС ***-***-*** 95"
    assert turn["match"]["value"] == "П. А. С."


def test_keep_personal_data_keeps_the_date(tmp_path: Path):
    engine = Engine(_flow("date"))
    call = engine.start_call(clock=ManualClock(NOW), transcript=tmp_path / "t.jsonl", keep_personal_data=True)
    call.speech("25.11.1980")
    md, _ = report.write(call, tmp_path, keep_personal_data=True)
    assert "25.11.1980" in md.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("said", "value"),
    [
        ("да", "да"),
        ("ага верно", "да"),
        ("нет", "нет"),
        ("не верно", "нет"),
        ("неправильно", "нет"),
        ("не приходит", "нет"),
        ("неа", "нет"),
    ],
)
def test_yes_and_no(said: str, value: str):
    parsed = slot_type("yesno").parse(said, False, _limits())
    assert parsed.valid and parsed.value == value


@pytest.mark.parametrize("said", ["не знаю", "я не уверен", "не уверена", "не помню", "да не знаю я"])
def test_not_knowing_is_a_third_answer_not_no(said: str):
    parsed = slot_type("yesno").parse(said, False, _limits())
    assert not parsed.valid and parsed.value == "не знаю"
    assert parsed.display == said  # read back as said: «не помню» is not «не знаю»
    assert "скажите «нет»" in (parsed.error or "")


@pytest.mark.parametrize(
    "said",
    [
        "ну здравствуйте я петров пётр сергеевич",
        "алло девушка это петров пётр сергеевич",
        "ну петров это самое пётр сергеевич",
        "э меня зовут петров пётр сергеевич пожалуйста",
    ],
)
def test_fillers_and_greetings_around_a_name_are_not_the_name(said: str):
    parsed = slot_type("fio").parse(said, False, _limits())
    assert parsed.valid and parsed.value == "Петров Петр Сергеевич", parsed  # ё is normalised


def test_keypad_digit_slots_are_the_types_that_take_digits():
    """A digit key fills these slots instead of picking a menu command (``0`` is a digit of a
    СНИЛС, not the operator)."""
    takes_keys = {name for name, t in SLOT_TYPES.items() if t.keypad}
    assert takes_keys == {"digits", "number", "snils", "inn", "phone", "passport", "oms", "date", "reference"}


def _limits():
    from ivr.slots import Limits

    return Limits()


def test_names_in_free_speech_are_masked_in_the_transcript(tmp_path: Path):
    """A problem statement that names the caller («меня зовут Петрова Анна Сергеевна») is not a
    ФИО slot, but the name must not reach disk either."""
    engine = Engine(_flow("text"))
    call = engine.start_call(clock=ManualClock(NOW), transcript=tmp_path / "t.jsonl")
    call.speech("Меня зовут Петрова Анна Сергеевна, не приходит смс")
    report.write(call, tmp_path)
    written = "\n".join(p.read_text(encoding="utf-8") for p in tmp_path.iterdir())
    assert "Петрова" not in written and "Сергеевна" not in written
    assert "П. А. С." in written and "не приходит смс" in written


def test_a_name_given_in_part_then_in_full_or_in_another_case_is_masked_whole(tmp_path: Path):
    """Found by the personal-data scan: «меня зовут семёнов виктор» filled the ФИО slot, so the
    redactor masked those two words in a later statement and left the patronymic beside their
    initials («С. В. Андреевич») — one name word alone is not masked in free speech; and it
    matched them inside other cases of the same words, leaving «С.у В.у Андреевичу»."""
    engine = Engine(_flow("fio"))
    call = engine.start_call(clock=ManualClock(NOW), transcript=tmp_path / "t.jsonl")
    call.speech("меня зовут семёнов виктор")
    assert call.slots["value"].valid
    report.write(call, tmp_path)
    from ivr.report.report import redactor

    redact = redactor(call)
    assert redact("Здравствуйте, меня зовут Семёнов Виктор Андреевич, не могу войти") == (
        "Здравствуйте, С. В. А., не могу войти"
    )
    assert redact("в т.ч. оплата") == "в т.ч. оплата"  # initials alone are not a name
    # in another case, the remembered words were masked inside the longer ones: «с.у в.у андреевичу»
    assert redact("звонил семенову виктору андреевичу") == "звонил С. В. А."
    assert redact("нет Семёнова, есть Викторина") == "нет С., есть Викторина"  # whole words only


def test_words_said_instead_of_digits_are_not_a_form_of_the_value(tmp_path: Path):
    """Found by benchmarks/bench_soak.py: a name said at the phone slot was remembered as a form of
    the (empty) phone number, so a later statement lost those words and kept the patronymic
    beside them («Здравствуйте,  Ивановна»)."""
    engine = Engine(_flow("phone"))
    call = engine.start_call(clock=ManualClock(NOW), transcript=tmp_path / "t.jsonl")
    call.speech("меня зовут фёдорова татьяна")
    assert not call.slots["value"].valid
    from ivr.report.report import redactor

    said = "Здравствуйте, меня зовут Фёдорова Татьяна Ивановна, не могу войти"
    assert redactor(call)(said) == "Здравствуйте, меня зовут Ф. Т. И., не могу войти"


def test_a_story_said_when_the_name_is_asked_does_not_turn_every_word_into_a_name(tmp_path: Path):
    """Found by benchmarks/bench_soak.py: every word of an invalid ФИО answer was remembered as a
    name word, so a repeat of the story became initials, digit groups included, and the passport
    series left between them («… П. 50 18 6. …») was too short to be masked as a number. The name
    now ends where «паспорт» begins: it is taken, and the words after it stay words."""
    engine = Engine(_flow("fio"))
    call = engine.start_call(clock=ManualClock(NOW), transcript=tmp_path / "t.jsonl")
    story = "меня зовут Фёдорова Татьяна Ивановна, паспорт 4018 013808, не могу войти"
    call.speech(story)
    assert call.slots["value"].valid  # the name ends where «паспорт» begins
    from ivr.report.report import redactor

    masked = redactor(call)(story.replace("не могу", "всё ещё не могу"))
    assert "Фёдорова" not in masked and "Ивановна" not in masked and "4018" not in masked
    assert "паспорт" in masked and "войти" in masked


def test_a_number_said_in_a_sentence_with_other_numbers_is_taken_alone():
    """«…номер 12345678, ответа нет уже 40 дней» stored 1234567840 and the operator «saw» it; words
    between two numbers make them two, and the one that fits the slot is the value. Digits
    dictated in groups stay one number, and when no single number fits, all digits are read back
    as heard (the caller hears what went wrong)."""
    said = "прошу передать обращение номер 12345678 в вышестоящий отдел ответа нет уже 40 дней"
    assert slot_type("digits").parse(said, False, Limits(8, 12)).value == "12345678"
    assert slot_type("snils").parse("мой снилс 112-233-445 95 а ошибка 502", False, Limits()).valid
    grouped = "сто двенадцать двести тридцать три четыреста сорок пять девяносто пять"
    assert slot_type("snils").parse(grouped, False, Limits()).value == "11223344595"
    assert slot_type("digits").parse("номер 1234 и еще 5678", False, Limits(8, 12)).value == "12345678"


def test_a_double_name_is_one_name_word():
    """«Анна-Мария Петрова-Водкина Ивановна» was refused as a ФИО (five words once the hyphens were
    split) and «Петрова-Водкина Анна Ивановна» stored without its hyphen."""
    fio = slot_type("fio")
    assert (
        fio.parse("Анна-Мария Петрова-Водкина Ивановна", False, Limits()).value
        == "Анна-Мария Петрова-Водкина Ивановна"
    )
    assert (
        fio.parse("Петрова-Водкина Анна Ивановна", False, Limits()).value == "Петрова-Водкина Анна Ивановна"
    )
    assert fio.mask("Анна-Мария Петрова-Водкина Ивановна") == "А. П. И."


def test_a_value_the_parser_kept_nothing_of_is_read_back_as_said():
    """«гм» where the operator asks for a name was read back as «Я услышал: «ничего»». (The case
    was found with «алло», which is now talk about the line: «Слушаю вас», no try spent.)"""
    call = Engine.from_file(Path(__file__).resolve().parents[2] / "flows" / "gosuslugi.yaml").start_call(
        clock=ManualClock(NOW)
    )
    call.dtmf("0")
    turn = call.speech("гм")
    assert any("«гм»" in line for line in turn.said), turn.said
