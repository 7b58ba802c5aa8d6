"""What a call does after a miss: say the next reprompt, or give up on the state.

A state gets ``retries`` tries (its own or the flow's). Until they are used up the caller hears the
reprompt for the cause — the n-th text for the n-th miss, the last one again after that; then a
collect leaves by its failure route (``ivr.flow.failure``: on_fail, escalate, a ``next`` branch on
the slot, or the flow's escalation), and a menu escalates (its own ``escalate`` or the flow's).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ivr.flow.failure import fail_route
from ivr.flow.model import Flow

Cause = Literal["nomatch", "noinput", "ambiguous", "confirm", "invalid"]
DEFAULT_INVALID = "Вы назвали: {heard}. {error} Повторите, пожалуйста."
# Speech was heard but no word came out of it (a mumble, a word the recogniser does not know, a
# cough): the caller did speak, so «Я вас не слышу» would be wrong, and «я не понял» invites a
# rephrasing where a clearer repeat is what helps.
UNCLEAR = "Не расслышал. Повторите, пожалуйста, чуть громче и чётче."
# The same, when the voice channel found the speech too faint to make out (ivr/voice/listen.py):
# what helps then is the volume or the distance to the microphone, not diction.
TOO_QUIET = "Вас очень тихо слышно. Говорите, пожалуйста, громче или ближе к микрофону."


@dataclass(frozen=True)
class GiveUp:
    """Leave the state by this machine trigger kind."""

    via: Literal["fail", "escalate", "next"]
    # the caller is told first that the value was not recorded (flow.collect_failed): on_fail: next
    # and the flow-wide escalation lead to states that do not say so themselves
    announce: bool = False


@dataclass(frozen=True)
class Reprompt:
    text: str


def after_miss(
    flow: Flow,
    state_name: str,
    failures: int,
    cause: Cause,
    escalation: dict[str, str],
    heard: str,
    quiet: bool = False,
) -> GiveUp | Reprompt:
    """``failures``: misses in this state so far, this one included; ``escalation``: the states
    that escalate, and where (decided once by the machine). A menu with nowhere to escalate keeps
    saying its last reprompt. ``heard``: the words of a nomatch; none means speech without words,
    ``quiet`` that it was too faint."""
    state = flow.states[state_name]
    meta = flow.meta
    if failures >= (state.retries or meta.retries):
        if state.collect:
            route = fail_route(state, flow.spec)
            # the loader refuses a collect without a route; "next" keeps the slot marked invalid
            return GiveUp(route.via if route is not None else "next", route is not None and route.announce)
        if state_name in escalation:
            return GiveUp("escalate")
    if cause == "nomatch" and not heard.strip():
        return Reprompt(TOO_QUIET if quiet else UNCLEAR)
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
    return Reprompt(nth(texts, failures))


def nth(texts: list[str], n: int) -> str:
    """The n-th text (from 1) for the n-th time in a row, the last one again after that."""
    return texts[min(n, len(texts)) - 1]
