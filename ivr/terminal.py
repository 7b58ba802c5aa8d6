"""The two consoles every command prints through (one home, so all output behaves the same).

``soft_wrap``: a long path or command is never broken across lines, so it can be copied from the
terminal as is (rich otherwise wraps at the terminal width, mid-path). ``highlight=False``: numbers
and paths keep the terminal's colours instead of rich's guesses. Markup stays available for the
program's own texts; anything a user supplied (paths, caller or flow text) is printed with
``markup=False`` or through ``literal()``, so ``[bold]`` in a file name is printed, not obeyed.
"""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def literal(value: object) -> str:
    """``value`` as text that rich prints exactly as written inside a markup string."""
    return escape(str(value))
