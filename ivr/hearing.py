"""Audio in, a call's ``Input`` out: the one adapter between ``voice/`` (which knows nothing of
calls) and ``engine/`` (which knows nothing of audio).

What the call expects in its current state decides how to listen: a menu listens with a grammar
of its phrases and keys and may answer early on decisive words; a digit slot with number words,
answering at the caller's first pause once the value is final (all 11 digits of a СНИЛС); a free
slot with open vocabulary. Every turn ends ``END_SILENCE_S`` after the caller stops once what was
said is complete, and waits longer (``PATIENCE_S``) through a pause inside a value that is not —
ivr/voice/listen.py, "The end of a turn". ``ivr practice`` hears the microphone through it, convo
``audio:`` steps hear WAV files through it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from num2words import num2words

from ivr.engine import Call, Input
from ivr.engine.records import Expectation
from ivr.flow.model import Flow
from ivr.slots import slot_type
from ivr.understanding.normalize import tokens
from ivr.voice.activity import OnsetWatch
from ivr.voice.keypad import KeypadQueue
from ivr.voice.listen import ListenSpec, listen

END_SILENCE_S = 0.6  # the turn is over this long after the caller stops (+ ≈ 0.1 s to flush Vosk)…
PATIENCE_S = 1.5  # …or this long, while the value said so far is not yet complete


def grammar_for(expect: Expectation) -> list[str] | None:
    """What the recognizer may hear in this state: the menu's phrases and their words (callers
    combine them: «не могу войти»), the slot type's words where it has a closed vocabulary, and
    nothing for free speech (open vocabulary)."""
    extra: list[str] = []
    if expect.slot_type is not None:
        vocabulary = slot_type(expect.slot_type).grammar
        if vocabulary is None:
            return None
        extra = vocabulary()
    elif expect.mode == "free":
        return None
    words = [w for p in expect.phrases for w in tokens(p)]
    keys = [num2words(int(k), lang="ru") for k in expect.keys if k.isdigit()]  # «один» for key 1
    return list(dict.fromkeys([*expect.phrases, *extra, *words, *keys]))


def menu_phrases(flow: Flow) -> dict[str, list[str]]:
    """The phrases each menu listens for — its options' and, where it has options, the commands
    enabled there: the one list ``ivr doctor``, ``ivr check --model`` and ``ivr practice`` check
    against the model's vocabulary, so all three count the same missing words."""
    menus: dict[str, list[str]] = {}
    for name, state in flow.states.items():
        phrases = [p for o in state.options for p in o.phrases]
        phrases += [p for g in flow.enabled_globals(name).values() for p in g.phrases] if phrases else []
        if phrases:
            menus[name] = phrases
    return menus


@dataclass
class Ear:
    """The listening side of a spoken call; the source may be a microphone or a WAV file."""

    source: Iterable[bytes]
    recognizer: Any
    keypad: KeypadQueue | None = None
    early_commit: bool = True  # in menus, answer after a short pause once the words are decisive
    on_partial: Callable[[str], None] | None = None
    on_audio: Callable[[bytes], None] | None = None  # every chunk heard (the call screen's level meter)
    onset_watch: OnsetWatch | None = None  # the microphone's own barge-in detector

    def hear(
        self, call: Call, playing_s: float = 0.0, on_speech_start: Callable[[], None] | None = None
    ) -> Input:
        """The caller's next input in the call's current state. ``playing_s``: how long the
        prompt still plays (the silence timer starts when it ends)."""
        expect = call.expecting()
        grammar = grammar_for(expect)
        early: Callable[[str], bool] | None = None
        if self.early_commit and expect.mode == "menu" and not expect.step:
            # in a caller's step the caller leads in sentences: hear the whole answer
            early = lambda text: call.decisive(text) is not None  # noqa: E731
        elif self.early_commit and expect.slot_type is not None and grammar is not None:
            early = call.value_final  # a flush is cheap with a grammar (a few ms)
        spec = ListenSpec(
            grammar=grammar,
            noinput_timeout=expect.noinput_timeout + playing_s,
            early_commit=early,
            max_digits=1 if expect.mode == "menu" else None,
            end_silence_s=END_SILENCE_S,
            complete=call.value_complete if expect.slot_type is not None else None,
            patience_s=PATIENCE_S,
        )
        heard = listen(
            self.source,
            self.recognizer,
            spec,
            keypad=self.keypad,
            on_partial=self.on_partial,
            on_speech_start=on_speech_start,
            on_audio=self.on_audio,
            onset_watch=self.onset_watch,
        )
        if heard.kind == "silence":
            return Input("silence", "", expect.noinput_timeout)
        if heard.kind == "dtmf":
            return Input("dtmf", heard.text)
        # the answer lasts from the first word to the end of the last phrase, pauses included
        spoken_s = (heard.speech_ended_at or 0.0) - (heard.speech_started_at or 0.0)
        return Input(
            "speech", heard.text, max(0.0, spoken_s), heard.phrases if heard.text else None, heard.quiet
        )


@cache
def _recognizer(model_path: Path) -> Any:
    from ivr.voice.models import load_model
    from ivr.voice.stt import VoskRecognizer

    load_model(model_path)
    return VoskRecognizer(model_path)


def hear_audio(path: Path, call: Call) -> Input:
    """What the recognizer makes of a WAV file in the call's current state (convo ``audio:``).

    The model is the one ``ivr practice`` would use (``IVR_VOSK_MODEL`` or ``models/``)."""
    from ivr.voice.models import find_model
    from ivr.voice.sources import WavSource

    source = WavSource(path)  # a broken file is an AudioFileError naming it
    return Ear(source, _recognizer(find_model(None))).hear(call)
