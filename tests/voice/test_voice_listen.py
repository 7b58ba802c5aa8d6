"""One listening turn over real audio: endpointing, no-input, keypad, early commit."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from ivr.engine import Engine
from ivr.flow.loader import parse_flow
from ivr.hearing import Ear
from ivr.voice.keypad import KeypadQueue
from ivr.voice.listen import Heard, ListenSpec, listen
from ivr.voice.sources import WavSource
from tests.voice.helpers import HELLO, NO, RATE, THANKS, YES, silence

GRAMMAR = [HELLO, THANKS, YES, NO]


class KeysAt:
    """Wraps a source and presses keys when a given amount of audio has been consumed."""

    def __init__(self, source, keypad: KeypadQueue, at_s: float, keys: str) -> None:
        self.source, self.keypad, self.at_s, self.keys = source, keypad, at_s, keys
        self.consumed = 0.0

    def __iter__(self):
        return self

    def __next__(self) -> bytes:
        chunk = next(self.source)
        self.consumed += len(chunk) / 2 / 16000
        if self.keys and self.consumed >= self.at_s:
            self.keypad.push(self.keys)
            self.keys = ""
        return chunk


def test_endpoint_ends_the_turn_before_the_source_runs_out(recognizer, korean_wav):
    source = WavSource(korean_wav(HELLO), leading_silence_s=0.5, trailing_silence_s=10.0)
    heard = listen(source, recognizer, ListenSpec(grammar=GRAMMAR))
    assert heard.kind == "speech" and heard.text == HELLO
    assert not heard.committed_early
    assert heard.decided_at < source.audio_end_s + 3.0 < source.audio_end_s + 10.0
    assert source.position_s == pytest.approx(heard.decided_at, abs=0.05)
    assert 0.4 <= heard.speech_started_at <= 0.8
    assert heard.speech_started_at < heard.speech_ended_at <= source.audio_end_s
    assert 0.2 <= heard.decided_at - heard.speech_ended_at <= 2.0


def test_open_vocabulary_turn(recognizer, korean_wav):
    heard = listen(WavSource(korean_wav(HELLO), leading_silence_s=0.3), recognizer, ListenSpec())
    assert heard.kind == "speech" and heard.text.strip()


def test_no_input_after_timeout_in_audio_time(recognizer):
    source = WavSource.from_samples(silence(1.0), trailing_silence_s=30.0)
    started = time.monotonic()
    heard = listen(source, recognizer, ListenSpec(grammar=GRAMMAR, noinput_timeout=4.0))
    assert heard.kind == "silence" and heard.text == ""
    assert heard.decided_at == pytest.approx(4.0, abs=0.05)
    assert time.monotonic() - started < 4.0, "a file source must run faster than real time"


def test_silent_file_that_ends_early_is_silence(recognizer, tmp_path):
    from ivr.voice.audio import write_wav

    path = write_wav(tmp_path / "quiet.wav", silence(0.5), 16000)
    heard = listen(WavSource(path, trailing_silence_s=0.5), recognizer, ListenSpec(noinput_timeout=5.0))
    assert heard.kind == "silence" and heard.decided_at == pytest.approx(1.0, abs=0.05)


def test_keys_pressed_while_listening_end_the_turn_as_dtmf(recognizer, korean_wav):
    keypad = KeypadQueue()
    source = KeysAt(WavSource(korean_wav(HELLO), leading_silence_s=0.5), keypad, at_s=0.3, keys="42#")
    heard = listen(source, recognizer, ListenSpec(grammar=GRAMMAR), keypad=keypad)
    assert heard.kind == "dtmf" and heard.text == "42" and heard.raw_text == "42#"
    assert heard.decided_at < 0.5


def test_dtmf_digits_end_after_a_pause(recognizer):
    keypad = KeypadQueue()
    source = KeysAt(WavSource.from_samples(silence(0.1), trailing_silence_s=None), keypad, at_s=0.2, keys="123")
    heard = listen(source, recognizer, ListenSpec(dtmf_pause_s=1.0), keypad=keypad)
    assert heard.kind == "dtmf" and heard.text == "123"
    assert heard.decided_at == pytest.approx(0.2 + 1.0, abs=0.1)


def test_single_key_menus_answer_at_once(recognizer):
    keypad = KeypadQueue()
    keypad.push("1")
    heard = listen(WavSource.from_samples(silence(5)), recognizer, ListenSpec(max_digits=1), keypad=keypad)
    assert heard == Heard("dtmf", "1", decided_at=0.0, raw_text="1", decided_clock=heard.decided_clock)


def test_terminator_alone_is_returned(recognizer):
    keypad = KeypadQueue()
    keypad.push("#")
    heard = listen(WavSource.from_samples(silence(5)), recognizer, ListenSpec(), keypad=keypad)
    assert heard.kind == "dtmf" and heard.text == "#"


def test_key_pressed_from_another_thread_during_realtime_listening(recognizer):
    keypad = KeypadQueue()
    timer = threading.Timer(0.3, keypad.push, args=("7",))

    class KeyPressedWhileListening(WavSource):
        """Starts the key timer with the source's audio clock (its first chunk), so the time
        listen() needs to get going on a busy machine does not count as listening time."""

        def __next__(self) -> bytes:
            if timer.ident is None:
                timer.start()
            return super().__next__()

    source = KeyPressedWhileListening.from_samples(silence(3.0), realtime=True)
    try:
        heard = listen(source, recognizer, ListenSpec(noinput_timeout=3.0, max_digits=1), keypad=keypad)
    finally:
        timer.cancel()
    assert heard.kind == "dtmf" and heard.text == "7"
    assert 0.2 <= heard.decided_at <= 0.8


def test_invalid_key_is_refused():
    with pytest.raises(ValueError):
        KeypadQueue().push("1a")


def speech_end_s(samples: np.ndarray, lead_s: float = 0.0) -> float:
    """Where the caller stops: the last sample above 300 (as benchmarks/bench_voice.py measures)."""
    loud = np.nonzero(np.abs(samples.astype(np.int32)) > 300)[0]
    return lead_s + (loud[-1] + 1) / RATE


def trimmed(samples: np.ndarray) -> np.ndarray:
    loud = np.nonzero(np.abs(samples.astype(np.int32)) > 300)[0]
    return samples[loud[0] : loud[-1] + 1]


def one_option(text: str) -> bool:
    """Decisive as a menu sees it: exactly one option, in whole words."""
    return sum(option in text.split() for option in GRAMMAR) == 1


def same_turn(a: Heard, b: Heard) -> bool:
    """Same outcome, decided at the same point of the audio give or take one decoder step: Vosk
    itself is not exactly repeatable on the shared model (two identical runs can end a word 30 ms
    apart, or reach the open-vocabulary endpoint one 0.24 s step apart)."""
    return (
        (a.kind, a.text, a.raw_text, a.committed_early) == (b.kind, b.text, b.raw_text, b.committed_early)
        and abs(a.decided_at - b.decided_at) <= 0.25
        and [w.text for w in a.words] == [w.text for w in b.words]
    )


class CountingRecognizer:
    """The real recognizer, counting the flushes (``finish()`` calls) the listener makes."""

    def __init__(self, recognizer) -> None:
        self._recognizer = recognizer
        self.finishes = 0

    def __getattr__(self, name):
        return getattr(self._recognizer, name)

    def finish(self):
        self.finishes += 1
        return self._recognizer.finish()


def test_early_commit_fires_before_the_endpoint(recognizer, korean_wav):
    path = korean_wav(HELLO)
    baseline = listen(WavSource(path, leading_silence_s=0.5), recognizer, ListenSpec(grammar=GRAMMAR))
    asked: list[str] = []

    def decisive(text: str) -> bool:
        asked.append(text)
        return text == HELLO

    spec = ListenSpec(grammar=GRAMMAR, early_commit=decisive)
    early = listen(WavSource(path, leading_silence_s=0.5), recognizer, spec)
    assert early.kind == "speech" and early.text == HELLO and early.committed_early
    assert early.decided_at < baseline.decided_at - 0.5, (early.decided_at, baseline.decided_at)
    # the recognizer's own word times: the word ended a whole pause before the decision
    assert [w.text for w in early.words] == [HELLO]
    assert early.decided_at - early.speech_ended_at >= spec.commit_silence_ms / 1000
    assert early.speech_started_at == pytest.approx(baseline.speech_started_at, abs=0.05)
    assert asked == [HELLO], "asked once, about what the recognizer heard after the pause"


@pytest.mark.parametrize("phrase", [HELLO, THANKS, YES, NO])
def test_early_commit_answers_soon_after_the_caller_stops(recognizer, korean_samples, phrase):
    samples = korean_samples(phrase)
    spec = ListenSpec(grammar=GRAMMAR, early_commit=one_option)
    heard = listen(WavSource.from_samples(samples, leading_silence_s=0.5), recognizer, spec)
    assert heard.committed_early and heard.text == phrase
    after = heard.decided_at - speech_end_s(samples, 0.5)
    pause = spec.commit_silence_ms / 1000
    assert pause <= after <= pause + 0.05, "a pause of commit_silence_ms, rounded up to a 40 ms chunk"


def test_a_passing_partial_is_never_committed(recognizer, korean_wav):
    """On the way to «안녕하세요» Vosk first guesses «아니요» for one decoder step (~0.24 s)."""
    partials: list[str] = []
    asked: list[str] = []

    def anything(text: str) -> bool:  # every text is "decisive"
        asked.append(text)
        return True

    heard = listen(
        WavSource(korean_wav(HELLO), leading_silence_s=0.5),
        recognizer,
        ListenSpec(grammar=GRAMMAR, early_commit=anything),
        on_partial=partials.append,
    )
    assert partials[:2] == [NO, HELLO], "the passing guess is there to be taken"
    assert heard.committed_early and heard.text == HELLO
    assert NO not in asked


def test_no_early_commit_while_the_caller_keeps_talking(recognizer, korean_samples):
    """«안녕하세요» runs straight into «감사합니다»: the partial «안녕하세요» is decisive and stays
    unchanged for more than 0.3 s of continued speech (so a stable-partial rule would answer
    mid-sentence), but there is no pause until the end, and then the answer is not decisive."""
    samples = np.concatenate([trimmed(korean_samples(HELLO)), trimmed(korean_samples(THANKS))])
    source = WavSource.from_samples(samples, leading_silence_s=0.5)
    end = speech_end_s(samples, 0.5)
    partials: list[tuple[float, str]] = []
    heard = listen(
        source,
        recognizer,
        ListenSpec(grammar=GRAMMAR, early_commit=one_option),
        on_partial=lambda text: partials.append((source.position_s, text)),
    )
    changes = [t for t, _ in partials] + [heard.decided_at]
    held = [changes[i + 1] - t for i, (t, text) in enumerate(partials) if text == HELLO and changes[i + 1] < end]
    assert held and max(held) >= 0.3, partials
    assert not heard.committed_early and heard.text == f"{HELLO} {THANKS}"
    assert heard.decided_at > end + 0.5, "ended by Vosk's endpoint"


@pytest.mark.parametrize(("pause_s", "committed"), [(0.1, False), (0.3, True)])
def test_a_pause_commits_only_when_long_enough(recognizer, korean_samples, pause_s, committed):
    samples = np.concatenate([trimmed(korean_samples(YES)), silence(pause_s), trimmed(korean_samples(THANKS))])
    heard = listen(
        WavSource.from_samples(samples, leading_silence_s=0.5),
        recognizer,
        ListenSpec(grammar=GRAMMAR, early_commit=one_option),
    )
    if committed:  # «네», a pause, and the answer is given: that is what early commit is for
        assert heard.committed_early and heard.text == YES
        assert heard.decided_at < 0.5 + len(trimmed(korean_samples(YES))) / RATE + pause_s
    else:
        assert not heard.committed_early and heard.text == f"{YES} {THANKS}"


def test_undecided_pause_leaves_the_turn_as_it_was(recognizer, korean_samples):
    """Each pause is checked by flushing the recognizer; when the answer is not decisive the turn
    is replayed and goes on exactly as without early commit."""
    samples = np.concatenate([trimmed(korean_samples(THANKS)), silence(0.3), trimmed(korean_samples(HELLO))])
    baseline = listen(WavSource.from_samples(samples, leading_silence_s=0.5), recognizer, ListenSpec(grammar=GRAMMAR))
    counting = CountingRecognizer(recognizer)
    heard = listen(
        WavSource.from_samples(samples, leading_silence_s=0.5),
        counting,
        ListenSpec(grammar=GRAMMAR, early_commit=lambda text: text == HELLO),
    )
    assert counting.finishes == 2, "one flush per pause: after «감사합니다» and after «안녕하세요»"
    assert same_turn(heard, baseline)
    assert heard.text == f"{THANKS} {HELLO}" and not heard.committed_early


def test_open_vocabulary_pause_is_checked_only_on_a_decisive_partial(recognizer, korean_wav):
    """Without a grammar a flush and replay costs ~0.45 s per second of audio, so it waits for a
    partial result that is decisive on its own."""
    path = korean_wav(HELLO)
    baseline = listen(WavSource(path, leading_silence_s=0.5), recognizer, ListenSpec())
    counting = CountingRecognizer(recognizer)
    heard = listen(WavSource(path, leading_silence_s=0.5), counting, ListenSpec(early_commit=lambda text: False))
    assert counting.finishes == 0
    assert same_turn(heard, baseline)
    # the second turn decodes on the recognizer the first one gave back (ivr/voice/stt.py): its
    # word times still count from its own start, not from the recognizer's
    for turn in (baseline, heard):
        assert 0.4 <= turn.speech_started_at < turn.speech_ended_at <= 0.5 + 2.0, turn


@pytest.mark.parametrize(("noise_rms", "committed"), [(100, True), (1000, False)])
def test_noisy_line(recognizer, korean_samples, noise_rms, committed):
    """Quiet is judged against the line's own noise floor; when the noise comes within ≈ 26 dB of
    the speech, nothing counts as a pause and the turn waits for Vosk's endpoint instead."""
    speech = np.concatenate([silence(0.5), korean_samples(HELLO).astype(np.float64), silence(3.0)])
    noise = np.random.default_rng(7).normal(0.0, noise_rms, speech.size)
    samples = np.clip(speech + noise, -32768, 32767).astype(np.int16)
    heard = listen(WavSource.from_samples(samples), recognizer, ListenSpec(grammar=GRAMMAR, early_commit=one_option))
    assert heard.kind == "speech" and heard.text == HELLO
    assert heard.committed_early is committed
    after = heard.decided_at - speech_end_s(korean_samples(HELLO), 0.5)
    assert after <= 0.21 if committed else after > 0.5


def test_pause_detector_frames():
    from ivr.voice.listen import PauseDetector

    def detect(audio: np.ndarray) -> PauseDetector:
        detector = PauseDetector(RATE)
        for i in range(0, audio.size, 640):
            detector.feed(np.clip(audio[i : i + 640], -32768, 32767).astype(np.int16).tobytes())
        return detector

    t = np.arange(int(0.3 * RATE)) / RATE
    tone = 20000 * np.sin(2 * np.pi * 200 * t)  # RMS ≈ 14,100
    clean = detect(np.concatenate([silence(0.2), tone, silence(0.25)]))
    assert clean.speech_s == pytest.approx(0.3, abs=0.011)
    assert clean.silence_s == pytest.approx(0.25, abs=0.011)
    assert clean.silence_started_at == pytest.approx(0.5, abs=0.011)
    assert clean.paused(0.16)
    clean.checked()
    assert not clean.paused(0.16), "the same pause is checked once"

    rng = np.random.default_rng(1)
    line = np.concatenate([silence(0.2), tone, silence(0.25)]).astype(np.float64)
    # noise 33 dB under the tone: far above the fixed level, but quiet next to the speech
    noisy = detect(line + rng.normal(0, 300, line.size))
    assert noisy.paused(0.16) and noisy.speech_s == pytest.approx(0.3, abs=0.011)
    # noise 23 dB under the tone: nothing counts as a pause (Vosk's endpoint decides instead)
    loud = detect(line + rng.normal(0, 1000, line.size))
    assert loud.silence_s == 0.0 and loud.speech_s == pytest.approx(0.3, abs=0.011)


def test_early_commit_not_taken_when_predicate_says_no(recognizer, korean_wav):
    heard = listen(
        WavSource(korean_wav(HELLO), leading_silence_s=0.5),
        recognizer,
        ListenSpec(grammar=GRAMMAR, early_commit=lambda text: False),
    )
    assert heard.kind == "speech" and not heard.committed_early and heard.text == HELLO


def test_callbacks_report_partials_and_speech_start(recognizer, korean_wav):
    partials: list[str] = []
    starts: list[int] = []
    heard = listen(
        WavSource(korean_wav(HELLO), leading_silence_s=0.5),
        recognizer,
        ListenSpec(grammar=GRAMMAR),
        on_partial=partials.append,
        on_speech_start=lambda: starts.append(1),
    )
    assert heard.text == HELLO
    assert partials and partials[-1] == HELLO
    assert starts == [1]


def test_one_source_feeds_consecutive_turns(recognizer, korean_samples):
    audio = np.concatenate([silence(0.4), korean_samples(HELLO), silence(2.5), korean_samples(THANKS)])
    source = WavSource.from_samples(audio, trailing_silence_s=5.0)
    first = listen(source, recognizer, ListenSpec(grammar=GRAMMAR))
    second = listen(source, recognizer, ListenSpec(grammar=GRAMMAR))
    third = listen(source, recognizer, ListenSpec(grammar=GRAMMAR, noinput_timeout=2.0))
    assert (first.kind, first.text) == ("speech", HELLO)
    assert (second.kind, second.text) == ("speech", THANKS)
    assert third.kind == "silence"


def test_speech_cut_off_by_end_of_source_is_finished(recognizer, korean_samples):
    source = WavSource.from_samples(np.concatenate([silence(0.3), korean_samples(HELLO)]), trailing_silence_s=0.0)
    heard = listen(source, recognizer, ListenSpec(grammar=GRAMMAR))
    assert heard.kind == "speech" and heard.text == HELLO


def test_custom_clock_stamps_the_decision(recognizer):
    ticks = iter(range(100, 1000))
    heard = listen(
        WavSource.from_samples(silence(1)), recognizer, ListenSpec(noinput_timeout=0.5), clock=lambda: next(ticks)
    )
    assert heard.kind == "silence" and heard.decided_clock == 100


STEP_FLOW = f"""
flow: {{id: ko_step, title: "Шаг звонящего", start: menu}}
states:
  menu:
    say: "Меню."
    options: &choices [{{id: agree, phrases: ["{YES}"], goto: done}}, {{id: thanks, phrases: ["{THANKS}"], goto: done}}]
  step:
    step: "Сказать всё"
    options: *choices
    noinput: ["Слушаю."]
  done: {{say: "Спасибо.", end: true}}
"""


@pytest.mark.parametrize(("state", "heard"), [("menu", YES), ("step", f"{YES} {THANKS}")])
def test_a_callers_step_is_heard_to_the_end_of_the_sentence(recognizer, korean_samples, state, heard):
    """«네», a pause, «감사합니다»: a menu answers after the pause (early commit); in a caller's
    step the caller leads and speaks in sentences, so the whole answer is heard."""
    engine = Engine(parse_flow(STEP_FLOW))
    call = engine.start_call()
    engine.machine.set_state(call, state)
    samples = np.concatenate([trimmed(korean_samples(YES)), silence(0.3), trimmed(korean_samples(THANKS))])
    ear = Ear(WavSource.from_samples(samples, leading_silence_s=0.5), recognizer, early_commit=True)
    assert ear.hear(call).text == heard


def test_a_turn_ends_on_the_callers_own_pause_not_on_vosks_endpoint(recognizer, korean_samples):
    """Free speech used to be answered 4–5 s after the caller stopped (Vosk's endpoint, then 1.5 s
    more for further phrases); a pause shorter than ``end_silence_s`` still continues the answer."""
    hello, thanks = korean_samples(HELLO), korean_samples(THANKS)
    audio = np.concatenate([silence(0.5), hello, thanks, silence(2.0)])
    pause = (hello.size - speech_end_s(hello) * RATE + (thanks.size - trimmed(thanks).size) / 2) / RATE
    assert 0.3 < pause < 0.5  # espeak-ng's own silence around the words
    heard = listen(WavSource.from_samples(audio), recognizer, ListenSpec(grammar=GRAMMAR, end_silence_s=0.6))
    words = heard.text.split()  # Vosk hears a «네» in the gap, with or without this rule
    assert (words[0], words[-1]) == (HELLO, THANKS)
    after = heard.decided_at - speech_end_s(audio)
    assert 0.6 <= after <= 0.7, after
    assert heard.speech_started_at == pytest.approx(0.5, abs=0.15)


@pytest.mark.parametrize(("complete", "text"), [(False, f"{HELLO} {THANKS}"), (True, HELLO)])
def test_a_pause_inside_an_incomplete_answer_does_not_cut_the_caller_off(recognizer, korean_samples, complete, text):
    """A second of silence after half a value (a surname alone, eight digits of eleven) waits for
    the rest, even after Vosk has closed the first phrase; after a complete one it is the end."""
    hello, thanks = trimmed(korean_samples(HELLO)), trimmed(korean_samples(THANKS))
    audio = np.concatenate([silence(0.5), hello, silence(1.0), thanks])
    spec = ListenSpec(grammar=GRAMMAR, end_silence_s=0.6, complete=lambda said: complete, patience_s=1.5)
    heard = listen(WavSource.from_samples(audio), recognizer, spec)
    assert heard.text == text
    if not complete:  # Vosk's word times of both phrases are the turn's
        assert heard.phrases == 2 and heard.words[-1].end == pytest.approx(speech_end_s(audio), abs=0.15)
