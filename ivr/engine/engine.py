"""The engine: a loaded flow, its one shared state machine, and calls started on it."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

from ivr.engine.call import Call, Line
from ivr.engine.clock import Clock, system_clock
from ivr.engine.hours import Hours
from ivr.engine.machine import FlowMachine
from ivr.engine.records import CallObserver
from ivr.engine.transcript import TranscriptWriter
from ivr.flow.loader import load_flow
from ivr.flow.model import Flow
from ivr.flow.schema import Schedule


def _hours(flow: Flow, block: str) -> Hours:
    return Hours.from_schedule(Schedule.model_validate(flow.data[block]), flow.meta.timezone)


class Engine:
    def __init__(self, flow: Flow):
        self.flow = flow
        meta = flow.meta
        hours = _hours(flow, meta.hours) if meta.hours else None
        schedules = {name: _hours(flow, name) for name in sorted(flow.named_schedules)}
        self.machine = FlowMachine(flow)
        self.line = Line(flow, self.machine, hours, ZoneInfo(meta.timezone), schedules)

    @property
    def hours(self) -> Hours | None:
        return self.line.hours

    @classmethod
    def from_file(cls, path: str | Path) -> Engine:
        return cls(load_flow(path))

    def start_call(
        self,
        *,
        clock: Clock = system_clock,
        transcript: str | Path | None = None,
        keep_personal_data: bool = False,
        reference: str | None = None,
        seed: int | None = None,
        observers: tuple[CallObserver, ...] = (),
        call_id: str | None = None,
    ) -> Call:
        writer = (
            TranscriptWriter(transcript, keep_personal_data=keep_personal_data)
            if transcript is not None
            else None
        )
        return Call(
            self.line,
            clock,
            observers=(*observers, *([writer] if writer else [])),
            reference=reference,
            seed=seed,
            call_id=call_id,
        )
