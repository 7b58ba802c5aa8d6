"""The call transcript, written as the call goes (JSON Lines, one record per line, flushed each turn).

A crash, a closed terminal or a killed process must not lose what the caller already said, so nothing
is buffered until the end. Personal data (СНИЛС, ИНН, phone, ФИО, passport, dates) are masked unless
the user explicitly asked to keep them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from ivr.errors import UserError
from ivr.oserrors import describe
from ivr.personal.masking import PERSONAL_KINDS, mask_text, mask_value

if TYPE_CHECKING:
    from ivr.engine.call import Call, Turn


class TranscriptWriter:
    def __init__(self, path: str | Path, *, keep_personal_data: bool = False):
        self.path = Path(path)
        self.keep = keep_personal_data
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - lives as long as the call
        except OSError as err:
            raise UserError(f"{self.path}: не удаётся записать расшифровку звонка ({describe(err)}) — "
                            "укажите другую папку для отчётов") from None

    def _write(self, record: dict) -> None:
        self._file.write(json.dumps(record, ensure_ascii=False) + "\n")
        # flush, not fsync: the OS keeps flushed data when the process dies (the case that
        # matters here), and fsync per turn would cost milliseconds on every answer.
        self._file.flush()

    def _text(self, text: str) -> str:
        return text if self.keep else mask_text(text)

    def start(self, call: "Call") -> None:
        self._write({
            "type": "call", "flow": call.flow.id, "source": call.flow.source,
            "started": call.started_at.isoformat(), "state": call.state,
            "said": [self._text(t) for t in call.greeting], "masked": not self.keep,
        })

    def turn(self, call: "Call", turn: "Turn") -> None:
        record = turn.to_json()
        kind = (turn.match or {}).get("kind")
        if not self.keep:
            if kind in PERSONAL_KINDS:
                record["input"] = mask_value(kind, record["input"])
                record["match"] = {**turn.match, "value": mask_value(kind, turn.match.get("value", ""))}
            else:
                record["input"] = mask_text(record["input"])
            record["said"] = [mask_text(t) for t in record["said"]]
        self._write({"type": "turn", **record})

    def end(self, call: "Call") -> None:
        if self._file.closed:
            return
        self._write({"type": "end", "state": call.state, "ended": call.ended, "topic": call.topic,
                     "turns": len(call.turns)})
        self._file.close()
