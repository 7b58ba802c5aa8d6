"""A typed call in the terminal: the fallback when there is no microphone or speech model.

Digits, ``*`` and ``#`` act as the keypad, an empty line is silence, anything else is what the caller
says. The checklist of what to have ready is shown every time it grows.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.panel import Panel

from ivr.engine import Call, Engine
from ivr.engine.call import Input, Turn
from ivr.channels.session import close_call, open_call
from ivr.engine.clock import Clock, system_clock

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
    call = open_call(engine, clock, reports_dir, keep_personal_data)
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
    close_call(call, console, reports_dir, keep_personal_data)
    return call
