"""Task-bootstrap of cost per correct answer: vectorised (multinomial counts @ per-task sums) vs a loop.

Usage: python benchmarks/bench_cost_correct.py [--write docs/benchmarks.md]

The baseline (one resample per Python iteration, ``bootstrap_levers_loop``) runs in the same
process on the same synthetic task table. ``--write`` replaces only the
``## Cost-correct bootstrap (issue 6)`` section of the file.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from costcorrect.allocation import logs
from costcorrect.io import write_markdown_section

SECTION = "## Cost-correct bootstrap (issue 6)"


def _table(n_tasks: int, seed: int = 0) -> logs.TaskTable:
    rng = np.random.default_rng(seed)
    return logs.TaskTable(output_tokens=rng.integers(500, 20_000, n_tasks).astype(float),
                          answer_tokens=rng.integers(50, 500, n_tasks).astype(float),
                          input_tokens=rng.integers(100, 2000, n_tasks).astype(float),
                          attempts=rng.integers(1, 8, n_tasks).astype(float),
                          accepted_any=(rng.random(n_tasks) < 0.6).astype(float),
                          accepted_attempts=np.ones(n_tasks))


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
    rows = []
    for n_tasks, reps in ((500, 2000), (5000, 2000)):
        t = _table(n_tasks)
        vec = _best(lambda t=t, reps=reps: logs.bootstrap_levers(t, 1.0, reps), 3)
        loop = _best(lambda t=t, reps=reps: logs.bootstrap_levers_loop(t, 1.0, reps), 1)
        rows.append((f"{reps:,} task resamples of {n_tasks:,} tasks", f"{vec * 1e3:.1f} ms",
                     f"{loop * 1e3:.0f} ms (Python loop)", f"{loop / vec:,.1f}x faster"))
    table = "\n".join(["| benchmark | vectorised | baseline (same run) | ratio |", "|---|---|---|---|"]
                      + ["| " + " | ".join(r) + " |" for r in rows])
    print(table)
    if args.write:
        body = (f"{SECTION}\n\n`benchmarks/bench_cost_correct.py`: the 95% intervals of `cost-correct --from-log` "
                f"resample tasks (not attempts); best of 3 runs for the vectorised path.\n\n{table}\n")
        write_markdown_section(args.write, SECTION, body)
        print(f"wrote {args.write}")


if __name__ == "__main__":
    main()
