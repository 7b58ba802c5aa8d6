"""One turn of listening: wait for the caller to speak, press keys, or stay silent.

Time is counted in audio consumed, not wall-clock time, so a recorded caller gives the same
result on any machine and the microphone runs through exactly the same code. Three things can
end a turn early: a key press (DTMF), Vosk's own end-of-utterance detection, or a partial
result that the menu logic already finds decisive and that has stayed unchanged for
``stable_ms`` (answering without waiting for the caller's trailing silence).

Vosk refreshes partial results in decoder steps of about 0.24 s of audio, whatever the chunk
size fed to it. A partial can only be called stable once it has survived a refresh, so the
default ``stable_ms`` is 300: with 150 ms a passing guess (e.g. «нет» on the way to «нет,
оператора») would be committed before the decoder had a chance to revise it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from ivr.voice.keypad import KeypadQueue
from ivr.voice.stt import Final, Partial, SpeechRecognizer, Word, strip_unk

HeardKind = Literal["speech", "dtmf", "silence"]


@dataclass(frozen=True)
class ListenSpec:
    grammar: list[str] | None = None
    noinput_timeout: float = 5.0
    early_commit: Callable[[str], bool] | None = None
    stable_ms: float = 300.0
    max_speech_s: float = 20.0
    dtmf_pause_s: float = 2.0
    max_digits: int | None = None
    dtmf_terminator: str = "#"


@dataclass(frozen=True)
class Heard:
    """What one turn produced; all ``*_at`` times are audio seconds since the turn began."""

    kind: HeardKind
    text: str
    speech_started_at: float | None = None
    speech_ended_at: float | None = None
    committed_early: bool = False
    decided_at: float = 0.0
    raw_text: str = ""
    decided_clock: float = 0.0
    words: tuple[Word, ...] = ()


def listen(
    source: Iterable[bytes],
    recognizer: SpeechRecognizer,
    spec: ListenSpec,
    keypad: KeypadQueue | None = None,
    on_partial: Callable[[str], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    on_speech_start: Callable[[], None] | None = None,
) -> Heard:
    """Run one turn; ``on_speech_start`` fires at the first sign of speech (use it for barge-in)."""
    rate = getattr(recognizer, "sample_rate", 16000)
    chunks = iter(source)
    recognizer.start(spec.grammar)
    samples = 0
    partial = ""  # raw text of the latest partial result
    changed_at = 0.0  # audio time the partial last changed
    started_at: float | None = None
    judged = None  # the partial text early_commit was last asked about
    stable_s = spec.stable_ms / 1000.0

    def speech(final: Final, now: float, early: bool, text_raw: str) -> Heard:
        words = final.words
        begin = min((w.start for w in words), default=started_at)
        end = max((w.end for w in words), default=changed_at if early else now)
        return Heard(
            kind="speech",
            text=strip_unk(text_raw),
            speech_started_at=begin,
            speech_ended_at=end,
            committed_early=early,
            decided_at=now,
            raw_text=text_raw,
            decided_clock=clock(),
            words=words,
        )

    while True:
        if keypad is not None:
            key = keypad.get_nowait()
            if key is not None:
                return _collect_dtmf(key, chunks, keypad, spec, samples / rate, rate, clock, started_at)
        try:
            chunk = next(chunks)
        except StopIteration:
            now = samples / rate
            if started_at is not None:
                final = recognizer.finish()
                if final.text.strip():
                    return speech(final, now, False, final.text)
            return Heard("silence", "", decided_at=now, decided_clock=clock())
        samples += len(chunk) // 2
        now = samples / rate
        result = recognizer.accept(chunk)

        if isinstance(result, Final):
            if result.text.strip():
                if started_at is None:
                    started_at = min((w.start for w in result.words), default=now)
                return speech(result, now, False, result.text)
            # An endpoint with nothing recognised (noise, or Vosk's long-silence rule): the turn
            # goes on as if nothing had been said, so the no-input timer applies again.
            partial, judged, started_at = "", None, None
        elif isinstance(result, Partial) and result.text != partial:
            partial = result.text
            changed_at = now
            if started_at is None:
                started_at = now
                if on_speech_start is not None:
                    on_speech_start()
            if on_partial is not None:
                clean = strip_unk(partial)
                if clean:
                    on_partial(clean)

        if spec.early_commit is not None and partial and partial != judged and now - changed_at >= stable_s:
            judged = partial
            clean = strip_unk(partial)
            if clean and spec.early_commit(clean):
                # The recognizer's unfinished turn is simply abandoned: the next start() resets it.
                return Heard(
                    kind="speech",
                    text=clean,
                    speech_started_at=started_at,
                    speech_ended_at=changed_at,
                    committed_early=True,
                    decided_at=now,
                    raw_text=partial,
                    decided_clock=clock(),
                )

        if started_at is None and now >= spec.noinput_timeout:
            return Heard("silence", "", decided_at=now, decided_clock=clock())
        if started_at is not None and now - started_at >= spec.max_speech_s:
            final = recognizer.finish()
            return speech(final, now, False, final.text or partial)


def _collect_dtmf(
    first: str,
    chunks,
    keypad: KeypadQueue,
    spec: ListenSpec,
    now: float,
    rate: int,
    clock: Callable[[], float],
    started_at: float | None,
) -> Heard:
    """Gather consecutive keys until the terminator, ``max_digits``, or a pause of ``dtmf_pause_s``.

    The pause is measured in audio time like everything else (the microphone keeps being read so
    its audio does not pile up); only when the source has ended does it fall back to ``clock``.
    """
    keys: list[str] = []
    terminator = spec.dtmf_terminator

    def done(at: float) -> Heard:
        text = "".join(keys)
        if terminator and text.endswith(terminator) and len(text) > 1:
            text = text[: -len(terminator)]
        return Heard("dtmf", text, speech_started_at=started_at, decided_at=at, raw_text="".join(keys), decided_clock=clock())

    def add(key: str) -> bool:
        keys.append(key)
        return (bool(terminator) and key == terminator) or (spec.max_digits is not None and len(keys) >= spec.max_digits)

    if add(first):
        return done(now)
    last_key = now
    source_alive = True
    wall_last_key = clock()
    while True:
        key = keypad.get_nowait()
        if key is not None:
            if add(key):
                return done(now)
            last_key = now
            wall_last_key = clock()
            continue
        if source_alive:
            try:
                chunk = next(chunks)
            except StopIteration:
                source_alive = False
                wall_last_key = clock() - (now - last_key)
                continue
            now += (len(chunk) // 2) / rate
            if now - last_key >= spec.dtmf_pause_s:
                return done(now)
        else:
            remaining = spec.dtmf_pause_s - (clock() - wall_last_key)
            if remaining <= 0:
                return done(now)
            key = keypad.get(timeout=remaining)
            if key is not None:
                if add(key):
                    return done(now)
                wall_last_key = clock()
