"""The typed records a call passes between layers: what came in, what it meant, what happened.

Channels build ``Input``s; the call answers each with a ``Turn`` whose ``match`` is one of the
``Match`` variants; the transcript, the report, convo checks and ``ivr run --json`` read these
types instead of dicts keyed by ``"kind"``. ``to_json`` gives the on-disk and ``--json`` shape,
which stays what it was before the records were typed (``{"kind": "option", "id": …}``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

from ivr.flow.model import ChoiceRef

InputKind = Literal["speech", "dtmf", "silence"]
# What a turn ended in when it did not simply move on: a reprompt's cause, an escalation after
# too many misses, or input after the call was over.
Event = Literal[
    "noinput", "nomatch", "ambiguous", "confirm", "invalid", "escalated", "ended", "line_talk", "thanks"
]


@dataclass(frozen=True)
class Input:
    kind: InputKind
    text: str = ""
    seconds: float = 0.0  # silence length, or how long the caller spoke
    phrases: int | None = None  # separate phrases the recognizer heard, when known
    quiet: bool = False  # speech without words, too faint to make out: the reprompt asks for louder


@dataclass(frozen=True)
class OptionChosen:
    id: str
    score: float

    def to_json(self) -> dict[str, object]:
        return {"kind": "option", "id": self.id, "score": round(self.score, 1)}


@dataclass(frozen=True)
class GlobalChosen:
    id: str
    score: float

    def to_json(self) -> dict[str, object]:
        return {"kind": "global", "id": self.id, "score": round(self.score, 1)}


@dataclass(frozen=True)
class Ambiguous:
    candidates: tuple[ChoiceRef, ...]

    def to_json(self) -> dict[str, object]:
        return {"kind": "ambiguous", "candidates": [str(c) for c in self.candidates]}


@dataclass(frozen=True)
class Confirming:
    """Mid confidence: the call asks «Правильно понимаю: …?» before it moves."""

    candidate: ChoiceRef
    score: float

    def to_json(self) -> dict[str, object]:
        return {"kind": "confirm", "candidates": [str(self.candidate)], "score": round(self.score, 1)}


@dataclass(frozen=True)
class SlotFilled:
    slot: str
    type: str
    value: str
    valid: bool
    display: str = ""  # how the call reads it back (not in the JSON: the value says it)

    def to_json(self) -> dict[str, object]:
        return {"kind": self.type, "slot": self.slot, "value": self.value, "valid": self.valid}


Match = OptionChosen | GlobalChosen | Ambiguous | Confirming | SlotFilled


def chosen(ref: ChoiceRef, score: float) -> OptionChosen | GlobalChosen:
    return OptionChosen(ref.id, score) if ref.kind == "option" else GlobalChosen(ref.id, score)


@dataclass(frozen=True)
class Turn:
    n: int
    at: str  # ISO time of the answer
    kind: InputKind
    input: str
    match: Match | None
    state_before: str
    state: str
    said: list[str]
    event: Event | None = None
    # how long the caller spoke and in how many phrases, when the channel measured it (voice);
    # None for typed and keyed input. Not in the JSON: the transcript keeps its shape.
    seconds: float | None = None
    phrases: int | None = None

    @property
    def choice_id(self) -> str | None:
        """The option, command or slot the turn matched (convo ``expect: match:``)."""
        match = self.match
        if isinstance(match, (OptionChosen, GlobalChosen)):
            return match.id
        if isinstance(match, SlotFilled):
            return match.slot
        return None

    def to_json(self) -> dict[str, object]:
        return {
            "n": self.n,
            "at": self.at,
            "kind": self.kind,
            "input": self.input,
            "match": self.match.to_json() if self.match is not None else None,
            "state_before": self.state_before,
            "state": self.state,
            "said": list(self.said),
            "event": self.event,
        }


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


@dataclass(frozen=True)
class ChecklistEntry:
    item: str
    slots: tuple[str, ...]  # any one valid makes the item ready
    state: str


StepOutcome = Literal["unprompted", "hinted", "missed"]


@dataclass
class StepTaken:
    """One caller's step (a state with ``step:``) as this call went through it: how many hints the
    caller needed (silence or an answer that was not the step) and whether the step was taken.
    ``taken`` stays None while the call waits in the step, and is False when the caller left it
    some other way (the hints ran out, a global command, «спасибо, всё»)."""

    state: str
    step: str
    hints: int = 0
    taken: bool | None = None

    @property
    def outcome(self) -> StepOutcome:
        if not self.taken:
            return "missed"
        return "hinted" if self.hints else "unprompted"

    def to_json(self) -> dict[str, object]:
        return {"state": self.state, "step": self.step, "hints": self.hints, "outcome": self.outcome}


@dataclass(frozen=True)
class Reprompt:
    state: str
    cause: Literal["nomatch", "noinput", "ambiguous", "confirm", "invalid"]
    input: str


@dataclass(frozen=True)
class Expectation:
    """What the current state waits for; the voice channel builds its recognizer grammar from it."""

    mode: Literal["menu", "digits", "free", "none"]
    phrases: tuple[str, ...] = ()
    noinput_timeout: float = 7.0
    slot_type: str | None = None
    keys: tuple[str, ...] = ()  # keypad keys of a menu (callers also say them: «один»)
    # the caller's step (State.step): they lead and speak in sentences, so the menu waits for the
    # end of the answer instead of committing on the first decisive words
    step: bool = False


@dataclass(frozen=True)
class CallStarted:
    call: str  # the call's id
    flow: str
    source: str
    started: str
    state: str
    said: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CallEnded:
    state: str
    ended: bool  # reached an end state (False: the caller hung up)
    topic: str | None
    turns: int


class CallObserver(Protocol):
    """Something that follows a call as it happens (the transcript): it sees records only, never
    the call itself, so nothing it does can change the conversation."""

    def started(self, record: CallStarted) -> None: ...

    def turn(self, record: Turn) -> None: ...

    def ended(self, record: CallEnded) -> None: ...
