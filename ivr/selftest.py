"""``ivr doctor --selftest``: can this machine's model hear this flow's menus at all?

(Above ``hearing`` in the layers: it speaks a flow's menus to the voice layer, which knows
nothing of flows.)

Every phrase of every menu is spoken by the simulator's own voice (pyttsx3/espeak-ng), and the
recording goes through the configured Vosk model with the grammar that state listens with in a
call (ivr/hearing.py). A phrase whose words the model lacks, or that it hears as something else,
is reported with what was heard — so a user with the Russian model checks the whole Russian path
on their own machine in one command, before a rehearsal goes wrong in the middle.

A synthetic voice is not a caller: a phrase that passes may still be misheard from a person, but
one that fails here will not be heard from anyone (a missing word, two phrases the model confuses).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from rich.table import Table

from ivr.engine.records import Expectation
from ivr.errors import UserError
from ivr.flow.model import Flow
from ivr.hearing import grammar_for
from ivr.terminal import literal
from ivr.terminal import out as console
from ivr.voice.audio import RATE, resample
from ivr.voice.stt import VoskRecognizer, normalize_phrase, recognize_all, strip_unk
from ivr.voice.tts import Synthesizer


@dataclass(frozen=True)
class PhraseResult:
    state: str
    phrase: str
    heard: str  # what the model made of the spoken phrase ("" for nothing)
    missing: tuple[str, ...] = ()  # words of the phrase the model's vocabulary lacks

    @property
    def ok(self) -> bool:
        return not self.missing and normalize_phrase(self.heard) == normalize_phrase(self.phrase)


def menu_expectations(flow: Flow) -> dict[str, Expectation]:
    """What each menu state listens for in a call: its options' phrases, the enabled global
    commands and its keys (said as number words) — as ``Call.expecting`` builds it."""
    found = {}
    for name, state in flow.states.items():
        if not state.options or state.collect:
            continue
        phrases = tuple(p for o in state.options for p in o.phrases)
        globals_ = tuple(p for g in flow.enabled_globals(name).values() for p in g.phrases)
        found[name] = Expectation("menu", phrases + globals_, keys=tuple(flow.menu(name).keys))
    return found


def selftest(flow: Flow, recognizer: VoskRecognizer, synthesizer: Synthesizer) -> list[PhraseResult]:
    """Each menu option's phrases, spoken and recognised in their state (globals once, in the
    first state that offers them)."""
    results: list[PhraseResult] = []
    audio: dict[str, bytes] = {}
    tried_globals: set[str] = set()
    for name, expect in menu_expectations(flow).items():
        grammar = grammar_for(expect)
        options = {p for o in flow.states[name].options for p in o.phrases}
        for phrase in dict.fromkeys(expect.phrases):
            if phrase not in options:
                if phrase in tried_globals:
                    continue
                tried_globals.add(phrase)
            missing = tuple(sorted(recognizer.missing_words([phrase])))
            if missing:
                results.append(PhraseResult(name, phrase, "", missing))
                continue
            if phrase not in audio:
                samples, rate = synthesizer.synth_samples(phrase)
                audio[phrase] = resample(samples, rate, RATE).tobytes()
            heard = strip_unk(recognize_all(recognizer, audio[phrase], grammar))
            results.append(PhraseResult(name, phrase, heard))
    return results


def run_selftest(flow_path: Path, model: str | None, voice: str, cache_dir: Path) -> list[PhraseResult]:
    from ivr.flow.loader import load_flow
    from ivr.voice.models import find_model, load_model

    flow = load_flow(flow_path)
    path = find_model(model)
    load_model(path)
    stt_log = logging.getLogger("ivr.voice.stt")
    level = stt_log.level
    stt_log.setLevel(logging.ERROR)  # the missing words are in the results, one row per phrase
    try:
        return selftest(flow, VoskRecognizer(path), Synthesizer(voice=voice, cache_dir=cache_dir))
    finally:
        stt_log.setLevel(level)


def print_selftest(flow: Path, voice: str, cache_dir: Path, model: str | None) -> list[str]:
    """The menu phrases the model did not hear as said; each one is a problem to fix."""
    console.print(
        f"Самопроверка: фразы меню голосом «{voice}» → модель, с грамматикой каждого состояния…", markup=False
    )
    try:
        results = run_selftest(flow, model, voice, cache_dir)
    except UserError as exc:
        console.print(f"[red]Самопроверка не выполнена:[/red] {literal(str(exc))}")
        return [str(exc)]
    bad = [r for r in results if not r.ok]
    if bad:
        table = Table(title="Фразы, которые модель не распознаёт")
        for column in ("Состояние", "Фраза", "Услышано"):
            table.add_column(column, overflow="fold")
        for r in bad:
            heard = f"нет в словаре: {', '.join(r.missing)}" if r.missing else (r.heard or "ничего")
            table.add_row(literal(r.state), literal(r.phrase), literal(heard))
        console.print(table)
        console.print(
            "Перефразируйте их в сценарии или добавьте кнопку; проверка слов: ivr check СЦЕНАРИЙ --model",
            markup=False,
        )
    console.print(f"Распознано фраз меню: {len(results) - len(bad)} из {len(results)}.", markup=False)
    return [r.phrase for r in bad]
