"""A typed call in the terminal: the fallback when there is no microphone or speech model.

Digits, ``*`` and ``#`` act as the keypad, an empty line is silence, anything else is what the caller
says. The checklist of what to have ready is shown every time it grows.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel

from ivr.channels.session import Session, hang_up_on_signals
from ivr.engine import Call, Engine, Input, Turn
from ivr.engine.clock import Clock, system_clock
from ivr.engine.loop import converse
from ivr.keypad import is_keypad

QUIT = {"/выход", "/exit", "/quit", "выход"}
HELP = {"/помощь", "/help", "/?"}
# The chat's own commands, in one place: shown on «/помощь» instead of being said into the call.
COMMANDS = (
    "Команды звонка текстом:\n"
    "  цифры, * и # — кнопки телефона (можно несколько сразу: 123#)\n"
    "  пустая строка — молчание\n"
    "  /выход — положить трубку (или Ctrl+D)\n"
    "  /помощь — этот список\n"
    "Всё остальное — ваши слова автоответчику."
)


def classify(line: str) -> Input:
    """A typed line as the call input it stands for."""
    text = line.strip()
    if not text:
        return Input("silence")
    if is_keypad(text):
        return Input("dtmf", text.replace(" ", ""))
    return Input("speech", text)


class ChatView:
    """What the caller sees: the simulator's lines, the turn's outcome, the growing checklist."""

    def __init__(self, console: Console):
        self.console = console
        self._shown_items = 0

    def said(self, texts: list[str], screen_only: set[str] | frozenset[str] = frozenset()) -> None:
        for text in texts:
            # flow text is printed as written: «[…]» in a prompt is not Rich markup; a state's
            # details (shown, not spoken) under a label of their own
            who = "[dim]Подробнее:[/]" if text in screen_only else "[bold cyan]Автоответчик:[/]"
            self.console.print(f"{who} {escape(text)}")

    def checklist(self, call: Call) -> None:
        if len(call.checklist) == self._shown_items:
            return
        self._shown_items = len(call.checklist)
        marks = {"ready": "✔", "invalid": "✘", "missing": "•"}
        lines = [f"{marks[call.item_status(entry)[0]]} {escape(entry.item)}" for entry in call.checklist]
        self.console.print(Panel("\n".join(lines), title="Что подготовить", expand=False), soft_wrap=False)

    def greeting(self, call: Call) -> None:
        self.said(call.greeting, call.screen_only)
        self.checklist(call)

    def turn(self, call: Call, turn: Turn) -> None:
        self.said(turn.said, call.screen_only)
        self.checklist(call)


class TypedLines:
    """The keyboard as the call's input source: a line a turn, until EOF, Ctrl+C or /выход; /помощь
    lists the commands and is not a turn (the call neither hears it nor counts it)."""

    def __init__(self, read_line: Callable[[str], str], console: Console):
        self.read_line = read_line
        self.console = console

    def next_input(self, call: Call) -> Input | None:
        if call.ended:
            return None
        while True:
            try:
                line = self.read_line("Вы: ")
            except (EOFError, KeyboardInterrupt):
                self.console.print()
                return None
            command = line.strip().lower()
            if command not in HELP:
                return None if command in QUIT else classify(line)
            self.console.print(COMMANDS, markup=False)


def run_chat(
    engine: Engine,
    *,
    console: Console,
    read_line: Callable[[str], str] = input,
    clock: Clock = system_clock,
    reports_dir: Path | None = Path("reports"),
    keep_personal_data: bool = False,
) -> Call:
    session = Session(reports_dir, keep_personal_data)
    call, transcript = session.open(engine, clock)
    console.print(f"[dim]Сценарий: {escape(engine.flow.meta.title)}. {TYPED_KEYS}[/]")
    with hang_up_on_signals():
        type_call(call, console, read_line, ChatView(console))
    session.close(call, transcript, console)
    return call


TYPED_KEYS = (
    "Цифры, * и # — кнопки телефона; пустая строка — молчание; /выход — положить трубку; /помощь — команды."
)


def type_call(call: Call, console: Console, read_line: Callable[[str], str], view: ChatView) -> None:
    """The call loop on the keyboard until the caller hangs up (end of input, /выход, Ctrl+C);
    typed chat and a spoken call that lost its microphone both end their call here."""
    try:
        converse(call, TypedLines(read_line, console), view)
    except KeyboardInterrupt:
        console.print()
