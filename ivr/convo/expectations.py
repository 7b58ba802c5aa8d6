"""Checking a convo step's ``expect:`` against the call, and saying how it differs."""

from __future__ import annotations

import typing
from dataclasses import dataclass

from ivr.convo.schema import ConvoFile, Expect
from ivr.engine import Call, Turn
from ivr.engine.records import Event
from ivr.flow.hints import closest
from ivr.flow.model import Flow
from ivr.flow.yaml_source import Problem, preview

EVENTS = typing.get_args(Event)


@dataclass
class Failure:
    turn: int  # 0 = the greeting
    step: str  # what the caller did, as written
    expected: str
    happened: str
    at: str = ""  # «file:line:col» of the step in the convo file, when known


def check(expect: Expect, call: Call, said: list[str], turns: list[Turn]) -> list[tuple[str, str]]:
    """Compare one expectation with the call; returns (expected, happened) pairs that differ."""
    problems: list[tuple[str, str]] = []
    text = "\n".join(said).lower()
    shown = " | ".join(said) or "(ничего)"
    if expect.state is not None and call.state != expect.state:
        problems.append((f"state: {expect.state}", f"state: {call.state}"))
    for part in expect.says:
        if part.lower() not in text:
            problems.append((f"says: «{part}»", f"said: {shown}"))
    for part in expect.not_says:
        if part.lower() in text:
            problems.append((f"not_says: «{part}»", f"said: {shown}"))
    for slot, value in expect.slots.items():
        got = call.slots.get(slot)
        if value is None:
            if got is not None:
                problems.append((f"slots.{slot}: не заполнен", f"slots.{slot}: {got.value}"))
        elif got is None or got.value != value or not got.valid:
            actual = "не заполнен" if got is None else f"{got.value} ({'верно' if got.valid else 'неверно'})"
            problems.append((f"slots.{slot}: {value}", f"slots.{slot}: {actual}"))
    if expect.ended is not None and call.ended != expect.ended:
        problems.append((f"ended: {expect.ended}", f"ended: {call.ended}"))
    last = turns[-1] if turns else None
    if expect.event is not None and (last is None or last.event != expect.event):
        problems.append((f"event: {expect.event}", f"event: {last.event if last else None}"))
    if expect.match is not None:
        got_match = last.choice_id if last else None
        if got_match != expect.match:
            problems.append((f"match: {expect.match}", f"match: {got_match}"))
    if expect.topic is not None and call.topic != expect.topic:
        problems.append((f"topic: {expect.topic}", f"topic: {call.topic}"))
    if expect.term is not None and expect.term.lower() not in (call.term or "").lower():
        problems.append((f"term: «{expect.term}»", f"term: {call.term}"))
    for state, outcome in expect.steps.items():
        taken = [t for t in call.steps if t.state == state]
        happened = f"{taken[-1].outcome} ({taken[-1].hints} hints)" if taken else "шаг не начат"
        if not taken or taken[-1].outcome != outcome:
            problems.append((f"steps.{state}: {outcome}", f"steps.{state}: {happened}"))
    return problems


def unknown_names(convo: ConvoFile, flow: Flow) -> list[Problem]:
    """Names in ``expect:`` that the flow does not have: a typo there failed every run with a
    mismatch («state: mian» ≠ «state: main») that read like a fault of the flow."""
    problems: list[Problem] = []
    choices = (
        {o.id for s in flow.states.values() for o in s.options} | set(flow.globals) | set(flow.slot_kinds)
    )

    def unknown(path: tuple[object, ...], what: str, name: str, known: typing.Collection[str]) -> None:
        guess = closest(name, sorted(known))
        hint = f"возможно, «{guess}»" if guess else "проверьте имя"
        problems.append(
            Problem(
                path,
                f"{'.'.join(map(str, path))}: {what} «{preview(name, 60)}» нет в сценарии "
                f"{flow.source} — {hint}",
                convo._positions.find(path),
            )
        )

    for n, step in enumerate(convo.turns):
        expect = step.expect
        if expect is None:
            continue
        path = ("turns", n, "expect")
        if expect.state is not None and expect.state not in flow.states:
            unknown((*path, "state"), "состояния", expect.state, flow.states)
        if expect.match is not None and expect.match not in choices:
            unknown((*path, "match"), "пункта, команды или слота", expect.match, choices)
        if expect.event is not None and expect.event not in EVENTS:
            where = (*path, "event")
            problems.append(
                Problem(
                    where,
                    f"turns.{n}.expect.event: события «{preview(expect.event, 60)}» не "
                    f"бывает — допустимы: {', '.join(e for e in EVENTS if e != 'ended')}",
                    convo._positions.find(where),
                )
            )
        for slot in expect.slots:
            if slot not in flow.slot_kinds:
                unknown((*path, "slots", slot), "слота", slot, flow.slot_kinds)
    return problems


def format_failure(failure: Failure) -> str:
    """One failed expectation as ``ivr test``, ``ivr run`` and pytest all print it."""
    where = f"{failure.at}: " if failure.at else ""
    return (
        f"{where}шаг {failure.turn} ({failure.step}):\n  ожидалось: {failure.expected}\n"
        f"  вышло:     {failure.happened}"
    )
