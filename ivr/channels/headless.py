"""``ivr run``: one call with no human, from a convo file or from ``--caller`` lines."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import IO, Any

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
        write_json(result, console.file, keep_personal_data)
    else:
        print_text(result, console)
    return 0 if result.ok else 1


def to_json(result: ConvoResult, keep_personal_data: bool = False) -> dict[str, Any]:
    """The call as one JSON object; personal data masked as in the transcript unless kept."""
    return {key: list(value) if key == "turns" else value for key, value in _json_fields(result, keep_personal_data)}


def write_json(result: ConvoResult, file: IO[str], keep_personal_data: bool = False) -> None:
    """``to_json`` written as it is made, a turn at a time, indented like ``json.dumps(…, indent=2)``.

    A call of 20,000 turns built the whole text through rich's ``print_json`` (1.08 GB); here only
    one turn is held as text at a time (benchmarks/bench_hostile.py prints the peak).
    """

    def dumped(value: object, depth: int) -> str:
        return json.dumps(value, ensure_ascii=False, indent=2).replace("\n", "\n" + "  " * depth)

    file.write("{")
    for n, (key, value) in enumerate(_json_fields(result, keep_personal_data)):
        file.write(f"{',' if n else ''}\n  {json.dumps(key)}: ")
        if key != "turns":
            file.write(dumped(value, 1))
            continue
        file.write("[")
        empty = True
        for turn in value:
            file.write(f"{'' if empty else ','}\n    {dumped(turn, 2)}")
            empty = False
        file.write("]" if empty else "\n  ]")
    file.write("\n}\n")
    file.flush()


def _json_fields(result: ConvoResult, keep_personal_data: bool) -> Iterator[tuple[str, Any]]:
    """The JSON object's fields in order; ``turns`` is an iterator, masked one turn at a time (the
    redactor learns each personal value from its turn, before the slots and failures use it)."""
    call = result.call
    redact = Redactor()
    keep = keep_personal_data

    def text(value: str) -> str:
        return value if keep else redact(value)

    def slot_value(kind: str, value: str) -> str:
        if keep:
            return value
        return slot_type(kind).mask(value) if slot_type(kind).personal else redact(value)

    def turns() -> Iterator[dict[str, Any]]:
        for t in result.turns:
            turn = t.to_json() if keep else masked_turn(t, redact)
            yield {key: turn[key] for key in ("input", "kind", "match", "state", "said", "event")}

    yield "flow", call.flow.id
    yield "greeting", [text(t) for t in call.greeting]
    yield "turns", turns()
    yield "final_state", call.state
    yield "ended", call.ended
    yield "slots", {k: {"value": slot_value(v.kind, v.value), "valid": v.valid} for k, v in call.slots.items()}
    yield "failures", [{**f.__dict__, "expected": text(f.expected), "happened": text(f.happened)}
                       for f in result.failures]
    yield "masked", not keep


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
