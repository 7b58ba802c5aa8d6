"""Running convo files: one call per file, its steps fed through the shared call loop, each
step's expectations checked after it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ivr.convo.expectations import Failure, check, unknown_names
from ivr.convo.schema import ConvoFile, ConvoTurn, load_convo
from ivr.engine import Call, Engine, Input, ManualClock, Turn, system_clock
from ivr.engine.clock import Clock
from ivr.engine.loop import converse
from ivr.errors import UserError
from ivr.flow.loader import FlowError, load_flow
from ivr.slots import slot_type

HearAudio = Callable[[Path, Call], Input]


@dataclass
class ConvoResult:
    path: str
    call: Call
    failures: list[Failure] = field(default_factory=list)
    turns: list[Turn] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


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
        self.defaulted = 0  # convo files run on the default flow because they name none

    def engine(self, path: Path) -> Engine:
        path = _resolved(Path(path))
        if path not in self._engines:
            self._engines[path] = Engine(load_flow(path))
        return self._engines[path]

    def engine_for(self, convo: ConvoFile, convo_path: Path) -> Engine:
        """The engine of the flow a convo file names (``flow:``), or of the default flow."""
        if not convo.flow:
            self.defaulted += 1
        try:
            return self.engine(resolve_flow_path(convo, convo_path, self.default_flow))
        except FlowError:
            raise  # the flow file itself is broken: its messages point into it
        except UserError as err:
            if not convo.flow:
                raise
            raise UserError(
                f"{convo.where(str(convo_path), 'flow')}{err} (путь считается от папки файла разговора)"
            ) from None

    def run_file(self, path: str | Path, *, transcript: Path | None = None) -> ConvoResult:
        path = Path(path)
        convo = load_convo(path)
        return run_convo(self.engine_for(convo, path), convo, str(path), transcript=transcript)


def run_convo(
    engine: Engine,
    convo: ConvoFile,
    name: str = "<convo>",
    *,
    transcript: Path | None = None,
    hear_audio: HearAudio | None = None,
    keep_personal_data: bool = False,
) -> ConvoResult:
    unknown = unknown_names(convo, engine.flow)
    if unknown:
        raise FlowError(name, unknown)
    clock = ManualClock(convo.now) if convo.now else system_clock
    try:
        call = engine.start_call(
            clock=clock, transcript=transcript, seed=convo.seed, keep_personal_data=keep_personal_data
        )
    except OSError as err:  # --transcript names a folder, a read-only place…
        from ivr.oserrors import describe

        reason = (
            "часть пути — файл, а не папка"
            if isinstance(err, (FileExistsError, NotADirectoryError))
            else describe(err)
        )
        raise UserError(f"{transcript}: не удаётся записать расшифровку ({reason})") from None
    result = ConvoResult(name, call)
    script = ConvoScript(convo, name, clock, result, hear_audio)
    converse(call, script, script)
    return result


class ConvoScript:
    """A convo file as the call loop's input source and view: steps become inputs, and each
    step's ``expect:`` is checked once the call has answered it (a step with no input checks what
    the previous answer left)."""

    def __init__(
        self, convo: ConvoFile, name: str, clock: Clock, result: ConvoResult, hear_audio: HearAudio | None
    ):
        self.convo, self.name, self.clock, self.result = convo, name, clock, result
        self.hear_audio = hear_audio
        self.said: list[str] = []
        self.n = 0  # the next step
        self.pending: tuple[int, ConvoTurn] | None = None  # a step whose answer is awaited

    def greeting(self, call: Call) -> None:
        self.said = list(call.greeting)

    def turn(self, call: Call, turn: Turn) -> None:
        self.said = turn.said
        self.result.turns.append(turn)
        self._check_pending(call)

    def _check_pending(self, call: Call) -> None:
        if self.pending is not None:
            n, step = self.pending
            self.pending = None
            if step.expect is not None:
                at = self.convo.position(self.name, "turns", n)
                self.result.failures += [
                    Failure(n + 1, describe_step(step), exp, got, at)
                    for exp, got in check(step.expect, call, self.said, self.result.turns)
                ]

    def next_input(self, call: Call) -> Input | None:
        convo, name = self.convo, self.name
        while self.n < len(convo.turns):
            n, step = self.n, convo.turns[self.n]
            if call.ended and describe_step(step) != "expect":
                # the call hung up before this step: say so once, instead of failing every
                # expectation that follows against a call that no longer listens
                self.n = len(convo.turns)
                self.result.failures.append(
                    Failure(
                        n + 1,
                        describe_step(step),
                        "звонок ещё идёт",
                        f"звонок уже завершён (состояние {call.state}) — этот и следующие шаги лишние",
                        convo.position(name, "turns", n),
                    )
                )
                return None
            self.n += 1
            if step.wait and isinstance(self.clock, ManualClock):
                _advance(self.clock, step.wait, convo.where(name, "turns", n, "wait"))
            try:
                inp = _input(step, call, convo_dir=Path(name).parent, hear_audio=self.hear_audio)
            except UserError as err:  # an audio step: a missing or broken file, no speech model
                where = convo.where(name, "turns", n, "audio")
                try:
                    raise type(err)(f"{where}{err}") from None
                except TypeError:  # pragma: no cover - a UserError subclass with other arguments
                    raise UserError(f"{where}{err}") from None
            self.pending = (n, step)
            if inp is None:
                self._check_pending(call)
                continue
            if inp.kind == "silence" and isinstance(self.clock, ManualClock):
                _advance(self.clock, inp.seconds, convo.where(name, "turns", n))
            return inp
        return None


def _advance(clock: ManualClock, seconds: float, where: str) -> None:
    try:
        clock.advance(seconds)
        clock.now.astimezone()  # still a representable moment in any zone the flow may use
        if clock.now.year > 2200:
            raise OverflowError
    except OverflowError:
        raise UserError(f"{where}часы звонка ушли дальше 2200 года — уменьшите wait: и silence:") from None


def _input(step: ConvoTurn, call: Call, convo_dir: Path, hear_audio: HearAudio | None) -> Input | None:
    if step.caller is not None:
        return Input("speech", _fill(step.caller, call))
    if step.dtmf is not None:
        return Input("dtmf", _fill(step.dtmf, call))
    if step.silence is not None:
        return Input("silence", "", step.silence)
    if step.audio is not None:
        if hear_audio is None:
            from ivr.hearing import hear_audio as default_hear

            hear_audio = default_hear
        return hear_audio(convo_dir / step.audio, call)
    return None


def _fill(text: str, call: Call) -> str:
    """Convo steps may repeat what the simulator said: ``{reference}`` digits,
    ``{reference_words}`` as a caller would say them."""
    return text.replace(
        "{reference_words}", slot_type("reference").speak(call.reference).replace(",", "")
    ).replace("{reference}", call.reference)


def describe_step(step: ConvoTurn) -> str:
    for key in ("caller", "dtmf", "silence", "audio"):
        value = getattr(step, key)
        if value is not None:
            return f"{key}: {value}"
    return "expect"
