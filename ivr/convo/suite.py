"""``ivr test``: run convo files, report failures turn by turn, and optionally flow coverage."""

from __future__ import annotations

from pathlib import Path
from textwrap import indent

from rich.console import Console

from ivr.convo.coverage import print_coverage
from ivr.convo.expectations import format_failure
from ivr.convo.runner import ConvoResult, Runner
from ivr.convo.schema import collect_paths
from ivr.errors import UserError
from ivr.terminal import err
from ivr.understanding.plural import counted


def run_tests(paths: list[Path], default_flow: Path, *, coverage: bool = False, console: Console) -> int:
    runner = Runner(default_flow)
    files = collect_paths(paths)
    if not files:
        raise UserError("не найдено ни одного файла разговора (*.yaml)")
    results: list[ConvoResult] = []
    broken: list[str] = []
    for path in files:
        try:
            result = runner.run_file(path)
        except UserError as error:
            broken.append(str(error))
            console.print(f"ОШИБКА {path}", markup=False)
            continue
        results.append(result)
        console.print(f"{'ок    ' if result.ok else 'ПРОВАЛ'} {path}", markup=False)
        for f in result.failures:
            console.print(indent(format_failure(f), "    "), markup=False)
    for message in broken:
        err.print(message, markup=False)
    failed = sum(not r.ok for r in results)
    if runner.defaulted:  # said, so that a forgotten `flow:` is not a silent run of another flow
        console.print(
            f"Без flow: — {counted(runner.defaulted, 'разговор')} по сценарию {default_flow}", markup=False
        )
    console.print(f"{len(results) - failed} passed, {failed + len(broken)} failed", markup=False)
    if coverage:
        print_coverage([r.call for r in results], console)
    if broken:
        return 2
    return 1 if failed else 0
