"""The phone keypad: the twelve keys a caller can press, in every channel (typed chat, terminal
keys during a spoken call, convo ``dtmf:`` steps, flow ``keys:``)."""

from __future__ import annotations

KEYS = frozenset("0123456789*#")


def is_keypad(text: str) -> bool:
    """A whole input made of keypad keys only (spaces between presses allowed)."""
    compact = text.replace(" ", "")
    return bool(compact) and all(ch in KEYS for ch in compact)
