"""Every class of flow-file mistake is reported with its position and what to write instead."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from ivr.errors import UserError
from ivr.flow.loader import FlowError, load_flow, parse_flow
from tests.command import ivr_here

ROOT = Path(__file__).resolve().parents[2]

GOOD = """\
flow:
  id: t
  title: Тест
  start: main
globals:
  operator:
    keys: "0"
    phrases: ["оператор"]
    goto: bye
states:
  main:
    say: "Меню"
    options:
      - id: one
        keys: "1"
        phrases: ["первый"]
        goto: bye
  bye:
    say: "Пока"
    end: true
"""


def errors(text: str) -> list[str]:
    with pytest.raises(FlowError) as info:
        parse_flow(textwrap.dedent(text), "f.yaml")
    return str(info.value).splitlines()


def test_good_flow_loads():
    flow = parse_flow(GOOD, "f.yaml")
    assert set(flow.states) == {"main", "bye"}


def test_yaml_syntax_error_points_at_line_and_column():
    lines = errors("flow:\n  id: t\n  title: [unclosed\nstates: {}\n")
    assert len(lines) == 1
    assert lines[0].startswith("f.yaml:4:")
    assert "не корректный YAML" in lines[0]


def test_duplicate_yaml_key_is_reported_with_both_lines():
    text = GOOD.replace("  bye:\n    say: \"Пока\"", "  bye:\n    say: \"Пока\"\n    say: \"Ещё\"")
    (line,) = errors(text)
    assert line.startswith("f.yaml:20:5:")
    assert "ключ «say» повторяется (первый раз — строка 19)" in line


def test_unknown_field_suggests_the_right_name():
    (line,) = errors(GOOD.replace("    options:", "    optons:"))
    assert line.startswith("f.yaml:13:5:")
    assert "неизвестное поле «optons» — возможно, вы имели в виду «options»" in line


def test_missing_required_field():
    (line,) = errors(GOOD.replace("        goto: bye\n  bye:", "\n  bye:"))
    assert line.startswith("f.yaml:14:9:")
    assert "не хватает обязательного поля «goto»" in line


def test_wrong_type_says_what_is_expected():
    (line,) = errors(GOOD.replace("  start: main", "  start: main\n  retries: три"))
    assert line.startswith("f.yaml:5:3:")
    assert "здесь нужно целое число, а написано «три»" in line


def test_unknown_target_state_with_did_you_mean():
    (line,) = errors(GOOD.replace("        goto: bye\n  bye:", "        goto: byee\n  bye:"))
    assert line.startswith("f.yaml:17:9:")
    assert "нет состояния «byee» — возможно, «bye»" in line


def test_duplicate_key_in_one_menu():
    text = GOOD.replace("        goto: bye\n  bye:", "        goto: bye\n      - id: two\n        keys: \"1\"\n"
                        "        phrases: [\"второй\"]\n        goto: bye\n  bye:")
    (line,) = errors(text)
    assert line.startswith("f.yaml:19:9:")
    assert "клавиша «1» уже занята для пункта «one»" in line


def test_menu_key_clashing_with_a_global_key():
    (line,) = errors(GOOD.replace('keys: "1"', 'keys: "0"'))
    assert "клавиша «0» уже занята для глобальной команды «operator»" in line


def test_duplicate_option_id_and_shared_phrase():
    text = GOOD.replace("        goto: bye\n  bye:", "        goto: bye\n      - id: one\n        keys: \"2\"\n"
                        "        phrases: [\"другой\"]\n        goto: bye\n"
                        "      - id: three\n        phrases: [\"Первый!\"]\n        goto: bye\n  bye:")
    lines = errors(text)
    assert any("пункт меню «one» уже есть" in line for line in lines)
    assert any("фраза «Первый!» есть и у пункта «one»" in line for line in lines)


def test_phrase_without_words():
    (line,) = errors(GOOD.replace('phrases: ["первый"]', 'phrases: ["первый", "!!!"]'))
    assert line.startswith("f.yaml:16:29:")
    assert "во фразе «!!!» нет слов" in line


def test_example_without_words_is_named_with_its_field():
    (line,) = errors(GOOD.replace('phrases: ["первый"]', 'phrases: ["первый"]\n        examples: ["первый пункт", "..."]'))
    assert line.startswith("f.yaml:17:36:"), line
    assert "options.0.examples: во фразе «...» нет слов" in line


def test_missing_prompt():
    (line,) = errors(GOOD.replace('    say: "Меню"\n', ""))
    assert line.startswith("f.yaml:11:3:")
    assert "нет текста для звонящего — добавьте say:" in line


def test_caller_step_needs_no_prompt_but_a_hint_and_a_wait():
    # a step waits silently: no say is fine, but without noinput the caller would never get a hint
    step = GOOD.replace('    say: "Меню"\n', '    step: "Выбрать пункт"\n')
    (line,) = errors(step)
    assert line.startswith("f.yaml:12:5:") and "нет подсказки на случай молчания — добавьте noinput:" in line
    parse_flow(step.replace('    step: "Выбрать пункт"\n', '    step: "Выбрать пункт"\n    noinput: ["Слушаю."]\n'))
    lines = errors(GOOD.replace('    say: "Пока"\n', '    say: "Пока"\n    step: "Попрощаться"\n    noinput: ["?"]\n')
                   .replace("        goto: bye\n  bye:", "        skips_step: true\n        goto: bye\n  bye:"))
    assert "states.bye.step: шаг звонящего — это состояние, которое ждёт его: добавьте options: или collect:" in lines[-1]
    assert "states.main: skips_step — только в состоянии со step:" in lines[0]


def test_an_early_option_must_take_a_step():
    # early: means «the caller may already have taken this step»: meaningless outside a step, and
    # contradictory on an option that leaves the step undone
    (line,) = errors(GOOD.replace('        phrases: ["первый"]\n', '        phrases: ["первый"]\n        early: true\n'))
    assert line.startswith("f.yaml:17:9:") and "states.main: early — только у пункта, который делает шаг" in line
    step = GOOD.replace('    say: "Меню"\n', '    step: "Выбрать"\n    noinput: ["Слушаю."]\n')
    parse_flow(step.replace('        phrases: ["первый"]\n', '        phrases: ["первый"]\n        early: true\n'))
    (line,) = errors(step.replace('        phrases: ["первый"]\n',
                                  '        phrases: ["первый"]\n        early: true\n        skips_step: true\n'))
    assert "уберите early" in line


def test_unknown_placeholder_and_data_path():
    text = GOOD.replace('say: "Меню"', 'say: "Меню {menu_hnt} {data.contacts.phone}"')
    lines = errors(text)
    assert any("неизвестная подстановка {menu_hnt} — возможно, {menu_hint}" in line for line in lines)
    assert any("в data нет «contacts.phone»" in line for line in lines)


def test_wrong_literal_suggests_allowed_values():
    text = GOOD.replace("  bye:\n", "  ask:\n    say: \"?\"\n    collect: {slot: s, type: snisl}\n"
                        "    next: bye\n  bye:\n")
    (line,) = errors(text)
    assert "значение «snisl» не подходит — возможно, «snils»" in line


def test_dead_end_state_and_pass_through_loop():
    text = GOOD.replace("  bye:\n", "  stuck:\n    say: \"?\"\n  a:\n    next: b\n  b:\n    next: a\n  bye:\n")
    lines = errors(text)
    assert any("states.stuck: из состояния нет выхода" in line for line in lines)
    assert any("звонок зациклится без ответа звонящего" in line for line in lines)


def test_all_errors_are_reported_at_once_in_file_order():
    text = GOOD.replace("    options:", "    optons:").replace("  start: main", "  start: mian")
    lines = errors(text)
    assert len(lines) == 2
    assert [int(line.split(":")[1]) for line in lines] == [4, 13]


def test_missing_and_non_utf8_files(tmp_path: Path):
    with pytest.raises(UserError, match="файл сценария не найден"):
        load_flow(tmp_path / "nope.yaml")
    bad = tmp_path / "cp1251.yaml"
    # an editor's line:col, counted in characters («» are one each), not a byte offset
    bad.write_bytes("flow:\n  title: «x» ".encode() + "привет".encode("cp1251"))
    with pytest.raises(UserError) as info:
        load_flow(bad)
    assert str(info.value).startswith(f"{bad}:2:14: байт 0xEF не из кодировки UTF-8 — сохраните файл как UTF-8")


def test_cli_check_exits_2_without_traceback(tmp_path: Path):
    broken = tmp_path / "broken.yaml"
    broken.write_text(GOOD.replace("    options:", "    optons:"), encoding="utf-8")
    proc = ivr_here("check", broken)
    assert proc.returncode == 2
    assert f"{broken}:13:5: states.main.optons: неизвестное поле" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


def test_shipped_flows_load():
    for path in (ROOT / "flows").glob("*.yaml"):
        assert load_flow(path).states
