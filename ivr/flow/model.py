"""A loaded, checked flow and the per-state lookups the engine needs on every turn.

Menus (keypad map + phrase matcher) are built lazily, once per state per flow, and then shared by all
calls: loading a 1,000-state flow stays fast, and no turn ever re-lemmatizes a flow phrase.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Literal, NamedTuple

from ivr.flow import schema
from ivr.flow.conditions import Condition, known_of, parse
from ivr.flow.failure import fail_route
from ivr.flow.templates import named_schedule, placeholders, prompt_texts
from ivr.flow.yaml_source import Pos, SourceMap
from ivr.understanding.classifier import ChoiceClassifier
from ivr.understanding.matcher import Choice, Matcher
from ivr.understanding.semantic import Router, first_sentence
from ivr.understanding.vector_store import store_path

# Meaning decides only in menus of topics. With two or three options (yes/no, «СНИЛС или ИНН»)
# callers answer in the options' own words, and a margin between so few choices means little:
# «какой номер» was routed to «да, номер есть», «паспорт» to «СНИЛС».
# A page with a single option (an information page's «оператор» or «завершить») is a menu of
# commands, not of answers: that option and the global commands, each with its examples, which
# callers say in their own words («верните меня на главную», «давайте вернемся») — on 40 page
# phrasings meaning left 6 unanswered where words alone left 10 and sent none elsewhere.
MIN_OPTIONS_FOR_MEANING = 4


def decides_by_meaning(topics: int, choices: int) -> bool:
    """Whether a menu with ``topics`` options that have phrases, of ``choices`` spoken choices in
    all (its options and the global commands enabled there), may decide by meaning: a page's one
    option is worth comparing by meaning only among as many commands as a menu of topics has."""
    if topics == 1:
        return choices >= MIN_OPTIONS_FOR_MEANING
    return topics >= MIN_OPTIONS_FOR_MEANING


@dataclass(frozen=True)
class ChoiceRef:
    """One thing a caller can pick in a state: a menu option or a global command. Kept apart by
    kind, so an option may have any id without being taken for a command."""

    kind: Literal["option", "global"]
    id: str

    def __str__(self) -> str:
        return self.id if self.kind == "option" else f"global:{self.id}"

    @property
    def key(self) -> str:
        """The matcher's id for this choice: options and commands never collide."""
        return f"{self.kind[0]}:{self.id}"


class Edge(NamedTuple):
    """A transition drawn in the flow file: from ``source`` by ``via`` to ``dest``."""

    source: str
    via: str
    dest: str


@dataclass(frozen=True)
class Menu:
    keys: dict[str, ChoiceRef]  # keypad key → what it picks
    matcher: Router | None  # None when nothing in this state can be said (keys only)
    choices: dict[str, ChoiceRef]  # the matcher's choice ids → what they pick
    labels: dict[ChoiceRef, str]  # how the caller would call each choice

    def choice(self, key: str) -> ChoiceRef:
        return self.choices[key]


class Flow:
    def __init__(self, spec: schema.FlowFile, source: str = "<flow>", positions: SourceMap | None = None):
        self.source = source
        self.spec = spec
        # kept so that warnings found after loading (``ivr check``) still name file:line:col
        self._positions = positions
        self.meta = spec.flow
        self.id = spec.flow.id
        self.data = spec.data
        self.states = spec.states
        self.globals = spec.globals
        self.collects = {s.collect.slot: s.collect for s in spec.states.values() if s.collect}
        self.known = known_of(spec)
        # every slot a prompt may say: collected, stored from a menu or set — and its kind
        self.slot_kinds: Mapping[str, str] = self.known.kinds or {}
        self._menus: dict[str, Menu] = {}
        self._conditions: dict[str, Condition] = {}

    def __repr__(self) -> str:
        return f"<Flow {self.id!r} from {self.source}: {len(self.states)} states>"

    def position(self, path: tuple) -> Pos | None:
        """Where ``path`` (or its nearest written ancestor) stands in the flow file, if known."""
        return self._positions.find(path) if self._positions is not None else None

    def condition(self, text: str) -> Condition:
        """A ``next`` branch's condition, compiled once (the loader has checked it)."""
        found = self._conditions.get(text)
        if found is None:
            found = self._conditions[text] = parse(text, self.known)
        return found

    def enabled_globals(self, state: str) -> dict[str, schema.Global]:
        switch = self.states[state].globals
        if switch is True:
            return self.globals
        if switch is False:
            return {}
        return {g: self.globals[g] for g in switch}

    def menu(self, state: str) -> Menu:
        menu = self._menus.get(state)
        if menu is None:
            menu = self._menus[state] = self._build_menu(state)
        return menu

    def _build_menu(self, state: str) -> Menu:
        keys: dict[str, ChoiceRef] = {}
        labels: dict[ChoiceRef, str] = {}
        refs: dict[str, ChoiceRef] = {}
        choices = []
        evidence: dict[str, tuple[str, ...]] = {}
        options = self.states[state].options
        for option in options:
            ref = ChoiceRef("option", option.id)
            for key in option.keys:
                keys[key] = ref
            labels[ref] = option.label or (option.phrases[0] if option.phrases else option.id)
            refs[ref.key] = ref
            choices.append(Choice(ref.key, tuple(option.phrases)))
            evidence[ref.key] = (*option.phrases, *option.examples, *self._target_evidence(option))
        for name, glob in self.enabled_globals(state).items():
            ref = ChoiceRef("global", name)
            for key in glob.keys:
                keys.setdefault(key, ref)
            labels[ref] = glob.phrases[0] if glob.phrases else name
            refs[ref.key] = ref
            choices.append(Choice(ref.key, tuple(glob.phrases)))
            evidence[ref.key] = (*glob.phrases, *glob.examples, *self.state_examples(glob.goto))
        spoken = [c for c in choices if c.phrases]
        if not spoken:
            return Menu(keys, None, refs, labels)
        # A section's page: an option whose target is also reachable from another option's
        # target state (main → auth → auth_password, and main → auth_password directly).
        by_target = {o.goto: ChoiceRef("option", o.id).key for o in options if o.phrases}
        pages = {}
        for option in options:
            target = self.states.get(option.goto)
            if option.goto == state or (target is not None and len(target.options) >= len(options)):
                # «когда откроется линия» in `closed` leads back to `closed`, «меню» in `main` to
                # `main_keys` that lists main's own options: a repeat of this menu, not a section
                # whose pages are its neighbours. Nor is a menu at least as broad as this one
                # («порепетировать» in `closed` leads to `main`, which also says goodbye: «до
                # свидания» in `closed` is no page of rehearsing).
                continue
            inner = (
                {by_target.get(o.goto) for o in self.states[option.goto].options}
                if option.goto in self.states
                else set()
            )
            own = ChoiceRef("option", option.id).key
            found = {k for k in inner if k is not None and k != own}
            if found and option.phrases:
                pages[own] = frozenset(found)
        # A page belongs to one section: a target every information page offers («завершить
        # звонок» → goodbye) is nobody's page, or «до свидания» would be a page of each of them.
        shared = Counter(page for found in pages.values() for page in found)
        pages = {
            section: frozenset(p for p in found if shared[p] == 1)
            for section, found in pages.items()
            if any(shared[p] == 1 for p in found)
        }
        topics = sum(1 for o in options if o.phrases)
        words_only = {ChoiceRef("option", o.id).key for o in options if not o.meaning}
        words_only |= {ChoiceRef("global", n).key for n, g in self.enabled_globals(state).items() if not g.meaning}
        router = Router(
            Matcher(spoken),
            {c.id: evidence[c.id] for c in spoken if c.id not in words_only},
            pages,
            confirm=True,
            by_meaning=decides_by_meaning(topics, len(spoken)),
            shipped=self.vector_store,
        )
        return Menu(keys, router, refs, labels)

    @cached_property
    def vector_store(self) -> Path | None:
        """Where this flow's precomputed meaning vectors are (``ivr index``), if it is a file."""
        path = Path(self.source)
        return store_path(path) if path.suffix in (".yaml", ".yml") else None

    def meaning_texts(self) -> set[str]:
        """Every text the flow's menus encode to decide by meaning: what ``ivr index`` stores."""
        texts: set[str] = set()
        for name, state in self.states.items():
            router = self.menu(name).matcher if state.options else None
            if router is not None:
                texts.update(router.meaning_texts())
        return texts

    def meaning_classifiers(self) -> dict[str, ChoiceClassifier]:
        """Every menu's trained choice classifier by evidence key (trained now where none is
        stored): what ``ivr index`` ships beside the vectors."""
        found: dict[str, ChoiceClassifier] = {}
        for name, state in self.states.items():
            router = self.menu(name).matcher if state.options else None
            entry = router.classifier() if router is not None else None
            if entry is not None:
                found[entry[0]] = entry[1]
        return found

    def _target_evidence(self, option: schema.Option) -> tuple[str, ...]:
        """What, besides its phrases, says what an option is about: its label, the topic of the
        state it leads to (or that state's first sentence, «Вход и доступ.») and that state's
        examples."""
        texts = [option.label] if option.label else []
        target = self.states.get(option.goto)
        if target is not None:
            if target.topic:
                texts.append(target.topic)
            elif target.say and (sentence := first_sentence(target.say[0])):
                texts.append(sentence)
        return (*texts, *self.state_examples(option.goto))

    def state_examples(self, name: str | None) -> tuple[str, ...]:
        """The ``examples:`` of state ``name`` (none when there is no such state): evidence for every
        choice that leads there."""
        target = self.states.get(name) if name else None
        return tuple(target.examples) if target is not None else ()

    def prepare_menus(self, stop: threading.Event | None = None) -> None:
        """Build every menu and embed its evidence, nearest the start first: run in a background
        thread while the greeting plays, so a flow without shipped vectors (``ivr index``) on a cold
        cache (seconds per large menu) does not make the caller's first answer wait."""
        seen, queue = {self.meta.start}, [self.meta.start]
        for name in queue:
            if stop is not None and stop.is_set():
                return
            state = self.states[name]
            if state.options:
                router = self.menu(name).matcher
                if router is not None:
                    router.prepare()
            for target in [o.goto for o in state.options] + [b.goto for b in state.next]:
                if target not in seen and target in self.states:
                    seen.add(target)
                    queue.append(target)

    @cached_property
    def edges(self) -> frozenset[Edge]:
        """Transitions drawn in the file, for coverage: options, next branches, failure routes
        declared on a state, and each global command once."""
        edges = set()
        for name, state in self.states.items():
            for option in state.options:
                edges.add(Edge(name, option.id, option.goto))
            for branch in state.next:
                edges.add(Edge(name, f"next[{branch.if_ or 'else'}]", branch.goto))
            if state.escalate:
                edges.add(Edge(name, "escalate", state.escalate))
            route = fail_route(state, self.spec)
            if route is not None and route.via == "fail" and route.target:
                edges.add(Edge(name, "fail", route.target))
        for gname, glob in self.globals.items():
            if glob.goto:
                edges.add(Edge("*", str(ChoiceRef("global", gname)), glob.goto))
        return frozenset(edges)

    @cached_property
    def named_schedules(self) -> frozenset[str]:
        """Data blocks read as schedules besides flow.hours: by conditions (``if: open
        home_visits``) and by prompts (``{hours.home_visits}``, ``{next_open.home_visits}``)."""
        names = {
            name
            for state in self.states.values()
            for branch in state.next
            if branch.if_
            for name in self.condition(branch.if_).schedules()
        }
        for _, text in prompt_texts(self.spec):
            names.update(named[1] for ref in placeholders(text) if (named := named_schedule(ref)))
        return frozenset(names)

    @cached_property
    def options(self) -> frozenset[tuple[str, str]]:
        return frozenset((n, o.id) for n, s in self.states.items() for o in s.options)
