"""Every spoken prompt of a shipped flow fits a phone line: at most 20 seconds, measured by the
product's own voice (``Synthesizer``: pyttsx3 on espeak-ng, Russian, the default rate ``ivr
practice`` speaks at), not estimated from characters.

An answer is what the caller hears before they can act: entering a state speaks its ``say:``
and, through a state that only passes the call on (``next:`` without a menu), the ``say:`` of the
next one too (the longest branch counts). Reprompts, read-backs and command answers are spoken
alone. ``details:`` is shown, not spoken, and is not measured. The audio is cached on disk by
text, so a run after the first one only reads WAV headers.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from pathlib import Path

import pytest
import soundfile as sf

from ivr.engine import Engine, ManualClock
from ivr.engine.prompts import Prompts
from ivr.voice.tts import Synthesizer
from tests import background

FLOWS = sorted((Path(__file__).resolve().parents[2] / "flows").glob("*.yaml"))
MAX_SECONDS = 20.0
GAP_S = 0.25  # ivr.channels.practice.GAP_S: silence between two prompts of one answer


class _Facts:
    """A call in ``state`` with typical values for what a turn fills in."""

    def __init__(self, state: str):
        self.state = state
        self.slots: dict = {}
        self.reference = "48173052"
        self.topic = "Вход и доступ: забытый пароль или логин"
        self.context = {"heard": "сто двенадцать двести тридцать три", "error": "Не хватает цифр.",
                        "candidates": "«вход и доступ» или «технические сбои»"}


def answers(flow_path: Path) -> list[tuple[str, list[str]]]:
    """(where, texts spoken in a row) for every answer the flow can give."""
    engine = Engine.from_file(flow_path)
    flow = engine.flow
    clock = ManualClock(datetime.fromisoformat("2026-11-25T21:00:00+03:00"))  # closed: {next_open} set
    prompts = Prompts(flow, engine.hours, clock)

    def render(texts: list[str], state: str) -> list[str]:
        return [t for t in (prompts.render(text, _Facts(state)) for text in texts) if t]

    out: list[tuple[str, list[str]]] = []
    for name, state in flow.states.items():
        chain, at, seen = [], name, set()
        while at not in seen:  # the longest path through pass-through states is taken below
            seen.add(at)
            chain += render(flow.states[at].say, at)
            here = flow.states[at]
            if here.options or here.collect or here.end or not here.next:
                break
            at = max((b.goto for b in here.next), key=lambda s: sum(map(len, flow.states[s].say)))
        if chain:
            out.append((f"{name}: say", chain))
        for kind in ("nomatch", "noinput"):
            out += [(f"{name}: {kind}[{i}]", render([t], name)) for i, t in enumerate(getattr(state, kind))]
        out += [(f"{name}: option {o.id}: say", render(o.say, name)) for o in state.options if o.say]
        if state.collect:
            out += [(f"{name}: invalid[{i}]", render([t], name)) for i, t in enumerate(state.collect.invalid)]
    meta = flow.meta
    for kind in ("nomatch", "noinput", "ambiguous", "confirm", "declined", "collect_failed", "line_talk"):
        out += [(f"flow: {kind}[{i}]", render([t], meta.start)) for i, t in enumerate(getattr(meta, kind))]
    out += [(f"globals.{g}: say", render(glob.say, meta.start)) for g, glob in flow.globals.items() if glob.say]
    return [(where, texts) for where, texts in out if texts]


@cache
def _synthesizer() -> Synthesizer:
    return Synthesizer()  # the voice and rate of `ivr practice` by default


@cache
def seconds(text: str) -> float:
    return sf.info(str(_synthesizer().synth(text))).duration


def spoken_seconds(texts: list[str]) -> float:
    return sum(seconds(t) for t in texts) + GAP_S * (len(texts) - 1)


def synthesize_all() -> None:
    """Every prompt of every shipped flow into the run's audio cache: the job that
    tests/background.py starts with the run, so the test below mostly reads WAV headers."""
    for flow_path in FLOWS:
        for _, texts in answers(flow_path):
            spoken_seconds(texts)


@pytest.mark.parametrize("flow_path", FLOWS, ids=lambda p: p.name)
def test_every_spoken_prompt_fits_twenty_seconds(flow_path):
    job = background.result("prompt_audio")  # synthesizes what it has not: it is the same voice
    assert job.returncode == 0, job.stdout
    too_long = []
    for where, texts in answers(flow_path):
        duration = spoken_seconds(texts)
        if duration > MAX_SECONDS:
            too_long.append(f"{where}: {duration:.1f} с — «{' '.join(texts)[:70]}…»")
    assert not too_long, f"{len(too_long)} реплик дольше {MAX_SECONDS:.0f} с:\n" + "\n".join(too_long)


def test_the_measure_is_the_voice_itself():
    """The check fails a long prompt and passes a short one, by the synthesizer's own audio."""
    short = "Главное меню. Коротко скажите, что случилось."
    long = " ".join(["Перед звонком подготовьте паспорт, ИНН, СНИЛС и номер личного кабинета."] * 6)
    assert 1.0 < spoken_seconds([short]) < 6.0
    assert spoken_seconds([long]) > MAX_SECONDS
    assert spoken_seconds([short, short]) == pytest.approx(2 * seconds(short) + GAP_S)
