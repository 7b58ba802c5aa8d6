"""Shared test constants for the voice suite (imported as ``tests.voice.helpers``, never via
``conftest``: several test folders have a conftest.py, and that module name is not unique)."""

from __future__ import annotations

import numpy as np

RATE = 16000
HELLO = "안녕하세요"
THANKS = "감사합니다"
YES = "네"
NO = "아니요"


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * RATE), dtype=np.int16)
