"""Flow engine: one shared ``transitions`` machine per flow, each call a model of it."""

from ivr.engine.call import Call, Line
from ivr.engine.clock import ManualClock, system_clock
from ivr.engine.engine import Engine
from ivr.engine.records import Input, Turn

__all__ = ["Call", "Engine", "Input", "Line", "ManualClock", "Turn", "system_clock"]
