"""Frontier engine: the five systems on one slice, their Pareto set, and hardware panels (01 §5).

Thin orchestration over :mod:`costcorrect.serving.decomposition`: it resolves catalog rows
into a :class:`ServingSetup`, gives each published system its architecture knobs, and
evaluates them on the scenario's workload and contract.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from costcorrect.catalog import Catalog, price_label
from costcorrect.errors import InputError
from costcorrect.scenario import Scenario
from costcorrect.serving.breakeven import BreakevenSurface, breakeven_surface, crossover_summary
from costcorrect.serving.decomposition import decompose, prefill_share
from costcorrect.serving.roofline import Efficiency, ServingSetup
from costcorrect.serving.setup import build_setup

#: 01 §4.6: DistServe is scaled from OPT-66B to Llama-2-70B with a ±10 % band.
DISTSERVE_BAND = 0.10
#: 01 §6.2: Figure 1's η sensitivity band.
ETA_BAND = (0.3, 0.8)


def resolve_price(catalog: Catalog, scenario: Scenario, gpu_id: str) -> tuple[float, str]:
    """Price per GPU-hour and where it came from. [$/h]"""
    if scenario.price_usd_per_gpu_hour is not None and gpu_id == scenario.gpu:
        return float(scenario.price_usd_per_gpu_hour), "scenario"
    row = catalog.default_price(gpu_id)
    return float(row["usd_per_gpu_hour"]), price_label(row)


def setup_for(catalog: Catalog, scenario: Scenario, gpu_id: str | None = None) -> ServingSetup:
    gpu_id = gpu_id or scenario.gpu
    price, _ = resolve_price(catalog, scenario, gpu_id)
    eff = scenario.efficiency
    return build_setup(
        catalog.model(scenario.model),
        catalog.gpu(gpu_id),
        scenario.tensor_parallel,
        price,
        weight_dtype=scenario.weight_dtype,
        kv_dtype=scenario.kv_dtype,
        efficiency=Efficiency(eff.mfu, eff.mbu, eff.overhead_ms, eff.memory_fraction),
    )


@dataclass(frozen=True)
class SystemKnobs:
    system: str
    name: str
    architecture: str
    chunk_tokens: float
    bandwidth_gb_s: float
    interconnect: str
    overlap_eta: float


def system_knobs(catalog: Catalog, scenario: Scenario, system_id: str, gpu_id: str) -> SystemKnobs:
    """Architecture knobs of a published system on the scenario's GPU.

    Systems that move KV over intra-node NVLink (``nvlink*`` in the catalog) use the
    NVLink of the GPU being evaluated, so DistServe on H100 rides NVLink 4; others use
    their catalog link. A system without a catalog η gets the scenario's η.
    """
    row = catalog.system(system_id)
    link_id = row.get("interconnect_id")
    if link_id and str(link_id).startswith("nvlink"):
        bw = float(catalog.gpu(gpu_id)["nvlink_bandwidth_gb_s"])
        link = f"{gpu_id} NVLink"
        if system_id == "mooncake":
            # 01 §6.1.3 evaluates Mooncake at B = 900 GB/s whatever the GPU.
            bw, link = float(catalog.interconnect(link_id)["bandwidth_gb_s"]), str(link_id)
    elif link_id:
        bw, link = float(catalog.interconnect(link_id)["bandwidth_gb_s"]), str(link_id)
    else:
        bw, link = np.inf, "none"
    eta = row.get("kv_overlap_eta")
    chunk = row.get("chunk_tokens")
    return SystemKnobs(
        system=system_id,
        name=str(row["name"]),
        architecture=str(row["architecture"]),
        chunk_tokens=float(chunk) if chunk is not None else 512.0,
        bandwidth_gb_s=bw,
        interconnect=link,
        overlap_eta=float(eta) if eta is not None else scenario.overlap_eta,
    )


def _decompose_system(setup, knobs: SystemKnobs, scenario: Scenario, ttft_ms, tpot_ms, eta=None):
    return decompose(
        setup,
        knobs.architecture,
        scenario.workload.prompt_tokens,
        scenario.workload.output_tokens,
        ttft_ms,
        tpot_ms,
        bandwidth_gb_s=knobs.bandwidth_gb_s,
        overlap_eta=knobs.overlap_eta if eta is None else eta,
        chunk_tokens=knobs.chunk_tokens,
        queue_servers=scenario.queue_servers,
        token_convention=scenario.token_convention,
    )


def pareto_mask(ttft_ms, cpm) -> np.ndarray:
    """True where no other point is at least as good on both axes and better on one."""
    t = np.asarray(ttft_ms, dtype=float)
    c = np.asarray(cpm, dtype=float)
    finite = np.isfinite(t) & np.isfinite(c)
    le = (t[None, :] <= t[:, None] * (1 + 1e-9)) & (c[None, :] <= c[:, None] * (1 + 1e-9))
    lt = (t[None, :] < t[:, None] * (1 - 1e-9)) | (c[None, :] < c[:, None] * (1 - 1e-9))
    dominated = (le & lt & finite[None, :]).any(axis=1)
    return finite & ~dominated


def _f(x) -> float | None:
    v = float(np.asarray(x))
    return v if np.isfinite(v) else None


#: Cost differences below this share are ties: they are inside the model's numerical and
#: calibration noise (the η band alone moves P/D costs by more), so they decide nothing.
PARETO_TOLERANCE = 0.005


def frontier_points(
    catalog: Catalog, scenario: Scenario, gpu_id: str | None = None, tolerance: float = PARETO_TOLERANCE
) -> list[dict]:
    """One operating point per system at the scenario's contract, with Pareto flags.

    A point is dominated when another system, held to this point's achieved p99 TTFT as
    its contract, serves for more than ``tolerance`` less.
    """
    gpu_id = gpu_id or scenario.gpu
    setup = setup_for(catalog, scenario, gpu_id)
    points = []
    knobs_of = {s: system_knobs(catalog, scenario, s, gpu_id) for s in scenario.systems}
    for system_id in scenario.systems:
        knobs = knobs_of[system_id]
        d = _decompose_system(setup, knobs, scenario, scenario.slo.ttft_p99_ms, scenario.slo.tpot_p99_ms)
        op = d.operating_point
        cpm = _f(d.cpm_served_usd_per_mtok)
        band = DISTSERVE_BAND if system_id == "distserve" else 0.0
        points.append({
            "system": system_id,
            "name": knobs.name,
            "architecture": knobs.architecture,
            "gpu": gpu_id,
            "feasible": bool(np.asarray(op.feasible)),
            "ttft_p99_ms": _f(op.ttft_p99_s * 1e3) if cpm is not None else None,
            "tpot_p99_ms": _f(op.tpot_p99_s * 1e3) if cpm is not None else None,
            "cpm_served_usd_per_mtok": cpm,
            "cpm_band_usd_per_mtok": [cpm * (1 - band), cpm * (1 + band)] if cpm else None,
            "prefill_term_usd_per_mtok": _f(d.prefill_term_usd_per_mtok),
            "decode_term_usd_per_mtok": _f(d.decode_term_usd_per_mtok),
            "tau_kv_usd_per_mtok": _f(d.tau_kv_usd_per_mtok),
            "sigma_co_usd_per_mtok": _f(d.sigma_co_usd_per_mtok),
            "decode_batch": _f(op.decode_batch),
            "prefill_utilization": _f(op.prefill_utilization),
            "interconnect": knobs.interconnect,
            "bandwidth_gb_s": _f(knobs.bandwidth_gb_s),
            "overlap_eta": knobs.overlap_eta if knobs.architecture == "disaggregated" else None,
            "chunk_tokens": knobs.chunk_tokens if knobs.architecture == "chunked" else None,
        })
    # A point is dominated when another system, held to this point's achieved TTFT as its
    # contract, serves for less: its operating point then has TTFT <= ours and lower cost.
    # Comparing only the five operating points would reward a system for under-using a
    # loose contract (01 §5.1 plots the envelope of the curves, not of the points).
    for p in points:
        p["pareto_optimal"] = False
        p["dominated_by"] = None
        if p["cpm_served_usd_per_mtok"] is None:
            continue
        cheaper = []
        for q in points:
            if q is p:
                continue
            c = _decompose_system(setup, knobs_of[q["system"]], scenario, p["ttft_p99_ms"],
                                  scenario.slo.tpot_p99_ms).cpm_served_usd_per_mtok
            if np.isfinite(c) and c < p["cpm_served_usd_per_mtok"] * (1 - tolerance):
                cheaper.append(q["system"])
        p["pareto_optimal"] = not cheaper
        p["dominated_by"] = cheaper or None
    return points


def frontier_curves(
    catalog: Catalog, scenario: Scenario, gpu_id: str | None = None, ttft_grid_ms=None
) -> pd.DataFrame:
    """CPM_served of each system as the TTFT contract varies at the scenario's TPOT (Fig. 1).

    Disaggregated systems carry the η ∈ [0.3, 0.8] band of 01 §6.2 as ``cpm_lo``/``cpm_hi``.
    """
    gpu_id = gpu_id or scenario.gpu
    setup = setup_for(catalog, scenario, gpu_id)
    grid = np.geomspace(100.0, 3000.0, 60) if ttft_grid_ms is None else np.asarray(ttft_grid_ms)
    tpot = scenario.slo.tpot_p99_ms
    frames = []
    for system_id in scenario.systems:
        knobs = system_knobs(catalog, scenario, system_id, gpu_id)
        cpm = _decompose_system(setup, knobs, scenario, grid, tpot).cpm_served_usd_per_mtok
        lo = hi = cpm
        if knobs.architecture == "disaggregated":
            lo = _decompose_system(setup, knobs, scenario, grid, tpot, eta=ETA_BAND[1]).cpm_served_usd_per_mtok
            hi = _decompose_system(setup, knobs, scenario, grid, tpot, eta=ETA_BAND[0]).cpm_served_usd_per_mtok
        frames.append(pd.DataFrame({
            "system": system_id, "name": knobs.name, "architecture": knobs.architecture,
            "gpu": gpu_id, "ttft_p99_ms": grid, "tpot_p99_ms": tpot,
            "cpm_served_usd_per_mtok": cpm, "cpm_lo_usd_per_mtok": lo, "cpm_hi_usd_per_mtok": hi,
        }))
    df = pd.concat(frames, ignore_index=True)
    return df.replace([np.inf, -np.inf], np.nan)


def hardware_curves(catalog: Catalog, scenario: Scenario) -> pd.DataFrame:
    """Figure 1 repeated for each GPU in ``scenario.hardware`` (Figure 3)."""
    frames = []
    for gpu_id in scenario.hardware:
        try:
            frames.append(frontier_curves(catalog, scenario, gpu_id))
        except InputError as exc:
            if exc.field != "weight_dtype":
                raise
    return pd.concat(frames, ignore_index=True)


def scenario_breakeven(
    catalog: Catalog, scenario: Scenario, gpu_id: str | None = None,
    alpha_steps: int | None = None, bandwidth_steps: int | None = None,
) -> BreakevenSurface:
    """The scenario's break-even grid (01 §5.2) on one GPU; colocation uses Sarathi-Serve's chunk."""
    gpu_id = gpu_id or scenario.gpu
    g = scenario.breakeven
    has_sarathi = "sarathi-serve" in set(catalog.table("systems")["id"])
    chunk = system_knobs(catalog, scenario, "sarathi-serve", gpu_id).chunk_tokens if has_sarathi else 512.0
    return breakeven_surface(
        setup_for(catalog, scenario, gpu_id),
        np.linspace(g.alpha_min, g.alpha_max, alpha_steps or g.alpha_steps),
        np.geomspace(g.bandwidth_min_gb_s, g.bandwidth_max_gb_s, bandwidth_steps or g.bandwidth_steps),
        [(b.ttft_p99_ms, b.tpot_p99_ms) for b in scenario.slo_bins],
        scenario.workload.output_tokens,
        overlap_eta=scenario.overlap_eta,
        chunk_tokens=chunk,
        queue_servers=scenario.queue_servers,
        token_convention=scenario.token_convention,
    )


def workload_alpha(scenario: Scenario) -> float:
    return float(prefill_share(scenario.workload.prompt_tokens, scenario.workload.output_tokens))


def frontier_summary(catalog: Catalog, scenario: Scenario, points: list[dict] | None = None,
                     surface: BreakevenSurface | None = None) -> dict:
    """The numbers of ``costcorrect frontier --json`` (the CLI adds its ``figures``), shared with the
    web explorer's API. ``points`` and ``surface`` may be passed when the caller already has them."""
    sc = scenario
    points = frontier_points(catalog, sc) if points is None else points
    surface = scenario_breakeven(catalog, sc, sc.gpu) if surface is None else surface
    price, price_source = resolve_price(catalog, sc, sc.gpu)
    return {
        "scenario": sc.name, "model": sc.model, "gpu": sc.gpu, "tensor_parallel": sc.tensor_parallel,
        "price_usd_per_gpu_hour": price, "price_source": price_source,
        "workload": sc.workload.model_dump(), "alpha": workload_alpha(sc),
        "slo": sc.slo.model_dump(), "token_convention": sc.token_convention,
        "queue_servers": sc.queue_servers, "points": points,
        "breakeven": crossover_summary(surface),
        "engine": "closed-form",
    }
