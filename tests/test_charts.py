"""Figure specs for paper 01 (Figures 1-3) and the atomic PNG/SVG saver."""

from __future__ import annotations

import json
import math
import os
import stat

import numpy as np
import pandas as pd
import pytest

alt = pytest.importorskip("altair")
pytest.importorskip("vl_convert")

from costcorrect import charts  # noqa: E402
from costcorrect.catalog import Catalog  # noqa: E402
from costcorrect.scenario import load_scenario  # noqa: E402
from costcorrect.serving import frontier as fr  # noqa: E402
from costcorrect.serving.breakeven import breakeven_surface  # noqa: E402

TTFT_GRID = np.geomspace(100, 3000, 8)
SLO_BINS = [(200, 30), (500, 50), (1000, 80)]


@pytest.fixture(scope="module")
def inputs():
    cat = Catalog.load()
    sc = load_scenario()
    curves = fr.frontier_curves(cat, sc, ttft_grid_ms=TTFT_GRID)
    points = fr.frontier_points(cat, sc)
    hw = [fr.frontier_curves(cat, sc, gpu, ttft_grid_ms=TTFT_GRID) for gpu in sc.hardware]
    hardware = pd.concat(hw, ignore_index=True)
    surface = breakeven_surface(
        fr.setup_for(cat, sc), np.linspace(0.2, 0.97, 12), np.geomspace(25, 900, 12),
        SLO_BINS, sc.workload.output_tokens, queue_servers=sc.queue_servers,
    )
    return {"scenario": sc, "curves": curves, "points": points, "hardware": hardware,
            "surface": surface}


def _walk(node):
    """Every dict in a nested spec."""
    if isinstance(node, dict):
        yield node
        for v in node.values():
            yield from _walk(v)
    elif isinstance(node, list):
        for v in node:
            yield from _walk(v)


def _axis_titles(spec: dict) -> set[str]:
    titles = set()
    for d in _walk(spec):
        for ch in ("x", "y"):
            enc = d.get(ch)
            if isinstance(enc, dict) and isinstance(enc.get("title"), str):
                titles.add(enc["title"])
    return titles


def _title_text(spec: dict) -> str:
    t = spec["title"]
    return t["text"] if isinstance(t, dict) else t


def _subtitle_text(spec: dict) -> str:
    sub = spec["title"].get("subtitle", "")
    return " ".join(sub) if isinstance(sub, list) else sub


def _points_dataset(spec: dict) -> list[dict]:
    """The operating-point marker layer's rows (the error-bar layer holds a subset)."""
    layer = next(lay for lay in spec["layer"] if lay["mark"]["type"] == "point")
    return spec["datasets"][layer["data"]["name"]]


def _has_unit(title: str) -> bool:
    return "[" in title and "]" in title


def _assert_saves(chart, tmp_path, stem):
    paths = charts.save_chart(chart, tmp_path / stem)
    assert [p.suffix for p in paths] == [".png", ".svg"]
    png, svg = (p.read_bytes() for p in paths)
    assert png.startswith(b"\x89PNG") and len(png) > 1000
    assert b"<svg" in svg[:500]
    mask = os.umask(0o022)
    os.umask(mask)
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o666 & ~mask for p in paths)
    # Atomic write leaves no temp files behind.
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{stem}.png", f"{stem}.svg"]


def test_figure1_spec_and_save(inputs, tmp_path):
    chart = charts.figure1_frontier(inputs["curves"], inputs["points"])
    spec = chart.to_dict()
    tpot = inputs["scenario"].slo.tpot_p99_ms
    assert _title_text(spec).startswith("Figure 1")
    assert f"TPOT p99 = {tpot:.0f} ms" in _title_text(spec)
    assert "H100" in _subtitle_text(spec)
    titles = _axis_titles(spec)
    assert "TTFT p99 contract [ms] (log scale)" in titles
    assert any("$ per million SLO-compliant output tokens" in t for t in titles)
    assert all(_has_unit(t) for t in titles)
    # One line per system, markers for every feasible operating point, a DistServe bar.
    datasets = spec["datasets"].values()
    names = {r["name"] for rows in datasets for r in rows if "name" in r}
    assert {p["name"] for p in inputs["points"]} <= names
    marks = [layer["mark"]["type"] if isinstance(layer["mark"], dict) else layer["mark"]
             for layer in spec["layer"]]
    assert {"area", "line", "errorbar", "point"} <= set(marks)
    point_rows = _points_dataset(spec)
    assert len(point_rows) == len(inputs["points"])
    assert [r["pareto_optimal"] for r in point_rows] == [p["pareto_optimal"]
                                                        for p in inputs["points"]]
    assert any(r["pareto_optimal"] for r in point_rows)
    bar = next(rows for rows in datasets if rows and rows[0].get("has_band"))
    assert [r["name"] for r in bar] == ["DistServe"]
    assert bar[0]["cpm_hi"] == pytest.approx(bar[0]["cpm_served_usd_per_mtok"] * 1.1)
    json.dumps(spec, allow_nan=False)  # NaN never leaks into the spec
    _assert_saves(chart, tmp_path, "fig1")


def test_figure1_skips_infeasible_points(inputs):
    pts = [dict(p) for p in inputs["points"]]
    pts[0].update(ttft_p99_ms=None, cpm_served_usd_per_mtok=None, cpm_band_usd_per_mtok=None,
                  pareto_optimal=False)
    spec = charts.figure1_frontier(inputs["curves"], pts, title="custom").to_dict()
    assert _title_text(spec) == "custom"
    point_rows = _points_dataset(spec)
    assert pts[0]["name"] not in {r["name"] for r in point_rows}


def test_figure2_spec_and_save(inputs, tmp_path):
    surface = inputs["surface"]
    chart = charts.figure2_breakeven(surface)
    spec = chart.to_dict()
    assert _title_text(spec).startswith("Figure 2")
    panel_titles = [p["title"]["text"] for p in spec["hconcat"]]
    assert panel_titles == ["(TTFT 200 ms, TPOT 30 ms)", "(TTFT 500 ms, TPOT 50 ms)",
                            "(TTFT 1000 ms, TPOT 80 ms)"]
    titles = _axis_titles(spec)
    assert "Prefill share α [–]" in titles
    assert "KV-link bandwidth B [GB/s] (log scale)" in titles
    assert all(_has_unit(t) for t in titles)
    colour = next(d["color"] for d in _walk(spec) if isinstance(d.get("color"), dict)
                  and d["color"].get("field") == "d")
    lo, hi = colour["scale"]["domain"]
    assert lo == -hi and hi > 0 and colour["scale"]["domainMid"] == 0
    assert "$" in " ".join(colour["title"])
    # Heatmap cells cover every (bin, α, B) exactly once; crossover keeps full resolution.
    cells = next(rows for rows in spec["datasets"].values() if rows and "j0" in rows[0])
    covered = sum(r["j1"] - r["j0"] + 1 for r in cells)
    assert covered == surface.difference_usd_per_mtok.size
    finite = np.isfinite(surface.crossover_bandwidth_gb_s()).sum(axis=1)
    for panel, n_finite in zip(spec["hconcat"], finite, strict=True):
        lines = [lay for lay in panel["layer"] if lay["mark"]["type"] == "line"]
        n_contour = sum(len(spec["datasets"][lay["data"]["name"]]) for lay in lines)
        assert n_contour == n_finite
    json.dumps(spec, allow_nan=False)
    _assert_saves(chart, tmp_path, "fig2")


def test_figure2_downsamples_large_grids(inputs):
    sc = inputs["scenario"]
    cat = Catalog.load()
    big = breakeven_surface(
        fr.setup_for(cat, sc), np.linspace(0.2, 0.97, 150), np.geomspace(25, 900, 150),
        SLO_BINS, sc.workload.output_tokens, queue_servers=sc.queue_servers,
    )
    spec = charts.figure2_breakeven(big, max_cells=40).to_dict()
    cells = next(rows for rows in spec["datasets"].values() if rows and "j0" in rows[0])
    assert max(r["i"] for r in cells) < 40 and max(r["j1"] for r in cells) < 40
    assert len(cells) <= 3 * 40 * 40
    assert len(json.dumps(spec)) < 400_000


def test_figure2_marks_infeasible_cells_grey(inputs):
    s = inputs["surface"]
    co = s.cpm_colocated_usd_per_mtok.copy()
    co[0, :3, :] = np.inf
    broken = type(s)(**{**s.__dict__, "cpm_colocated_usd_per_mtok": co})
    spec = charts.figure2_breakeven(broken).to_dict()
    cells = next(rows for rows in spec["datasets"].values() if rows and "j0" in rows[0])
    assert any(r["k"] == 0 and r["d"] is None for r in cells)
    greys = [d for d in _walk(spec) if isinstance(d.get("mark"), dict)
             and d["mark"].get("color") == "#d9d9d9"]
    assert greys
    json.dumps(spec, allow_nan=False)


def test_figure3_spec_and_save(inputs, tmp_path):
    hw = inputs["hardware"]
    chart = charts.figure3_hardware(hw)
    spec = chart.to_dict()
    assert _title_text(spec).startswith("Figure 3")
    assert spec["facet"]["field"] == "gpu_label"
    panels = spec["facet"]["sort"]
    assert len(panels) == hw["gpu"].nunique() >= 3
    assert panels[:3] == ["A100 SXM4 80GB", "H100 SXM5", "H200 SXM"]
    assert spec["resolve"]["scale"]["y"] == "shared"
    titles = _axis_titles(spec)
    assert "TTFT p99 contract [ms] (log scale)" in titles
    assert all(_has_unit(t) for t in titles)
    json.dumps(spec, allow_nan=False)
    _assert_saves(chart, tmp_path, "fig3")


def test_save_chart_formats_and_errors(inputs, tmp_path):
    chart = charts.figure1_frontier(inputs["curves"], [])
    (out,) = charts.save_chart(chart, tmp_path / "sub" / "only.svg", formats=("svg",))
    assert out == tmp_path / "sub" / "only.svg" and out.stat().st_size > 0
    with pytest.raises(ValueError, match="unsupported"):
        charts.save_chart(chart, tmp_path / "x", formats=("gif",))
    assert not (tmp_path / "x.gif").exists()


def test_log_ticks_stay_inside_range():
    assert charts._log_ticks([100, 3000]) == [100, 200, 300, 500, 1000, 2000, 3000]
    assert charts._log_ticks([float("nan")]) is None
    assert all(150 <= t <= 900 for t in charts._log_ticks([150, 900]))
    assert not any(math.isnan(t) for t in charts._log_ticks([1, 10]))
