"""The engine: a loaded flow, its one shared state machine, and calls started on it."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from ivr.engine.call import Call
from ivr.engine.clock import Clock, system_clock
from ivr.engine.hours import Hours
from ivr.engine.machine import build_machine
from ivr.engine.transcript import TranscriptWriter
from ivr.flow.loader import load_flow
from ivr.flow.model import Flow
from ivr.flow.schema import Schedule


class Engine:
    def __init__(self, flow: Flow):
        self.flow = flow
        meta = flow.meta
        self.hours = (Hours.from_schedule(Schedule.model_validate(flow.data[meta.hours]), meta.timezone)
                      if meta.hours else None)
        self.machine = build_machine(flow)

    def local_time(self, moment: datetime) -> datetime:
        """A moment in the line's time zone: file names and reports use the caller's wall clock
        of the simulated line, not the machine's zone."""
        return moment.astimezone(ZoneInfo(self.flow.meta.timezone))

    @classmethod
    def from_file(cls, path: str | Path) -> "Engine":
        return cls(load_flow(path))

    def start_call(self, *, clock: Clock = system_clock, transcript: str | Path | None = None,
                   keep_personal_data: bool = False, reference: str | None = None,
                   seed: int | None = None) -> Call:
        writer = (TranscriptWriter(transcript, keep_personal_data=keep_personal_data)
                  if transcript is not None else None)
        return Call(self, clock, transcript=writer, reference=reference, seed=seed)
