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
