"""Which states, drawn transitions and menu options a set of convo calls exercised."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from rich.console import Console

from ivr.engine import Call
from ivr.flow.model import Flow
from ivr.understanding.plural import counted


def coverage(flow: Flow, calls: list[Call]) -> dict[str, Any]:
    """States, drawn transitions and menu options the given calls exercised."""
    visited = {s for c in calls for s in c.visits}
    taken = {e for c in calls for e in c.edges}
    taken_any = {(e.via, e.dest) for e in taken if e.via.startswith("global:")}
    edges = flow.edges
    hit = {e for e in edges if e in taken or (e.source == "*" and (e.via, e.dest) in taken_any)}
    chosen = {(e.source, e.via) for e in taken}
    options_hit = {o for o in flow.options if o in chosen}
    return {
        "states": (len(visited & set(flow.states)), len(flow.states)),
        "transitions": (len(hit), len(edges)),
        "options": (len(options_hit), len(flow.options)),
        "missed_states": sorted(set(flow.states) - visited),
        "missed_transitions": sorted(f"{e.source} —{e.via}→ {e.dest}" for e in edges - hit),
    }


def print_coverage(calls: list[Call], console: Console) -> None:
    by_flow: defaultdict[Flow, list[Call]] = defaultdict(list)
    for call in calls:
        by_flow[call.flow].append(call)
    for flow, calls in by_flow.items():
        cov = coverage(flow, calls)
        console.print(
            f"Покрытие сценария {flow.id} ({flow.source}), {counted(len(calls), 'разговор')}:", markup=False
        )
        for key, title in (("states", "состояния"), ("transitions", "переходы"), ("options", "пункты меню")):
            hit, total = cov[key]
            pct = 100.0 * hit / total if total else 100.0
            console.print(f"  {title}: {hit}/{total} = {pct:.1f} %", markup=False)
        if cov["missed_states"]:
            console.print("  не пройдены состояния: " + ", ".join(cov["missed_states"]), markup=False)
        for edge in cov["missed_transitions"]:
            console.print(f"  не пройден переход: {edge}", markup=False)
