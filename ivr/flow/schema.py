"""The shape of a flow file, as pydantic models.

The models only describe the structure (types, required and unknown fields); references between
states, templates and menus are checked afterwards in ``ivr.flow.checks`` because they need the
whole flow. See docs/flow-format.md for the user-facing description of every field.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from ivr.slots import SlotTypeName


def _as_list(value: object) -> object:
    """Let authors write a single item where a list is expected (``keys: "1"``, ``say: "…"``)."""
    if value is None:
        return []
    if isinstance(value, (str, int, float)) or isinstance(value, dict):
        return [value]
    return value


def _key_text(value: object) -> object:
    """``keys: 1`` is a number to YAML but a keypad key to us (``str`` keeps it as written: 01)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return [str(v) if isinstance(v, int) and not isinstance(v, bool) else v for v in value]
    return value


def _globals_switch(value: object) -> object:
    """``globals: false`` turns global commands off in a state; a list keeps only the named ones."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        value = [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ValueError("здесь нужно true, false или список имён глобальных команд")


def _not_bool(value: object) -> object:
    """``retries: true`` must not quietly become 1 (pydantic reads a bool as a number)."""
    if isinstance(value, bool):
        raise PydanticCustomError("number_not_bool", "a number, not true/false")
    return value


# ``json_schema_input_type``: the JSON Schema (``ivr schema``) describes what may be written, as the
# validators accept it (``say: "…"`` or a list), not only the shape after them.
NotBool = BeforeValidator(_not_bool)
TextList = Annotated[list[str], BeforeValidator(_as_list, json_schema_input_type=str | list[str] | None)]
_Keys = str | int | list[str | int] | None
KeyList = Annotated[
    list[str],
    BeforeValidator(_key_text, json_schema_input_type=_Keys),
    BeforeValidator(_as_list, json_schema_input_type=_Keys),
]



def _set_values(value: object) -> object:
    """``set: {answer: да, count: 3}``: every value is kept as text (YAML's ``yes`` reads as «да»)."""
    if not isinstance(value, dict):
        return value
    return {k: ("да" if v else "нет") if isinstance(v, bool) else str(v) if isinstance(v, (int, float)) else v
            for k, v in value.items()}


# ``set:`` of slots: on entering a state, or on choosing an option
SetSlots = Annotated[
    dict[str, str],
    BeforeValidator(_set_values, json_schema_input_type=dict[str, str | int | float | bool]),
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Option(Strict):
    id: str
    keys: KeyList = Field(default_factory=list)
    phrases: TextList = Field(default_factory=list)
    # Whole sentences a caller might say for this option: evidence for matching by meaning only.
    # Kept apart from ``phrases`` because a phrase decides by its words (all of them said → chosen)
    # and a long example would either never match that way or match on a chance word.
    examples: TextList = Field(default_factory=list)
    goto: str
    say: TextList = Field(default_factory=list)
    label: str | None = None
    # in a caller's step (State.step): choosing this option leaves the step undone («спасибо, всё»)
    skips_step: bool = False
    # in a caller's step: the caller may have taken it before the call got here («…, и какие
    # документы нужны?» while stating the question); then the step counts as taken unprompted
    early: bool = False
    # false: chosen by its phrases and keys only, never by meaning — a leave-taking in a menu of
    # topics («до свидания») must not draw every sentence that ends with «спасибо» out of the call
    meaning: bool = True
    set: SetSlots = Field(default_factory=dict)


def _slot_names(value: object) -> object:
    """``slot: snils`` or ``slot: [snils, inn]`` (ready when any of them is valid: "СНИЛС или ИНН")."""
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else value


class ChecklistItem(Strict):
    item: str
    slot: Annotated[
        tuple[str, ...], BeforeValidator(_slot_names, json_schema_input_type=str | list[str] | None)
    ] = ()


def _checklist_item(value: object) -> object:
    return {"item": value} if isinstance(value, str) else value


Checklist = Annotated[
    list[Annotated[ChecklistItem, BeforeValidator(_checklist_item, json_schema_input_type=str | ChecklistItem)]],
    BeforeValidator(_as_list, json_schema_input_type=str | ChecklistItem | list[str | ChecklistItem] | None),
]


class Branch(Strict):
    goto: str
    if_: str | None = Field(default=None, alias="if")


def _branches(value: object) -> object:
    if isinstance(value, str):
        return [{"goto": value}]
    return value


Next = Annotated[list[Branch], BeforeValidator(_branches, json_schema_input_type=str | list[Branch])]


class Collect(Strict):
    slot: str
    type: SlotTypeName = "text"
    min_digits: Annotated[int | None, NotBool] = Field(default=None, ge=1)
    max_digits: Annotated[int | None, NotBool] = Field(default=None, ge=1)
    invalid: TextList = Field(default_factory=list)
    on_fail: str | None = None
    measure: bool = False
    when: Literal["past", "future"] | None = None  # type: date — only dates on this side of today


class State(Strict):
    say: TextList = Field(default_factory=list)
    details: TextList = Field(default_factory=list)  # shown on screen and kept in the transcript, never spoken
    options: list[Option] = Field(default_factory=list)
    store: str | None = None  # the slot that keeps which option was chosen (its id)
    set: SetSlots = Field(default_factory=dict)  # slots given a value on entering the state
    collect: Collect | None = None
    next: Next = Field(default_factory=list)
    noinput: TextList = Field(default_factory=list)
    nomatch: TextList = Field(default_factory=list)
    retries: Annotated[int | None, NotBool] = Field(default=None, ge=1, le=10)
    escalate: str | None = None
    checklist: Checklist = Field(default_factory=list)
    topic: str | None = None
    # What callers say when they need this state, as whole sentences: evidence by meaning for every
    # option and global command that leads here (a section's shortcut and its page share them).
    examples: TextList = Field(default_factory=list)
    term: str | None = None
    # the caller's move: the state waits without asking, hints come only as noinput/nomatch, and
    # the report says whether the caller took this step unprompted, after a hint, or not at all
    step: str | None = None
    globals: Annotated[
        bool | tuple[str, ...], BeforeValidator(_globals_switch, json_schema_input_type=bool | str | list[str])
    ] = True
    end: bool = False
    noinput_timeout: Annotated[float | None, NotBool] = Field(default=None, gt=0, le=120)
    use: TextList = Field(default_factory=list)  # parts: whose fields fill in the unwritten ones


class Global(Strict):
    keys: KeyList = Field(default_factory=list)
    phrases: TextList = Field(default_factory=list)
    examples: TextList = Field(default_factory=list)  # as Option.examples
    goto: str | None = None
    action: Literal["repeat", "back"] | None = None
    say: TextList = Field(default_factory=list)
    meaning: bool = True  # as Option.meaning: false — chosen by its phrases and keys only


class FlowMeta(Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    title: str
    start: str
    notice: str | None = None
    timezone: str = "Europe/Moscow"
    retries: Annotated[int, NotBool] = Field(default=3, ge=1, le=10)
    escalate: str | None = None
    noinput_timeout: Annotated[float, NotBool] = Field(default=7.0, gt=0, le=120)
    hours: str | None = None
    unsolved: TextList = Field(default_factory=list)
    ambiguous: TextList = Field(
        default_factory=lambda: ["Уточните, пожалуйста: {candidates}?"]
    )
    confirm: TextList = Field(
        default_factory=lambda: ["Правильно понимаю: {candidates}?"]
    )
    declined: TextList = Field(
        default_factory=lambda: ["Хорошо. Скажите, пожалуйста, другими словами, что случилось."]
    )
    nomatch: TextList = Field(
        default_factory=lambda: ["Извините, я не понял. {menu_hint}"]
    )
    noinput: TextList = Field(
        default_factory=lambda: ["Я вас не слышу. {menu_hint}"]
    )
    # said to surely-line talk («алло», «вы меня слышите»): not a miss, no try spent
    line_talk: TextList = Field(
        default_factory=lambda: ["Слушаю вас — говорите, когда будете готовы.", "Слушаю вас. {menu_hint}"]
    )
    # said to thanks and nothing else («спасибо, всё понятно»): not a miss, no try spent
    thanks: TextList = Field(
        default_factory=lambda: [
            "Пожалуйста! Если есть ещё вопрос — скажите его.",
            "Пожалуйста. {menu_hint}",
        ]
    )
    # said when a collect's tries ran out and it goes on (on_fail: next) or escalates by default
    collect_failed: TextList = Field(
        default_factory=lambda: ["Не получилось записать ответ."]
    )


DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # a schedule's day keys, Monday first


def _spans(value: object) -> object:
    """``mon: "08:00-12:00, 13:00-20:00"`` or a list of spans: several intervals in one day."""
    if isinstance(value, str):
        return [part.strip(" ") for part in value.split(",")]
    return value


Spans = Annotated[list[str] | None, BeforeValidator(_spans, json_schema_input_type=str | list[str] | None)]


class Schedule(Strict):
    """A weekly schedule data block: ``mon: "08:00-20:00"``; a missing day means closed; a day may
    have several intervals (``"08:00-12:00, 13:00-20:00"``); ``holidays`` are closed all day."""

    source: str | None = None
    timezone: str | None = None
    mon: Spans = None
    tue: Spans = None
    wed: Spans = None
    thu: Spans = None
    fri: Spans = None
    sat: Spans = None
    sun: Spans = None
    holidays: list[date] = Field(default_factory=list)


def _unchanged(value: object) -> object:
    return value


# A part is checked where a state uses it (its errors then point into the part); the JSON Schema still
# offers a state's fields inside it, for the editor.
Parts = Annotated[dict[str, dict[str, object]], BeforeValidator(_unchanged, json_schema_input_type=dict[str, State])]


class FlowFile(Strict):
    flow: FlowMeta
    # files with more states:, globals:, data:, parts: (ivr.flow.include folds them in before this)
    include: TextList = Field(default_factory=list)
    data: dict[str, object] = Field(default_factory=dict)
    # named sets of state fields a state takes with use: (checked where they are used)
    parts: Parts = Field(default_factory=dict)
    globals: dict[str, Global] = Field(default_factory=dict)
    states: dict[str, State]
