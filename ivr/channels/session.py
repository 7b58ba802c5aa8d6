"""What every interactive rehearsal does around the conversation itself, typed or spoken: start a
call with its transcript file, and at hang-up show the take-away checklist and write the report."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel

from ivr.engine import Call, Engine
from ivr.engine.call import new_call_id
from ivr.engine.clock import Clock
from ivr.errors import UserError
from ivr.report import report


def transcript_path(reports_dir: Path, flow_id: str, started: datetime, call_id: str) -> Path:
    """Unique per call: twenty rehearsals in one folder, or two with the same ``--now``, never
    write into each other's files."""
    return reports_dir / f"{started:%Y%m%d-%H%M%S}-{flow_id}-{call_id}.transcript.jsonl"


@dataclass(frozen=True)
class Session:
    """Where one rehearsal writes: ``reports_dir`` None writes nothing (tests, dry runs)."""

    reports_dir: Path | None
    keep_personal_data: bool = False
    _preparing: threading.Event = field(default_factory=threading.Event, repr=False, compare=False)

    def open(self, engine: Engine, clock: Clock) -> tuple[Call, Path | None]:
        call_id = new_call_id()
        transcript = (
            transcript_path(self.reports_dir, engine.flow.id, clock().astimezone(engine.line.zone), call_id)
            if self.reports_dir is not None
            else None
        )
        # the menus' meaning vectors are loaded or computed while the greeting plays
        self._preparing.clear()
        threading.Thread(
            target=engine.flow.prepare_menus, args=(self._preparing,), name="ivr-prepare-menus", daemon=True
        ).start()
        call = engine.start_call(
            clock=clock, transcript=transcript, keep_personal_data=self.keep_personal_data, call_id=call_id
        )
        return call, transcript

    def close(self, call: Call, transcript: Path | None, console: Console) -> None:
        self._preparing.set()  # a short call need not wait for every menu to be embedded
        call.hang_up()
        show_summary(call, console)
        for observer in call.observers:
            problem = getattr(observer, "problem", None)
            if problem:
                console.print(f"[yellow]{escape(problem)}[/]")
        if self.reports_dir is not None:
            try:
                md, js = report.write(call, self.reports_dir, self.keep_personal_data)
            except UserError as failed:
                raise UserError(f"{failed}\nРасшифровка звонка: {transcript}") from None
            note = report.progress_note(js)
            if note:
                console.print(escape(note))
            console.print(f"[dim]Отчёт: {escape(str(md))}; расшифровка: {escape(str(transcript))}[/]")


def show_summary(call: Call, console: Console) -> None:
    """The one thing to take away from the rehearsal: what to have ready for the real call."""
    lines = []
    for line in report.checklist(call, keep=True):
        mark = {"ready": "[green]✔[/]", "invalid": "[red]✘[/]", "missing": "[yellow]•[/]"}[line.status]
        note = f" — {line.note}" if line.note else ""
        lines.append(f"{mark} {escape(line.item + note)}")
    if lines:
        console.print(
            Panel("\n".join(lines), title=f"Итог: {escape(call.topic or 'что подготовить')}", expand=False),
            soft_wrap=False,
        )


@contextmanager
def hang_up_on_signals() -> Iterator[None]:
    """SIGTERM (a closing terminal, `kill`) and SIGHUP (a lost SSH session) end a rehearsal like
    Ctrl+C: the call is hung up and its report written, instead of dying without one."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    wanted = [s for s in (signal.SIGTERM, getattr(signal, "SIGHUP", None)) if s is not None]
    try:
        previous = {s: signal.signal(s, interrupt) for s in wanted}
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
