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


def terminal_rows(raw: str, width: int) -> list[str]:
    """What a terminal ``width`` columns wide shows for ``raw`` (no colours): carriage return, new
    line, erase to end of line (ESC [K) and wrapping at the last column — what the call screen's
    live line relies on, so a test sees the stale or glued lines a caller would."""
    from rich.cells import cell_len

    rows: list[list[str]] = [[]]
    r = c = 0
    i = 0
    while i < len(raw):
        if raw.startswith("\x1b[K", i):
            del rows[r][c:]
            i += 3
            continue
        ch = raw[i]
        i += 1
        if ch in "\r\n":
            c = 0
            if ch == "\n":
                r += 1
        else:
            w = cell_len(ch)
            if c + w > width:  # autowrap
                r, c = r + 1, 0
            while len(rows) <= r:
                rows.append([])
            row = rows[r]
            row.extend(" " * (c + w - len(row)))
            row[c : c + w] = [ch] + [""] * (w - 1)
            c += w
        while len(rows) <= r:
            rows.append([])
    return ["".join(row).rstrip() for row in rows]
