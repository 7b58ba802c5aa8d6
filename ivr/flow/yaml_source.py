"""Safe YAML reading that remembers where every value came from.

Flow authors edit YAML by hand, so every later error must point at ``file:line:col``. PyYAML's C
composer (fast enough for a 1,000-state flow) gives us nodes with positions; we build plain Python
values from them ourselves, recording the position of each mapping key and sequence item by its path,
and reporting duplicate keys (which a plain ``yaml.safe_load`` silently lets the last one win).

Building the values ourselves also keeps hostile or broken files from getting further than a
positioned problem: mapping keys are the text the author wrote (``yes:``, ``1:`` and ``null:`` name a
state "yes", "1" and "null", not True, 1 and None), unknown tags and values a tag cannot read are
problems instead of exceptions, merge keys (``<<: *defaults``) work as in ``yaml.safe_load``, and
anchors/aliases cannot loop for ever or blow up into millions of values ("billion laughs").
"""

from __future__ import annotations

from dataclasses import dataclass, field

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from ivr.understanding.plural import counted

try:  # the C composer is ~10x faster; the pure-Python one behaves the same
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - wheels ship libyaml
    from yaml import SafeLoader as _Loader

Path = tuple[object, ...]

# Values an alias may add on top of the document's own: a flow that shares a block of globals or
# options between states needs a few thousand; an alias bomb needs billions.
MAX_ALIAS_VALUES = 100_000
# A flow is about 8 levels deep (states.x.options.0.keys.0); aliases must not nest deeper than this.
MAX_DEPTH = 100


@dataclass(frozen=True)
class Pos:
    line: int  # 1-based
    col: int  # 1-based
    # the file this position is in, when it is not the file being loaded (a part it includes)
    source: str | None = None

    def where(self, path: object) -> str:
        """``file:line:col``: ``path`` is the loaded file, used unless the position is elsewhere."""
        return f"{self.source or path}:{self.line}:{self.col}"

    def order(self) -> tuple[bool, str, int, int]:
        """Problems sort by file (the loaded one first), then line and column."""
        return (self.source is not None, self.source or "", self.line, self.col)


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
    # how a value YAML read as a number, true/false or null was written ("yes", "~", "0x1F"), so a
    # message about it quotes the file rather than Python
    texts: dict[Path, str] = field(default_factory=dict)

    def find(self, path: Path) -> Pos | None:
        """Position of ``path`` or of its nearest ancestor that has one."""
        path = tuple(path)
        while True:
            pos = self.positions.get(path)
            if pos is not None or not path:
                return pos
            path = path[:-1]


class Unreadable(str):
    """The text of a value that could not be read (a problem is already reported for it): later
    checks skip their own complaints about it instead of reporting it a second time."""


class YamlInt(int):
    """An integer as the author wrote it: ``str()`` gives the text, so ``dtmf: 0123`` and
    ``keys: 010`` stay keys "0123" and "010" instead of the octal numbers 83 and 8, and a message
    quotes «1:30» rather than the 90 YAML 1.1 reads there."""

    text: str

    def __new__(cls, value: int, text: str | None = None) -> YamlInt:
        obj = super().__new__(cls, value)
        obj.text = int.__repr__(obj) if text is None else text
        return obj

    def __str__(self) -> str:
        return self.text


class YamlSyntaxError(Exception):
    def __init__(self, problems: list[Problem]):
        super().__init__(problems)
        self.problems = problems


_TAG = "tag:yaml.org,2002:"
_STR, _MAP, _SEQ, _MERGE, _INT = (_TAG + t for t in ("str", "map", "seq", "merge", "int"))
# Tags a scalar may carry (written or implied); "=" and "<<" standing as values are plain text.
_SCALAR_TAGS = {_TAG + t for t in ("null", "bool", "int", "float", "timestamp")}
_TEXT_TAGS = {_STR, _TAG + "value", _MERGE}
_constructor = SafeConstructor()
_construct = SafeConstructor.yaml_constructors


def _pos(mark: yaml.Mark) -> Pos:
    return Pos(mark.line + 1, mark.column + 1)


def _tag_name(tag: str) -> str:
    return "!!" + tag[len(_TAG):] if tag.startswith(_TAG) else tag


def preview(text: str, limit: int = 40) -> str:
    """A value quoted in a message: long ones cut, so a 1 MB phrase does not flood the screen."""
    return text if len(text) <= limit else text[:limit] + "…"


def _offset_pos(text: str, index: int) -> Pos:
    line = text.count("\n", 0, index) + 1
    return Pos(line, index - (text.rfind("\n", 0, index) + 1) + 1)


def load_with_positions(text: str) -> tuple[object, SourceMap, list[Problem]]:
    """Parse one YAML document; returns (value, positions, problems found while building it).

    Raises YamlSyntaxError for text that is not YAML at all, or that expands beyond reason.
    """
    root = _compose(text)
    smap = SourceMap()
    problems: list[Problem] = []
    if root is None:
        return None, smap, problems
    smap.positions[()] = _pos(root.start_mark)
    value = _Builder(smap, problems).build(root, (), 0)
    return value, smap, problems


def _compose(text: str) -> yaml.Node | None:
    def fail(message: str, pos: Pos | None) -> YamlSyntaxError:
        return YamlSyntaxError([Problem((), message, pos)])

    try:
        return yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        raise fail(f"это не корректный YAML: {_syntax_message(err, text, mark)}",
                   _pos(mark) if mark else None) from None
    except yaml.reader.ReaderError as err:
        # libyaml counts bytes of the UTF-8 text; authors count characters
        index = len(text.encode("utf-8", "surrogatepass")[:err.position].decode("utf-8", "ignore"))
        char = err.character if isinstance(err.character, int) else 0
        raise fail(f"недопустимый символ U+{char:04X} (управляющий или невидимый) — удалите его; "
                   "в YAML допустимы только печатные символы, перевод строки и табуляция внутри кавычек",
                   _offset_pos(text, index)) from None
    except UnicodeEncodeError as err:  # lone surrogates: only possible for text not read from a file
        raise fail(f"символ U+{ord(text[err.start]):04X} не записывается в UTF-8 — удалите его",
                   _offset_pos(text, err.start)) from None
    except yaml.YAMLError as err:  # pragma: no cover - every libyaml error is one of the above
        raise fail(f"это не корректный YAML: {str(err).splitlines()[0]}", None) from None


_GENERIC_HINT = ("проверьте отступы (пробелы, не табуляция), двоеточие после ключа и закрытые кавычки "
                 "и скобки")
_QUOTE_HINT = "если это часть текста, возьмите весь текст в кавычки"
_SYNTAX_TAB = "табуляция в отступе — в YAML отступы делаются только пробелами; замените табуляцию пробелами"
# libyaml's problems (scanner, parser, composer) in the author's words, by a fragment of the English
_SYNTAX = [
    ("another document", "в файле больше одного документа (строка «---» посередине) — оставьте один "
                         "сценарий на файл"),
    ("nesting depth", "слишком глубокая вложенность скобок — проверьте, что все [ и { закрыты"),
    ("undefined alias", "ссылка *… на якорь, которого нет выше в файле — объявите &имя раньше или уберите "
                        "ссылку"),
    ("incompatible YAML document", "неподдерживаемая версия в строке %YAML — уберите эту строку"),
    ("mapping values are not allowed", "второе двоеточие «: » в одном значении — возьмите значение в "
                                       "кавычки: say: \"Внимание: …\""),
    ("unknown escape character", "неизвестная последовательность с «\\» в двойных кавычках — используйте "
                                 "одинарные кавычки или удвойте обратную косую черту"),
    ("escape code", "неверная последовательность \\x, \\u или \\U в двойных кавычках — используйте "
                    "одинарные кавычки"),
    ("hexdecimal number", "неверная последовательность \\x, \\u или \\U в двойных кавычках — используйте "
                          "одинарные кавычки"),
    ("document indicator", "строка «---» или «...» внутри значения — закройте кавычку раньше"),
    ("tab character", _SYNTAX_TAB),
    ("<document start>", "строка не вписывается в структуру файла — проверьте её отступ: разделы flow:, "
                         "states: … пишутся с начала строки, поля одного раздела — с одинаковым отступом"),
    ("expected key", "здесь ожидается «ключ: значение» с тем же отступом, что у соседних строк — проверьте "
                     "отступ и двоеточие"),
    ("'-' indicator", "каждый элемент списка начинается с «- » с тем же отступом — проверьте отступ"),
    ("',' or ']'", "в списке [ … ] не хватает запятой или закрывающей скобки «]»"),
    ("',' or '}'", "в наборе { … } не хватает запятой или закрывающей скобки «}»"),
    ("node content", f"здесь не хватает значения — допишите его или уберите лишний знак; {_QUOTE_HINT}"),
    ("expected ':'", "не хватает двоеточия после ключа — напишите «ключ: значение» (ключ — не длиннее "
                     "1024 символов и на одной строке)"),
    ("block sequence entries", "«- » здесь не к месту — список пишется с новой строки с отступом"),
    ("mapping keys are not allowed", f"«? » здесь не к месту — {_QUOTE_HINT}"),
    ("alphabetic or numeric", f"после «&» или «*» должно идти имя якоря — {_QUOTE_HINT}"),
    ("comment or line break", f"лишний текст после значения в той же строке — {_QUOTE_HINT}"),
    ("whitespace or line break", f"после тега или директивы нужен пробел — {_QUOTE_HINT}"),
    ("directive", f"непонятная строка с «%» — уберите её; {_QUOTE_HINT}"),
    ("tag", f"непонятный тег «!…» — уберите его; {_QUOTE_HINT}"),
    ("URI", f"непонятный тег «!…» — уберите его; {_QUOTE_HINT}"),
    ("UTF-8 octet", f"непонятный тег «!…» — уберите его; {_QUOTE_HINT}"),
    ("indentation indicator", "после «|» или «>» цифра отступа не может быть 0 — уберите её"),
]


def _syntax_message(err: yaml.MarkedYAMLError, text: str, mark: yaml.Mark | None) -> str:
    problem = err.problem or ""
    char = text[mark.index] if mark is not None and 0 <= mark.index < len(text) else ""
    if "cannot start any token" in problem:
        if char == "\t":
            return _SYNTAX_TAB
        shown = f"«{char}»" if char.strip() else "этого знака"
        return f"значение не может начинаться с {shown} — возьмите текст в кавычки: \"{char.strip()}…\""
    if "end of stream" in problem:
        if err.context and "quoted" in err.context:
            return "не закрыта кавычка — закройте её в конце значения"
        return "файл оборвался внутри значения — закройте кавычки и скобки"
    for fragment, message in _SYNTAX:
        if fragment in problem:
            return message
    return _GENERIC_HINT


class _Builder:
    """Plain values from composed nodes, with positions, problems and a budget for aliases."""

    def __init__(self, smap: SourceMap, problems: list[Problem]):
        self.smap = smap
        self.problems = problems
        self.count = 0  # nodes built so far
        self.sizes: dict[int, int] = {}  # id(collection node) → nodes its first build took
        self.active: set[int] = set()  # collection nodes being built (an alias to one is a loop)
        self.extra = 0  # nodes built again because an alias repeats them
        self.replaying = 0  # > 0 inside such a repeat (its size is already counted)

    def problem(self, path: Path, message: str, mark: yaml.Mark | None) -> None:
        self.problems.append(Problem(path, message, _pos(mark) if mark else self.smap.find(path)))

    def build(self, node: yaml.Node, path: Path, depth: int) -> object:
        if isinstance(node, ScalarNode):
            self.count += 1
            return self.scalar(node, path)
        if depth > MAX_DEPTH:
            raise YamlSyntaxError([Problem(path, f"вложенность глубже {MAX_DEPTH} уровней — сценарию "
                                           "столько не нужно; проверьте скобки [ { и ссылки на якоря (*имя)",
                                           self.smap.find(path))])
        key = id(node)
        if key in self.active:
            self.problem(path, "ссылка на якорь внутри него самого (*имя внутри &имя) — так значение "
                               "никогда не закончится; уберите ссылку", None)
            return None
        size = self.sizes.get(key)
        if size is not None and not self.replaying:
            self.extra += size
            if self.extra > MAX_ALIAS_VALUES:
                raise YamlSyntaxError([Problem(path, "ссылки на якоря (*имя) разворачиваются больше чем в "
                                               f"{MAX_ALIAS_VALUES:,} значений".replace(",", " ") +
                                               " — похоже на «YAML-бомбу»; не вкладывайте ссылки в ссылки",
                                               self.smap.find(path))])
            self.replaying += 1
            try:
                return self._collection(node, path, depth)
            finally:
                self.replaying -= 1
        start = self.count
        self.active.add(key)
        try:
            return self._collection(node, path, depth)
        finally:
            self.active.discard(key)
            self.sizes.setdefault(key, self.count - start)

    def _collection(self, node: yaml.Node, path: Path, depth: int) -> object:
        self.count += 1
        expected = _SEQ if isinstance(node, SequenceNode) else _MAP
        if node.tag != expected:
            self.problem(path, f"тег {_tag_name(node.tag)} здесь не поддерживается — уберите его",
                         node.start_mark)
        if isinstance(node, SequenceNode):
            items = []
            for index, child in enumerate(node.value):
                child_path = (*path, index)
                self.smap.positions[child_path] = _pos(child.start_mark)
                items.append(self.build(child, child_path, depth + 1))
            return items
        return self._mapping(node, path, depth)

    def _mapping(self, node: MappingNode, path: Path, depth: int) -> dict:
        out: dict[object, object] = {}
        explicit: list[tuple[str, ScalarNode, yaml.Node]] = []
        merges: list[tuple[ScalarNode, yaml.Node]] = []
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                self.problem(path, "ключом может быть только простое значение — напишите имя ключа текстом",
                             key_node.start_mark)
                continue
            if key_node.tag == _MERGE:
                merges.append((key_node, value_node))
            else:
                explicit.append((self.key(key_node, path), key_node, value_node))
        for key, key_node, value_node in explicit:
            child_path = (*path, key)
            if key in out:
                first = self.smap.positions.get(child_path)
                where = f" (первый раз — строка {first.line})" if first else ""
                self.problem(child_path, f"ключ «{preview(key)}» повторяется{where} — оставьте один, "
                                         "или переименуйте второй", key_node.start_mark)
                continue
            self.smap.positions[child_path] = _pos(key_node.start_mark)
            out[key] = self.build(value_node, child_path, depth + 1)
        for merge_key, source in merges:
            # YAML merge: keys written here win over merged ones; earlier sources win over later ones
            for key_node, value_node in self._merged_pairs(merge_key, source, path, depth, set()):
                key = self.key(key_node, path)
                if key in out:
                    continue
                child_path = (*path, key)
                self.smap.positions[child_path] = _pos(key_node.start_mark)
                out[key] = self.build(value_node, child_path, depth + 1)
        return out

    def _merged_pairs(self, merge_key: ScalarNode, source: yaml.Node, path: Path, depth: int,
                      seen: set[int]) -> list[tuple[ScalarNode, yaml.Node]]:
        sources = source.value if isinstance(source, SequenceNode) else [source]
        pairs: list[tuple[ScalarNode, yaml.Node]] = []
        for src in sources:
            if not isinstance(src, MappingNode):
                self.problem(path, "после «<<:» нужна ссылка на якорь с набором полей: <<: *имя "
                                   "(или список таких ссылок)", merge_key.start_mark)
                continue
            if id(src) in seen or id(src) in self.active or depth > MAX_DEPTH:
                self.problem(path, "«<<:» ссылается на набор полей, в который сам входит — уберите ссылку",
                             merge_key.start_mark)
                continue
            seen.add(id(src))
            nested = []
            for key_node, value_node in src.value:
                if not isinstance(key_node, ScalarNode):
                    continue  # reported where the anchored mapping itself is built
                if key_node.tag == _MERGE:
                    nested += self._merged_pairs(key_node, value_node, path, depth + 1, seen)
                else:
                    pairs.append((key_node, value_node))
            pairs += nested  # the source's own keys win over what it merges in
        return pairs

    def key(self, node: ScalarNode, path: Path) -> str:
        """A mapping key is the text the author wrote: ``yes:``, ``1:``, ``null:`` are names."""
        self.count += 1
        if not node.tag.startswith(_TAG) and node.tag != "!":
            self.problem(path, f"тег {node.tag} не поддерживается — уберите его", node.start_mark)
        return node.value

    def scalar(self, node: ScalarNode, path: Path) -> object:
        tag = node.tag
        if tag in _TEXT_TAGS or tag == "!":
            return node.value
        if tag not in _SCALAR_TAGS:
            kind = " у простого значения" if tag.startswith(_TAG) else ""
            self.problem(path, f"тег {_tag_name(tag)}{kind} не поддерживается — уберите его", node.start_mark)
            return Unreadable(node.value)
        self.smap.texts[path] = node.value
        try:
            value = _construct[tag](_constructor, node)
            return YamlInt(value, node.value) if tag == _INT else value
        except Exception:  # noqa: BLE001 - each tag's constructor fails its own way on bad text
            if tag == _INT and len(node.value) > 100:
                message = (f"число из {counted(len(node.value), 'цифра', 'gent')} слишком длинное — если это текст, "
                           "возьмите его в кавычки")
            else:
                message = (f"«{preview(node.value)}» не читается как {_tag_name(tag)} — исправьте значение "
                           "или уберите тег")
            self.problem(path, message, node.start_mark)
            return Unreadable(node.value)
