"""One listening turn over real audio: endpointing, no-input, keypad, early commit."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from tests.voice.helpers import HELLO, NO, THANKS, YES, silence
from ivr.voice.keypad import KeypadQueue
from ivr.voice.listen import Heard, ListenSpec, listen
from ivr.voice.sources import WavSource

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
    source = WavSource.from_samples(silence(3.0), realtime=True)
    timer = threading.Timer(0.3, keypad.push, args=("7",))
    timer.start()
    try:
        heard = listen(source, recognizer, ListenSpec(noinput_timeout=3.0, max_digits=1), keypad=keypad)
    finally:
        timer.cancel()
    assert heard.kind == "dtmf" and heard.text == "7"
    assert 0.2 <= heard.decided_at <= 0.8


def test_invalid_key_is_refused():
    with pytest.raises(ValueError):
        KeypadQueue().push("1a")


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
    stable = spec.stable_ms / 1000
    assert early.decided_at - early.speech_ended_at >= stable - 1e-9  # waited until the partial was stable
    assert asked[-1] == HELLO and len(asked) == len(set(asked)), "asked once per stable partial"


def test_stable_window_outlasts_a_passing_partial(recognizer, korean_wav):
    """On the way to «안녕하세요» Vosk first guesses «아니요» for one decoder step (~0.24 s)."""
    path = korean_wav(HELLO)
    anything = lambda text: True  # noqa: E731 - every partial is "decisive"
    hasty = listen(WavSource(path, leading_silence_s=0.5), recognizer, ListenSpec(grammar=GRAMMAR, early_commit=anything, stable_ms=150))
    patient = listen(WavSource(path, leading_silence_s=0.5), recognizer, ListenSpec(grammar=GRAMMAR, early_commit=anything))
    assert hasty.committed_early and hasty.text == NO
    assert patient.committed_early and patient.text == HELLO


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
