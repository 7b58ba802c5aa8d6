"""The rehearsal's operator speaks like a person on the line: what follows «Оператор:» in the
Госуслуги flow never tells the caller to press keys, never talks about «оператор» in the third
person (only the operator's own introduction names the role) and never quotes «документ» — the
coach's remarks about the source live in ``details:`` (screen only). The caller's steps wait: a
state with ``step:`` never asks for the step it waits for."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from ivr.flow.checks import prompt_texts
from ivr.flow.loader import load_flow
from ivr.flow.model import Flow

FLOW = Path(__file__).resolve().parents[2] / "flows" / "gosuslugi.yaml"
SPEAKER = re.compile(r"Оператор:\s*(.*)", re.S)
OFF_ROLE = re.compile(r"нажмите|наберите|клавиатур|звёздочк|решётк|в документе|по документу|документ назыв", re.I)
SELF_INTRO = "оператор {data.operator.name}"  # «Служба поддержки Госуслуг, оператор Алексей»


@cache
def gosuslugi() -> Flow:
    return load_flow(FLOW)


def operator_lines() -> list[tuple[tuple, str]]:
    spec = gosuslugi().spec
    found = []
    for path, text in prompt_texts(spec):
        if path[2:3] == ("details",):
            continue
        match = SPEAKER.search(text)
        if match:
            found.append((path, match.group(1)))
    return found


def test_the_operator_never_gives_keypad_instructions_or_talks_about_itself_or_the_source():
    lines = operator_lines()
    assert len(lines) > 100  # the whole operator conversation, not an empty selection
    off_role = [(p, t) for p, t in lines if OFF_ROLE.search(t)]
    third_person = [(p, t) for p, t in lines if re.search(r"\bоператор", t.replace(SELF_INTRO, ""), re.I)]
    assert off_role == [] and third_person == []


def test_a_callers_step_waits_without_asking_for_it():
    flow = gosuslugi()
    steps = {name: state for name, state in flow.states.items() if state.step}
    assert {"op_fio", "op_id_choice", "op_general_problem", "op_documents", "op_details", "op_repeat_app",
            "op_escalation_app", "op_escalation_refusal"} <= set(steps)
    for name, state in steps.items():
        said = " ".join(state.say)
        assert "?" not in said and not re.search(r"назовите|представьтесь|сформулируйте|опишите", said, re.I), name
