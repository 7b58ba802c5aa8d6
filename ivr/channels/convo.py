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

The same file runs with ``ivr test``, ``ivr run --script`` and under pytest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

from pydantic import (BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr, ValidationError,
                      model_validator)
from pydantic_core import PydanticCustomError

from ivr.engine import Call, Engine, ManualClock, Turn, system_clock
from ivr.engine.call import Input
from ivr.errors import UserError
from ivr.flow.loader import FlowError, load_flow, read_source, translate_all
from ivr.flow.model import Flow
from ivr.flow.schema import NotBool
from ivr.flow.yaml_source import Problem, SourceMap, YamlSyntaxError, load_with_positions
from ivr.personal.identifiers import speak_digits


def _as_list(value: object) -> object:
    return [value] if isinstance(value, str) else value


Texts = Annotated[list[str], BeforeValidator(_as_list)]

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
            raise ValueError(f"«{value[:60]}» — это не дата и время; напишите, например, "
                             f"\"{EXAMPLE_NOW}\"") from None
    elif isinstance(value, date):
        raise ValueError(f"здесь нужна не только дата, но и время с поясом, например \"{EXAMPLE_NOW}\"")
    else:
        shown = "список" if isinstance(value, list) else "набор полей" if isinstance(value, dict) else (
            f"«{str(value).lower() if isinstance(value, bool) else value}»")
        raise ValueError(f"здесь нужны дата и время с поясом, например \"{EXAMPLE_NOW}\", а написано {shown}")
    if moment is None:
        return None
    if moment.utcoffset() is None:
        raise ValueError(f"в «{moment.isoformat()}» нет часового пояса — допишите его, например "
                         f"\"{EXAMPLE_NOW}\"")
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


class ConvoTurn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    caller: str | None = None
    dtmf: Annotated[str | None, BeforeValidator(_keys)] = None
    silence: Annotated[float | None, NotBool] = Field(default=None, ge=0, le=MAX_SILENCE, allow_inf_nan=False)
    audio: str | None = Field(default=None, min_length=1)
    wait: Annotated[float | None, NotBool] = Field(default=None, ge=0, le=MAX_WAIT, allow_inf_nan=False)
    expect: Expect | None = None

    @model_validator(mode="after")
    def _one_input(self) -> "ConvoTurn":
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

    def where(self, name: str, *path: object) -> str:
        """``file:line:col: turns.3.audio: `` for messages about a part of this file."""
        pos = self._positions.find(path)
        at = f"{name}:{pos.line}:{pos.col}" if pos else name
        return f"{at}: {'.'.join(map(str, path))}: " if path else f"{at}: "


@dataclass
class Failure:
    turn: int  # 0 = the greeting
    step: str  # what the caller did, as written
    expected: str
    happened: str


@dataclass
class ConvoResult:
    path: str
    call: Call
    failures: list[Failure] = field(default_factory=list)
    turns: list[Turn] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


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
        raise FlowError(path, [Problem((), "это файл сценария (в нём states:), а нужен файл разговора с "
                                           "turns: — сценарий указывают в разговоре строкой flow: или "
                                           "опцией --flow",
                                       smap.find(()))])
    if not isinstance(raw, dict):
        raise FlowError(path, [Problem((), "файл разговора — это turns: со списком шагов "
                                            "(caller:, dtmf:, silence:, expect:)", smap.find(()))])
    try:
        convo = ConvoFile.model_validate(raw)
    except ValidationError as err:
        raise FlowError(path, problems + translate_all(err, smap, ConvoFile)) from None
    if problems:
        raise FlowError(path, problems)
    convo._positions = smap
    return convo


def resolve_flow_path(convo: ConvoFile, convo_path: Path, default: Path) -> Path:
    return _resolved(convo_path.parent / convo.flow) if convo.flow else default


def _resolved(path: Path) -> Path:
    """``path.resolve()``, or the path as written when it cannot be resolved (a NUL in the name, a
    symlink loop): reading it then fails with a message that names it."""
    try:
        return path.resolve()
    except (OSError, ValueError, RuntimeError):
        return path


class Runner:
    """Runs convo files, loading each flow (and building its machine) once."""

    def __init__(self, default_flow: Path):
        self.default_flow = default_flow
        self._engines: dict[Path, Engine] = {}

    def engine(self, path: Path) -> Engine:
        path = _resolved(Path(path))
        if path not in self._engines:
            self._engines[path] = Engine(load_flow(path))
        return self._engines[path]

    def engine_for(self, convo: ConvoFile, convo_path: Path) -> Engine:
        """The engine of the flow a convo file names (``flow:``), or of the default flow."""
        try:
            return self.engine(resolve_flow_path(convo, convo_path, self.default_flow))
        except FlowError:
            raise  # the flow file itself is broken: its messages point into it
        except UserError as err:
            if not convo.flow:
                raise
            raise UserError(f"{convo.where(str(convo_path), 'flow')}{err} (путь считается от папки файла "
                            "разговора)") from None

    def run_file(self, path: str | Path, *, transcript: Path | None = None) -> ConvoResult:
        path = Path(path)
        convo = load_convo(path)
        return run_convo(self.engine_for(convo, path), convo, str(path), transcript=transcript)


def run_convo(engine: Engine, convo: ConvoFile, name: str = "<convo>", *,
              transcript: Path | None = None, hear_audio=None) -> ConvoResult:
    clock = ManualClock(convo.now) if convo.now else system_clock
    try:
        call = engine.start_call(clock=clock, transcript=transcript, seed=convo.seed)
    except OSError as err:  # --transcript names a folder, a read-only place…
        from ivr.oserrors import describe

        reason = ("часть пути — файл, а не папка" if isinstance(err, (FileExistsError, NotADirectoryError))
                  else describe(err))
        raise UserError(f"{transcript}: не удаётся записать расшифровку ({reason})") from None
    result = ConvoResult(name, call)
    said = list(call.greeting)
    for n, step in enumerate(convo.turns):
        if step.wait and isinstance(clock, ManualClock):
            _advance(clock, step.wait, convo.where(name, "turns", n, "wait"))
        try:
            inp = _input(step, call, convo_dir=Path(name).parent, hear_audio=hear_audio)
        except UserError as err:  # an audio step: a missing or broken file, no speech model
            where = convo.where(name, "turns", n, "audio")
            try:
                raise type(err)(f"{where}{err}") from None
            except TypeError:  # pragma: no cover - a UserError subclass with other arguments
                raise UserError(f"{where}{err}") from None
        if inp is not None:
            if inp.kind == "silence" and isinstance(clock, ManualClock):
                _advance(clock, inp.seconds, convo.where(name, "turns", n))
            turn = call.handle(inp)
            result.turns.append(turn)
            said = turn.said
        if step.expect is not None:
            result.failures += [Failure(n + 1, _describe(step), exp, got)
                                for exp, got in check(step.expect, call, said, result.turns)]
    return result


def _advance(clock: ManualClock, seconds: float, where: str) -> None:
    try:
        clock.advance(seconds)
        clock.now.astimezone()  # still a representable moment in any zone the flow may use
        if clock.now.year > 2200:
            raise OverflowError
    except OverflowError:
        raise UserError(f"{where}часы звонка ушли дальше 2200 года — уменьшите wait: и silence:") from None


def _input(step: ConvoTurn, call: Call, convo_dir: Path, hear_audio) -> Input | None:
    if step.caller is not None:
        return Input("speech", _fill(step.caller, call))
    if step.dtmf is not None:
        return Input("dtmf", _fill(step.dtmf, call))
    if step.silence is not None:
        return Input("silence", "", step.silence)
    if step.audio is not None:
        if hear_audio is None:
            from ivr.channels.audio_turns import hear_audio as default_hear
            hear_audio = default_hear
        return hear_audio(convo_dir / step.audio, call)
    return None


def _fill(text: str, call: Call) -> str:
    """Convo steps may repeat what the simulator said: ``{reference}`` digits,
    ``{reference_words}`` as a caller would say them."""
    return (text.replace("{reference_words}", speak_digits("reference", call.reference).replace(",", ""))
                .replace("{reference}", call.reference))


def _describe(step: ConvoTurn) -> str:
    for key in ("caller", "dtmf", "silence", "audio"):
        value = getattr(step, key)
        if value is not None:
            return f"{key}: {value}"
    return "expect"


def check(expect: Expect, call: Call, said: list[str], turns: list[Turn]) -> list[tuple[str, str]]:
    """Compare one expectation with the call; returns (expected, happened) pairs that differ."""
    problems: list[tuple[str, str]] = []
    text = "\n".join(said).lower()
    shown = " | ".join(said) or "(ничего)"
    if expect.state is not None and call.state != expect.state:
        problems.append((f"state: {expect.state}", f"state: {call.state}"))
    for part in expect.says:
        if part.lower() not in text:
            problems.append((f"says: «{part}»", f"said: {shown}"))
    for part in expect.not_says:
        if part.lower() in text:
            problems.append((f"not_says: «{part}»", f"said: {shown}"))
    for slot, value in expect.slots.items():
        got = call.slots.get(slot)
        if value is None:
            if got is not None:
                problems.append((f"slots.{slot}: не заполнен", f"slots.{slot}: {got.value}"))
        elif got is None or got.value != value or not got.valid:
            actual = "не заполнен" if got is None else f"{got.value} ({'верно' if got.valid else 'неверно'})"
            problems.append((f"slots.{slot}: {value}", f"slots.{slot}: {actual}"))
    if expect.ended is not None and call.ended != expect.ended:
        problems.append((f"ended: {expect.ended}", f"ended: {call.ended}"))
    last = turns[-1] if turns else None
    if expect.event is not None and (last is None or last.event != expect.event):
        problems.append((f"event: {expect.event}", f"event: {last.event if last else None}"))
    if expect.match is not None:
        got_match = (last.match or {}).get("id") or (last.match or {}).get("slot") if last else None
        if got_match != expect.match:
            problems.append((f"match: {expect.match}", f"match: {got_match}"))
    if expect.topic is not None and call.topic != expect.topic:
        problems.append((f"topic: {expect.topic}", f"topic: {call.topic}"))
    return problems


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


def coverage(flow: Flow, calls: list[Call]) -> dict:
    """States, drawn transitions and menu options the given calls exercised."""
    visited = {s for c in calls for s in c.visits}
    taken = {e for c in calls for e in c.edges}
    taken_any = {(e.via, e.dest) for e in taken if e.via.startswith("global:")}
    edges = flow.edges
    hit = {e for e in edges if e in taken or (e.source == "*" and (e.via, e.dest) in taken_any)}
    chosen = {(e.source, e.via) for e in taken}
    options_hit = {o for o in flow.options if o in chosen}
    return {
        "states": (len(visited & set(flow.states)), len(flow.states)),
        "transitions": (len(hit), len(edges)),
        "options": (len(options_hit), len(flow.options)),
        "missed_states": sorted(set(flow.states) - visited),
        "missed_transitions": sorted(f"{e.source} —{e.via}→ {e.dest}" for e in edges - hit),
    }
