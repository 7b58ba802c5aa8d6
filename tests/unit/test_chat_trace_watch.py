"""``ivr chat --trace`` and ``--watch``: what a flow author sees while trying a flow by keyboard."""

from __future__ import annotations

import io
import json
import os
import re
import threading
import time
from datetime import datetime
from pathlib import Path

from rich.console import Console

from ivr.channels.chat import run_chat
from ivr.channels.trace import trace_turn
from ivr.channels.watch import FlowWatcher, watch_in_background
from ivr.engine import Engine, ManualClock, interpret
from ivr.flow.model import ChoiceRef
from tests.command import ivr_here as ivr

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "flows" / "example.yaml"
MORNING = "2026-11-25T10:00:00+03:00"


def test_trace_shows_state_scores_margin_alternatives_and_clarification(tmp_path: Path):
    proc = ivr("chat", EXAMPLE, "--now", MORNING, "--reports", tmp_path, "--trace",
               stdin="продление или записаться\nпервое\n*\n12\nповторить\n")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "Трасса: по словам — балл 0–100, выбор от 70 при отрыве от 5" in out
    # both options' words: a tie, asked about, then the reply heard as the answer to that question
    assert "· main: уточнить: renew или signup (решено по словам)" in out
    assert "· по словам: renew 92 · отрыв 8 · ещё: signup 83" in out
    assert "· по смыслу: не сравнивается (в меню 2–3 пункта с фразами — смысл решает, где их 4 и больше или один)" in out
    assert "· main → renew_card: пункт renew (балл 100)" in out and "· ответ на уточнение (renew или signup)" in out
    assert "· renew_card: команда global:repeat" in out
    assert "· renew_card: слот card = «12» — не принято" in out
    assert "· renew_card: команда global:repeat\n  · команда global:repeat названа целиком — это не значение слота" in out
    # on screen only: nothing of the trace reaches the transcript or the report
    for written in tmp_path.iterdir():
        assert "по словам" not in written.read_text(encoding="utf-8") and "уточнить:" not in written.read_text(encoding="utf-8")


def test_trace_says_when_a_section_gave_way_to_its_page(tmp_path: Path):
    flow = ROOT / "flows" / "polyclinic.yaml"
    proc = ivr("chat", flow, "--now", MORNING, "--reports", tmp_path, "--trace",
               stdin="хочу записаться к врачу на прием к лору\n")
    assert "· main → id_choice: пункт to_ent" in proc.stdout
    assert "· раздел appointment и его страница to_ent — взята страница" in proc.stdout


MEANING_FLOW = """
flow: {id: bank, title: "Банк (тест)", start: main}
states:
  main:
    say: "Что случилось?"
    options:
      - {id: card, keys: "1", phrases: ["заблокировать карту", "потерял карту"], goto: done}
      - {id: loan, keys: "2", phrases: ["кредит", "ипотека"], goto: done}
      - {id: deposit, keys: "3", phrases: ["вклад", "открыть счёт"], goto: done}
      - {id: transfer, keys: "4", phrases: ["перевод", "отправить деньги"], goto: done}
  done: {say: "Спасибо.", end: true}
"""


def test_trace_shows_meaning_scores_when_the_words_do_not_decide(tmp_path: Path):
    flow = tmp_path / "bank.yaml"
    flow.write_text(MEANING_FLOW, encoding="utf-8")
    proc = ivr("chat", flow, "--reports", tmp_path / "r", "--trace", stdin="у меня украли кошелёк со всеми деньгами\n")
    assert proc.returncode == 0, proc.stderr
    lines = [line.removeprefix("Вы:").strip() for line in proc.stdout.splitlines()]
    first = next(i for i, line in enumerate(lines) if line.startswith("· main"))
    assert lines[first].endswith("(решено по смыслу)"), lines[first]
    assert lines[first + 1].startswith("· по словам:")
    meaning = lines[first + 2]
    # every choice weighed by meaning, best first, with the margin to the runner-up
    assert meaning.startswith("· по смыслу: ") and " · отрыв 0." in meaning and " · ещё: " in meaning, meaning
    assert {"card", "loan", "deposit", "transfer"} <= set(meaning.replace(",", " ").split())
    # and the menu's classifier, trained on this flow's own phrases (probabilities, best first)
    learned = lines[first + 3]
    assert learned.startswith("· классификатор меню: ") and " · отрыв 0." in learned, learned
    assert {"card", "loan", "deposit", "transfer"} <= set(learned.replace(",", " ").split())
    # and how near the sentence is to talk about the line, which would have meant no request
    assert re.fullmatch(r"· слова о самой линии \(«алло», «подождите»\): 0\.\d{3}", lines[first + 4]), lines[first + 4]


def _save(path: Path, text: str) -> None:
    """Write as an editor saves; the time stamp moved a second on, as a later save would have it
    (two writes within one timer tick could otherwise share it)."""
    before = path.stat().st_mtime_ns
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(before + 1_000_000_000, before + 1_000_000_000))


def _chat(flow: Path, script: list[tuple[str, str | None]], reports: Path) -> str:
    """A typed chat with ``--watch`` on ``flow``: each line typed after the file was saved with the
    new text given with it (if any); what the screen showed."""
    screen = io.StringIO()
    lines = iter(script)

    def read_line(prompt: str) -> str:
        typed, new_text = next(lines, (None, None))
        if typed is None:
            raise EOFError
        if new_text is not None:
            _save(flow, new_text)
        return typed

    run_chat(Engine.from_file(flow), console=Console(file=screen, width=200), read_line=read_line,
             clock=ManualClock(datetime.fromisoformat(MORNING)), reports_dir=reports, watch=flow,
             watch_in_background=False)
    return screen.getvalue()


def test_watch_reloads_on_save_keeps_the_state_and_survives_a_broken_save(tmp_path: Path):
    flow = tmp_path / "library.yaml"
    original = EXAMPLE.read_text(encoding="utf-8")
    flow.write_text(original, encoding="utf-8")
    broken = original.replace("  renew_done:\n", "  renew_done\n", 1)
    fixed = original.replace("Книга по билету {card} продлена на две недели.", "Готово: книга по билету {card} продлена до весны.")
    assert fixed != original
    out = _chat(flow, [("1", None), ("12", broken), ("123456", fixed)], tmp_path / "r")
    # the broken save: its position in the file, and the call goes on with the flow that loaded
    assert "Сценарий не загрузился — звонок идёт по прежней версии" in out
    line = original[: original.index("  renew_done:\n")].count("\n") + 2  # the key without «:» runs on
    assert f"{flow}:{line}:8: это не корректный YAML: не хватает двоеточия после ключа" in out
    assert "Вы назвали: 12. Нужно не меньше 6 цифр" in out.split("Сценарий не загрузился")[1]
    # the good save: same state, the caller's answer heard there, the new text spoken
    assert "Сценарий перезагружен — звонок в том же состоянии «renew_card»." in out
    assert "Готово: книга по билету 123 456 продлена до весны." in out
    (transcript,) = (tmp_path / "r").glob("*.transcript.jsonl")
    records = [json.loads(line) for line in transcript.read_text(encoding="utf-8").splitlines()]
    assert [r["state"] for r in records if r["type"] == "turn"] == ["renew_card", "renew_card", "renew_done"]


def test_watch_starts_again_when_the_state_is_gone(tmp_path: Path):
    flow = tmp_path / "library.yaml"
    original = EXAMPLE.read_text(encoding="utf-8")
    flow.write_text(original, encoding="utf-8")
    renamed = original.replace("renew_card", "renew_number")
    out = _chat(flow, [("1", None), ("123456", renamed), ("2", None)], tmp_path / "r")
    assert "состояния «renew_card» в нём больше нет — звонок начат с начала («greeting»), ваша реплика не отправлена" in out
    after = out.split("в нём больше нет")[1]
    assert "Здравствуйте! Это учебный пример сценария." in after  # the start said again
    assert "Для записи понадобится паспорт." in after  # the next line («2») chose in the main menu
    assert "123 456" not in after and "Вы назвали" not in after


def test_a_save_is_reported_while_the_author_is_still_typing(tmp_path: Path):
    flow = tmp_path / "library.yaml"
    flow.write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    screen = io.StringIO()
    stop = threading.Event()
    watcher = FlowWatcher(flow)
    thread = watch_in_background(watcher, Console(file=screen, width=200), stop, interval=0.01)
    try:
        _save(flow, "flow: {id: x\n")
        deadline = time.monotonic() + 5
        # wait for the whole report, not its first line: the watcher prints it line by line, and a
        # read between two lines (a loaded machine) saw the heading without the error under it
        while f"{flow}:" not in screen.getvalue() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert "Сценарий не загрузился" in screen.getvalue() and f"{flow}:" in screen.getvalue()
        _save(flow, EXAMPLE.read_text(encoding="utf-8"))
        done = "новая версия начнёт работать с вашей следующей реплики"
        while done not in screen.getvalue() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert "Сценарий сохранён" in screen.getvalue() and done in screen.getvalue()
        assert watcher.take() is not None and watcher.take() is None  # handed to the call once
    finally:
        stop.set()
        thread.join()


def test_watch_enters_a_state_that_no_longer_waits(tmp_path: Path):
    flow = tmp_path / "library.yaml"
    original = EXAMPLE.read_text(encoding="utf-8")
    flow.write_text(original, encoding="utf-8")
    start = original.index("  renew_card:\n")
    end = original.index("\n\n", start)
    ends_now = original[:start] + '  renew_card:\n    say: "Продление по телефону закрыто."\n    end: true' + original[end:]
    ends_now = ends_now.replace("Книга по билету {card} продлена", "Книга продлена")  # {card} is never collected now
    out = _chat(flow, [("1", None), ("123456", ends_now)], tmp_path / "r")
    assert "состояние «renew_card» больше не ждёт ответа — звонок идёт дальше по новой версии, ваша реплика не отправлена" in out
    assert "Продление по телефону закрыто." in out and "123 456" not in out


def test_trace_of_a_no_to_are_you_sure(tmp_path: Path):
    flow = tmp_path / "bank.yaml"
    flow.write_text(MEANING_FLOW, encoding="utf-8")
    engine = Engine.from_file(flow)
    call = engine.start_call(clock=ManualClock(datetime.fromisoformat(MORNING)))
    question = interpret.Question("main", (ChoiceRef("option", "card"),))
    call.question = question
    turn = call.speech("нет")
    assert trace_turn(engine.flow, turn, question) == [
        "main: «нет» на «правильно понимаю» — просьба сказать иначе (flow.declined)",
        "ответ на уточнение (card)",
    ]


def test_trace_says_when_a_topic_of_the_main_menu_was_taken_from_another_menu(tmp_path: Path):
    flow = ROOT / "flows" / "gosuslugi.yaml"
    proc = ivr("chat", flow, "--now", "2026-11-25T10:00:00+03:00", "--reports", tmp_path, "--trace",
               stdin="1\nзабыл пароль\n")
    assert proc.returncode == 0, proc.stderr
    assert "general → auth_password: пункт auth_password" in proc.stdout
    assert "· тема меню main: auth_password (балл 100) — туда, через global:main_menu" in proc.stdout
