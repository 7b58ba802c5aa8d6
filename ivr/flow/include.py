"""Reuse across files and states: ``include:`` of part files and ``use:`` of shared ``parts:``.

YAML anchors stop at the end of a file, and a second hotline wants the same identity chain, the same
operator states and the same reprompts as the first. Both are folded into the plain values of the
flow before it is validated, so the rest of the loader sees one flow — but every position keeps the
file it came from: an error in an included state reads ``shared/identity.yaml:12:5: …``, and an error
in a field a state took from a part points into the part.

* ``include: [shared/identity.yaml]`` (paths relative to the including file): the part file holds
  ``states:``, ``globals:``, ``data:`` and ``parts:`` (and may include further files); a name defined
  twice is an error at the second definition, naming the first.
* ``parts: {polite: {nomatch: […], noinput: […]}}`` and ``use: polite`` (or a list) in a state: the
  part's fields fill in what the state does not write itself — like ``<<: *anchor``, across files.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ivr.errors import UserError
from ivr.flow.hints import closest
from ivr.flow.yaml_source import Pos, Problem, SourceMap, YamlSyntaxError, load_with_positions, preview

SECTIONS = ("states", "globals", "data", "parts")
MAX_DEPTH = 10  # includes of includes; a deeper chain is a loop that got past the check, or a mistake


Read = Callable[[Path], str]


def merge_includes(raw: dict, smap: SourceMap, path: Path, problems: list[Problem], read: Read) -> None:
    """Fold the files ``raw["include"]`` names into ``raw``; ``read(path)`` returns a file's text or
    raises UserError. Positions of what is folded in are copied into ``smap`` with their file."""
    _include(raw, smap, path, problems, read, (path.resolve(),), None, str(path), set())


def _include(raw: dict, smap: SourceMap, path: Path, problems: list[Problem], read: Read, chain: tuple[Path, ...],
             here: str | None, root: str, done: set[Path]) -> None:
    """``here``: how the file of ``raw`` is shown (None for the loaded file itself), ``root``: the
    loaded file's name, for «already defined there»; ``done``: files already folded in — two parts
    that both include a third share it, they do not define its names twice."""
    names = raw.get("include")
    if names is None:
        return
    if isinstance(names, str):
        names = [names]
        smap.positions[("include", 0)] = smap.find(("include",)) or Pos(1, 1)
    if not isinstance(names, list):
        problems.append(Problem(("include",), "include: — список файлов с частями сценария: "
                                              "include: [shared/identity.yaml]", _at(smap.find(("include",)), here)))
        return
    for i, name in enumerate(names):
        where = _at(smap.find(("include", i)), here)
        if not isinstance(name, str) or not name.strip():
            problems.append(Problem(("include", i), "include: здесь нужен путь к файлу в кавычках, например "
                                                    "\"shared/identity.yaml\"", where))
            continue
        target = path.parent / name
        if target.resolve() in chain:
            way = " → ".join(p.name for p in (*chain, target))
            problems.append(Problem(("include", i), f"include: файл включает сам себя ({way}) — уберите "
                                                    "это включение", where))
            continue
        if target.resolve() in done:
            continue
        done.add(target.resolve())
        if len(chain) > MAX_DEPTH:
            problems.append(Problem(("include", i), f"include: включения вложены глубже {MAX_DEPTH} "
                                                    "уровней — включайте части из главного файла", where))
            continue
        try:
            text = read(target)
        except UserError as err:
            problems.append(Problem(("include", i), f"include: {err}", where))
            continue
        shown = str(target)
        try:
            part, pmap, found = load_with_positions(text)
        except YamlSyntaxError as err:
            problems.extend(_moved(p, shown) for p in err.problems)
            continue
        problems.extend(_moved(p, shown) for p in found)
        if part is None:
            continue
        if not isinstance(part, dict):
            problems.append(Problem((), f"файл части сценария — набор разделов {', '.join(SECTIONS)}",
                                    _at(pmap.find(()), shown)))
            continue
        _include(part, pmap, target, problems, read, (*chain, target.resolve()), shown, root, done)
        _fold(raw, smap, part, pmap, shown, problems, root)


def _fold(raw: dict, smap: SourceMap, part: dict, pmap: SourceMap, shown: str, problems: list[Problem],
          root: str) -> None:
    taken: set[tuple[str, str]] = set()
    for key, value in part.items():
        if key == "include":
            continue
        if key not in SECTIONS:
            problems.append(Problem((key,), f"«{preview(str(key), 60)}» в файле части сценария не к месту — "
                                            f"здесь допустимы {', '.join(SECTIONS)} и include; flow: пишется "
                                            "в главном файле", _at(pmap.find((key,)), shown)))
            continue
        if not isinstance(value, dict):
            problems.append(Problem((key,), f"{key}: здесь нужен набор «имя: …»", _at(pmap.find((key,)), shown)))
            continue
        section = raw.setdefault(key, {})
        if not isinstance(section, dict):
            continue  # the main file's own section is wrong: reported where it is written
        for name, item in value.items():
            if name in section:
                first = smap.find((key, name))
                was = f" (уже есть: {first.where(root)})" if first else ""
                problems.append(Problem((key, name), f"{key}.{preview(str(name), 60)}: это имя уже занято{was} — "
                                                     "переименуйте одно из двух",
                                        _at(pmap.find((key, name)), shown)))
                continue
            section[name] = item
            taken.add((key, name))
    for where, pos in pmap.positions.items():
        if len(where) >= 2 and (where[0], where[1]) in taken:
            smap.positions[where] = pos if pos.source is not None else Pos(pos.line, pos.col, shown)
    for where, text in pmap.texts.items():
        if len(where) >= 2 and (where[0], where[1]) in taken:
            smap.texts[where] = text


def _at(pos: Pos | None, shown: str | None) -> Pos | None:
    """A position inside an included file (one that is already in a deeper file keeps that one)."""
    if pos is None or pos.source is not None or shown is None:
        return pos
    return Pos(pos.line, pos.col, shown)


def _moved(problem: Problem, shown: str) -> Problem:
    return Problem(problem.path, problem.message, _at(problem.pos, shown))


def apply_parts(raw: dict, smap: SourceMap, problems: list[Problem]) -> None:
    """Fill each state's unwritten fields from the parts it ``use:``s; positions follow the fields."""
    parts = raw.get("parts")
    states = raw.get("states")
    if not isinstance(states, dict):
        return
    if parts is not None and not isinstance(parts, dict):
        problems.append(Problem(("parts",), "parts: здесь нужен набор «имя части: поля состояния»",
                                smap.find(("parts",))))
        parts = {}
    parts = parts or {}
    users = [(n, s) for n, s in states.items() if isinstance(s, dict) and "use" in s]
    if not users:
        return
    # where each field of each part is written: one pass over the positions, not one per use
    written: dict[tuple[object, object], list[tuple[tuple, Pos]]] = {}
    for where, pos in smap.positions.items():
        if len(where) >= 3 and where[0] == "parts":
            written.setdefault((where[1], where[2]), []).append((where[3:], pos))
    for sname, state in users:
        used = state["use"]
        names = [used] if isinstance(used, str) else used
        if not isinstance(names, list):
            problems.append(Problem(("states", sname, "use"), f"states.{sname}.use: здесь нужно имя части из "
                                                              "parts: или список имён",
                                    smap.find(("states", sname, "use"))))
            continue
        for i, pname in enumerate(names):
            upath = ("states", sname, "use", i) if isinstance(used, list) else ("states", sname, "use")
            part = parts.get(pname) if isinstance(pname, str) else None
            if not isinstance(part, dict):
                guess = closest(str(pname), [str(p) for p in parts]) if parts else None
                hint = f"возможно, «{guess}»" if guess else "опишите её в parts: (здесь или во включённом файле)"
                what = "нет части" if part is None else "часть должна быть набором полей состояния:"
                problems.append(Problem(upath, f"states.{sname}.use: {what} «{preview(str(pname), 60)}» — {hint}",
                                        smap.find(upath)))
                continue
            for field, value in part.items():
                if field in state:
                    continue  # written in the state (or taken from an earlier part): wins
                state[field] = value
                for rest, pos in written.get((pname, field), ()):
                    smap.positions[("states", sname, field, *rest)] = pos
                if ("parts", pname, field) in smap.texts:
                    smap.texts[("states", sname, field)] = smap.texts[("parts", pname, field)]
