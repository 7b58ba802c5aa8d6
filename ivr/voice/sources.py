"""Where the caller's voice comes from: a WAV file or the microphone, in the same chunk format.

Every source yields 16 kHz mono int16 chunks of equal length, so the listener counts samples to
know the time. A file source therefore runs faster than real time and gives the same result
every run, while the microphone naturally yields one chunk per chunk duration.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Iterator
from typing import Protocol, runtime_checkable

import numpy as np

from ivr.errors import UserError
from ivr.voice.activity import OnsetWatch
from ivr.voice.audio import RATE, read_audio, to_int16
from ivr.voice.devices import import_sounddevice
from ivr.voice.keypad import KeypadQueue  # re-exported: the listener reads keys between chunks

__all__ = ["AudioSource", "WavSource", "MicrophoneSource", "KeypadQueue", "DEFAULT_CHUNK_MS"]

DEFAULT_CHUNK_MS = 40


@runtime_checkable
class AudioSource(Protocol):
    sample_rate: int

    def __iter__(self) -> Iterator[bytes]: ...

    def __next__(self) -> bytes: ...

    def close(self) -> None: ...


class WavSource:
    """A recorded caller: the file's audio, then silence so endpointing and no-input timeouts work.

    Iteration continues where the previous turn stopped, so one source can feed several turns.
    ``trailing_silence_s=None`` keeps yielding silence forever.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        realtime: bool = False,
        trailing_silence_s: float | None = 30.0,
        chunk_ms: int = DEFAULT_CHUNK_MS,
        leading_silence_s: float = 0.0,
        *,
        samples: np.ndarray | None = None,
    ) -> None:
        if (path is None) == (samples is None):
            raise ValueError("give exactly one of path or samples")
        self.path = path
        audio = read_audio(path) if path is not None else to_int16(np.asarray(samples))
        lead = np.zeros(int(round(leading_silence_s * RATE)), dtype=np.int16)
        self._audio = np.concatenate([lead, audio]) if lead.size else audio
        self.sample_rate = RATE
        self.realtime = realtime
        self.chunk_samples = max(1, int(RATE * chunk_ms / 1000))
        self._trailing = None if trailing_silence_s is None else int(round(trailing_silence_s * RATE))
        self._pos = 0
        self._closed = False
        self._t0: float | None = None
        self._silence = bytes(self.chunk_samples * 2)
        self.audio_end_s = self._audio.size / RATE

    @classmethod
    def from_samples(cls, samples: np.ndarray, **kwargs) -> WavSource:
        return cls(None, samples=samples, **kwargs)

    @property
    def position_s(self) -> float:
        """Audio time handed out so far."""
        return self._pos / RATE

    def wall_clock_at(self, audio_s: float) -> float | None:
        """When (``time.monotonic()``) a real-time source reached ``audio_s``; None before it started."""
        return None if self._t0 is None else self._t0 + audio_s

    def __iter__(self) -> WavSource:
        return self

    def __next__(self) -> bytes:
        n = self.chunk_samples
        total = self._audio.size
        if self._closed or (self._trailing is not None and self._pos >= total + self._trailing):
            raise StopIteration
        if self._pos < total:
            chunk = self._audio[self._pos : self._pos + n]
            data = chunk.tobytes()
            if chunk.size < n:
                data += bytes((n - chunk.size) * 2)
        else:
            data = self._silence
        self._pos += n
        if self.realtime:
            now = time.monotonic()
            if self._t0 is None:
                self._t0 = now
            due = self._t0 + self._pos / RATE
            if due > now:
                time.sleep(due - now)
        return data

    def close(self) -> None:
        self._closed = True


class MicrophoneSource:
    """The default (or chosen) input device through PortAudio, 16 kHz mono int16.

    The audio callback only copies each block into a queue; recognition happens on the
    consumer's thread. When the consumer falls behind by more than ``max_backlog_s`` the oldest
    audio is dropped (counted in ``overflows``) rather than letting latency grow without bound.
    """

    def __init__(
        self,
        device: int | str | None = None,
        chunk_ms: int = DEFAULT_CHUNK_MS,
        stall_timeout_s: float = 5.0,
        max_backlog_s: float = 10.0,
    ) -> None:
        self.device = device
        self.sample_rate = RATE
        self.chunk_samples = max(1, int(RATE * chunk_ms / 1000))
        self.stall_timeout_s = stall_timeout_s
        self._queue: queue.Queue[bytes] = queue.Queue(maxsize=max(1, int(max_backlog_s * 1000 / chunk_ms)))
        self._stream = None
        self._lock = threading.Lock()
        self.overflows = 0
        self.status_flags = 0
        self.onset = OnsetWatch(RATE)  # barge-in, judged as the audio arrives (ivr/voice/activity.py)

    def _callback(self, indata, frames, time_info, status) -> None:  # PortAudio thread
        if status:
            self.status_flags += 1
        data = bytes(indata)
        self.onset.audio(data)
        try:
            self._queue.put_nowait(data)
        except queue.Full:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                pass
            self.overflows += 1
            try:
                self._queue.put_nowait(data)
            except queue.Full:
                pass

    def start(self) -> MicrophoneSource:
        with self._lock:
            if self._stream is not None:
                return self
            sd = import_sounddevice()
            try:
                stream = sd.RawInputStream(
                    samplerate=RATE,
                    channels=1,
                    dtype="int16",
                    blocksize=self.chunk_samples,
                    device=self.device,
                    callback=self._callback,
                    latency="low",
                )
                stream.start()
            except (sd.PortAudioError, ValueError) as exc:
                which = f"«{self.device}»" if self.device is not None else "по умолчанию"
                raise UserError(
                    f"Не удалось открыть микрофон ({which}) для записи 16 кГц моно.\n"
                    f"Проверьте, что микрофон подключён и не занят другой программой; "
                    f"список устройств и проверка: ivr doctor"
                ) from exc
            self._stream = stream
        return self

    def __enter__(self) -> MicrophoneSource:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    def __iter__(self) -> MicrophoneSource:
        return self

    def __next__(self) -> bytes:
        if self._stream is None:
            self.start()
        try:
            return self._queue.get(timeout=self.stall_timeout_s)
        except queue.Empty:
            raise UserError(
                f"Микрофон не присылает звук уже {self.stall_timeout_s:g} с. "
                f"Проверьте подключение микрофона (ivr doctor)."
            ) from None

    def flush(self) -> int:
        """Drop audio captured so far (e.g. while the simulator itself was talking); returns chunks dropped."""
        dropped = 0
        while True:
            try:
                self._queue.get_nowait()
                dropped += 1
            except queue.Empty:
                return dropped

    def close(self) -> None:
        self.onset.close()
        with self._lock:
            stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.abort()
            finally:
                stream.close()
