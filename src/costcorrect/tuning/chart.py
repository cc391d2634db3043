"""Altair chart of a tuning run: CPM_served against TTFT p99 at capacity, Pareto set drawn.

Pure: takes the result rows and returns an ``alt.Chart``; :func:`costcorrect.charts.save_chart`
renders it.
"""

from __future__ import annotations

import math

import altair as alt
import pandas as pd

from costcorrect.charts import GPU_LABELS

_X = "TTFT p99 at capacity [ms] (log scale)"
_Y = "CPM_served at capacity [$ per million SLO-compliant tokens] (log scale)"


def _ok(x) -> bool:
    return x is not None and isinstance(x, int | float) and math.isfinite(x) and x > 0


def tune_chart(rows: list[dict], pareto: list[dict], best: list[dict], *, title: str = "costcorrect tune") -> alt.Chart:
    """Every configuration with capacity (colour = architecture, shape = GPU, size = SLO bin;
    the bins share the axes so the trade-off across them stays visible), the Pareto set as
    a step line, and the cheapest configuration per bin circled."""
    keep = [r for r in rows if _ok(r.get("cpm_served_usd_per_mtok")) and _ok(r.get("ttft_p99_ms"))]
    pareto_ids = {(r["task_id"], r["slo_ttft_p99_ms"], r["slo_tpot_p99_ms"]) for r in pareto}
    best_ids = {(b["best"]["task_id"], b["best"]["slo_ttft_p99_ms"], b["best"]["slo_tpot_p99_ms"])
                for b in best if b["best"] is not None}
    data = pd.DataFrame([{
        "ttft_p99_ms": r["ttft_p99_ms"], "cpm": r["cpm_served_usd_per_mtok"], "architecture": r["architecture"],
        "gpu": GPU_LABELS.get(r["gpu"], r["gpu"]), "tp": r["tensor_parallel"], "num_gpus": r["num_gpus"],
        "bin": f"TTFT ≤ {r['slo_ttft_p99_ms']:g} ms, TPOT ≤ {r['slo_tpot_p99_ms']:g} ms",
        "rate": r["capacity_rate_per_s"], "config": r["config_id"],
        "pareto": (r["task_id"], r["slo_ttft_p99_ms"], r["slo_tpot_p99_ms"]) in pareto_ids,
        "best": (r["task_id"], r["slo_ttft_p99_ms"], r["slo_tpot_p99_ms"]) in best_ids,
    } for r in keep])
    if data.empty:
        data = pd.DataFrame({"ttft_p99_ms": [], "cpm": [], "architecture": [], "gpu": [], "bin": [],
                             "pareto": [], "best": []})
    x = alt.X("ttft_p99_ms:Q", title=_X, scale=alt.Scale(type="log"))
    y = alt.Y("cpm:Q", title=_Y, scale=alt.Scale(type="log"))
    tooltip = ["config:N", "architecture:N", "gpu:N", "tp:Q", "num_gpus:Q", "bin:N",
               alt.Tooltip("rate:Q", format=".3f", title="capacity [req/s]"),
               alt.Tooltip("cpm:Q", format=".3f", title="CPM_served [$/MTok]"),
               alt.Tooltip("ttft_p99_ms:Q", format=".0f", title="TTFT p99 [ms]")]
    base = alt.Chart(data)
    points = base.mark_point(filled=True, opacity=0.45).encode(
        x=x, y=y, color=alt.Color("architecture:N", title="architecture"),
        shape=alt.Shape("gpu:N", title="GPU"),
        size=alt.Size("bin:N", title="SLO bin", scale=alt.Scale(range=[60, 240])),
        tooltip=tooltip)
    front = base.transform_filter("datum.pareto").mark_line(interpolate="step-after", color="black").encode(x=x, y=y)
    best_mark = base.transform_filter("datum.best").mark_point(size=260, shape="circle", color="black",
                                                                filled=False, strokeWidth=2).encode(
        x=x, y=y, tooltip=tooltip)
    return (points + front + best_mark).properties(
        width=560, height=360,
        title=alt.Title(title, subtitle="black line: Pareto set (CPM_served vs TTFT p99); "
                                        "circles: cheapest per SLO bin"))
