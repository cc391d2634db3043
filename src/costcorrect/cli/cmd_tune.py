"""`costcorrect tune`: SLO-aware autotuning in CPM_served on the simulator (issue 5)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from costcorrect.catalog import Catalog
from costcorrect.cli.common import JsonOpt, OverlayOpt, SetOpt, _emit_json, _fmt, app, err_console, guarded, out_console
from costcorrect.io import dumps


def _describe(row: dict, dims: list[str]) -> str:
    skip = {"architecture", "gpu", "tensor_parallel"}
    parts = [f"{row['architecture']} {row['gpu']} TP{row['tensor_parallel']}"]
    parts += [f"{k}={row[k]}" for k in dims if k not in skip and row.get(k) is not None]
    return " ".join(parts)


class _Bar:
    """Rich progress bar with ETA on stderr, one task per search stage."""

    def __init__(self, enabled: bool):
        self.bar = None
        self.task = None
        if enabled:
            self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                TextColumn("deployments"), TimeElapsedColumn(), TextColumn("ETA"),
                                TimeRemainingColumn(),
                                console=err_console, transient=False)

    def __call__(self, ev: dict) -> None:
        if self.bar is None:
            return
        if ev["event"] == "start":
            if ev["skipped"]:
                err_console.print(f"{ev['label']}: {ev['skipped']} deployments already done (resuming)",
                                  markup=False, highlight=False)
            self.task = self.bar.add_task(ev["label"], total=max(ev["total"], 0))
        elif ev["event"] == "done" and self.task is not None:
            self.bar.advance(self.task)

    def __enter__(self):
        if self.bar is not None:
            self.bar.start()
        return self

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.stop()


@app.command("tune")
@guarded
def tune_cmd(
    space: Annotated[Path, typer.Option("--space", help="Space file: dotted scenario keys -> lists of values.")],
    scenario: Annotated[Path | None, typer.Option("--scenario", help="Base simulator scenario; default: embedded.")]
    = None,
    out: Annotated[Path, typer.Option("--out", help="Parquet dataset folder (resumable: reruns skip done configs).")]
    = Path("tune-results.parquet"),
    backend: Annotated[str, typer.Option("--backend", help="local (process pool) | ray.")] = "local",
    address: Annotated[str | None, typer.Option("--address", help="Ray cluster address (ray://host:10001 or auto); "
                                                "default: start a local Ray.")] = None,
    workers: Annotated[int | None, typer.Option("--workers", help="Parallel workers; default: all cores.")] = None,
    search: Annotated[str, typer.Option("--search", help="grid | halving (successive halving on request count).")]
    = "grid",
    eta: Annotated[int, typer.Option("--eta", help="halving: keep 1/eta per SLO bin, eta x more requests.")] = 3,
    min_requests: Annotated[int, typer.Option("--min-requests", help="halving: fewest requests of a rung.")] = 200,
    num_requests: Annotated[int | None, typer.Option("--num-requests", help="Requests per full simulation; "
                                                     "default: the scenario's.")] = None,
    max_configs: Annotated[int | None, typer.Option("--max-configs", help="Refuse spaces bigger than this "
                                                    "(default: the space's settings.max_configs, else 5000).")] = None,
    set_: SetOpt = None,
    overlay: Annotated[list[Path] | None, typer.Option("--overlay", help="Scenario overlay, e.g. from calibrate "
                                                       "(repeatable).")] = None,
    chart: Annotated[bool, typer.Option("--chart/--no-chart", help="Write _pareto.svg/.png into --out.")] = True,
    catalog: OverlayOpt = None,
    json_: JsonOpt = False,
):
    """Search a space of deployments for the cheapest CPM_served per SLO bin: capacity at the
    SLO-attainment target by simulation (plus paper 01's closed-form estimate), the Pareto set
    of CPM_served vs TTFT p99, a chart, and every row in a resumable Parquet dataset."""
    from costcorrect.charts import save_chart
    from costcorrect.simulator import apply_sim_overrides, load_sim_scenario
    from costcorrect.tuning.calibrate import overlay_overrides
    from costcorrect.tuning.chart import tune_chart
    from costcorrect.tuning.execute import make_backend
    from costcorrect.tuning.space import load_space
    from costcorrect.tuning.store import ResultStore
    from costcorrect.tuning.tune import prepare, summary_for_json, tune

    base = load_sim_scenario(scenario)
    for ov in overlay or []:
        base = apply_sim_overrides(base, overlay_overrides(ov))
    base = apply_sim_overrides(base, set_)
    if num_requests is not None and num_requests < 1:
        from costcorrect.errors import InputError

        raise InputError("--num-requests", num_requests, "an integer >= 1")
    sp = load_space(space)
    overlay_path = str(catalog) if catalog else base.catalog_overlay
    cat = Catalog.load(overlay_path)
    prep = prepare(base, sp, cat, num_requests=num_requests, max_configs=max_configs, catalog_overlay=overlay_path)
    if not json_:
        err_console.print(
            f"{prep.num_configurations:,} configurations ({len(prep.configs):,} deployments x "
            f"{len(prep.bins)} SLO bins;"
            f" {prep.collapsed:,} non-applicable combinations collapsed, {len(prep.infeasible):,} infeasible dropped)",
            markup=False, highlight=False)
    be = make_backend(backend, address, workers)
    try:
        with ResultStore(out, prep.manifest, prep.schema) as store, _Bar(enabled=not json_) as bar:
            res = tune(prep, store, be, search=search, eta=eta, min_requests=min_requests, progress=bar)
            summary = summary_for_json(res)
            store.write_extra("_summary.json", dumps(summary) + "\n")
            if chart:
                spec = tune_chart(res["rows"], res["pareto"], res["best_per_bin"],
                                  title=f"costcorrect tune: {prep.base.model}, {search} search")
                summary["chart"] = [str(p) for p in save_chart(spec, store.root / "_pareto", ("svg", "png"))]
    finally:
        be.close()
    if json_:
        _emit_json(summary)
        return
    dims = list(sp.dims)
    t = Table("SLO bin [ms]", "cheapest configuration", "GPUs", "capacity [req/s]", "CPM_served sim [$/MTok]",
              "closed form [$/MTok]", "TTFT p99 [ms]", title="cheapest configuration per SLO bin")
    for b in res["best_per_bin"]:
        label = f"TTFT {b['slo']['ttft_p99_ms']:g} / TPOT {b['slo']['tpot_p99_ms']:g}"
        r = b["best"]
        if r is None:
            t.add_row(label, "none meets the target", "—", "—", "—", "—", "—")
            continue
        t.add_row(label, escape(_describe(r, dims)), str(r["num_gpus"]), _fmt(r["capacity_rate_per_s"], ".3f"),
                  _fmt(r["cpm_served_usd_per_mtok"], ".3f"), _fmt(r["cpm_closed_form_usd_per_mtok"], ".3f"),
                  _fmt(r["ttft_p99_ms"], ".0f"))
    out_console.print(t)
    p = Table("TTFT p99 [ms]", "CPM_served [$/MTok]", "configuration", "SLO bin [ms]",
              title=f"Pareto set (CPM_served vs TTFT p99): {len(res['pareto'])} points")
    for r in res["pareto"][:15]:
        p.add_row(_fmt(r["ttft_p99_ms"], ".0f"), _fmt(r["cpm_served_usd_per_mtok"], ".3f"),
                  escape(_describe(r, dims)), f"{r['slo_ttft_p99_ms']:g}/{r['slo_tpot_p99_ms']:g}")
    out_console.print(p)
    ran = sum(s["ran"] for s in res["stages"])
    skipped = sum(s["skipped_done"] for s in res["stages"])
    err_console.print(f"{ran:,} tasks run, {skipped:,} resumed from {out}; "
                      f"{res['full_simulations']:,} full simulations; "
                      f"{res['wall_s']:.1f} s on {be.name} x{be.workers}", markup=False, highlight=False)
    if summary.get("chart"):
        err_console.print(f"chart: {', '.join(summary['chart'])}", markup=False, highlight=False)
