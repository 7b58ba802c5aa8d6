"""Flow engine: one shared ``transitions`` machine per flow, each call a model of it."""

from ivr.engine.call import Call, Input, Turn
from ivr.engine.clock import ManualClock, system_clock
from ivr.engine.engine import Engine

__all__ = ["Call", "Engine", "Input", "ManualClock", "Turn", "system_clock"]
