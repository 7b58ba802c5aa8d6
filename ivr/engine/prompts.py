"""What the simulator says: prompts with their ``{placeholders}`` filled for one call.

Placeholders are checked when the flow loads (``flow/templates.py``), so here every name is one
the flow may use. A slot with no valid value (never asked on this path, or its retries ran out)
reads as «не указано»: never as nothing («позвонит на номер перед визитом»), never as the rejected
words read back as if they were accepted.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Protocol

from ivr.engine.hours import Hours
from ivr.engine.records import SlotValue
from ivr.flow.model import ChoiceRef, Flow
from ivr.flow.templates import lookup_data, named_schedule, render
from ivr.slots import slot_type

NOT_GIVEN = "не указано"  # what a prompt says for a slot without a valid value


class PromptFacts(Protocol):
    """What a prompt can mention about the call it is said in."""

    state: str
    slots: dict[str, SlotValue]
    reference: str
    topic: str | None
    term: str | None
    context: dict[str, str]  # {heard}, {error}, {candidates}: set by the turn being answered


class Prompts:
    """Renders the flow's prompts for calls on one line (flow, hours, clock)."""

    def __init__(
        self,
        flow: Flow,
        hours: Hours | None,
        clock: Callable[[], datetime],
        schedules: Mapping[str, Hours] | None = None,
    ):
        self.flow = flow
        self.hours = hours
        self.clock = clock
        self.schedules = schedules or {}  # named ones: {hours.home_visits}

    def render(self, text: str, facts: PromptFacts) -> str:
        return render(text, lambda name: self._resolve(name, facts)).strip()

    def _resolve(self, name: str, facts: PromptFacts) -> str:
        if name.startswith("data."):
            value = lookup_data(self.flow.data, name[5:])
            return ", ".join(map(str, value)) if isinstance(value, list) else str(value)
        if name in self.flow.slot_kinds:
            value = facts.slots.get(name)
            return value.display if value is not None and value.valid else NOT_GIVEN
        if name in facts.context:
            return facts.context[name]
        builtin = self._builtins.get(name)
        if builtin:
            return builtin(self, facts)
        named = named_schedule(name)
        if named and named[1] in self.schedules:
            hours = self.schedules[named[1]]
            return (
                hours.describe_week(self.clock())
                if named[0] == "hours"
                else hours.describe_next_open(self.clock())
            )
        return ""

    def _next_open(self, facts: PromptFacts) -> str:
        return self.hours.describe_next_open(self.clock()) if self.hours else ""

    def _week(self, facts: PromptFacts) -> str:
        return self.hours.describe_week(self.clock()) if self.hours else ""

    def _now(self, facts: PromptFacts) -> str:
        moment = self.hours.local(self.clock()) if self.hours else self.clock()
        return f"{moment:%H:%M}"

    def _reference(self, facts: PromptFacts) -> str:
        # in pairs, as people read out long numbers: "48-17-30-52"
        ref = facts.reference
        return "-".join(ref[i : i + 2] for i in range(0, len(ref), 2))

    def menu_hint(self, facts: PromptFacts) -> str:
        """The current state's choices with their keys, or how to give the value it collects."""
        state = self.flow.states[facts.state]
        if state.collect:
            return slot_type(state.collect.type).hint
        if not state.options:
            return ""
        labels = self.flow.menu(facts.state).labels
        # A menu with a keypad lists its keys: the Госуслуги main menu also takes some thirty
        # topics by speech alone, and listing them all made «Слушаю вас» one sentence of 42 items.
        keyed = [option for option in state.options if option.keys]
        parts = []
        for option in keyed or state.options:
            key = f" — {option.keys[0]}" if option.keys else ""
            parts.append(f"«{labels[ChoiceRef('option', option.id)]}»{key}")
        return "Скажите, что вас интересует, или нажмите клавишу: " + ", ".join(parts) + "."

    _builtins: Mapping[str, Callable[[Prompts, PromptFacts], str]] = {
        "next_open": _next_open,
        "hours": _week,
        "now": _now,
        "reference": _reference,
        "menu_hint": menu_hint,
        "topic": lambda self, facts: facts.topic or "",
        "term": lambda self, facts: facts.term or "зависит от сложности вопроса — уточните его у оператора",
    }
