"""``ivr chat --watch``: the flow file is reloaded when it is saved, and the call goes on.

An author edits a prompt or a phrase and tries it at once, in the call already under way: the
file's modification time and size are polled (``os.stat``, cheap enough twice a second, and no
file-system event library to install); a change is loaded in full, as ``ivr chat`` would load it.
A flow that does not load is reported with its ``file:line:col`` messages and the call goes on
with the last flow that did. A background thread notices a save while the author is typing and
says so at once; the new flow takes over before the next typed line is answered, in the main
thread, so a turn never runs half on one flow and half on the other.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from ivr.engine import Call, Engine, Input
from ivr.engine.loop import InputSource
from ivr.errors import UserError

# How often the background thread looks at the file: a save shows within half a second.
POLL_SECONDS = 0.5


@dataclass(frozen=True)
class Loaded:
    """A save was seen and loaded: ``problem`` is the loader's message (file:line:col) if the flow
    did not load; a flow that did waits in the watcher for ``take``."""

    problem: str | None = None


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        info = path.stat()
    except OSError:  # mid-save (some editors delete and rename): looked at again next time
        return None
    return info.st_mtime_ns, info.st_size


class FlowWatcher:
    """One flow file: ``poll`` loads it again when it changed on disk since the last look."""

    def __init__(self, path: Path):
        self.path = path
        self._seen = _stamp(path)
        self._lock = threading.Lock()
        self._pending: Engine | None = None

    def poll(self) -> Loaded | None:
        """The newly saved flow, once per save; ``None`` when the file is unchanged (or gone)."""
        with self._lock:
            stamp = _stamp(self.path)
            if stamp is None or stamp == self._seen:
                return None
            self._seen = stamp
            try:
                engine = Engine.from_file(self.path)
            except UserError as problem:
                self._pending = None  # a broken save cancels an earlier good one not yet used
                return Loaded(str(problem))
            self._pending = engine
            return Loaded()

    def take(self) -> Engine | None:
        """The last good flow loaded and not yet put into the call."""
        with self._lock:
            engine, self._pending = self._pending, None
            return engine


def say_loaded(console: Console, loaded: Loaded) -> None:
    """A save that did not load, with where; the author fixes it while the call goes on."""
    if loaded.problem is not None:
        console.print(
            "[yellow]Сценарий не загрузился — звонок идёт по прежней версии. Исправьте и сохраните:[/]"
        )
        console.print(escape(loaded.problem), highlight=False)


class Watching:
    """An input source that first puts the last saved flow into the call, then reads as usual."""

    def __init__(
        self,
        source: InputSource,
        watcher: FlowWatcher,
        console: Console,
        said: Callable[[Call, list[str]], None],
    ):
        self.source = source
        self.watcher = watcher
        self.console = console
        self.said = said  # shows what the call says when the reload moved it

    def next_input(self, call: Call) -> Input | None:
        while (inp := self.source.next_input(call)) is not None:
            loaded = self.watcher.poll()
            if loaded is not None:
                say_loaded(self.console, loaded)
            engine = self.watcher.take()
            if engine is None or self._switch(call, engine):
                return inp
        return None

    def _switch(self, call: Call, engine: Engine) -> bool:
        """Put ``engine`` into the call; whether the typed line still answers the state it was
        typed in (it does not when the call had to start again)."""
        before = escape(call.state)
        reloaded = call.reload(engine.line)
        answered = reloaded.kept and not reloaded.said and not call.ended
        if answered:
            self.console.print(f"[green]Сценарий перезагружен[/] — звонок в том же состоянии «{before}».")
        elif reloaded.kept:
            self.console.print(
                f"[yellow]Сценарий перезагружен; состояние «{before}» больше не ждёт ответа[/] — звонок идёт "
                "дальше по новой версии, ваша реплика не отправлена."
            )
        else:
            self.console.print(
                f"[yellow]Сценарий перезагружен; состояния «{before}» в нём больше нет[/] — звонок начат "
                f"с начала («{escape(call.flow.meta.start)}»), ваша реплика не отправлена."
            )
        self.said(call, reloaded.said)
        return answered


def watch_in_background(
    watcher: FlowWatcher, console: Console, stop: threading.Event, interval: float = POLL_SECONDS
) -> threading.Thread:
    """Say at once that a save was seen (or did not load), while the author is still typing."""

    def run() -> None:
        while not stop.wait(interval):
            loaded = watcher.poll()
            if loaded is None:
                continue
            if loaded.problem is None:
                console.print(
                    "[dim]Сценарий сохранён — новая версия начнёт работать с вашей следующей реплики.[/]"
                )
            else:
                say_loaded(console, loaded)

    thread = threading.Thread(target=run, name="ivr-watch-flow", daemon=True)
    thread.start()
    return thread
