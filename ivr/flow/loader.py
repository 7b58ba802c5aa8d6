"""Load a flow file: safe YAML → structure check → cross-reference checks → ``Flow``.

Every problem is collected (not just the first) and reported as
``file:line:col: what is wrong — what to write instead``; the CLI turns a ``FlowError`` into exit
code 2 without a traceback.
"""

from __future__ import annotations

import difflib
import typing
from pathlib import Path

from pydantic import BaseModel, ValidationError

from ivr.errors import UserError
from ivr.flow import schema
from ivr.flow.checks import check_flow
from ivr.flow.model import Flow
from ivr.flow.yaml_source import Problem, SourceMap, YamlSyntaxError, load_with_positions


class FlowError(UserError):
    """A flow file with problems; ``problems`` keeps them all, ``str()`` lists them one per line."""

    def __init__(self, path: Path | str, problems: list[Problem]):
        self.path = str(path)
        self.problems = sorted(problems, key=lambda p: (p.pos.line, p.pos.col) if p.pos else (0, 0))
        super().__init__("\n".join(self.format(p) for p in self.problems))

    def format(self, problem: Problem) -> str:
        where = f"{self.path}:{problem.pos.line}:{problem.pos.col}" if problem.pos else self.path
        return f"{where}: {problem.message}"


def load_flow(path: str | Path) -> Flow:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{path}: файл сценария не найден — проверьте путь") from None
    except IsADirectoryError:
        raise UserError(f"{path}: это папка, а нужен файл сценария .yaml") from None
    except UnicodeDecodeError as err:
        raise UserError(
            f"{path}: файл не в кодировке UTF-8 (байт {err.start}) — сохраните его как UTF-8"
        ) from None
    except OSError as err:
        raise UserError(f"{path}: не удаётся прочитать файл ({err.strerror})") from None
    return parse_flow(text, path)


def parse_flow(text: str, path: str | Path = "<flow>") -> Flow:
    try:
        raw, smap, problems = load_with_positions(text)
    except YamlSyntaxError as err:
        raise FlowError(path, err.problems) from None
    if not isinstance(raw, dict):
        raise FlowError(path, [Problem((), "сценарий должен быть набором разделов: flow:, states: "
                                            "(и по желанию data:, globals:)", smap.find(()))])
    spec, structural = _validate(raw, smap)
    problems += structural
    if spec is not None:
        known = set(raw.get("states") or {}) if isinstance(raw.get("states"), dict) else set()
        problems += [Problem(p.path, p.message, smap.find(p.path)) for p in check_flow(spec, known)]
    if problems or spec is None:
        raise FlowError(path, problems)
    return Flow(spec, source=str(path))


def _validate(raw: dict, smap: SourceMap) -> tuple[schema.FlowFile | None, list[Problem]]:
    """Validate the file section by section, so one broken state does not hide the problems of the
    others: cross-reference checks still run on every state that is well formed."""
    problems: list[Problem] = []
    sections = {"globals": (raw.get("globals"), schema.Global), "states": (raw.get("states"), schema.State)}
    top = {k: v for k, v in raw.items() if k not in sections or not isinstance(v, dict)}
    if isinstance(raw.get("states"), dict):
        top["states"] = {}  # validated one by one below
    try:
        head = schema.FlowFile.model_validate(top)
    except ValidationError as err:
        problems += [translate(e, smap) for e in err.errors()]
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
                problems += [translate({**e, "loc": (section, name, *e["loc"])}, smap) for e in err.errors()]
    if head is None:
        return None, problems
    spec = schema.FlowFile.model_construct(flow=head.flow, data=head.data, **parts)
    return spec, problems


_TYPE_WORDS = {
    "string_type": "здесь нужен текст в кавычках",
    "int_type": "здесь нужно целое число",
    "int_parsing": "здесь нужно целое число",
    "int_from_float": "здесь нужно целое число",
    "float_type": "здесь нужно число",
    "float_parsing": "здесь нужно число",
    "bool_type": "здесь нужно true или false",
    "bool_parsing": "здесь нужно true или false",
    "list_type": "здесь нужен список: строки, начинающиеся с «- »",
    "tuple_type": "здесь нужен список: строки, начинающиеся с «- »",
    "dict_type": "здесь нужен набор полей «ключ: значение»",
    "model_type": "здесь нужен набор полей «ключ: значение»",
    "model_attributes_type": "здесь нужен набор полей «ключ: значение»",
}


def translate(error: dict, smap: SourceMap, root: type[BaseModel] = schema.FlowFile) -> Problem:
    """One pydantic error as a positioned problem in the author's words."""
    loc = tuple(error["loc"])
    kind = error["type"]
    value = error.get("input")
    field = loc[-1] if loc else ""
    if kind == "missing":
        message = f"не хватает обязательного поля «{field}» — добавьте «{field}: …»"
    elif kind == "extra_forbidden":
        allowed = _allowed_fields(root, loc[:-1])
        guess = difflib.get_close_matches(str(field), allowed, n=1, cutoff=0.6)
        hint = f"возможно, вы имели в виду «{guess[0]}»" if guess else (
            "допустимые поля: " + ", ".join(allowed) if allowed else "уберите его")
        message = f"неизвестное поле «{field}» — {hint}"
    elif kind == "literal_error":
        allowed = [a.strip(" '") for a in error["ctx"]["expected"].replace(" or ", ", ").split(",")]
        guess = difflib.get_close_matches(str(value), allowed, n=1, cutoff=0.5)
        hint = f"возможно, «{guess[0]}»; " if guess else ""
        message = f"значение «{value}» не подходит — {hint}допустимые: {', '.join(allowed)}"
    elif kind in _TYPE_WORDS:
        message = f"{_TYPE_WORDS[kind]}, а написано {_show(value)}"
    elif kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        bound = next(iter(error["ctx"].values()))
        words = {"greater_than_equal": "не меньше", "greater_than": "больше",
                 "less_than_equal": "не больше", "less_than": "меньше"}[kind]
        message = f"значение {_show(value)} вне допустимого — напишите число {words} {bound}"
    elif kind == "string_pattern_mismatch":
        message = (f"значение {_show(value)} не подходит — используйте латинские строчные буквы, "
                   "цифры, «_» и «-», начиная с буквы")
    elif kind == "value_error":
        message = str(error["ctx"]["error"])
    else:  # pragma: no cover - a pydantic error kind we have not phrased yet
        message = error["msg"]
    return Problem(loc, f"{_where(loc)}{message}", smap.find(loc))


def _where(loc: tuple) -> str:
    return f"{'.'.join(str(p) for p in loc)}: " if loc else ""


def _show(value: object) -> str:
    if isinstance(value, (dict, list)):
        return "набор полей" if isinstance(value, dict) else "список"
    return f"«{value}»"


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
