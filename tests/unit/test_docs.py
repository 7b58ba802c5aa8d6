"""The flow-format document's complete example is a working flow, not a sketch."""

from datetime import datetime
from pathlib import Path

from ivr.engine import Engine, ManualClock
from ivr.flow.loader import parse_flow

DOC = Path(__file__).resolve().parents[2] / "docs" / "flow-format.md"


def test_full_example_in_the_docs_loads_and_runs():
    text = DOC.read_text(encoding="utf-8").split("## Полный пример", 1)[1]
    example = text.split("```yaml", 1)[1].split("```", 1)[0]
    clock = ManualClock(datetime.fromisoformat("2026-11-25T10:00:00+03:00"))
    call = Engine(parse_flow(example, "docs/flow-format.md")).start_call(clock=clock)
    call.dtmf("2")
    call.speech("плюс семь девятьсот двенадцать триста сорок пять шестьдесят семь восемьдесят девять")
    assert call.state == "signup_done" and call.ended
    assert call.turns[-1].said == ["Спасибо! Мы позвоним на номер +7 912 345-67-89."]


def _ru(number: float) -> str:
    return f"{number:g}".replace(".", ",")


def test_how_answers_are_understood_states_the_numbers_and_texts_the_code_uses():
    """The section flow authors tune their phrases by: every threshold it names and every built-in
    text it quotes is the one in the code (a retuned threshold must be re-documented)."""
    from ivr.engine.call import TOO_LONG
    from ivr.engine.reprompts import DEFAULT_INVALID, UNCLEAR
    from ivr.flow.model import MIN_OPTIONS_FOR_MEANING
    from ivr.flow.schema import FlowMeta
    from ivr.understanding import matcher
    from ivr.understanding.confusable import SIMILAR
    from ivr.understanding.semantic import DEFAULT_THRESHOLDS as t
    from ivr.understanding.semantic import LEXICAL_WEIGHT, MAX_MEANING_WORDS

    text = DOC.read_text(encoding="utf-8").split("## Как автоответчик понимает звонящего", 1)[1]
    text = " ".join(text.split("## Проверочные разговоры", 1)[0].split())
    stated = [
        f"балл не меньше **{matcher.DEFAULT_THRESHOLD:g}**",
        f"в пределах **{matcher.DEFAULT_MARGIN:g}**",
        f"от {matcher.FUZZY_MIN_LENGTH} букв, при сходстве от {matcher.TOKEN_CUTOFF} %",
        f"присутствие × ({matcher.PRESENCE_FLOOR:g} + {100 - matcher.PRESENCE_FLOOR:g} × объяснено)",
        f"не меньше **{MIN_OPTIONS_FOR_MEANING}** пунктов",
        f"первые {MAX_MEANING_WORDS} слов",
        f"плюс {_ru(LEXICAL_WEIGHT)} ×",
        f"с баллом от **{t.lemma_sure:g}**",
        f"с отрывом **{_ru(t.override)}** от следующего",
        f"ближе остальных на **{_ru(t.among_margin)}**",
        f"следующего кандидата, на **{_ru(t.among_probability)}**",
        f"или на **{_ru(t.among_probability_alone)}** без этого условия",
        f"классификатор (вероятнее на **{_ru(t.veto)}**)",
        f"близость от **{_ru(t.match)}** с отрывом **{_ru(t.margin)}**",
        {1: "косинус с ближайшим", 2: "с двумя ближайшими", 3: "с тремя ближайшими"}[t.top_k],
        f"от **{_ru(t.confirm)}** с отрывом **{_ru(t.confirm_margin)}**",
        f"не меньше **{_ru(t.stand_out)}**",
        f"не меньше **{_ru(t.stand_out_route)}**",
        f"вероятнее следующего на **{_ru(t.route_probability)}**",
        f"хотя бы на **{_ru(t.route_stand_out)}**",
        f"вероятнее любого кандидата на **{_ru(t.outside_probability)}**",
        f"вероятность меньше **{_ru(t.doubt)}**",
        f"классификатору, если тот вероятнее на **{_ru(t.family_lead)}**",
        f"косинус от {_ru(SIMILAR)}",
        f"«{UNCLEAR}»",
        f"«{TOO_LONG}»",
        f"«{DEFAULT_INVALID}»",
    ]
    defaults = FlowMeta(id="x", title="x", start="x")
    stated += [f"«{texts[0]}»" for texts in (defaults.nomatch, defaults.noinput, defaults.ambiguous,
                                              defaults.confirm, defaults.declined)]
    missing = [phrase for phrase in stated if phrase not in text]
    assert not missing, missing
