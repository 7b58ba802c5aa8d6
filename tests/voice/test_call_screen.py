"""The call screen of ``ivr practice`` as a terminal shows it: the live status line (who talks, the
level, the words so far) must never glue onto a printed line nor leave copies of itself behind."""

from __future__ import annotations

import io

from rich.console import Console

from ivr.channels.practice import VoiceCall, VoiceIO
from ivr.channels.status_line import HEARING, StatusLine
from ivr.engine import Engine
from ivr.flow.loader import parse_flow
from ivr.voice.playback import FileSinkPlayer
from ivr.voice.tts import Synthesizer
from tests.voice.helpers import HELLO, terminal_rows

STATUS = ("[говорит автоответчик]", "[слушаю]", "[слышу вас]")


def terminal(width: int = 80) -> tuple[Console, io.StringIO]:
    screen = io.StringIO()
    return Console(file=screen, force_terminal=True, color_system=None, width=width), screen


def test_the_checklist_is_printed_above_the_live_line_not_after_it(tmp_path):
    """The answer starts playing (the line says «говорит автоответчик»), then the checklist panel
    is printed: it goes above the line, which is drawn again under it."""
    flow = parse_flow("""
flow: {id: cl, title: C, start: main}
states:
  main:
    say: "Назовите СНИЛС."
    checklist: ["СНИЛС"]
    options: [{id: done, keys: "1", goto: bye}]
  bye: {say: "До свидания.", end: true}
""")
    console, screen = terminal()
    call = Engine(flow).start_call()
    player = FileSinkPlayer(tmp_path / "out.wav", realtime=False)
    voice = VoiceCall(VoiceIO([], None, player, Synthesizer(cache_dir=tmp_path)), console=console,
                      live_partials=True)
    voice.greeting(call)
    rows = terminal_rows(screen.getvalue(), 80)
    assert any("Что подготовить" in row for row in rows)
    assert not [row for row in rows if row.startswith(STATUS) and "Что подготовить" in row]
    assert rows[-1].startswith("[говорит автоответчик]"), rows  # still up, under the panel


def test_a_long_answer_heard_so_far_stays_on_one_line():
    """At 80 columns a partial wider than the terminal wrapped, and each redraw left its first row
    behind (21 stale lines for one long answer). The line is cut to the width, the latest words
    kept."""
    console, screen = terminal(80)
    status = StatusLine(console, True)
    status.set(state=HEARING)
    words: list[str] = []
    for _ in range(30):
        words.append(HELLO)
        status.set(words=" ".join(words), keys="12")
    rows = terminal_rows(screen.getvalue(), 80)
    assert len([row for row in rows if row.startswith(STATUS)]) == 1, rows
    assert rows[-1].endswith(f"{HELLO} кнопки: 12"), "the latest words and the keys stay in view"
    status.clear()
    console.print("Вы: …")
    assert terminal_rows(screen.getvalue(), 80)[-2:] == ["Вы: …", ""]
