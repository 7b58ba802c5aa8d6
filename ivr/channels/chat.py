"""A typed call in the terminal: the fallback when there is no microphone or speech model.

Digits, ``*`` and ``#`` act as the keypad, an empty line is silence, anything else is what the caller
says. The checklist of what to have ready is shown every time it grows.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel

from ivr.channels.session import Session, hang_up_on_signals
from ivr.channels.trace import legend, trace_turn
from ivr.channels.watch import FlowWatcher, Watching
from ivr.channels.watch import watch_in_background as background
from ivr.engine import Call, Engine, Input, Turn
from ivr.engine.clock import Clock, system_clock
from ivr.engine.interpret import Question
from ivr.engine.loop import InputSource, converse
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
    """What the caller sees: the simulator's lines, the turn's outcome, the growing checklist; with
    ``trace``, also why each turn went where it did (for flow authors, never written to disk)."""

    def __init__(self, console: Console, *, trace: bool = False):
        self.console = console
        self.trace = trace
        self._shown_items = 0
        self._question: Question | None = None  # what the call asked before the turn to explain

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
        if self.trace:
            self.console.print(f"[dim]{escape(legend())}[/]")
        self.said(call.greeting, call.screen_only)
        self.checklist(call)
        self._question = call.question

    def reloaded(self, call: Call, said: list[str]) -> None:
        """The flow was reloaded (``--watch``): whatever the call had asked is forgotten."""
        self._question = call.question
        self.said(said, call.screen_only)

    def turn(self, call: Call, turn: Turn) -> None:
        if self.trace:
            for line in trace_turn(call.flow, turn, self._question):
                self.console.print(f"[dim]  · {escape(line)}[/]")
        self._question = call.question
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
    trace: bool = False,
    watch: Path | None = None,
    watch_in_background: bool = True,
) -> Call:
    """A typed call; ``watch`` names the flow file to reload on save (``--watch``), checked before
    every typed line and, with ``watch_in_background``, twice a second while the author types."""
    session = Session(reports_dir, keep_personal_data)
    call, transcript = session.open(engine, clock)
    console.print(f"[dim]Сценарий: {escape(engine.flow.meta.title)}. {TYPED_KEYS}[/]")
    view = ChatView(console, trace=trace)
    source: InputSource = TypedLines(read_line, console)
    stop = threading.Event()
    if watch is not None:
        watcher = FlowWatcher(watch)
        source = Watching(source, watcher, console, view.reloaded)
        console.print(
            f"[dim]Слежу за файлом {escape(str(watch))}: сохранённые правки начнут работать сразу.[/]"
        )
        if watch_in_background:
            background(watcher, console, stop)
    try:
        with hang_up_on_signals():
            type_call(call, console, source, view)
    finally:
        stop.set()
    session.close(call, transcript, console)
    return call


TYPED_KEYS = (
    "Цифры, * и # — кнопки телефона; пустая строка — молчание; /выход — положить трубку; /помощь — команды."
)


def type_call(call: Call, console: Console, source: InputSource, view: ChatView) -> None:
    """The call loop on the keyboard until the caller hangs up (end of input, /выход, Ctrl+C);
    typed chat and a spoken call that lost its microphone both end their call here."""
    try:
        converse(call, source, view)
    except KeyboardInterrupt:
        console.print()
