"""``{name}`` placeholders in prompts.

Prompts reference caller slots (``{snils}``), data blocks (``{data.contacts.main.number}``) and a
few values the engine computes (``{next_open}``). Placeholders are checked when the flow loads, so a
typo is a load error, not a prompt that reads "{snlis}" to a caller.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

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
