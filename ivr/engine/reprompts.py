"""What a call does after a miss: say the next reprompt, or give up on the state.

A state gets ``retries`` tries (its own or the flow's). Until they are used up the caller hears the
reprompt for the cause — the n-th text for the n-th miss, the last one again after that; then a
collect goes to its ``on_fail`` state, or escalates if it says so, or moves on with the slot marked
invalid (the report shows it), and a menu escalates (its own ``escalate`` or the flow's).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ivr.flow.model import Flow

Cause = Literal["nomatch", "noinput", "ambiguous", "confirm", "invalid"]
DEFAULT_INVALID = "Вы назвали: {heard}. {error} Повторите, пожалуйста."
# Speech was heard but no word came out of it (a mumble, a word the recogniser does not know, a
# cough): the caller did speak, so «Я вас не слышу» would be wrong, and «я не понял» invites a
# rephrasing where a clearer repeat is what helps.
UNCLEAR = "Не расслышал. Повторите, пожалуйста, чуть громче и чётче."


@dataclass(frozen=True)
class GiveUp:
    """Leave the state by this machine trigger kind."""

    via: Literal["fail", "escalate", "next"]


@dataclass(frozen=True)
class Reprompt:
    text: str


def after_miss(
    flow: Flow, state_name: str, failures: int, cause: Cause, escalation: dict[str, str], heard: str
) -> GiveUp | Reprompt:
    """``failures``: misses in this state so far, this one included; ``escalation``: the states
    that escalate, and where (decided once by the machine). A menu with nowhere to escalate keeps
    saying its last reprompt. ``heard``: the words of a nomatch; none means speech without words."""
    state = flow.states[state_name]
    meta = flow.meta
    if failures >= (state.retries or meta.retries):
        if state.collect:
            if state.collect.on_fail:
                return GiveUp("fail")
            if state_name in escalation:
                return GiveUp("escalate")
            return GiveUp("next")  # move on; the slot stays marked invalid
        if state_name in escalation:
            return GiveUp("escalate")
    if cause == "nomatch" and not heard.strip():
        return Reprompt(UNCLEAR)
    if state.collect and cause in ("nomatch", "invalid"):
        texts = (state.nomatch if cause == "nomatch" else state.collect.invalid) or [DEFAULT_INVALID]
    else:
        texts = {
            "noinput": state.noinput or meta.noinput,
            "nomatch": state.nomatch or meta.nomatch,
            "ambiguous": meta.ambiguous,
            "confirm": meta.confirm,
            "invalid": [DEFAULT_INVALID],
        }[cause]
    return Reprompt(texts[min(failures, len(texts)) - 1])
