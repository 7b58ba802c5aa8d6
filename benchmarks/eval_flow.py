"""How a flow's menus understand a labelled set of natural phrasings: one line of shares, then every
item not answered right. For a flow author checking phrases against words callers use (the set is
written apart from the flow, e.g. tests/understanding/eval_polyclinic.yaml). Run from the root:

    python -m benchmarks.eval_flow flows/polyclinic.yaml tests/understanding/eval_polyclinic.yaml [--split report]
"""

from __future__ import annotations

import argparse
import os
import sys

from ivr.flow.loader import load_flow
from ivr.understanding.evaluation import failures, flow_answer, load_items, tally


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("flow")
    parser.add_argument("items")
    parser.add_argument("--split", default="report")
    args = parser.parse_args()
    flow = load_flow(args.flow)
    items = load_items(args.items, args.split)
    answer = flow_answer(flow)
    print(f"{args.flow}, {args.split}: {tally(items, answer)}")
    for item, result, kind in failures(items, answer):
        print(f"  {kind}: {item.state}: «{item.say}» (want {item.want}) → {result.kind} {result.choice or ''}")


if __name__ == "__main__":
    try:
        main()
    except BrokenPipeError:  # piped into `head`: the reader has what it wanted
        # what is still buffered must not fail again at exit (Python's documented recipe)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
