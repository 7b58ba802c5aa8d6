"""Where a call goes when a ``collect`` runs out of tries: decided here once, for the engine, the
machine, the diagram and ``ivr check``.

A caller who could not dictate a value three times must not be walked on as if they had: the old
default went on to ``next`` and the prompts there read the rejected words back. Now the route is
always one the author can see:

1. ``collect.on_fail: STATE`` — there; ``on_fail: next`` — on along ``next`` on purpose, after the
   words ``flow.collect_failed`` (the slot stays without a value, prompts say «не указано»);
2. the state's own ``escalate: STATE``;
3. a ``next`` branch that tests this slot (``if: invalid snils``, ``if: answer == да``) — the author
   already decides there what happens without a valid value;
4. the flow's ``escalate`` (the operator), after the words ``flow.collect_failed`` — what a caller
   on a real line expects after failing to dictate a number;
5. nothing of the above: a load error that says what to add.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ivr.flow import schema
from ivr.flow.conditions import condition_slots

ON_FAIL_NEXT = "next"  # ``on_fail: next``: go on along the state's ``next`` without the value


@dataclass(frozen=True)
class FailRoute:
    """``via``: the machine trigger kind that leaves the state; ``target``: the state it leads to
    (None for ``next``: its branches decide); ``why``: the field that decided it, for ``ivr check``;
    ``implicit``: decided by the flow-wide default, not by anything written at the collect;
    ``announce``: the caller hears ``flow.collect_failed`` first — no state of the author's says
    that the value was not recorded (an on_fail state or a branch on the slot does)."""

    via: Literal["fail", "escalate", "next"]
    target: str | None
    why: str
    implicit: bool = False
    announce: bool = False


def fail_route(state: schema.State, spec: schema.FlowFile) -> FailRoute | None:
    """The route of a collecting state; None when there is none (a load error) or no collect."""
    collect = state.collect
    if collect is None:
        return None
    if collect.on_fail == ON_FAIL_NEXT:
        return FailRoute("next", None, "collect.on_fail: next", announce=True)
    if collect.on_fail:
        return FailRoute("fail", collect.on_fail, "collect.on_fail")
    if state.escalate:
        return FailRoute("escalate", state.escalate, "escalate")
    if any(b.if_ and collect.slot in condition_slots(b.if_) for b in state.next):
        return FailRoute("next", None, f"ветка next с условием на {collect.slot}")
    if spec.flow.escalate:
        return FailRoute("escalate", spec.flow.escalate, "flow.escalate", implicit=True, announce=True)
    return None


def escalation_target(state: schema.State, spec: schema.FlowFile) -> str | None:
    """Where too many misses escalate a waiting state: a menu to its own or the flow's
    ``escalate``, a collect as its failure route says."""
    if state.collect:
        route = fail_route(state, spec)
        return route.target if route is not None and route.via == "escalate" else None
    if state.options:
        return state.escalate or spec.flow.escalate
    return None
