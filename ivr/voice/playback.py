"""Playing the simulator's prompts, and stopping them the moment the caller barges in.

Every player has the same small surface: ``play`` starts and returns at once, ``wait`` blocks
until the prompt is over, ``stop`` cuts it off (barge-in) and ``is_playing`` tells which. The
sound-card player stops within one audio block; the file player records exactly what would
have been heard, so barge-in can be measured in tests without a speaker.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ivr.errors import UserError
from ivr.voice.audio import resample, to_int16, write_wav
from ivr.voice.devices import default_device, import_sounddevice

DEFAULT_BLOCK_MS = 20


@runtime_checkable
class Player(Protocol):
    def play(self, samples: np.ndarray, rate: int) -> None: ...

    def wait(self, timeout: float | None = None) -> bool: ...

    def stop(self) -> None: ...

    @property
    def is_playing(self) -> bool: ...


@dataclass
class PlayRecord:
    """One prompt as it was actually played; ``*_clock`` values come from the player's clock."""

    rate: int
    requested_samples: int
    played_samples: int = 0
    started_clock: float | None = None
    first_sample_clock: float | None = None
    stop_requested_clock: float | None = None
    ended_clock: float | None = None
    interrupted: bool = False
    chunks: list[np.ndarray] = field(default_factory=list, repr=False)

    @property
    def stop_latency_s(self) -> float | None:
        if self.stop_requested_clock is None or self.ended_clock is None:
            return None
        return self.ended_clock - self.stop_requested_clock

    @property
    def played_s(self) -> float:
        return self.played_samples / self.rate


def _mono_int16(samples: np.ndarray) -> np.ndarray:
    arr = np.asarray(samples)
    if arr.ndim == 2:
        arr = arr.mean(axis=1) if np.issubdtype(arr.dtype, np.floating) else arr.astype(np.int32).mean(axis=1).astype(np.int16)
    return np.ascontiguousarray(to_int16(arr))


class SoundDevicePlayer:
    """Plays through PortAudio; the callback checks a stop flag every block (``block_ms``)."""

    def __init__(
        self,
        device: int | str | None = None,
        block_ms: int = DEFAULT_BLOCK_MS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.device = device
        self.block_ms = block_ms
        self.clock = clock
        self._lock = threading.Lock()
        self._stream = None
        self._record: PlayRecord | None = None
        self._data = np.zeros(0, dtype=np.int16)
        self._pos = 0
        self._stop_flag = False
        self._done = threading.Event()
        self._done.set()
        self._sd: Any = None
        self.history: list[PlayRecord] = []

    @property
    def last(self) -> PlayRecord | None:
        return self._record

    def play(self, samples: np.ndarray, rate: int) -> None:
        sd = self._sd = import_sounddevice()
        self.stop()
        data = _mono_int16(samples)
        record = PlayRecord(rate=int(rate), requested_samples=int(data.size), started_clock=self.clock())
        with self._lock:
            self._data, self._pos, self._stop_flag = data, 0, False
            self._record = record
            self.history.append(record)
            self._done.clear()
            try:
                stream = sd.OutputStream(
                    samplerate=int(rate),
                    channels=1,
                    dtype="int16",
                    blocksize=max(1, int(rate * self.block_ms / 1000)),
                    device=self.device,
                    latency="low",
                    callback=self._callback,
                    finished_callback=self._finished,
                )
                self._stream = stream
                stream.start()
            except (sd.PortAudioError, ValueError) as exc:
                self._done.set()
                self._stream = None
                which = f"«{self.device}»" if self.device is not None else "по умолчанию"
                raise UserError(
                    f"Не удалось воспроизвести звук на устройстве {which}. Проверьте динамики (ivr doctor)."
                ) from exc

    def _callback(self, outdata, frames, time_info, status) -> None:  # PortAudio thread
        sd = self._sd
        record = self._record
        if self._stop_flag:
            outdata.fill(0)
            raise sd.CallbackAbort
        chunk = self._data[self._pos : self._pos + frames]
        n = chunk.size
        outdata[:n, 0] = chunk
        if n < frames:
            outdata[n:].fill(0)
        if record is not None:
            if record.first_sample_clock is None and n:
                record.first_sample_clock = self.clock()
            record.played_samples += n
        self._pos += n
        if self._pos >= self._data.size:
            raise sd.CallbackStop

    def _finished(self) -> None:  # PortAudio thread, once the stream has stopped
        record = self._record
        if record is not None and record.ended_clock is None:
            record.ended_clock = self.clock()
        self._done.set()

    def wait(self, timeout: float | None = None) -> bool:
        finished = self._done.wait(timeout)
        if finished:
            self._close_stream()
        return finished

    def stop(self) -> None:
        record = self._record
        stream = self._stream
        if stream is not None and not self._done.is_set():
            if record is not None:
                record.stop_requested_clock = self.clock()
                record.interrupted = True
            self._stop_flag = True
            self._done.wait(self.block_ms / 1000.0 * 3)
            if not self._done.is_set():
                try:
                    stream.abort()
                except Exception:
                    pass
                self._done.wait(1.0)
            if record is not None and record.ended_clock is None:
                record.ended_clock = self.clock()
        self._close_stream()

    def _close_stream(self) -> None:
        with self._lock:
            stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.close()
            except Exception:
                pass

    @property
    def is_playing(self) -> bool:
        return self._stream is not None and not self._done.is_set()

    def close(self) -> None:
        self.stop()


class FileSinkPlayer:
    """A speaker that writes what was heard to a WAV file, in real time or in simulated time.

    In real time a thread "plays" one block per ``block_ms`` of wall time, so ``stop`` cuts the
    prompt within a block. In simulated time nothing advances until :meth:`advance` is called
    (e.g. with the audio time a file-driven listener consumed), which makes barge-in tests exact.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        realtime: bool = True,
        block_ms: int = DEFAULT_BLOCK_MS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = Path(path) if path is not None else None
        self.realtime = realtime
        self.block_ms = block_ms
        self.clock = clock
        self.history: list[PlayRecord] = []
        self._record: PlayRecord | None = None
        self._data = np.zeros(0, dtype=np.int16)
        self._pos = 0
        self._stop = threading.Event()
        self._done = threading.Event()
        self._done.set()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.simulated_time = 0.0

    @property
    def last(self) -> PlayRecord | None:
        return self._record

    def play(self, samples: np.ndarray, rate: int) -> None:
        self.stop()
        data = _mono_int16(samples)
        record = PlayRecord(rate=int(rate), requested_samples=int(data.size), started_clock=self.clock())
        with self._lock:
            self._data, self._pos = data, 0
            self._record = record
            self.history.append(record)
            self._stop.clear()
            self._done.clear()
        if self.realtime:
            self._thread = threading.Thread(target=self._run, name="ivr-file-player", daemon=True)
            self._thread.start()
        elif data.size == 0:
            self._finish(record)

    def _block(self, record: PlayRecord) -> int:
        return max(1, int(record.rate * self.block_ms / 1000))

    def _emit(self, record: PlayRecord, n: int) -> None:
        chunk = self._data[self._pos : self._pos + n]
        if chunk.size:
            if record.first_sample_clock is None:
                record.first_sample_clock = self.clock()
            record.chunks.append(chunk.copy())
            record.played_samples += int(chunk.size)
            self._pos += int(chunk.size)

    def _run(self) -> None:
        record = self._record
        assert record is not None
        block = self._block(record)
        t0 = time.monotonic()
        k = 0
        while self._pos < self._data.size:
            if self._stop.is_set():
                break
            self._emit(record, block)  # this block is heard during [k, k+1) blocks of time
            k += 1
            due = t0 + k * block / record.rate
            delay = due - time.monotonic()
            if delay > 0 and self._stop.wait(delay):
                break
        self._finish(record)

    def _finish(self, record: PlayRecord) -> None:
        if record.ended_clock is None:
            record.ended_clock = self.clock()
        self._write()
        self._done.set()

    def advance(self, seconds: float) -> int:
        """Simulated time: play ``seconds`` more of the current prompt; returns samples played."""
        record = self._record
        if self.realtime or record is None or self._done.is_set():
            self.simulated_time += seconds
            return 0
        self.simulated_time += seconds
        n = int(round(seconds * record.rate))
        before = record.played_samples
        self._emit(record, n)
        if self._pos >= self._data.size:
            self._finish(record)
        return record.played_samples - before

    def wait(self, timeout: float | None = None) -> bool:
        if not self.realtime and not self._done.is_set():
            self.advance((self._data.size - self._pos) / (self._record.rate if self._record else 1))
        return self._done.wait(timeout)

    def stop(self) -> None:
        record = self._record
        if record is None or self._done.is_set():
            return
        record.stop_requested_clock = self.clock()
        record.interrupted = True
        self._stop.set()
        if self.realtime and self._thread is not None:
            self._thread.join()
        else:
            self._finish(record)

    @property
    def is_playing(self) -> bool:
        return not self._done.is_set()

    def played_audio(self) -> tuple[np.ndarray, int]:
        """Everything played so far, in order, at the first prompt's rate."""
        if not self.history:
            return np.zeros(0, dtype=np.int16), 16000
        rate = self.history[0].rate
        parts = []
        for rec in self.history:
            if rec.chunks:
                audio = np.concatenate(rec.chunks)
                parts.append(audio if rec.rate == rate else resample(audio, rec.rate, rate))
        return (np.concatenate(parts) if parts else np.zeros(0, dtype=np.int16)), rate

    def _write(self) -> None:
        if self.path is None:
            return
        audio, rate = self.played_audio()
        write_wav(self.path, audio, rate)

    def close(self) -> None:
        self.stop()


def open_player(device: int | str | None = None, block_ms: int = DEFAULT_BLOCK_MS) -> SoundDevicePlayer | None:
    """A sound-card player, or None when there is no usable output (the caller prints text instead)."""
    try:
        sd = import_sounddevice()
    except UserError:
        return None
    if device is None and default_device("output") is None:
        return None
    try:
        stream = sd.OutputStream(samplerate=22050, channels=1, dtype="int16", device=device)
        stream.close()
    except (sd.PortAudioError, ValueError, OSError):
        return None
    return SoundDevicePlayer(device=device, block_ms=block_ms)
