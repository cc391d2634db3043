"""``costcorrect procure ...``: verifier procurement (paper 06).

* ``procure sample-size --vendors K --epsilon E [--constant C]`` — N ≥ C²·ln K/ε² (§5).
* ``procure run --reports FILE --labels FILE [--rule brier]`` — the mechanism on your probes.
* ``procure simulate [--quick] [--backend local|ray] --out DIR`` — the §7 sweep.
* ``procure humaneval --out DIR`` — the real probe set: HumanEval + AST mutants, executed in
  a sandbox, scored against real verifiers.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from costcorrect.cli.common import JsonOpt, _emit_json, _fmt, app, err_console, guarded, out_console
from costcorrect.errors import InputError, check_range
from costcorrect.io import atomic_write_bytes, atomic_write_text, dumps

procure_app = typer.Typer(help="Verifier procurement: scoring-rule mechanism, sample size, §7 simulation "
                               "(paper 06).", no_args_is_help=True)
app.add_typer(procure_app, name="procure")

RuleOpt = Annotated[str, typer.Option("--rule", help="Scoring rule: brier, quadratic, log or spherical.")]


# ----------------------------------------------------------------------------- sample-size
@procure_app.command("sample-size")
@guarded
def sample_size_cmd(
    vendors: Annotated[int, typer.Option("--vendors", help="Number of candidate verifiers K (>= 2).")],
    epsilon: Annotated[float, typer.Option("--epsilon", help="Target gap ε in accept-rate units, (0, 1).")],
    constant: Annotated[float | None, typer.Option(
        "--constant", help="Regret constant C; default 1.0 (the paper's ≈1100 at K=16, ε=0.05).")] = None,
    json_: JsonOpt = False,
):
    """Probes needed for an ε accept-rate gap: N = ceil(C²·ln K / ε²) (06 §5)."""
    from costcorrect.verification.mechanism import sample_size
    from costcorrect.verification.simulate import fit_rate, worst_case_regret

    check_range("vendors", vendors, 2)
    check_range("epsilon", epsilon, 0.0, 1.0, lo_open=True, hi_open=True)
    c = 1.0 if constant is None else float(constant)
    n = int(sample_size(vendors, epsilon, c))
    ns = [64, 256, 1024]
    reg = worst_case_regret(vendors, ns, seeds=1000)
    import numpy as np

    c_sim = float(np.max(reg / np.sqrt(np.log(vendors) / np.asarray(ns))))
    slope, _ = fit_rate(ns, reg)
    result = {
        "probes": n, "vendors": vendors, "epsilon": epsilon, "constant": c,
        "constant_source": "given" if constant is not None else "paper default (C = 1, natural log)",
        "formula": "ceil(C^2 * ln(K) / epsilon^2)",
        "constant_simulated": c_sim,
        "constant_simulated_note": "worst case over a two-level family (Le Cam construction), binary "
                                   "reports, Binomial agreement counts, N in 64..1024, 1000 seeds",
        "probes_at_simulated_constant": int(sample_size(vendors, epsilon, c_sim)),
        "simulated_rate_slope": slope,
    }
    if json_:
        _emit_json(result)
        return
    out_console.print(f"N ≥ C²·ln K/ε² = {c:g}²·ln {vendors}/{epsilon:g}² → {n:,} probes ({result['constant_source']})")
    out_console.print(f"simulated worst-case constant C ≈ {c_sim:.3f} (log-log slope {slope:.2f}) → "
                      f"{result['probes_at_simulated_constant']:,} probes")


# ----------------------------------------------------------------------------- run
@procure_app.command("run")
@guarded
def run_cmd(
    reports: Annotated[Path, typer.Option("--reports", help="CSV/Parquet with vendor,item_id,prob.")],
    labels: Annotated[Path, typer.Option("--labels", help="CSV/Parquet with item_id,label (0/1).")],
    rule: RuleOpt = "brier",
    per_probe_cap_usd: Annotated[float | None, typer.Option(
        "--per-probe-cap-usd", help="Payment cap per probe per vendor [USD]; default 0.01.")] = None,
    budget_usd: Annotated[float | None, typer.Option(
        "--budget-usd", help="Total payment budget over all vendors [USD].")] = None,
    reservation_usd: Annotated[float, typer.Option(
        "--reservation-usd", help="Vendors' reservation payment for the probe set [USD] (IR).")] = 0.0,
    bootstrap: Annotated[int, typer.Option("--bootstrap", help="Bootstrap resamples of the probes.")] = 2000,
    seed: Annotated[int, typer.Option("--seed", help="Bootstrap seed.")] = 0,
    json_: JsonOpt = False,
):
    """Pay each vendor a proper score on your labelled probes and pick the best (06 §4)."""
    from costcorrect.verification.datamode import load_table, procure
    from costcorrect.verification.rules import RULES

    if rule not in RULES:
        raise InputError("rule", rule, "one of " + ", ".join(RULES))
    check_range("bootstrap", bootstrap, 100, 100_000)
    result = procure(load_table(reports, "reports"), load_table(labels, "labels"), rule,
                     per_probe_cap_usd=per_probe_cap_usd, budget_usd=budget_usd,
                     reservation_usd=reservation_usd, n_boot=bootstrap, seed=seed)
    if json_:
        _emit_json(result)
        return
    table = Table(title=f"Scoring-rule mechanism ({rule}) on {result['probes']} probes; "
                        f"selected: {result['selected']}")
    for col in ("vendor", "mean score", "95% CI", "payment [USD]", "accept-rate@0.5 [-]"):
        table.add_column(escape(col), justify="left" if col == "vendor" else "right")
    for v in sorted(result["vendors"], key=lambda r: -r["score"]):
        lo, hi = v["score_ci95"]
        table.add_row(v["vendor"] + (" *" if v["vendor"] == result["selected"] else ""), _fmt(v["score"], ".4f"),
                      f"[{lo:.4f}, {hi:.4f}]", _fmt(v["payment"], ".4f"), _fmt(v["accept_rate"], ".3f"))
    out_console.print(table)
    more = result["more_probes"]
    out_console.print(f"P(selection wrong) ≈ {result['p_wrong']:.3f} (bootstrap); runner-up {result['runner_up']}; "
                      + ("the top two are tied: no finite N separates them" if more is None
                         else f"≈{more:,} more probes for a 5 % error"))


# ----------------------------------------------------------------------------- simulate
@procure_app.command("simulate")
@guarded
def simulate_cmd(
    out: Annotated[Path, typer.Option("--out", help="Folder for results (Parquet parts, summary, table1.json).")],
    quick: Annotated[bool, typer.Option("--quick", help="20 seeds instead of 200 (CI-sized).")] = False,
    backend: Annotated[str, typer.Option("--backend", help="local (process pool) or ray.")] = "local",
    seeds: Annotated[int | None, typer.Option("--seeds", help="Seeds per cell (default 200, quick 20).")] = None,
    workers: Annotated[int | None, typer.Option("--workers", help="Local processes (default: all cores).")] = None,
    monotone_violation: Annotated[str, typer.Option(
        "--monotone-violation", help="auto (HumanEval analogue only), on, or off.")] = "auto",
    json_: JsonOpt = False,
):
    """The §7 sweep: K × N × rules × probe strategies × baselines × seeds, vectorised; resumable."""
    import pandas as pd

    from costcorrect.verification import simulate as sm
    from costcorrect.verification.runner import parquet_available

    if backend not in ("local", "ray"):
        raise InputError("backend", backend, "local or ray")
    if monotone_violation not in ("auto", "on", "off"):
        raise InputError("monotone_violation", monotone_violation, "auto, on or off")
    n_seeds = seeds if seeds is not None else (20 if quick else 200)
    check_range("seeds", n_seeds, 1, 100_000)
    if workers is not None:
        check_range("workers", workers, 1, 1024)
    cfg = sm.SimConfig(monotone_violation={"auto": None, "on": True, "off": False}[monotone_violation])
    t0 = time.perf_counter()
    df = sm.run_sweep(cfg, seeds=n_seeds, backend=backend, workers=workers, out_dir=out,
                      progress=sys.stderr.isatty())
    wall_s = time.perf_counter() - t0
    summary = sm.summarize(df)
    rows = sm.table1(df)
    const = sm.regret_constant(df, strategy="maximin")
    fmt = "parquet" if parquet_available() else "csv"
    if fmt == "parquet":
        import io

        buf = io.BytesIO()
        df.to_parquet(buf, index=False)
        atomic_write_bytes(out / "results.parquet", buf.getvalue())
    else:
        atomic_write_text(out / "results.csv", df.to_csv(index=False))
    atomic_write_text(out / "summary.csv", summary.to_csv(index=False))
    posted = df[df["mechanism"] == "posted_price"]
    k16 = posted[posted["K"] == 16] if (posted["K"] == 16).any() else posted
    result = {
        "rows": rows,
        "seeds": n_seeds, "backend": backend, "wall_s": wall_s, "results_format": fmt,
        "cells": len(summary),
        "posted_price_worst2_share": {ds: float(g["worst2"].mean()) for ds, g in k16.groupby("dataset")},
        "regret_constant_max": {ds: float(g["C"].max()) for ds, g in const.groupby("dataset")},
        "out": str(out),
    }
    atomic_write_text(out / "table1.json", dumps(result))
    if json_:
        _emit_json(result)
        return
    tab = pd.DataFrame(rows).pivot_table(index="mechanism", columns="dataset", values="gap_pct", sort=False)
    ptab = pd.DataFrame(rows).pivot_table(index="mechanism", columns="dataset", values="paper_gap_pct", sort=False)
    t = Table(title=f"Cost-correct gap to oracle [%], K={rows[0]['K']}, N={rows[0]['N']}, maximin probes, "
                    f"Brier, {n_seeds} seeds — ours (paper)")
    t.add_column("mechanism")
    for ds in tab.columns:
        t.add_column(ds, justify="right")
    for mech in tab.index:
        t.add_row(mech, *[f"{tab.loc[mech, ds]:.1f} ({_fmt(ptab.loc[mech, ds], '.1f')})" for ds in tab.columns])
    out_console.print(t)
    err_console.print(f"wrote {out}/ ({wall_s:.1f} s)")


# ----------------------------------------------------------------------------- humaneval
@procure_app.command("humaneval")
@guarded
def humaneval_cmd(
    out: Annotated[Path, typer.Option("--out", help="Folder for probes.csv, reports.csv, labels.csv, result.json.")],
    problems: Annotated[int | None, typer.Option("--problems", help="First P problems only (default all 164).")] = None,
    mutants: Annotated[int, typer.Option("--mutants", help="AST mutants per problem (max).")] = 4,
    probes: Annotated[int, typer.Option("--probes", help="Probes N per mechanism run (resampled per seed).")] = 256,
    seeds: Annotated[int, typer.Option("--seeds", help="Resampling seeds for the Table-1 column.")] = 200,
    timeout_s: Annotated[float, typer.Option("--timeout-s", help="Wall-clock limit per execution [s].")] = 5.0,
    workers: Annotated[int | None, typer.Option("--workers", help="Parallel sandboxed executions.")] = None,
    json_: JsonOpt = False,
):
    """The real probe set: HumanEval candidates (canonical + AST mutants) labelled by sandboxed
    execution, real verifiers as vendors, and the mechanism with its baselines end to end."""
    from costcorrect.verification import humaneval as he

    check_range("mutants", mutants, 0, 50)
    check_range("probes", probes, 2)
    check_range("seeds", seeds, 1, 100_000)
    check_range("timeout_s", timeout_s, 0.1, 60)
    t0 = time.perf_counter()
    result = he.run_end_to_end(out, n_problems=problems, n_mutants=mutants, n_probes=probes, seeds=seeds,
                               timeout_s=timeout_s, workers=workers)
    result["wall_s"] = time.perf_counter() - t0
    atomic_write_text(out / "result.json", dumps(result))
    if json_:
        _emit_json(result)
        return
    t = Table(title=f"HumanEval probe set: {result['candidates']} candidates "
                    f"({result['passing']} pass), N={result['n_probes']}, {seeds} seeds")
    for col in ("mechanism", "gap [%]", "P(best)"):
        t.add_column(escape(col), justify="left" if col == "mechanism" else "right")
    for r in result["rows"]:
        t.add_row(r["mechanism"], _fmt(r["gap_pct"], ".2f"), _fmt(r["p_correct"], ".2f"))
    out_console.print(t)
    vt = Table("vendor", escape("accept-rate α [-]"), escape("public headline [-]"))
    for v in result["vendors"]:
        vt.add_row(v["vendor"], _fmt(v["alpha"], ".3f"), _fmt(v["headline"], ".3f"))
    out_console.print(vt)
    err_console.print(f"wrote {out}/ ({result['wall_s']:.1f} s)")
