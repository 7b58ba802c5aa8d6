"""``ivr check`` warnings about how calls move through a flow: each built to trigger on a small
flow, named with its position, and absent from the shipped flows."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr.flow.checks import flow_warnings
from ivr.flow.loader import FlowError, load_flow, parse_flow
from tests.command import ivr_here

ROOT = Path(__file__).resolve().parents[2]


def warnings(text: str) -> list[str]:
    return [f"{w.pos.line}:{w.pos.col}: {w.message}" if w.pos else w.message
            for w in flow_warnings(parse_flow(text), meaning=False)]


@pytest.mark.parametrize("flow", sorted(p.name for p in (ROOT / "flows").glob("*.yaml")))
def test_shipped_flows_have_no_warnings(flow):
    assert flow_warnings(load_flow(ROOT / "flows" / flow), meaning=False) == []


UNREACHABLE = """\
flow: {id: u, title: U, start: main, escalate: operator}
globals:
  help: {phrases: ["справка"], goto: help}
states:
  main:
    say: "Меню"
    options:
      - {id: a, phrases: ["продление"], goto: done}
  help: {say: "Справка", next: main}
  operator: {say: "Оператор", end: true}
  orphan: {say: "Никто сюда не придёт", next: lost}
  lost: {say: "Конец", end: true}
  done: {say: "Готово", end: true}
"""


def test_unreachable_states_are_named_with_their_position():
    found = warnings(UNREACHABLE)
    assert len(found) == 2, found
    assert found[0].startswith("11:3: states.orphan: в это состояние не попасть"), found
    assert found[1].startswith("12:3: states.lost:"), found
    # reached by a global command (help) and by the flow's escalation (operator): not reported
    assert not any("help" in f or "operator" in f for f in found)


def test_a_state_reached_only_through_a_failure_route_is_reachable():
    flow = """\
flow: {id: f, title: F, start: ask}
states:
  ask:
    say: "Номер?"
    collect: {slot: num, type: digits, on_fail: sorry}
    next: done
  sorry: {say: "Не удалось", end: true}
  done: {say: "Готово", end: true}
"""
    assert warnings(flow) == []
    # on_fail decides before the state's escalate: a state only that escalate leads to is never reached
    beside = flow.replace("    next: done\n", "    escalate: operator\n    next: done\n") + \
        '  operator: {say: "Оператор", end: true}\n'
    assert [w.split(":")[2].strip() for w in warnings(beside)] == ["states.operator"]


def test_ivr_check_prints_positioned_warnings_and_still_succeeds(tmp_path):
    path = tmp_path / "u.yaml"
    path.write_text(UNREACHABLE, encoding="utf-8")
    proc = ivr_here("check", path)
    assert proc.returncode == 0, proc.stderr
    assert f"{path}:11:3: предупреждение: states.orphan:" in proc.stdout, proc.stdout


TRAPPED = """\
flow: {id: t, title: T, start: main}
globals:
  main_menu: {phrases: ["главное меню"], goto: main}
states:
  main:
    say: "Меню"
    options:
      - {id: info, phrases: ["справка"], goto: info}
      - {id: done, phrases: ["всё"], goto: done}
  info:
    say: "Справка. Повторить?"
    options:
      - {id: again, phrases: ["повторить"], goto: info}
      - {id: more, phrases: ["подробнее"], goto: more}
  more:
    say: "Подробности"
    next: info
  done: {say: "Готово", end: true}
"""


def test_a_menu_whose_answers_only_come_back_round_is_reported():
    found = warnings(TRAPPED)
    assert len(found) == 1, found
    assert found[0].startswith("12:5: states.info: из меню не выйти вперёд"), found
    assert "(в info, more)" in found[0] and "глобальной командой" in found[0]


def test_a_menu_that_loops_but_also_leads_on_is_not_reported():
    fixed = TRAPPED.replace("goto: more}", "goto: more}\n      - {id: back, phrases: [\"выход\"], goto: done}")
    assert warnings(fixed) == []


def test_options_with_next_is_an_error_saying_what_to_keep():
    flow = """\
flow: {id: n, title: N, start: main}
states:
  main:
    say: "Меню"
    options:
      - {id: a, phrases: ["продление"], goto: done}
    next: other
  other: {say: "Другое", end: true}
  done: {say: "Готово", end: true}
"""
    with pytest.raises(FlowError) as caught:
        parse_flow(flow, "n.yaml")
    assert str(caught.value).startswith("n.yaml:7:5: states.main: и options, и next в одном состоянии — "
                                        "next никогда не сработает"), str(caught.value)
    assert "уберите next" in str(caught.value)


def test_the_engine_indeed_never_follows_next_from_a_menu():
    """Why options + next is an error, not a warning: a menu waits for its answer, and nothing but
    a collect or a pass-through state fires next (checked against the engine with the check off)."""
    from ivr.engine import Engine
    from ivr.flow import schema
    from ivr.flow.model import Flow

    spec = schema.FlowFile.model_validate({
        "flow": {"id": "n", "title": "N", "start": "main"},
        "states": {"main": {"say": "Меню", "options": [{"id": "a", "phrases": ["продление"], "goto": "done"}],
                            "next": "other"},
                   "other": {"say": "Другое", "end": True}, "done": {"say": "Готово", "end": True}}})
    call = Engine(Flow(spec)).start_call()
    assert call.state == "main"
    call.speech("непонятное")
    assert call.state == "main"
    call.speech("продление")
    assert call.state == "done"


SLOT_EARLY = """\
flow: {id: s, title: S, start: main}
globals:
  operator: {phrases: ["оператор"], goto: operator}
states:
  main:
    say: "Записать номер — 1, без номера — 2."
    options:
      - {id: phone, keys: "1", phrases: ["записать номер"], goto: ask_phone}
      - {id: skip, keys: "2", phrases: ["без номера"], goto: bye}
  ask_phone:
    say: "Назовите номер телефона."
    collect: {slot: phone, type: phone, on_fail: next}
    next: bye
  bye: {say: "Мы позвоним на номер {phone}.", end: true}
  operator: {say: "Оператор перезвонит на {phone}.", end: true}
"""


def test_a_slot_said_on_a_path_that_skips_its_collect_is_reported_with_the_path():
    found = warnings(SLOT_EARLY)
    assert len(found) == 2, found
    assert found[0].startswith("14:9: states.bye.say.0: {phone} может прозвучать до того, как слот собран"), found
    assert "путём main → bye, минуя ask_phone" in found[0]
    # a global command leads there from the start too
    assert found[1].startswith("15:14: states.operator.say.0:") and "путём main → operator" in found[1]


def test_no_warning_when_every_path_passes_the_collect_or_checks_for_the_value():
    collected_first = SLOT_EARLY.replace("goto: bye}", "goto: ask_phone}").replace(
        "Оператор перезвонит на {phone}.", "Оператор перезвонит.")
    assert warnings(collected_first) == []
    guarded = SLOT_EARLY.replace("    next: bye\n", "    next: check\n").replace(
        "goto: bye}", "goto: check}").replace("Оператор перезвонит на {phone}.", "Оператор перезвонит.") + """\
  check:
    next:
      - {if: has phone, goto: bye}
      - goto: no_phone
  no_phone: {say: "Номер не записан.", end: true}
"""
    assert warnings(guarded) == []


SAME_WORDS = """\
flow: {id: d, title: D, start: main}
globals:
  operator: {phrases: ["оператор", "живой человек"], goto: operator}
  human: {phrases: ["ну живого человека"], goto: operator}
states:
  main:
    say: "К кому записать?"
    options:
      - {id: therapist, phrases: ["терапевт", "участковый"], goto: done}
      - {id: doctor, phrases: ["хирург", "мне нужен терапевт пожалуйста"], goto: done}
      - {id: talk, phrases: ["мне оператора пожалуйста"], goto: operator}
      - {id: eye, phrases: ["окулист", "терапевтом"], goto: done}
  done: {say: "Записали", end: true}
  operator: {say: "Оператор", end: true}
"""


def test_phrases_equal_after_word_forms_and_fillers_are_reported_at_the_phrase():
    found = warnings(SAME_WORDS)
    # «терапевт» / «мне нужен терапевт пожалуйста» / «терапевтом»: one warning per pair of options
    assert any(f.startswith("10:42: states.main: фразы «терапевт» (пункт «therapist») и «мне нужен "
                            "терапевт пожалуйста» (пункт «doctor») совпадают по словам") for f in found), found
    assert any(f.startswith("12:40: states.main: фразы «терапевт» (пункт «therapist») и «терапевтом» "
                            "(пункт «eye»)") for f in found), found
    # an option against an enabled global command, at the option's phrase
    assert any(f.startswith("11:30: states.main: фразы «мне оператора пожалуйста» (пункт «talk») и "
                            "«оператор» (команда «operator»)") for f in found), found
    # two global commands against each other: once, at the later command's phrase, not in every menu
    among = [f for f in found if "(команда «human»)" in f]
    assert len(among) == 1 and among[0].startswith("4:21: globals: фразы «живой человек» (команда "
                                                   "«operator») и «ну живого человека»"), found
    assert len(found) == 4, found


def test_a_command_switched_off_in_a_menu_is_not_compared_there():
    quiet = SAME_WORDS.replace('    say: "К кому записать?"\n', '    say: "К кому записать?"\n    globals: false\n')
    assert not any("talk" in f for f in warnings(quiet))


def test_a_slot_asked_on_every_branch_by_different_states_is_not_reported():
    flow = """\
flow: {id: b, title: B, start: main}
states:
  main:
    say: "СНИЛС — 1, ИНН — 2."
    options:
      - {id: a, keys: "1", phrases: ["первый"], goto: ask_a}
      - {id: b, keys: "2", phrases: ["второй"], goto: ask_b}
  ask_a: {say: "Номер?", collect: {slot: num, type: digits, on_fail: next}, next: bye}
  ask_b: {say: "Номер?", collect: {slot: num, type: digits, on_fail: next}, next: bye}
  bye: {say: "Записали {num}.", end: true}
"""
    assert warnings(flow) == []
    one_skips = flow.replace("  ask_b: {say: \"Номер?\", collect: {slot: num, type: digits, on_fail: next}, next: bye}",
                             "  ask_b: {say: \"Без номера.\", next: bye}")
    found = warnings(one_skips)
    assert len(found) == 1 and "путём main → ask_b → bye, минуя ask_a" in found[0], found


def test_a_long_chain_of_collects_is_checked_clean():
    """Every slot is collected just before it is used: no warning on a 2,000-slot chain with a
    global command in every state (its speed is in benchmarks/bench_hostile.py: one dominator
    tree, not a walk per slot, which took 45 s on 5,000 slots)."""
    flow = parse_flow(collect_chain(2000))
    assert flow_warnings(flow, meaning=False) == []


def collect_chain(n: int) -> str:
    lines = ["flow: {id: c, title: C, start: s0}", "globals:",
             "  op: {phrases: [оператор], goto: end}", "states:",
             '  s0: {say: "Номер?", collect: {slot: v0, type: digits, on_fail: next}, next: s1}']
    lines += [f'  s{i}: {{say: "Было {{v{i - 1}}}", collect: {{slot: v{i}, type: digits, on_fail: next}}, next: s{i + 1}}}'
              for i in range(1, n)]
    lines.append(f'  s{n}: {{say: "Конец", end: true}}\n  end: {{say: "Оператор", end: true}}')
    return "\n".join(lines)
