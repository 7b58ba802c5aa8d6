"""``ivr chat --trace``: why the call did what it did, a few lines a turn, on screen only.

A flow author whose phrase routes wrong needs to see what the matcher weighed: the lemma scores
of every choice the words touched, the meaning scores when the router asked for them, the margin
between the first two, and which understanding decided. The turn itself says what happened
(``Turn.match`` and ``event``); the grounds are recomputed here with the same functions the call
used (``interpret.answer``, ``spoken_key``, ``Router.explain``) on the state the turn started in,
so the trace can never disagree with the call. Nothing of it is written to disk.
"""

from __future__ import annotations

from collections.abc import Mapping

from ivr.engine import interpret
from ivr.engine.records import (
    Ambiguous,
    Confirming,
    GlobalChosen,
    OptionChosen,
    SlotFilled,
    Turn,
)
from ivr.flow.model import MIN_OPTIONS_FOR_MEANING, Flow, Menu
from ivr.understanding.matcher import DEFAULT_MARGIN, DEFAULT_THRESHOLD
from ivr.understanding.normalize import normalize
from ivr.understanding.semantic import DEFAULT_THRESHOLDS

# Alternatives shown after the best choice: enough to see the runner-up and what else was near.
ALTERNATIVES = 3
_BY = {"lemma": "по словам", "meaning": "по смыслу", "line": "по смыслу"}
_EVENTS = {
    "nomatch": "не понял — переспрос",
    "line_talk": "слова о самой линии — ответ, попытка не потрачена",
    "thanks": "благодарность — ответ, попытка не потрачена",
    "noinput": "молчание — переспрос",
    "invalid": "значение не принято — переспрос",
    "escalated": "неудач слишком много — эскалация",
    "ended": "звонок уже завершён — не обработано",
}


def legend() -> str:
    """The thresholds the trace's numbers are compared with, said once at the start."""
    t = DEFAULT_THRESHOLDS
    return (
        f"Трасса: по словам — балл 0–100, выбор от {DEFAULT_THRESHOLD:g} при отрыве от {DEFAULT_MARGIN:g}; "
        f"по смыслу (меню от {MIN_OPTIONS_FOR_MEANING} пунктов или из одного) — близость 0–1, выбор от {t.match:g} при отрыве от {t.margin:g}, "
        f"переспрос «правильно понимаю» от {t.confirm:g}."
    )


def trace_turn(flow: Flow, turn: Turn, question: interpret.Question | None) -> list[str]:
    """Lines that explain one turn, «main → auth: пункт auth …» first; ``question`` is what the
    call had asked just before it."""
    grounds: list[str] = []
    by = ""
    if turn.event != "ended" and turn.kind == "speech":
        grounds, by = _grounds(flow, turn, question)
    moved = f"{turn.state_before} → {turn.state}" if turn.state != turn.state_before else turn.state
    outcome = _outcome(turn)
    if turn.event in ("nomatch", "noinput", "invalid") and turn.state != turn.state_before:
        outcome += ", попытки кончились — дальше"
    elif turn.event == "escalated" and turn.match is not None:
        outcome += f"; {_EVENTS['escalated']}"
    return [f"{moved}: {outcome}{f' (решено {by})' if by else ''}", *grounds]


def _grounds(flow: Flow, turn: Turn, question: interpret.Question | None) -> tuple[list[str], str]:
    """What the words were weighed on, and which understanding decided (empty: neither)."""
    state = flow.states[turn.state_before]
    text = normalize(turn.input)
    if not text:
        return ["слов не разобрано"], ""
    menu = flow.menu(turn.state_before)
    if state.collect:
        verdict = interpret.speech(flow, turn.state_before, turn.input)
        if isinstance(verdict, interpret.Choose):
            return [f"команда {verdict.ref} названа целиком — это не значение слота"], ""
        return [f"значение слота {state.collect.slot} (тип {state.collect.type})"], ""
    if question is not None and question.state == turn.state_before:
        if interpret.answer(flow, question, turn.input) is not None:
            asked = " или ".join(str(c) for c in question.candidates)
            return [f"ответ на уточнение ({asked})"], ""
    key = interpret.spoken_key(text)
    if key is not None and key in menu.keys:
        return [f"кнопка {key} названа голосом"], ""
    if menu.matcher is None:
        return ["в этом меню нет фраз — только кнопки"], ""
    why = menu.matcher.explain(text)
    lines = [f"по словам: {_ranked(menu, why.lemma_scores, '{:.0f}')}"]
    top = next(iter(why.meaning_scores() if why.decided.by == "meaning" else why.lemma_scores), None)
    decided = why.decided.choice
    if top is not None and decided is not None and decided in menu.matcher.pages.get(top, ()):
        lines.append(f"раздел {menu.choice(top)} и его страница {menu.choice(decided)} — взята страница")
    if why.asked and not menu.matcher.by_meaning:
        lines.append(
            f"по смыслу: не сравнивается (в меню 2–3 пункта с фразами — смысл решает, где их {MIN_OPTIONS_FOR_MEANING} "
            "и больше или один)"
        )
    elif why.asked:
        meaning = _ranked(menu, why.meaning_scores(), "{:.3f}") if why.nearness else "модель недоступна"
        lines.append(f"по смыслу: {meaning}")
        if why.nearness and why.nearness.probability:
            likely = dict(sorted(why.nearness.probability.items(), key=lambda item: -item[1]))
            lines.append(f"классификатор меню: {_ranked(menu, likely, '{:.2f}')}")
        if why.nearness and why.lemma.kind == "none":
            lines.append(f"слова о самой линии («алло», «подождите»): {why.nearness.chatter:.3f}")
    topic = interpret.elsewhere(flow, turn.state_before, text, why.decided)
    if topic is not None:
        home = flow.globals[topic.via.id].goto
        lines.append(f"тема меню {home}: {topic.ref} (балл {topic.score:.0f}) — туда, через {topic.via}")
    return lines, _BY[why.decided.by]


def _ranked(menu: Menu, scores: Mapping[str, float], fmt: str) -> str:
    """«auth 100 · отрыв 45 · ещё: tech 55, general 30» from scores keyed by matcher id."""
    if not scores:
        return "ни одного слова пунктов"
    ranked = list(scores.items())
    (best, top), rest = ranked[0], ranked[1:]
    shown = f"{menu.choice(best)} {fmt.format(top)}"
    if not rest:
        return f"{shown} · других нет"
    gap = fmt.format(top - rest[0][1])
    others = ", ".join(f"{menu.choice(c)} {fmt.format(s)}" for c, s in rest[:ALTERNATIVES])
    more = f" и ещё {len(rest) - ALTERNATIVES}" if len(rest) > ALTERNATIVES else ""
    return f"{shown} · отрыв {gap} · ещё: {others}{more}"


def _outcome(turn: Turn) -> str:
    match = turn.match
    if isinstance(match, OptionChosen):
        return f"пункт {match.id} (балл {match.score:.0f})"
    if isinstance(match, GlobalChosen):
        return f"команда global:{match.id}"
    if isinstance(match, Ambiguous):
        return "уточнить: " + " или ".join(str(c) for c in match.candidates)
    if isinstance(match, Confirming):
        return f"переспросить «правильно понимаю»: {match.candidate} (балл {match.score:.0f})"
    if isinstance(match, SlotFilled):
        said = match.display or match.value or "ничего"
        return f"слот {match.slot} = «{said}» — {'принято' if match.valid else 'не принято'}"
    if turn.match is None and turn.event is None:  # the only turn that neither moves nor misses
        return "«нет» на «правильно понимаю» — просьба сказать иначе (flow.declined)"
    if turn.kind == "dtmf" and turn.event == "nomatch":
        return f"кнопка {turn.input} здесь ничего не выбирает — переспрос"
    return _EVENTS.get(turn.event or "", "без перехода")
