"""Russian calendar words shared by the date parser, the date read-back and the recogniser's
grammar: one list, so a month the parser accepts is always a word the recogniser may hear."""

from __future__ import annotations

MONTHS_GENITIVE = (
    "января", "февраля", "марта", "апреля", "мая", "июня",
    "июля", "августа", "сентября", "октября", "ноября", "декабря",
)  # fmt: skip
