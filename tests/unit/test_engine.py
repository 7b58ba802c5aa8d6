"""The engine on the example flow: menus, slots, reprompts, escalation, globals, hours, transcripts."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest

from ivr.engine import Engine, ManualClock
from ivr.engine.records import OptionChosen
from ivr.flow.loader import parse_flow
from ivr.hearing import grammar_for

ROOT = Path(__file__).resolve().parents[2]
WEDNESDAY_MORNING = datetime.fromisoformat("2026-11-25T10:00:00+03:00")


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine.from_file(ROOT / "flows" / "example.yaml")


@pytest.fixture
def call(engine):
    return engine.start_call(clock=ManualClock(WEDNESDAY_MORNING), seed=1)


def test_calls_share_one_machine_and_are_never_registered_in_it(engine):
    machine = engine.machine
    calls = [engine.start_call(clock=ManualClock(WEDNESDAY_MORNING)) for _ in range(50)]
    for c in calls:
        c.speech("продлить книгу")
    assert engine.machine is machine
    assert machine.models == []  # finished calls cannot pile up inside the machine
    assert {c.state for c in calls} == {"renew_card"}


def test_greeting_then_menu_by_phrase_with_a_wrong_ending(call):
    assert call.state == "main"
    assert "Главное меню" in call.greeting[-1]
    turn = call.speech("мне бы продлением книги заняться")
    assert isinstance(turn.match, OptionChosen) and turn.match.id == "renew"
    assert turn.to_json()["match"] == {"kind": "option", "id": "renew", "score": turn.match.score}
    assert call.state == "renew_card"
    assert call.topic == "Продление книги"
    assert [e.item for e in call.checklist] == ["Номер читательского билета"]


def test_slot_from_number_words_and_from_keys(engine):
    by_voice = engine.start_call(clock=ManualClock(WEDNESDAY_MORNING))
    by_voice.dtmf("1")
    by_voice.speech("сто двадцать три четыреста пятьдесят шесть")
    by_keys = engine.start_call(clock=ManualClock(WEDNESDAY_MORNING))
    by_keys.dtmf("1")
    by_keys.dtmf("123456#")
    for c in (by_voice, by_keys):
        assert c.slots["card"].value == "123456" and c.slots["card"].valid
        assert c.ended and c.state == "renew_done"


def test_keypad_type_ahead_carries_digits_into_the_next_slot(call):
    call.dtmf("1123456")
    assert call.state == "renew_done"
    assert call.slots["card"].value == "123456"


def test_invalid_value_is_read_back_and_asked_again(call):
    call.dtmf("2")
    turn = call.speech("восемь девятьсот двенадцать триста сорок пять")
    assert turn.event == "invalid" and call.state == "signup"
    assert any("Вы назвали" in s for s in turn.said)
    turn = call.speech("восемь девятьсот двенадцать триста сорок пять шестьдесят семь восемьдесят девять")
    assert call.slots["phone"].value == "+79123456789"
    assert call.state == "signup_done"
    assert "+7 912 345-67-89" in turn.said[0]


def test_nomatch_reprompts_differ_then_escalate_to_operator(call):
    first = call.speech("какая сегодня погода")
    second = call.speech("ну вот это самое")
    assert (first.event, second.event) == ("nomatch", "nomatch")
    assert first.said != second.said
    assert "Нажмите 1" in second.said[0]
    third = call.speech("а")
    assert third.event == "escalated"
    assert call.state == "operator" and call.ended
    assert [r.cause for r in call.reprompts] == ["nomatch", "nomatch", "nomatch"]


def test_silence_counts_toward_the_same_limit(call):
    assert call.silence(6).event == "noinput"
    assert "не слышу" in call.turns[-1].said[0]
    call.speech("что-то непонятное")
    assert call.silence(6).event == "escalated"
    assert call.state == "operator"


def test_counters_reset_when_the_state_changes(call):
    call.speech("абракадабра")
    call.speech("абракадабра")
    call.dtmf("1")
    assert call.failures == 0
    call.speech("не знаю")
    call.speech("не помню")
    assert call.state == "renew_card"  # two failures here, the limit is three


def test_global_commands_from_a_deep_state(engine):
    clock = ManualClock(WEDNESDAY_MORNING)
    c = engine.start_call(clock=clock)
    c.dtmf("1")
    assert c.speech("повторите").said == ["Назовите номер читательского билета, шесть цифр."]
    assert c.state == "renew_card"
    c.speech("назад")
    assert c.state == "main"
    c.dtmf("2")
    assert c.dtmf("#").choice_id == "main_menu" and c.state == "main"
    c.dtmf("1")
    assert c.speech("соедините с оператором").choice_id == "operator"
    assert c.state == "operator" and c.ended


AMBIGUOUS = """
flow: {id: amb, title: A, start: main}
states:
  main:
    say: "Меню"
    options:
      - {id: pay, keys: "2", phrases: ["оплата", "платеж"], goto: a, label: "оплата"}
      - {id: status, keys: "1", phrases: ["статус заявления"], goto: b, label: "статус заявления"}
      - {id: other, keys: "3", phrases: ["другое"], goto: c}
  a: {say: "A", end: true}
  b: {say: "B", end: true}
  c: {say: "C", end: true}
"""


@pytest.fixture
def ambiguous(tmp_path) -> Engine:
    flow = tmp_path / "amb.yaml"
    flow.write_text(AMBIGUOUS, encoding="utf-8")
    return Engine.from_file(flow)


def test_ambiguous_answer_gets_a_clarifying_question_not_a_guess(ambiguous):
    c = ambiguous.start_call()
    turn = c.speech("статус оплаты")
    assert turn.event == "ambiguous" and c.state == "main"
    assert turn.said == ["Уточните, пожалуйста: «оплата» или «статус заявления»?"]
    c.speech("оплата")
    assert c.state == "a"


def test_keys_one_and_two_answer_a_clarifying_question_other_keys_stay_the_menus(ambiguous):
    """«…«оплата» или «статус заявления»? Первое — 1, второе — 2»: the caller presses 2 for the
    status, not the menu's key 2; a key the question does not offer is the menu's."""
    c = ambiguous.start_call()
    assert c.speech("статус оплаты").event == "ambiguous"
    c.dtmf("2")
    assert c.state == "b"
    c = ambiguous.start_call()
    c.speech("статус оплаты")
    c.dtmf("3")
    assert c.state == "c"
    c = ambiguous.start_call()  # the question is forgotten after another answer: 2 is the menu's again
    c.speech("статус оплаты")
    c.silence()
    c.dtmf("2")
    assert c.state == "a"


@pytest.mark.parametrize(("now", "opens"), [
    ("2026-11-25T18:30:00+03:00", "завтра в 09:00"),  # Wednesday evening
    ("2026-11-28T19:00:00+03:00", "в понедельник в 09:00"),  # Saturday evening, Sunday closed
    ("2026-11-29T12:00:00+03:00", "завтра в 09:00"),  # Sunday
    ("2026-11-25T04:00:00+00:00", "сегодня в 09:00"),  # 07:00 in Moscow, given in UTC
])
def test_out_of_hours_call_is_told_when_the_line_opens(engine, now, opens):
    c = engine.start_call(clock=ManualClock(datetime.fromisoformat(now)))
    assert c.state == "closed" and c.ended
    assert opens in " ".join(c.greeting)


def test_transcript_is_masked_and_complete(engine, tmp_path):
    path = tmp_path / "t.jsonl"
    c = engine.start_call(clock=ManualClock(WEDNESDAY_MORNING), transcript=path)
    c.dtmf("2")
    c.speech("восемь девятьсот двенадцать триста сорок пять шестьдесят семь восемьдесят девять")
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [r["type"] for r in records] == ["call", "turn", "turn", "end"]
    text = path.read_text(encoding="utf-8")
    assert "9123456789" not in text and "912 345" not in text and "девятьсот двенадцать" not in text
    assert records[2]["match"]["value"].endswith("89")


def test_transcript_survives_a_killed_process(tmp_path):
    """Kill -9 the chat mid-call: the turns typed so far are already on disk."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "ivr", "chat", str(ROOT / "flows" / "example.yaml"),
         "--now", "2026-11-25T10:00:00+03:00", "--reports", str(tmp_path)],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
    )
    try:
        proc.stdin.write("не понимаю\n2\n")
        proc.stdin.flush()
        deadline = time.monotonic() + 30
        turns: list[dict] = []
        while time.monotonic() < deadline:
            files = list(tmp_path.glob("*.transcript.jsonl"))
            if files:
                lines = files[0].read_text(encoding="utf-8").splitlines()
                turns = [json.loads(x) for x in lines if '"turn"' in x]
                if len(turns) == 2:
                    break
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=10)
    assert [t["input"] for t in turns] == ["не понимаю", "2"]
    assert turns[1]["state"] == "signup"


def test_seeded_reference_is_reproducible_and_not_one_repeated_digit(engine):
    a = engine.start_call(clock=ManualClock(WEDNESDAY_MORNING), seed=13).reference
    b = engine.start_call(clock=ManualClock(WEDNESDAY_MORNING), seed=13).reference
    assert a == b and len(a) == 8 and len(set(a)) > 1


def test_main_menu_jump_starts_a_new_path_for_back(call):
    call.dtmf("1")
    call.dtmf("#")
    turn = call.speech("назад")
    assert call.state == "main" and turn.said[0] == "Это начало меню."
    assert call.menu_stack == ["main"]


MULTI = """
flow: {id: m, title: M, start: pick}
globals:
  operator: {phrases: ["оператор"], goto: bye}
states:
  pick:
    say: "СНИЛС или ИНН?"
    checklist: [{item: "ИНН или СНИЛС", slot: [inn, snils]}]
    options:
      - {id: snils, keys: "1", phrases: ["снилс"], goto: ask_snils}
      - {id: inn, keys: "2", phrases: ["инн"], goto: ask_inn}
  ask_snils: {say: "СНИЛС?", collect: {slot: snils, type: snils, on_fail: next}, next: ask_date}
  ask_inn: {say: "ИНН?", collect: {slot: inn, type: inn, on_fail: next}, next: ask_date}
  ask_date: {say: "Дата?", collect: {slot: when, type: date, on_fail: next}, next: bye}
  bye: {say: "Пока", end: true}
"""


def test_checklist_item_with_alternative_slots_and_keyed_date():
    from ivr.flow.loader import parse_flow

    call = Engine(parse_flow(MULTI)).start_call()
    entry = call.checklist[0]
    assert call.item_status(entry)[0] == "missing"
    call.dtmf("1")
    call.dtmf("11223344596")
    assert call.item_status(entry)[0] == "invalid"
    call.dtmf("11223344595")
    assert call.item_status(entry)[0] == "ready"
    call.dtmf("25112026")
    assert call.slots["when"].value == "2026-11-25" and call.ended


def test_long_utterance_with_a_command_works_in_a_digit_slot():
    from ivr.flow.loader import parse_flow

    call = Engine(parse_flow(MULTI)).start_call()
    call.dtmf("1")
    call.speech("знаете что соедините меня пожалуйста с оператором")
    assert call.state == "bye"


@pytest.mark.parametrize(("said", "state"), [
    ("один", "renew_card"), ("цифра два", "signup"), ("первый пункт", "renew_card"), ("нажимаю два", "signup"),
    ("второй раз звоню", "main"),  # a number inside a sentence is not a key
    ("пять", "main"),  # no such key in this menu
])
def test_keys_said_aloud(engine, said, state):
    call = engine.start_call(clock=ManualClock(WEDNESDAY_MORNING))
    call.speech(said)
    assert call.state == state


def test_visited_condition_returns_a_shared_chain_to_its_topic():
    from ivr.flow.loader import FlowError, parse_flow

    flow = parse_flow("""
flow: {id: v, title: V, start: main}
states:
  main:
    say: "Тема?"
    options:
      - {id: a, keys: "1", phrases: ["первая тема"], goto: a_entry}
      - {id: b, keys: "2", phrases: ["вторая тема"], goto: b_entry}
  a_entry: {say: "Тема А.", next: ask_name}
  b_entry: {say: "Тема Б.", next: ask_name}
  ask_name: {say: "ФИО?", collect: {slot: fio, type: fio, on_fail: next}, next: [{if: visited a_entry, goto: a_end}, {goto: b_end}]}
  a_end: {say: "Детали по А.", end: true}
  b_end: {say: "Детали по Б.", end: true}
""")
    for key, end in (("1", "a_end"), ("2", "b_end")):
        call = Engine(flow).start_call()
        call.dtmf(key)
        call.speech("иванов иван иванович")
        assert call.state == end
    with pytest.raises(FlowError, match="нет состояния «a_entr»"):
        parse_flow("""
flow: {id: v, title: V, start: s}
states:
  s: {say: "?", collect: {slot: x, type: text, on_fail: next}, next: [{if: visited a_entr, goto: s}, {goto: s}]}
""")


def test_fio_must_look_like_a_name():
    from ivr.slots import Limits, slot_type

    def parse_fio(text):
        return slot_type("fio").parse(text, False, Limits())

    assert parse_fio("меня зовут абдуллаев рустам ильдарович").value == "Абдуллаев Рустам Ильдарович"
    assert parse_fio("цой виктор").valid
    assert not parse_fio("забыл пароль").valid
    assert not parse_fio("не могу войти").valid


def test_visited_forgets_the_topic_after_a_global_jump():
    from ivr.flow.loader import parse_flow

    flow = parse_flow("""
flow: {id: v2, title: V, start: main}
globals:
  home: {keys: "#", phrases: ["главное меню"], goto: main}
states:
  main:
    say: "Тема?"
    options:
      - {id: a, keys: "1", phrases: ["первая тема"], goto: a_entry}
      - {id: op, keys: "2", phrases: ["оператор"], goto: ask_name}
  a_entry: {say: "Тема А. Оператор — 1.", options: [{id: go, keys: "1", goto: ask_name}]}
  ask_name: {say: "ФИО?", collect: {slot: fio, type: fio, on_fail: next}, next: [{if: visited a_entry, goto: a_end}, {goto: general}]}
  a_end: {say: "Детали по А.", end: true}
  general: {say: "Общий вопрос.", end: true}
""")
    call = Engine(flow).start_call()
    call.dtmf("1")
    call.dtmf("#")  # back to the main menu: the caller left topic A
    call.dtmf("2")
    call.speech("иванов иван иванович")
    assert call.state == "general"


def test_schedule_is_said_in_words_that_read_aloud(engine):
    assert engine.hours.describe_week() == (
        "с понедельника по четверг с 09:00 до 18:00, в пятницу с 09:00 до 17:00, "
        "в субботу с 10:00 до 14:00, в воскресенье выходной (время московское); "
        "в праздничные дни (31.12.2026, 01.01.2027) — выходной")


def test_any_state_name_and_option_id_works_the_machine_keeps_triggers_apart():
    """The machine owns the trigger vocabulary, so names that once collided with its own
    (option ids «next», «escalate», «fail», «global:x»; states «global», «a>b») are ordinary names."""
    from ivr.flow.loader import parse_flow

    flow = parse_flow("""
flow: {id: names, title: x, start: a>b, escalate: global}
globals:
  x: {keys: ["0"], phrases: [оператор], goto: global}
states:
  a>b:
    say: меню
    options:
      - {id: next, keys: "1", phrases: [дальше], goto: global}
      - {id: escalate, keys: "2", phrases: [выше], goto: fail}
      - {id: "global:x", keys: "3", phrases: [команда], goto: fail}
  fail: {say: провал, end: true}
  global: {say: глобал, end: true}
""")
    engine = Engine(flow)
    for said, state, match in (("дальше", "global", "next"), ("выше", "fail", "escalate"),
                               ("команда", "fail", "global:x"), ("оператор", "global", "x")):
        call = engine.start_call()
        turn = call.speech(said)
        assert (call.state, turn.choice_id) == (state, match), said
    call = engine.start_call()
    call.speech("абракадабра")
    call.speech("абракадабра")
    assert call.speech("абракадабра").event == "escalated" and call.state == "global"
    assert engine.machine.models == []


def test_the_import_graph_has_no_circle():
    """Layers import downwards only: cli → channels → convo → hearing → engine → flow/slots →
    personal → understanding. A module-level import cycle would mean two layers own one concept."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "ivr"
    graph: dict[str, set[str]] = {}
    for path in root.rglob("*.py"):
        module = ".".join(path.relative_to(root.parent).with_suffix("").parts).removesuffix(".__init__")
        deps = graph.setdefault(module, set())
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
                node.body = []
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("ivr"):
                deps.add(node.module)
            elif isinstance(node, ast.Import):
                deps.update(a.name for a in node.names if a.name.startswith("ivr"))
    packages = {m for m in graph if (root.parent / m.replace(".", "/") / "__init__.py").exists()}

    def folder(module: str) -> str:
        parts = module.split(".")
        return ".".join(parts[:2]) if len(parts) > 2 or module in packages else module

    folders: dict[str, set[str]] = {}
    for module, deps in graph.items():
        folders.setdefault(folder(module), set()).update(folder(d) for d in deps if folder(d) != folder(module))
    seen: dict[str, int] = {}

    def visit(node: str, stack: list[str]) -> None:
        seen[node] = 1
        for dep in sorted(folders.get(node, ())):
            assert seen.get(dep) != 1, "import circle: " + " → ".join([*stack, node, dep])
            if dep not in seen:
                visit(dep, [*stack, node])
        seen[node] = 2

    for node in sorted(folders):
        if node not in seen:
            visit(node, [])


def test_inputs_no_channel_should_send_still_give_an_answer(tmp_path):
    """Found by attacking `ivr run` and `ivr chat`: 4,400 digits in one turn (past Python's int
    conversion limit), a dictated slot of 1,500 × «девятьсот девяносто девять», a 1 MB line, and
    undecodable bytes on standard input (lone surrogates) ended the call with a traceback."""
    import json

    from ivr.engine.call import MAX_INPUT_CHARS, TOO_LONG

    engine = Engine.from_file("flows/gosuslugi.yaml")
    call = engine.start_call(transcript=tmp_path / "t.jsonl")
    assert call.speech("ошибка " + "7" * 4400).said
    call.dtmf("0")
    turn = call.speech(" ".join(["девятьсот девяносто девять"] * 1500))
    assert TOO_LONG in turn.said and len(turn.input) == MAX_INPUT_CHARS
    turn = call.speech("а" * 1_000_000)
    assert TOO_LONG in turn.said
    turn = call.speech("\udcff\udcfe ошибка")
    assert "\ufffd" in turn.input
    call.hang_up()
    lines = (tmp_path / "t.jsonl").read_text(encoding="utf-8").splitlines()
    assert json.loads(lines[-1])["type"] == "end" and all(len(line) < 20_000 for line in lines)


def test_a_long_chain_of_pass_through_states_is_followed_to_its_end():
    """A chain of 150 `next:`-only states passed `ivr check` but stopped the call at the 100th."""
    from ivr.flow.loader import parse_flow

    states = "\n".join(f"  s{i}: {{next: s{i + 1}}}" for i in range(150))
    flow = parse_flow(f"flow: {{id: chain, title: C, start: s0}}\nstates:\n{states}\n"
                      "  s150: {say: конец цепочки, end: true}\n")
    call = Engine(flow).start_call()
    assert call.state == "s150" and call.ended and "конец цепочки" in call.greeting


def test_template_indexes_are_ascii_digits_only():
    from ivr.flow.loader import FlowError, parse_flow

    for index in ("²", "١"):
        with pytest.raises(FlowError):
            parse_flow("flow: {id: t, title: x, start: a}\ndata: {lst: [ноль, один]}\n"
                       f"states: {{a: {{say: 'Это {{data.lst.{index}}}', end: true}}}}\n")


UNSET_SLOT = """
flow: {id: s, title: S, start: main}
states:
  main:
    say: "Записать номер — 1, без номера — 2."
    options:
      - {id: phone, keys: "1", phrases: ["записать номер"], goto: ask_phone}
      - {id: skip, keys: "2", phrases: ["без номера"], goto: bye}
  ask_phone:
    say: "Назовите номер телефона."
    retries: 1
    collect: {slot: phone, type: phone, on_fail: next}
    next: bye
  bye: {say: "Мы позвоним на номер {phone}.", end: true}
"""


@pytest.mark.parametrize(("keys", "said"), [
    (["1", "двенадцать"], "двенадцать"),  # retries ran out: the call goes on to next without a number
    (["2"], None),  # a path that never asks for it
])
def test_a_slot_without_a_valid_value_is_said_as_not_given(keys, said):
    from ivr.flow.loader import parse_flow

    call = Engine(parse_flow(UNSET_SLOT)).start_call()
    for text in keys:
        turn = call.speech(text) if text.isalpha() or " " in text else call.dtmf(text)
    assert call.state == "bye" and call.ended
    assert turn.said[-1] == "Мы позвоним на номер не указано."
    if said is not None:
        assert call.slots["phone"].valid is False and "12" not in turn.said[-1]


def test_a_callers_step_is_heard_to_the_end_with_number_words_for_a_carried_value():
    flow = parse_flow(
        """
flow: {id: s, title: S, start: ident}
states:
  ident:
    step: "Назвать СНИЛС"
    options: [{id: snils, phrases: ["мой снилс"], goto: snils}]
    noinput: ["Назовите СНИЛС."]
  snils: {say: "Диктуйте.", collect: {slot: snils, type: snils, on_fail: next}, next: bye}
  bye: {say: "Спасибо.", end: true}
"""
    )
    call = Engine(flow).start_call(clock=ManualClock(WEDNESDAY_MORNING))
    expect = call.expecting()
    # no early commit on «снилс»: the voice channel waits for the number the caller goes on with
    assert expect.mode == "menu" and expect.step
    assert {"мой снилс", "сто", "двенадцать"} <= set(grammar_for(expect) or [])
    call.speech("мой снилс сто двенадцать двести тридцать три четыреста сорок пять девяносто пять")
    assert call.state == "bye" and call.slots["snils"].value == "11223344595"
    assert call.steps[0].outcome == "unprompted"


def test_a_dictated_value_is_final_only_when_no_digit_could_follow():
    """What lets the voice channel answer a СНИЛС at the caller's first pause, and keeps waiting
    through a pause in the middle of it."""
    from ivr.flow.loader import parse_flow

    call = Engine(parse_flow(MULTI)).start_call()
    assert not call.value_complete("112 233") and not call.value_final("снилс")  # a menu: no value
    call.dtmf("1")
    part = "сто двенадцать двести тридцать три"
    assert not call.value_complete(part) and not call.value_final(part)
    whole = f"{part} четыреста сорок пять девяносто пять"
    assert call.value_complete(whole) and call.value_final(whole)
