"""Reuse across files: ``include:`` of part files and ``use:`` of shared ``parts:``. A call runs
through what was included, and every mistake is reported in the file where it is written."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from ivr.engine import Engine, ManualClock
from ivr.errors import UserError
from ivr.flow.loader import load_flow
from tests.command import ivr_here

MAIN = """\
flow: {id: m, title: M, start: main, escalate: operator}
include: [shared/identity.yaml]
states:
  main:
    say: "Меню."
    use: polite
    options:
      - {id: id, keys: "1", phrases: ["представиться"], goto: ask_fio}
  done: {say: "Спасибо, {fio}.", end: true}
  operator: {say: "Оператор.", end: true}
"""

IDENTITY = """\
parts:
  polite:
    nomatch: ["Простите, не понял. {menu_hint}"]
    noinput: ["Вы меня слышите?"]
states:
  ask_fio:
    say: "Назовите ФИО."
    use: polite
    collect: {slot: fio, type: fio, on_fail: next}
    next: done
"""


def write(root: Path, main: str = MAIN, identity: str = IDENTITY, **more: str) -> Path:
    (root / "shared").mkdir(exist_ok=True)
    (root / "main.yaml").write_text(main, encoding="utf-8")
    (root / "shared" / "identity.yaml").write_text(identity, encoding="utf-8")
    for name, text in more.items():
        (root / "shared" / f"{name}.yaml").write_text(text, encoding="utf-8")
    return root / "main.yaml"


def error(path: Path) -> str:
    with pytest.raises(UserError) as info:
        load_flow(path)
    return str(info.value)


def test_a_call_runs_through_an_included_chain_with_shared_reprompts(tmp_path):
    flow = load_flow(write(tmp_path))
    call = Engine(flow).start_call(clock=ManualClock(datetime.fromisoformat("2026-11-25T10:00:00+03:00")))
    assert call.speech("погода").said == ["Простите, не понял. Скажите, что вас интересует, или нажмите клавишу: "
                                          "«представиться» — 1."]
    call.dtmf("1")
    assert call.silence(7).said == ["Вы меня слышите?"]  # the part's noinput, in the included state
    assert call.speech("иванов иван иванович").said == ["Спасибо, Иванов Иван Иванович."]


@pytest.mark.parametrize(
    ("identity", "where", "fragment"),
    [
        (IDENTITY.replace("next: done", "next: dne"), "shared/identity.yaml:10:5",
         "states.ask_fio.next.0.goto: нет состояния «dne» — возможно, «done»"),
        (IDENTITY.replace('noinput: ["Вы меня слышите?"]', "noinput: [{x: 1}]"), "shared/identity.yaml:4:15",
         "states.ask_fio.noinput.0: здесь нужен текст в кавычках"),
        (IDENTITY + "  done: {say: x, end: true}\n", "shared/identity.yaml:11:3",
         "states.done: это имя уже занято (уже есть: {main}:9:3) — переименуйте одно из двух"),
        ("flow: {id: x}\n" + IDENTITY, "shared/identity.yaml:1:1",
         "«flow» в файле части сценария не к месту"),
        (IDENTITY.replace("    say: \"Назовите ФИО.\"", "    say: \"Назовите ФИО.\n"), "shared/identity.yaml:",
         "не закрыта кавычка"),
        (IDENTITY.replace("use: polite", "use: polit"), "shared/identity.yaml:8:5",
         "states.ask_fio.use: нет части «polit» — возможно, «polite»"),
        ("include: [../main.yaml]\n" + IDENTITY, "shared/identity.yaml:1:11",
         "include: файл включает сам себя (main.yaml → identity.yaml → main.yaml)"),
    ],
)
def test_mistakes_in_an_included_file_are_reported_in_that_file(tmp_path, identity, where, fragment):
    path = write(tmp_path, identity=identity)
    message = error(path)
    assert f"{tmp_path}/{where}" in message and fragment.format(main=path) in message, message


def test_a_missing_part_file_is_reported_at_the_include(tmp_path):
    path = write(tmp_path, main=MAIN.replace("shared/identity.yaml", "shared/identty.yaml"))
    assert f"{path}:2:11: include: {tmp_path}/shared/identty.yaml: файл части сценария не найден" in error(path)


def test_includes_nest_and_ivr_check_names_the_included_file(tmp_path):
    identity = "include: [operator.yaml]\n" + IDENTITY
    operator = "states:\n  spare: {say: \"Никто сюда не придёт\", end: true}\n"
    # the main file includes operator.yaml too: one file included twice is folded in once
    main = MAIN.replace("include: [shared/identity.yaml]", "include: [shared/identity.yaml, shared/operator.yaml]")
    path = write(tmp_path, main=main, identity=identity, operator=operator)
    proc = ivr_here("check", path)
    assert proc.returncode == 0, proc.stderr
    assert f"{tmp_path}/shared/operator.yaml:2:3: предупреждение: states.spare: в это состояние не попасть" \
        in proc.stdout, proc.stdout


def test_the_state_wins_over_its_parts_and_an_earlier_part_over_a_later_one():
    from ivr.flow.loader import parse_flow

    flow = parse_flow("""\
flow: {id: p, title: P, start: a}
parts:
  first: {nomatch: ["первая"], noinput: ["тишина первой"]}
  second: {nomatch: ["вторая"], noinput: ["тишина второй"], retries: 2}
states:
  a:
    say: "Меню"
    use: [first, second]
    noinput: ["своя тишина"]
    options: [{id: x, keys: "1", goto: b}]
  b: {say: "Конец", end: true}
""")
    state = flow.states["a"]
    assert (state.nomatch, state.noinput, state.retries) == (["первая"], ["своя тишина"], 2)
