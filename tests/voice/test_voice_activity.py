"""Voice activity for barge-in, on real espeak-ng speech and synthetic clicks (no model needed)."""

from __future__ import annotations

import numpy as np
import pytest

from ivr.voice.activity import SpeechOnset
from tests.voice.helpers import RATE, YES, silence


def onset_of(audio: np.ndarray, chunk: int = 640) -> float | None:
    """Feeds ``audio`` in 40 ms chunks, as the microphone delivers it."""
    detector = SpeechOnset(RATE)
    samples = np.clip(audio, -32768, 32767).astype(np.int16)
    for i in range(0, samples.size, chunk):
        if detector.feed(samples[i : i + chunk].tobytes()):
            return detector.onset_at
    return None


def burst(seconds: float, level: float = 8000.0) -> np.ndarray:
    return np.random.default_rng(3).normal(0.0, level, int(seconds * RATE))


def test_a_short_word_is_an_onset_within_its_first_syllable(korean_samples):
    word = korean_samples(YES)  # «네»: too short for Vosk's partials to stop a prompt in time
    start = np.nonzero(np.abs(word.astype(np.int32)) > 300)[0][0] / RATE
    at = onset_of(np.concatenate([silence(0.5), word, silence(0.5)]))
    assert at is not None and at == pytest.approx(0.5 + start, abs=0.03)


@pytest.mark.parametrize("seconds", [0.002, 0.02, 0.05])
def test_clicks_and_knocks_shorter_than_the_window_are_not_speech(seconds):
    assert onset_of(np.concatenate([silence(0.3), burst(seconds), silence(0.5)])) is None


def test_a_steady_hum_is_not_speech():
    t = np.arange(2 * RATE) / RATE
    hum = 300 * np.sin(2 * np.pi * 50 * t) + np.random.default_rng(5).normal(0, 30, t.size)
    assert onset_of(hum) is None
