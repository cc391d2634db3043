"""What each explorer page shows: result dicts (the CLI's ``--json``) and Vega-Lite specs.

No HTTP here: every function takes a :class:`~costcorrect.scenario.Scenario` and a
:class:`~costcorrect.catalog.Catalog` and returns plain JSON-able dicts, so the API and the
tests call the same code. Charts are the CLI's Altair figures
(:mod:`costcorrect.charts`), with interactive overlays added where a page needs them
(break-even hover with both costs, the "my workload" marker).
"""

from __future__ import annotations

import time
from typing import Any

import altair as alt
import numpy as np

from costcorrect import charts
from costcorrect.catalog import Catalog
from costcorrect.errors import InputError
from costcorrect.io import jsonable
from costcorrect.scenario import Scenario
from costcorrect.serving import frontier as fr
from costcorrect.serving.breakeven import breakeven_cells, breakeven_surface, crossover_summary
from costcorrect.serving.decomposition import prefill_share

#: The vega-embed ``actions`` every chart gets: PNG/SVG download, nothing that leaves the page.
EMBED_ACTIONS = {"export": True, "source": False, "compiled": False, "editor": False}

_GPU_LABEL = charts.GPU_LABELS


def _gpu(gpu_id: str) -> str:
    return _GPU_LABEL.get(gpu_id, gpu_id)


def _table(name: str, columns: list[tuple[str, str]], rows: list[dict]) -> dict:
    """A table for the page: ``columns`` = (key, header with unit); rows are JSON-safe."""
    return {"name": name, "columns": [{"key": k, "label": label} for k, label in columns],
            "rows": jsonable(rows)}


# ----------------------------------------------------------------------------- frontier




def frontier_result(catalog: Catalog, sc: Scenario) -> dict:
    """The numbers of ``costcorrect frontier --json`` (without the ``figures`` list): the closed
    form only, the simulator being a toggle of the view."""
    return jsonable(fr.frontier_summary(catalog, sc))


_POINT_COLUMNS = [
    ("name", "system"), ("architecture", "architecture"), ("ttft_p99_ms", "TTFT p99 [ms]"),
    ("tpot_p99_ms", "TPOT p99 [ms]"), ("cpm_served_usd_per_mtok", "CPM_served [$/MTok]"),
    ("prefill_term_usd_per_mtok", "α·c_prefill [$/MTok]"),
    ("decode_term_usd_per_mtok", "(1−α)·c_decode [$/MTok]"),
    ("tau_kv_usd_per_mtok", "τ_KV [$/MTok]"), ("sigma_co_usd_per_mtok", "σ_co [$/MTok]"),
    ("pareto_optimal", "Pareto-optimal"),
]


#: Requests per simulator probe on the page: fewer than the CLI's 1,500 so a view takes seconds.
WEB_SIM_REQUESTS = 400

_SIM_COLUMNS = [
    ("architecture", "architecture (simulated)"), ("capacity_rate_per_s", "capacity [req/s]"),
    ("cpm_served_usd_per_mtok", "CPM_served [$/MTok]"), ("config", "configuration"),
]


def frontier_view(catalog: Catalog, sc: Scenario, simulated: bool = False) -> dict:
    result = frontier_result(catalog, sc)
    curves = fr.frontier_curves(catalog, sc)
    title = (f"CPM_served vs TTFT p99 — {sc.model} on {sc.tensor_parallel}× {_gpu(sc.gpu)}, "
             f"TPOT p99 = {sc.slo.tpot_p99_ms:g} ms, ${result['price_usd_per_gpu_hour']:.3f}/GPU-h")
    sim_curves, tables, notes = None, [], []
    if simulated:
        from costcorrect.simulator.frontier_sim import config_label, simulated_curves, simulated_terms

        terms = simulated_terms(sc, catalog, num_requests=WEB_SIM_REQUESTS)
        sim_curves = simulated_curves(sc, catalog, terms, num_requests=WEB_SIM_REQUESTS)
        result = {**result, "engine": "simulate", "simulated": jsonable({**terms, "curves": sim_curves.to_dict(
            orient="records")})}
        rows = []
        for arch, row in terms["architectures"].items():
            rows.append({"architecture": arch, "capacity_rate_per_s": row["capacity_rate_per_s"],
                         "cpm_served_usd_per_mtok": row["cpm_served_usd_per_mtok"], "config": config_label(row)})
        tables.append(_table("simulator at the contract", _SIM_COLUMNS, rows))
        notes.append(f"Simulated with {WEB_SIM_REQUESTS} requests per probe on {sc.queue_servers} replicas "
                     "(the CLI's `frontier --engine simulate` uses 1,500).")
    chart = charts.figure1_frontier(curves, result["points"], title=title, simulated=sim_curves)
    feasible = [p for p in result["points"] if p["cpm_served_usd_per_mtok"] is not None]
    if not feasible:
        notes.append("No system meets this contract on this setup: every point is infeasible.")
    return {"result": result, "spec": chart.to_dict(), "notes": notes,
            "tables": [_table("operating points", _POINT_COLUMNS, result["points"]), *tables]}


# ----------------------------------------------------------------------------- break-even


def breakeven_result(catalog: Catalog, sc: Scenario, gpu_id: str | None = None,
                     alpha_steps: int | None = None, bandwidth_steps: int | None = None) -> dict:
    """The numbers of ``costcorrect breakeven --json`` (``elapsed_s`` is this run's)."""
    gpu_id = gpu_id or sc.gpu
    catalog.gpu(gpu_id)
    t0 = time.perf_counter()
    s = fr.scenario_breakeven(catalog, sc, gpu_id, alpha_steps, bandwidth_steps)
    elapsed = time.perf_counter() - t0
    cells = breakeven_cells(s)
    return jsonable({"gpu": gpu_id, "model": sc.model, "output_tokens": s.output_tokens,
                     "colocated_variant": "chunked-prefill", "overlap_eta": sc.overlap_eta,
                     "token_convention": sc.token_convention, "elapsed_s": elapsed,
                     "crossover": crossover_summary(s), "cells": cells})


#: Hover cells per axis per panel (the heatmap itself keeps charts.MAX_HEATMAP_CELLS).
HOVER_CELLS = 30


def _pick(n: int, k: int) -> np.ndarray:
    return np.arange(n) if n <= k else np.unique(np.round(np.linspace(0, n - 1, k)).astype(int))


def _mid_edges(c: np.ndarray, log: bool) -> tuple[np.ndarray, np.ndarray]:
    v = np.log(c) if log else c
    if v.size == 1:
        lo, hi = v - 0.01, v + 0.01
    else:
        mid = (v[1:] + v[:-1]) / 2
        lo = np.concatenate([[v[0] - (mid[0] - v[0])], mid])
        hi = np.concatenate([mid, [v[-1] + (v[-1] - mid[-1])]])
    return (np.exp(lo), np.exp(hi)) if log else (lo, hi)


def _arr(v: np.ndarray) -> str:
    return "[" + ",".join(f"{x:.6g}" for x in np.asarray(v, dtype=float)) + "]"


def _round_rows(rows: list[dict], digits: int = 5) -> list[dict]:
    """Costs to ``digits`` significant figures (tooltips show 3 decimals; keeps the spec small)."""
    out = []
    for r in rows:
        out.append({k: (float(f"{v:.{digits}g}") if isinstance(v, float | np.floating) and np.isfinite(v)
                        else None if isinstance(v, float | np.floating) else v) for k, v in r.items()})
    return out


def _scale_of(panel: alt.LayerChart, channel: str) -> dict:
    enc = panel.layer[0].encoding.to_dict()
    return enc[channel].get("scale", {})


def breakeven_view(catalog: Catalog, sc: Scenario, *, gpu_id: str, slo_bin: int | None,
                   marker_alpha: float, marker_bandwidth_gb_s: float, link_label: str) -> dict:
    """Figure 2 for the chosen SLO bin(s), with a hover layer (both costs) and "my workload".

    The surface holds D at the scenario's output length; the marker sits at α = P/(P+D)
    and the user's link bandwidth, and its two costs are evaluated exactly there.
    """
    bins = sc.slo_bins if slo_bin is None else [sc.slo_bins[slo_bin]]
    sc_bins = sc.model_copy(update={"slo_bins": bins})
    surface = fr.scenario_breakeven(catalog, sc_bins, gpu_id)
    setup = fr.setup_for(catalog, sc_bins, gpu_id)
    chunk = fr.system_knobs(catalog, sc_bins, "sarathi-serve", gpu_id).chunk_tokens \
        if "sarathi-serve" in set(catalog.table("systems")["id"]) else 512.0
    at = breakeven_surface(setup, [marker_alpha], [marker_bandwidth_gb_s],
                           [(b.ttft_p99_ms, b.tpot_p99_ms) for b in bins], sc.workload.output_tokens,
                           overlap_eta=sc.overlap_eta, chunk_tokens=chunk,
                           queue_servers=sc.queue_servers, token_convention=sc.token_convention)
    title = (f"Break-even CPM_co − CPM_P/D over prefill share α × KV-link bandwidth B — "
             f"{sc.model} on {sc.tensor_parallel}× {_gpu(gpu_id)}, η = {sc.overlap_eta:g}, "
             f"D = {sc.workload.output_tokens:g} tokens")
    chart = charts.figure2_breakeven(surface, title=title)

    ia, ib = _pick(surface.alpha.size, HOVER_CELLS), _pick(surface.bandwidth_gb_s.size, HOVER_CELLS)
    a_lo, a_hi = _mid_edges(surface.alpha[ia], log=False)
    b_lo, b_hi = _mid_edges(surface.bandwidth_gb_s[ib], log=True)
    # Hover cells carry grid indices and the two costs; positions come from short literal
    # arrays in Vega expressions (as in charts.figure2_breakeven), keeping the spec small.
    geometry = {
        "a": f"{_arr(surface.alpha[ia])}[datum.i]", "a_lo": f"{_arr(a_lo)}[datum.i]",
        "a_hi": f"{_arr(a_hi)}[datum.i]", "b": f"{_arr(surface.bandwidth_gb_s[ib])}[datum.j]",
        "b_lo": f"{_arr(b_lo)}[datum.j]", "b_hi": f"{_arr(b_hi)}[datum.j]",
        "d": "isValid(datum.co) && isValid(datum.pd) ? datum.co - datum.pd : null",
    }
    marker_rows = []
    for k, panel in enumerate(chart.hconcat):
        co = surface.cpm_colocated_usd_per_mtok[k][np.ix_(ia, ib)]
        pdd = surface.cpm_disaggregated_usd_per_mtok[k][np.ix_(ia, ib)]
        hover_rows = [{"i": int(i), "j": int(j), "co": co[i, j], "pd": pdd[i, j]}
                      for i in range(ia.size) for j in range(ib.size)]
        xs, ys = alt.Scale(**_scale_of(panel, "x")), alt.Scale(**_scale_of(panel, "y"))
        hover_layer = (
            alt.Chart({"values": jsonable(_round_rows(hover_rows))})
            .transform_calculate(**geometry)
            .mark_rect(opacity=0, clip=True)
            .encode(
                x=alt.X("a_lo:Q", scale=xs, title="Prefill share α [–]"), x2="a_hi:Q",
                y=alt.Y("b_lo:Q", scale=ys, title=None), y2="b_hi:Q",
                tooltip=[alt.Tooltip("a:Q", title="α [–]", format=".3f"),
                         alt.Tooltip("b:Q", title="B [GB/s]", format=".1f"),
                         alt.Tooltip("co:Q", title="CPM_co (chunked colocation) [$/MTok]", format=".3f"),
                         alt.Tooltip("pd:Q", title="CPM_P/D (disaggregated) [$/MTok]", format=".3f"),
                         alt.Tooltip("d:Q", title="CPM_co − CPM_P/D [$/MTok]", format="+.3f")],
            )
        )
        co_w = float(at.cpm_colocated_usd_per_mtok[k, 0, 0])
        pd_w = float(at.cpm_disaggregated_usd_per_mtok[k, 0, 0])
        row = {"ttft_p99_ms": float(surface.ttft_p99_ms[k]), "tpot_p99_ms": float(surface.tpot_p99_ms[k]),
               "alpha": marker_alpha, "bandwidth_gb_s": marker_bandwidth_gb_s, "link": link_label,
               "cpm_colocated_usd_per_mtok": co_w, "cpm_disaggregated_usd_per_mtok": pd_w,
               "cheaper": _cheaper(co_w, pd_w)}
        marker_rows.append(row)
        mark_data = {"values": jsonable([{**row, "label": "my workload"}])}
        mtip = [alt.Tooltip("label:N", title=" "), alt.Tooltip("link:N", title="link"),
                alt.Tooltip("alpha:Q", title="α [–]", format=".3f"),
                alt.Tooltip("bandwidth_gb_s:Q", title="B [GB/s]", format=".1f"),
                alt.Tooltip("cpm_colocated_usd_per_mtok:Q", title="CPM_co [$/MTok]", format=".3f"),
                alt.Tooltip("cpm_disaggregated_usd_per_mtok:Q", title="CPM_P/D [$/MTok]", format=".3f"),
                alt.Tooltip("cheaper:N", title="cheaper")]
        enc = {"x": alt.X("alpha:Q", scale=xs, title="Prefill share α [–]"),
               "y": alt.Y("bandwidth_gb_s:Q", scale=ys, title=None), "tooltip": mtip}
        marker = (alt.Chart(mark_data).mark_point(shape="diamond", size=260, filled=True, color="#ffd400",
                                                  stroke="black", strokeWidth=2, opacity=1, clip=True)
                  .encode(**enc))
        label = (alt.Chart(mark_data).mark_text(align="right", dx=-12, dy=-12, fontWeight="bold",
                                                stroke="white", strokeWidth=3, clip=True)
                 .encode(x=enc["x"], y=enc["y"], text="label:N"))
        label_fg = (alt.Chart(mark_data).mark_text(align="right", dx=-12, dy=-12, fontWeight="bold", clip=True)
                    .encode(x=enc["x"], y=enc["y"], text="label:N"))
        panel.layer = [*panel.layer, hover_layer, marker, label, label_fg]

    notes = []
    lo, hi = float(surface.alpha[0]), float(surface.alpha[-1])
    if not lo <= marker_alpha <= hi:
        notes.append(f"my workload's α = {marker_alpha:.3f} is outside the grid's α ∈ [{lo:.2f}, {hi:.2f}]; "
                     "the marker is off the chart (its costs are in the table).")
    blo, bhi = float(surface.bandwidth_gb_s[0]), float(surface.bandwidth_gb_s[-1])
    if not blo <= marker_bandwidth_gb_s <= bhi:
        notes.append(f"my link's B = {marker_bandwidth_gb_s:g} GB/s is outside the grid's "
                     f"B ∈ [{blo:g}, {bhi:g}] GB/s; the marker is off the chart.")
    cross = crossover_summary(surface)
    cross_rows = [{"ttft_p99_ms": r["ttft_p99_ms"], "tpot_p99_ms": r["tpot_p99_ms"],
                   "disaggregated_cheaper_share": r["disaggregated_cheaper_share"],
                   "crossover_at_marker_gb_s": _crossover_at(r["crossover"], marker_alpha)}
                  for r in cross]
    return {
        "result": jsonable({"gpu": gpu_id, "model": sc.model, "overlap_eta": sc.overlap_eta,
                            "output_tokens": sc.workload.output_tokens, "marker": marker_rows,
                            "crossover": cross}),
        "spec": chart.to_dict(),
        "notes": notes,
        "tables": [
            _table("my workload", [("ttft_p99_ms", "TTFT p99 [ms]"), ("tpot_p99_ms", "TPOT p99 [ms]"),
                                   ("alpha", "α [–]"), ("link", "link"), ("bandwidth_gb_s", "B [GB/s]"),
                                   ("cpm_colocated_usd_per_mtok", "CPM_co [$/MTok]"),
                                   ("cpm_disaggregated_usd_per_mtok", "CPM_P/D [$/MTok]"),
                                   ("cheaper", "cheaper")], marker_rows),
            _table("crossover by SLO bin",
                   [("ttft_p99_ms", "TTFT p99 [ms]"), ("tpot_p99_ms", "TPOT p99 [ms]"),
                    ("disaggregated_cheaper_share", "P/D cheaper on share of grid [–]"),
                    ("crossover_at_marker_gb_s", "crossover B at my α [GB/s]")], cross_rows),
        ],
    }


def _cheaper(co: float, pdd: float) -> str:
    if not np.isfinite(co) and not np.isfinite(pdd):
        return "neither meets the contract"
    if not np.isfinite(pdd):
        return "colocation (P/D infeasible)"
    if not np.isfinite(co):
        return "disaggregation (colocation infeasible)"
    return "disaggregation" if pdd <= co else "colocation"


def _crossover_at(crossover: list[dict], alpha: float) -> float | None:
    """The crossover B at the grid α nearest to ``alpha``, or ``None`` if none there."""
    if not crossover:
        return None
    best = min(crossover, key=lambda r: abs(r["alpha"] - alpha))
    return best["bandwidth_gb_s"] if abs(best["alpha"] - alpha) < 0.01 else None


def marker_alpha(prompt_tokens: float, output_tokens: float) -> float:
    return float(prefill_share(prompt_tokens, output_tokens))


# ----------------------------------------------------------------------------- hardware


def hardware_view(catalog: Catalog, sc: Scenario) -> dict:
    curves = fr.hardware_curves(catalog, sc)
    title = (f"CPM_served vs TTFT p99 across GPU generations — {sc.model}, TP{sc.tensor_parallel}, "
             f"TPOT p99 = {sc.slo.tpot_p99_ms:g} ms")
    chart = charts.figure3_hardware(curves, title=title)
    rows, skipped = [], []
    for gpu_id in sc.hardware:
        try:
            pts = fr.frontier_points(catalog, sc, gpu_id)
        except InputError as exc:
            if exc.field != "weight_dtype":
                raise
            skipped.append(gpu_id)
            continue
        price, source = fr.resolve_price(catalog, sc, gpu_id)
        for p in pts:
            rows.append({"gpu": _gpu(gpu_id), "price_usd_per_gpu_hour": price, "price_source": source,
                         "name": p["name"], "ttft_p99_ms": p["ttft_p99_ms"],
                         "cpm_served_usd_per_mtok": p["cpm_served_usd_per_mtok"],
                         "pareto_optimal": p["pareto_optimal"]})
    notes = [f"{_gpu(g)}: the weights do not fit at TP{sc.tensor_parallel}; panel left out." for g in skipped]
    return {
        "result": jsonable({"model": sc.model, "tensor_parallel": sc.tensor_parallel, "slo": sc.slo.model_dump(),
                            "points": rows, "skipped": skipped}),
        "spec": chart.to_dict(),
        "notes": notes,
        "tables": [_table(f"operating points at the contract (TTFT {sc.slo.ttft_p99_ms:g} ms)",
                          [("gpu", "GPU"), ("price_usd_per_gpu_hour", "price [$/GPU-h]"), ("name", "system"),
                           ("ttft_p99_ms", "TTFT p99 [ms]"), ("cpm_served_usd_per_mtok", "CPM_served [$/MTok]"),
                           ("pareto_optimal", "Pareto-optimal")], rows)],
    }


# ----------------------------------------------------------------------------- catalog choices


def choices(catalog: Catalog, sc: Scenario) -> dict[str, Any]:
    """Options for the pages' select boxes, from the catalog."""
    gpus = catalog.table("gpus")
    models = catalog.table("models")
    links = catalog.table("interconnects")
    return {
        "models": [{"id": str(r["id"]), "label": str(r["name"])} for _, r in models.iterrows()],
        "gpus": [{"id": str(r["id"]), "label": _gpu(str(r["id"]))} for _, r in gpus.iterrows()],
        "links": [{"id": str(r["id"]), "label": f"{r['name']} — {float(r['bandwidth_gb_s']):g} GB/s",
                   "bandwidth_gb_s": float(r["bandwidth_gb_s"])} for _, r in links.iterrows()],
        "slo_bins": [{"id": str(i), "label": f"TTFT {b.ttft_p99_ms:g} ms, TPOT {b.tpot_p99_ms:g} ms"}
                     for i, b in enumerate(sc.slo_bins)],
    }
