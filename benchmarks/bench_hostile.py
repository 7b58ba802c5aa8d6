"""Growth of the work hostile input can cause: masking a line with N number runs and N names,
a call fed N-character turns, and the peak memory of ``ivr run --json`` for a call of N turns.
Prints time (or memory) per size and the ratio between sizes; linear work shows a ratio near the
size ratio (4×), quadratic work 16×. Nothing here asserts.

Run: ``python benchmarks/bench_hostile.py``
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ivr.engine import Engine  # noqa: E402
from ivr.slots.redact import Redactor  # noqa: E402


def timed(func, arg) -> float:
    started = time.perf_counter()
    func(arg)
    return time.perf_counter() - started


def growth(name: str, make, func, sizes=(1000, 4000, 16000)) -> None:
    times = [timed(func, make(n)) for n in sizes]
    shown = ", ".join(f"{n:,}: {t * 1000:.0f} ms" for n, t in zip(sizes, times))
    ratios = ", ".join(f"{b / a:.1f}×" for a, b in zip(times, times[1:]))
    print(f"{name:<40} {shown}  (×4 size → {ratios})")


def _chain(n: int) -> str:
    states = "\n".join(f"  s{i}: {{next: s{i + 1}}}" for i in range(n))
    return f"flow: {{id: c, title: C, start: s0}}\nstates:\n{states}\n  s{n}: {{say: конец, end: true}}\n"


def _missing(n: int) -> str:
    states = "\n".join(f"  s{i}: {{say: x, options: [{{id: o, keys: '1', goto: missing{i}}}]}}" for i in range(n))
    return f"flow: {{id: m, title: M, start: s0}}\nstates:\n{states}\n"


def _collect_chain(n: int):
    from ivr.flow.loader import parse_flow
    from tests.unit.test_flow_warnings import collect_chain

    return parse_flow(collect_chain(n), "gen.yaml")


def _warn(flow) -> None:
    from ivr.flow.checks import flow_warnings

    flow_warnings(flow, meaning=False)


def _load(text: str) -> None:
    from ivr.flow.loader import FlowError, parse_flow

    try:
        parse_flow(text, "gen.yaml")
    except FlowError:
        pass


# Started from a small interpreter: a child's peak RSS counts the memory of the process it was
# forked from, and this script holds the Госуслуги engine by the time it measures.
_MEASURE = (
    "import os, subprocess, sys\n"
    "process = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)\n"
    "_, status, usage = os.wait4(process.pid, 0)\n"
    "print(os.waitstatus_to_exitcode(status), usage.ru_maxrss)\n"
)


def peak_rss_mb(args: list[str]) -> float:
    """Peak resident memory of one ``ivr`` process (its own rusage, not this script's)."""
    measured = subprocess.run([sys.executable, "-c", _MEASURE, sys.executable, "-m", "ivr", *args], cwd=ROOT,
                              capture_output=True, text=True, check=True)
    code, kilobytes = map(int, measured.stdout.split())
    if code not in (0, 1):
        raise SystemExit(f"ivr {' '.join(args[:2])}… ended with {code}")
    return kilobytes / 1024  # kilobytes on Linux


def json_memory(sizes=(1250, 5000, 20000)) -> None:
    """``ivr run --json`` on the Госуслуги flow for a call of N turns (a repeat key and a caller line
    with a СНИЛС and markup, alternately): the output was built whole through rich (1.08 GB at
    20,000 turns) and is now written a turn at a time; the plain-text output is the floor."""
    with tempfile.TemporaryDirectory() as tmp:
        peaks = []
        for n in sizes:
            script = Path(tmp) / f"{n}.yaml"
            turn = "  - dtmf: '*'\n  - caller: 'мой снилс 112-233-445 95 [/]'\n"
            script.write_text("now: '2026-11-25T10:00:00+03:00'\nturns:\n" + turn * (n // 2), encoding="utf-8")
            args = ["run", str(ROOT / "flows" / "gosuslugi.yaml"), "--script", str(script)]
            peaks.append((peak_rss_mb([*args, "--json"]), peak_rss_mb(args)))
    shown = ", ".join(f"{n:,}: {j:.0f} MB (text {t:.0f} MB)" for n, (j, t) in zip(sizes, peaks))
    ratios = ", ".join(f"{b[0] / a[0]:.1f}×" for a, b in zip(peaks, peaks[1:]))
    print(f"{'ivr run --json, peak RSS for N turns':<40} {shown}  (×4 size → {ratios})")


def main() -> None:
    redact = Redactor()
    growth("mask N dictated numbers in one line", lambda n: " и ".join(["сто двенадцать двести тридцать три"] * n),
           redact)
    growth("mask N names in one line", lambda n: " потом ".join(["петрова анна сергеевна"] * n), redact)
    growth("check a chain of N pass-through states", _chain, _load, sizes=(2500, 10000, 40000))
    growth("explain N references to missing states", _missing, _load, sizes=(500, 2000, 8000))
    growth("warn about N slots used after their collect", _collect_chain, _warn, sizes=(2500, 10000, 40000))
    engine = Engine.from_file(ROOT / "flows" / "gosuslugi.yaml")
    growth("one turn of N characters (cut at 2,000)", lambda n: "а" * (n * 100),
           lambda text: engine.start_call().speech(text))
    json_memory()


if __name__ == "__main__":
    main()
