"""Is the caller speaking? Voice activity on 10 ms frames, for barge-in.

Barge-in used to wait for Vosk's first partial result, which comes in decoder steps of 0.24 s of
audio and lags the audio by ≈ 0.2 s: the prompt went on 0.39–0.63 s into the caller's words with
a menu grammar, seconds with open vocabulary, and a short «да» never stopped it. Voice activity
needs no words: the prompt stops ``ONSET_FRAMES`` × 10 ms after the caller starts.

A frame is *speech* when the WebRTC voice activity detector (``webrtcvad``: Google's GMM
classifier, a 200 KB C extension, ≈ 2 µs a frame) says so **and** it is loud —
``max(SPEECH_RMS, NOISE_MARGIN × floor)``, the line's quietest frame so far being its noise
floor. The detector alone is not enough: it keeps reporting speech for ≈ 70 ms after any burst
(its hangover) and for its first ≈ 100 ms of a hum while it adapts; the level alone is not
either: breathing, a hum or a fan are loud without being voice.

The onset is ``ONSET_FRAMES`` speech frames among the last ``WINDOW_FRAMES``: a click (one or
two loud frames) or a knock shorter than 60 ms never cuts the prompt, while the first syllable of
«да» does (espeak-ng's «네» is ≈ 0.4 s of continuous speech frames). A cough of 60 ms or more is
speech to this rule, as it is to a real operator's ear.
"""

from __future__ import annotations

import math
import queue
import threading
from collections import deque
from collections.abc import Callable

import numpy as np
import webrtcvad

FRAME_S = 0.01  # loudness and voicing are judged on 10 ms frames, whatever the chunk size
SPEECH_RMS = 100.0  # int16 RMS, ≈ −50 dBFS: speech is louder than this…
NOISE_MARGIN = 3.0  # …and ≈ 10 dB above the quietest frame of the turn (the line's noise floor)
ONSET_FRAMES = 6  # speech frames (60 ms) …
WINDOW_FRAMES = 8  # … among the last 80 ms make an onset
AGGRESSIVENESS = 3  # webrtcvad's strictest mode: fewest noises taken for voice
# Voice whose loudest 10 ms never reach ≈ −30 dBFS is too quiet to make out: espeak-ng's
# «안녕하세요» is recognised with its loudest frame at −27 dBFS and not at −33 dBFS (the Korean test
# model, grammar or open vocabulary); a caller at a normal distance from a headset or laptop
# microphone peaks at −20…−6 dBFS.
QUIET_RMS = 1000.0


def frame_rms(frame: np.ndarray) -> float:
    return float(np.sqrt(np.mean(frame * frame))) if frame.size else 0.0


class SpeechOnset:
    """Feeds on one turn's int16 chunks; ``onset_at`` (audio seconds of the turn, at the first
    speech frame of the window that confirmed it) is set once the caller has started speaking.
    ``peak`` is the loudest frame so far, before and after the onset: a turn with voice in it but
    no frame up to ``QUIET_RMS`` was too quiet to make out (the listener's «говорите громче»)."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self.frame = max(1, int(round(rate * FRAME_S)))
        self._vad = webrtcvad.Vad(AGGRESSIVENESS)
        self._window: deque[tuple[bool, int]] = deque(maxlen=WINDOW_FRAMES)
        self._tail = np.zeros(0, dtype=np.int16)
        self._pos = 0  # samples judged so far
        self.floor = math.inf
        self.peak = 0.0
        self.onset_at: float | None = None

    def feed(self, chunk: bytes) -> bool:
        """True when this chunk confirmed the onset (once per turn)."""
        x = np.frombuffer(chunk, dtype="<i2")
        if self._tail.size:
            x = np.concatenate([self._tail, x])
        usable = x.size - x.size % self.frame
        self._tail = x[usable:].copy()
        confirmed = False
        for i in range(0, usable, self.frame):
            frame = x[i : i + self.frame]
            rms = frame_rms(frame.astype(np.float32))
            self.peak = max(self.peak, rms)
            self._pos += self.frame
            if self.onset_at is not None:
                continue  # only the level matters now
            self.floor = min(self.floor, rms)
            loud = rms >= max(SPEECH_RMS, NOISE_MARGIN * self.floor)
            speech = loud and self._vad.is_speech(frame.tobytes(), self.rate)
            self._window.append((speech, self._pos - self.frame))
            if sum(s for s, _ in self._window) >= ONSET_FRAMES:
                first = next(pos for s, pos in self._window if s)
                self.onset_at = first / self.rate
                confirmed = True
        return confirmed


class OnsetWatch:
    """The onset judged on its own thread, on the microphone's audio as it is recorded.

    The listener judges voice activity between two chunks it hands to Vosk; with open vocabulary
    on a busy CPU one chunk can take Vosk longer than it lasts, and barge-in waited behind it
    (0.3–0.6 s measured). Here the audio callback only queues each block and this thread runs the
    detector while Vosk decodes (Vosk releases the GIL), so the prompt stops on time whatever the
    recognizer is doing. ``arm`` for one turn, ``disarm`` after it; ``action`` runs once, on this
    thread.
    """

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self._queue: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._acting = threading.Lock()  # held while ``action`` runs: disarm() waits for it
        self._detector: SpeechOnset | None = None
        self._action: Callable[[], None] | None = None
        self._thread: threading.Thread | None = None

    def audio(self, chunk: bytes) -> None:
        """From the audio callback: never blocks."""
        if self._detector is not None:
            self._queue.put(chunk)

    def arm(self, action: Callable[[], None]) -> None:
        with self._lock:
            self._detector, self._action = SpeechOnset(self.rate), action
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="ivr-onset", daemon=True)
                self._thread.start()

    def disarm(self) -> None:
        """After this the turn's action has finished and will not run (a prompt started next is
        never stopped by the previous turn's barge-in)."""
        with self._lock:
            self._detector = self._action = None
        with self._acting:
            pass

    def _run(self) -> None:
        while (chunk := self._queue.get()) is not None:
            with self._lock:
                detector, action = self._detector, self._action
            if detector is not None and detector.feed(chunk):
                with self._lock:
                    if self._detector is not detector:
                        continue  # the turn ended meanwhile
                    self._detector = self._action = None
                    self._acting.acquire()
                try:
                    if action is not None:
                        action()
                finally:
                    self._acting.release()

    def close(self) -> None:
        self.disarm()
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=1.0)
            self._thread = None
