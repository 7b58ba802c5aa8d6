"""The gosuslugi line opens with a short greeting and an open question, not a keypad list."""

from datetime import datetime
from pathlib import Path

from ivr.engine import Engine, ManualClock

FLOW = Path(__file__).resolve().parents[2] / "flows" / "gosuslugi.yaml"

# Measured with the project's own TTS (`ivr say … -o x.wav`, pyttsx3/espeak-ng, Russian voice, default
# rate): the greeting (112 chars) took 7.23 s and the main prompt (102 chars) 7.06 s — 14.3 s for
# 214 chars. The slower of the two, 14.4 chars/s, sets the budget; the old opening (646 chars) took
# 43.5 s. Characters are counted, not time: the test stays deterministic.
CHARS_PER_SECOND = 14.4
MAX_SECONDS = 15
BUDGET = int(MAX_SECONDS * CHARS_PER_SECOND)  # 216 characters


def opening() -> list[str]:
    weekday_morning = ManualClock(datetime.fromisoformat("2026-11-25T10:00:00+03:00"))  # Wednesday
    call = Engine.from_file(FLOW).start_call(clock=weekday_morning)
    assert call.state == "main"
    return call.greeting


def test_greeting_and_main_prompt_fit_fifteen_seconds_of_speech():
    said = opening()
    assert sum(len(text) for text in said) <= BUDGET, said


def test_opening_keeps_the_notice_and_asks_an_open_question():
    text = " ".join(opening())
    assert "учебный тренажёр" in text and "gosuslugi.ru" in text  # not the real line; check the site
    assert "своими словами" in text and "«меню»" in text
    assert "— 1" not in text  # the keypad list waits for a miss, silence or «меню»
