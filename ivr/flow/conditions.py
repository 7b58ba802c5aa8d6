"""Conditions of ``next`` branches: a small language read once at load time, never ``eval``.

    open | closed [SCHEDULE]            по графику flow.hours или по блоку data.SCHEDULE
    has | missing | invalid SLOT        есть ли верное значение
    visited STATE                       звонок прошёл состояние
    SLOT == | != ЗНАЧЕНИЕ               answer == да, visit == home, complaint != нет
    SLOT < | <= | > | >= ЗНАЧЕНИЕ       числа (age >= 18) и даты (visit_date <= today+14)
    not …, … and …, … or …, ( … )

A condition is compiled against the kinds of the flow's slots, so ``answer == lf`` on a yes/no slot,
``fio < 3`` or a date that is no date are load errors at the branch's ``if:``, with what to write
instead. A comparison with a slot that has no valid value is false, ``!=`` included: a call never
branches on what the caller did not manage to say.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol

from ivr.flow import schema
from ivr.flow.hints import closest
from ivr.understanding.normalize import normalize

ORDERED_KINDS = ("number", "digits", "date")
CHOICE = "choice"  # a slot that stores which menu option was chosen (``store:``)
KEYWORDS = frozenset({"and", "or", "not", "open", "closed", "has", "missing", "invalid", "visited"})
OPERATORS = ("==", "!=", "<=", ">=", "<", ">")
_TOKEN = re.compile(r'\s*("[^"]*"|\'[^\']*\'|==|!=|<=|>=|<|>|\(|\)|[^\s()"\'<>=!]+|\S)')
_SLOT = re.compile(r"[a-z_][a-z0-9_]*")
_TODAY = re.compile(r"(today|сегодня)(?:\s*([+-])\s*(\d{1,5}))?")
_RU_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")
SYNTAX_HINT = ("допустимы open, closed [график], has/missing/invalid <слот>, visited <состояние>, "
               "<слот> == значение (!=, <, <=, >, >=), not, and, or и скобки")


class ConditionError(ValueError):
    """Why a condition cannot be read, in the flow author's words."""


class Value(Protocol):
    @property
    def value(self) -> str: ...

    @property
    def valid(self) -> bool: ...


class Facts(Protocol):
    """What a condition may ask of a call."""

    @property
    def slots(self) -> Mapping[str, Value]: ...

    @property
    def trail(self) -> set[str]: ...

    def is_open(self, schedule: str | None) -> bool: ...

    def today(self) -> date: ...


class Condition:
    def holds(self, facts: Facts) -> bool:
        raise NotImplementedError

    def children(self) -> tuple[Condition, ...]:
        return ()

    def walk(self) -> Iterator[Condition]:
        yield self
        for child in self.children():
            yield from child.walk()

    def slots(self) -> set[str]:
        """The slots this condition looks at."""
        return {n.slot for n in self.walk() if isinstance(n, (SlotIs, Compare))}

    def schedules(self) -> set[str]:
        """The named schedules (data blocks) it asks about."""
        return {n.schedule for n in self.walk() if isinstance(n, Open) and n.schedule is not None}


@dataclass(frozen=True)
class Open(Condition):
    schedule: str | None  # None: the flow's own hours
    want: bool

    def holds(self, facts: Facts) -> bool:
        return facts.is_open(self.schedule) == self.want


@dataclass(frozen=True)
class SlotIs(Condition):
    word: str  # has / missing / invalid
    slot: str

    def holds(self, facts: Facts) -> bool:
        value = facts.slots.get(self.slot)
        if self.word == "has":
            return value is not None and value.valid
        if self.word == "missing":
            return value is None
        return value is not None and not value.valid


@dataclass(frozen=True)
class Visited(Condition):
    state: str

    def holds(self, facts: Facts) -> bool:
        return self.state in facts.trail


@dataclass(frozen=True)
class Compare(Condition):
    slot: str
    op: str
    literal: object  # str (text, choice, yes/no), int (number), date or («today», offset) for dates
    read: Callable[[str], object]  # a valid slot value as the literal's kind

    def holds(self, facts: Facts) -> bool:
        value = facts.slots.get(self.slot)
        if value is None or not value.valid:
            return False
        try:
            left = self.read(value.value)
        except ValueError:
            return False
        right = self.literal
        if isinstance(right, tuple):  # today ± days
            right = facts.today() + timedelta(days=right[1])
        return _COMPARE[self.op](left, right)


@dataclass(frozen=True)
class Not(Condition):
    inner: Condition

    def holds(self, facts: Facts) -> bool:
        return not self.inner.holds(facts)

    def children(self) -> tuple[Condition, ...]:
        return (self.inner,)


@dataclass(frozen=True)
class Both(Condition):
    parts: tuple[Condition, ...]
    every: bool  # and / or

    def holds(self, facts: Facts) -> bool:
        if self.every:
            return all(p.holds(facts) for p in self.parts)
        return any(p.holds(facts) for p in self.parts)

    def children(self) -> tuple[Condition, ...]:
        return self.parts


_COMPARE: dict[str, Callable[[object, object], bool]] = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,  # type: ignore[operator]
    "<=": lambda a, b: a <= b,  # type: ignore[operator]
    ">": lambda a, b: a > b,  # type: ignore[operator]
    ">=": lambda a, b: a >= b,  # type: ignore[operator]
}


@dataclass(frozen=True)
class Known:
    """What a condition may name in one flow: slots with their kinds, the values a choice slot can
    hold, states and schedules. ``None`` for a part means «do not check it» (only reading)."""

    kinds: Mapping[str, str] | None = None
    choices: Mapping[str, frozenset[str]] | None = None
    states: frozenset[str] | None = None
    schedules: frozenset[str] | None = None
    has_hours: bool = True


def parse(text: str, known: Known = Known()) -> Condition:
    """The compiled condition, or ConditionError saying what is wrong and what to write."""
    tokens = _TOKEN.findall(text)
    if not tokens:
        raise ConditionError(f"пустое условие — {SYNTAX_HINT}")
    parser = _Parser(tokens, known)
    found = parser.either()
    if parser.i < len(tokens):
        raise ConditionError(f"непонятно «{tokens[parser.i]}» в условии «{text}» — {SYNTAX_HINT}")
    return found


def condition_slots(text: str) -> set[str]:
    """The slots a condition tests (none when it cannot be read: that is reported elsewhere)."""
    try:
        return parse(text).slots()
    except ConditionError:
        return set()


class _Parser:
    def __init__(self, tokens: list[str], known: Known):
        self.tokens = tokens
        self.i = 0
        self.known = known

    def peek(self) -> str | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> str:
        token = self.peek()
        if token is None:
            raise ConditionError(f"условие оборвалось — {SYNTAX_HINT}")
        self.i += 1
        return token

    def either(self) -> Condition:
        parts = [self.every()]
        while self.peek() == "or":
            self.i += 1
            parts.append(self.every())
        return parts[0] if len(parts) == 1 else Both(tuple(parts), every=False)

    def every(self) -> Condition:
        parts = [self.unary()]
        while self.peek() == "and":
            self.i += 1
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else Both(tuple(parts), every=True)

    def unary(self) -> Condition:
        token = self.take()
        if token == "not":
            return Not(self.unary())
        if token == "(":
            inner = self.either()
            if self.peek() != ")":
                raise ConditionError("не закрыта скобка «(» — допишите «)»")
            self.i += 1
            return inner
        following = self.peek()
        if following in OPERATORS:
            return self.compare(token)
        if token in ("open", "closed"):
            return self.schedule(token)
        if token in ("has", "missing", "invalid"):
            return SlotIs(token, self.slot(self.take()))
        if token == "visited":
            state = self.take()
            if self.known.states is not None and state not in self.known.states:
                raise ConditionError(f"нет состояния «{state}» — {_hint(state, self.known.states)}")
            return Visited(state)
        raise ConditionError(f"непонятно «{token}» — {SYNTAX_HINT}")

    def schedule(self, word: str) -> Condition:
        name = self.peek()
        if name is None or name in KEYWORDS or name == ")":
            if not self.known.has_hours:
                raise ConditionError(f"«{word}» требует графика — добавьте flow.hours: <имя блока data с "
                                     "часами работы> или назовите блок: " + f"{word} <имя блока>")
            return Open(None, word == "open")
        self.i += 1
        schedules = self.known.schedules
        if schedules is not None and name not in schedules:
            raise ConditionError(f"в data: нет графика «{name}» — добавьте data.{name} с днями "
                                 "(mon: \"08:00-12:00\" …) или исправьте имя")
        return Open(name, word == "open")

    def slot(self, name: str) -> str:
        kinds = self.known.kinds
        if not _SLOT.fullmatch(name):
            raise ConditionError(f"«{name}» — не имя слота: латинские строчные буквы, цифры и «_»")
        if kinds is not None and name not in kinds:
            raise ConditionError(f"нет слота «{name}» — его должен собирать какой-то collect, задавать "
                                 f"set: или store: ({_hint(name, kinds)})")
        return name

    def compare(self, name: str) -> Condition:
        slot = self.slot(name)
        op = self.take()
        words = []
        while (token := self.peek()) is not None and token not in ("and", "or", ")"):
            words.append(token)
            self.i += 1
        if not words:
            raise ConditionError(f"после «{slot} {op}» нужно значение, например {slot} {op} да")
        raw = " ".join(words)
        if raw[:1] in "\"'" and raw[-1:] == raw[:1] and len(raw) >= 2:
            raw = raw[1:-1]
        kind = self.known.kinds.get(slot, "text") if self.known.kinds is not None else "text"
        if op not in ("==", "!=") and kind not in ORDERED_KINDS:
            raise ConditionError(f"«{op}» сравнивает только числа и даты, а слот {slot} — {kind}; "
                                 "используйте == или !=")
        literal, read = literal_of(kind, raw, slot)
        if kind == CHOICE and self.known.choices is not None:
            allowed = self.known.choices.get(slot, frozenset())
            if literal not in allowed:
                raise ConditionError(f"в {slot} записывается выбранный пункт меню, а пункта «{raw}» там "
                                     f"нет — {_hint(str(literal), allowed, listing=True)}")
        return Compare(slot, op, literal, read)


def _hint(word: str, known: Iterable[str], listing: bool = False) -> str:
    """«возможно, «home»», else (``listing``) the names there are, else a plain request."""
    names = sorted(known)
    guess = closest(word, names)
    if guess:
        return f"возможно, «{guess}»"
    if listing and names:
        return "допустимы: " + ", ".join(names[:10])
    return "исправьте имя"


def _int(text: str) -> int:
    return int(text)


def _date(text: str) -> date:
    return date.fromisoformat(text)


def literal_of(kind: str, raw: str, slot: str) -> tuple[object, Callable[[str], object]]:
    """A written value as what a slot of ``kind`` holds, and how to read the slot's value to
    compare them. Used for conditions and for ``set:``."""
    if kind == "number" or kind == "digits":
        if not re.fullmatch(r"-?\d{1,18}", raw):
            raise ConditionError(f"слот {slot} — число, а «{raw}» не число; напишите цифрами, например 18")
        return int(raw), _int
    if kind == "date":
        if today := _TODAY.fullmatch(raw):
            sign, days = today.group(2), int(today.group(3) or 0)
            return ("today", -days if sign == "-" else days), _date
        try:
            if ru := _RU_DATE.fullmatch(raw):
                return date(int(ru.group(3)), int(ru.group(2)), int(ru.group(1))), _date
            return date.fromisoformat(raw), _date
        except ValueError:
            raise ConditionError(f"слот {slot} — дата, а «{raw}» не дата; напишите 2026-12-31, "
                                 "31.12.2026, today или today-30 (дни от даты звонка)") from None
    if kind == "yesno":
        word = normalize(raw)
        if word not in ("да", "нет"):
            raise ConditionError(f"слот {slot} — да/нет, а «{raw}» ни то ни другое; сравнивайте с да или нет")
        return word, str
    if kind == CHOICE:
        return raw, str
    return normalize(raw), normalize


def known_of(spec: schema.FlowFile, declared: set[str] | None = None) -> Known:
    """What conditions of this flow may name. A slot's kind comes from its collect; a slot only
    given by ``store:`` holds option ids (``choice``), one only given by ``set:`` is text."""
    kinds: dict[str, str] = {}
    choices: dict[str, set[str]] = {}
    for state in spec.states.values():
        if state.collect:
            kinds.setdefault(state.collect.slot, state.collect.type)
    for state in spec.states.values():
        if state.store:
            kinds.setdefault(state.store, CHOICE)
            choices.setdefault(state.store, set()).update(o.id for o in state.options)
    for slot, value in assignments(spec):
        kinds.setdefault(slot, "text")
        if kinds[slot] == CHOICE:
            choices.setdefault(slot, set()).add(value)
    return Known(
        kinds=kinds,
        choices={k: frozenset(v) for k, v in choices.items()},
        states=frozenset(declared if declared is not None else spec.states),
        schedules=frozenset(k for k, v in spec.data.items() if isinstance(v, dict)),
        has_hours=spec.flow.hours is not None,
    )


def assignments(spec: schema.FlowFile) -> Iterator[tuple[str, str]]:
    """Every ``set:`` of the flow, of states and of options, as (slot, value)."""
    for state in spec.states.values():
        yield from state.set.items()
        for option in state.options:
            yield from option.set.items()
