"""Convo files: a scripted call with expectations, the headless way to test a flow.

```yaml
flow: ../../flows/example.yaml      # optional, relative to this file
now: "2026-11-25T10:00:00+03:00"    # optional: the call's clock (opening hours depend on it)
turns:
  - expect: {state: main, says: ["главное меню"]}   # what the greeting said
  - caller: "хочу продлить книгу"
    expect: {state: renew_card}
  - dtmf: "123456"
  - silence: 6
```

The same file runs with ``ivr test``, ``ivr run --script`` and under pytest. This module is the
file format and its loader, with positioned errors like the flow loader's.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

from ivr.errors import UserError
from ivr.flow.loader import FlowError, read_source, translate_all
from ivr.flow.schema import NotBool
from ivr.flow.yaml_source import Problem, SourceMap, YamlSyntaxError, load_with_positions


def _as_list(value: object) -> object:
    return [value] if isinstance(value, str) else value


Texts = Annotated[list[str], BeforeValidator(_as_list, json_schema_input_type=str | list[str])]

EXAMPLE_NOW = "2026-11-25T10:00:00+03:00"
MAX_SILENCE = 3600.0  # seconds of one silence step
MAX_WAIT = 366 * 24 * 3600.0  # one wait step: up to a year, enough to reach any opening hour


def _keys(value: object) -> object:
    """``dtmf: 123`` is a number to YAML; keys as written (``dtmf: 0123`` stays 0123, not octal 83)."""
    if isinstance(value, bool):
        raise PydanticCustomError("keys_not_bool", "keys as text, not true/false")
    return str(value) if isinstance(value, int) else value


def check_moment(value: object) -> object:
    """The call's clock start: ISO 8601 date and time with a UTC offset, in a sane range (a clock
    at year 1 or 9999 overflows as soon as the call looks at opening hours)."""
    if value is None or isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(
                f'«{value[:60]}» — это не дата и время; напишите, например, "{EXAMPLE_NOW}"'
            ) from None
    elif isinstance(value, date):
        raise ValueError(f'здесь нужна не только дата, но и время с поясом, например "{EXAMPLE_NOW}"')
    else:
        shown = (
            "список"
            if isinstance(value, list)
            else "набор полей"
            if isinstance(value, dict)
            else (f"«{str(value).lower() if isinstance(value, bool) else value}»")
        )
        raise ValueError(f'здесь нужны дата и время с поясом, например "{EXAMPLE_NOW}", а написано {shown}')
    if moment is None:
        return None
    if moment.utcoffset() is None:
        raise ValueError(
            f'в «{moment.isoformat()}» нет часового пояса — допишите его, например "{EXAMPLE_NOW}"'
        )
    if not 1900 <= moment.year <= 2200:
        raise ValueError(f"{moment.isoformat()}: год {moment.year} — возьмите год от 1900 до 2200")
    return moment


class Expect(BaseModel):
    model_config = ConfigDict(extra="forbid")
    state: str | None = None
    says: Texts = Field(default_factory=list)
    not_says: Texts = Field(default_factory=list)
    slots: dict[str, str | None] = Field(default_factory=dict)
    ended: bool | None = None
    event: str | None = None
    match: str | None = None
    topic: str | None = None
    term: str | None = None  # a part of the processing term the report will give
    # caller's steps so far, by state: unprompted (taken without a hint), hinted, missed
    steps: dict[str, Literal["unprompted", "hinted", "missed"]] = Field(default_factory=dict)


class ConvoTurn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    caller: str | None = None
    dtmf: Annotated[str | None, BeforeValidator(_keys, json_schema_input_type=str | int | None)] = None
    silence: Annotated[float | None, NotBool] = Field(default=None, ge=0, le=MAX_SILENCE, allow_inf_nan=False)
    audio: str | None = Field(default=None, min_length=1)
    wait: Annotated[float | None, NotBool] = Field(default=None, ge=0, le=MAX_WAIT, allow_inf_nan=False)
    expect: Expect | None = None

    @model_validator(mode="after")
    def _one_input(self) -> ConvoTurn:
        given = [k for k in ("caller", "dtmf", "silence", "audio") if getattr(self, k) is not None]
        if len(given) > 1:
            raise ValueError(f"в одном шаге только один ввод, а здесь {', '.join(given)} — разделите на шаги")
        return self


class ConvoFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = None
    flow: str | None = Field(default=None, min_length=1)
    now: Annotated[datetime | None, BeforeValidator(check_moment)] = None
    seed: Annotated[int | None, NotBool] = None
    turns: list[ConvoTurn]
    _positions: SourceMap = PrivateAttr(default_factory=SourceMap)

    def position(self, name: str, *path: object) -> str:
        """``file:line:col`` of a part of this file (just the file when it is not known)."""
        pos = self._positions.find(path)
        return f"{name}:{pos.line}:{pos.col}" if pos else name

    def where(self, name: str, *path: object) -> str:
        """``file:line:col: turns.3.audio: `` for messages about a part of this file."""
        pos = self._positions.find(path)
        at = f"{name}:{pos.line}:{pos.col}" if pos else name
        return f"{at}: {'.'.join(map(str, path))}: " if path else f"{at}: "


def load_convo(path: str | Path) -> ConvoFile:
    path = Path(path)
    text = read_source(path, "разговора")
    try:
        raw, smap, problems = load_with_positions(text)
    except YamlSyntaxError as err:
        raise FlowError(path, err.problems) from None
    if isinstance(raw, list):
        raw = {"turns": raw}
    if isinstance(raw, dict) and "states" in raw and "turns" not in raw:
        raise FlowError(
            path,
            [
                Problem(
                    (),
                    "это файл сценария (в нём states:), а нужен файл разговора с "
                    "turns: — сценарий указывают в разговоре строкой flow: или "
                    "опцией --flow",
                    smap.find(()),
                )
            ],
        )
    if not isinstance(raw, dict):
        raise FlowError(
            path,
            [
                Problem(
                    (),
                    "файл разговора — это turns: со списком шагов (caller:, dtmf:, silence:, expect:)",
                    smap.find(()),
                )
            ],
        )
    try:
        convo = ConvoFile.model_validate(raw)
    except ValidationError as err:
        raise FlowError(path, problems + translate_all(err, smap, ConvoFile)) from None
    if problems:
        raise FlowError(path, problems)
    convo._positions = smap
    return convo


def collect_paths(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.rglob("*.yaml") if p.is_file())
        elif path.exists():
            files.append(path)
        else:
            raise UserError(f"{path}: нет такого файла или папки с разговорами")
    return files
