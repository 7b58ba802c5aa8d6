"""The report's coaching section («Как вы говорили»): calls played through the real engine, typed
and as the voice channel hands them in (``Input.seconds``, ``Input.phrases``), and what the
written report then says — a tip per weakness, «Хорошо» otherwise, never a personal value."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from ivr.engine import Engine, ManualClock
from ivr.engine.call import Call
from ivr.flow.loader import parse_flow
from ivr.report import coaching, report

FLOW = """
flow:
  id: coach
  title: Коучинг
  start: ask_name
states:
  ask_name:
    say: "Представьтесь."
    topic: "Вход в личный кабинет"
    checklist: [{item: "СНИЛС", slot: snils}, {item: "Телефон", slot: phone}]
    collect: {slot: fio, type: fio, on_fail: next}
    next: ask_snils
  ask_snils: {say: "СНИЛС?", collect: {slot: snils, type: snils, on_fail: next}, next: ask_phone}
  ask_phone: {say: "Телефон?", collect: {slot: phone, type: phone, on_fail: next}, next: ask_problem}
  ask_problem:
    say: "Опишите проблему."
    collect: {slot: problem, type: text, measure: true, on_fail: next}
    next: bye
  bye: {say: "Спасибо.", end: true}
"""

NAME = "петров пётр сергеевич"
SNILS_GROUPS = "сто двенадцать двести тридцать три четыреста сорок пять девяносто пять"
SNILS_DIGITS = "один один два два три три четыре четыре пять девять пять"
PHONE_GROUPS = "восемь девятьсот шестнадцать сто двадцать три сорок пять шестьдесят семь"
PHONE_RUN = "мой номер 89161234567"
SHORT_PROBLEM = "Не могу войти в личный кабинет, пишет ошибка пятьсот два."
LONG_PROBLEM = (
    "Ну короче я это самое вчера хотел зайти в кабинет и ну значит ввёл пароль а там э ошибка "
    "и я типа попробовал ещё раз потом перезагрузил компьютер потом почистил кеш потом попробовал "
    "с телефона и там тоже как бы ничего не вышло и я ну не знаю что делать дальше потому что "
    "мне нужно срочно подать заявление а срок заканчивается уже в пятницу и я переживаю"
)


def play(answers: list[tuple[str, float]]) -> Call:
    """One call through the real engine; a non-zero number is how long the caller spoke, as the
    voice channel measures it; zero is typed input."""
    clock = ManualClock(datetime.fromisoformat("2026-11-25T10:00:00+03:00"))
    call = Engine(parse_flow(FLOW)).start_call(clock=clock, reference="12345678")
    for text, seconds in answers:
        clock.advance(seconds or 5)
        call.speech(text, seconds=seconds, phrases=1 if seconds else None)
    assert call.ended
    return call


def section(call: Call, tmp_path: Path) -> tuple[str, str]:
    """The coaching section of the written report, and everything written."""
    md, js = report.write(call, tmp_path)
    text = md.read_text(encoding="utf-8")
    start = text.index("## Как вы говорили")
    return text[start : text.index("## Переспросы")], text + js.read_text(encoding="utf-8")


def assert_no_personal_values(written: str) -> None:
    for value in ("Петров", "петров", "112", "сто двенадцать", "один один", "916", "89161234567",
                  "девятьсот шестнадцать"):
        assert value not in written, value


def test_a_caller_who_did_well_hears_only_good(tmp_path: Path):
    call = play([(NAME, 0), (SNILS_GROUPS, 0), (PHONE_GROUPS, 0), (SHORT_PROBLEM, 0)])
    text, written = section(call, tmp_path)
    assert "Совет" not in text
    assert "Хорошо: проблема изложена коротко и по делу (10 слов, 1 фраза)" in text
    assert "Хорошо: без слов-паразитов." in text
    assert "Хорошо: СНИЛС и телефон продиктованы группами." in text
    assert " с," not in text  # typed: nothing about time
    assert_no_personal_values(written)


def test_a_rambling_voice_caller_gets_one_tip_per_weakness(tmp_path: Path):
    call = play([(NAME, 2.5), (SNILS_DIGITS, 9.0), (PHONE_RUN, 3.0), (LONG_PROBLEM, 41.5)])
    text, written = section(call, tmp_path)
    lines = [line for line in text.splitlines() if line.startswith("- ")]
    assert len(lines) == 4 and all("**Совет:**" in line for line in lines), text
    assert "Проблему вы излагали долго: 41.5 с, 67 слов, 1 фраза." in text
    assert "сформулируйте её в одной-двух фразах".lower() in text.lower()
    assert "Слова-паразиты: «ну» — 3, «значит» — 1, «как бы» — 1, «короче» — 1 и ещё 3." in text
    assert "СНИЛС продиктован по одной цифре." in text
    assert "Телефон продиктован одной длинной цепочкой." in text
    assert text.count("группами по 3 цифры") == 2
    assert_no_personal_values(written)
    rep = json.loads((tmp_path / next(p.name for p in tmp_path.glob("*.json"))).read_text(encoding="utf-8"))
    assert rep["coaching"]["statement"] == {"words": 67, "phrases": 1, "seconds": 41.5, "asked": True}
    assert rep["coaching"]["fillers"]["ну"] == 3


def test_a_short_statement_is_too_short_to_be_useful(tmp_path: Path):
    call = play([(NAME, 2.0), (SNILS_GROUPS, 6.0), (PHONE_GROUPS, 5.0), ("не работает", 1.2)])
    text, _ = section(call, tmp_path)
    assert "Проблема описана слишком коротко: 1.2 с, 2 слова, 1 фраза." in text
    assert "Добавьте, что вы делали и что увидели" in text


def test_keyed_identifiers_are_not_judged_as_dictation(tmp_path: Path):
    clock = ManualClock(datetime.fromisoformat("2026-11-25T10:00:00+03:00"))
    call = Engine(parse_flow(FLOW)).start_call(clock=clock)
    call.speech(NAME)
    call.dtmf("11223344595")
    call.dtmf("89161234567")
    call.speech(SHORT_PROBLEM)
    text, _ = section(call, tmp_path)
    assert "продиктован" not in text


def test_without_a_text_slot_the_longest_free_answer_is_the_statement():
    flow = parse_flow("""
flow: {id: menu, title: Меню, start: menu}
states:
  menu:
    say: "Что случилось?"
    options:
      - {id: login, phrases: ["не могу войти", "вход"], keys: ["1"], goto: bye}
  bye: {say: "Ясно.", end: true}
""")
    call = Engine(flow).start_call(clock=ManualClock(datetime.fromisoformat("2026-11-25T10:00:00+03:00")))
    call.speech("ну не могу войти в кабинет", seconds=2.0)
    result = coaching.coach(call)
    assert result.statement == coaching.Statement(6, 1, 2.0, asked=False)
    assert [p.aspect for p in result.points] == ["statement", "fillers"]
    assert all(p.tip is None for p in result.points)  # two words short is fine when nobody asked


@pytest.mark.parametrize(
    ("said", "style"),
    [
        (SNILS_GROUPS, "groups"),
        ("112 233 445 95", "groups"),
        (PHONE_GROUPS, "groups"),
        (SNILS_DIGITS, "digits"),
        ("11223344595", "run"),
        ("сто двенадцать тысяч двести тридцать три", "run"),
        ("сто двенадцать", None),
    ],
)
def test_dictation_style(said: str, style: str | None):
    assert coaching.dictation_style(said) == style


def test_the_next_rehearsal_of_the_same_topic_shows_progress(tmp_path: Path):
    first = play([(NAME, 2.5), (SNILS_DIGITS, 9.0), (PHONE_RUN, 3.0), (LONG_PROBLEM, 41.5)])
    report.write(first, tmp_path)
    clock = ManualClock(datetime.fromisoformat("2026-11-26T18:30:00+03:00"))
    second = Engine(parse_flow(FLOW)).start_call(clock=clock)
    for text, seconds in [(NAME, 2.0), (SNILS_GROUPS, 6.0), (PHONE_GROUPS, 5.0), (SHORT_PROBLEM, 7.5)]:
        clock.advance(seconds)
        second.speech(text, seconds=seconds, phrases=1)
    md, js = report.write(second, tmp_path)
    line = ("В прошлый раз (25.11 в 10:00): проблема — 67 слов, сейчас 10; 41.5 с, сейчас 7.5 с; "
            "слов-паразитов 9, сейчас 0; советов 4, сейчас 0.")
    assert line in md.read_text(encoding="utf-8")
    assert report.progress_note(js) == line
    assert_no_personal_values(md.read_text(encoding="utf-8") + js.read_text(encoding="utf-8"))


def test_progress_compares_only_earlier_reports_of_the_same_flow_and_topic(tmp_path: Path):
    call = play([(NAME, 0), (SNILS_GROUPS, 0), (PHONE_GROUPS, 0), (SHORT_PROBLEM, 0)])
    md, js = report.write(call, tmp_path)  # the first rehearsal: nothing to compare with
    assert "В прошлый раз" not in md.read_text(encoding="utf-8") and report.progress_note(js) is None
    other = json.loads(js.read_text(encoding="utf-8"))
    (tmp_path / "other-topic.json").write_text(json.dumps({**other, "topic": "Другое"}), encoding="utf-8")
    (tmp_path / "later.json").write_text(json.dumps({**other, "started": "2027-01-01T00:00:00+03:00"}),
                                          encoding="utf-8")
    (tmp_path / "broken.json").write_text("{", encoding="utf-8")
    (tmp_path / "old.json").write_text(json.dumps({k: v for k, v in other.items() if k != "coaching"}),
                                        encoding="utf-8")
    found = coaching.previous_report(tmp_path, "coach", "Вход в личный кабинет",
                                     datetime.fromisoformat("2026-11-26T10:00:00+03:00"))
    assert found is not None and found["started"] == "2026-11-25T10:00:00+03:00"
    assert coaching.previous_report(tmp_path, "coach", "Вход в личный кабинет",
                                    datetime.fromisoformat("2026-11-25T10:00:00+03:00")) is None


def test_chat_shows_progress_at_the_end_of_the_second_call(tmp_path: Path):
    from tests.command import ivr_here

    example = str(Path(__file__).resolve().parents[2] / "flows" / "example.yaml")
    typed = "ну короче я это самое хочу записаться в библиотеку\n/выход\n"
    first = ivr_here("chat", example, "--now", "2026-11-25T10:00:00+03:00", "--reports", tmp_path, stdin=typed)
    assert first.returncode == 0, first.stderr
    assert "В прошлый раз" not in first.stdout
    second = ivr_here("chat", example, "--now", "2026-11-25T11:00:00+03:00", "--reports", tmp_path,
                      stdin="записаться\n/выход\n")
    assert second.returncode == 0, second.stderr
    assert "В прошлый раз (25.11 в 10:00): проблема — 9 слов, сейчас 1; слов-паразитов 3, сейчас 0" in second.stdout


STEPS_FLOW = """
flow: {id: steps, title: Шаги, start: hello}
states:
  hello: {say: "Оператор: Здравствуйте, оператор Анна.", topic: "Общий вопрос", next: intro}
  intro:
    step: "Представиться"
    collect: {slot: fio, type: fio, on_fail: next}
    noinput: ["Оператор: Слушаю вас. Как к вам обращаться?"]
    next: ident
  ident:
    step: "Назвать СНИЛС"
    options: [{id: snils, phrases: ["снилс", "мой снилс"], goto: snils}]
    noinput: ["Оператор: Назовите, пожалуйста, СНИЛС."]
  snils: {say: "Оператор: Диктуйте.", collect: {slot: snils, type: snils, on_fail: next}, next: docs}
  docs:
    step: "Спросить о документах"
    options:
      - {id: ask, phrases: ["какие документы нужны"], goto: bye}
      - {id: done, phrases: ["спасибо все"], skips_step: true, goto: bye}
    noinput: ["Оператор: Что-то ещё?"]
  bye: {say: "До свидания.", end: true}
"""


def test_the_report_says_which_steps_the_caller_took_unprompted(tmp_path: Path):
    clock = ManualClock(datetime.fromisoformat("2026-11-25T10:00:00+03:00"))
    call = Engine(parse_flow(STEPS_FLOW)).start_call(clock=clock)
    assert call.greeting == ["Оператор: Здравствуйте, оператор Анна."]  # then the line waits
    assert call.speech(NAME).said == []  # the operator does not ask for the next step
    assert call.silence(7).said == ["Оператор: Назовите, пожалуйста, СНИЛС."]
    turn = call.speech(f"мой снилс {SNILS_GROUPS}")
    # the choice and the value in one breath: the value is taken, «Диктуйте» is not said
    assert call.slots["snils"].valid and turn.said == [] and call.state == "docs"
    call.speech("спасибо все")
    assert call.ended
    text, written = section(call, tmp_path)
    assert "- Хорошо: «Представиться» — сами, без подсказки." in text
    assert ("- «Назвать СНИЛС» — после подсказки (1 подсказка). **Совет:** Делайте этот шаг сами, "
            "не дожидаясь вопроса") in text
    assert "- «Спросить о документах» — не сделано. **Совет:** Это ваш шаг в разговоре" in text
    assert_no_personal_values(written)
    rep = json.loads(next(tmp_path.glob("*.json")).read_text(encoding="utf-8"))
    assert [(s["state"], s["outcome"], s["hints"]) for s in rep["coaching"]["steps"]] == [
        ("intro", "unprompted", 0), ("ident", "hinted", 1), ("docs", "missed", 0)]


EARLY_FLOW = """
flow: {id: early, title: Шаги, start: hello}
states:
  hello: {say: "Оператор: Здравствуйте, оператор Анна.", topic: "Общий вопрос", next: question}
  question:
    step: "Изложить вопрос"
    collect: {slot: problem, type: text, on_fail: next}
    noinput: ["Оператор: Слушаю вас."]
    next: account
  account:
    say: "Оператор: Назовите номер кабинета."
    collect: {slot: account, type: digits, min_digits: 5, max_digits: 20, on_fail: next}
    next: docs
  docs:
    step: "Спросить о документах"
    options:
      - {id: ask, phrases: ["какие документы нужны"], early: true, say: "Оператор: Паспорт.", goto: number}
      - {id: number_first, phrases: ["продиктуйте номер обращения"], skips_step: true, goto: number}
    noinput: ["Оператор: Что-то ещё?"]
  number:
    step: "Записать номер обращения"
    options: [{id: ask, phrases: ["продиктуйте номер обращения"], early: true, goto: bye}]
    noinput: ["Оператор: Продиктовать номер?"]
  bye: {say: "Оператор: Записывайте: {reference}.", end: true}
"""


def test_a_step_taken_before_the_call_gets_to_it_is_in_the_report_as_taken(tmp_path: Path):
    clock = ManualClock(datetime.fromisoformat("2026-11-25T10:00:00+03:00"))
    engine = Engine(parse_flow(EARLY_FLOW))
    # the question already asks about documents: the operator answers when the call gets there
    asked = engine.start_call(clock=clock)
    assert asked.speech("хочу загранпаспорт какие документы нужны").said == ["Оператор: Назовите номер кабинета."]
    assert asked.dtmf("734281905").said == ["Оператор: Паспорт."] and asked.state == "number"
    asked.speech("продиктуйте номер обращения")
    text, _ = section(asked, tmp_path / "asked")
    assert "- Хорошо: «Спросить о документах» — сами, без подсказки." in text
    assert "- Хорошо: «Записать номер обращения» — сами, без подсказки." in text
    # the number asked for before documents: documents not done, the number step taken by those words
    number_first = engine.start_call(clock=clock)
    number_first.speech("хочу загранпаспорт")
    number_first.dtmf("734281905")
    said = number_first.speech("продиктуйте номер обращения").said
    assert len(said) == 1 and said[0].startswith("Оператор: Записывайте:") and number_first.ended
    text, _ = section(number_first, tmp_path / "number_first")
    assert "- «Спросить о документах» — не сделано." in text
    assert "- Хорошо: «Записать номер обращения» — сами, без подсказки." in text
    rep = json.loads(next((tmp_path / "number_first").glob("*.json")).read_text(encoding="utf-8"))
    assert [(s["state"], s["outcome"]) for s in rep["coaching"]["steps"]] == [
        ("question", "unprompted"), ("docs", "missed"), ("number", "unprompted")]


def test_a_one_word_question_takes_the_step_but_is_not_praised(tmp_path: Path):
    """«диктуйте» in the question step leaves it by a valid text: the step was the caller's, but
    «Хорошо» beside «Проблема описана слишком коротко» would contradict itself."""
    clock = ManualClock(datetime.fromisoformat("2026-11-25T10:00:00+03:00"))
    call = Engine(parse_flow(EARLY_FLOW)).start_call(clock=clock)
    call.speech("диктуйте")
    text, _ = section(call, tmp_path)
    assert "- «Изложить вопрос» — сами, но одним-двумя словами." in text, text
    assert "Хорошо: «Изложить вопрос»" not in text
    assert "Проблема описана слишком коротко" in text
