"""The one loop every channel runs a call with: take the next input from a source, let the call
answer it, show the answer. Typed chat, spoken practice and convo files differ only in their
source (keyboard lines, audio, scripted steps) and their view (terminal, speaker, expectations)."""

from __future__ import annotations

from typing import Protocol

from ivr.engine.call import Call
from ivr.engine.records import Input, Turn


class InputSource(Protocol):
    def next_input(self, call: Call) -> Input | None:
        """The caller's next input, or ``None`` when the caller is done (hung up, script over)."""
        ...


class CallView(Protocol):
    def greeting(self, call: Call) -> None: ...

    def turn(self, call: Call, turn: Turn) -> None: ...


def converse(call: Call, source: InputSource, view: CallView) -> list[Turn]:
    """Run the call until the source has nothing more; returns the turns it took."""
    turns: list[Turn] = []
    view.greeting(call)
    while (inp := source.next_input(call)) is not None:
        turn = call.handle(inp)
        turns.append(turn)
        view.turn(call, turn)
    return turns
