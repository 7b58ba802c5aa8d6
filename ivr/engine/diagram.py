"""``ivr graph``: a picture of a flow, drawn by ``transitions``' diagram extension.

The diagram is drawn from the transitions of the flow's own machine (``FlowMachine.drawn``), so it
shows what a call can do — escalations as the engine decides them included — and not a second
reading of the YAML. A throwaway ``GraphMachine`` without models holds them; it is never used for
calls (calls never go through ``Machine.add_model``).

Readability of the 99-state Госуслуги flow is why the graphviz output is not the stock one: states
are grouped in frames by the start of their names (``auth``, ``auth_password``… in «auth»; inside a
big frame, ``op_auth_*`` again in «op_auth»), and global commands, which work almost everywhere, are
drawn once, from one «global commands» node, instead of an arrow from every state. Edges say the
keys and the first phrases of an option. Mermaid's state diagrams cannot link states of different
composite states, so the ``.mmd`` text is flat.

``--path`` colours the way one call went, from its transcript: each turn's ``state_before`` →
``state``, through the option or command the turn matched and any ``next`` states passed on the way.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

from transitions import State
from transitions.extensions.diagrams import GraphMachine
from transitions.extensions.diagrams_graphviz import Graph as GraphvizGraph
from transitions.extensions.diagrams_mermaid import Graph as MermaidGraph

from ivr.engine.machine import Drawn, FlowMachine
from ivr.errors import UserError
from ivr.flow.model import Flow
from ivr.oserrors import describe

FORMATS = {".svg": "svg", ".png": "png", ".dot": "dot", ".mmd": "mermaid"}
# Largest PNG, in inches at 96 dpi (graphviz «size»: a larger drawing is scaled down to fit): 8,000 px.
PNG_MAX_INCHES = "83,83"
MAX_PHRASES = 2  # phrases shown on an option's edge: enough to recognise it, short enough to read
GLOBAL_NODE = "глобальные команды"
SUBFRAME_FROM = 9  # a frame of this many states is split again by the next part of the names


class _LabelledState(State):
    """A state drawn with a label of its own: Mermaid needs simple ids, the picture the real name."""

    def __init__(self, *args: Any, label: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.label = label or self.name


class _DiagramMachine(GraphMachine):
    state_cls = _LabelledState
    # newrank: dot 2.42 (Debian 12) fails with «trouble in init_rank» on the framed Госуслуги flow
    # without it
    machine_attributes = {**GraphMachine.machine_attributes, "newrank": "true"}


class _FramedGraph(GraphvizGraph):
    """The graphviz backend with states in frames (graphviz clusters) by the start of their names."""

    def _add_nodes(self, states: Any, container: Any) -> None:
        by_name = {state["name"]: state for state in states}
        self._add_frames(sections(list(by_name), depth=1), by_name, container)

    def _add_frames(self, items: list[str | Section], by_name: dict[str, Any], container: Any) -> None:
        for item in items:
            if isinstance(item, str):
                super()._add_nodes([by_name[item]], container)
                continue
            attrs = {"label": item.name, "style": "rounded", "color": "gray55", "fontcolor": "gray35"}
            with container.subgraph(name=f"cluster_{item.name}", graph_attr=attrs) as frame:
                self._add_frames(item.items, by_name, frame)


@dataclass
class Section:
    name: str
    items: list[str | Section] = field(default_factory=list)


def sections(names: list[str], depth: int = 1) -> list[str | Section]:
    """States grouped by the first ``depth`` parts of their names (split at «_»): a group of two or
    more is a frame, in the order its first state comes in the file; a big frame is split again."""
    groups: dict[str, list[str]] = defaultdict(list)
    for name in names:
        groups["_".join(name.split("_")[:depth])].append(name)
    items: list[str | Section] = []
    for key, members in groups.items():
        if len(members) < 2:
            items += members
        elif len(members) >= SUBFRAME_FROM and depth < 2:
            items.append(Section(key, sections(members, depth + 1)))
        else:
            items.append(Section(key, list(members)))
    return items


@dataclass(frozen=True)
class CallPath:
    """The states one call was in, in order, and the drawn edges it took (diagram node names)."""

    states: list[str]
    edges: set[tuple[str, str]]


def render(flow: Flow, output: Path, *, transcript: Path | None = None) -> None:
    """Write the diagram of ``flow`` to ``output``; the format is the file's extension."""
    fmt = FORMATS.get(output.suffix.lower())
    if fmt is None:
        raise UserError(
            f"{output}: неизвестный формат «{output.suffix or 'без расширения'}» — "
            f"укажите файл {', '.join(FORMATS)}"
        )
    machine = FlowMachine(flow)
    path = read_call_path(transcript, flow, machine) if transcript is not None else None
    if fmt == "mermaid":
        data = _mermaid(flow, machine, path).encode("utf-8")
    else:
        graph = _graphviz(flow, machine, path)
        if fmt == "png":
            # at graphviz's 96 dpi the Госуслуги flow was a 17,876 × 5,454 px PNG (2.7 s to
            # rasterise, unreadable without zoom anyway); a raster is capped, SVG stays to scale
            graph.graph_attr["size"] = PNG_MAX_INCHES
        data = graph.source.encode("utf-8") if fmt == "dot" else _pipe(graph, fmt)
    try:
        output.write_bytes(data)
    except OSError as err:
        raise UserError(
            f"{output}: не удаётся записать схему ({describe(err)}) — укажите другой файл"
        ) from None


def _pipe(graph: Any, fmt: str) -> bytes:
    import graphviz

    try:
        return cast(bytes, graph.pipe(format=fmt))
    except graphviz.ExecutableNotFound:
        raise UserError(
            "для SVG и PNG нужна программа dot из Graphviz — установите её "
            "(sudo apt-get install graphviz) или сохраните схему в .dot или .mmd"
        ) from None
    except graphviz.CalledProcessError as err:
        # not the author's mistake (dot 2.42 has layout bugs): exit 3, but with dot's last words
        # instead of its hundreds of lines of rank dumps
        said = (err.stderr or b"").decode("utf-8", "replace").strip().splitlines()
        raise RuntimeError(f"dot не смог разложить схему: {' / '.join(said[-2:])}") from None


def _machine(
    flow: Flow, machine: FlowMachine, ids: dict[str, str], engine: Literal["graphviz", "mermaid"]
) -> _DiagramMachine:
    # Mermaid ends a state's description at a double quote
    states = [{"name": ids[name], "label": _one_line(name) if engine == "mermaid" else name} for name in ids]
    transitions = [
        {"trigger": d.trigger, "source": ids[source], "dest": ids[d.dest], "label": edge_label(flow, d)}
        for d in machine.drawn
        for source in ([_global_node(flow)] if d.kind == "global" else d.sources)
    ]
    return _DiagramMachine(
        model=None,
        states=states,
        initial=ids[flow.meta.start],
        transitions=transitions,
        auto_transitions=False,
        graph_engine=engine,
        title=flow.meta.title,
    )


def _node_ids(flow: Flow, machine: FlowMachine, *, simple: bool) -> dict[str, str]:
    """Node name → id in the diagram: the name itself for graphviz (which quotes anything), ``s1``…
    for Mermaid, whose ids cannot hold spaces, quotes or Cyrillic reliably. The global-commands node
    gets a name no state has."""
    names = list(flow.states)
    if any(d.kind == "global" for d in machine.drawn):
        names.append(_global_node(flow))
    return {name: f"s{n}" if simple else name for n, name in enumerate(names, 1)}


def _global_node(flow: Flow) -> str:
    name = GLOBAL_NODE
    while name in flow.states:
        name += "*"
    return name


def _graphviz(flow: Flow, machine: FlowMachine, path: CallPath | None) -> Any:
    ids = _node_ids(flow, machine, simple=False)
    diagram = _machine(flow, machine, ids, "graphviz")
    graph = _FramedGraph(cast(Any, diagram))
    _highlight(graph, path, ids)
    return graph.get_graph()


def _mermaid(flow: Flow, machine: FlowMachine, path: CallPath | None) -> str:
    ids = _node_ids(flow, machine, simple=True)
    diagram = _machine(flow, machine, ids, "mermaid")
    graph = MermaidGraph(cast(Any, diagram))
    _highlight(graph, path, ids)
    lines = cast(str, graph.get_graph().source).splitlines()
    # transitions writes the title bare between the front-matter fences (Mermaid wants YAML,
    # «title: …») and passes the machine's graphviz attributes through («newrank true»)
    if lines[:1] == ["---"] and len(lines) > 2 and lines[2] == "---":
        lines[1] = "title: " + json.dumps(flow.meta.title, ensure_ascii=False)
    return "\n".join(line for line in lines if line.strip() != "newrank true") + "\n"


def _highlight(graph: Any, path: CallPath | None, ids: dict[str, str]) -> None:
    if path is None:
        return
    for src, dst in path.edges:
        graph.set_previous_transition(ids[src], ids[dst])
    for state in path.states:
        graph.set_node_style(ids[state], "previous")
    graph.set_node_style(ids[path.states[-1]], "active")


def edge_label(flow: Flow, drawn: Drawn) -> str:
    """What makes a call take this edge, in the words of the flow: keys and the first phrases of an
    option or a global command, the condition of a ``next`` branch, escalation, a failed collect."""
    if drawn.kind in ("option", "global"):
        if drawn.kind == "option":
            choice: Any = next(o for o in flow.states[drawn.sources[0]].options if o.id == drawn.arg)
        else:
            choice = flow.globals[drawn.arg]
        keys = ", ".join(choice.keys)
        phrases = ", ".join(f"«{_one_line(p)}»" for p in choice.phrases[:MAX_PHRASES])
        if len(choice.phrases) > MAX_PHRASES:
            phrases += " …"
        text = f"{keys}: {phrases}" if keys and phrases else keys or phrases
        return text or drawn.arg
    if drawn.kind == "next":
        return f"если {drawn.arg}" if drawn.arg else "дальше"
    return "эскалация" if drawn.kind == "escalate" else "не собрано"


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).replace('"', "'").strip()


# --- the way one call went ----------------------------------------------------------------------


def read_call_path(transcript: Path, flow: Flow, machine: FlowMachine) -> CallPath:
    """The last call in a ``*.transcript.jsonl`` (several calls may share one file) as a path on
    this flow's diagram; a file that is not a transcript of this flow is a UserError."""
    records = _last_call(transcript)
    start = records[0]
    if start.get("flow") != flow.id:
        raise UserError(
            f"{transcript}: это расшифровка звонка по сценарию «{start.get('flow')}», "
            f"а схема рисуется для «{flow.id}» — укажите расшифровку звонка по этому сценарию"
        )
    for record in records:
        for key in ("state", "state_before"):
            state = record.get(key)
            if state is not None and state not in flow.states:
                raise UserError(
                    f"{transcript}: в звонке есть состояние «{state}», которого нет в сценарии "
                    f"{flow.source} — сценарий изменился после звонка?"
                )
    walker = _Walker(flow, machine)
    states = [flow.meta.start]
    edges: set[tuple[str, str]] = set()
    walker.walk(str(start["state"]), walker.first_hops(flow.meta.start, None), states, edges)
    for turn in records[1:]:
        if turn.get("type") != "turn":
            continue
        before, after = str(turn["state_before"]), str(turn["state"])
        if before != after or _matched(turn):
            walker.walk(after, walker.first_hops(before, turn.get("match")), states, edges)
    return CallPath(states, edges)


def _last_call(transcript: Path) -> list[dict[str, Any]]:
    hint = "укажите файл *.transcript.jsonl, который ivr chat, run или practice пишет в reports/"
    if not transcript.is_file():
        what = "такого файла нет" if not transcript.exists() else "это не файл"
        raise UserError(f"{transcript}: {what} — {hint}")
    try:
        lines = transcript.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise UserError(f"{transcript}: файл не в кодировке UTF-8 — {hint}") from None
    except OSError as err:
        raise UserError(f"{transcript}: не удаётся прочитать ({describe(err)})") from None
    calls: dict[str, list[dict[str, Any]]] = {}
    last = None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            record = None
        if not isinstance(record, dict) or not isinstance(record.get("call"), str):
            raise UserError(f"{transcript}:{number}: это не запись расшифровки звонка — {hint}")
        if record.get("type") == "call":
            last = record["call"]
            calls[last] = []
        if record["call"] in calls:
            calls[record["call"]].append(record)
    if last is None:
        raise UserError(f"{transcript}: в файле нет начала звонка — {hint}")
    return calls[last]


def _matched(turn: dict[str, Any]) -> bool:
    """A turn that picked an option or a command: its edge counts even when it leads back home."""
    match = turn.get("match")
    return isinstance(match, dict) and match.get("kind") in ("option", "global")


class _Walker:
    """Finds the drawn edges between two states a turn connects: the hop the turn's match names
    (or any hop that needs no match: next, escalation, failed collect), then ``next`` branches of
    states that pass the call on without waiting."""

    def __init__(self, flow: Flow, machine: FlowMachine):
        self.flow = flow
        self.glob = _global_node(flow)
        self.out: dict[str, list[Drawn]] = defaultdict(list)
        for drawn in machine.drawn:
            for source in drawn.sources:
                self.out[source].append(drawn)

    def first_hops(self, state: str, match: object) -> list[tuple[str, str]]:
        kind = match.get("kind") if isinstance(match, dict) else None
        ident = match.get("id") if isinstance(match, dict) else None
        if kind in ("option", "global"):
            return [
                (self.glob if d.kind == "global" else state, d.dest)
                for d in self.out[state]
                if d.kind == kind and d.arg == ident
            ]
        return [(state, d.dest) for d in self.out[state] if d.kind in ("next", "escalate", "fail")]

    def walk(
        self, end: str, hops: list[tuple[str, str]], states: list[str], edges: set[tuple[str, str]]
    ) -> None:
        """Add the shortest way to ``end`` that starts with one of ``hops`` and goes on only through
        states that pass the call on by ``next``; without one (``back``…), just the state ``end``."""
        way = self._search(end, hops)
        edges.update(way or ())
        for dst in [dst for _, dst in way] if way else [end]:
            if states[-1] != dst:
                states.append(dst)

    def _search(self, end: str, hops: list[tuple[str, str]]) -> list[tuple[str, str]] | None:
        queue: deque[list[tuple[str, str]]] = deque([hop] for hop in hops)
        seen: set[str] = set()
        while queue:
            way = queue.popleft()
            here = way[-1][1]
            if here == end:
                return way
            if here in seen or not self._passes_on(here):
                continue
            seen.add(here)
            queue.extend(way + [(here, d.dest)] for d in self.out[here] if d.kind == "next")
        return None

    def _passes_on(self, name: str) -> bool:
        state = self.flow.states[name]
        return not (state.options or state.collect or state.end)
