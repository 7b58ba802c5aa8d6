"""Counts printed to people agree with their nouns: «1 переход», «3 состояния», «99 состояний»."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr.slots.parsers import Limits, parse_digits
from ivr.understanding.plural import counted
from tests.command import ivr_here

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("n", "noun", "case", "text"),
    [
        (1, "состояние", "nomn", "1 состояние"),
        (3, "состояние", "nomn", "3 состояния"),
        (99, "состояние", "nomn", "99 состояний"),
        (11, "переход", "nomn", "11 переходов"),
        (21, "переход", "nomn", "21 переход"),
        (0, "разговор", "nomn", "0 разговоров"),
        (112, "разговор", "nomn", "112 разговоров"),
        (1001, "разговор", "nomn", "1001 разговор"),
        (2, "фраза", "nomn", "2 фразы"),
        (1, "цифра", "gent", "1 цифры"),
        (5, "цифра", "gent", "5 цифр"),
        (21, "слово", "gent", "21 слова"),
    ],
)
def test_counted_agrees(n: int, noun: str, case, text: str):
    assert counted(n, noun, case) == text


def test_ivr_check_counts_in_good_russian(tmp_path: Path):
    flow = tmp_path / "tiny.yaml"
    flow.write_text(
        "flow: {id: tiny, title: T, start: a}\n"
        "states:\n  a: {say: Привет, next: b}\n  b: {say: Ещё, next: c}\n  c: {say: Пока, end: true}\n",
        encoding="utf-8",
    )
    one = tmp_path / "one.yaml"
    one.write_text("flow: {id: one, title: O, start: a}\nstates:\n  a: {say: Пока, end: true}\n", encoding="utf-8")
    proc = ivr_here("check", flow, one, ROOT / "flows" / "gosuslugi.yaml")
    assert proc.returncode == 0, proc.stderr
    assert f"{flow}: ок — 3 состояния, 2 перехода" in proc.stdout
    assert f"{one}: ок — 1 состояние, 0 переходов" in proc.stdout
    assert "gosuslugi.yaml: ок — 104 состояния, " in proc.stdout
    assert "состояний, 1 переходов" not in proc.stdout


def test_a_slot_asks_for_one_digit_in_the_right_form():
    assert "не меньше 5 цифр," in str(parse_digits("12", True, Limits(min_digits=5)).error)
    assert "не больше 1 цифры," in str(parse_digits("12", True, Limits(max_digits=1)).error)
