"""One call: the model the flow's machine moves, and everything that happened during it.

A call receives one input at a time (speech text, keypad keys or silence), decides what it means in
the current state, fires the machine's event, and collects what the simulator says in reply. Every
turn is kept in ``turns`` and, when a transcript is attached, written to disk at once.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from ivr.engine.slots import DIGIT_SLOTS, Parsed, parse_slot
from ivr.flow.model import GLOBAL_PREFIX, Edge
from ivr.flow.templates import lookup_data, render
from ivr.understanding.normalize import normalize, tokens
from ivr.understanding.numbers import number_value

if TYPE_CHECKING:
    from ivr.engine.engine import Engine
    from ivr.engine.clock import Clock
    from ivr.engine.transcript import TranscriptWriter

InputKind = Literal["speech", "dtmf", "silence"]
DEFAULT_INVALID = "Вы назвали: {heard}. {error} Повторите, пожалуйста."
MAX_PASSES = 100  # states that pass the call on without waiting, per turn; the loader rejects loops


@dataclass(frozen=True)
class Input:
    kind: InputKind
    text: str = ""
    seconds: float = 0.0  # silence length, or how long the caller spoke
    phrases: int | None = None  # separate phrases the recognizer heard, when known


@dataclass
class Turn:
    n: int
    at: str
    kind: InputKind
    input: str
    match: dict | None
    state_before: str
    state: str
    said: list[str]
    event: str | None = None

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class SlotValue:
    slot: str
    kind: str
    value: str
    display: str
    valid: bool
    error: str | None
    attempts: int
    seconds: float | None = None
    phrases: int | None = None


@dataclass
class ChecklistEntry:
    item: str
    slots: tuple[str, ...]  # any one valid makes the item ready
    state: str


@dataclass
class Reprompt:
    state: str
    cause: str  # nomatch | noinput | ambiguous | invalid
    input: str


@dataclass
class Expectation:
    """What the current state waits for; the voice channel builds its recognizer grammar from it."""

    mode: Literal["menu", "digits", "free", "none"]
    phrases: tuple[str, ...] = ()
    noinput_timeout: float = 7.0
    slot_type: str | None = None
    keys: tuple[str, ...] = ()  # keypad keys of a menu (callers also say them: «один»)


KEY_WORDS = frozenset({"цифра", "цифру", "кнопка", "кнопку", "клавиша", "клавишу", "пункт", "номер",
                       "нажимаю", "нажму", "выбираю", "давайте", "ну", "наверное", "пожалуйста"})


def spoken_key(text: str) -> str | None:
    """A keypad key said aloud instead of pressed: the whole answer is one digit word, maybe with
    «цифра»/«кнопка»/«пункт» («один», «цифра два», «третий пункт»). Numbers inside a sentence
    («ошибка пятьсот два», «второй раз») never count."""
    words = [w for w in tokens(text) if w not in KEY_WORDS]
    if len(words) != 1:
        return None
    value = number_value(words[0])
    return str(value) if value is not None and 0 <= value <= 9 else None


class Call:
    def __init__(self, engine: "Engine", clock: "Clock", *, transcript: "TranscriptWriter | None" = None,
                 reference: str | None = None, seed: int | None = None):
        self.engine = engine
        self.flow = engine.flow
        self.clock = clock
        self.transcript = transcript
        self.state = self.flow.meta.start  # the machine's model attribute
        self.started_at: datetime = clock()
        rng = random.Random(seed)
        self.reference = reference or "".join(rng.choice("0123456789") for _ in range(8))
        self.slots: dict[str, SlotValue] = {}
        self.checklist: list[ChecklistEntry] = []
        self.topic: str | None = None
        self.term: str | None = None
        self.turns: list[Turn] = []
        self.reprompts: list[Reprompt] = []
        self.edges: list[Edge] = []
        self.visits: Counter[str] = Counter()
        self.trail: set[str] = set()  # states passed since the last jump or «назад» (for «visited»)
        self.menu_stack: list[str] = []
        self.ended = False
        self.reference_given = False  # the caller has heard the application number
        self.failures = 0
        self._said: list[str] = []
        self._context: dict[str, str] = {}
        self.entered()
        self._settle()
        self.greeting = self._take_said()
        if transcript is not None:
            transcript.start(self)

    # ----------------------------------------------------------------- inputs
    def speech(self, text: str, *, seconds: float = 0.0, phrases: int | None = None) -> Turn:
        return self.handle(Input("speech", text, seconds, phrases))

    def dtmf(self, keys: str) -> Turn:
        return self.handle(Input("dtmf", keys))

    def silence(self, seconds: float = 0.0) -> Turn:
        return self.handle(Input("silence", "", seconds))

    def handle(self, inp: Input) -> Turn:
        before = self.state
        match: dict | None = None
        if self.ended:
            event: str | None = "ended"
        elif inp.kind == "silence":
            event = self._fail("noinput", "")
        elif inp.kind == "dtmf":
            match, event = self._keys(inp.text.strip(), inp)
        else:
            match, event = self._speech(inp)
        turn = Turn(len(self.turns) + 1, self.clock().isoformat(), inp.kind, inp.text, match, before,
                    self.state, self._take_said(), event)
        self.turns.append(turn)
        if self.transcript is not None:
            self.transcript.turn(self, turn)
            if self.ended:
                self.transcript.end(self)
        return turn

    def hang_up(self) -> None:
        """The caller leaves: close the transcript (the call may not have reached an end state)."""
        if self.transcript is not None:
            self.transcript.end(self)

    # ------------------------------------------------------------ machine side
    def entered(self) -> None:
        """Called by the machine after every state change (and once for the start state)."""
        state = self.flow.states[self.state]
        self.failures = 0
        self.visits[self.state] += 1
        self.trail.add(self.state)
        if state.options and (not self.menu_stack or self.menu_stack[-1] != self.state):
            self.menu_stack.append(self.state)
        if state.topic:
            self.topic = state.topic
        if state.term:
            self.term = state.term
        known = {entry.item for entry in self.checklist}
        for item in state.checklist:
            if item.item not in known:
                self.checklist.append(ChecklistEntry(item.item, item.slot, self.state))
                known.add(item.item)
        self._say(state.say)
        if state.end:
            self.ended = True

    def local_time(self, moment: datetime) -> datetime:
        return self.engine.local_time(moment)

    def item_status(self, entry: ChecklistEntry) -> tuple[str, SlotValue | None]:
        """ready / invalid / missing, with the slot value that decided it."""
        given = [self.slots[s] for s in entry.slots if s in self.slots]
        valid = [v for v in given if v.valid]
        if valid:
            return "ready", valid[0]
        if given:
            return "invalid", given[-1]
        return "missing", None

    def holds(self, condition: str) -> bool:
        word, _, slot = condition.partition(" ")
        if word in ("open", "closed"):
            hours = self.engine.hours
            is_open = hours is None or hours.is_open(self.clock())
            return is_open if word == "open" else not is_open
        if word == "visited":  # which path brought the call here: a shared chain returns to its topic
            return slot in self.trail
        value = self.slots.get(slot)
        if word == "has":
            return value is not None and value.valid
        if word == "missing":
            return value is None
        return value is not None and not value.valid  # invalid

    def _fire(self, trigger: str) -> None:
        """Fire one machine event, record the edge taken, then follow pass-through states."""
        before = self.state
        via = trigger.split(">", 1)[1]
        if trigger.startswith("global>"):
            via = GLOBAL_PREFIX + via
        elif via == "next":
            via = self._branch_label()  # judged before moving, as the machine judges it
        self.engine.machine.events[trigger].trigger(self)
        self.edges.append(Edge(before, via, self.state))
        self._settle()

    def _settle(self) -> None:
        """Follow states that only pass the call on, until one waits for the caller or ends it."""
        for _ in range(MAX_PASSES):
            state = self.flow.states[self.state]
            if self.ended or state.options or state.collect or not state.next:
                return
            before, via = self.state, self._branch_label()
            self.engine.machine.events[f"{before}>next"].trigger(self)
            self.edges.append(Edge(before, via, self.state))

    def _branch_label(self) -> str:
        """Which ``next`` branch of the current state the machine will take (the first that holds)."""
        for branch in self.flow.states[self.state].next:
            if branch.if_ is None or self.holds(branch.if_):
                return f"next[{branch.if_ or 'else'}]"
        return "next"

    # ------------------------------------------------------------- understanding
    def _speech(self, inp: Input) -> tuple[dict | None, str | None]:
        text = normalize(inp.text)
        if not text:
            return None, self._fail("noinput", "")
        state = self.flow.states[self.state]
        menu = self.flow.menu(self.state)
        if state.collect:
            # Free speech may mention a command word in passing ("оператор не ответил"); there a
            # command counts only as a short utterance of its own.
            free = state.collect.type == "text" and len(tokens(text)) > 4
            command = menu.matcher.decisive(text) if menu.matcher is not None and not free else None
            if command is not None:
                return self._choose(command, 100.0)
            return self._collect(inp.text, inp, keyed=False)
        key = spoken_key(text)
        if key is not None and key in menu.keys:  # «один», «цифра два», «третий пункт»
            return self._choose(menu.keys[key], 100.0)
        if menu.matcher is None:
            return None, self._fail("nomatch", text)
        result = menu.matcher.match(text)
        if result.kind == "match":
            return self._choose(result.choice, result.score)
        if result.kind == "ambiguous":
            self._context["candidates"] = " или ".join(f"«{menu.labels[c]}»" for c in result.candidates)
            return {"kind": "ambiguous", "candidates": list(result.candidates)}, self._fail("ambiguous", text)
        return None, self._fail("nomatch", text)

    def _keys(self, keys: str, inp: Input) -> tuple[dict | None, str | None]:
        state = self.flow.states[self.state]
        if state.collect:
            menu = self.flow.menu(self.state)
            digits_expected = state.collect.type in DIGIT_SLOTS or state.collect.type == "date"
            if len(keys) == 1 and keys in menu.keys and not (digits_expected and keys.isdigit()):
                return self._choose(menu.keys[keys], 100.0)
            return self._collect(keys, inp, keyed=True)
        match: dict | None = None
        event: str | None = None
        for i, key in enumerate(keys):
            if self.ended:
                break
            if self.flow.states[self.state].collect:  # the rest of the keys are the slot's digits
                return self._keys(keys[i:], inp)
            choice = self.flow.menu(self.state).keys.get(key)
            if choice is None:
                match, event = None, self._fail("nomatch", key)
            else:
                match, event = self._choose(choice, 100.0)
        return match, event

    def _choose(self, choice: str, score: float) -> tuple[dict, str | None]:
        if choice.startswith(GLOBAL_PREFIX):
            name = choice[len(GLOBAL_PREFIX):]
            glob = self.flow.globals[name]
            self._say(glob.say)
            if glob.goto:
                # a jump starts a new path: "назад" must not return past it, and «visited» forgets
                # the topic the caller left
                self.menu_stack.clear()
                self.trail.clear()
                self._fire(f"global>{name}")
            elif glob.action == "repeat":
                self._say(self.flow.states[self.state].say)
            else:
                self._back()
            return {"kind": "global", "id": name, "score": round(score, 1)}, None
        option = next(o for o in self.flow.states[self.state].options if o.id == choice)
        self._say(option.say)
        self._fire(f"{self.state}>{option.id}")
        return {"kind": "option", "id": option.id, "score": round(score, 1)}, None

    def _back(self) -> None:
        stack = self.menu_stack
        if stack and stack[-1] == self.state:
            stack.pop()
        if not stack:
            self._say(["Это начало меню."])
            self._say(self.flow.states[self.state].say)
            if self.flow.states[self.state].options:
                stack.append(self.state)
            return
        target = stack[-1]
        before = self.state
        self.trail.clear()  # going back leaves the path, like a jump
        self.engine.machine.set_state(target, self)
        self.edges.append(Edge(before, GLOBAL_PREFIX + "back", target))
        self.entered()

    def _collect(self, text: str, inp: Input, *, keyed: bool) -> tuple[dict, str | None]:
        collect = self.flow.states[self.state].collect
        parsed: Parsed = parse_slot(collect, text, keyed=keyed, reference=self.reference)
        previous = self.slots.get(collect.slot)
        self.slots[collect.slot] = SlotValue(
            collect.slot, collect.type, parsed.value, parsed.display, parsed.valid, parsed.error,
            (previous.attempts if previous else 0) + 1,
            inp.seconds or None, inp.phrases,
        )
        match = {"kind": collect.type, "slot": collect.slot, "value": parsed.value, "valid": parsed.valid}
        if parsed.valid:
            self._fire(f"{self.state}>next")
            return match, None
        self._context["heard"] = parsed.display or "ничего"
        self._context["error"] = parsed.error or ""
        return match, self._fail("invalid", text)

    # ------------------------------------------------------------- reprompts
    def _fail(self, cause: str, heard: str) -> str:
        state = self.flow.states[self.state]
        meta = self.flow.meta
        self.failures += 1
        self.reprompts.append(Reprompt(self.state, cause, heard))
        if self.failures >= (state.retries or meta.retries):
            if state.collect:
                if state.collect.on_fail:
                    self._fire(f"{self.state}>fail")
                    return "escalated"
                if state.escalate:
                    self._fire(f"{self.state}>escalate")
                    return "escalated"
                self._fire(f"{self.state}>next")  # move on; the slot stays marked invalid
                return cause
            if state.escalate or meta.escalate:
                self._fire(f"{self.state}>escalate")
                return "escalated"
        texts = {
            "noinput": state.noinput or meta.noinput,
            "nomatch": state.nomatch or meta.nomatch,
            "ambiguous": meta.ambiguous,
            "invalid": (state.collect.invalid if state.collect else None) or [DEFAULT_INVALID],
        }[cause]
        if cause == "nomatch" and state.collect:
            texts = state.nomatch or [DEFAULT_INVALID]
        self._say([texts[min(self.failures, len(texts)) - 1]])
        return cause

    # ------------------------------------------------------------- speaking
    def render(self, text: str) -> str:
        """A prompt with its placeholders filled for this call."""
        return render(text, self._resolve).strip()

    def _say(self, texts: list[str]) -> None:
        for text in texts:
            if "{reference}" in text:
                self.reference_given = True
            said = self.render(text)
            if said:
                self._said.append(said)

    def _take_said(self) -> list[str]:
        said, self._said = self._said, []
        return said

    def _resolve(self, name: str) -> str:
        if name.startswith("data."):
            value = lookup_data(self.flow.data, name[5:])
            return ", ".join(map(str, value)) if isinstance(value, list) else str(value)
        if name in self.slots:
            return self.slots[name].display
        if name in self._context:
            return self._context[name]
        hours = self.engine.hours
        if name == "next_open":
            return hours.describe_next_open(self.clock()) if hours else ""
        if name == "hours":
            return hours.describe_week() if hours else ""
        if name == "now":
            moment = hours.local(self.clock()) if hours else self.clock()
            return f"{moment:%H:%M}"
        if name == "reference":
            # in pairs, as people read out long numbers: "48-17-30-52"
            return "-".join(self.reference[i:i + 2] for i in range(0, len(self.reference), 2))
        if name == "menu_hint":
            return self.menu_hint()
        if name == "topic":
            return self.topic or ""
        return ""  # a slot not collected yet reads as nothing

    def menu_hint(self) -> str:
        state = self.flow.states[self.state]
        if state.collect:
            if state.collect.type in DIGIT_SLOTS:
                return "Назовите цифры голосом или наберите их на клавиатуре."
            return ""
        if not state.options:
            return ""
        parts = []
        for option in state.options:
            label = self.flow.menu(self.state).labels[option.id]
            key = f" — {option.keys[0]}" if option.keys else ""
            parts.append(f"«{label}»{key}")
        return "Скажите, что вас интересует, или нажмите клавишу: " + ", ".join(parts) + "."

    # ------------------------------------------------------------- for channels
    def decisive(self, text: str) -> str | None:
        """The one menu choice a partial recognition already names in whole words, if any: the
        voice channel may act on it before the caller's trailing silence ends."""
        matcher = self.flow.menu(self.state).matcher
        return matcher.decisive(text) if matcher is not None else None

    def expecting(self) -> Expectation:
        state = self.flow.states[self.state]
        timeout = state.noinput_timeout or self.flow.meta.noinput_timeout
        if self.ended:
            return Expectation("none", (), timeout)
        globals_ = tuple(p for g in self.flow.enabled_globals(self.state).values() for p in g.phrases)
        if state.collect:
            kind = state.collect.type
            mode = "digits" if kind in DIGIT_SLOTS else "free"
            return Expectation(mode, globals_, timeout, kind)
        phrases = tuple(p for o in state.options for p in o.phrases)
        return Expectation("menu", phrases + globals_, timeout, keys=tuple(self.flow.menu(self.state).keys))
