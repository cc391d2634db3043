"""Benchmark of `costcorrect tune` (issue 5).

1. 1,000 configurations of the default space (``examples/tune-space.yaml``; a
   configuration = deployment x SLO bin; an evenly spaced sample of 334 deployments x 3
   bins), 2,000 requests per simulation, local backend on 2 workers. Target: < 5 min.
2. Ray overhead: the same tasks (a smaller sample) on a local Ray vs the local process
   pool, both 2 workers; ratio of wall times (with and without ``ray.init``).
3. Smart search: successive halving vs the full grid of the default space (the grid
   reuses the 1,000-configuration run through the resumable dataset): full simulations
   of each, and whether halving found the grid's cheapest configuration in every bin.

Usage: python benchmarks/bench_tune.py [--workers 2] [--ray-deployments 40] [--write docs/benchmarks.md]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from costcorrect.catalog import Catalog
from costcorrect.io import write_markdown_section
from costcorrect.simulator import load_sim_scenario
from costcorrect.tuning.execute import LocalBackend, RayBackend
from costcorrect.tuning.space import load_space
from costcorrect.tuning.store import ResultStore
from costcorrect.tuning.tune import prepare, tune

ROOT = Path(__file__).resolve().parents[1]
SECTION = "## Autotuner (issue 5)"


def subset(prep, k: int):
    """``k`` deployments evenly spaced over the prepared grid (all architectures and GPUs)."""
    n = len(prep.configs)
    if k >= n:
        return prep
    idx = sorted({round(i * (n - 1) / (k - 1)) for i in range(k)})
    prep_k = type(prep)(**{**prep.__dict__, "configs": [prep.configs[i] for i in idx]})
    return prep_k


def run(prep, out: Path, backend, search: str = "grid") -> tuple[dict, float]:
    t0 = time.perf_counter()
    with ResultStore(out, prep.manifest, prep.schema) as store:
        res = tune(prep, store, backend, search=search)
    return res, time.perf_counter() - t0


def best_ids(res) -> list:
    return [(b["best"] or {}).get("config_id") for b in res["best_per_bin"]]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--configurations", type=int, default=1000)
    ap.add_argument("--ray-deployments", type=int, default=40)
    ap.add_argument("--keep", type=Path, default=None, help="keep the result folders here")
    ap.add_argument("--write", type=Path, default=None)
    args = ap.parse_args()

    cat = Catalog.load()
    base = load_sim_scenario()
    space = load_space(ROOT / "examples" / "tune-space.yaml")
    full = prepare(base, space, cat)
    n_dep = -(-args.configurations // len(full.bins))
    part = subset(full, n_dep)
    tmp = Path(args.keep or tempfile.mkdtemp(prefix="bench-tune-"))
    tmp.mkdir(parents=True, exist_ok=True)
    rows = []
    print(f"default space: {full.num_configurations} configurations ({len(full.configs)} deployments x "
          f"{len(full.bins)} bins); {full.collapsed} collapsed, {len(full.infeasible)} infeasible", flush=True)

    # 1. 1,000 configurations, local backend; CPU time of the workers tells what 2 free cores need
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    local = LocalBackend(args.workers)
    res1, wall1 = run(part, tmp / "grid", local)
    local.close()
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_s = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    free_wall = cpu_s / args.workers
    cfgs1 = part.num_configurations
    print(f"[1] {cfgs1} configurations in {wall1:.1f} s wall, {cpu_s:.0f} s CPU "
          f"({res1['full_simulations']} simulations)", flush=True)
    rows.append(("1,000 configurations of the default space, 2,000 requests each, local backend",
                 f"{cfgs1:,} configs: {wall1:.0f} s wall on the shared machine; {cpu_s:.0f} s CPU = "
                 f"{free_wall:.0f} s on {args.workers} free cores ({res1['full_simulations']:,} simulations, "
                 f"{cpu_s / res1['full_simulations']:.2f} CPU-s each)",
                 "< 300 s", f"wall: {'pass' if wall1 < 300 else 'FAIL'}; "
                            f"CPU/{args.workers}: {'pass' if free_wall < 300 else 'FAIL'}"))
    local = LocalBackend(args.workers)

    # 2. Ray overhead vs local, same tasks
    small = subset(full, args.ray_deployments)
    res_l, wall_l = run(small, tmp / "ray-local", local)
    local.close()
    t0 = time.perf_counter()
    try:
        ray_be = RayBackend(None, args.workers)
        init_s = time.perf_counter() - t0
        res_r, wall_r = run(small, tmp / "ray-ray", ray_be)
        ray_be.close()
        same = best_ids(res_l) == best_ids(res_r)
        ratio = f"{wall_r / wall_l:.2f}x tasks only; {(wall_r + init_s) / wall_l:.2f}x with ray.init ({init_s:.1f} s)"
        rows.append((f"Ray backend vs local, {small.num_configurations} configurations, {args.workers} workers each",
                     f"ray {wall_r:.1f} s vs local {wall_l:.1f} s", ratio, f"same results: {same}"))
        print(f"[2] ray {wall_r:.1f} s (+{init_s:.1f} s init) vs local {wall_l:.1f} s", flush=True)
    except Exception as exc:
        rows.append(("Ray backend vs local", f"not run: {exc}", "", ""))

    # 3. halving vs grid on the whole default space (the grid resumes run 1)
    local = LocalBackend(args.workers)
    res_g, _wall_g = run(full, tmp / "grid", local)
    res_h, wall_h = run(full, tmp / "halving", local, search="halving")
    local.close()
    found = [a == b for a, b in zip(best_ids(res_g), best_ids(res_h), strict=True)]
    gsims, hsims = res_g["full_simulations"], res_h["full_simulations"]
    rows.append((f"successive halving vs grid, whole default space ({full.num_configurations:,} configurations)",
                 f"{hsims:,} full simulations ({res_h['simulated_requests'] / 1e6:.1f} M simulated requests, "
                 f"{wall_h:.0f} s)",
                 f"grid: {gsims:,} full simulations ({res_g['simulated_requests'] / 1e6:.1f} M requests); "
                 f"{gsims / max(hsims, 1):.1f}x fewer full, "
                 f"{res_g['simulated_requests'] / max(res_h['simulated_requests'], 1):.1f}x fewer requests",
                 f"grid optimum found in {sum(found)}/{len(found)} bins"))
    print(f"[3] grid {gsims} vs halving {hsims} full simulations; optimum found {found}", flush=True)

    best = []
    for b in res_g["best_per_bin"]:
        r = b["best"]
        label = f"{b['slo']['ttft_p99_ms']:g} / {b['slo']['tpot_p99_ms']:g}"
        if r is None:
            best.append(f"| {label} | none meets the target | | | | |")
            continue
        knobs = ", ".join(f"{k}={r[k]}" for k in ("chunk_tokens", "replicas", "prefill_instances",
                                                  "decode_instances", "kv_bandwidth_gb_s") if r.get(k) is not None)
        best.append(f"| {label} | {r['architecture']} {r['gpu']} TP{r['tensor_parallel']} {r['weight_dtype']}"
                    f"{', ' + knobs if knobs else ''} | {r['num_gpus']} | {r['capacity_rate_per_s']:.2f} | "
                    f"{r['cpm_served_usd_per_mtok']:.3f} | {r['cpm_closed_form_usd_per_mtok'] or float('nan'):.3f} |")

    cpu = os.cpu_count()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    text = "\n".join([
        SECTION, "",
        f"Produced by `benchmarks/bench_tune.py`. Run {date.today()} on {platform.machine()} / Python "
        f"{sys.version.split()[0]} / {platform.system()}, {cpu} cores, {args.workers} workers "
        f"(1-min load average at the end: {load:.1f}; other jobs shared the machine). A configuration is one "
        "deployment at one SLO bin; the three bins of a deployment share their simulations (one capacity "
        "search per deployment), so 1,000 configurations are 334 deployments x 3 bins. Each simulation has "
        "2,000 requests of the default chat mix; capacity is searched to 5 % (rel_tol) at 99 % attainment.", "",
        "| benchmark | measured | baseline (same run) / target | result |",
        "|---|---|---|---|",
        *[f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows], "",
        "Cheapest configuration per SLO bin on the whole default space (grid, simulated CPM_served at "
        "capacity; closed form = paper 01's operating point for the same setup):", "",
        "| SLO bin TTFT / TPOT [ms] | configuration | GPUs | capacity [req/s] | CPM_served sim [$/MTok] | "
        "closed form [$/MTok] |",
        "|---|---|---|---|---|---|",
        *best, "",
    ])
    print(text)
    if args.write:
        write_markdown_section(args.write, SECTION, text)
        print(f"wrote {args.write}")
    if args.keep is None:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
