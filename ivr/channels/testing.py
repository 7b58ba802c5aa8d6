"""``ivr test``: run convo files, report failures turn by turn, and optionally flow coverage."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from rich.console import Console

from ivr.channels.convo import ConvoResult, Runner, collect_paths, coverage
from ivr.errors import UserError


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
            console.print(f"    шаг {f.turn} ({f.step}):\n      ожидалось: {f.expected}\n      вышло:     "
                          f"{f.happened}", markup=False)
    errors = Console(stderr=True, highlight=False, soft_wrap=True)
    for message in broken:
        errors.print(message, markup=False)
    failed = sum(not r.ok for r in results)
    console.print(f"{len(results) - failed} passed, {failed + len(broken)} failed", markup=False)
    if coverage:
        print_coverage(results, console)
    if broken:
        return 2
    return 1 if failed else 0


def print_coverage(results: list[ConvoResult], console: Console) -> None:
    by_flow = defaultdict(list)
    for result in results:
        by_flow[result.call.flow].append(result.call)
    for flow, calls in by_flow.items():
        cov = coverage(flow, calls)
        console.print(f"Покрытие сценария {flow.id} ({flow.source}), {len(calls)} разговоров:", markup=False)
        for key, title in (("states", "состояния"), ("transitions", "переходы"), ("options", "пункты меню")):
            hit, total = cov[key]
            pct = 100.0 * hit / total if total else 100.0
            console.print(f"  {title}: {hit}/{total} = {pct:.1f} %", markup=False)
        if cov["missed_states"]:
            console.print("  не пройдены состояния: " + ", ".join(cov["missed_states"]), markup=False)
        for edge in cov["missed_transitions"]:
            console.print(f"  не пройден переход: {edge}", markup=False)
