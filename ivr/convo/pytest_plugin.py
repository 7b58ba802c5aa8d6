"""pytest collects convo files, so ``pytest`` runs the same conversations as ``ivr test``.

Any ``*.yaml`` below a folder named ``convos`` becomes one test item; a failure shows the turn, what
was expected and what happened, exactly like ``ivr test``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

_runners: dict[Path, object] = {}


def _runner(rootdir: Path):
    from ivr.convo.runner import Runner

    default = rootdir / "flows" / "gosuslugi.yaml"
    if default not in _runners:
        _runners[default] = Runner(default)
    return _runners[default]


def pytest_collect_file(file_path: Path, parent):
    if file_path.suffix == ".yaml" and "convos" in file_path.parts:
        return ConvoFile.from_parent(parent, path=file_path)
    return None


class ConvoFile(pytest.File):
    def collect(self):
        yield ConvoItem.from_parent(self, name=self.path.stem)


class ConvoFailed(Exception):
    pass


class ConvoItem(pytest.Item):
    def runtest(self) -> None:
        from ivr.errors import UserError

        try:
            result = _runner(Path(self.config.rootpath)).run_file(self.path)
        except UserError as error:
            raise ConvoFailed(str(error)) from None
        if not result.ok:
            from ivr.convo.expectations import format_failure

            raise ConvoFailed("\n".join(map(format_failure, result.failures)))

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, ConvoFailed):
            return f"{self.path}:\n{excinfo.value}"
        return super().repr_failure(excinfo, style)

    def reportinfo(self):
        return self.path, 0, f"convo: {self.path.name}"
