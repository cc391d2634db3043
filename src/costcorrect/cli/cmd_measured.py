"""`costcorrect validate --measured FILE`: simulate measured serving runs and report the error (issue 14).

Not a command of its own: ``validate`` (cli/app.py) dispatches here when ``--measured`` is
given. JSON keys are a contract: ``rows, predicted, skipped[{id, reason}], ttft_mape_pct,
tpot_mape_pct, by[{model, system, engine, mode, n, ttft_mape_pct, tpot_mape_pct}]`` and,
with ``--per-row``, ``predictions[{id, ttft_ms, tpot_ms, measured_ttft_ms, measured_tpot_ms}]``.
``--cross-validate`` adds ``cross_validation`` (leave-one-model-out refits of the profiles).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from costcorrect.catalog import Catalog
from costcorrect.cli.common import _emit_json, _fmt, err_console, out_console
from costcorrect.serving.measured import read_measured
from costcorrect.simulator import measured_validation as mv


def cross_validation_block(plans, catalog) -> dict:
    """Leave-one-model-out MAPEs over the single-pool rows (refits per held-out model)."""
    ts, used = mv.collect_traces(plans)
    if not used:
        return {"rows": 0, "ttft_mape_pct": None, "tpot_mape_pct": None, "note": "no single-pool rows"}
    pt, pp = mv.cross_validate(plans, ts, used)
    sub = [plans[i] for i in used]
    rep = mv.report(sub, pt[used], pp[used], [], len(used))
    return {"rows": len(used), "ttft_mape_pct": rep["ttft_mape_pct"], "tpot_mape_pct": rep["tpot_mape_pct"],
            "by": rep["by"],
            "note": "leave-one-model-out: each model's rows predicted by profiles refitted without that model; "
                    "disaggregated rows are not refitted"}


def run_validate_measured(path: Path, *, per_row: bool = False, json_: bool = False,
                          cross_validate: bool = False) -> None:
    rows = read_measured(path)
    catalog = Catalog.load()
    plans, skipped = mv.prepare(rows, catalog)
    if json_ or not err_console.is_terminal:
        pt, pp = mv.predict(plans, catalog)
    else:
        with Progress(TextColumn("simulating rows"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                      TimeElapsedColumn(), console=err_console, transient=True) as bar:
            task = bar.add_task("rows", total=len(plans))
            pt, pp = mv.predict(plans, catalog, progress=lambda n: bar.update(task, completed=n))
    out = mv.report(plans, pt, pp, skipped, len(rows), per_row)
    if cross_validate:
        out["cross_validation"] = cross_validation_block(plans, catalog)
    if json_:
        _emit_json(out)
        return
    head = Table("rows", "predicted", "skipped", "TTFT MAPE [%]", "TPOT MAPE [%]",
                 title=escape(f"measured validation of {path.name} (engine profiles as shipped)"))
    head.add_row(str(out["rows"]), str(out["predicted"]), str(len(skipped)), _fmt(out["ttft_mape_pct"], ".1f"),
                 _fmt(out["tpot_mape_pct"], ".1f"))
    out_console.print(head)
    if "cross_validation" in out:
        cv = out["cross_validation"]
        out_console.print(f"leave-one-model-out ({cv['rows']} rows): TTFT MAPE {_fmt(cv['ttft_mape_pct'], '.1f')} %, "
                          f"TPOT MAPE {_fmt(cv['tpot_mape_pct'], '.1f')} %")
    by = Table("model", "system", "engine", "mode", "n", "TTFT MAPE [%]", "TPOT MAPE [%]")
    for g in out["by"]:
        by.add_row(escape(g["model"]), g["system"], g["engine"], g["mode"], str(g["n"]),
                   _fmt(g["ttft_mape_pct"], ".1f"), _fmt(g["tpot_mape_pct"], ".1f"))
    out_console.print(by)
    if per_row:
        t = Table("id", "TTFT pred [ms]", "TTFT meas [ms]", "TPOT pred [ms]", "TPOT meas [ms]")
        for p in out["predictions"]:
            t.add_row(escape(p["id"]), _fmt(p["ttft_ms"], ".1f"), _fmt(p["measured_ttft_ms"], ".1f"),
                      _fmt(p["tpot_ms"], ".2f"), _fmt(p["measured_tpot_ms"], ".2f"))
        out_console.print(t)
    if skipped:
        reasons: dict[str, int] = {}
        for s in skipped:
            key = s["reason"].split(":")[0] if s["reason"].startswith("cannot") else s["reason"][:70]
            reasons[key] = reasons.get(key, 0) + 1
        err_console.print(f"{len(skipped)} rows skipped (ids and reasons in --json):", highlight=False)
        for k, n in sorted(reasons.items(), key=lambda kv: -kv[1])[:8]:
            err_console.print(f"  {n:5d}  {k}", markup=False, highlight=False)
    _ = np  # numpy kept for callers that post-process `out`
