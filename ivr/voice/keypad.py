"""Keys pressed during a call, handed from whatever reads them (terminal, test) to the listener."""

from __future__ import annotations

import queue

from ivr.keypad import KEYS


class KeypadQueue:
    """Thread-safe queue of DTMF keys; the listener polls it between audio chunks."""

    def __init__(self) -> None:
        self._queue: queue.Queue[str] = queue.Queue()

    def push(self, keys: str) -> None:
        """Queue one or more keys (``"1"``, ``"123#"``); anything but 0-9, * and # is refused."""
        bad = [k for k in keys if k not in KEYS]
        if bad:
            raise ValueError(f"not a phone key: {''.join(bad)!r}")
        for key in keys:
            self._queue.put(key)

    def get_nowait(self) -> str | None:
        try:
            return self._queue.get_nowait()
        except queue.Empty:
            return None

    def get(self, timeout: float | None = None) -> str | None:
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            return None
