"""Soak: many fuzzed flows and hostile calls in one process, the longer hunt behind the test suite.

* Flows: the hypothesis strategies of ``tests/unit/test_loader_fuzz.py`` (damaged flow text,
  plausible documents with wrong types, valid documents with odd names) — each either loads or is
  explained by a ``FlowError``, and a flow that loads takes a call of random inputs.
* Calls on ``flows/gosuslugi.yaml`` through the engine, transcripts and reports written to a
  temporary folder: practice persons saying their data in every form (``tests/privacy.py``) mixed
  with huge turns, control characters, markup, 5,000-digit numbers, «девятьсот девяносто девять»
  × 1,500 in a digits slot and undecodable text. Then every file written is searched for each
  person's values.

Prints calls, flows, seconds, RSS at start and end, tracebacks and personal-data hits; exits 1 if
there were tracebacks or hits. The suite runs the same strategies 150 times (``IVR_FUZZ_EXAMPLES``).

Run: ``python benchmarks/bench_soak.py [--flows 10000] [--calls 1000] [--seed 1]``
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import tempfile
import time
import traceback
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import seed as hypothesis_seed  # noqa: E402

from ivr.channels.chat import classify  # noqa: E402
from ivr.engine import Engine, ManualClock  # noqa: E402
from ivr.flow.loader import FlowError, parse_flow  # noqa: E402
from ivr.report import report  # noqa: E402
from tests.privacy import fold, hostile_calls, name_forms, people, scan_tree, value_forms  # noqa: E402
from tests.unit import test_loader_fuzz as fuzz  # noqa: E402

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=timezone(timedelta(hours=3)))
JUNK = [
    "а" * 1_000_000,  # a 1 MB turn (cut at 2,000 characters)
    "ошибка " + "7" * 5000,
    "девятьсот девяносто девять " * 1500,
    "\x00\x07\x1b[31m красный \x1b[0m\r\n\t",
    "[/] [bold red]жалоба[/] [link=file:///etc/passwd]ссылка[/link]",
    "\udcff\udcfe ошибка \ud800",  # what undecodable bytes on stdin become
    "{reference} {data.operator.name} {{menu_hint}}",
    "🙂" * 300,
    "",  # silence
    "*", "#", "0", "1234567890*#",
]


class Tally:
    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.failures: list[str] = []

    def failed(self, what: str) -> None:
        self.counts["tracebacks"] += 1
        if len(self.failures) < 5:
            self.failures.append(f"{what}\n{traceback.format_exc()}")


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def soak_flows(total: int, seed: int, tally: Tally) -> None:
    """``total`` flows, a third from each strategy; exceptions are counted, never raised, so
    hypothesis neither stops nor shrinks."""
    def options(share: int):
        return settings(max_examples=max(1, share), deadline=None, database=None, phases=[Phase.generate],
                        suppress_health_check=list(HealthCheck))

    shares = [total // 3 + (i < total % 3) for i in range(3)]

    def attempt(text: str, moment, inputs) -> None:
        tally.counts["flows"] += 1
        try:
            flow = parse_flow(text, fuzz.NAME)
        except FlowError as err:
            try:
                fuzz.assert_flow_error(err)
            except AssertionError:
                tally.failed(f"unexplained FlowError for:\n{text[:2000]}")
            return
        except Exception:  # noqa: BLE001 - what the soak is looking for
            tally.failed(f"loading:\n{text[:2000]}")
            return
        tally.counts["flows loaded"] += 1
        try:
            fuzz.run_call(flow, moment, inputs)
            tally.counts["fuzzed calls"] += 1
        except Exception:  # noqa: BLE001
            tally.failed(f"a call on:\n{text[:2000]}\ninputs: {inputs!r}"[:4000])

    def dump(doc: dict) -> str:
        return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)

    @options(shares[0])
    @given(text=fuzz.flow_text(), moment=fuzz.MOMENTS, inputs=fuzz.INPUTS)
    def damaged(text, moment, inputs):
        attempt(text, moment, inputs)

    @options(shares[1])
    @given(doc=fuzz.flow_document(), moment=fuzz.MOMENTS, inputs=fuzz.INPUTS)
    def plausible(doc, moment, inputs):
        attempt(dump(doc), moment, inputs)

    @options(shares[2])
    @given(doc=fuzz.valid_flow_document(), moment=fuzz.MOMENTS, inputs=fuzz.INPUTS)
    def valid(doc, moment, inputs):
        attempt(dump(doc), moment, inputs)

    for run in (damaged, plausible, valid):
        hypothesis_seed(seed)(run)()  # the same seed generates the same flows again


def soak_calls(total: int, seed: int, folder: Path, tally: Tally) -> None:
    """``total`` calls on the Госуслуги flow; every ``n``-th call's files are scanned for the
    values of the person who made it."""
    path = ROOT / "flows" / "gosuslugi.yaml"
    engine = Engine.from_file(path)
    rng = random.Random(seed)
    # A person named like someone the flow itself names (the operator Алексей) would be a hit
    # that is no leak: such persons are left out.
    flow_words = set(re.findall(r"\w+", fold(path.read_text(encoding="utf-8"))))
    persons = [p for p in people(range(40)) if not any(w in flow_words for w in name_forms(p.fio))][:12]
    forms = [value_forms(person) for person in persons]
    scripts = [hostile_calls(person) for person in persons]
    for n in range(total):
        who = rng.randrange(len(persons))
        lines = list(rng.choice(scripts[who]))
        for _ in range(rng.randint(1, 4)):  # junk anywhere in the call
            lines.insert(rng.randint(0, len(lines)), rng.choice(JUNK))
        where = folder / f"call-{n}"
        try:
            call = engine.start_call(clock=ManualClock(NOW), transcript=where / "t.jsonl", seed=n)
            for line in lines:
                if call.ended:
                    break
                line = line.replace("{reference}", call.reference)
                inp = classify(line)
                if inp.kind == "speech":
                    call.speech(inp.text)
                elif inp.kind == "dtmf":
                    call.dtmf(inp.text)
                else:
                    call.silence(5.0)
            call.hang_up()
            report.write(call, where)
            tally.counts["calls"] += 1
            tally.counts["turns"] += len(call.turns)
        except Exception:  # noqa: BLE001 - what the soak is looking for
            tally.failed(f"call {n}: {[line[:80] for line in lines]}")
            continue
        hits = scan_tree(where, forms[who])
        tally.counts["personal-data hits"] += len(hits)
        if hits and len(tally.failures) < 5:
            tally.failures.append(f"call {n}: " + "; ".join(map(str, hits[:5])))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--flows", type=int, default=10_000, help="fuzzed flow documents (default 10,000)")
    parser.add_argument("--calls", type=int, default=1_000, help="hostile calls on the Госуслуги flow (1,000)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.flows < 0 or args.calls < 0:
        parser.error("--flows and --calls must not be negative")

    tally = Tally()
    started, rss_start = time.perf_counter(), rss_mb()
    with tempfile.TemporaryDirectory(prefix="ivr-soak-") as tmp:
        soak_calls(args.calls, args.seed, Path(tmp), tally)
        calls_done = time.perf_counter()
        soak_flows(args.flows, args.seed, tally)
    finished, rss_end = time.perf_counter(), rss_mb()

    counts = tally.counts
    print(f"calls: {counts['calls']:,} hostile on gosuslugi.yaml ({counts['turns']:,} turns, "
          f"{calls_done - started:.0f} s)")
    print(f"flows: {counts['flows']:,} fuzzed, {counts['flows loaded']:,} loaded, "
          f"{counts['fuzzed calls']:,} calls through them ({finished - calls_done:.0f} s)")
    print(f"seconds: {finished - started:.0f}")
    print(f"RSS: start {rss_start:.0f} MB, end {rss_end:.0f} MB")
    print(f"tracebacks = {counts['tracebacks']}")
    print(f"personal-data hits = {counts['personal-data hits']}")
    for failure in tally.failures:
        print("\n" + failure, file=sys.stderr)
    return 1 if counts["tracebacks"] or counts["personal-data hits"] else 0


if __name__ == "__main__":
    sys.exit(main())
