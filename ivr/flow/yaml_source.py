"""Safe YAML reading that remembers where every value came from.

Flow authors edit YAML by hand, so every later error must point at ``file:line:col``. PyYAML's C
composer (fast enough for a 1,000-state flow) gives us nodes with positions; we build plain Python
values from them ourselves, recording the position of each mapping key and sequence item by its path,
and reporting duplicate keys (which a plain ``yaml.safe_load`` silently lets the last one win).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import yaml
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

try:  # the C composer is ~10x faster; the pure-Python one behaves the same
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - wheels ship libyaml
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

Path = tuple[object, ...]


@dataclass(frozen=True)
class Pos:
    line: int  # 1-based
    col: int  # 1-based


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a flow file, already phrased for its author."""

    path: Path
    message: str
    pos: Pos | None = None


@dataclass
class SourceMap:
    """Positions of values inside one YAML document, looked up by path."""

    positions: dict[Path, Pos] = field(default_factory=dict)

    def find(self, path: Path) -> Pos | None:
        """Position of ``path`` or of its nearest ancestor that has one."""
        path = tuple(path)
        while True:
            pos = self.positions.get(path)
            if pos is not None or not path:
                return pos
            path = path[:-1]


class YamlSyntaxError(Exception):
    def __init__(self, problems: list[Problem]):
        super().__init__(problems)
        self.problems = problems


_constructor = yaml.constructor.SafeConstructor()


def _pos(mark: yaml.Mark) -> Pos:
    return Pos(mark.line + 1, mark.column + 1)


def _scalar(node: ScalarNode) -> object:
    return _constructor.construct_object(node, deep=True)


def load_with_positions(text: str) -> tuple[object, SourceMap, list[Problem]]:
    """Parse one YAML document; returns (value, positions, duplicate-key problems).

    Raises YamlSyntaxError for text that is not YAML at all.
    """
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        problem = err.problem or "синтаксическая ошибка"
        raise YamlSyntaxError(
            [
                Problem(
                    (),
                    f"это не корректный YAML ({problem}) — проверьте отступы (пробелы, не табуляция), "
                    "двоеточие после ключа и закрытые кавычки",
                    _pos(mark) if mark else None,
                )
            ]
        ) from None
    except yaml.YAMLError as err:
        raise YamlSyntaxError([Problem((), f"это не корректный YAML: {err}")]) from None
    smap = SourceMap()
    problems: list[Problem] = []
    if root is None:
        return None, smap, problems
    smap.positions[()] = _pos(root.start_mark)
    value = _build(root, (), smap, problems)
    return value, smap, problems


def _build(node: yaml.Node, path: Path, smap: SourceMap, problems: list[Problem]) -> object:
    if isinstance(node, ScalarNode):
        return _scalar(node)
    if isinstance(node, SequenceNode):
        items = []
        for index, child in enumerate(node.value):
            child_path = (*path, index)
            smap.positions[child_path] = _pos(child.start_mark)
            items.append(_build(child, child_path, smap, problems))
        return items
    if isinstance(node, MappingNode):
        out: dict[object, object] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                problems.append(
                    Problem(path, "ключом может быть только простое значение — напишите имя ключа текстом",
                            _pos(key_node.start_mark))
                )
                continue
            key = _scalar(key_node)
            if isinstance(key, (int, float, bool)) and not isinstance(key, bool):
                key = str(key)
            child_path = (*path, key)
            if key in out:
                first = smap.positions.get(child_path)
                where = f" (первый раз — строка {first.line})" if first else ""
                problems.append(
                    Problem(child_path, f"ключ «{key}» повторяется{where} — оставьте один, "
                            "или переименуйте второй", _pos(key_node.start_mark))
                )
                continue
            smap.positions[child_path] = _pos(key_node.start_mark)
            out[key] = _build(value_node, child_path, smap, problems)
        return out
    return None  # pragma: no cover - composer yields only the three node kinds
