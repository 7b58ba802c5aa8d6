"""``ivr new``: a newcomer's first flow and convo test pass ``ivr check`` and ``ivr test`` as made,
and nothing existing is ever overwritten."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.command import ivr_here

ROOT = Path(__file__).resolve().parents[2]


ivr = ivr_here


def test_scaffold_passes_check_and_its_convo_test(tmp_path: Path):
    proc = ivr("new", "clinic", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    flow, convo = tmp_path / "flows" / "clinic.yaml", tmp_path / "tests" / "convos" / "clinic" / "basic.yaml"
    assert str(Path("flows/clinic.yaml")) in proc.stdout and str(Path("tests/convos/clinic/basic.yaml")) in proc.stdout
    spec = yaml.safe_load(flow.read_text(encoding="utf-8"))
    assert spec["flow"]["id"] == "clinic"
    states = spec["states"]
    assert any(s.get("options") for s in states.values())  # a menu,
    assert any(s.get("collect") for s in states.values())  # a slot,
    assert any(s.get("end") for s in states.values())  # and an end
    # the editor comment resolves to the shipped schema from where the files were made
    for path, kind in ((flow, "flow"), (convo, "convo")):
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("# yaml-language-server: $schema=")
        assert (path.parent / first.split("=", 1)[1]).resolve() == ROOT / "docs" / "schema" / f"{kind}.schema.json"

    check = ivr("check", "flows/clinic.yaml", cwd=tmp_path)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "предупреждение" not in check.stdout
    test = ivr("test", "tests/convos/clinic", "--coverage", cwd=tmp_path)
    assert test.returncode == 0, test.stdout + test.stderr
    assert "1 passed, 0 failed" in test.stdout


def test_other_folders_and_no_overwrite(tmp_path: Path):
    proc = ivr("new", "line-2", "--flows", "my", "--tests", "checks", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert ivr("test", "checks", cwd=tmp_path).returncode == 0

    flow = tmp_path / "my" / "line-2.yaml"
    flow.write_text("# моя правка\n", encoding="utf-8")
    proc = ivr("new", "line-2", "--flows", "my", "--tests", "elsewhere", cwd=tmp_path)
    assert proc.returncode == 2
    assert f"{Path('my/line-2.yaml')}: файл уже есть — ivr new ничего не перезаписывает" in proc.stderr
    assert flow.read_text(encoding="utf-8") == "# моя правка\n"
    assert not (tmp_path / "elsewhere").exists()  # refused before anything was written

    proc = ivr("new", "line-3", "--flows", "my", "--tests", "checks", cwd=tmp_path)  # the convo exists
    assert proc.returncode == 2 and "basic.yaml: файл уже есть" in proc.stderr
    assert not (tmp_path / "my" / "line-3.yaml").exists()


def test_bad_names_and_unwritable_folders_are_exit_2(tmp_path: Path):
    for name in ("Поликлиника", "9line", "../evil"):
        proc = ivr("new", name, cwd=tmp_path)
        assert proc.returncode == 2 and f"«{name}» не годится как имя сценария" in proc.stderr
    (tmp_path / "file").write_text("", encoding="utf-8")
    proc = ivr("new", "clinic", "--flows", "file/flows", cwd=tmp_path)
    assert proc.returncode == 2 and "не удаётся создать файл" in proc.stderr and "Traceback" not in proc.stderr
    assert list(tmp_path.iterdir()) == [tmp_path / "file"]
