"""One call: the model the flow's machine moves, and what happened during it.

A call receives one input at a time (speech text, keypad keys or silence), asks ``interpret`` what
it means in the current state, fires the machine, and collects what the simulator says in reply
(``prompts``), or what it says after a miss (``reprompts``). Every turn is kept in ``turns`` and
handed to the call's observers (the transcript) at once.
"""

from __future__ import annotations

import random
import re
import secrets
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from ivr.engine import interpret
from ivr.engine.clock import Clock
from ivr.engine.hours import Hours
from ivr.engine.machine import FlowMachine, TriggerKind
from ivr.engine.prompts import Prompts
from ivr.engine.records import (
    Ambiguous,
    CallEnded,
    CallObserver,
    CallStarted,
    ChecklistEntry,
    Confirming,
    Event,
    Expectation,
    Input,
    Match,
    Reprompt,
    SlotFilled,
    SlotValue,
    StepTaken,
    Turn,
    chosen,
)
from ivr.engine.reprompts import Cause, GiveUp, after_miss, nth
from ivr.flow.model import ChoiceRef, Edge, Flow
from ivr.flow.schema import State
from ivr.flow.templates import placeholders
from ivr.slots import Limits, slot_type
from ivr.understanding.normalize import normalize

# A turn longer than this is not an answer to a menu or a question: two minutes of speech come to
# about 1,500 characters of recognised text. Longer input is cut here, once for every channel (a
# 1 MB line took a minute and 500 MB before), and the caller is asked to be brief.
MAX_INPUT_CHARS = 2000
_SURROGATE = re.compile("[\ud800-\udfff]")
TOO_LONG = "Это очень длинный ответ — я учёл только начало. Говорите короче: одна-две фразы."


@dataclass(frozen=True)
class Line:
    """What a call needs of the line it is on: the flow, its machine, its hours and zone."""

    flow: Flow
    machine: FlowMachine
    hours: Hours | None
    zone: ZoneInfo
    schedules: Mapping[str, Hours] = field(default_factory=dict)  # named ones, for ``open <name>``


@dataclass(frozen=True)
class Reloaded:
    """How a call went on after its flow was reloaded: in the state it was in (``kept``) or from
    the start, and what it said on the way."""

    kept: bool
    said: list[str]


def new_call_id() -> str:
    """Eight hex digits: unique enough for one person's reports folder, short enough to read."""
    return secrets.token_hex(4)


class Call:
    def __init__(
        self,
        line: Line,
        clock: Clock,
        *,
        observers: Sequence[CallObserver] = (),
        reference: str | None = None,
        seed: int | None = None,
        call_id: str | None = None,
    ):
        self.id = call_id or new_call_id()  # names this call's files and tags its records
        self.line = line
        self.flow = line.flow
        self.clock = clock
        self.observers = list(observers)
        self.prompts = Prompts(line.flow, line.hours, clock, line.schedules)
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
        self.steps: list[StepTaken] = []  # the caller's steps (states with step:), in call order
        self.ended = False
        self.reference_given = False  # the caller has heard the application number
        self.failures = 0
        self.context: dict[str, str] = {}  # {heard}, {error}, {candidates} of the turn being answered
        self.question: interpret.Question | None = None  # «А или Б?» / «Правильно понимаю…?» just asked
        self._said: list[str] = []
        # what the call said that repeats the caller's words or values (read-backs): channels must
        # not keep it anywhere, e.g. in the prompt audio cache
        self.personal_said: set[str] = set()
        # what the call shows but does not speak (a state's details:): the voice channel skips it
        self.screen_only: set[str] = set()
        self._quiet_entry = False  # entering a collect whose value the caller has already said
        # the caller's words that may take a step before the call gets to it (options with
        # early:): their free-text answers in steps (the question), and the words that just left a
        # step undone («продиктуйте номер обращения» before asking about documents)
        self._early_words: list[str] = []
        self._passing_words: str | None = None
        self._closed = False
        self.entered()
        self._settle()
        self.greeting = self._take_said()
        started = CallStarted(
            self.id,
            self.flow.id,
            self.flow.source,
            self.started_at.isoformat(),
            self.state,
            list(self.greeting),
        )
        for observer in self.observers:
            observer.started(started)

    # ----------------------------------------------------------------- inputs
    def speech(self, text: str, *, seconds: float = 0.0, phrases: int | None = None) -> Turn:
        return self.handle(Input("speech", text, seconds, phrases))

    def dtmf(self, keys: str) -> Turn:
        return self.handle(Input("dtmf", keys))

    def silence(self, seconds: float = 0.0) -> Turn:
        return self.handle(Input("silence", "", seconds))

    def handle(self, inp: Input) -> Turn:
        inp = self._admit(inp)
        before = self.state
        match: Match | None = None
        event: Event | None
        if self.ended:
            event = "ended"
        elif inp.kind == "silence":
            self.question = None
            event = self._miss("noinput", "")
        elif inp.kind == "dtmf":
            question, self.question = self.question, None
            match, event = self._keys(inp.text.strip(), inp, question)
        else:
            match, event = self._act(self._hear(inp.text), inp)
        turn = Turn(
            len(self.turns) + 1,
            self.clock().isoformat(),
            inp.kind,
            inp.text,
            match,
            before,
            self.state,
            self._take_said(),
            event,
            (inp.seconds or None) if inp.kind == "speech" else None,
            inp.phrases if inp.kind == "speech" else None,
        )
        self.turns.append(turn)
        for observer in self.observers:
            observer.turn(turn)
        if self.ended:
            self.hang_up()
        return turn

    def _admit(self, inp: Input) -> Input:
        """What any channel hands in becomes text the rest can trust: characters that cannot be
        written (lone surrogates from undecodable bytes on standard input) become U+FFFD, and an
        over-long turn is cut with a word to the caller."""
        text = inp.text
        if len(text) > MAX_INPUT_CHARS:
            text = text[:MAX_INPUT_CHARS]
            self._said.append(TOO_LONG)
        text = _SURROGATE.sub("\ufffd", text)
        return inp if text == inp.text else replace(inp, text=text)

    def hang_up(self) -> None:
        """The call is over (an end state, or the caller left): observers hear it once."""
        if self._closed:
            return
        self._closed = True
        ended = CallEnded(self.state, self.ended, self.topic, len(self.turns))
        for observer in self.observers:
            observer.ended(ended)

    def reload(self, line: Line) -> Reloaded:
        """Go on with an edited flow (``ivr chat --watch``): in the same state when the new flow
        still has it, else from the new flow's start. A state that still waits for the caller says
        nothing (the next answer is heard there under the new flow); one that no longer waits, or
        the start, is entered as the new flow says. What the caller gave so far — slots, checklist,
        turns — is kept: an author tries a fix without redialling."""
        self.line, self.flow = line, line.flow
        self.prompts = Prompts(line.flow, line.hours, self.clock)
        self.question = None
        self.failures = 0
        states = self.flow.states
        self.menu_stack = [name for name in self.menu_stack if name in states and states[name].options]
        self.trail &= set(states)
        kept = self.state in states
        if kept and (states[self.state].options or states[self.state].collect):
            return Reloaded(True, [])
        if not kept:
            self.menu_stack.clear()
            self.trail.clear()
            line.machine.set_state(self, self.flow.meta.start)
        self.entered()
        self._settle()
        return Reloaded(kept, self._take_said())

    # ------------------------------------------------------------ machine side
    def entered(self) -> None:
        """Called by the machine after every state change (and once for the start state)."""
        state = self.flow.states[self.state]
        self.failures = 0
        self.question = None
        self.visits[self.state] += 1
        self.trail.add(self.state)
        if state.options and (not self.menu_stack or self.menu_stack[-1] != self.state):
            self.menu_stack.append(self.state)
        if state.topic:
            self.topic = state.topic
        if state.term:
            self.term = state.term
        if state.step:
            self.steps.append(StepTaken(self.state, state.step))
        known = {entry.item for entry in self.checklist}
        for item in state.checklist:
            if item.item not in known:
                self.checklist.append(ChecklistEntry(item.item, item.slot, self.state))
                known.add(item.item)
        if state.set:
            self._assign(state.set)
        if not self._quiet_entry:
            self._page(state)
        if state.end:
            self.ended = True

    def local_time(self, moment: datetime) -> datetime:
        """A moment in the line's time zone: file names and reports use the wall clock of the
        simulated line, not the machine's zone."""
        return moment.astimezone(self.line.zone)

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
        """Whether a ``next`` branch's condition holds now (``ivr.flow.conditions``); «visited»
        asks which path brought the call here, so a shared chain returns to its topic."""
        return self.flow.condition(condition).holds(self)

    def is_open(self, schedule: str | None) -> bool:
        hours = self.line.hours if schedule is None else self.line.schedules[schedule]
        return hours is None or hours.is_open(self.clock())

    def today(self) -> date:
        return self.local_time(self.clock()).date()

    def _assign(self, values: Mapping[str, str], shown: Mapping[str, str] | None = None) -> None:
        """Slots given by the flow itself (``set:``, ``store:``): valid, never asked, not personal."""
        for slot, value in values.items():
            collect = self.flow.collects.get(slot)
            kind = collect.type if collect is not None else "text"  # a stored choice is plain text
            self.slots[slot] = SlotValue(slot, kind, value, (shown or {}).get(slot, value), True, None, 0)

    def _fire(self, kind: TriggerKind, arg: str = "") -> None:
        """Fire one machine event, record the edge taken, then follow pass-through states."""
        before = self.state
        via = {
            "option": arg,
            "global": str(ChoiceRef("global", arg)),
            "escalate": "escalate",
            "fail": "fail",
        }.get(kind) or self._branch_label()  # next: judged before moving
        self.line.machine.fire(self, kind, "" if kind == "global" else before, arg)
        self.edges.append(Edge(before, via, self.state))
        self._settle()

    def _settle(self) -> None:
        """Follow states that only pass the call on, until one waits for the caller or ends it."""
        # A chain of pass-through states is at most as long as the flow: the loader rejects loops.
        for _ in range(len(self.flow.states)):
            state = self.flow.states[self.state]
            if self.ended or state.options or state.collect or not state.next:
                break
            before, via = self.state, self._branch_label()
            self.line.machine.fire(self, "next", before)
            self.edges.append(Edge(before, via, self.state))
        self._take_early()

    def _take_early(self) -> None:
        """A step the caller already took in words said before the call got to it: the step
        counts as taken unprompted and the call goes on by that option, without asking."""
        passing, self._passing_words = self._passing_words, None
        state = self.flow.states[self.state]
        if self.ended or not state.step or not any(o.early for o in state.options):
            return
        menu = self.flow.menu(self.state)
        early = {ChoiceRef("option", o.id).key: o for o in state.options if o.early}
        for words in ([passing] if passing else []) + self._early_words:
            option = early.get(menu.matcher.decisive(words) or "") if menu.matcher is not None else None
            if option is not None:
                if words in self._early_words:
                    self._early_words.remove(words)  # one question takes one step
                self._step_done(True)
                self._say(option.say)
                self._fire("option", option.id)
                return

    def _branch_label(self) -> str:
        """Which ``next`` branch of the current state the machine will take (the first that holds)."""
        for branch in self.flow.states[self.state].next:
            if branch.if_ is None or self.holds(branch.if_):
                return f"next[{branch.if_ or 'else'}]"
        return "next"

    # ------------------------------------------------------------- acting on input
    def _hear(self, said: str) -> interpret.Verdict:
        """What speech means here: first as the reply to a question the call just asked, else as
        a fresh answer in the state."""
        question, self.question = self.question, None
        if question is not None and question.state == self.state:
            verdict = interpret.answer(self.flow, question, said)
            if verdict is None:
                verdict = interpret.speech(self.flow, self.state, said)
            return interpret.reasked(self.flow, question, verdict, said)
        return interpret.speech(self.flow, self.state, said)

    def _act(self, verdict: interpret.Verdict, inp: Input) -> tuple[Match | None, Event | None]:
        if isinstance(verdict, interpret.Choose):
            return self._choose(verdict.ref, verdict.score, inp if inp.kind == "speech" else None), None
        if isinstance(verdict, interpret.Confirm):
            return self._ask(Confirming(verdict.ref, verdict.score), (verdict.ref,), "confirm", inp)
        if isinstance(verdict, interpret.Declined):
            self._say(self.flow.meta.declined)
            return None, None
        if isinstance(verdict, interpret.Reask):  # the question again, still awaiting its answer
            self._said.extend(verdict.question.said)
            self.question = verdict.question
            return (chosen(verdict.ref, verdict.score) if verdict.ref is not None else None), None
        if isinstance(verdict, interpret.LineTalk):  # answered; no try of the state is spent
            return None, self._answer_talk("line_talk", self.flow.meta.line_talk)
        if isinstance(verdict, interpret.Thanks):  # likewise
            return None, self._answer_talk("thanks", self.flow.meta.thanks)
        if isinstance(verdict, interpret.Elsewhere):  # home by the command, its prompt unsaid
            before = len(self._said)
            self._choose(verdict.via, 100.0)
            del self._said[before:]
            return self._choose(verdict.ref, verdict.score, inp), None
        if isinstance(verdict, interpret.Fill):
            return self._collect(verdict.text, inp, keyed=verdict.keyed)
        if isinstance(verdict, interpret.Clarify):
            return self._ask(Ambiguous(verdict.candidates), verdict.candidates, "ambiguous", inp)
        return None, self._miss(
            "noinput" if verdict.cause == "noinput" else "nomatch", verdict.heard, inp.quiet
        )

    def _answer_talk(self, event: Event, texts: list[str]) -> Event:
        """Talk that is no request («алло», «спасибо») answered without spending a try: the n-th
        text for the n-th such turn in a row in this state, as the reprompts go."""
        in_a_row = 1
        for turn in reversed(self.turns):
            if turn.event != event or turn.state != self.state:
                break
            in_a_row += 1
        self._say([nth(texts, in_a_row)] if texts else [])
        return event

    def _ask(
        self, match: Match, candidates: tuple[ChoiceRef, ...], cause: Cause, inp: Input
    ) -> tuple[Match, Event | None]:
        """Ask which choice the caller meant; the next answer is first heard as the reply."""
        labels = self.flow.menu(self.state).labels
        self.context["candidates"] = " или ".join(f"«{labels[c]}»" for c in candidates)
        state = self.state
        before = len(self._said)
        event = self._miss(cause, normalize(inp.text))
        if self.state == state and not self.ended:
            self.question = interpret.Question(state, candidates, tuple(self._said[before:]))
        return match, event

    def _keys(
        self, keys: str, inp: Input, question: interpret.Question | None = None
    ) -> tuple[Match | None, Event | None]:
        match: Match | None = None
        event: Event | None = None
        for i, pressed in enumerate(keys):
            if self.ended:
                break
            if self.flow.states[self.state].collect:  # the rest of the keys are the slot's digits
                return self._act(interpret.keys_in_collect(self.flow, self.state, keys[i:]), inp)
            # only the first key can answer the question just asked
            asked = question if i == 0 and question is not None and question.state == self.state else None
            verdict = interpret.reasked(
                self.flow, asked, interpret.key(self.flow, self.state, pressed, asked)
            )
            match, event = self._act(verdict, inp)
        return match, event

    def _choose(self, ref: ChoiceRef, score: float, said: Input | None = None) -> Match:
        if ref.kind == "global":
            glob = self.flow.globals[ref.id]
            self._say(glob.say)
            if glob.goto:
                self._step_done(False)
                # a jump starts a new path: "назад" must not return past it, and «visited» forgets
                # the topic the caller left
                self.menu_stack.clear()
                self.trail.clear()
                self._fire("global", ref.id)
            elif glob.action == "repeat":
                state = self.flow.states[self.state]
                step = self._open_step()
                if step is not None and not state.say:
                    # nothing was asked in a caller's step: «повторите» gets the first hint
                    self._say(state.noinput[:1])
                    step.hints += 1
                else:
                    self._page(state)
            else:
                self._back()
            return chosen(ref, score)
        state = self.flow.states[self.state]
        option = next(o for o in state.options if o.id == ref.id)
        if state.store:
            label = self.flow.menu(self.state).labels[ref]
            self._assign({state.store: option.id}, {state.store: label})
        if option.set:
            self._assign(option.set)
        self._step_done(not option.skips_step)
        self._say(option.say)
        if said is not None and option.skips_step:
            self._passing_words = said.text  # maybe the step the call goes to
        carried = said is not None and interpret.carries(self.flow, option.goto, said.text, self.reference)
        self._quiet_entry = carried
        try:
            self._fire("option", option.id)
        finally:
            self._quiet_entry = False
        if said is not None and carried and self.state == option.goto:
            # «СНИЛС сто двенадцать…»: the choice and the value in one breath — not asked twice
            return self._collect(said.text, said, keyed=False)[0]
        return chosen(ref, score)

    def _open_step(self) -> StepTaken | None:
        """The caller's step the call waits in now, if it waits in one."""
        step = self.steps[-1] if self.steps else None
        return step if step is not None and step.state == self.state and step.taken is None else None

    def _step_done(self, taken: bool) -> None:
        """The caller leaves the step they are in: by taking it, or some other way."""
        step = self._open_step()
        if step is not None:
            step.taken = taken

    def _back(self) -> None:
        stack = self.menu_stack
        if stack and stack[-1] == self.state:
            stack.pop()
        if not stack:
            self._say(["Это начало меню."])
            self._page(self.flow.states[self.state])
            if self.flow.states[self.state].options:
                stack.append(self.state)
            return
        target = stack[-1]
        self._step_done(False)
        before = self.state
        self.trail.clear()  # going back leaves the path, like a jump
        self.line.machine.set_state(self, target)
        self.edges.append(Edge(before, str(ChoiceRef("global", "back")), target))
        self.entered()

    def _collect(self, text: str, inp: Input, *, keyed: bool) -> tuple[Match, Event | None]:
        collect = self.flow.states[self.state].collect
        assert collect is not None
        parsed = slot_type(collect.type).parse(
            text,
            keyed,
            Limits(collect.min_digits, collect.max_digits, self.reference, self.today(), collect.when),
        )
        previous = self.slots.get(collect.slot)
        self.slots[collect.slot] = SlotValue(
            collect.slot,
            collect.type,
            parsed.value,
            parsed.display,
            parsed.valid,
            parsed.error,
            (previous.attempts if previous else 0) + 1,
            inp.seconds or None,
            inp.phrases,
        )
        match = SlotFilled(collect.slot, collect.type, parsed.value, parsed.valid, parsed.display)
        if parsed.valid:
            if collect.type == "text" and self.flow.states[self.state].step and not keyed:
                self._early_words.append(text)
            self._step_done(True)
            self._fire("next")
            if parsed.rest and self.flow.states[self.state].step and not self.ended:
                # the caller went on to the next step in the same breath («…, мой СНИЛС …»)
                verdict = self._hear(parsed.rest)
                if not isinstance(verdict, interpret.Miss):
                    return match, self._act(verdict, Input("speech", parsed.rest))[1]
            return match, None
        # «алло» where a name is asked: the parser kept no word of it, the caller said something
        self.context["heard"] = parsed.display or normalize(text) or "ничего"
        self.context["error"] = parsed.error or ""
        return match, self._miss("invalid", text)

    def _miss(self, cause: Cause, heard: str, quiet: bool = False) -> Event:
        self.failures += 1
        self.reprompts.append(Reprompt(self.state, cause, heard))
        step = self._open_step()
        if cause in ("noinput", "nomatch") and step is not None:
            step.hints += 1  # the reprompt in a caller's step is a hint
        outcome = after_miss(
            self.flow, self.state, self.failures, cause, self.line.machine.escalation, heard, quiet
        )
        if isinstance(outcome, GiveUp):
            self._step_done(False)
            if outcome.announce:
                self._say(self.flow.meta.collect_failed)
            self._fire(outcome.via)
            return cause if outcome.via == "next" else "escalated"
        self._say([outcome.text])
        return cause

    # ------------------------------------------------------------- speaking
    def render(self, text: str) -> str:
        """A prompt with its placeholders filled for this call."""
        return self.prompts.render(text, self)

    def menu_hint(self) -> str:
        return self.prompts.menu_hint(self)

    def _say(self, texts: list[str], *, screen_only: bool = False) -> None:
        for text in texts:
            if "{reference}" in text:
                self.reference_given = True
            said = self.render(text)
            if said:
                self._said.append(said)
                if screen_only:
                    self.screen_only.add(said)
                if any(name in self.slots or name == "heard" for name in placeholders(text)):
                    self.personal_said.add(said)

    def _page(self, state: State) -> None:
        """A state's prompt: ``say`` spoken, then ``details`` shown (never spoken)."""
        self._say(state.say)
        self._say(state.details, screen_only=True)

    def _take_said(self) -> list[str]:
        said, self._said = self._said, []
        return said

    # ------------------------------------------------------------- for channels
    def decisive(self, text: str) -> str | None:
        """The one menu choice a partial recognition already names in whole words, if any: the
        voice channel may act on it before the caller's trailing silence ends."""
        matcher = self.flow.menu(self.state).matcher
        return matcher.decisive(text) if matcher is not None else None

    def value_complete(self, text: str) -> bool:
        """``text`` already holds a valid value for the slot this state collects: the voice channel
        answers after a short pause instead of waiting for more (a ФИО of one word waits longer)."""
        collect = self.flow.states[self.state].collect
        if collect is None:
            return False
        limits = Limits(collect.min_digits, collect.max_digits, self.reference)
        return slot_type(collect.type).parse(text, False, limits).valid

    def value_final(self, text: str) -> bool:
        """The slot's value is complete and no further digit could still belong to it (all 11
        digits of a СНИЛС heard): the voice channel may answer at the caller's first pause."""
        collect = self.flow.states[self.state].collect
        if collect is None or not self.value_complete(text):
            return False
        limits = Limits(collect.min_digits, collect.max_digits, self.reference)
        return not slot_type(collect.type).parse(f"{text} ноль", False, limits).valid

    def expecting(self) -> Expectation:
        state = self.flow.states[self.state]
        timeout = state.noinput_timeout or self.flow.meta.noinput_timeout
        if self.ended:
            return Expectation("none", (), timeout)
        globals_ = tuple(p for g in self.flow.enabled_globals(self.state).values() for p in g.phrases)
        if state.collect:
            kind = state.collect.type
            return Expectation(slot_type(kind).listening, globals_, timeout, kind)
        phrases = tuple(p for o in state.options for p in o.phrases)
        # in a caller's step an option leading to a number slot may carry its value («СНИЛС сто
        # двенадцать…»); other menus keep their small grammar, which recognizes them better
        carried = tuple(
            word
            for target in dict.fromkeys(o.goto for o in state.options)
            if state.step and (collect := self.flow.states[target].collect) and slot_type(collect.type).keypad
            for word in (slot_type(collect.type).grammar or list)()
        )
        return Expectation(
            "menu",
            phrases + tuple(dict.fromkeys(carried)) + globals_,
            timeout,
            keys=tuple(self.flow.menu(self.state).keys),
            step=state.step is not None,
        )
