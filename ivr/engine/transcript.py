"""The call transcript, written as the call goes (JSON Lines, one record per line, flushed each turn).

A crash, a closed terminal or a killed process must not lose what the caller already said, so nothing
is buffered until the end. Personal data are masked unless the user explicitly asked to keep them:
a slot's value by its type's rule (``ivr/slots``), everything else said or heard by ``mask_text``.
The writer is a ``CallObserver``: it sees the call's records, never the call.
"""

from __future__ import annotations

import json
from pathlib import Path

from ivr.engine.records import CallEnded, CallStarted, SlotFilled, Turn
from ivr.errors import UserError
from ivr.oserrors import describe
from ivr.private_files import make_folder, open_private
from ivr.slots import slot_type
from ivr.slots.redact import Redactor


class TranscriptWriter:
    def __init__(self, path: str | Path, *, keep_personal_data: bool = False):
        self.path = Path(path)
        self.keep = keep_personal_data
        self._redact = Redactor()
        self._call = ""
        self._broken = False
        self.problem: str | None = None  # what went wrong writing, for the channel to say
        try:
            make_folder(self.path.parent)
            self._file = open_private(self.path, "a")  # lives as long as the call
        except OSError as err:
            raise UserError(
                f"{self.path}: не удаётся записать расшифровку звонка ({describe(err)}) — "
                "укажите другую папку для отчётов"
            ) from None

    def _write(self, record: dict[str, object]) -> None:
        """One record, one whole line, tagged with the call's id (several calls may share a file)."""
        line = json.dumps({"call": self._call, **record}, ensure_ascii=False) + "\n"
        if self._broken:
            return
        # flush, not fsync: the OS keeps flushed data when the process dies (the case that
        # matters here), and fsync per turn would cost milliseconds on every answer.
        end: int | None = None
        try:
            end = self._file.tell()
            self._file.write(line)
            self._file.flush()
        except OSError as err:
            # Disk full or gone: cut back to the last whole record and stop writing, and say so
            # once; the call goes on, and the report is still attempted.
            self._broken = True
            self.problem = (
                f"{self.path}: расшифровка прервана ({describe(err)}) — записанное до этого сохранено"
            )
            try:
                if end is not None:
                    self._file.truncate(end)
            except (OSError, ValueError):
                pass

    def _text(self, text: str) -> str:
        return text if self.keep else self._redact(text)

    def started(self, record: CallStarted) -> None:
        self._call = record.call
        self._write(
            {
                "type": "call",
                "flow": record.flow,
                "source": record.source,
                "started": record.started,
                "state": record.state,
                "said": [self._text(t) for t in record.said],
                "masked": not self.keep,
            }
        )

    def turn(self, record: Turn) -> None:
        self._write(
            {"type": "turn", **(record.to_json() if self.keep else masked_turn(record, self._redact))}
        )

    def ended(self, record: CallEnded) -> None:
        if self._file.closed:
            return
        if self._broken:
            try:
                self._file.close()
            except OSError:
                pass
            return
        self._write(
            {
                "type": "end",
                "state": record.state,
                "ended": record.ended,
                "topic": record.topic,
                "turns": record.turns,
            }
        )
        self._file.close()


def masked_turn(record: Turn, redact: Redactor) -> dict[str, object]:
    """A turn as JSON with personal data masked: a slot's value and what was said for it by the
    slot type's rule, everything else said or heard by the redactor (which learns the value)."""
    data = record.to_json()
    match = record.match
    if isinstance(match, SlotFilled):
        redact.remember(match.type, match.value, match.display, record.input)
        kind = slot_type(match.type)
        data["input"] = redact.answer(match.type, record.input)
        data["match"] = {**match.to_json(), "value": kind.mask(match.value)}
    else:
        data["input"] = redact(record.input)
    data["said"] = [redact(t) for t in record.said]
    return data
