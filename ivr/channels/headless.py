"""``ivr run``: one call with no human, from a convo file or from ``--caller`` lines."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.console import Console

from ivr.channels.chat import classify
from ivr.convo.expectations import format_failure
from ivr.convo.runner import ConvoResult, Runner, run_convo
from ivr.convo.schema import ConvoFile, ConvoTurn, check_moment, load_convo
from ivr.engine.transcript import masked_turn
from ivr.errors import UserError
from ivr.flow.locate import default_flow_path
from ivr.slots import slot_type
from ivr.slots.redact import Redactor


def _convo_from_lines(lines: list[str], now: datetime | None) -> ConvoFile:
    turns = []
    for line in lines:
        inp = classify(line)
        if inp.kind == "silence":
            turns.append(ConvoTurn(silence=0.0))
        else:
            turns.append(ConvoTurn(caller=inp.text) if inp.kind == "speech" else ConvoTurn(dtmf=inp.text))
    return ConvoFile(turns=turns, now=now)


def run_headless(flow: Path | None, script: Path | None, lines: list[str], *, as_json: bool,
                 now: datetime | None, transcript: Path | None, console: Console,
                 keep_personal_data: bool = False) -> int:
    if now is not None:
        try:
            check_moment(now)
        except ValueError as err:
            raise UserError(f"--now {err}") from None
    runner = Runner(flow or default_flow_path())
    if script is not None:
        convo = load_convo(script)
        if now is not None:
            convo = convo.model_copy(update={"now": now})
        engine = runner.engine(flow) if flow else runner.engine_for(convo, script)
        name = str(script)
    else:
        convo, name = _convo_from_lines(lines, now), "--caller"
        engine = runner.engine(flow or default_flow_path())
    result = run_convo(engine, convo, name, transcript=transcript, keep_personal_data=keep_personal_data)
    result.call.hang_up()
    if as_json:
        console.print_json(json.dumps(to_json(result, keep_personal_data), ensure_ascii=False))
    else:
        print_text(result, console)
    return 0 if result.ok else 1


def to_json(result: ConvoResult, keep_personal_data: bool = False) -> dict[str, Any]:
    """The call as one JSON object; personal data masked as in the transcript unless kept."""
    call = result.call
    redact = Redactor()
    if keep_personal_data:
        turns = [t.to_json() for t in result.turns]
    else:
        turns = [masked_turn(t, redact) for t in result.turns]

    def text(value: str) -> str:
        return value if keep_personal_data else redact(value)

    def slot_value(kind: str, value: str) -> str:
        if keep_personal_data:
            return value
        return slot_type(kind).mask(value) if slot_type(kind).personal else redact(value)

    return {
        "flow": call.flow.id,
        "greeting": [text(t) for t in call.greeting],
        "turns": [{key: turn[key] for key in ("input", "kind", "match", "state", "said", "event")} for turn in turns],
        "final_state": call.state,
        "ended": call.ended,
        "slots": {k: {"value": slot_value(v.kind, v.value), "valid": v.valid} for k, v in call.slots.items()},
        "failures": [{**f.__dict__, "expected": text(f.expected), "happened": text(f.happened)}
                     for f in result.failures],
        "masked": not keep_personal_data,
    }


def print_text(result: ConvoResult, console: Console) -> None:
    call = result.call
    for text in call.greeting:
        console.print(f"Автоответчик: {text}", markup=False)
    for turn in result.turns:
        shown = {"speech": turn.input, "dtmf": f"[кнопки {turn.input}]", "silence": "[молчание]"}[turn.kind]
        console.print(f"Вы: {shown}", markup=False)
        for text in turn.said:
            console.print(f"Автоответчик: {text}", markup=False)
    console.print(f"— состояние: {call.state}{', звонок завершён' if call.ended else ''}", markup=False)
    for failure in result.failures:
        console.print(f"НЕ СОВПАЛО: {format_failure(failure)}", markup=False)
