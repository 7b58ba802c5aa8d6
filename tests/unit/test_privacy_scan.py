"""Personal data never reach disk or ``ivr run --json`` in clear, unless the caller keeps them.

Every convo file and a set of hostile calls (a practice person saying their ФИО, СНИЛС, ИНН, phone
and passport in every way a caller might: tests/privacy.py) run through the real paths — the convo
runner with transcripts and reports as ``ivr test`` runs files, and the ``ivr`` command itself for
``run --json`` and ``chat`` — with every file written to a temporary folder, the cache folder
included. Then everything written is searched for every form of every value. The same calls with
``--keep-personal-data`` must show the values, or the search could not find anything.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from ivr.channels.headless import _convo_from_lines, to_json
from ivr.convo.runner import Runner, run_convo
from ivr.flow.loader import load_flow
from ivr.report import report
from tests.command import ivr_here
from tests.privacy import collected_forms, hostile_calls, people, scan_text, scan_tree, value_forms

ROOT = Path(__file__).resolve().parents[2]
FLOW = ROOT / "flows" / "gosuslugi.yaml"
NOW = "2026-11-25T10:00:00+03:00"
MOMENT = datetime(2026, 11, 25, 10, 0, tzinfo=timezone(timedelta(hours=3)))
PEOPLE = people()
KINDS = {"ФИО", "СНИЛС", "ИНН", "телефон", "паспорт", "дата рождения", "почта"}


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> dict[str, Path]:
    """A cache folder of its own (seeded with the run's phrase vectors, so nothing is embedded
    again; written to by the calls like any cache), and where the calls write."""
    root = tmp_path_factory.mktemp("privacy")
    cache = root / "cache"
    shared = Path(os.environ.get("IVR_CACHE_DIR", "")) / "semantic"
    if shared.parent.name:
        # the vectors only (other tests' audio is not this run's), made in the run's shared cache
        # first if no test has yet, so they are computed once for the run rather than here again
        load_flow(ROOT / "flows" / "gosuslugi.yaml").prepare_menus()
        if shared.is_dir():  # absent when the shipped vectors hold every text: nothing to seed
            shutil.copytree(shared, cache / "semantic")
    cache.mkdir(exist_ok=True)
    return {"root": root, "cache": cache, "out": root / "out", "keep": root / "keep"}


def _ivr(folders: dict[str, Path], *args: str, typed: list[str] = ()) -> subprocess.CompletedProcess[str]:
    """The ``ivr`` command (in this process: tests/command.py); ``typed`` lines are its standard
    input."""
    env = {**os.environ, "IVR_CACHE_DIR": str(folders["cache"])}
    return ivr_here(*args, cwd=folders["root"], env=env, stdin="".join(f"{line}\n" for line in typed))


@pytest.fixture(scope="module")
def written(folders, monkeypatch_module) -> dict[str, object]:
    """Runs everything once: the convo runner and three ``ivr`` commands. Returns the forms to look
    for and the ``--json`` outputs."""
    monkeypatch_module.setenv("IVR_CACHE_DIR", str(folders["cache"]))
    out, keep = folders["out"], folders["keep"]
    auth = hostile_calls(PEOPLE[0])[0]
    callers = [arg for line in auth for arg in ("--caller", line)]
    run = ["run", str(FLOW), "--now", NOW, "--json", *callers]
    forms: dict[str, str] = {}
    for person in PEOPLE:
        forms |= value_forms(person)
    runner = Runner(FLOW)
    engine = runner.engine(FLOW)
    outputs: dict[str, str] = {}
    for p, person in enumerate(PEOPLE):
        for c, lines in enumerate(hostile_calls(person)):
            result = run_convo(
                engine,
                _convo_from_lines(lines, MOMENT),
                "--caller",
                transcript=out / f"hostile-{p}-{c}.jsonl",
            )
            result.call.hang_up()
            report.write(result.call, out / "reports")
            outputs[f"--json {p}-{c}"] = json.dumps(to_json(result), ensure_ascii=False)
    convos = sorted((ROOT / "tests" / "convos").rglob("*.yaml"))
    for path in convos:
        result = runner.run_file(path, transcript=out / "convos" / f"{path.parent.name}-{path.stem}.jsonl")
        result.call.hang_up()
        report.write(result.call, out / "convos")
        forms |= collected_forms(result.call)

    commands = {
        "run": _ivr(folders, *run, "--transcript", str(out / "cli-run.jsonl")),
        "chat": _ivr(
            folders,
            "chat",
            str(FLOW),
            "--now",
            NOW,
            "--reports",
            str(out / "chat"),
            typed=hostile_calls(PEOPLE[1])[0],
        ),
        "keep": _ivr(folders, *run, "--transcript", str(keep / "cli-run.jsonl"), "--keep-personal-data"),
    }

    finished = {}
    for name, command in commands.items():
        assert command.returncode == 0, (name, command.stderr)
        finished[name] = command.stdout
    outputs["ivr run --json"] = finished["run"]
    return {
        "forms": forms,
        "outputs": outputs,
        "keep": finished["keep"],
        "convos": len(convos),
        "chat": finished["chat"],
    }


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def test_no_personal_value_in_any_file_written_or_in_json(written, folders):
    forms = written["forms"]
    assert written["convos"] > 50 and len(forms) > 300  # the scan looks for something
    out = folders["out"]
    files = [p for p in out.rglob("*") if p.is_file()]
    # what the scan went through: every kind of file each path writes
    assert len(list(out.glob("convos/*.jsonl"))) == written["convos"]
    assert len(list(out.glob("convos/*.md"))) == written["convos"]
    assert list(out.glob("chat/*.transcript.jsonl")) and list(out.glob("chat/*.md"))
    assert (out / "cli-run.jsonl").is_file() and list(out.glob("reports/*.json"))
    assert len(files) > 3 * written["convos"]
    hits = (
        scan_tree(out, forms)
        + scan_tree(folders["cache"], forms)
        + [hit for name, text in written["outputs"].items() for hit in scan_text(name, text, forms)]
    )
    assert not hits, "\n".join(map(str, hits[:40]))


def test_json_output_is_masked_and_valid(written):
    data = json.loads(written["outputs"]["ivr run --json"])
    assert data["masked"] is True
    assert data["slots"]["snils"]["value"].endswith(PEOPLE[0].snils[-2:])
    assert data["slots"]["snils"]["value"].startswith("***")
    surname, name, _ = PEOPLE[0].fio.split()
    assert data["slots"]["fio"]["value"] == f"{surname[0]}. {name[0]}."  # given in two words: initials


def test_with_keep_personal_data_the_values_are_there(written, folders):
    """The scan can fail: the same call with --keep-personal-data shows every kind of value, in
    ``--json`` and in the transcript."""
    forms = value_forms(PEOPLE[0])
    for where, text in (
        ("--json", written["keep"]),
        ("transcript", (folders["keep"] / "cli-run.jsonl").read_text(encoding="utf-8")),
    ):
        found = {hit.what for hit in scan_text(where, text, forms)}
        assert found == KINDS, (where, found)
    assert json.loads(written["keep"])["slots"]["snils"]["value"] == PEOPLE[0].snils
