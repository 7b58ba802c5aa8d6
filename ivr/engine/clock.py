"""Clocks the engine reads: the real one, or a manual one that tests and scripted calls move.

Opening hours, turn timestamps and "how long did the caller take" all come from the call's clock, so a
convo test can say ``now: 2026-11-28T19:30:00+03:00`` and get Saturday evening, deterministically.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from typing import Protocol


class Clock(Protocol):
    def __call__(self) -> datetime: ...


def system_clock() -> datetime:
    return datetime.now(timezone.utc)


class ManualClock:
    """Stands still until ``advance`` is called; ``silence: N`` in a convo advances it N seconds."""

    def __init__(self, start: datetime):
        if start.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime (with a UTC offset)")
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class StartedClock:
    """A real clock that starts at a chosen moment: a rehearsal with ``--now`` is set on Saturday
    evening, yet its minutes pass as the caller's do — a clock that stood still wrote «длительность
    0.0 с» into the report of every such call."""

    def __init__(self, start: datetime):
        if start.tzinfo is None:
            raise ValueError("StartedClock needs an aware datetime (with a UTC offset)")
        self.start = start
        self._began = time.monotonic()

    def __call__(self) -> datetime:
        return self.start + timedelta(seconds=time.monotonic() - self._began)
