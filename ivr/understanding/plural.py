"""Counts in messages, with the noun agreeing with the number: «1 переход», «3 состояния»,
«99 состояний», «не меньше 1 цифры».

pymorphy3 — already the lemma matcher's analyzer — knows every noun's forms and the agreement rule
(``make_agree_with_number``), so no message carries a hand-made table of endings or a «фраз(ы)».
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from ivr.understanding.lemmas import analyzer

Case = Literal["nomn", "gent"]  # «5 состояний» / «не меньше 5 цифр»


def counted(n: int, noun: str, case: Case = "nomn") -> str:
    """``n`` and ``noun`` (its dictionary form) agreeing: counted(3, "состояние") → «3 состояния»;
    ``case="gent"`` after «из», «не меньше», «нет»: counted(1, "цифра", "gent") → «1 цифры»."""
    # the agreement depends only on the last two digits
    return f"{n} {_agreed(noun, case, abs(n) % 100 + (100 if abs(n) >= 100 else 0))}"


@lru_cache(maxsize=1024)
def _agreed(noun: str, case: Case, n: int) -> str:
    parses = [p for p in analyzer().parse(noun) if p.tag.POS == "NOUN" and p.normal_form == noun]
    if not parses:
        return noun
    form = parses[0] if case == "nomn" else parses[0].inflect({case})
    agreed = form.make_agree_with_number(n) if form is not None else None
    return str(agreed.word) if agreed is not None else noun
