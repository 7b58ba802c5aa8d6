"""Engine figures: turn throughput and latency, call start vs flow size, flow load time.

Run: ``python benchmarks/bench_engine.py``. Prints figures and ratios against the targets in issue 2
(≥ 5,000 turns/s on one core, p99 ≤ 2 ms, call start on 1,000 states ≤ 2× on 10 states,
1,000-state flow loads and validates in ≤ 1 s). Nothing here asserts: targets live in the README.
"""

from __future__ import annotations

import statistics
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ivr.engine import Engine, ManualClock  # noqa: E402
from ivr.flow.loader import load_flow, parse_flow  # noqa: E402

NOW = datetime.fromisoformat("2026-11-25T10:00:00+03:00")
WORDS = ["справка", "выписка", "оплата", "статус", "пароль", "доступ", "ошибка", "жалоба", "заявление",
         "доверенность", "адрес", "телефон", "паспорт", "кабинет", "чат", "форма", "срок", "право"]

# A realistic scripted call on the example flow: a miss, silence, a phrase, a global, keys, a slot.
SCRIPT = [
    ("speech", "здравствуйте а это библиотека"),
    ("silence", ""),
    ("speech", "мне бы книгу продлить"),
    ("speech", "повторите пожалуйста"),
    ("speech", "назад"),
    ("dtmf", "1"),
    ("speech", "сто двадцать три четыреста пятьдесят шесть"),
]


def generated_flow(states: int) -> str:
    """A flow of ``states`` menus, each with three spoken/keyed options leading further on."""
    lines = ["flow: {id: gen, title: Gen, start: s0, escalate: s0}", "globals:",
             "  operator: {keys: '0', phrases: ['оператор'], goto: s0}", "states:"]
    for i in range(states):
        lines.append(f"  s{i}:")
        lines.append(f"    say: 'Меню {i}. {{menu_hint}}'")
        lines.append("    options:")
        for k in range(3):
            word = WORDS[(i + k) % len(WORDS)]
            lines.append(f"      - {{id: o{k}, keys: '{k + 1}', phrases: ['{word} {k}', '{word} номер {k}'], "
                         f"goto: s{(i * 3 + k + 1) % states}}}")
    return "\n".join(lines) + "\n"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def bench_turns(total_turns: int = 30_000) -> None:
    engine = Engine(load_flow(ROOT / "flows" / "example.yaml"))
    clock = ManualClock(NOW)
    latencies: list[float] = []
    for _ in range(200):  # warm the lemma and menu caches
        call = engine.start_call(clock=clock)
        for kind, text in SCRIPT:
            _feed(call, kind, text)
    done = 0
    started = time.perf_counter()
    while done < total_turns:
        call = engine.start_call(clock=clock)
        for kind, text in SCRIPT:
            t0 = time.perf_counter_ns()
            _feed(call, kind, text)
            latencies.append((time.perf_counter_ns() - t0) / 1e6)
            done += 1
    elapsed = time.perf_counter() - started
    rate = done / elapsed
    p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
    print(f"scripted call turns:    {rate:,.0f} turns/s (target ≥ 5,000: {rate / 5000:.1f}×)")
    print(f"turn latency:           p50 {p50:.3f} ms, p99 {p99:.3f} ms (target p99 ≤ 2 ms: "
          f"{2 / p99:.1f}× headroom)")


def _feed(call, kind: str, text: str) -> None:
    if kind == "speech":
        call.speech(text)
    elif kind == "dtmf":
        call.dtmf(text)
    else:
        call.silence(6)


def bench_call_start() -> None:
    results = {}
    for size in (10, 1000):
        engine = Engine(parse_flow(generated_flow(size), f"gen{size}.yaml"))
        clock = ManualClock(NOW)
        for _ in range(200):
            engine.start_call(clock=clock)
        samples = []
        for _ in range(2000):
            t0 = time.perf_counter_ns()
            engine.start_call(clock=clock)
            samples.append((time.perf_counter_ns() - t0) / 1e3)
        results[size] = statistics.median(samples)
        print(f"call start, {size:>4} states: median {results[size]:.1f} µs")
    print(f"call start ratio 1000/10: {results[1000] / results[10]:.2f}× (target ≤ 2×)")
    # For contrast: what registering each call with Machine.add_model would cost on 1,000 states.
    flow = parse_flow(generated_flow(1000), "gen1000.yaml")
    machine = Engine(flow).machine.machine
    t0 = time.perf_counter()
    models = [type("M", (), {})() for _ in range(50)]
    for m in models:
        machine.add_model(m)
    per_model = (time.perf_counter() - t0) / len(models) * 1e3
    print(f"(for contrast) Machine.add_model on 1000 states: {per_model:.2f} ms per call, "
          f"and the machine then holds {len(machine.models)} models")


def bench_load() -> None:
    text = generated_flow(1000)
    samples = []
    for _ in range(5):
        t0 = time.perf_counter()
        flow = parse_flow(text, "gen1000.yaml")
        Engine(flow)
        samples.append(time.perf_counter() - t0)
    best, median = min(samples), statistics.median(samples)
    print(f"1000-state flow load+validate+machine: median {median * 1e3:.0f} ms, best {best * 1e3:.0f} ms "
          f"(target ≤ 1 s: {1 / median:.1f}× headroom), {len(text.splitlines())} YAML lines")


def _words_decide(engine: Engine, state: str, text: str) -> bool:
    """Whether the fast path (lemmas) answers this turn without the sentence encoder."""
    from ivr.understanding.normalize import normalize

    router = engine.flow.menu(state).matcher
    if router is None or not router.by_meaning:
        return True
    lemma = router.matcher.match(normalize(text))
    return lemma.kind == "match" and lemma.score >= router.thresholds.lemma_sure


def bench_gosuslugi(rounds: int = 20) -> None:
    """Every convo file of the Госуслуги suite replayed as calls, latency per kind of turn: menu
    speech, keys, silence, and each slot type the operator collects (ФИО, СНИЛС, dates…)."""
    from ivr.convo.runner import _input
    from ivr.convo.schema import load_convo

    engine = Engine(load_flow(ROOT / "flows" / "gosuslugi.yaml"))
    convos = [load_convo(p) for p in sorted((ROOT / "tests" / "convos" / "gosuslugi").glob("*.yaml"))]
    by_kind: dict[str, list[float]] = {}
    for round_ in range(rounds + 1):  # round 0 warms the caches and is not counted
        for convo in convos:
            call = engine.start_call(clock=ManualClock(convo.now or NOW), seed=convo.seed)
            for step in convo.turns:
                inp = _input(step, call, ROOT, None)
                if inp is None or step.audio:
                    continue
                state = engine.flow.states[call.state]
                kind = (f"slot {state.collect.type}" if state.collect and inp.kind != "silence"
                        else f"menu {inp.kind}")
                if kind == "menu speech" and not _words_decide(engine, call.state, inp.text):
                    kind = "menu speech, by meaning"
                t0 = time.perf_counter_ns()
                call.handle(inp)
                if round_:
                    by_kind.setdefault(kind, []).append((time.perf_counter_ns() - t0) / 1e6)
    fast = [v for kind, values in by_kind.items() if "meaning" not in kind for v in values]
    print(f"Госуслуги flow, {len(convos)} convo files × {rounds}: {sum(map(len, by_kind.values())):,} turns; "
          f"turns the words decide: p50 {percentile(fast, 50):.3f} ms, p99 {percentile(fast, 99):.3f} ms "
          f"(target p99 ≤ 2 ms: {2 / percentile(fast, 99):.1f}× headroom); turns by meaning: see below "
          "(target p99 ≤ 30 ms)")
    for kind, values in sorted(by_kind.items(), key=lambda kv: -percentile(kv[1], 99)):
        print(f"  {kind:<18} n={len(values):>6,}  p50 {percentile(values, 50):.3f} ms  "
              f"p99 {percentile(values, 99):.3f} ms")


if __name__ == "__main__":
    bench_gosuslugi()
    bench_turns()
    bench_call_start()
    bench_load()
