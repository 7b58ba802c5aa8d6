"""Everything a run is configured with, resolved once at the program's edge.

The CLI builds one ``Places`` from the environment and one ``VoiceSettings`` from its options and
hands them down; layers below take values and never read ``os.environ`` themselves, so a test or
a library caller can pass its own. ``Places.from_env`` is the only reader of the ``IVR_*``
variables.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

ENV_MODEL = "IVR_VOSK_MODEL"  # a model folder to use when --model is not given
ENV_MODELS_DIR = "IVR_MODELS_DIR"  # where `ivr models download` puts models (default ./models)
ENV_CACHE_DIR = "IVR_CACHE_DIR"  # where recomputable files go (prompt audio, phrase vectors)


@dataclass(frozen=True)
class Places:
    """Where models and caches live."""

    models_dir: Path
    model_from_env: Path | None
    cache_root: Path

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Places:
        env = os.environ if environ is None else environ
        models = env.get(ENV_MODELS_DIR)
        model = env.get(ENV_MODEL)
        cache = env.get(ENV_CACHE_DIR)
        if cache:
            cache_root = Path(cache).expanduser()
        else:
            xdg = env.get("XDG_CACHE_HOME")
            cache_root = (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "ivr"
        return cls(
            models_dir=Path(models).expanduser() if models else Path.cwd() / "models",
            model_from_env=Path(model).expanduser() if model else None,
            cache_root=cache_root,
        )

    def cache(self, kind: str) -> Path:
        """The folder for one kind of cached file; nothing is created here."""
        return self.cache_root / kind


def interactive(environ: Mapping[str, str] | None = None) -> bool:
    """A person at a terminal who can answer a question (not CI, not a pipe)."""
    env = os.environ if environ is None else environ
    return sys.stdin.isatty() and not env.get("CI")


@dataclass(frozen=True)
class VoiceSettings:
    """How ``ivr practice`` talks and listens."""

    model: str | None = None  # --model: a folder or a known model's name
    voice: str = "ru"
    rate: int | None = None
    barge_in: bool = True
    early_commit: bool = True
    offer_download: bool = False  # ask to download a missing model (only where someone can answer)
    places: Places = field(default_factory=Places.from_env)
    input_device: str | None = None  # --input: a device number or part of its name (None: the default)
    output_device: str | None = None  # --output
    record: bool = False  # --record: both sides of the call in a WAV next to the report
    push_to_talk: bool = False  # --push-to-talk: the microphone is heard only after the space bar
