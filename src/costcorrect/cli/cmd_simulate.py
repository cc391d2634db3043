"""`costcorrect simulate`: the first-principles serving simulator (issue 4)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from costcorrect.catalog import Catalog
from costcorrect.cli.common import JsonOpt, OverlayOpt, SetOpt, _emit_json, _fmt, app, err_console, guarded, out_console
from costcorrect.errors import check_range
from costcorrect.io import atomic_write_text, dumps

SimScenarioOpt = Annotated[
    Path | None,
    typer.Option("--scenario", help="Simulator scenario YAML/TOML; default: the embedded chat mix on H100 TP4."),
]


def _progress_bar(total: int, enabled: bool):
    if not enabled:
        return None, None
    bar = Progress(TextColumn("simulating"), BarColumn(), TextColumn("{task.completed:,}/{task.total:,} requests"),
                   TimeElapsedColumn(), TimeRemainingColumn(), console=err_console, transient=True)
    task = bar.add_task("sim", total=total)
    return bar, (lambda done: bar.update(task, completed=done))


def _summary_table(s: dict, title: str) -> Table:
    t = Table("metric", "p50", "p90", "p99", "mean", title=escape(title))
    for key in ("ttft_ms", "tpot_ms", "e2e_ms"):
        q = s[key]
        t.add_row(key, _fmt(q["p50"], ".1f"), _fmt(q["p90"], ".1f"), _fmt(q["p99"], ".1f"), _fmt(q["mean"], ".1f"))
    return t


def _facts_table(s: dict) -> Table:
    t = Table("quantity", "value", show_header=False)
    cpm = s["cpm_served_usd_per_mtok"]
    rows = [
        ("requests", f"{s['num_requests']:,}"),
        ("SLO (TTFT, mean TPOT) [ms]", f"{s['slo']['ttft_p99_ms']:g}, {s['slo']['tpot_p99_ms']:g}"),
        ("SLO attainment", _fmt(s["slo_attainment"], ".4f")),
        ("goodput [tokens/s]", _fmt(s["goodput_tokens_per_s"], ",.1f")),
        ("GPUs", str(s["num_gpus"])),
        ("price [$/GPU-h]", f"{s['price_usd_per_gpu_hour']:.3f} ({escape(s['price_source'])})"),
        ("CPM_served [$/MTok " + s["token_convention"] + "]", _fmt(cpm, ".3f") if cpm is not None
         else escape(s["cpm_note"])),
        ("preemptions", f"{s['preemptions']:,}"),
        ("KV blocks peak / capacity", f"{s['kv_peak_blocks']:,} / {s['kv_capacity_blocks']:,}"),
        ("simulated events / wall", f"{s['events']:,} in {s['wall_s']:.2f} s ({s['events_per_s'] or 0:,.0f}/s)"),
    ]
    for k, v in rows:
        t.add_row(escape(k), v)
    return t


@app.command("simulate")
@guarded
def simulate_cmd(
    scenario: SimScenarioOpt = None,
    set_: SetOpt = None,
    out: Annotated[Path | None, typer.Option("--out", help="Folder for records.parquet and summary.json.")] = None,
    json_: JsonOpt = False,
    find_capacity: Annotated[bool, typer.Option("--find-capacity",
                                                help="Bisect the arrival rate to the SLO-attainment target.")] = False,
    target: Annotated[float, typer.Option("--target", help="SLO attainment target for --find-capacity [-].")] = 0.99,
    catalog: OverlayOpt = None,
    overlay: Annotated[Path | None, typer.Option(
        "--overlay", help="Scenario overlay from `costcorrect calibrate` (fitted efficiencies); --set wins.")] = None,
):
    """Simulate a deployment request by request: TTFT/TPOT/E2E percentiles, SLO attainment,
    goodput and CPM_served [$ per million SLO-compliant tokens]; --find-capacity finds the
    highest arrival rate that keeps attainment at the target."""
    from costcorrect.simulator import apply_sim_overrides, load_sim_scenario, simulate
    from costcorrect.simulator import find_capacity as find_cap

    overrides = list(set_ or [])
    if overlay is not None:
        from costcorrect.tuning.calibrate import overlay_overrides

        overrides = overlay_overrides(overlay) + overrides
    sc = apply_sim_overrides(load_sim_scenario(scenario), overrides)
    check_range("--target", target, 0, 1, lo_open=True)
    cat = Catalog.load(catalog or sc.catalog_overlay)
    if find_capacity:
        show = not json_
        if show:
            err_console.print("finding capacity (bisection on the arrival rate)...")
        result = find_cap(sc, cat, target=target, progress=(
            (lambda r, a: err_console.print(f"  rate {r:.3f} req/s -> attainment {a:.4f}")) if show else None))
        if out is not None:
            atomic_write_text(out / "capacity.json", dumps(result) + "\n")
        if json_:
            _emit_json(result)
            return
        if result["summary"] is None:
            err_console.print("no probed rate met the target", markup=False)
            raise typer.Exit(1)
        s = result["summary"]
        out_console.print(f"capacity: {result['rate_per_s']:.3f} req/s at attainment >= {target:g} "
                          f"({escape(sc.architecture)}, {s['num_gpus']} GPUs)")
        out_console.print(_summary_table(s, "at capacity"))
        out_console.print(_facts_table(s))
        return
    records = (out / "records.parquet") if out is not None else None
    bar, cb = _progress_bar(sc.workload.num_requests, enabled=not json_ and sc.workload.num_requests >= 20_000)
    if bar is not None:
        with bar:
            res = simulate(sc, cat, records=records, progress=cb)
    else:
        res = simulate(sc, cat, records=records)
    s = res.summary
    if out is not None:
        atomic_write_text(out / "summary.json", dumps(s) + "\n")
    if json_:
        _emit_json(s)
        return
    out_console.print(_summary_table(s, f"{sc.name}: {sc.model} on {sc.gpu}, {sc.architecture}"))
    out_console.print(_facts_table(s))
    if records is not None:
        err_console.print(f"wrote {records} and {out / 'summary.json'}", markup=False)
