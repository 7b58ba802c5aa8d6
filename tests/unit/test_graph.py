"""``ivr graph``: real pictures of the shipped flows, the way one call went, and bad input as exit 2."""

from __future__ import annotations

import re
import struct
from pathlib import Path

import pytest

from ivr.engine.diagram import render
from ivr.flow.loader import load_flow
from tests.command import ivr_here

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "flows" / "example.yaml"
GOSUSLUGI = ROOT / "flows" / "gosuslugi.yaml"
MORNING = "2026-11-25T10:00:00+03:00"


ivr = ivr_here


@pytest.mark.parametrize("flow_file", sorted((ROOT / "flows").glob("*.yaml")), ids=lambda p: p.stem)
def test_svg_and_png_are_real_pictures_with_every_state(flow_file: Path, tmp_path: Path):
    flow = load_flow(flow_file)
    render(flow, tmp_path / "flow.svg")
    svg = (tmp_path / "flow.svg").read_text(encoding="utf-8")
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    texts = set(re.findall(r"<text[^>]*>([^<]*)</text>", svg))
    assert set(flow.states) <= texts  # every state is drawn, by its name
    render(flow, tmp_path / "flow.png")
    png = (tmp_path / "flow.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000
    width, height = struct.unpack(">II", png[16:24])  # IHDR: a raster stays a size a viewer opens
    assert max(width, height) <= 8_000, (width, height)


def test_dot_frames_sections_and_labels_edges_with_keys_and_phrases(tmp_path: Path):
    render(load_flow(GOSUSLUGI), tmp_path / "g.dot")
    dot = (tmp_path / "g.dot").read_text(encoding="utf-8")
    assert "subgraph cluster_auth {" in dot and "subgraph cluster_op {" in dot
    assert "subgraph cluster_op_auth {" in dot  # the 50-odd operator states are split again
    frame = dot.split("subgraph cluster_auth {", 1)[1].split("}", 1)[0]
    assert "auth_password " in frame and "tech_500" not in frame
    # a global command is drawn once, not from each of the 99 states
    assert dot.count("-> operator [label=\"0: «оператор»") == 1
    assert '"глобальные команды" -> operator [label="0: «оператор», «соедините с оператором» …"]' in dot
    assert re.search(r"main -> auth_password \[label=\"[^\"]*«", dot)  # a phrase on the way to a page

    render(load_flow(EXAMPLE), tmp_path / "e.dot")
    example = (tmp_path / "e.dot").read_text(encoding="utf-8")
    assert 'main -> renew_card [label="1: «продлить книгу», «продление» …"]' in example
    assert 'greeting -> closed [label="если closed"]' in example
    assert 'main -> operator [label="эскалация"]' in example


def test_mermaid_text_names_states_by_label_and_survives_any_state_name(tmp_path: Path):
    flow = tmp_path / "odd.yaml"
    flow.write_text(
        "flow: {id: odd, title: Странные имена, start: 'шаг 1'}\n"
        "states:\n"
        "  'шаг 1':\n    say: Выберите.\n"
        "    options: [{id: a, keys: '1', phrases: ['дальше \"в кавычках\"'], goto: 'end: \"конец\"'}]\n"
        "  'end: \"конец\"': {say: Всё., end: true}\n",
        encoding="utf-8",
    )
    render(load_flow(flow), tmp_path / "odd.mmd")
    text = (tmp_path / "odd.mmd").read_text(encoding="utf-8")
    assert "stateDiagram-v2" in text
    ids = dict((label, ident) for label, ident in re.findall(r'state "(.*)" as (\w+)', text))
    end = "end: 'конец'"  # Mermaid ends a description at a double quote
    assert set(ids) == {"шаг 1", end}
    assert f"{ids['шаг 1']} --> {ids[end]}: 1: «дальше 'в кавычках'»" in text
    assert all(re.fullmatch(r"s\d+", i) for i in ids.values())

    render(load_flow(GOSUSLUGI), tmp_path / "g.mmd")
    shipped = (tmp_path / "g.mmd").read_text(encoding="utf-8")
    assert {label for label, _ in re.findall(r'state "(.*)" as (\w+)', shipped)} >= set(load_flow(GOSUSLUGI).states)
    # Mermaid front matter is YAML and graphviz's own attributes have no place in it
    title = load_flow(GOSUSLUGI).meta.title
    assert shipped.startswith(f'---\ntitle: "{title}"\n---\nstateDiagram-v2\n'), shipped[:200]
    assert "newrank" not in shipped


def test_path_of_a_call_is_highlighted_from_its_transcript(tmp_path: Path):
    transcript = tmp_path / "call.transcript.jsonl"
    proc = ivr("run", EXAMPLE, "--now", MORNING, "--caller", "1", "--caller", "", "--caller", "оператор",
               "--transcript", transcript)
    assert proc.returncode == 0, proc.stderr
    proc = ivr("graph", EXAMPLE, "-o", tmp_path / "path.dot", "--path", transcript)
    assert proc.returncode == 0, proc.stderr
    dot = (tmp_path / "path.dot").read_text(encoding="utf-8")
    blue = {line.strip() for line in dot.splitlines() if "->" in line and "color=blue" in line}
    assert blue == {
        'greeting -> main [label="дальше" color=blue]',  # passed through before the first answer
        'main -> renew_card [label="1: «продлить книгу», «продление» …" color=blue]',
        '"глобальные команды" -> operator [label="0: «оператор», «соедините с оператором» …" color=blue]',
    }
    assert re.search(r"operator \[label=\"operator\\l\" color=red", dot)  # where the call ended
    assert re.search(r"\bsignup \[label=\"signup\\l\"\]", dot)  # never visited: plain

    mermaid = tmp_path / "path.mmd"
    assert ivr("graph", EXAMPLE, "-o", mermaid, "--path", transcript).returncode == 0
    text = mermaid.read_text(encoding="utf-8")
    ids = dict(re.findall(r'state "(.*)" as (\w+)', text))
    assert f"Class {ids['operator']} s_active" in text and f"Class {ids['renew_card']} s_previous" in text
    assert f"Class {ids['signup']} s_default" in text


def test_bad_input_is_exit_2_with_a_message(tmp_path: Path):
    proc = ivr("graph", EXAMPLE, "-o", tmp_path / "flow.jpg")
    assert proc.returncode == 2
    assert "неизвестный формат «.jpg» — укажите файл .svg, .png, .dot, .mmd" in proc.stderr

    proc = ivr("graph", EXAMPLE, "-o", tmp_path / "missing" / "flow.svg")
    assert proc.returncode == 2 and "не удаётся записать схему (файл или папка не существует)" in proc.stderr

    broken = tmp_path / "broken.yaml"
    broken.write_text("flow: {id: b, title: B, start: a}\nstates:\n  a: {say: Привет, next: nowhere}\n",
                      encoding="utf-8")
    proc = ivr("graph", broken, "-o", tmp_path / "b.svg")
    assert proc.returncode == 2 and f"{broken}:3:" in proc.stderr and "nowhere" in proc.stderr
    assert not (tmp_path / "b.svg").exists()

    proc = ivr("graph", EXAMPLE, "-o", tmp_path / "p.svg", "--path", EXAMPLE)
    assert proc.returncode == 2 and f"{EXAMPLE}:1: это не запись расшифровки звонка" in proc.stderr

    other = tmp_path / "other.transcript.jsonl"
    other.write_text('{"call": "1", "type": "call", "flow": "gosuslugi", "state": "main"}\n', encoding="utf-8")
    proc = ivr("graph", EXAMPLE, "-o", tmp_path / "p.svg", "--path", other)
    assert proc.returncode == 2 and "расшифровка звонка по сценарию «gosuslugi», а схема рисуется для «example»" in proc.stderr

    proc = ivr("graph", EXAMPLE, "-o", tmp_path / "p.svg", "--path", tmp_path / "nope.jsonl")
    assert proc.returncode == 2 and "такого файла нет" in proc.stderr
    assert all("Traceback" not in p for p in (proc.stderr,))
