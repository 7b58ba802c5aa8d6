"""JSON Schemas of the two file formats people write by hand: flows and convo files.

They are generated from the very pydantic models the loaders validate with, so an editor's YAML
language server (``# yaml-language-server: $schema=…`` at the top of a file) completes and flags
exactly what ``ivr check`` accepts. Cross-references (a ``goto`` to a missing state, an unknown
placeholder) need the whole flow and stay with ``ivr check``. The shipped copies live in
``docs/schema/``; a test fails when they fall behind the models.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from ivr.convo.schema import ConvoFile
from ivr.flow.schema import FlowFile

DRAFT = "https://json-schema.org/draft/2020-12/schema"
KINDS: dict[str, tuple[type[BaseModel], str]] = {
    "flow": (FlowFile, "Сценарий ivr (flows/*.yaml); описание полей — docs/flow-format.md"),
    "convo": (ConvoFile, "Проверочный разговор ivr (tests/convos/…/*.yaml); описание — docs/flow-format.md"),
}
SHIPPED = Path(__file__).resolve().parents[2] / "docs" / "schema"


def schema_text(kind: str) -> str:
    """The schema of ``kind`` ("flow" or "convo") as the text of a .json file."""
    model, title = KINDS[kind]
    schema = {"$schema": DRAFT, **model.model_json_schema(), "title": title}
    if kind == "flow":
        # A part file brought in by include: (any of states, globals, parts, data) is written
        # against the same schema; «flow:» and «states:» are required of the main file by the
        # loader (ivr check), not by the editor, which cannot tell the two kinds of file apart.
        schema.pop("required", None)
    return json.dumps(schema, ensure_ascii=False, indent=2) + "\n"


def shipped_path(kind: str) -> Path:
    """Where the generated schema of ``kind`` is shipped (the editor comment of the flows points here)."""
    return SHIPPED / f"{kind}.schema.json"
