"""Checking a convo step's ``expect:`` against the call, and saying how it differs."""

from __future__ import annotations

from dataclasses import dataclass

from ivr.convo.schema import Expect
from ivr.engine import Call, Turn


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


def format_failure(failure: Failure) -> str:
    """One failed expectation as ``ivr test``, ``ivr run`` and pytest all print it."""
    where = f"{failure.at}: " if failure.at else ""
    return (
        f"{where}шаг {failure.turn} ({failure.step}):\n  ожидалось: {failure.expected}\n"
        f"  вышло:     {failure.happened}"
    )
