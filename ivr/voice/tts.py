"""Speech synthesis of the simulator's prompts, cached on disk.

pyttsx3 drives espeak-ng in-process, and espeak-ng runs its commands on its own thread. pyttsx3
cancels that thread's queue whenever it is still busy as ``runAndWait`` starts, which silently
drops a just-set voice or rate (the prompt comes out at the previous speed) and, on a fresh
engine, the synthesis itself (the call returns and no file appears). So every property change
is flushed through espeak-ng (``espeak_Synchronize``) before synthesis starts. As a second line
of defence each prompt is written to a temporary name, checked (exists, valid WAV, sound
present, length plausible for the text), retried with a fresh engine if not, and only then
moved into the cache. pyttsx3 also prints «Audio saved to …» after every file; that is kept
off stdout. Identical prompts are synthesized once.

The synthesis itself runs in a child process (``synth_worker``): espeak-ng now and then ends its
process with a segmentation fault (twice in about fourteen cold runs of ~400 prompts on this
project's machines), and in the simulator's own process that ended the caller's practice call.
A child that dies or hangs costs one attempt: the next attempt starts a new child.
"""

from __future__ import annotations

import atexit
import gc
import hashlib
import json
import os
import re
import select
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ivr.cache import cache_dir
from ivr.errors import UserError
from ivr.oserrors import describe
from ivr.voice.speakable import speakable
from ivr.voice.stdio import quiet_stdout

DEFAULT_RATE = 175  # espeak-ng's own default, words per minute
ESPEAK_COMMAND = "sudo apt-get install espeak-ng"
ESPEAK_FIX = f"Установите синтезатор: {ESPEAK_COMMAND}"

# espeak-ng at 175 wpm speaks about 16 characters of Russian text per second.
_CHARS_PER_S_AT_DEFAULT = 16.0

_engine_lock = threading.RLock()
_engine = None


@dataclass(frozen=True)
class VoiceInfo:
    id: str
    name: str
    languages: tuple[str, ...]


def _engine_id() -> str:
    try:
        from importlib.metadata import version

        return f"pyttsx3-{version('pyttsx3')}-espeak-ng"
    except Exception:  # pragma: no cover - metadata missing in odd installs
        return "pyttsx3-espeak-ng"


def _espeak_settle() -> None:
    """Wait until espeak-ng has carried out every queued command (voice, rate, synthesis)."""
    try:
        from pyttsx3.drivers import _espeak

        _espeak.Synchronize()
    except (ImportError, AttributeError, OSError):  # a pyttsx3 without this module: best effort
        time.sleep(0.05)


def _get_engine():
    global _engine
    with _engine_lock:
        if _engine is None:
            try:
                import pyttsx3

                engine = pyttsx3.init("espeak")
            except (ImportError, OSError, RuntimeError) as exc:
                raise UserError(f"Не удалось запустить синтезатор речи espeak-ng.\n{ESPEAK_FIX}") from exc
            # A new engine queues commands until its first run loop; one empty loop makes later
            # property changes take effect immediately, so they can be flushed before synthesis.
            with quiet_stdout():
                _espeak_settle()
                engine.runAndWait()
                _espeak_settle()
            _engine = engine
        return _engine


@atexit.register
def _drop_engine_at_exit() -> None:
    """pyttsx3's destructor fails noisily if it runs during interpreter teardown."""
    global _engine
    _engine = None
    gc.collect()


def write_wav(voice_id: str, rate: int, spoken: str, path: Path) -> None:
    """Synthesize ``spoken`` into ``path`` in this process (the child's work, ``synth_worker``)."""
    engine = _get_engine()
    with quiet_stdout():
        engine.setProperty("voice", voice_id)
        engine.setProperty("rate", rate)
        _espeak_settle()  # see the module docstring: otherwise runAndWait may cancel these
        engine.save_to_file(spoken, str(path))
        engine.runAndWait()
    # The file is written from espeak's callback; give a late write a moment to land.
    deadline = time.monotonic() + 0.5
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.01)


# A prompt of 20 s of speech is synthesized in about a second; a child silent this long is stuck.
CHILD_TIMEOUT_S = 60.0


class _SynthesisChild:
    """The child process that runs espeak-ng (``python -m ivr.voice.synth_worker``), one job at a
    time: a JSON line in, «ok» or an error line out. Started on first use, and again after it died."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def write(self, voice_id: str, rate: int, spoken: str, path: Path) -> bool:
        """Whether the child reports ``path`` written; False if it failed, died or hung (it is
        then stopped, and the next call starts a new one)."""
        job = json.dumps({"voice": voice_id, "rate": rate, "text": spoken, "path": str(path)}, ensure_ascii=False)
        with self._lock:
            process = self._started()
            assert process.stdin is not None and process.stdout is not None
            try:
                process.stdin.write(job.encode("utf-8") + b"\n")
                process.stdin.flush()
                ready, _, _ = select.select([process.stdout], [], [], CHILD_TIMEOUT_S)
                reply = process.stdout.readline() if ready else b""
            except (OSError, ValueError):
                reply = b""
            if not reply:
                self._stop()
                return False
            return reply.strip() == b"ok"

    def _started(self) -> subprocess.Popen[bytes]:
        if self._process is None or self._process.poll() is not None:
            try:
                self._process = subprocess.Popen(
                    [sys.executable, "-m", "ivr.voice.synth_worker"],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                )
            except OSError as exc:
                raise UserError(f"Не удалось запустить синтез речи: {describe(exc)}") from exc
        return self._process

    def _stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            process.kill()
            process.wait()

    def close(self) -> None:
        with self._lock:
            self._stop()


_CHILD = _SynthesisChild()
atexit.register(_CHILD.close)


def list_voices() -> list[VoiceInfo]:
    with _engine_lock:
        engine = _get_engine()
        voices = engine.getProperty("voices")
    return [VoiceInfo(v.id, v.name or v.id, tuple(v.languages or ())) for v in voices]


def find_voice(voice: str = "ru") -> VoiceInfo:
    """Resolve a language code («ru»), an espeak voice id («zle/ru») or a voice name."""
    voices = list_voices()
    want = voice.strip().lower()
    for match in (
        lambda v: v.id.lower() == want,
        lambda v: any(lang.lower() == want for lang in v.languages),
        lambda v: v.name.lower() == want,
        lambda v: any(lang.lower().startswith(want + "-") for lang in v.languages),
    ):
        for v in voices:
            if match(v):
                return v
    raise UserError(
        f"Голос «{voice}» не найден в espeak-ng. Для русского нужен голос с языком ru.\n{ESPEAK_FIX}"
    )


def default_cache_dir() -> Path:
    return cache_dir("tts")


def expected_duration_s(text: str, rate: int) -> float:
    return len(text) / (_CHARS_PER_S_AT_DEFAULT * rate / DEFAULT_RATE)


class SynthesisError(UserError):
    """espeak-ng kept producing no or implausible audio for a prompt."""


class Synthesizer:
    """Prompt text → cached WAV file, spoken by a pyttsx3/espeak-ng voice."""

    def __init__(
        self,
        voice: str = "ru",
        rate: int | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
        numbers_as_words: bool = True,
        attempts: int = 3,
    ) -> None:
        self.voice = voice
        self.rate = int(rate) if rate else DEFAULT_RATE
        if not 50 <= self.rate <= 450:
            raise UserError(f"Скорость речи {self.rate} вне допустимого диапазона 50–450 слов в минуту.")
        self.cache_dir = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
        self.numbers_as_words = numbers_as_words
        self.attempts = max(1, attempts)
        self.engine = _engine_id()
        self.synthesized = 0
        self.cache_hits = 0
        self.retries = 0
        self._voice: VoiceInfo | None = None

    @property
    def voice_info(self) -> VoiceInfo:
        if self._voice is None:
            self._voice = find_voice(self.voice)
        return self._voice

    def spoken_text(self, text: str) -> str:
        text = " ".join(text.split())
        russian = any(lang.lower().startswith("ru") for lang in self.voice_info.languages)
        return speakable(text) if self.numbers_as_words and russian else text

    def cache_key(self, text: str) -> str:
        spoken = self.spoken_text(text)
        payload = json.dumps([spoken, self.voice_info.id, self.rate, self.engine], ensure_ascii=False)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()

    def cache_path(self, text: str) -> Path:
        return self.cache_dir / f"{self.cache_key(text)}.wav"

    def synth(self, text: str) -> Path:
        """The WAV file of ``text``; synthesized on first use, then served from the cache."""
        spoken = self.spoken_text(text)
        if not re.search(r"\w", spoken):
            raise UserError("Нечего озвучивать: текст подсказки пуст.")
        target = self.cache_path(text)
        if _valid_wav(target, spoken, self.rate):
            self.cache_hits += 1
            return target
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserError(f"Не удалось создать папку кэша озвучки {self.cache_dir}: {describe(exc)}") from exc
        return self._render(text, spoken, target)

    def _render(self, text: str, spoken: str, target: Path) -> Path:
        """Synthesize into ``target`` (through a temporary file beside it, checked, then moved)."""
        with _engine_lock:
            for attempt in range(self.attempts):
                tmp = target.parent / f".{target.stem}.{os.getpid()}.{threading.get_ident()}.{attempt}.tmp.wav"
                try:
                    if _CHILD.write(self.voice_info.id, self.rate, spoken, tmp) and _written(tmp, spoken, self.rate):
                        os.replace(tmp, target)
                        self.synthesized += 1
                        return target
                except OSError as exc:
                    raise UserError(f"Не удалось записать озвучку в {target.parent}: {describe(exc)}") from exc
                finally:
                    tmp.unlink(missing_ok=True)
                self.retries += 1
                _CHILD.close()  # a fresh child (and espeak-ng) for the next attempt
        raise SynthesisError(
            f"espeak-ng не смог озвучить подсказку «{text[:60]}» ({self.attempts} попытки).\n{ESPEAK_FIX}"
        )

    def synth_samples(self, text: str, *, cache: bool = True) -> tuple[np.ndarray, int]:
        """Prompt audio as int16 samples with their sample rate, ready for a Player.

        ``cache=False`` for a prompt that repeats what the caller said (a read-back of their СНИЛС
        or name): it is synthesized in a private temporary folder and deleted at once, so no WAV
        named by a hash of personal data is left on disk."""
        import soundfile as sf

        if cache:
            data, rate = sf.read(str(self.synth(text)), dtype="int16", always_2d=False)
            return np.asarray(data, dtype=np.int16), int(rate)
        spoken = self.spoken_text(text)
        if not re.search(r"\w", spoken):
            raise UserError("Нечего озвучивать: текст подсказки пуст.")
        with tempfile.TemporaryDirectory(prefix="ivr-tts-") as folder:  # created 0700
            path = self._render(text, spoken, Path(folder) / "prompt.wav")
            data, rate = sf.read(str(path), dtype="int16", always_2d=False)
        return np.asarray(data, dtype=np.int16), int(rate)


# espeak writes the file from its own thread: on a loaded machine (a test run, a busy laptop) the file
# was still growing when it was first checked, and three such attempts failed a whole prompt.
WRITE_SETTLE_S = 2.0
WRITE_QUIET_S = 0.3  # no growth this long: espeak has finished (its chunks come every few ms)


def _written(path: Path, spoken: str, rate: int) -> bool:
    """A valid WAV of ``spoken`` now, or once the file has stopped growing (within
    ``WRITE_SETTLE_S``)."""
    if _valid_wav(path, spoken, rate):
        return True
    deadline = time.monotonic() + WRITE_SETTLE_S
    size, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.05)
        now = path.stat().st_size if path.exists() else -1
        if now != size:
            size, since = now, time.monotonic()
        elif time.monotonic() - since >= WRITE_QUIET_S:
            break  # no growth for a while: the write is over, valid or not
    return _valid_wav(path, spoken, rate)


def _valid_wav(path: Path, spoken: str, rate: int) -> bool:
    """A real, sounding WAV whose length fits the text (catches empty and mixed-up files)."""
    import soundfile as sf

    try:
        if not path.is_file() or path.stat().st_size <= 44:
            return False
        data, sr = sf.read(str(path), dtype="int16", always_2d=False)
    except (OSError, RuntimeError):
        return False
    if sr <= 0 or data.size == 0:
        return False
    duration = data.shape[0] / sr
    expected = expected_duration_s(spoken, rate)
    if not (0.3 * expected - 0.2 <= duration <= 3.0 * expected + 1.0):
        return False
    return int(np.abs(data.astype(np.int32)).max()) > 300
