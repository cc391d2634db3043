"""Exact routing premium (paper 05): vectorised golden-section search vs a per-query Brent loop.

Usage: python benchmarks/bench_routing.py [--write docs/benchmarks.md]

Both paths run in the same process on the same synthetic workload (``synthetic_cost_fn``,
d = 0.5 + 0.3·U(−1, 1)): ``exact_premium(method="vectorised")`` solves every per-query c*(d)
and every per-bin router optimum at once; ``method="loop"`` calls scipy's bounded Brent search
once per query and once per bin (the baseline). ``--write`` replaces only this file's section.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from costcorrect.allocation import routing as rt
from costcorrect.io import write_markdown_section

SECTION = "## Routing premium (issue 7)"


def _best(fn, repeats: int) -> float:
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--write", type=Path, default=None)
    args = ap.parse_args()
    cost = rt.synthetic_cost_fn()
    rows = []
    for n in (200, 2000):
        d = 0.5 + 0.3 * np.random.default_rng(0).uniform(-1, 1, n)
        deciles = np.digitize(d, np.quantile(d, np.linspace(0.1, 0.9, 9)))
        for label, groups in (("oracle bins", None), ("10 d̂ bins", deciles)):
            vec = _best(lambda d=d, g=groups: rt.exact_premium(cost, d, g), 3)
            loop = _best(lambda d=d, g=groups: rt.exact_premium(cost, d, g, method="loop"), 1)
            a = rt.exact_premium(cost, d, groups)["premium_exact"]
            b = rt.exact_premium(cost, d, groups, method="loop")["premium_exact"]
            rows.append((f"exact Π, {n:,} queries, {label}", f"{vec * 1e3:.1f} ms", f"{loop * 1e3:.0f} ms (Brent loop)",
                         f"{loop / vec:,.1f}x faster", f"{abs(a - b) / abs(b):.1e}"))
    table = "\n".join(["| benchmark | vectorised | baseline (same run) | ratio | rel. diff of Π |",
                       "|---|---|---|---|---|"] + ["| " + " | ".join(r) + " |" for r in rows])
    print(table)
    if args.write:
        body = (f"{SECTION}\n\n`benchmarks/bench_routing.py`: `exact_premium` (c*(d) per query, router optimum "
                f"per bin, fixed optimum) vectorised vs one scipy Brent search per query/bin; best of 3 runs "
                f"for the vectorised path, 1 for the loop.\n\n{table}\n")
        write_markdown_section(args.write, SECTION, body)
        print(f"wrote {args.write}")


if __name__ == "__main__":
    main()
