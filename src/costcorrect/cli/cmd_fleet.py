"""``costcorrect fleet ...``: joint model × GPU procurement (issue 12, note 09).

- ``fleet plan --fleet FILE [--objective cost|cost-correct] [--json] [--out DIR]`` (contract)
- ``fleet scarcity --fleet FILE --gpu GPU`` -- goodput retained as a GPU class gets scarce.
- ``fleet capacity --fleet FILE [--out FILE]`` -- the capacity table the plan uses.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from costcorrect.catalog import Catalog
from costcorrect.cli.common import JsonOpt, OverlayOpt, _emit_json, _fmt, app, err_console, guarded, out_console
from costcorrect.errors import InputError
from costcorrect.io import atomic_write_bytes, atomic_write_text, dumps

fleet_app = typer.Typer(help="Fleet procurement: many models on heterogeneous GPUs, jointly (note 09).",
                        no_args_is_help=True)
app.add_typer(fleet_app, name="fleet")

FleetOpt = Annotated[Path, typer.Option(
    "--fleet", help="Fleet YAML (models, offers, capacity); see examples/fleet.yaml.")]
ObjectiveOpt = Annotated[str, typer.Option("--objective", help="cost ($/h) or cost-correct (every task ends in an "
                                                                 "accepted answer; α-aware routing).")]
MethodOpt = Annotated[str, typer.Option("--method", help="auto, full (one MILP) or two-stage (config selection, "
                                                           "then allocation).")]


def _instance(fleet: Path, catalog: Path | None, stats: dict | None = None):
    from costcorrect.fleet import build_instance, load_fleet

    spec = load_fleet(fleet)
    return spec, build_instance(spec, Catalog.load(catalog), stats=stats)


def _check_objective(objective: str) -> None:
    if objective not in ("cost", "cost-correct"):
        raise InputError("--objective", objective, "cost or cost-correct")


@fleet_app.command("plan")
@guarded
def plan_cmd(
    fleet: FleetOpt,
    objective: ObjectiveOpt = "cost",
    json_: JsonOpt = False,
    out: Annotated[Path | None, typer.Option("--out", help="Folder for plan.json, assignments.csv and the "
                                                             "savings waterfall (PNG + SVG).")] = None,
    method: MethodOpt = "auto",
    compare_full: Annotated[bool, typer.Option("--compare-full", help="With two-stage, also solve the full MILP "
                                                                        "and report the gap.")] = False,
    breakdown: Annotated[bool, typer.Option("--breakdown/--no-breakdown",
                                            help="Solve the restricted programs for the savings breakdown.")] = True,
    catalog: OverlayOpt = None,
):
    """Cheapest replicas per (model, GPU, config) meeting every model's demand at its SLO under
    availability caps; the saving over the best homogeneous per-model plan, by lever."""
    from costcorrect.fleet import plan

    _check_objective(objective)
    spec, inst = _instance(fleet, catalog)
    res = plan(inst, objective=objective, method=method, breakdown=breakdown, compare_full=compare_full,
               time_limit_s=spec.time_limit_s, mip_rel_gap=spec.mip_rel_gap)
    res["fleet"] = spec.name
    if out is not None:
        _write_plan(out, res, json_)
    if json_:
        _emit_json(res)
        return
    _print_plan(res)


def _write_plan(out: Path, res: dict, quiet: bool) -> None:
    import pandas as pd

    atomic_write_text(out / "plan.json", dumps(res) + "\n")
    atomic_write_bytes(out / "assignments.csv", pd.DataFrame(res["assignments"]).to_csv(index=False).encode())
    written = [out / "plan.json", out / "assignments.csv"]
    bd = res.get("savings_breakdown") or {}
    if bd.get("hardware_mix_usd_per_hour") is not None:
        from costcorrect.charts import save_chart
        from costcorrect.fleet.charts import savings_waterfall

        chart = savings_waterfall(bd)
        atomic_write_text(out / "waterfall.vl.json", chart.to_json() + "\n")
        written += [out / "waterfall.vl.json", *save_chart(chart, out / "waterfall")]
    if not quiet:
        err_console.print("wrote " + ", ".join(str(p) for p in written), markup=False)


def _print_plan(res: dict) -> None:
    t = Table(title=f"{escape(res['fleet'])}: joint plan ({res['objective']}, {res['method']}, "
                    f"solved in {res['solve_s']:.2f} s)")
    for c in ("model", "offer", "gpu", "config", "replicas", "GPUs", "capacity [req/s]"):
        t.add_column(c, justify="right" if c in ("replicas", "GPUs", "capacity [req/s]") else "left")
    for a in res["assignments"]:
        t.add_row(escape(a["model"]), escape(a["offer"]), escape(a["gpu"]), escape(a["config"]), str(a["replicas"]),
                  str(a["replicas"] * a["gpus_per_replica"]), _fmt(a["capacity_rate_per_s"], ".2f"))
    out_console.print(t)
    o = Table(title="Offers rented")
    for c in ("offer", "tier", "nodes", "GPUs (used)", "$/GPU-h", "$/h", "price source"):
        o.add_column(c)
    for r in res["offers"]:
        o.add_row(escape(r["offer"]), r["tier"], str(r["nodes"]), f"{r['gpus']} ({r['gpus_used']})",
                  _fmt(r["price_usd_per_gpu_hour"], ".3f"), _fmt(r["cost_usd_per_hour"], ".2f"),
                  escape(r["price_source"]))
    out_console.print(o)
    out_console.print(f"total cost: ${_fmt(res['total_cost_usd_per_hour'], ',.2f')}/h "
                      f"(spot expected interruption cost ${_fmt(res['spot_expected_cost_usd_per_hour'], ',.2f')}/h, "
                      f"idle GPUs ${_fmt(res['idle_gpu_cost_usd_per_hour'], ',.2f')}/h)")
    if res.get("cost_per_correct_answer_usd") is not None:
        out_console.print(f"cost per correct answer: ${res['cost_per_correct_answer_usd']:.3g} "
                          f"({res['correct_answers_per_s']:.3g} accepted answers/s)")
    bd = res.get("savings_breakdown") or {}
    if bd:
        if bd.get("hardware_mix_usd_per_hour") is None:
            out_console.print(f"savings breakdown: {escape(bd.get('note', 'not available'))}")
        else:
            b = Table(title="Saving over the best homogeneous per-model plan "
                            f"({escape(str(bd['baseline_gpu_class']))}, ${bd['baseline_cost_usd_per_hour']:,.2f}/h): "
                            f"{bd['cost_ratio']:.2f}x")
            for c in ("lever", "Shapley share [$/h]", "sequential step [$/h]"):
                b.add_column(c)
            for k, label in (("hardware_mix", "hardware mix"), ("co_location", "co-location"),
                             ("serving_strategy", "per-replica strategy")):
                b.add_row(label, _fmt(bd[f"{k}_usd_per_hour"], ",.2f"),
                          _fmt(bd["sequential"][f"{k}_usd_per_hour"], ",.2f"))
            tot = _fmt(bd["total_saving_usd_per_hour"], ",.2f")
            b.add_row("total", tot, tot)
            out_console.print(b)
    if res.get("full_milp"):
        f = res["full_milp"]
        out_console.print(f"full MILP: {f['status']} in {f['solve_s']:.2f} s; "
                          f"two-stage gap {_fmt(f.get('gap'), '.2%')}")
    for note in res.get("notes", []):
        err_console.print(f"note: {note}", markup=False)


@fleet_app.command("scarcity")
@guarded
def scarcity_cmd(
    fleet: FleetOpt,
    gpu: Annotated[str, typer.Option("--gpu", help="GPU class whose availability drops (catalog id).")],
    objective: ObjectiveOpt = "cost",
    shares: Annotated[str, typer.Option("--shares", help="Comma-separated shares of the plan's nodes of that "
                                                           "class that stay available [-].")] = "1,0.75,0.5,0.25,0",
    method: MethodOpt = "auto",
    json_: JsonOpt = False,
    catalog: OverlayOpt = None,
):
    """Goodput retained when a GPU class gets scarce: the old plan losing nodes versus a
    re-solve at the same budget (note 09's goodput-under-scarcity claim)."""
    from costcorrect.fleet import scarcity, solve
    from costcorrect.fleet.analysis import choose_method, diagnose_infeasible

    _check_objective(objective)
    try:
        vals = [float(s) for s in shares.split(",") if s.strip()]
    except ValueError:
        raise InputError("--shares", shares, "comma-separated numbers in [0, 1]") from None
    if not vals or any(not 0 <= v <= 1 for v in vals):
        raise InputError("--shares", shares, "comma-separated numbers in [0, 1]")
    spec, inst = _instance(fleet, catalog)
    m = choose_method(inst, method)
    base = solve(inst, method=m, objective=objective, time_limit_s=spec.time_limit_s, mip_rel_gap=spec.mip_rel_gap)
    if not base.ok:
        raise diagnose_infeasible(inst, objective)
    rows = scarcity(inst, base, gpu, vals, objective=objective, time_limit_s=spec.time_limit_s,
                    mip_rel_gap=spec.mip_rel_gap)
    if json_:
        _emit_json({"gpu": gpu, "objective": objective, "plan_cost_usd_per_hour": base.cost_usd_per_hour, "rows": rows})
        return
    t = Table(title=f"Goodput retained as {escape(gpu)} gets scarce (budget ${base.cost_usd_per_hour:,.2f}/h)")
    for c in ("available share", "nodes", "static plan", "re-solved", "ratio", "re-solved $/h", "full demand $/h"):
        t.add_column(c, justify="right")
    for r in rows:
        t.add_row(f"{r['availability_share']:.2f}", str(r["nodes_available"]), _fmt(r["static_goodput_share"], ".1%"),
                  _fmt(r["resolved_goodput_share"], ".1%"), _fmt(r["goodput_ratio"], ".2f"),
                  _fmt(r["resolved_cost_usd_per_hour"], ",.2f"), _fmt(r["full_demand_cost_usd_per_hour"], ",.2f"))
    out_console.print(t)


@fleet_app.command("capacity")
@guarded
def capacity_cmd(
    fleet: FleetOpt,
    out: Annotated[Path | None, typer.Option("--out", help="Write the table (.csv or .parquet).")] = None,
    json_: JsonOpt = False,
    catalog: OverlayOpt = None,
):
    """The per-(model, GPU, config) capacity table at each model's SLO tier [req/s per replica]."""
    from costcorrect.fleet import capacity_frame, load_fleet

    spec = load_fleet(fleet)
    stats: dict = {}
    df = capacity_frame(spec, Catalog.load(catalog), stats)
    if out is not None:
        if out.suffix.lower() in (".parquet", ".pq"):
            import io

            buf = io.BytesIO()
            df.to_parquet(buf, index=False)
            atomic_write_bytes(out, buf.getvalue())
        else:
            atomic_write_bytes(out, df.to_csv(index=False).encode())
    if stats:
        err_console.print(f"simulator capacities: {stats.get('cached', 0)} cached, {stats.get('computed', 0)} computed",
                          markup=False)
    if json_:
        _emit_json(df.to_dict(orient="records"))
        return
    t = Table(title=f"{escape(spec.name)}: capacity at the SLO ({spec.capacity.source})")
    for c in ("model", "gpu", "config", "GPUs/replica", "tier", "capacity [req/s]", "default"):
        t.add_column(c)
    for r in df.itertuples(index=False):
        t.add_row(escape(r.model), escape(r.gpu), escape(r.config), str(int(r.gpus_per_replica)), escape(r.slo_tier),
                  _fmt(float(r.capacity_rate_per_s), ".3f"), "yes" if r.default else "")
    out_console.print(t)
