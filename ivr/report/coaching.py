"""How the caller spoke: the coaching part of the report («Как вы говорили»).

The document's advice for a support call is about the caller: lead the conversation (its steps —
introduce yourself with an ID, state the question, ask about documents, note the operator's
details and the request number — are the flow's ``step:`` states), state the problem in one or
two phrases, speak without fillers, dictate identifiers in groups. This module reads a finished
call's turns and says, for each of these, what the caller did and one concrete tip where it went
wrong («хорошо: …» where it did not).

Nothing here keeps what the caller said: only counts and kinds (how many words, which filler and
how often, which identifier and how it was dictated), so the section needs no masking. Time is
reported only when the channel measured how long the caller spoke (voice, ``Turn.seconds``);
typed input says nothing about time.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

from ivr.engine.call import Call
from ivr.engine.records import SlotFilled, StepTaken, Turn
from ivr.understanding.normalize import tokens
from ivr.understanding.numbers import is_number_word, number_groups
from ivr.understanding.plural import counted

MAX_PHRASES = 2  # the document: "сформулировать вопрос в одной-двух фразах"
LONG_WORDS = 60  # about 30 s of speech: an operator stops listening
LONG_SECONDS = 30.0
SHORT_WORDS = 5  # «не работает» tells the operator nothing
SHOWN_FILLERS = 4  # the most frequent; the rest are only counted
FEW_FILLERS = 2  # one or two are natural speech; three or more are a habit worth breaking
_SENTENCE_END = re.compile(r"[.!?…]+")

# Filler words and phrases, as token sequences; hesitation sounds are matched by pattern.
FILLERS: tuple[tuple[str, ...], ...] = (
    ("это", "самое"), ("как", "бы"), ("в", "общем"), ("так", "сказать"), ("ну",), ("короче",),
    ("типа",), ("значит",),
)
_HESITATION = re.compile(r"^(э+|э+м+|мм+|аа+)$")  # «э», «эээ», «эм», «ммм», a drawn-out «ааа» (not «а»)
HESITATION = "э-э"

IDENTIFIERS = {"snils": "СНИЛС", "inn": "ИНН", "passport": "паспорт", "oms": "полис ОМС", "phone": "телефон",
               "reference": "номер обращения"}
DictationStyle = Literal["groups", "run", "digits"]
STYLE_WORDS = {"groups": "группами", "run": "одной длинной цепочкой", "digits": "по одной цифре"}
Aspect = Literal["step", "statement", "fillers", "dictation"]


@dataclass(frozen=True)
class Statement:
    """The problem statement: the answer at a ``text`` slot, else the longest free speech."""

    words: int
    phrases: int
    seconds: float | None  # only when the channel measured it
    asked: bool  # the flow asked for it (a text slot): then a very short answer is a weakness


@dataclass(frozen=True)
class Filler:
    word: str
    count: int


@dataclass(frozen=True)
class Dictation:
    kind: str  # the slot type: snils, inn, passport, phone, reference
    style: DictationStyle


@dataclass(frozen=True)
class Point:
    """One line of the section: what the caller did, and a tip if it was a weakness."""

    aspect: Aspect
    fact: str
    tip: str | None


@dataclass(frozen=True)
class Coaching:
    statement: Statement | None
    fillers: tuple[Filler, ...]
    dictations: tuple[Dictation, ...]
    points: tuple[Point, ...]
    steps: tuple[StepTaken, ...] = ()

    def to_json(self) -> dict[str, object]:
        statement = self.statement
        return {
            "steps": [s.to_json() for s in self.steps],
            "statement": None if statement is None else statement.__dict__,
            "fillers": {f.word: f.count for f in self.fillers},
            "dictations": [d.__dict__ for d in self.dictations],
            "points": [p.__dict__ for p in self.points],
        }


def count_phrases(text: str) -> int:
    """Sentences in typed text; recognized speech has no punctuation and counts as one phrase
    unless the recognizer reported several."""
    return max(1, len([p for p in _SENTENCE_END.split(text) if p.strip()]))


def _words(text: str) -> int:
    return len(tokens(text))


def statement(call: Call) -> Statement | None:
    """The first answer at a measured slot, else at any ``text`` slot, else the longest speech
    turn that is not an identifier or a name."""
    text_turns = []
    for turn in call.turns:
        match = turn.match
        if isinstance(match, SlotFilled) and match.type == "text" and turn.kind == "speech" and match.valid:
            collect = call.flow.collects.get(match.slot)
            text_turns.append((0 if collect is not None and collect.measure else 1, turn.n, turn))
    if text_turns:
        return _statement(min(text_turns)[2], asked=True)
    free = [t for t in call.turns if t.kind == "speech" and t.input.strip()
            and not (isinstance(t.match, SlotFilled) and t.match.type != "text")]
    if not free:
        return None
    return _statement(max(free, key=lambda t: (_words(t.input), -t.n)), asked=False)


def _statement(turn: Turn, *, asked: bool) -> Statement:
    phrases = turn.phrases if turn.phrases is not None else count_phrases(turn.input)
    seconds = round(turn.seconds, 1) if turn.seconds else None
    return Statement(_words(turn.input), phrases, seconds, asked)


def fillers(turns: Sequence[Turn]) -> tuple[Filler, ...]:
    """Filler words in everything the caller said, most frequent first."""
    found: Counter[str] = Counter()
    for turn in turns:
        if turn.kind != "speech":
            continue
        words = tokens(turn.input)
        i = 0
        while i < len(words):
            if _HESITATION.match(words[i]):
                found[HESITATION] += 1
                i += 1
                continue
            phrase = next((f for f in FILLERS if tuple(words[i : i + len(f)]) == f), None)
            if phrase is not None:
                found[" ".join(phrase)] += 1
                i += len(phrase)
            else:
                i += 1
    return tuple(Filler(word, n) for word, n in sorted(found.items(), key=lambda item: (-item[1], item[0])))


def chunk_lengths(text: str) -> list[int]:
    """How many digits each dictated chunk had: «сто двенадцать двести тридцать три» → [3, 3],
    «один один два» → [1, 1, 1], «11223344595» → [11]. Other words only separate runs."""
    lengths: list[int] = []
    run: list[str] = []

    def flush() -> None:
        groups = number_groups(run) or []
        lengths.extend(len(str(n)) for n in groups)
        run.clear()

    for token in tokens(text):
        if token.isascii() and token.isdigit():
            flush()
            lengths.append(len(token))
        elif is_number_word(token):
            run.append(token)
        else:
            flush()
    flush()
    return lengths


def dictation_style(text: str) -> DictationStyle | None:
    """How an identifier was dictated; None when there were too few digits to tell."""
    lengths = chunk_lengths(text)
    if sum(lengths) < 4:
        return None
    if max(lengths) >= 5:
        return "run"
    singles = sum(1 for n in lengths if n == 1)
    if singles >= 4 and singles * 2 > len(lengths):
        return "digits"
    return "groups"


def dictations(turns: Sequence[Turn]) -> tuple[Dictation, ...]:
    """Each identifier the caller dictated (keyed ones are not dictation), once per kind and style."""
    seen: dict[tuple[str, str], Dictation] = {}
    for turn in turns:
        match = turn.match
        if turn.kind != "speech" or not isinstance(match, SlotFilled) or match.type not in IDENTIFIERS:
            continue
        style = dictation_style(turn.input)
        if style is not None:
            seen.setdefault((match.type, style), Dictation(match.type, style))
    return tuple(seen.values())


def _statement_point(s: Statement) -> Point:
    size = f"{counted(s.words, 'слово')}, {counted(s.phrases, 'фраза')}"
    if s.seconds is not None:
        size = f"{s.seconds:g} с, {size}"
    if s.words > LONG_WORDS or (s.seconds is not None and s.seconds > LONG_SECONDS):
        return Point("statement", f"Проблему вы излагали долго: {size}.",
                     "Сформулируйте её в одной-двух фразах: что делали, что случилось, какая ошибка.")
    if s.phrases > MAX_PHRASES:
        return Point("statement", f"Проблема: {size} — больше двух фраз.",
                     "Сократите до одной-двух фраз: главное — что не работает и на каком шаге.")
    if s.asked and s.words < SHORT_WORDS:
        return Point("statement", f"Проблема описана слишком коротко: {size}.",
                     "Добавьте, что вы делали и что увидели: текст ошибки, на каком шаге.")
    return Point("statement", f"Хорошо: проблема изложена коротко и по делу ({size}).", None)


def _fillers_point(found: Sequence[Filler], total: int) -> Point:
    if not found:
        return Point("fillers", "Хорошо: без слов-паразитов.", None)
    listed = ", ".join(f"«{f.word}» — {f.count}" for f in found[:SHOWN_FILLERS])
    if len(found) > SHOWN_FILLERS:
        listed += f" и ещё {total - sum(f.count for f in found[:SHOWN_FILLERS])}"
    if total <= FEW_FILLERS:
        return Point("fillers", f"Хорошо: почти без слов-паразитов ({listed}).", None)
    return Point("fillers", f"Слова-паразиты: {listed}.",
                 "Вместо «ну», «э-э», «короче» сделайте короткую паузу — и скажите фразу целиком.")


_DICTATION_TIPS = {
    "run": "Диктуйте группами по 3 цифры с паузами: «сто двадцать три — четыреста пятьдесят шесть — …», "
           "а не одним длинным числом.",
    "digits": "Диктуйте группами по 3 цифры: «сто двадцать три, четыреста пятьдесят шесть…» — быстрее, "
              "чем по одной цифре, и оператору легче записать.",
}


def _dictation_points(found: Sequence[Dictation]) -> list[Point]:
    points = []
    for style in ("run", "digits", "groups"):
        names = list(dict.fromkeys(IDENTIFIERS[d.kind] for d in found if d.style == style))
        if not names:
            continue
        # every identifier's name is masculine: «СНИЛС продиктован», «СНИЛС и телефон продиктованы»
        done = f"{' и '.join(names)} {'продиктованы' if len(names) > 1 else 'продиктован'} {STYLE_WORDS[style]}"
        if style == "groups":
            points.append(Point("dictation", f"Хорошо: {done}.", None))
        else:
            points.append(Point("dictation", f"{done[0].upper()}{done[1:]}.", _DICTATION_TIPS[style]))
    return points


def steps(call: Call) -> tuple[StepTaken, ...]:
    """Each caller's step once, as it last ended (a step entered again after «назад» counts as
    the caller took it the second time), in the order the call first reached it."""
    last: dict[str, StepTaken] = {}
    for taken in call.steps:
        last[taken.step] = taken
    return tuple(last[step] for step in dict.fromkeys(t.step for t in call.steps))


def _step_point(taken: StepTaken, too_short: bool = False) -> Point:
    if taken.outcome == "unprompted" and too_short:
        # «диктуйте» said in the question step took the step, but it states no problem: praising
        # it would contradict the statement point right below
        return Point("step", f"«{taken.step}» — сами, но одним-двумя словами.",
                     "Шаг ваш, но скажите суть: что делали, что случилось, какая ошибка.")
    if taken.outcome == "unprompted":
        return Point("step", f"Хорошо: «{taken.step}» — сами, без подсказки.", None)
    if taken.outcome == "hinted":
        return Point("step", f"«{taken.step}» — после подсказки ({counted(taken.hints, 'подсказка')}).",
                     "Делайте этот шаг сами, не дожидаясь вопроса: разговор ведёте вы.")
    return Point("step", f"«{taken.step}» — не сделано.",
                 "Это ваш шаг в разговоре: оператор может о нём не напомнить. Сделайте его сами.")


def coach(call: Call) -> Coaching:
    said = statement(call)
    found = fillers(call.turns)
    dictated = dictations(call.turns)
    taken = steps(call)
    short = said is not None and said.asked and said.words < SHORT_WORDS
    stating = {name for name, st in call.flow.states.items() if st.collect is not None and st.collect.type == "text"}
    points: list[Point] = [_step_point(t, short and t.state in stating) for t in taken]
    if said is not None:
        points.append(_statement_point(said))
    if any(t.kind == "speech" and t.input.strip() for t in call.turns):
        points.append(_fillers_point(found, sum(f.count for f in found)))
    points += _dictation_points(dictated)
    return Coaching(said, found, dictated, tuple(points), taken)


def to_markdown(coaching: dict) -> list[str]:
    """The section's lines, from the report's JSON form of ``Coaching``."""
    lines = ["## Как вы говорили", ""]
    if not coaching["points"]:
        return [*lines, "В этом звонке вы не говорили голосом или текстом — разбирать нечего."]
    for point in coaching["points"]:
        tip = f" **Совет:** {point['tip']}" if point["tip"] else ""
        lines.append(f"- {point['fact']}{tip}")
    if coaching.get("progress"):
        lines += ["", progress_line(coaching["progress"])]
    return lines


# ------------------------------------------------------------------ progress across rehearsals
@dataclass(frozen=True)
class Progress:
    """This rehearsal against the previous report of the same flow and topic (``reports/``)."""

    previous: str  # when the previous rehearsal started (ISO)
    words: tuple[int, int] | None  # the problem statement, then and now
    seconds: tuple[float, float] | None  # only when both were measured (voice)
    fillers: tuple[int, int]
    tips: tuple[int, int]

    def to_json(self) -> dict[str, object]:
        return {"previous": self.previous, "words": self.words, "seconds": self.seconds,
                "fillers": self.fillers, "tips": self.tips}


def _started(report: dict) -> datetime | None:
    try:
        return datetime.fromisoformat(str(report.get("started")))
    except ValueError:
        return None


def previous_report(folder: Path, flow: str, topic: str | None, before: datetime) -> dict | None:
    """The latest report in ``folder`` of the same flow and topic that started before ``before``
    and has a coaching section; unreadable or foreign files are skipped."""
    if topic is None or not folder.is_dir():
        return None
    best: tuple[datetime, dict] | None = None
    for path in folder.glob("*.json"):
        try:
            report = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(report, dict) or report.get("flow") != flow or report.get("topic") != topic:
            continue
        started = _started(report)
        if started is None or started >= before or not isinstance(report.get("coaching"), dict):
            continue
        if best is None or started > best[0]:
            best = (started, report)
    return None if best is None else best[1]


def _summary(coaching: dict) -> tuple[int | None, float | None, int, int]:
    statement = coaching.get("statement") or {}
    fillers = coaching.get("fillers") or {}
    points = coaching.get("points") or []
    return (statement.get("words"), statement.get("seconds"), sum(fillers.values()),
            sum(1 for p in points if p.get("tip")))


def progress(previous: dict, now: dict) -> Progress | None:
    """``previous`` and ``now`` are reports' JSON forms; None if the previous one cannot be read."""
    try:
        w0, s0, f0, t0 = _summary(previous["coaching"])
        w1, s1, f1, t1 = _summary(now["coaching"])
    except (AttributeError, KeyError, TypeError):
        return None
    return Progress(
        str(previous["started"]),
        (w0, w1) if w0 is not None and w1 is not None else None,
        (s0, s1) if s0 is not None and s1 is not None else None,
        (f0, f1),
        (t0, t1),
    )


def progress_line(p: dict) -> str:
    """«В прошлый раз (25.11 в 10:00): проблема — 74 слова, сейчас 31; …» from ``Progress.to_json``."""
    when = datetime.fromisoformat(p["previous"])
    parts = []
    if p["words"]:
        then, now = p["words"]
        parts.append(f"проблема — {counted(then, 'слово')}, сейчас {now}")
    if p["seconds"]:
        then, now = p["seconds"]
        parts.append(f"{then:g} с, сейчас {now:g} с")
    then, now = p["fillers"]
    parts.append(f"слов-паразитов {then}, сейчас {now}")
    then, now = p["tips"]
    parts.append(f"советов {then}, сейчас {now}")
    return f"В прошлый раз ({when:%d.%m в %H:%M}): {'; '.join(parts)}."
