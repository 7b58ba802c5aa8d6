"""No caller input can crash a call: arbitrary text, keys and silences on every shipped flow."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ivr.engine import Engine, ManualClock

ROOT = Path(__file__).resolve().parents[2]
FLOWS = sorted((ROOT / "flows").glob("*.yaml"))


@cache
def engine_of(name: str) -> Engine:
    """Loaded when its test runs, not when the module is collected: every xdist worker collects
    every module, and three flows loaded at import cost each of them ~0.6 s before any test ran."""
    return Engine.from_file(ROOT / "flows" / name)


words = st.sampled_from(["оператор", "назад", "повторить", "главное меню", "пароль", "ошибка", "пятьсот",
                         "два", "ноль", "сто", "да", "нет", "снилс", "иванов", "иван", "статус", "жалоба",
                         "чат", "сроки", "права", "не", "могу", "войти", "э", "", "ёлки", "№", "🙂"])
speech = st.one_of(st.lists(words, max_size=8).map(" ".join), st.text(max_size=40))
step = st.one_of(
    st.tuples(st.just("speech"), speech),
    st.tuples(st.just("dtmf"), st.text(alphabet="0123456789*#", min_size=1, max_size=12)),
    st.tuples(st.just("silence"), st.just("")),
)
moments = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 1, 1),
                       timezones=st.just(timezone(timedelta(hours=3))))


@pytest.mark.parametrize("flow", [p.name for p in FLOWS])
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(moment=moments, steps=st.lists(step, max_size=25))
def test_any_input_keeps_the_call_consistent(flow, moment, steps):
    engine = engine_of(flow)
    call = engine.start_call(clock=ManualClock(moment))
    for kind, text in steps:
        before = len(call.turns)
        turn = {"speech": call.speech, "dtmf": call.dtmf, "silence": lambda _: call.silence(7)}[kind](text)
        assert len(call.turns) == before + 1
        assert call.state in engine.flow.states
        assert all(isinstance(s, str) and s and "{" not in s for s in turn.said)
        if call.ended:
            assert engine.flow.states[call.state].end
    assert engine.machine.models == []
