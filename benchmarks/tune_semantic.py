"""Choose the router's thresholds on the "tune" split of the Госуслуги evaluation set.

Lemma answers and meaning scores are computed once per item, then every threshold combination of
the grid is replayed on them (``Router.combine``), so the search takes seconds. The "report"
split is never read here. Run from the repository root:

    python -m benchmarks.tune_semantic [--split tune]

Printed: the best combinations under the objective (right − 4 × wrong − ½ × clarified), one line
each. A combination is only adopted if `ivr test tests/convos` still passes with it: the convo
files pin the questions a menu must keep asking (a two-topic sentence stays a question).
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
from pathlib import Path

from ivr.flow.loader import load_flow
from ivr.understanding.evaluation import load_items, outcome
from ivr.understanding.normalize import normalize
from ivr.understanding.semantic import DEFAULT_THRESHOLDS, Thresholds
from ivr.understanding.unsure import only_unsure

ROOT = Path(__file__).resolve().parent.parent
EVAL = ROOT / "tests" / "understanding" / "eval_gosuslugi.yaml"

def grid() -> list[Thresholds]:
    out = []
    # the classifier's thresholds: 1.1 switches a rule off (a probability lead is at most 1)
    for (top_k, match, margin, confirm, confirm_margin, among, lemma_sure, override, stand, by_class,
         veto, route) in itertools.product(
        (1, 3), (0.88, 0.89, 0.90), (0.01, 0.02, 0.03), (0.86, 0.87, 1.01), (0.0, 0.005),
        (0.03, 0.05), (90.0, 95.0, 101.0), (0.02, 1.0), (0.0, 0.04, 0.05), (0.35, 1.1), (0.3, 1.1),
        (0.5, 1.1),
    ):
        out.append(Thresholds(match=match, margin=margin, confirm=confirm, confirm_margin=confirm_margin,
                              among_margin=among, lemma_sure=lemma_sure,
                              override=override, stand_out=stand, stand_out_route=stand, top_k=top_k,
                              among_probability=by_class, among_probability_alone=by_class + 0.25, veto=veto,
                              route_probability=route, route_stand_out=stand / 2))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="tune")
    args = parser.parse_args()
    flow = load_flow(ROOT / "flows" / "gosuslugi.yaml")
    items = load_items(EVAL, args.split)
    cases = [(it.state, normalize(it.say), it) for it in items]
    # (router, lemma answer, {top_k: scores})
    stored = {}
    for state, text, _ in cases:
        router = flow.menu(state).matcher
        # a menu that decides by words only never asks for meaning (``Router.meaning`` is None there)
        scores = {k: router._semantic_index().scores(text, k) if router.by_meaning else None for k in (1, 2, 3)}
        stored[(state, text)] = (router, router.matcher.match(text), scores)

    results = []
    for t in grid():
        counts = {"right": 0, "wrong": 0, "clarified": 0, "missed": 0}
        for state, text, item in cases:
            router, lemma, scores = stored[(state, text)]
            router.thresholds = t
            if lemma.kind == "none" and only_unsure(text):  # as ``Router.match``
                decided = lemma
            else:
                decided = router.combine(lemma, lambda s=scores, k=t.top_k: s[k], len(text.split()))
            counts[outcome(item, decided)] += 1
        n = len(cases)
        share = {k: 100.0 * v / n for k, v in counts.items()}
        results.append((share, t))
    for (state, text) in stored:
        stored[(state, text)][0].thresholds = DEFAULT_THRESHOLDS

    def objective(entry):
        share, _ = entry
        return share["right"] - 4 * share["wrong"] - 0.5 * share["clarified"]

    for share, t in sorted(results, key=objective, reverse=True)[:15]:
        print(f"right {share['right']:5.1f}  wrong {share['wrong']:4.1f}  clarified {share['clarified']:4.1f}"
              f"  missed {share['missed']:4.1f}  {dataclasses.astuple(t)}")


if __name__ == "__main__":
    main()
