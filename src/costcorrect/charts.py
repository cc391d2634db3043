"""Altair specs for paper 01's three figures, and an atomic PNG/SVG saver (01 §5.1-5.3, §6.2).

Every figure function is pure: it takes the frames/arrays produced by
:mod:`costcorrect.serving.frontier` and :mod:`costcorrect.serving.breakeven` and returns an
``alt.Chart`` (or layered/concatenated chart) with the data already reduced and inlined.
Only :func:`save_chart` touches the filesystem; it renders offline through ``vl_convert``.

- Figure 1 (:func:`figure1_frontier`): CPM_served vs the TTFT p99 contract at a fixed TPOT
  p99, one line per system, the η ∈ [0.3, 0.8] band of the disaggregated systems shaded,
  and the published operating points (filled = Pareto-optimal, hollow = dominated) with
  DistServe's ±10 % error bar.
- Figure 2 (:func:`figure2_breakeven`): heatmap of CPM_co − CPM_P/D over (α, B), one panel
  per SLO bin, diverging colour centred at 0, with the crossover bandwidth overlaid.
- Figure 3 (:func:`figure3_hardware`): Figure 1's lines as small multiples, one per GPU.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import altair as alt
import numpy as np
import pandas as pd

from costcorrect.io import atomic_write_bytes

__all__ = [
    "GPU_LABELS",
    "figure1_frontier",
    "figure2_breakeven",
    "figure3_hardware",
    "save_chart",
]

#: Panel width [px]; the brief for every figure is "about 520 per panel".
PANEL_WIDTH = 520
PANEL_HEIGHT = 340
#: Figure 2 keeps at most this many cells per axis per panel (the contour stays full-res).
MAX_HEATMAP_CELLS = 60

#: Display names for the catalog's GPU ids (falls back to the id itself).
GPU_LABELS: dict[str, str] = {
    "a100-sxm-80gb": "A100 SXM4 80GB",
    "a100-pcie-80gb": "A100 PCIe 80GB",
    "h100-sxm": "H100 SXM5",
    "h100-pcie": "H100 PCIe",
    "h200-sxm": "H200 SXM",
    "b200": "B200",
}
#: Figure 3 panel order (oldest to newest); unknown GPUs go last in order of appearance.
GPU_ORDER = ("a100-sxm-80gb", "a100-pcie-80gb", "h100-sxm", "h100-pcie", "h200-sxm", "b200")

#: Categorical palette (Tableau 10) shared by Figures 1 and 3 so a system keeps its colour.
_PALETTE = (
    "#4c78a8", "#f58518", "#e45756", "#72b7b2", "#54a24b",
    "#eeca3b", "#b279a2", "#ff9da6", "#9d755d", "#bab0ac",
)

_X_TTFT = "TTFT p99 contract [ms] (log scale)"
_Y_CPM = "CPM_served [$ per million SLO-compliant output tokens]"
_INFEASIBLE_GREY = "#d9d9d9"
#: Subtitles carry η, ∈, ±; name a face that has them so the renderer does not fall back
#: to a serif font for the whole line.
_FONT = "DejaVu Sans, Liberation Sans, Arial, Helvetica, sans-serif"


# --------------------------------------------------------------------------- helpers


def _title(text: str, subtitle: str | Sequence[str] | None) -> alt.Title:
    return alt.Title(text, subtitle=subtitle or alt.Undefined, anchor="start", fontSize=15,
                     subtitleFont=_FONT, subtitleFontSize=12,
                     subtitleColor="#444", offset=10)


def _gpu_label(gpu_id: Any) -> str:
    return GPU_LABELS.get(str(gpu_id), str(gpu_id))


def _fmt_ms(v: float) -> str:
    v = float(v)
    return f"{v:.0f} ms" if abs(v - round(v)) < 1e-6 else f"{v:.3g} ms"


def _finite_or_none(x: Any) -> float | None:
    if x is None:
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if np.isfinite(v) else None


def _records(df: pd.DataFrame) -> list[dict]:
    """JSON-safe records (NaN/±inf → None) via pandas' C JSON writer, which is fast."""
    num = df.select_dtypes(include="number").columns
    if len(num):
        df = df.copy()
        df[num] = df[num].replace([np.inf, -np.inf], np.nan)
    return json.loads(df.to_json(orient="records", double_precision=10))


def _inline(rows: list[dict]) -> dict:
    """Inline data as a plain dict: Altair then skips schema-validating (and deep-copying)
    every row and hoists the values into the spec's top-level ``datasets`` once."""
    return {"values": rows}


def _system_scale(names: Sequence[str]) -> alt.Scale:
    return alt.Scale(domain=list(names), range=list(_PALETTE[: max(1, len(names))]))


def _system_order(curves: pd.DataFrame, points: Iterable[dict] = ()) -> list[str]:
    """System display names in first-appearance order (curves first, then points)."""
    names = list(dict.fromkeys(curves["name"].astype(str))) if "name" in curves else []
    for p in points:
        n = str(p.get("name", p.get("system")))
        if n not in names:
            names.append(n)
    return names


def _single_value(series: pd.Series) -> float | None:
    vals = pd.to_numeric(series, errors="coerce").dropna().unique()
    return float(vals[0]) if len(vals) == 1 else None


def _curve_frame(curves: pd.DataFrame) -> pd.DataFrame:
    """The columns the line/band layers need, with infeasible (non-finite) CPMs as NaN."""
    cols = ["system", "name", "architecture", "gpu", "ttft_p99_ms",
            "cpm_served_usd_per_mtok", "cpm_lo_usd_per_mtok", "cpm_hi_usd_per_mtok"]
    df = curves[[c for c in cols if c in curves]].copy()
    for c in ("ttft_p99_ms", "cpm_served_usd_per_mtok", "cpm_lo_usd_per_mtok",
              "cpm_hi_usd_per_mtok"):
        if c in df:
            df[c] = pd.to_numeric(df[c], errors="coerce").replace([np.inf, -np.inf], np.nan)
    df["name"] = df["name"].astype(str)
    return df


def _band_layers(data: Any, x: alt.X, color_scale: alt.Scale,
                 names: Sequence[str]) -> list[alt.Chart]:
    """One shaded η-band area per disaggregated system, coloured like its line.

    Each band gets a constant fill rather than a fill encoding: Vega-Lite merges a
    ``fill`` legend with the ``color`` legend of the lines, and a band's translucency (or
    a null legend) would then leak into, or suppress, the System legend.
    """
    domain = list(color_scale.domain) if color_scale.domain is not alt.Undefined else []
    rng = list(color_scale.range) if color_scale.range is not alt.Undefined else []
    layers = []
    for name in names:
        colour = rng[domain.index(name) % len(rng)] if name in domain and rng else "grey"
        chart = alt.Chart(data) if data is not None else alt.Chart()
        layers.append(
            chart.transform_filter(alt.FieldEqualPredicate(field="name", equal=name))
            .transform_filter("isValid(datum.cpm_lo_usd_per_mtok)"
                              " && isValid(datum.cpm_hi_usd_per_mtok)")
            .mark_area(opacity=0.2, interpolate="monotone", color=colour)
            .encode(
                x=x,
                y=alt.Y("cpm_lo_usd_per_mtok:Q", title=_Y_CPM),
                y2="cpm_hi_usd_per_mtok:Q",
                tooltip=[alt.Tooltip("name:N", title="System"),
                         alt.Tooltip("ttft_p99_ms:Q", title="TTFT p99 [ms]", format=".0f"),
                         alt.Tooltip("cpm_lo_usd_per_mtok:Q", title="CPM @ η=0.8 [$/Mtok]",
                                     format=".3f"),
                         alt.Tooltip("cpm_hi_usd_per_mtok:Q", title="CPM @ η=0.3 [$/Mtok]",
                                     format=".3f")],
            )
        )
    return layers


def _log_ticks(values: Iterable[float]) -> list[float] | None:
    """1-2-3-5 ticks per decade inside the finite positive range of ``values``."""
    v = np.asarray([x for x in values if x is not None], dtype=float)
    v = v[np.isfinite(v) & (v > 0)]
    if v.size == 0:
        return None
    lo, hi = float(v.min()), float(v.max())
    ticks = [m * 10.0**e for e in range(int(np.floor(np.log10(lo))), int(np.ceil(np.log10(hi))) + 1)
             for m in (1, 2, 3, 5)]
    ticks = [t for t in ticks if lo * (1 - 1e-9) <= t <= hi * (1 + 1e-9)]
    return ticks if len(ticks) >= 2 else None


def _ttft_x(values: Iterable[float]) -> alt.X:
    return alt.X("ttft_p99_ms:Q", title=_X_TTFT, scale=alt.Scale(type="log", nice=False),
                 axis=alt.Axis(values=_log_ticks(values) or alt.Undefined, format="~s"))


def _architecture_dash() -> alt.StrokeDash:
    """Solid colocated, dashed chunked, dotted disaggregated — the same in every figure."""
    return alt.StrokeDash(
        "architecture:N", title="Architecture",
        scale=alt.Scale(domain=["colocated", "chunked", "disaggregated"], range=[[1, 0], [6, 3], [2, 2]]),
        legend=alt.Legend(orient="right", symbolType="stroke", symbolStrokeWidth=3),
    )


def _curve_layers(df: pd.DataFrame, color_scale: alt.Scale, x: alt.X) -> list[alt.Chart]:
    """η band (disaggregated only) + one line per system; data is attached per layer."""
    color = alt.Color("name:N", title="System", scale=color_scale,
                      legend=alt.Legend(orient="right", symbolType="stroke", symbolStrokeWidth=3))
    layers: list[alt.Chart] = []

    band = df[(df["architecture"] == "disaggregated")
              & df["cpm_lo_usd_per_mtok"].notna() & df["cpm_hi_usd_per_mtok"].notna()]
    band = band[(band["cpm_hi_usd_per_mtok"] - band["cpm_lo_usd_per_mtok"]).abs() > 0]
    if not band.empty:
        band_cols = ["name", "gpu", "ttft_p99_ms", "cpm_lo_usd_per_mtok", "cpm_hi_usd_per_mtok"]
        layers += _band_layers(_inline(_records(band[band_cols])), x, color_scale,
                               list(dict.fromkeys(band["name"])))

    line = df[df["cpm_served_usd_per_mtok"].notna()]
    line_cols = ["name", "architecture", "gpu", "ttft_p99_ms", "cpm_served_usd_per_mtok"]
    layers.append(
        alt.Chart(_inline(_records(line[line_cols])))
        .mark_line(strokeWidth=2, interpolate="monotone")
        .encode(
            x=x,
            y=alt.Y("cpm_served_usd_per_mtok:Q", title=_Y_CPM, scale=alt.Scale(zero=False)),
            color=color,
            strokeDash=_architecture_dash(),
            tooltip=[alt.Tooltip("name:N", title="System"),
                     alt.Tooltip("architecture:N", title="Architecture"),
                     alt.Tooltip("ttft_p99_ms:Q", title="TTFT p99 [ms]", format=".0f"),
                     alt.Tooltip("cpm_served_usd_per_mtok:Q", title="CPM_served [$/Mtok]",
                                 format=".3f")],
        )
    )
    return layers


# --------------------------------------------------------------------------- Figure 1


def figure1_frontier(
    curves: pd.DataFrame,
    points: list[dict],
    *,
    title: str | None = None,
    subtitle: str | None = None,
    simulated: pd.DataFrame | None = None,
) -> alt.LayerChart:
    """Figure 1: CPM_served vs TTFT p99 at fixed TPOT p99, five systems (01 §5.1, §6.2).

    ``simulated`` (optional, :func:`costcorrect.simulator.frontier_sim.simulated_curves`)
    adds the simulator's rate sweeps per architecture as grey lines with point markers.

    ``curves`` is :func:`costcorrect.serving.frontier.frontier_curves`, ``points`` is
    :func:`~costcorrect.serving.frontier.frontier_points`. Infeasible points (``None``
    coordinates) are left out of the marker layer.
    """
    df = _curve_frame(curves)
    names = _system_order(df, points)
    scale = _system_scale(names)

    tpot = _single_value(curves["tpot_p99_ms"]) if "tpot_p99_ms" in curves else None
    if title is None:
        title = "Figure 1 — CPM_served vs TTFT p99"
        if tpot is not None:
            title += f" at TPOT p99 = {_fmt_ms(tpot)}"
    if subtitle is None:
        gpus = list(dict.fromkeys(df["gpu"].astype(str))) if "gpu" in df else []
        head = ("GPU: " + ", ".join(_gpu_label(g) for g in gpus) + " · ") if gpus else ""
        subtitle = [
            head + "lines: each system's CPM_served as the TTFT contract varies; "
            "shaded: disaggregated systems at η ∈ [0.3, 0.8]",
            "markers: published operating points, filled = Pareto-optimal, hollow = dominated; "
            "bar = DistServe ±10 %; coincident markers dodged sideways (tooltip: exact TTFT)",
        ]

    rows = []
    for p in points:
        ttft = _finite_or_none(p.get("ttft_p99_ms"))
        cpm = _finite_or_none(p.get("cpm_served_usd_per_mtok"))
        if ttft is None or cpm is None:
            continue
        band = p.get("cpm_band_usd_per_mtok")
        lo = _finite_or_none(band[0]) if band else None
        hi = _finite_or_none(band[1]) if band else None
        pareto = bool(p.get("pareto_optimal", False))
        rows.append({
            "name": str(p.get("name", p.get("system"))),
            "series": str(p.get("name", p.get("system"))),
            "architecture": str(p.get("architecture", "")),
            "ttft_p99_ms": ttft,
            "cpm_served_usd_per_mtok": cpm,
            "cpm_lo": lo,
            "cpm_hi": hi,
            "has_band": lo is not None and hi is not None and abs(hi - lo) > 1e-12,
            "pareto_optimal": pareto,
            "status": "Pareto-optimal" if pareto else "dominated",
        })
    if rows:
        _dodge(rows)
    ttft_span = [*df["ttft_p99_ms"].dropna(), *(r["ttft_plot_ms"] for r in rows)]
    layers = _curve_layers(df, scale, _ttft_x(ttft_span))
    if rows:
        pts = _inline(rows)
        x = alt.X("ttft_plot_ms:Q", title=_X_TTFT)
        bar_rows = [r for r in rows if r["has_band"]]
        if bar_rows:
            layers.append(
                alt.Chart(_inline(bar_rows))
                .mark_errorbar(ticks=alt.TickConfig(width=10), thickness=2)
                .encode(
                    x=x,
                    y=alt.Y("cpm_lo:Q", title=_Y_CPM),
                    y2="cpm_hi:Q",
                    color=alt.Color("name:N", title="System", scale=scale),
                )
            )
        fill = alt.condition(
            "datum.pareto_optimal",
            alt.Fill("series:N", scale=scale, legend=None),
            alt.value("white"),
        )
        layers.append(
            alt.Chart(pts)
            .mark_point(shape="circle", size=170, strokeWidth=2.5, opacity=1)
            .encode(
                x=x,
                y=alt.Y("cpm_served_usd_per_mtok:Q", title=_Y_CPM),
                color=alt.Color("name:N", title="System", scale=scale),
                fill=fill,
                tooltip=[alt.Tooltip("name:N", title="System"),
                         alt.Tooltip("status:N", title="Status"),
                         alt.Tooltip("ttft_p99_ms:Q", title="TTFT p99 [ms]", format=".0f"),
                         alt.Tooltip("cpm_served_usd_per_mtok:Q", title="CPM_served [$/Mtok]",
                                     format=".3f"),
                         alt.Tooltip("cpm_lo:Q", title="band lo [$/Mtok]", format=".3f"),
                         alt.Tooltip("cpm_hi:Q", title="band hi [$/Mtok]", format=".3f")],
            )
        )

    if simulated is not None and len(simulated):
        sim = simulated.dropna(subset=["ttft_p99_ms", "cpm_served_usd_per_mtok"])
        if "ttft_plot_ms" not in sim:
            sim = sim.assign(ttft_plot_ms=sim["ttft_p99_ms"])
        # keep the sweep on the chart's range: the cost axis is set by the closed-form lines
        ymax = float(np.nanmax(df["cpm_served_usd_per_mtok"])) if "cpm_served_usd_per_mtok" in df else None
        if ymax is not None and np.isfinite(ymax):
            sim = sim[sim["cpm_served_usd_per_mtok"] <= 3.5 * ymax]
        if len(sim):
            layers.append(
                alt.Chart(_inline(sim.to_dict(orient="records")))
                .mark_line(point=alt.OverlayMarkDef(color="#555555", filled=True, size=45), color="#555555",
                           strokeWidth=1.2, opacity=0.85)
                .encode(
                    x=alt.X("ttft_p99_ms:Q", title=_X_TTFT),
                    y=alt.Y("cpm_served_usd_per_mtok:Q", title=_Y_CPM),
                    shape=alt.Shape("series:N", title="Simulator (rate sweep)",
                                    scale=alt.Scale(range=["square", "triangle-up", "diamond"])),
                    detail="series:N",
                    tooltip=[alt.Tooltip("series:N", title="Simulated"),
                             alt.Tooltip("rate_per_s:Q", title="arrival rate [req/s]", format=".2f"),
                             alt.Tooltip("ttft_p99_ms:Q", title="TTFT p99 [ms]", format=".0f"),
                             alt.Tooltip("tpot_p99_ms:Q", title="TPOT p99 [ms]", format=".1f"),
                             alt.Tooltip("cpm_served_usd_per_mtok:Q", title="CPM_served [$/Mtok]", format=".3f")],
                )
            )
    return (
        alt.layer(*layers)
        .resolve_scale(color="shared", shape="independent")
        .properties(
            width=PANEL_WIDTH,
            height=PANEL_HEIGHT + 40,
            title=_title(title, subtitle),
        )
    )


def _dodge(rows: list[dict], step_log10: float = 0.045, tol_log10: float = 0.015) -> None:
    """Spread markers that sit at (nearly) the same TTFT sideways, in place.

    Operating points of several systems share the scenario's TTFT contract; without a dodge
    they stack into one marker. Each cluster (TTFTs within ``tol_log10`` decades, about
    3.5 %) is spread symmetrically by ``step_log10`` decades per marker (about 16 px at
    the default panel width) into ``ttft_plot_ms``; ``ttft_p99_ms`` keeps the true value.
    """
    order = sorted(range(len(rows)), key=lambda r: rows[r]["ttft_p99_ms"])
    clusters: list[list[int]] = []
    for r in order:
        lt = np.log10(rows[r]["ttft_p99_ms"])
        if clusters and lt - np.log10(rows[clusters[-1][0]]["ttft_p99_ms"]) <= tol_log10:
            clusters[-1].append(r)
        else:
            clusters.append([r])
    for members in clusters:
        members.sort()  # keep the input (system) order within a cluster
        centre = float(np.mean([np.log10(rows[r]["ttft_p99_ms"]) for r in members]))
        for pos, r in enumerate(members):
            offset = (pos - (len(members) - 1) / 2) * step_log10 if len(members) > 1 else 0.0
            rows[r]["ttft_plot_ms"] = (10 ** (centre + offset) if len(members) > 1
                                       else rows[r]["ttft_p99_ms"])


# --------------------------------------------------------------------------- Figure 2


def _pick(n: int, k: int) -> np.ndarray:
    """At most ``k`` evenly spread indices into ``range(n)``, always keeping both ends."""
    if n <= k:
        return np.arange(n)
    return np.unique(np.round(np.linspace(0, n - 1, k)).astype(int))


def _edges(centres: np.ndarray, log: bool) -> np.ndarray:
    """Cell edges around (possibly non-uniform) centres; midpoints, geometric if ``log``."""
    c = np.log(centres) if log else np.asarray(centres, dtype=float)
    if c.size == 1:
        half = 0.05 if log else 0.01
        e = np.array([c[0] - half, c[0] + half])
    else:
        mid = (c[1:] + c[:-1]) / 2
        e = np.concatenate([[c[0] - (mid[0] - c[0])], mid, [c[-1] + (c[-1] - mid[-1])]])
    return np.exp(e) if log else e


def _robust_limit(diff: np.ndarray) -> float:
    finite = np.abs(diff[np.isfinite(diff)])
    if finite.size == 0:
        return 1.0
    lim = float(np.percentile(finite, 98))
    if not lim > 0:
        lim = float(finite.max()) or 1.0
    return float(f"{lim:.2g}")


def _sig(x: np.ndarray, digits: int = 4) -> np.ndarray:
    """Round to ``digits`` significant figures (keeps the inlined spec small)."""
    x = np.asarray(x, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        mag = np.where(np.isfinite(x) & (x != 0), np.floor(np.log10(np.abs(x))), 0)
    scale = 10.0 ** (digits - 1 - mag)
    return np.round(x * scale) / scale


def _run_length_cells(diff: np.ndarray, step: float) -> pd.DataFrame:
    """Heatmap rects for a (S, A, B) grid, merging runs along B that share a colour.

    Values are quantised to ``step`` (well below what a colour ramp can show) and
    consecutive B cells of one (bin, α) column with the same quantised value, or all
    non-finite, become one rect spanning B indices ``j0..j1``. Lossless on screen; on
    surfaces that barely depend on B it cuts the rect count by an order of magnitude.
    """
    n_s, n_a, n_b = diff.shape
    q = np.where(np.isfinite(diff), np.round(diff / step) * step, np.nan)
    same = (q[..., 1:] == q[..., :-1]) | (np.isnan(q[..., 1:]) & np.isnan(q[..., :-1]))
    start = np.concatenate([np.ones((n_s, n_a, 1), dtype=bool), ~same], axis=2).ravel()
    idx = np.flatnonzero(start)
    end = np.append(idx[1:], start.size) - 1
    k, rest = np.divmod(idx, n_a * n_b)
    i, j0 = np.divmod(rest, n_b)
    vals = q.ravel()[idx]
    return pd.DataFrame({"k": k, "i": i, "j0": j0, "j1": end % n_b, "d": _sig(vals)})


def _bin_label(ttft_ms: float, tpot_ms: float) -> str:
    return f"(TTFT {_fmt_ms(ttft_ms)}, TPOT {_fmt_ms(tpot_ms)})"


def figure2_breakeven(
    surface: Any,
    *,
    title: str | None = None,
    subtitle: str | None = None,
    max_cells: int = MAX_HEATMAP_CELLS,
) -> alt.HConcatChart:
    """Figure 2: CPM_co − CPM_P/D over (α, B), one panel per SLO bin (01 §5.2).

    ``surface`` is a :class:`costcorrect.serving.breakeven.BreakevenSurface`. The heatmap is
    subsampled to at most ``max_cells`` × ``max_cells`` per panel; the crossover line uses
    the full-resolution :meth:`crossover_bandwidth_gb_s`. Non-finite cells (an architecture
    infeasible at that SLO) are drawn grey. Positive (blue) = disaggregation cheaper.
    """
    alpha = np.asarray(surface.alpha, dtype=float)
    bw = np.asarray(surface.bandwidth_gb_s, dtype=float)
    ttft = np.atleast_1d(np.asarray(surface.ttft_p99_ms, dtype=float))
    tpot = np.atleast_1d(np.asarray(surface.tpot_p99_ms, dtype=float))
    diff = np.asarray(surface.difference_usd_per_mtok, dtype=float)
    cross = np.asarray(surface.crossover_bandwidth_gb_s(), dtype=float)
    if diff.ndim == 2:
        diff, cross = diff[None], np.atleast_2d(cross)

    n_bins = diff.shape[0]
    lim = _robust_limit(diff)
    ia, ib = _pick(alpha.size, max_cells), _pick(bw.size, max_cells)
    a_c, b_c = alpha[ia], bw[ib]
    a_e, b_e = _sig(_edges(a_c, log=False), 5), _sig(_edges(b_c, log=True), 5)
    cells = _run_length_cells(diff[:, ia][:, :, ib], step=lim / 200)

    def arr(v: np.ndarray) -> str:
        return "[" + ",".join(f"{x:.6g}" for x in v) + "]"

    # Cells carry grid indices only; centres and edges come from short literal arrays in
    # Vega expressions, which keeps the inlined data to ~5 small numbers per rect.
    # The far edges overlap the next cell by a fifth of a cell so anti-aliasing leaves no
    # hairline seams; the neighbour is drawn later and covers the overlap, and the last
    # row/column is clipped at the panel edge.
    a_far = _sig(a_e[1:] + 0.2 * np.diff(a_e), 5)
    b_far = _sig(b_e[1:] * (b_e[1:] / b_e[:-1]) ** 0.2, 5)
    geometry = {
        "a": f"{arr(_sig(a_c, 5))}[datum.i]",
        "a0": f"{arr(a_e)}[datum.i]",
        "a1": f"{arr(a_far)}[datum.i]",
        "b0": f"{arr(b_e)}[datum.j0]",
        "b1": f"{arr(b_far)}[datum.j1]",
        "b_lo": f"{arr(b_e)}[datum.j0]",
        "b_hi": f"{arr(b_e)}[datum.j1 + 1]",
    }

    title = title or ("Figure 2 — break-even surface: CPM_co − CPM_P/D over "
                      "prefill share α × KV-link bandwidth B")
    if subtitle is None:
        subtitle = [
            "Blue: disaggregation (P/D) cheaper; red: chunked-prefill colocation cheaper; "
            f"grey: infeasible. Colour clipped to ±{lim:g} $/Mtok.",
            "Black line: crossover B (smallest B at which P/D is no costlier); "
            "on the bottom edge = P/D cheaper at every B; gap = colocation cheaper at every B.",
        ]

    x_scale = alt.Scale(domain=[float(a_e[0]), float(a_e[-1])], nice=False, zero=False)
    y_scale = alt.Scale(type="log", domain=[float(b_e[0]), float(b_e[-1])], nice=False)
    x_title = "Prefill share α [–]"
    y_title = "KV-link bandwidth B [GB/s] (log scale)"
    b_ticks = [v for v in (10, 25, 50, 100, 200, 400, 900, 1800, 3600)
               if b_e[0] <= v <= b_e[-1]]
    a_ticks = [v for v in (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
               if a_e[0] <= v <= a_e[-1]]
    heat_x = alt.X("a0:Q", title=x_title, scale=x_scale,
                   axis=alt.Axis(values=a_ticks or None, format=".1f"))
    color = alt.Color(
        "d:Q",
        title=["CPM_co − CPM_P/D", "[$ per M output tokens]"],
        scale=alt.Scale(scheme="redblue", domain=[-lim, lim], domainMid=0, clamp=True),
        legend=alt.Legend(orient="right", gradientLength=220, format="+.2f"),
    )
    pos_tooltip = [alt.Tooltip("a:Q", title="α [–]", format=".3f"),
                   alt.Tooltip("b_lo:Q", title="B from [GB/s]", format=".1f"),
                   alt.Tooltip("b_hi:Q", title="B to [GB/s]", format=".1f")]

    panels = []
    for k in range(n_bins):
        heat_y = alt.Y("b0:Q", title=y_title if k == 0 else None, scale=y_scale,
                       axis=alt.Axis(values=b_ticks or None, format="~s"))
        base = (alt.Chart().transform_filter(f"datum.k === {k}")
                .transform_calculate(**geometry))
        layers: list[alt.Chart] = [
            base.transform_filter("isValid(datum.d)")
            .mark_rect(clip=True)
            .encode(x=heat_x, x2="a1:Q", y=heat_y, y2="b1:Q", color=color,
                    tooltip=[*pos_tooltip,
                             alt.Tooltip("d:Q", title="CPM_co − CPM_P/D [$/Mtok]",
                                         format="+.3f")])
        ]
        if cells.loc[cells["k"] == k, "d"].isna().any():
            layers.append(
                base.transform_filter("!isValid(datum.d)")
                .mark_rect(color=_INFEASIBLE_GREY, clip=True)
                .encode(x=heat_x, x2="a1:Q", y=heat_y, y2="b1:Q", tooltip=pos_tooltip)
            )
        # Crossover contour at full resolution; a new segment starts after every gap, and
        # a segment of a single α (no line to draw) gets a marker instead.
        cb = cross[k]
        okc = np.isfinite(cb)
        if okc.any():
            seg = np.cumsum(~okc)[okc]
            contour = pd.DataFrame({"a": _sig(alpha[okc], 5), "b": _sig(cb[okc], 5), "seg": seg})
            contour["lone"] = contour.groupby("seg")["a"].transform("size") == 1
            c_enc = {
                "x": alt.X("a:Q", scale=x_scale, title=x_title),
                "y": alt.Y("b:Q", scale=y_scale, title=y_title if k == 0 else None),
                "tooltip": [alt.Tooltip("a:Q", title="α [–]", format=".3f"),
                            alt.Tooltip("b:Q", title="crossover B [GB/s]", format=".1f")],
            }
            layers.append(
                alt.Chart(_inline(_records(contour)))
                .mark_line(color="black", strokeWidth=2.5, clip=True)
                .encode(detail="seg:N", **c_enc)
            )
            if contour["lone"].any():
                layers.append(
                    alt.Chart(_inline(_records(contour[contour["lone"]])))
                    .mark_point(color="black", filled=True, size=30, clip=True)
                    .encode(**c_enc)
                )
        label = _bin_label(ttft[k], tpot[k]) if k < min(ttft.size, tpot.size) else f"bin {k}"
        panels.append(
            alt.layer(*layers).properties(
                width=int(PANEL_WIDTH * 0.62), height=int(PANEL_WIDTH * 0.62),
                title=alt.Title(label, fontSize=13),
            )
        )

    return (
        alt.hconcat(*panels, data=_inline(_records(cells)), spacing=14)
        .resolve_scale(color="shared", x="shared", y="shared")
        .properties(title=_title(title, subtitle))
    )


# --------------------------------------------------------------------------- Figure 3


def figure3_hardware(
    curves: pd.DataFrame,
    *,
    title: str | None = None,
    subtitle: str | None = None,
    columns: int = 2,
) -> alt.FacetChart:
    """Figure 3: Figure 1's lines as small multiples, one panel per GPU (01 §5.3).

    ``curves`` is :func:`costcorrect.serving.frontier.hardware_curves` (a ``gpu`` column).
    The y scale is shared so the panels compare directly.
    """
    df = _curve_frame(curves)
    names = _system_order(df)
    scale = _system_scale(names)
    gpus = list(dict.fromkeys(df["gpu"].astype(str)))
    order = [g for g in GPU_ORDER if g in gpus] + [g for g in gpus if g not in GPU_ORDER]
    label_of = {g: _gpu_label(g) for g in order}
    df["gpu_label"] = df["gpu"].astype(str).map(label_of)

    tpot = _single_value(curves["tpot_p99_ms"]) if "tpot_p99_ms" in curves else None
    if title is None:
        title = "Figure 3 — CPM_served vs TTFT p99 across GPU generations"
        if tpot is not None:
            title += f" at TPOT p99 = {_fmt_ms(tpot)}"
    if subtitle is None:
        subtitle = ("One panel per GPU, shared y axis; shaded: disaggregated η ∈ [0.3, 0.8]. "
                    "Lines start where the system first meets the contract.")

    # Facets need one top-level data source, so the band and line layers share one frame.
    cols = ["name", "architecture", "gpu", "gpu_label", "ttft_p99_ms",
            "cpm_served_usd_per_mtok", "cpm_lo_usd_per_mtok", "cpm_hi_usd_per_mtok"]
    data = df[cols]
    x = _ttft_x(df["ttft_p99_ms"].dropna())
    base = alt.Chart()
    has_band = ((df["architecture"] == "disaggregated")
                & ((df["cpm_hi_usd_per_mtok"] - df["cpm_lo_usd_per_mtok"]).abs() > 0))
    bands = _band_layers(None, x, scale, list(dict.fromkeys(df.loc[has_band, "name"])))
    line = (
        base.transform_filter("isValid(datum.cpm_served_usd_per_mtok)")
        .mark_line(strokeWidth=2, interpolate="monotone")
        .encode(
            x=x,
            y=alt.Y("cpm_served_usd_per_mtok:Q", title=_Y_CPM, scale=alt.Scale(zero=False)),
            color=alt.Color("name:N", title="System", scale=scale,
                            legend=alt.Legend(orient="right", symbolType="stroke", symbolStrokeWidth=3)),
            strokeDash=_architecture_dash(),
            tooltip=[alt.Tooltip("gpu_label:N", title="GPU"),
                     alt.Tooltip("name:N", title="System"),
                     alt.Tooltip("ttft_p99_ms:Q", title="TTFT p99 [ms]", format=".0f"),
                     alt.Tooltip("cpm_served_usd_per_mtok:Q", title="CPM_served [$/Mtok]",
                                 format=".3f")],
        )
    )
    layer = alt.layer(*bands, line).properties(width=PANEL_WIDTH * 0.8, height=PANEL_HEIGHT * 0.8)
    return (
        alt.FacetChart(
            data=_inline(_records(data)),
            spec=layer,
            facet=alt.Facet("gpu_label:N", title=None, sort=[label_of[g] for g in order],
                            header=alt.Header(labelFontSize=13, labelFontWeight="bold")),
            columns=max(1, min(columns, len(order))),
        )
        .resolve_scale(y="shared", x="shared")
        .properties(title=_title(title, subtitle))
    )


# --------------------------------------------------------------------------- saving


def _vl_version() -> str | None:
    """The Vega-Lite version Altair targets, if this vl_convert bundles it."""
    import vl_convert as vlc

    major_minor = ".".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])
    try:
        supported = vlc.get_vegalite_versions()
    except Exception:  # pragma: no cover - very old vl_convert
        return None
    return major_minor if major_minor in supported else None


def save_chart(
    chart: alt.TopLevelMixin,
    path_stem: Path | str,
    formats: Sequence[str] = ("png", "svg"),
    *,
    scale: float = 2,
) -> list[Path]:
    """Render ``chart`` offline with vl_convert and write ``<path_stem>.<fmt>`` atomically.

    Each file is written to a temporary file in the target directory and moved into place
    with :func:`os.replace`, so readers never see a half-written figure. The spec is
    converted once. Supported formats: ``png`` (at ``scale``×), ``svg``, ``pdf``. Returns the
    written paths in ``formats`` order.
    """
    import vl_convert as vlc

    stem = Path(path_stem)
    if stem.suffix.lower().lstrip(".") in {"png", "svg", "pdf"}:
        stem = stem.with_suffix("")
    stem.parent.mkdir(parents=True, exist_ok=True)
    spec = chart.to_dict()
    version = _vl_version()
    keys = [fmt.lower().lstrip(".") for fmt in formats]
    for fmt, key in zip(formats, keys, strict=True):
        if key not in {"png", "svg", "pdf"}:
            raise ValueError(f"unsupported chart format {fmt!r}; choose from pdf, png, svg")

    # Vega renders the scene once to SVG; PNG is rasterised from that same SVG (resvg), so
    # asking for both formats costs one Vega pass instead of two.
    svg: str | None = None
    if "svg" in keys or "png" in keys:
        svg = vlc.vegalite_to_svg(spec, vl_version=version)
    renderers = {
        "png": lambda: vlc.svg_to_png(svg, scale=scale),
        "svg": lambda: svg.encode("utf-8"),
        "pdf": lambda: vlc.vegalite_to_pdf(spec, vl_version=version),
    }
    written: list[Path] = []
    for fmt in formats:
        key = fmt.lower().lstrip(".")
        path = stem.parent / f"{stem.name}.{key}"
        atomic_write_bytes(path, renderers[key]())
        written.append(path)
    return written
