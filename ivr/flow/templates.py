"""``{name}`` placeholders in prompts.

Prompts reference caller slots (``{snils}``), data blocks (``{data.contacts.main.number}``) and a
few values the engine computes (``{next_open}``). Placeholders are checked when the flow loads, so a
typo is a load error, not a prompt that reads "{snlis}" to a caller.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping

from ivr.flow import schema

PLACEHOLDER = re.compile(r"\{([A-Za-z_][\w.]*)\}")

# Values the engine fills in; documented in docs/flow-format.md.
BUILTINS = frozenset(
    {
        "next_open",  # when the line opens next, e.g. "в понедельник в 08:00"
        "hours",  # the weekly schedule in words
        "now",  # the call's current time, HH:MM Moscow time
        "reference",  # this call's application number
        "heard",  # what the caller just said for a slot, formatted
        "error",  # why that value is invalid
        "candidates",  # the options an ambiguous answer matched, "«а» или «б»"
        "menu_hint",  # the current menu's options with their keys
        "topic",  # the call's topic
        "term",  # the processing term of the call's topic (as the report gives it)
    }
)


def placeholders(text: str) -> list[str]:
    return PLACEHOLDER.findall(text)


def named_schedule(name: str) -> tuple[str, str] | None:
    """``{hours.home_visits}`` / ``{next_open.home_visits}``: (the built-in, the schedule's data
    block) — the same words as ``{hours}`` and ``{next_open}``, for another schedule than flow.hours."""
    word, dot, block = name.partition(".")
    return (word, block) if dot and block and word in ("hours", "next_open") else None


def lookup_data(data: Mapping[str, object], dotted: str) -> object:
    """Resolve ``contacts.main.number`` inside the flow's data blocks; KeyError if absent."""
    node: object = data
    for part in dotted.split("."):
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isascii() and part.isdigit() and int(part) < len(node):
            # ASCII digits only: «²» is a digit to str.isdigit() and a ValueError to int(), «١»
            # (Arabic-Indic one) would quietly mean index 1
            node = node[int(part)]
        else:
            raise KeyError(dotted)
    return node


def render(text: str, resolve: Callable[[str], str]) -> str:
    return PLACEHOLDER.sub(lambda m: resolve(m.group(1)), text)


def prompt_texts(spec: schema.FlowFile) -> Iterator[tuple[tuple, str]]:
    """Every text the flow can say or show, with its path in the file."""
    meta = spec.flow
    for field in ("unsolved", "ambiguous", "confirm", "declined", "nomatch", "noinput", "collect_failed"):
        for i, text in enumerate(getattr(meta, field)):
            yield ("flow", field, i), text
    if meta.notice:
        yield ("flow", "notice"), meta.notice
    for gname, glob in spec.globals.items():
        for i, text in enumerate(glob.say):
            yield ("globals", gname, "say", i), text
    for name, state in spec.states.items():
        for field in ("say", "details", "noinput", "nomatch"):
            for i, text in enumerate(getattr(state, field)):
                yield ("states", name, field, i), text
        for j, option in enumerate(state.options):
            for i, text in enumerate(option.say):
                yield ("states", name, "options", j, "say", i), text
        if state.collect:
            for i, text in enumerate(state.collect.invalid):
                yield ("states", name, "collect", "invalid", i), text
