"""``ivr schema``: the JSON Schemas an editor uses agree with the loaders, and the shipped copies are
current."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from ivr.convo.json_schema import KINDS, schema_text, shipped_path
from tests.command import ivr_here

ROOT = Path(__file__).resolve().parents[2]
FLOWS = sorted((ROOT / "flows").glob("*.yaml"))
CONVOS = sorted((ROOT / "tests" / "convos").rglob("*.yaml"))


def validator(kind: str) -> jsonschema.Draft202012Validator:
    schema = json.loads(schema_text(kind))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def as_json(path: Path) -> object:
    """The YAML as an editor's language server sees it (dates and times as text)."""
    return json.loads(json.dumps(yaml.safe_load(path.read_text(encoding="utf-8")), default=str))


@pytest.mark.parametrize("kind", list(KINDS))
def test_shipped_schemas_are_current(kind: str):
    assert shipped_path(kind).read_text(encoding="utf-8") == schema_text(kind), (
        f"docs/schema is stale: run `ivr schema {kind} -o docs/schema/{kind}.schema.json`"
    )


def test_every_shipped_flow_and_convo_is_valid_to_the_editor():
    """Shorthands the loader accepts (``say: "…"``, ``keys: 1``, ``next: main``, a checklist string)
    must not be underlined in an editor."""
    for kind, files in (("flow", FLOWS), ("convo", CONVOS)):
        check = validator(kind)
        problems = [f"{f.name}: {list(e.absolute_path)}: {e.message}" for f in files for e in check.iter_errors(as_json(f))]
        assert problems == []
    assert len(CONVOS) > 10


def test_the_schema_flags_what_the_loader_refuses():
    check = validator("flow")
    flow = as_json(ROOT / "flows" / "example.yaml")
    assert isinstance(flow, dict)
    flow["states"]["main"]["sya"] = "опечатка"  # unknown field
    flow["states"]["renew_card"]["collect"]["type"] = "snlis"  # unknown slot type
    flow["flow"]["retries"] = "три"
    paths = sorted(".".join(map(str, e.absolute_path)) for e in check.iter_errors(flow))
    assert paths == ["flow.retries", "states.main", "states.renew_card.collect"]  # collect: one of Collect or null
    slot_types = json.loads(schema_text("flow"))["$defs"]["Collect"]["properties"]["type"]["enum"]
    assert {"snils", "inn", "phone", "date", "yesno"} <= set(slot_types)  # what the editor offers
    assert not list(validator("convo").iter_errors({"turns": [{"caller": "да", "expect": {"state": "main"}}]}))
    # a part file for include: has no flow: (nor always states:) and is not underlined for it
    assert not list(check.iter_errors({"parts": {"ask": {"noinput": ["Алло?"]}}, "globals": {}}))
    assert list(validator("convo").iter_errors({"turns": [{"caler": "да"}]}))


def test_shipped_flows_point_the_editor_at_the_schema():
    for flow in FLOWS:
        first = flow.read_text(encoding="utf-8").splitlines()[0]
        assert first == "# yaml-language-server: $schema=../docs/schema/flow.schema.json", flow.name
    assert (ROOT / "flows" / "../docs/schema/flow.schema.json").resolve() == shipped_path("flow")


def test_ivr_schema_command(tmp_path: Path):
    proc = ivr_here("schema", "convo")
    assert proc.returncode == 0 and json.loads(proc.stdout)["properties"]["turns"]["type"] == "array"
    proc = ivr_here("schema", "flow", "-o", str(tmp_path / "flow.schema.json"))
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "flow.schema.json").read_text(encoding="utf-8") == schema_text("flow")
    proc = ivr_here("schema", "yaml")
    assert proc.returncode == 2 and "неизвестный формат «yaml» — укажите flow или convo" in proc.stderr
    proc = ivr_here("schema", "-o", str(tmp_path / "missing" / "s.json"))
    assert proc.returncode == 2 and "не удаётся записать схему" in proc.stderr
