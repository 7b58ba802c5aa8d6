"""One turn of listening: wait for the caller to speak, press keys, or stay silent.

Time is counted in audio consumed, not wall-clock time, so a recorded caller gives the same
result on any machine and the microphone runs through exactly the same code. Four things can
end a turn early: a key press (DTMF), Vosk's own end-of-utterance detection (≈ 1 s after the
caller stops), the caller's own pause (``end_silence_s``, below), or an *early commit* in menus
and in complete dictated values.

Early commit: the caller paused, and what they said already decides the menu
---------------------------------------------------------------------------
When ``early_commit`` is given, the turn ends as soon as all of this holds:

1. the caller spoke (``MIN_SPEECH_S`` of loud audio since the last check) and then stayed quiet
   for ``commit_silence_ms`` of audio, judged on 10 ms frames of the int16 chunks by
   :class:`PauseDetector` (fixed level on a clean line, the line's own noise floor on a noisy
   one; when the noise is within ≈ 26 dB of the speech nothing counts as quiet and the turn
   waits for Vosk's endpoint instead);
2. the recognizer is *flushed* (``finish()``: every frame fed so far is decoded, as at the end
   of a turn) and that final text is decisive for ``early_commit``;
3. Vosk agrees the caller has stopped: its last word ends at least half of ``commit_silence_ms``
   before now.

The answer is then the flushed final result, with Vosk's word times. If it is not decisive (or
check 3 fails), the recognizer is restarted and fed the turn's audio again, which puts it back
where it was, and the turn goes on: a later word can still change the answer, and Vosk's
endpoint still ends the turn. With a grammar that costs ≈ 8 ms + 12 ms per second of turn audio,
once per pause; with open vocabulary ≈ 0.1 s + up to 0.45 s per second, so there a pause is
only checked once the partial result is decisive on its own.

Why not act on a stable partial result, as the previous rule did (commit once a decisive
partial had stayed unchanged for ``stable_ms`` = 300 ms of audio)? Partials lag and say nothing
about the caller having stopped. Vosk refreshes them in decoder steps of 0.24 s of audio whatever
the chunk size (10, 20 and 40 ms chunks give the same steps), each reflecting audio ≈ 0.2 s older
than the step: on «안녕하세요» (speech ends at 1.50 s of the recording) the partials are «아니요»
at 1.32 s — a passing guess — and «안녕하세요» at 1.56 s; for «네» (ends at 0.80 s) the first
partial comes at 1.08 s. So that rule was slow (answer 380–415 ms after the caller stopped for
«안녕하세요», 600–640 ms for «네»), a shorter window was unsafe (150 ms committed «아니요»), and
a partial can also stay unchanged for 0.3 s while the caller keeps talking («안녕하세요»
running straight into «감사합니다» was answered 0.6 s before the caller finished). A flush has no
lag: cut 50 ms or more after the end of speech it gave the same text as Vosk's endpoint on every
phrase measured (five one-word answers and «네 감사합니다», at 175 and 120 words/min), and it
only ever runs once the caller has paused.

Why 160 ms: the longest quiet stretch inside an utterance we measured (espeak-ng Korean, stop
closures such as «딱딱해», «갑자기», word joins) is 50 ms at normal rate and 80–110 ms at
80–90 words/min, so 160 ms is well clear of it while the decision still comes 160–200 ms after
the caller stops (40 ms chunks), + ≈ 8 ms for the flush. benchmarks/bench_voice.py, end of speech
to the first answer sample, cache warm–cold: 187–222 ms for «안녕하세요», 171–207 ms for «네»
(Vosk's endpoint path: 1,007–1,060 ms). A pause of 160 ms after a decisive word does end the
turn — that is the point of early commit; a caller who keeps talking is not cut off.

The end of a turn: the caller's own pause, not Vosk's endpoint
-------------------------------------------------------------
Vosk ends an utterance ≈ 1 s after the caller stops with a grammar and 1–1.5 s with open
vocabulary, and a caller giving a name or a problem in free words was then given another 1.5 s
to go on: answers came 4–5 s after they stopped. With ``end_silence_s`` (the channel sets 0.6 s)
the turn ends after that much quiet audio (:class:`PauseDetector`), once some speech was heard
and the words so far are ``complete`` (a valid value for the slot; any words for free speech);
otherwise — a surname without the first name, eight digits of eleven — it waits ``patience_s``
(1.5 s), so a caller who pauses mid-dictation is not cut off. The recognizer is then flushed
(≈ 0.1 s with open vocabulary, a few ms with a grammar). Phrases Vosk closes inside the turn are
kept and joined. On a line too noisy for the detector to find a pause, Vosk's endpoint still
ends the turn.

Heard, silent or too quiet
--------------------------
Voice activity (ivr/voice/activity.py, the detector barge-in uses) decides whether the caller
spoke, not Vosk's words. With a menu grammar, espeak-ng's «네» after 0.5 s of silence gives no
partial and no word at all (it is not in the grammar and the decoder puts nothing, not even
``[unk]``, in its place), and speech at −30 dBFS gives none either: both were taken for silence,
«Я вас не слышу», while the call screen showed «слышу вас». Now a turn with voice in it is speech:
it ends on the caller's pause like any answer, and if no word came out of it the call hears a
miss — «Не расслышал», or, when no frame of the turn reached ``QUIET_RMS`` (≈ −30 dBFS),
«говорите громче» (``Heard.quiet``). Only a turn without voice activity is silence.

Not used, measured: ``SetPartialWords(True)`` (Vosk's word end times in partials) gives no partial
at all with a grammar on this model, and without one reports a word only once it is fully
aligned, ≈ 1.4 s after it ended.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from ivr.voice.activity import FRAME_S, NOISE_MARGIN, QUIET_RMS, SPEECH_RMS, OnsetWatch, SpeechOnset
from ivr.voice.keypad import KeypadQueue
from ivr.voice.stt import Final, Partial, SpeechRecognizer, Word, strip_unk

HeardKind = Literal["speech", "dtmf", "silence"]

PEAK_RATIO = 0.05  # a quiet frame is also ≈ 26 dB below the loudest one of the turn
MIN_SPEECH_S = 0.1  # speech needed before a pause is worth checking (not a click)
VOSK_LAG_S = 1.0  # an endpoint this long after the voice began has decoded it (not a silence rule)


@dataclass(frozen=True)
class ListenSpec:
    grammar: list[str] | None = None
    noinput_timeout: float = 5.0
    early_commit: Callable[[str], bool] | None = None
    commit_silence_ms: float = 160.0
    max_speech_s: float = 20.0
    # End of turn on the turn's own pauses (see "The end of a turn" above) instead of Vosk's
    # endpoint; ``complete`` says whether the words so far already answer (else ``patience_s``).
    end_silence_s: float | None = None
    complete: Callable[[str], bool] | None = None
    patience_s: float = 1.5
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
    phrases: int = 1  # phrases Vosk closed within the turn (a caller who paused mid-answer)
    quiet: bool = False  # speech without words, and no frame of the turn reached QUIET_RMS


class PauseDetector:
    """Speech and pauses in one turn's int16 audio, in 10 ms frames (see the module docstring).

    A frame is *speech* at ``max(SPEECH_RMS, NOISE_MARGIN × floor)`` or louder, and *quiet* below
    ``min(that, PEAK_RATIO × peak)``, where ``floor`` and ``peak`` are the quietest and loudest
    frames of the turn so far; a frame in between is neither and interrupts a pause. On a line
    whose noise is within ≈ 26 dB of the caller's loudest speech nothing is quiet, so early
    commit falls back to Vosk's endpoint instead of guessing.

    ``speech_s`` is the speech heard since the last :meth:`checked`, ``silence_s`` the length of
    the current pause and ``silence_started_at`` where it began (audio seconds of the turn).
    """

    def __init__(self, rate: int) -> None:
        self.frame = max(1, int(round(rate * FRAME_S)))
        self.rate = rate
        self.floor = math.inf
        self.peak = 0.0
        self.speech_s = 0.0
        self.heard_s = 0.0  # all speech of the turn (``speech_s`` restarts at each check)
        self.longest_pause_s = 0.0  # after speech: 0 on a line too noisy to tell a pause
        self.silence_s = 0.0
        self.silence_started_at = 0.0
        self._pos = 0

    def feed(self, chunk: bytes) -> None:
        x = np.frombuffer(chunk, dtype="<i2").astype(np.float32)
        for i in range(0, x.size, self.frame):
            piece = x[i : i + self.frame]
            rms = float(np.sqrt(np.mean(piece * piece)))
            self.floor = min(self.floor, rms)
            self.peak = max(self.peak, rms)
            loud = max(SPEECH_RMS, NOISE_MARGIN * self.floor)
            seconds = piece.size / self.rate
            if rms < min(loud, PEAK_RATIO * self.peak):
                if self.silence_s == 0.0:
                    self.silence_started_at = self._pos / self.rate
                self.silence_s += seconds
                if self.heard_s:
                    self.longest_pause_s = max(self.longest_pause_s, self.silence_s)
            else:
                self.silence_s = 0.0
                if rms >= loud:
                    self.speech_s += seconds
                    self.heard_s += seconds
            self._pos += piece.size

    def paused(self, silence_s: float) -> bool:
        return self.speech_s >= MIN_SPEECH_S and self.silence_s >= silence_s

    def checked(self) -> None:
        """The current pause has been looked at: the next check needs new speech first."""
        self.speech_s = 0.0


def listen(
    source: Iterable[bytes],
    recognizer: SpeechRecognizer,
    spec: ListenSpec,
    keypad: KeypadQueue | None = None,
    on_partial: Callable[[str], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    on_speech_start: Callable[[], None] | None = None,
    on_audio: Callable[[bytes], None] | None = None,
    onset_watch: OnsetWatch | None = None,
) -> Heard:
    """Run one turn; ``on_speech_start`` fires once, at the caller's first 60 ms of voice activity
    (ivr/voice/activity.py), Vosk's first partial or the first key pressed, whichever comes first:
    use it for barge-in (a key cuts the prompt as speech does, as on a hotline).
    ``on_audio`` sees every chunk as it is heard (a level meter). ``onset_watch`` (the
    microphone's) judges the onset on its own thread as the audio is recorded, instead of here
    between two chunks given to Vosk, which can run behind the caller."""
    if onset_watch is not None and on_speech_start is not None:
        lock = threading.Lock()
        once = [on_speech_start]

        def first_sign() -> None:  # from the watch's thread or this one, whichever is first
            with lock:
                action = once.pop() if once else None
            if action is not None:
                action()

        onset_watch.arm(first_sign)
        try:
            return listen(source, recognizer, spec, keypad, on_partial, clock, first_sign, on_audio)
        finally:
            onset_watch.disarm()
    rate = getattr(recognizer, "sample_rate", 16000)
    chunks = iter(source)
    recognizer.start(spec.grammar)
    samples = 0
    partial = ""  # raw text of the latest partial result
    started_at: float | None = None
    commit_silence_s = spec.commit_silence_ms / 1000.0
    early = spec.early_commit
    ends = spec.end_silence_s
    pauses = PauseDetector(rate) if early is not None or ends is not None else None
    fed: list[bytes] = []  # the current phrase's audio, to replay after a flush that did not decide
    fed_from = 0.0  # where ``fed`` begins, in audio seconds of the turn
    stream_from = 0.0  # where the recognizer's own word times begin (its last start())
    closed: list[Final] = []  # phrases Vosk already ended, kept while the caller may go on
    # A flush + replay is cheap with a grammar; with open vocabulary wait for a decisive partial.
    cheap_flush = getattr(recognizer, "active_grammar", spec.grammar) is not None
    decisive: dict[str, bool] = {}
    # Voice activity decides heard-or-silent, not Vosk's words: a short «да» after a pause, an
    # answer Vosk cannot place in the grammar, a caller too far from the microphone give no words
    # at all, and «Я вас не слышу» would be wrong for them (see "Heard, silent or too quiet").
    onset = SpeechOnset(rate)
    voiced_at: float | None = None
    announced = False

    def speech_starts() -> None:
        nonlocal announced
        if on_speech_start is not None and not announced:
            announced = True  # once per turn, by whichever sign of speech came first
            on_speech_start()

    def is_decisive(text: str) -> bool:
        if text not in decisive:
            decisive[text] = bool(text) and early is not None and bool(early(text))
        return decisive[text]

    def in_turn(final: Final) -> Final:
        """Word times counted from the turn's start, not from the recognizer's last start()."""
        if not stream_from:
            return final
        return Final(final.text, tuple(Word(w.text, w.start + stream_from, w.end + stream_from, w.conf)
                                       for w in final.words))

    def so_far(last: str) -> str:
        return " ".join(t for t in [*(strip_unk(f.text) for f in closed), strip_unk(last)] if t)

    def speech(final: Final, now: float, text_raw: str, committed_early: bool = False) -> Heard:
        phrases = [*closed, Final(text_raw, in_turn(final).words)] if text_raw.strip() else list(closed)
        words = tuple(w for f in phrases for w in f.words)
        raw = " ".join(f.text for f in phrases)
        begin = min((w.start for w in words), default=started_at if started_at is not None else voiced_at)
        end = max((w.end for w in words), default=now)
        return Heard(
            kind="speech",
            text=strip_unk(raw),
            speech_started_at=begin,
            speech_ended_at=end,
            committed_early=committed_early,
            decided_at=now,
            raw_text=raw,
            decided_clock=clock(),
            words=words,
            phrases=max(1, sum(1 for f in phrases if strip_unk(f.text))),
            quiet=not strip_unk(raw) and onset.peak < QUIET_RMS,
        )

    while True:
        if keypad is not None:
            key = keypad.get_nowait()
            if key is not None:
                speech_starts()
                return _collect_dtmf(key, chunks, keypad, spec, samples / rate, rate, clock, started_at)
        try:
            chunk = next(chunks)
        except StopIteration:
            now = samples / rate
            if started_at is not None or voiced_at is not None:  # speech had begun: its words, or none
                final = recognizer.finish()
                return speech(final, now, final.text)
            return Heard("silence", "", decided_at=now, decided_clock=clock())
        samples += len(chunk) // 2
        now = samples / rate
        if on_audio is not None:
            on_audio(chunk)
        if onset.feed(chunk):
            voiced_at = onset.onset_at
            speech_starts()  # before Vosk decodes the chunk: the prompt stops a few ms sooner
        result = recognizer.accept(chunk)
        if pauses is not None:
            fed.append(chunk)
            pauses.feed(chunk)

        if isinstance(result, Final) and ends is not None and pauses is not None and pauses.longest_pause_s >= 0.1:
            # Vosk heard the end of a phrase, but the turn ends on its own pause rule: keep the
            # phrase and go on listening (a caller dictating in groups, a name said in parts).
            if result.text.strip():
                if started_at is None:
                    started_at = min((w.start + stream_from for w in result.words), default=now)
                closed.append(in_turn(result))
            fed, fed_from, partial = [], now, ""
        elif isinstance(result, Final):
            if result.text.strip():
                if started_at is None:
                    started_at = min((w.start for w in result.words), default=now)
                return speech(result, now, result.text)
            if started_at is not None or (voiced_at is not None and now - voiced_at >= VOSK_LAG_S):
                # Words were forming (a partial result), or the caller's voice was heard long enough
                # ago for Vosk to have decoded it, and the endpoint kept no word: the caller spoke
                # and was not made out — a miss to repeat, not silence.
                return speech(result, now, "")
            # An endpoint with nothing recognised and nothing heard before it (Vosk's long-silence
            # rule): the turn goes on, so the no-input timer applies again.
            partial = ""
        elif isinstance(result, Partial) and result.text != partial:
            partial = result.text
            if started_at is None:
                started_at = now
                speech_starts()
            if on_partial is not None:
                clean = so_far(partial)  # with the phrases Vosk already closed in this turn
                if clean:
                    on_partial(clean)

        if (
            pauses is not None
            and pauses.paused(commit_silence_s)
            and (cheap_flush or is_decisive(so_far(partial)))
        ):
            pauses.checked()
            final = recognizer.finish()
            clean = strip_unk(final.text)
            last_end = max((w.end + stream_from for w in final.words), default=pauses.silence_started_at)
            if clean and now - last_end >= commit_silence_s / 2 and is_decisive(so_far(clean)):
                if started_at is None:
                    started_at = min((w.start + stream_from for w in final.words), default=pauses.silence_started_at)
                # The recognizer's turn is over; the next start() opens a new one.
                return speech(final, now, final.text, committed_early=True)
            # Not decided: reopen the turn and replay its audio, which puts the recognizer back
            # where it was (same audio, same decoding, give or take Vosk's own run-to-run jitter
            # of a frame in word times), then carry on listening.
            recognizer.start(spec.grammar)
            stream_from = fed_from
            for old in fed:
                replayed = recognizer.accept(old)
                if isinstance(replayed, Partial):
                    partial = replayed.text
                elif isinstance(replayed, Final):
                    if replayed.text.strip():  # not expected: the first pass had no endpoint here
                        return speech(replayed, now, replayed.text)
                    partial = ""

        if (
            ends is not None
            and pauses is not None
            and (started_at is not None or closed or voiced_at is not None)
            and pauses.heard_s >= MIN_SPEECH_S
            and pauses.silence_s >= ends
            and (pauses.silence_s >= spec.patience_s or spec.complete is None or spec.complete(so_far(partial)))
        ):
            final = recognizer.finish()
            return speech(final, now, final.text)

        if started_at is None and voiced_at is None and now >= spec.noinput_timeout:
            return Heard("silence", "", decided_at=now, decided_clock=clock())
        began = started_at if started_at is not None else voiced_at
        if began is not None and now - began >= spec.max_speech_s:
            final = recognizer.finish()
            return speech(final, now, final.text or partial)


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
