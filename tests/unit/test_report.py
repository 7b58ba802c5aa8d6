"""The call report a caller takes away: checklist statuses, problem statement, reprompts, masking."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from ivr.engine import Engine, ManualClock
from ivr.flow.loader import parse_flow
from ivr.report import report

FLOW = """
flow:
  id: r
  title: Отчёт
  start: ask_name
  unsolved: ["Позвоните повторно и назовите номер {reference}."]
states:
  ask_name:
    say: "Представьтесь."
    topic: "Вход в личный кабинет"
    term: "1 рабочий день"
    checklist: [{item: "ФИО", slot: fio}, {item: "СНИЛС", slot: snils}, {item: "Телефон", slot: phone}, "Скриншот ошибки"]
    collect: {slot: fio, type: fio, on_fail: next}
    next: ask_snils
  ask_snils:
    say: "СНИЛС?"
    collect: {slot: snils, type: snils, on_fail: next}
    retries: 2
    next: ask_problem
  ask_problem:
    say: "Опишите проблему."
    collect: {slot: problem, type: text, measure: true, on_fail: next}
    next: bye
  ask_phone: {say: "Телефон?", collect: {slot: phone, type: phone, on_fail: next}, next: bye}
  bye: {say: "Спасибо. Номер обращения {reference}.", end: true}
"""


def run_call():
    clock = ManualClock(datetime.fromisoformat("2026-11-25T10:00:00+03:00"))
    call = Engine(parse_flow(FLOW)).start_call(clock=clock, reference="12345678")
    clock.advance(5)
    call.speech("иванов иван иванович")
    clock.advance(5)
    call.speech("сто двенадцать двести тридцать три четыреста сорок пять")  # too short
    clock.advance(5)
    call.dtmf("11223344596")  # wrong control number: the call moves on with it invalid
    clock.advance(12)
    call.speech("Не могу войти в кабинет. Пишет ошибка пятьсот два. Уже чистил кеш.")
    return call


def test_checklist_statuses_and_masking():
    rep = report.build(run_call())
    by_item = {line["item"]: line for line in rep["checklist"]}
    assert by_item["ФИО"]["status"] == "ready" and by_item["ФИО"]["value"] == "И. И. И."
    assert by_item["СНИЛС"]["status"] == "invalid" and "Контрольное число" in by_item["СНИЛС"]["note"]
    assert by_item["СНИЛС"]["value"].endswith("96") and "112" not in by_item["СНИЛС"]["value"]
    assert by_item["Телефон"]["status"] == "missing"
    assert by_item["Скриншот ошибки"] == {"item": "Скриншот ошибки", "status": "missing", "value": None,
                                          "note": "подготовьте до звонка"}


def test_problem_statement_reprompts_term_and_next_steps():
    rep = report.build(run_call())
    assert rep["problem_statement"] == {"seconds": 12.0, "phrases": 3, "words": 12, "fits": False}
    assert [r["cause"] for r in rep["reprompts"]] == ["invalid", "invalid"]
    assert rep["term"] == "1 рабочий день"
    assert rep["if_unsolved"] == ["Позвоните повторно и назовите номер 12-34-56-78."]
    assert rep["reference"] == "12345678"  # named in the call, so the report keeps it


def test_no_application_number_in_the_report_when_the_call_never_gave_one():
    clock = ManualClock(datetime.fromisoformat("2026-11-25T10:00:00+03:00"))
    call = Engine(parse_flow(FLOW.replace("{reference}", "из СМС"))).start_call(clock=clock)
    call.speech("иванов иван иванович")
    assert report.build(call)["reference"] is None


def test_report_files_are_written_masked(tmp_path: Path):
    md, js = report.write(run_call(), tmp_path)
    assert md.name.startswith("20261125-100000-vkhod-v-lichnyy-kabinet-") and md.name.endswith(".md")
    text = md.read_text(encoding="utf-8") + js.read_text(encoding="utf-8")
    assert "Иванов" not in text and "11223344596" not in text and "сто двенадцать" not in text
    assert "больше двух фраз" in md.read_text(encoding="utf-8")
    assert json.loads(js.read_text(encoding="utf-8"))["topic"] == "Вход в личный кабинет"


def test_keep_personal_data_keeps_them(tmp_path: Path):
    md, _ = report.write(run_call(), tmp_path, keep_personal_data=True)
    assert "Иванов Иван Иванович" in md.read_text(encoding="utf-8")


def test_reports_and_transcripts_are_readable_by_their_owner_only(tmp_path: Path):
    """Even masked, a report tells who called about what and when."""
    import stat

    from ivr.engine import Engine, ManualClock

    folder = tmp_path / "reports"
    engine = Engine.from_file("flows/example.yaml")
    call = engine.start_call(clock=ManualClock(datetime.fromisoformat("2026-11-25T10:00:00+03:00")),
                             transcript=folder / "t.jsonl")
    call.dtmf("1")
    md, js = report.write(call, folder)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for path in (md, js, folder / "t.jsonl"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
