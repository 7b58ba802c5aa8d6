"""A typed call in the terminal: the fallback when there is no microphone or speech model.

Digits, ``*`` and ``#`` act as the keypad, an empty line is silence, anything else is what the caller
says. The checklist of what to have ready is shown every time it grows.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from rich.console import Console
from rich.panel import Panel

from ivr.engine import Call, Engine
from ivr.engine.call import Input, Turn
from ivr.engine.clock import Clock, system_clock
from ivr.report import report

KEYPAD_LINE = re.compile(r"^[0-9*#]+$")
QUIT = {"/выход", "/exit", "/quit", "выход"}


def classify(line: str) -> Input:
    """A typed line as the call input it stands for."""
    text = line.strip()
    if not text:
        return Input("silence")
    compact = text.replace(" ", "")
    if KEYPAD_LINE.match(compact):
        return Input("dtmf", compact)
    return Input("speech", text)


def transcript_path(reports_dir: Path, flow_id: str, started: datetime) -> Path:
    return reports_dir / f"{started:%Y%m%d-%H%M%S}-{flow_id}.transcript.jsonl"


class ChatView:
    """What the caller sees: the simulator's lines, the turn's outcome, the growing checklist."""

    def __init__(self, console: Console):
        self.console = console
        self._shown_items = 0

    def said(self, texts: list[str]) -> None:
        for text in texts:
            self.console.print(f"[bold cyan]Автоответчик:[/] {text}")

    def checklist(self, call: Call) -> None:
        if len(call.checklist) == self._shown_items:
            return
        self._shown_items = len(call.checklist)
        marks = {"ready": "✔", "invalid": "✘", "missing": "•"}
        lines = [f"{marks[call.item_status(entry)[0]]} {entry.item}" for entry in call.checklist]
        self.console.print(Panel("\n".join(lines), title="Что подготовить", expand=False), soft_wrap=False)

    def turn(self, turn: Turn, call: Call) -> None:
        self.said(turn.said)
        self.checklist(call)


def run_chat(engine: Engine, *, console: Console, read_line: Callable[[str], str] = input,
             clock: Clock = system_clock, reports_dir: Path | None = Path("reports"),
             keep_personal_data: bool = False) -> Call:
    started = engine.local_time(clock())
    transcript = transcript_path(reports_dir, engine.flow.id, started) if reports_dir else None
    call = engine.start_call(clock=clock, transcript=transcript, keep_personal_data=keep_personal_data)
    view = ChatView(console)
    console.print(f"[dim]Сценарий: {engine.flow.meta.title}. Цифры, * и # — кнопки телефона; "
                  "пустая строка — молчание; /выход — положить трубку.[/]")
    view.said(call.greeting)
    view.checklist(call)
    while not call.ended:
        try:
            line = read_line("Вы: ")
        except (EOFError, KeyboardInterrupt):
            console.print()
            break
        if line.strip().lower() in QUIT:
            break
        view.turn(call.handle(classify(line)), call)
    call.hang_up()
    show_summary(call, console)
    if reports_dir is not None:
        md, _ = report.write(call, reports_dir, keep_personal_data)
        console.print(f"[dim]Отчёт: {md}; расшифровка: {transcript}[/]")
    return call


def show_summary(call: Call, console: Console) -> None:
    """The one thing to take away from the rehearsal: what to have ready for the real call."""
    lines = []
    for line in report.checklist(call, keep=True):
        mark = {"ready": "[green]✔[/]", "invalid": "[red]✘[/]", "missing": "[yellow]•[/]"}[line.status]
        note = f" — {line.note}" if line.note else ""
        lines.append(f"{mark} {line.item}{note}")
    if lines:
        console.print(Panel("\n".join(lines), title=f"Итог: {call.topic or 'что подготовить'}", expand=False),
                      soft_wrap=False)
