"""``audio: file.wav`` convo steps: a recorded caller goes through the same listening code as the
microphone (grammar of the current state, endpointing, early commit), then into the call."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from rich.console import Console

from ivr.channels.practice import VoiceCall, VoiceIO
from ivr.engine import Call
from ivr.engine.call import Input


@cache
def _recognizer(model_path: Path):
    from ivr.voice.models import load_model
    from ivr.voice.stt import VoskRecognizer

    load_model(model_path)
    return VoskRecognizer(model_path)


def hear_audio(path: Path, call: Call) -> Input:
    """What the recognizer makes of a WAV file in the call's current state.

    The model is the one ``ivr practice`` would use (``IVR_VOSK_MODEL`` or ``models/``)."""
    from ivr.voice.models import find_model
    from ivr.voice.sources import WavSource

    source = WavSource(path)  # a broken file is an AudioFileError naming it
    io = VoiceIO(source, _recognizer(find_model(None)))
    return VoiceCall(call.engine, io, console=Console(quiet=True)).hear(call, 0.0)
