"""The live line under a spoken call: who is talking, how loud the microphone is, the words heard
so far and the keys typed — redrawn in place on a terminal, absent anywhere else.

A caller with a headset cannot otherwise tell whether the simulator is listening, whether the
microphone hears them at all, or whether a key press arrived (keys are read without echo). The
line is replaced by the next printed line of the conversation, so the transcript on screen stays
the conversation itself.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
from rich.cells import cell_len, set_cell_size
from rich.console import Console

METER_CELLS = 10
METER_FLOOR_DB = -60.0  # an empty meter; full at 0 dBFS
REDRAW_S = 0.1  # the meter alone is redrawn at most this often

SPEAKING = "говорит автоответчик"
LISTENING = "слушаю"
HEARING = "слышу вас"
PRESS_TO_TALK = "пробел — говорить"  # push-to-talk, microphone off
TALKING = "говорите; пробел — закончить"  # push-to-talk, microphone on


def level_db(chunk: bytes) -> float:
    """The chunk's RMS level in dBFS (int16 audio); −inf for digital silence."""
    x = np.frombuffer(chunk, dtype="<i2").astype(np.float32)
    rms = float(np.sqrt(np.mean(x * x))) if x.size else 0.0
    return 20 * math.log10(rms / 32768) if rms > 0 else -math.inf


def meter(db: float) -> str:
    filled = round(METER_CELLS * (max(db, METER_FLOOR_DB) - METER_FLOOR_DB) / -METER_FLOOR_DB)
    return "█" * filled + "·" * (METER_CELLS - filled)


class StatusLine:
    """One line, rewritten in place with ``\\r`` and erase-to-end-of-line; safe from the keyboard
    thread and the listening thread at once.

    The line never reaches the terminal's last column: a line that wraps leaves its first row behind
    at every redraw (``\\r`` only returns to the start of the last row), and one long answer left
    21 stale lines at 80 columns. Too many words show their end, the latest heard."""

    def __init__(self, console: Console, enabled: bool) -> None:
        self.console = console
        self.enabled = enabled and console.is_terminal
        self._lock = threading.RLock()
        self.state = LISTENING
        self.words = ""
        self.keys = ""
        self.db = -math.inf
        self._shown = False
        self._drawn_at = 0.0
        self._drawn = ""

    def set(self, *, state: str | None = None, words: str | None = None, keys: str | None = None) -> None:
        if state is not None:
            self.state = state
        if words is not None:
            self.words = words
        if keys is not None:
            self.keys = keys
        self._draw()

    def audio(self, chunk: bytes) -> None:
        """The microphone's latest chunk: the meter moves (at most every ``REDRAW_S``)."""
        if not self.enabled:
            return
        self.db = level_db(chunk)
        if time.monotonic() - self._drawn_at >= REDRAW_S:
            self._draw()

    def key(self, key: str) -> None:
        self.set(keys=self.keys + key)

    def text(self) -> str:
        width = self.console.width - 1  # the last column would wrap on many terminals
        head = f"[{self.state}] {meter(self.db)}"
        keys = f" кнопки: {self.keys}" if self.keys else ""
        room = width - cell_len(head) - cell_len(keys) - 3  # " … "
        words = self.words
        if words and room > 0 and cell_len(words) > room:
            words = set_cell_size(words[::-1], room)[::-1].lstrip()  # «… » already says «and before»
        line = head + (f" … {words}" if words and room > 0 else "") + keys
        return set_cell_size(line, width).rstrip() if cell_len(line) > width else line

    def _draw(self) -> None:
        if not self.enabled:
            return
        with self._lock:
            text = self.text()
            if not (self._shown and text == self._drawn):
                self.console.file.write(f"\r\x1b[K{text}")
                self.console.file.flush()
            self._shown, self._drawn, self._drawn_at = True, text, time.monotonic()

    @contextmanager
    def above(self) -> Iterator[None]:
        """Print lines of the conversation while the line is up: it is erased first (a panel
        printed after it would start at its end) and drawn again under them."""
        with self._lock:
            shown = self._shown
            if shown:
                self.console.file.write("\r\x1b[K")
                self.console.file.flush()
                self._shown = False
            try:
                yield
            finally:
                if shown:
                    self._draw()

    def clear(self) -> None:
        """Before a line of the conversation is printed; the next turn starts with no words or keys."""
        with self._lock:
            self.words = self.keys = ""
            if self._shown:
                self.console.file.write("\r\x1b[K")
                self.console.file.flush()
                self._shown = False
