"""Routing premium commands (paper 05): ``routing premium``, ``routing speculative``,
``routing evaluate``, ``routing table``. Parse → call :mod:`costcorrect.allocation.routing*` → render.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from costcorrect.allocation import routing as rt
from costcorrect.allocation import routing_special as sp
from costcorrect.cli.common import JsonOpt, _emit_json, app, err_console, guarded, out_console
from costcorrect.errors import InputError, check_range

routing_app = typer.Typer(help="Routing premium Π = κΔ − γ: when a difficulty router pays (paper 05).",
                          no_args_is_help=True)
app.add_typer(routing_app, name="routing")


def _finite_or_none(x: float):
    x = float(x)
    return x if math.isfinite(x) else None


@routing_app.command("premium")
@guarded
def premium_cmd(
    kappa: Annotated[float, typer.Option("--kappa", help="κ: classifier calibration in [0, 1] (eq. 4) [-].")],
    delta: Annotated[float, typer.Option("--delta", help="Δ: workload heterogeneity >= 0 (eq. 7) [-].")],
    gamma: Annotated[float, typer.Option("--gamma", help="γ: classifier overhead share >= 0 (eq. 5) [-].")],
    json_: JsonOpt = False,
):
    """Π = κΔ − γ (eq. 7), whether routing pays (eq. 8) and the elasticities of Π (eq. 9)."""
    check_range("kappa", kappa, 0, 1)
    check_range("delta", delta, 0, None)
    check_range("gamma", gamma, 0, None)
    if not math.isfinite(delta) or not math.isfinite(gamma):
        raise InputError("delta/gamma", (delta, gamma), "finite numbers")
    pi = float(rt.routing_premium(kappa, delta, gamma))
    el = rt.premium_elasticities(kappa, delta, gamma)
    out = {"premium": pi, "routing_pays": bool(pi > 0),
           "elasticity_kappa": _finite_or_none(el["kappa"]), "elasticity_delta": _finite_or_none(el["delta"]),
           "elasticity_gamma": _finite_or_none(el["gamma"]), "kappa_delta": kappa * delta,
           "flip_drop": (pi / (kappa * delta)) if kappa * delta > 0 else None}
    if out["elasticity_kappa"] is None:
        err_console.print("note: at the threshold κΔ = γ the elasticities diverge (eq. 9); reported as null.")
    if json_:
        _emit_json(out)
        return
    t = Table(title="Routing premium (paper 05 eq. 7-9)")
    t.add_column("quantity")
    t.add_column("value", justify="right")
    for k, v in out.items():
        t.add_row(k, "—" if v is None else (str(v) if isinstance(v, bool) else f"{v:.4g}"))
    out_console.print(t)


@routing_app.command("speculative")
@guarded
def speculative_cmd(
    draft_tokens: Annotated[int, typer.Option("--draft-tokens", help="k: tokens drafted per iteration [tokens].")],
    accept_rate: Annotated[float, typer.Option("--accept-rate", help="a: per-token accept rate in [0, 1] [-].")],
    cost_ratio: Annotated[float, typer.Option("--cost-ratio", help="c: drafter / target time per token >= 0 [-].")],
    json_: JsonOpt = False,
):
    """Expected speedup (1 − a^(k+1)) / ((1 − a)(kc + 1)) (Leviathan et al. 2023) and Π = 1 − 1/S (05 Cor. 1)."""
    check_range("draft_tokens", draft_tokens, 1, None)
    check_range("accept_rate", accept_rate, 0, 1)
    check_range("cost_ratio", cost_ratio, 0, None)
    if not math.isfinite(cost_ratio):
        raise InputError("cost_ratio", cost_ratio, "a finite number >= 0")
    s = float(sp.speculative_expected_speedup(draft_tokens, accept_rate, cost_ratio))
    out = {"expected_speedup": s,
           "expected_tokens_per_iteration": float(sp.speculative_expected_tokens(draft_tokens, accept_rate)),
           "premium": float(sp.premium_from_speedup(s)), "draft_tokens": draft_tokens, "accept_rate": accept_rate,
           "cost_ratio": cost_ratio}
    if json_:
        _emit_json(out)
        return
    t = Table(title="Speculative decoding (Leviathan et al. 2023; paper 05 Cor. 1)")
    t.add_column("quantity")
    t.add_column("value", justify="right")
    for k, v in out.items():
        t.add_row(k, f"{v:.4g}")
    out_console.print(t)


@routing_app.command("evaluate")
@guarded
def evaluate_cmd(
    file: Annotated[Path, typer.Argument(help="Per-query CSV: query_id, cost_usd_<tier>, correct_<tier>, "
                                              "optional difficulty.")],
    grid: Annotated[int, typer.Option("--grid", help="Threshold quantile grid size [-].")] = 21,
    boot: Annotated[int, typer.Option("--boot", help="Bootstrap resamples for κ̂, Δ̂, γ̂, Π̂ (0 = none) [-].")] = 200,
    ci: Annotated[float, typer.Option("--ci", help="Bootstrap interval coverage in (0, 1) [-].")] = 0.9,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the held-out split and the bootstrap.")] = 0,
    chart: Annotated[Path | None, typer.Option("--chart", help="Write the cost-quality curve to PATH.png/.svg.")]
    = None,
    json_: JsonOpt = False,
):
    """Premium of the best threshold router (in-sample and held out) and the oracle over fixed tiers."""
    from costcorrect.allocation.routing_eval import evaluate_router, parse_per_query_csv

    if not file.is_file():
        raise InputError("file", str(file), "an existing CSV file")
    check_range("grid", grid, 2, 201)
    check_range("boot", boot, 0, 100_000)
    check_range("ci", ci, 0, 1, lo_open=True, hi_open=True)
    data = parse_per_query_csv(file.read_text(encoding="utf-8"))
    res = evaluate_router(data["cost_usd"], data["correct"], data["difficulty"], data["tiers"], n_grid=grid,
                          router_cost_usd=data["router_cost_usd"], n_boot=boot, ci=ci, seed=seed)
    if res["router"] is None:
        err_console.print("note: no difficulty column: only fixed tiers and the oracle are reported.")
    if chart is not None:
        from costcorrect.allocation.routing_charts import chart_cost_quality
        from costcorrect.charts import save_chart

        for p in save_chart(chart_cost_quality(res), chart):
            err_console.print(f"wrote {p}")
    if json_:
        _emit_json(res)
        return
    t = Table(title=f"Router evaluation ({res['n_queries']} queries, {len(res['tiers'])} tiers)")
    for c in ("policy", "cost per correct [$]", "mean cost [$/query]", "accuracy", "premium vs best fixed"):
        t.add_column(c, justify="right" if c != "policy" else "left")
    base = res["best_fixed_cost_per_correct_usd"]
    for f in res["fixed"]:
        t.add_row(f"fixed {f['tier']}", f"{f['cost_per_correct_usd']:.4g}", f"{f['mean_cost_usd']:.4g}",
                  f"{f['accuracy']:.3f}", f"{1 - f['cost_per_correct_usd'] / base:.3f}")
    if res["router"] is not None:
        r = res["router"]
        t.add_row("best threshold router (in-sample)", f"{r['cost_per_correct_usd']:.4g}",
                  f"{r['mean_cost_usd']:.4g}", f"{r['accuracy']:.3f}", f"{r['premium']:.3f}")
    o = res["oracle"]
    t.add_row("oracle", f"{o['cost_per_correct_usd']:.4g}", f"{o['mean_cost_usd']:.4g}", f"{o['accuracy']:.3f}",
              f"{o['premium']:.3f}")
    out_console.print(t)
    est = res.get("estimates")
    if est:
        iv = est.get("intervals") or {}
        e = Table(title=f"Paper 05 estimates ({res['holdout']['n_train']} train / {res['holdout']['n_test']} "
                        f"held-out queries" + (f", {est['ci']:.0%} bootstrap, {est['n_boot_used']} resamples)"
                                               if iv else ")"))
        for c in ("quantity", "estimate", "interval"):
            e.add_column(c, justify="left" if c == "quantity" else "right")
        names = {"kappa": "κ̂ (eq. 4, oracle tier on d̂ deciles)", "delta": "Δ̂ (oracle premium, κ = 1, γ = 0)",
                 "gamma": "γ̂ (router $ / best fixed $)", "premium_holdout": "Π̂ held out (router vs fixed)",
                 "premium_second_order": "κ̂Δ̂ − γ̂ (Theorem 1 reading)"}
        for k, label in names.items():
            v, b = est[k], iv.get(k)
            e.add_row(label, "—" if v is None or not math.isfinite(v) else f"{v:.4f}",
                      "—" if not b else f"[{b[0]:.4f}, {b[1]:.4f}]")
        out_console.print(e)


@routing_app.command("table")
@guarded
def table_cmd(json_: JsonOpt = False):
    """Paper 05 Table 1 recomputed: Π band, κΔ band, elasticity bar, sign, divergence-band flag."""
    from costcorrect.allocation.routing_table import table1_rows

    rows = table1_rows()
    if json_:
        _emit_json(rows)
        return
    t = Table(title="Paper 05 Table 1, recomputed (Π = κΔ − γ)")
    for c in ("system", "class", "γ", "κΔ", "Π (ours)", "Π (paper)", "ε_κ", "flip drop", "sign", "band"):
        t.add_column(c)

    def band(lo, hi):
        return "—" if lo is None else (f"{lo:.2f}" if abs(lo - hi) < 5e-3 else f"{lo:.2f}–{hi:.2f}")

    for r in rows:
        t.add_row(r["system"], r["allocation_class"], f"{r['gamma_low']:.3g}–{r['gamma_high']:.3g}",
                  band(r["kappa_delta_low"], r["kappa_delta_high"]), band(r["premium_low"], r["premium_high"]),
                  band(r["paper_premium_low"], r["paper_premium_high"]),
                  band(r["elasticity_kappa_low"], r["elasticity_kappa_high"]),
                  "—" if r["flip_drop"] is None else f"{r['flip_drop']:.0%}", r["sign"],
                  "—" if r["in_divergence_band"] is None else ("FLAG" if r["in_divergence_band"] else "no"))
    out_console.print(t)


@routing_app.command("expansion")
@guarded
def expansion_cmd(
    spreads: Annotated[str, typer.Option("--spreads", help="Comma-separated spreads ε of d around 0.5 [-].")]
    = "0.4,0.2,0.1,0.05",
    table: Annotated[Path | None, typer.Option("--table", help="Accept-rate table CSV (difficulty bin × "
                                                               "compute → α) instead of the parametric α.")] = None,
    levels: Annotated[str, typer.Option("--levels", help="Comma-separated tier compute levels for the "
                                                         "cascade (discrete c) column [unit c].")] = "1,3",
    n_queries: Annotated[int, typer.Option("--queries", help="Queries in the synthetic workload [-].")] = 40,
    json_: JsonOpt = False,
):
    """Exact premium vs Theorem 1 (κΔ) and + the explicit third-order term Π₃, and a cascade (Cor. 2)."""
    import numpy as np

    def floats(name, text):
        try:
            xs = [float(x) for x in text.split(",") if x.strip()]
        except ValueError:
            raise InputError(name, text, "comma-separated numbers") from None
        if not xs or not all(math.isfinite(x) and x > 0 for x in xs):
            raise InputError(name, text, "positive finite numbers")
        return xs

    eps = floats("spreads", spreads)
    lv = floats("levels", levels)
    check_range("queries", n_queries, 2, 100_000)
    if max(eps) > 0.5:
        raise InputError("spreads", spreads, "spreads <= 0.5 (d stays in [0, 1])")
    c_bounds = (1e-3, 100.0)
    if table is not None:
        if not table.is_file():
            raise InputError("table", str(table), "an existing CSV file")
        tab = rt.parse_accept_rate_table(table.read_text(encoding="utf-8"))
        cost = rt.cost_fn_from_accept_rate(tab["alpha"])
        c_bounds = (float(tab["compute_levels"][0]), float(tab["compute_levels"][-1]))
        source = f"table {table.name} (PCHIP in c: C¹ only, Π₃ indicative)"
    else:
        cost = rt.synthetic_cost_fn()
        source = "synthetic α = 1 − exp(−c/s(d)), s = exp(1.5 d) (concave, not fitted)"
    u = np.random.default_rng(0).uniform(-1.0, 1.0, int(n_queries))
    rows = []
    for e in eps:
        d = 0.5 + e * u
        r = rt.exact_premium(cost, d, c_bounds=c_bounds)
        cas = rt.cascade_premium(cost, d, lv, c_bounds=c_bounds)
        rows.append({"spread": e, "kappa": r["kappa"], "delta": r["delta"], "premium_exact": r["premium_exact"],
                     "premium_second_order": r["premium_second_order"], "third_order": r["third_order"],
                     "premium_third_order": r["premium_third_order"], "residual": r["residual"],
                     "residual_after_third": r["residual_after_third"],
                     "premium_cascade_exact": cas["premium_cascade_exact"]})
    out = {"workload": source, "levels": lv, "rows": rows}
    if json_:
        _emit_json(out)
        return
    t = Table(title=f"Exact vs Taylor orders (oracle classifier; {source})")
    for c in ("ε", "κ", "Δ", "Π exact", "κΔ (2nd)", "Π₃", "κΔ + Π₃", "exact − 2nd", "exact − 3rd",
              f"cascade {lv}"):
        t.add_column(c, justify="right")
    for r in rows:
        t.add_row(f"{r['spread']:g}", f"{r['kappa']:.3f}", f"{r['delta']:.4e}", f"{r['premium_exact']:.4e}",
                  f"{r['premium_second_order']:.4e}", f"{r['third_order']:.3e}", f"{r['premium_third_order']:.4e}",
                  f"{r['residual']:.2e}", f"{r['residual_after_third']:.2e}", f"{r['premium_cascade_exact']:.4e}")
    out_console.print(t)
