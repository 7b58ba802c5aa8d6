"""Score a flow's menus on a labelled set of caller phrasings (tests/understanding/*.yaml).

Shared by the quality test, the benchmark and the threshold tuner, so the three count the same
way. An item is *right* when the menu does what ``want`` asks on the first turn (routes to that
choice, or for ``none`` asks again), *wrong* when it routes anywhere else, *clarified* when it
asks between choices or asks to confirm, *missed* when it asks again although it should route.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

from ivr.understanding.matcher import Match
from ivr.understanding.normalize import normalize

OUTCOMES = ("right", "wrong", "clarified", "missed")


@dataclass(frozen=True)
class Item:
    state: str
    say: str
    want: str  # option id, "global:<name>" or "none"


def choice_key(want: str) -> str:
    """The menu's matcher id for an item's ``want`` (see ``ChoiceRef.key``)."""
    return f"g:{want[7:]}" if want.startswith("global:") else f"o:{want}"


def load_items(path: str | Path, split: str) -> list[Item]:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    return [
        Item(state, str(row["say"]), str(row["want"]))
        for state, splits in data.items()
        for row in (splits or {}).get(split) or ()
    ]


def outcome(item: Item, result: Match) -> str:
    if result.kind in ("ambiguous", "confirm"):
        return "clarified"
    if result.kind == "match":
        return "right" if result.choice == choice_key(item.want) else "wrong"
    return "right" if item.want == "none" else "missed"


@dataclass
class Tally:
    counts: Counter
    total: int

    def share(self, name: str) -> float:
        return 100.0 * self.counts[name] / self.total if self.total else 0.0

    def __str__(self) -> str:
        return ", ".join(f"{name} {self.share(name):.1f} %" for name in OUTCOMES) + f" of {self.total}"


def tally(items: list[Item], answer: Callable[[Item], Match]) -> Tally:
    return Tally(Counter(outcome(item, answer(item)) for item in items), len(items))


def failures(items: list[Item], answer: Callable[[Item], Match]) -> Iterator[tuple[Item, Match, str]]:
    for item in items:
        result = answer(item)
        kind = outcome(item, result)
        if kind != "right":
            yield item, result, kind


def flow_answer(flow) -> Callable[[Item], Match]:
    """How the flow's own menus answer an item: ``menu.matcher.match`` on the normalized text,
    as the engine calls it."""
    return lambda item: flow.menu(item.state).matcher.match(normalize(item.say))
