"""Push-to-talk: the microphone is heard only between two presses of the space bar.

For a noisy room, or speakers without echo cancellation, where an open microphone hears the
simulator's own prompts or the room and answers them. Pressing the key to talk also stops the
prompt (the caller chose to speak); pressing it again leaves silence, so the turn ends on the
caller's pause as usual.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator

KEY = " "


class PushToTalk:
    def __init__(self) -> None:
        self._talking = threading.Event()

    @property
    def talking(self) -> bool:
        return self._talking.is_set()

    def toggle(self) -> bool:
        """Flips talking on or off (from the keyboard thread); returns the new state."""
        if self._talking.is_set():
            self._talking.clear()
        else:
            self._talking.set()
        return self._talking.is_set()

    def gate(self, source: Iterable[bytes]) -> Iterator[bytes]:
        """The source's chunks while talking, silence of the same length otherwise: time goes on
        (no-input timers, the recording) but nothing is heard."""
        for chunk in source:
            yield chunk if self._talking.is_set() else bytes(len(chunk))
