"""One ``transitions`` Machine per flow, shared by every call, and the one owner of its triggers.

Calls are the machine's models, but they are never registered with ``Machine.add_model``: that binds
a helper per state and per trigger onto each model (3–7 ms per call on a 1,000-state flow) and keeps
every finished call referenced by the machine for ever. Instead a call fires the machine's events
directly (``machine.events[name].trigger(call)``), which is exactly what a bound trigger does, so
starting a call costs the same on a 10-state and a 1,000-state flow and nothing leaks.

Trigger names are built here and nowhere else, from (what, state, argument) keys: an option of a
state, its ``next`` branches (with conditions, in order), its escalation, its collect failure,
and each global command. Names stay readable (``main>auth``) for diagrams and logs; a collision of
two readable names (a state called ``a>b``…) gets a numbered suffix, so flow authors may name
states and options anything. Where a state escalates to is decided once, here.
"""

from __future__ import annotations

from functools import partial
from typing import Any, Literal, NamedTuple

from transitions import EventData, Machine

from ivr.flow.failure import escalation_target, fail_route
from ivr.flow.model import Flow

TriggerKind = Literal["option", "next", "escalate", "fail", "global"]


class Drawn(NamedTuple):
    """One transition of the machine as the flow file draws it, kept so that a diagram shows the
    very transitions a call can take (the escalation decided here included), not a re-derivation.
    ``arg`` is the option id, the branch condition (empty for an unconditional one) or the global
    command's name; a global command has every state where it is enabled as ``sources``."""

    kind: TriggerKind
    sources: tuple[str, ...]
    arg: str
    dest: str
    trigger: str


def _condition(condition: str, event: EventData) -> bool:
    model: Any = event.model  # a Call; typed loosely to keep the machine below the call
    return bool(model.holds(condition))


def _entered(event: EventData) -> None:
    model: Any = event.model
    model.entered()


class FlowMachine:
    """The flow's machine and its trigger vocabulary; a call fires by meaning, never by name."""

    def __init__(self, flow: Flow):
        self._names: dict[tuple[TriggerKind, str, str], str] = {}
        self._taken: set[str] = set()
        self.escalation: dict[str, str] = {}  # state → where too many misses lead
        self.drawn: list[Drawn] = []
        transitions: list[dict[str, Any]] = []

        def add(
            kind: TriggerKind, sources: list[str], arg: str, dest: str, trigger: str, **extra: Any
        ) -> None:
            self.drawn.append(Drawn(kind, tuple(sources), arg, dest, trigger))
            source: str | list[str] = sources[0] if len(sources) == 1 else sources
            transitions.append({"trigger": trigger, "source": source, "dest": dest, **extra})

        meta = flow.meta
        for name, state in flow.states.items():
            for option in state.options:
                add("option", [name], option.id, option.goto, self._name("option", name, option.id))
            for branch in state.next:
                conditions = [partial(_condition, branch.if_)] if branch.if_ else []
                add(
                    "next",
                    [name],
                    branch.if_ or "",
                    branch.goto,
                    self._name("next", name),
                    conditions=conditions,
                )
            # where too many misses lead: a menu escalates, a collect follows its failure route
            # (ivr.flow.failure decides both, for the checks and the diagram too)
            target = escalation_target(state, flow.spec)
            if target:
                self.escalation[name] = target
                add("escalate", [name], "", target, self._name("escalate", name))
            route = fail_route(state, flow.spec)
            if route is not None and route.via == "fail" and route.target:
                add("fail", [name], "", route.target, self._name("fail", name))
        for gname, glob in flow.globals.items():
            if glob.goto is None:
                continue
            sources = [n for n in flow.states if gname in flow.enabled_globals(n)]
            if sources:
                add("global", sources, gname, glob.goto, self._name("global", "", gname))
        self.machine = Machine(
            model=None,
            states=list(flow.states),
            initial=meta.start,
            transitions=transitions,
            auto_transitions=False,
            send_event=True,
            after_state_change=[_entered],
            name=flow.id,
        )

    def _name(self, kind: TriggerKind, state: str, arg: str = "") -> str:
        key = (kind, state, arg)
        if key in self._names:
            return self._names[key]
        readable = {
            "option": f"{state}>{arg}",
            "next": f"{state}>next",
            "escalate": f"{state}>escalate",
            "fail": f"{state}>fail",
            "global": f"global>{arg}",
        }[kind]
        name, n = readable, 1
        while name in self._taken:
            n += 1
            name = f"{readable}#{n}"
        self._names[key] = name
        self._taken.add(name)
        return name

    def trigger(self, kind: TriggerKind, state: str, arg: str = "") -> str:
        """The machine's event name for one drawn transition (for diagrams and tests)."""
        return self._names[(kind, state, arg)]

    def fire(self, model: object, kind: TriggerKind, state: str, arg: str = "") -> None:
        self.machine.events[self._names[(kind, state, arg)]].trigger(model)

    def set_state(self, model: object, state: str) -> None:
        self.machine.set_state(state, model)

    @property
    def models(self) -> list[object]:
        return list(self.machine.models)


def build_machine(flow: Flow) -> FlowMachine:
    return FlowMachine(flow)
