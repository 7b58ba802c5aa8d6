"""Slot types: what a flow can collect, how it is parsed, heard, read back and masked."""

from ivr.slots.parsers import Limits, Parsed
from ivr.slots.types import SLOT_TYPES, SlotType, SlotTypeName, slot_type

__all__ = ["SLOT_TYPES", "Limits", "Parsed", "SlotType", "SlotTypeName", "slot_type"]
