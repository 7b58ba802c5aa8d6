"""Load a flow file: safe YAML → structure check → cross-reference checks → ``Flow``.

Every problem is collected (not just the first) and reported as
``file:line:col: what is wrong — what to write instead``; the CLI turns a ``FlowError`` into exit
code 2 without a traceback.
"""

from __future__ import annotations

import gc
import math
import os
import stat
import typing
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pydantic import BaseModel, ValidationError

from ivr.errors import UserError
from ivr.flow import schema
from ivr.flow.checks import check_flow
from ivr.flow.hints import closest
from ivr.flow.include import apply_parts, merge_includes
from ivr.flow.model import Flow
from ivr.flow.yaml_source import Problem, SourceMap, Unreadable, YamlSyntaxError, load_with_positions, preview


class FlowError(UserError):
    """A flow file with problems; ``problems`` keeps them all, ``str()`` lists them one per line."""

    def __init__(self, path: Path | str, problems: list[Problem]):
        self.path = str(path)
        # an alias repeats its anchor's problems at the anchor's position: say each once
        unique = list({(p.pos, p.message): p for p in reversed(problems)}.values())[::-1]
        self.problems = sorted(unique, key=lambda p: p.pos.order() if p.pos else (False, "", 0, 0))
        super().__init__("\n".join(self.format(p) for p in self.problems))

    def format(self, problem: Problem) -> str:
        where = problem.pos.where(self.path) if problem.pos else self.path
        # one problem per line, always: a value with a line break is shown with \n
        message = problem.message.replace("\r", "\\r").replace("\n", "\\n")
        return f"{where}: {message}"


def load_flow(path: str | Path) -> Flow:
    path = Path(path)
    return parse_flow(read_source(path, "сценария"), path)


# A flow of 1,000 states is about 0.6 MB of YAML; anything past this is not a hand-written flow.
MAX_SOURCE_BYTES = 20_000_000


def read_source(path: Path, what: str) -> str:
    """The text of a flow or convo file (``what``: "сценария", "разговора"); any reason it cannot
    be read is a UserError naming the file."""
    shown = str(path).replace("\0", "\\0")
    try:
        # Only a regular file of a sane size: /dev/zero read until memory ran out, a FIFO blocked
        # for ever. Opened non-blocking so that a FIFO is refused instead of waited on.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as file:
            info = os.fstat(file.fileno())
            if stat.S_ISDIR(info.st_mode):
                raise IsADirectoryError(path)
            if not stat.S_ISREG(info.st_mode):
                raise UserError(f"{shown}: это не обычный файл (устройство, канал или сокет) — укажите файл {what} .yaml")
            if info.st_size > MAX_SOURCE_BYTES:
                raise UserError(f"{shown}: файл {what} слишком большой ({info.st_size // 1_000_000} МБ; "
                                f"допустимо до {MAX_SOURCE_BYTES // 1_000_000} МБ) — разделите его")
            data = file.read(MAX_SOURCE_BYTES + 1)
        return data.decode("utf-8")
    except FileNotFoundError:
        raise UserError(f"{shown}: файл {what} не найден — проверьте путь") from None
    except IsADirectoryError:
        raise UserError(f"{shown}: это папка, а нужен файл {what} .yaml") from None
    except UnicodeDecodeError as err:
        # where an editor shows it: the line, and the column in characters of the text before it
        line_start = data.rfind(b"\n", 0, err.start) + 1
        line = data.count(b"\n", 0, err.start) + 1
        col = len(data[line_start:err.start].decode("utf-8", "replace")) + 1
        raise UserError(
            f"{shown}:{line}:{col}: байт 0x{data[err.start]:02X} не из кодировки UTF-8 — сохраните файл "
            "как UTF-8 (в редакторе: «Сохранить с кодировкой» → UTF-8)"
        ) from None
    except OSError as err:
        from ivr.oserrors import describe

        raise UserError(f"{shown}: не удаётся прочитать файл {what} ({describe(err)})") from None
    except ValueError:  # a NUL character in the path
        raise UserError(f"{shown}: в пути к файлу {what} недопустимый символ — проверьте путь") from None


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Loading builds a large tree of YAML nodes, positions and models, none of it cyclic garbage,
    and the cyclic collector traversed it again and again as it grew: a 40,000-state chain spent
    more than half its load in collections (2.5 s without them, 5.5 s with), so the load grew ~6×
    per 4× states. Reference counting still frees what a load drops; the collector runs after."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def parse_flow(text: str, path: str | Path = "<flow>") -> Flow:
    with _collector_paused():
        return _parse_flow(text, path)


def _parse_flow(text: str, path: str | Path) -> Flow:
    try:
        raw, smap, problems = load_with_positions(text)
    except YamlSyntaxError as err:
        raise FlowError(path, err.problems) from None
    if not isinstance(raw, dict):
        raise FlowError(path, [Problem((), "сценарий должен быть набором разделов: flow:, states: "
                                            "(и по желанию data:, globals:)", smap.find(()))])
    if "turns" in raw and "states" not in raw:
        raise FlowError(path, [Problem((), "это файл разговора (в нём turns:), а нужен сценарий с flow: и "
                                           "states: — разговоры запускают командой ivr test или "
                                           "ivr run --script",
                                       smap.find(()))])
    merge_includes(raw, smap, Path(path), problems, lambda part: read_source(part, "части сценария"))
    apply_parts(raw, smap, problems)
    spec, structural = _validate(raw, smap)
    problems += structural
    if spec is not None:
        known = set(raw.get("states") or {}) if isinstance(raw.get("states"), dict) else set()
        problems += [Problem(p.path, p.message, smap.find(p.path)) for p in check_flow(spec, known)]
    if problems or spec is None:
        raise FlowError(path, problems)
    return Flow(spec, source=str(path), positions=smap)


def _validate(raw: dict, smap: SourceMap) -> tuple[schema.FlowFile | None, list[Problem]]:
    """Validate the file section by section, so one broken state does not hide the problems of the
    others: cross-reference checks still run on every state that is well formed."""
    problems: list[Problem] = []
    sections: dict[str, tuple[object, type[BaseModel]]] = {
        "globals": (raw.get("globals"), schema.Global), "states": (raw.get("states"), schema.State)}
    top = {k: v for k, v in raw.items() if k not in sections or not isinstance(v, dict)}
    if isinstance(raw.get("states"), dict):
        top["states"] = {}  # validated one by one below
    try:
        head = schema.FlowFile.model_validate(top)
    except ValidationError as err:
        problems += translate_all(err, smap)
        head = None
    parts: dict[str, dict] = {}
    for section, (items, model) in sections.items():
        parts[section] = {}
        if not isinstance(items, dict):
            continue
        for name, item in items.items():
            try:
                parts[section][name] = model.model_validate(item)
            except ValidationError as err:
                problems += translate_all(err, smap, prefix=(section, name))
    if head is None:
        return None, problems
    spec = schema.FlowFile.model_construct(flow=head.flow, data=head.data, globals=parts["globals"],
                                           states=parts["states"])
    return spec, problems


_TYPE_WORDS = {
    "string_type": "здесь нужен текст в кавычках",
    "int_type": "здесь нужно целое число",
    "int_parsing": "здесь нужно целое число",
    "int_parsing_size": "здесь нужно целое число",
    "int_from_float": "здесь нужно целое число",
    "float_type": "здесь нужно число",
    "float_parsing": "здесь нужно число",
    "finite_number": "здесь нужно обычное число",
    "number_not_bool": "здесь нужно число",
    "keys_not_bool": "здесь нужны кнопки текстом в кавычках, например dtmf: \"123#\"",
    "bool_type": "здесь нужно true или false",
    "bool_parsing": "здесь нужно true или false",
    "list_type": "здесь нужен список: строки, начинающиеся с «- »",
    "tuple_type": "здесь нужен список: строки, начинающиеся с «- »",
    "dict_type": "здесь нужен набор полей «ключ: значение»",
    "model_type": "здесь нужен набор полей «ключ: значение»",
    "model_attributes_type": "здесь нужен набор полей «ключ: значение»",
    "datetime_type": "здесь нужны дата и время с поясом, например \"2026-11-25T10:00:00+03:00\"",
    "datetime_parsing": "здесь нужны дата и время с поясом, например \"2026-11-25T10:00:00+03:00\"",
    "datetime_from_date_parsing": "здесь нужны дата и время с поясом, например \"2026-11-25T10:00:00+03:00\"",
    "datetime_object_invalid": "здесь нужны дата и время с поясом, например \"2026-11-25T10:00:00+03:00\"",
}
_BOUND_WORDS = {"greater_than_equal": "не меньше", "greater_than": "больше",
                "less_than_equal": "не больше", "less_than": "меньше"}


def translate_all(err: ValidationError, smap: SourceMap, root: type[BaseModel] = schema.FlowFile,
                  prefix: tuple = ()) -> list[Problem]:
    """Every pydantic error of ``err`` as a positioned problem, ``prefix`` prepended to its path.

    Values the YAML reader could not read are reported by it already and skipped here."""
    return [translate({**e, "loc": (*prefix, *e["loc"])}, smap, root) for e in err.errors()
            if not isinstance(e.get("input"), Unreadable) or e["type"] == "extra_forbidden"]


def translate(error: dict, smap: SourceMap, root: type[BaseModel] = schema.FlowFile) -> Problem:
    """One pydantic error as a positioned problem in the author's words."""
    loc = tuple(error["loc"])
    kind = error["type"]
    value = raw = error.get("input")
    written = smap.texts.get(loc)
    if written is not None and not isinstance(value, (str, dict, list)):
        value = Written(written)  # quote the file: «yes», «~», «0x1F», not True, None, 31
    field = loc[-1] if loc else ""
    if kind == "missing":
        message = f"не хватает обязательного поля «{field}» — добавьте «{field}: …»"
    elif kind == "extra_forbidden":
        allowed = _allowed_fields(root, loc[:-1])
        guess = [g] if (g := closest(str(field), allowed)) else []
        hint = f"возможно, вы имели в виду «{guess[0]}»" if guess else (
            "допустимые поля: " + ", ".join(allowed) if allowed else "уберите его")
        message = f"неизвестное поле «{preview(str(field), 60)}» — {hint}"
    elif kind == "literal_error":
        allowed = [a.strip(" '") for a in error["ctx"]["expected"].replace(" or ", ", ").split(",")]
        guess = [g] if isinstance(value, str) and (g := closest(value, allowed, 0.5)) else []
        hint = f"возможно, «{guess[0]}»; " if guess else ""
        message = f"значение {_show(value)} не подходит — {hint}допустимые: {', '.join(allowed)}"
    elif isinstance(raw, float) and not math.isfinite(raw) and kind in (*_BOUND_WORDS, "finite_number"):
        message = f"здесь нужно обычное число, а написано {_show(value)}"
    elif kind in _TYPE_WORDS:
        message = f"{_TYPE_WORDS[kind]}, {_written(value)}"
    elif kind in _BOUND_WORDS:
        bound = next(iter(error["ctx"].values()))
        if isinstance(bound, float) and bound.is_integer():
            bound = int(bound)
        message = f"значение {_show(value)} вне допустимого — напишите число {_BOUND_WORDS[kind]} {bound}"
    elif kind == "string_pattern_mismatch":
        message = (f"значение {_show(value)} не подходит — используйте латинские строчные буквы, "
                   "цифры, «_» и «-», начиная с буквы")
    elif kind == "string_too_short":
        message = "здесь нужен непустой текст"
    elif kind == "value_error":
        message = str(error["ctx"]["error"])
    else:  # a pydantic error kind we have not phrased yet: still the author's language and a position
        message = f"значение {_show(value)} не подходит по типу или формату — см. docs/flow-format.md"
    return Problem(loc, f"{_where(loc)}{message}", smap.find(loc))


def _where(loc: tuple) -> str:
    return f"{'.'.join(preview(str(p), 60) for p in loc)}: " if loc else ""


class Written(str):
    """A value's text exactly as it stands in the file."""


def _show(value: object) -> str:
    """A value as the author wrote it in YAML."""
    if isinstance(value, Written):
        return f"«{preview(value, 60)}»" if value else "пустое значение"
    if isinstance(value, (dict, list, tuple)):
        return "набор полей" if isinstance(value, dict) else "список"
    if value is None:
        return "пустое значение"
    if isinstance(value, bool):
        return "«true»" if value else "«false»"
    if isinstance(value, float) and not math.isfinite(value):
        return "«.nan»" if math.isnan(value) else ("«.inf»" if value > 0 else "«-.inf»")
    return f"«{preview(str(value), 60)}»"


def _written(value: object) -> str:
    empty = value is None or (isinstance(value, Written) and not value)
    return "а значение не указано" if empty else f"а написано {_show(value)}"


def _allowed_fields(root: type[BaseModel], loc: tuple) -> list[str]:
    """Field names of the model at ``loc``, for the "did you mean" hint."""
    model = root
    for part in loc:
        info = model.model_fields.get(str(part)) or next(
            (f for f in model.model_fields.values() if f.alias == part), None)
        if info is None:
            continue  # a list index or a dict key (a state's name): same model further down
        inner = _model_in(info.annotation)
        if inner is None:
            return []
        model = inner
    return [f.alias or name for name, f in model.model_fields.items()]


def _model_in(annotation: object) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None
