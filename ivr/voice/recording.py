"""``ivr practice --record``: both sides of a spoken call in one WAV next to the report.

Left channel: the caller, as the microphone delivered it. Right channel: the simulator, each prompt
as the player actually played it — cut where the caller barged in — placed at the moment its first
sample went out. Both are on the clock the microphone and the player share (``time.monotonic``),
so a listener hears the call as it happened, interruptions included.

Never made unless asked: a recording holds the caller's voice and everything they dictated, which
no masking can reach. It is written owner-only (``write_wav`` creates it 0600).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ivr.voice.audio import RATE, resample, write_wav


class CallRecording:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._caller: list[bytes] = []
        self._caller_start: float | None = None  # clock time of the first caller sample
        self._prompts: list[tuple[Any, np.ndarray, int]] = []  # (player's record, audio, rate)

    def tap(self, source: Iterable[bytes]) -> Iterator[bytes]:
        """The microphone's chunks, passed on unchanged and kept (16 kHz mono int16). Audio the
        call dropped unheard (flushed while a prompt played without barge-in) leaves silence of
        the same length, so what follows stays in step with the prompts."""
        kept = 0  # samples
        for chunk in source:
            samples = len(chunk) // 2
            now = self._clock()
            if self._caller_start is None:
                self._caller_start = now - samples / RATE
            due = round((now - self._caller_start) * RATE) - samples
            if due - kept > RATE // 2:
                self._caller.append(bytes(2 * (due - kept)))
                kept = due
            self._caller.append(chunk)
            kept += samples
            yield chunk

    def played(self, record: Any, audio: np.ndarray, rate: int) -> None:
        """A prompt handed to the player, with the player's record of it (read when the file is
        written: a prompt stopped by barge-in is kept only as far as it was played)."""
        if record is not None:
            self._prompts.append((record, audio, rate))

    def write(self, path: Path) -> Path | None:
        """The stereo WAV, or None when nothing was heard or said."""
        caller = np.frombuffer(b"".join(self._caller), dtype=np.int16)
        start = self._caller_start
        if start is None:
            starts = [r.first_sample_clock for r, _, _ in self._prompts if r.first_sample_clock is not None]
            if not starts:
                return None
            start = min(starts)
        placed: list[tuple[int, np.ndarray]] = []
        for record, audio, rate in self._prompts:
            if record.first_sample_clock is None or not record.played_samples:
                continue
            heard = resample(np.asarray(audio)[: record.played_samples], rate, RATE)
            placed.append((max(0, round((record.first_sample_clock - start) * RATE)), heard))
        length = max([caller.size] + [at + audio.size for at, audio in placed])
        stereo = np.zeros((length, 2), dtype=np.int16)
        stereo[: caller.size, 0] = caller
        for at, audio in placed:
            end = at + audio.size
            stereo[at:end, 1] = np.clip(stereo[at:end, 1].astype(np.int32) + audio, -32768, 32767)
        return write_wav(path, stereo, RATE)
