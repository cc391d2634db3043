"""Benchmarks for paper 01's engines; prints ratios against baselines measured in the same run.

1. Break-even grid, 3 SLO bins x 200 α x 200 B: the vectorised engine vs the same model
   evaluated one cell at a time in a Python loop (timed on a sample of cells and scaled).
2. `costcorrect frontier` end to end (fresh process, figures included) vs the 5 s budget.

Usage: python benchmarks/bench_frontier.py [--write docs/benchmarks.md]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np

from costcorrect.catalog import Catalog
from costcorrect.io import write_markdown_section
from costcorrect.scenario import load_scenario
from costcorrect.serving import frontier as fr
from costcorrect.serving.decomposition import decompose, prompt_tokens_for_share

BINS = [(200, 30), (500, 50), (1000, 80)]
SECTION = "## Serving frontier (paper 01)"


def best_of(fn, repeat=5):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times), statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--write", type=Path, default=None)
    args = ap.parse_args()

    cat, sc = Catalog.load(), load_scenario()
    setup = fr.setup_for(cat, sc)
    alpha = np.linspace(0.2, 0.97, 200)
    bw = np.geomspace(25, 900, 200)
    d_tokens = sc.workload.output_tokens

    def grid():
        fr.scenario_breakeven(cat, sc)

    grid()  # warm caches (wait-curve table)
    vec_best, vec_med = best_of(grid)

    rng = np.random.default_rng(0)
    sample = 120
    cells = [(BINS[rng.integers(3)], alpha[rng.integers(200)], bw[rng.integers(200)])
             for _ in range(sample)]

    def loop():
        for (ttft, tpot), a, b in cells:
            p = float(prompt_tokens_for_share(a, d_tokens))
            decompose(setup, "chunked", p, d_tokens, ttft, tpot, chunk_tokens=512,
                      queue_servers=sc.queue_servers)
            decompose(setup, "disaggregated", p, d_tokens, ttft, tpot, bandwidth_gb_s=b,
                      overlap_eta=0.5, queue_servers=sc.queue_servers)

    loop_best, _ = best_of(loop, repeat=2)
    loop_full = loop_best / sample * (3 * 200 * 200)

    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "costcorrect.cli", "frontier", "--out", tmp]
        runs = []
        for _ in range(3):
            t = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True)
            runs.append(time.perf_counter() - t)
    e2e = min(runs)

    rows = [
        ("break-even grid 3x200x200 (vectorised)", f"{vec_best * 1e3:.1f} ms",
         f"{loop_full:.1f} s (per-cell loop, est. from {sample} cells)",
         f"{loop_full / vec_best:,.0f}x faster", "< 0.5 s", "pass" if vec_best < 0.5 else "FAIL"),
        ("`costcorrect frontier` end to end + figures", f"{e2e:.2f} s", "5 s budget",
         f"{5.0 / e2e:.1f}x headroom", "< 5 s", "pass" if e2e < 5.0 else "FAIL"),
    ]
    header = "| benchmark | measured | baseline (same run) | ratio | target | result |"
    lines = [header, "|---|---|---|---|---|---|"] + ["| " + " | ".join(r) + " |" for r in rows]
    table = "\n".join(lines)
    print(table)
    if args.write:
        head = (
            "# Benchmarks\n\n"
            "Each section is produced by one script in `benchmarks/` (all run by `scripts/bench`) and "
            "replaces only its own section; the baselines are measured in the same run on the same machine.\n\n"
        )
        section = (
            f"{SECTION}\n\n"
            f"Run {date.today().isoformat()} on {platform.machine()} / Python "
            f"{platform.python_version()} / {platform.system()}; best of repeated runs "
            f"(grid median {vec_med * 1e3:.1f} ms; frontier runs {', '.join(f'{r:.2f}' for r in runs)} s).\n\n"
            f"{table}\n"
        )
        write_markdown_section(args.write, SECTION, section, preamble=head, first=True)
        print(f"wrote {args.write}")

if __name__ == "__main__":
    main()
