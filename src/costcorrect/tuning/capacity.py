"""Capacity of one deployment at several SLO bins from shared simulations.

For each bin b the capacity is the highest arrival rate whose SLO attainment stays
≥ ``target`` — the quantity :func:`costcorrect.simulator.find_capacity` bisects for
one contract. Here one probe (a simulation at one rate, its per-request records read
back) scores *every* bin with the measured-mode arithmetic
(:mod:`costcorrect.measure.metrics`; goodput in the simulator's open-loop definition,
arrival rate × compliant tokens per request), so the bins' searches share probes. Each bin:
bracket by doubling/halving from the closed-form capacity estimate (or the scenario's
rate), then bisect until (hi − lo)/hi ≤ ``rel_tol``; every probe reuses the scenario's
seed (common random numbers), as ``find_capacity`` does. Below ``start / 64`` a bin
is declared to have no capacity (the contract is missed even at a trickle).

The closed-form estimate beside it is paper 01's operating point for the same setup
(:func:`costcorrect.serving.decomposition.decompose`) at the workload's mean lengths.
"""

from __future__ import annotations

import math
import time

import numpy as np

from costcorrect.measure.metrics import (
    goodput_tokens_per_s,
    nearest_rank_quantile,
    request_slo_met,
    request_tokens,
    steady_goodput_tokens_per_s,
)
from costcorrect.serving.decomposition import cpm_served_usd_per_mtok, decompose

GROW = 2.0
MIN_RATE_RATIO = 1.0 / 64.0


def workload_means(sc) -> tuple[float | None, float | None]:
    """Mean prompt and output lengths of a synthetic workload. [tokens] (None: unknown)"""
    wl = sc.workload
    if wl.arrival == "trace":
        return None, None

    def mean(d):
        if d.dist in ("fixed", "uniform", "lognormal") and d.mean is not None:
            return float(min(max(d.mean, d.min), d.max))
        if d.dist == "empirical" and d.values:
            return float(np.mean(d.values))
        return None

    return mean(wl.prompt_tokens), mean(wl.output_tokens)


def closed_form(sc, setup, bins: list[dict]) -> list[dict]:
    """Paper-01 closed-form CPM_served and the capacity it implies, per bin."""
    p, d = workload_means(sc)
    if p is None or d is None:
        return [{"cpm_usd_per_mtok": None, "rate_per_s": None} for _ in bins]
    arch = sc.architecture
    servers = sc.prefill_instances if arch == "disaggregated" else sc.replicas
    t = np.array([b["ttft_p99_ms"] for b in bins], dtype=float)
    u = np.array([b["tpot_p99_ms"] for b in bins], dtype=float)
    dec = decompose(setup, arch, p, d, t, u, bandwidth_gb_s=sc.kv_bandwidth_gb_s, overlap_eta=sc.overlap_eta,
                    chunk_tokens=sc.chunk_tokens, queue_servers=servers, token_convention=sc.token_convention)
    cpm = np.broadcast_to(np.asarray(dec.cpm_served_usd_per_mtok, dtype=float), t.shape)
    tokens_per_request = d + (p if sc.token_convention == "prompt+output" else 0.0)
    out = []
    for c in cpm:
        if np.isfinite(c) and c > 0:
            goodput = setup.price_usd_per_gpu_hour * sc.num_gpus * 1e6 / (3600.0 * c)
            out.append({"cpm_usd_per_mtok": float(c), "rate_per_s": goodput / tokens_per_request})
        else:
            out.append({"cpm_usd_per_mtok": None, "rate_per_s": None})
    return out


def score_records(cols: dict, bins: list[dict], price: float, num_gpus: int, convention: str) -> dict:
    """Per-bin attainment, goodput and CPM_served of one probe's records."""
    arr, fin = cols["arrival_s"], cols["finish_s"]
    duration = float(fin.max() - arr.min())
    ok = np.ones(arr.size, dtype=bool)
    tokens = request_tokens(cols["prompt_tokens"], cols["output_tokens"], convention)
    per_bin = []
    for b in bins:
        met = request_slo_met(cols["ttft_ms"], cols["tpot_ms"], ok, b["ttft_p99_ms"], b["tpot_p99_ms"])
        g = steady_goodput_tokens_per_s(tokens, met, arr)
        if g is None:  # one request, or all at once: fall back to tokens / makespan
            g = goodput_tokens_per_s(tokens, met, duration) if duration > 0 else 0.0
        per_bin.append({"slo_attainment": float(met.mean()), "goodput_tokens_per_s": g,
                        "cpm_served_usd_per_mtok": float(cpm_served_usd_per_mtok(price, num_gpus, g)) if g > 0
                        else None})
    q = nearest_rank_quantile
    return {"per_bin": per_bin, "ttft_p50_ms": q(cols["ttft_ms"], 0.5), "ttft_p99_ms": q(cols["ttft_ms"], 0.99),
            "tpot_p50_ms": q(cols["tpot_ms"], 0.5), "tpot_p99_ms": q(cols["tpot_ms"], 0.99),
            "e2e_p99_ms": q(cols["e2e_ms"], 0.99), "duration_s": duration}


def _interp_rate(lo: float, a_lo: float, hi: float, a_hi: float, target: float, floor_miss: float) -> float:
    """Where the miss rate 1 − a crosses 1 − target, interpolating log(1 − a) in rate.

    Near the knee the miss rate grows roughly exponentially with load, so a log scale
    puts the guess near the crossing; clamped to the bracket's middle 70 %.
    """
    m_lo, m_hi, m_t = (math.log(max(1.0 - a, floor_miss)) for a in (a_lo, a_hi, target))
    frac = 0.5 if m_hi <= m_lo else (m_t - m_lo) / (m_hi - m_lo)
    return lo + (hi - lo) * min(max(frac, 0.15), 0.85)


def search_bins(probe, n_bins: int, start_rate: float, target: float, rel_tol: float,
                max_probes: int = 60, floor_miss: float = 1e-4) -> tuple[list[float | None], dict]:
    """Per-bin capacity [req/s] by bracketing and guided bisection over a shared probe cache.

    ``probe(rate)`` returns a list of per-bin attainments. The first probe is at
    ``start_rate``; a bin that misses it is checked once at the floor ``start/64``
    (shared by all bins) before halving down. Inside a bracket [lo, hi] the next
    probes are a pair ``x(1 ∓ 0.45 rel_tol)`` around the interpolated crossing ``x``;
    when the pair straddles the target the bracket is closed in two probes. Returns the
    capacities (``None`` where even the floor misses) and the cache ``{rate: attainments}``.
    """
    cache: dict[float, list[float]] = {}

    def att(rate: float) -> list[float]:
        if rate not in cache:
            cache[rate] = probe(rate)
        return cache[rate]

    caps: list[float | None] = []
    floor = start_rate * MIN_RATE_RATIO
    w = 0.45 * rel_tol
    for b in range(n_bins):
        cap = None
        while len(cache) < max_probes:
            failing = [r for r, a in cache.items() if a[b] < target]
            hi = min(failing) if failing else math.inf
            passing = [r for r, a in cache.items() if a[b] >= target and r < hi]
            lo = max(passing) if passing else 0.0
            if lo == 0.0 and math.isinf(hi):
                att(start_rate)
            elif math.isinf(hi):
                att(lo * GROW)
            elif lo == 0.0:
                if floor not in cache:
                    att(floor)
                    continue
                nxt = hi / GROW
                if nxt <= floor:
                    break
                att(nxt)
            elif (hi - lo) / hi <= rel_tol:
                cap = lo
                break
            else:
                x = _interp_rate(lo, cache[lo][b], hi, cache[hi][b], target, floor_miss)
                x1, x2 = x * (1 - w), x * (1 + w)
                if lo < x1 and x2 < hi and (hi - lo) / hi > 2.5 * rel_tol:
                    if att(x1)[b] >= target:
                        att(x2)
                else:
                    att(0.5 * (lo + hi))
        else:  # probe budget spent: report the best bracket so far
            passing = [r for r, a in cache.items() if a[b] >= target]
            cap = max(passing) if passing else None
        caps.append(cap)
    return caps, cache


def evaluate_config(sc, catalog, bins: list[dict], *, target: float, rel_tol: float) -> dict:
    """Capacity, CPM_served (simulated) and the closed-form estimate of one deployment per bin."""
    from costcorrect.simulator import build_deployment, simulate

    t0 = time.perf_counter()
    dep = build_deployment(sc, catalog)
    cf = closed_form(sc, dep.setup, bins)
    loosest = max(range(len(bins)), key=lambda i: (bins[i]["ttft_p99_ms"], bins[i]["tpot_p99_ms"]))
    start = cf[loosest]["rate_per_s"] or sc.workload.rate_per_s or 1.0
    scores: dict[float, dict] = {}
    meta = {}
    def probe(rate: float) -> list[float]:
        wl = sc.workload.model_copy(update={"rate_per_s": float(rate)})
        res = simulate(sc.model_copy(update={"workload": wl}), catalog, keep_records=True)
        meta.setdefault("price", res.summary["price_usd_per_gpu_hour"])
        meta.setdefault("price_source", res.summary["price_source"])
        frame = res.records_frame
        cols = {c: frame[c].to_numpy() for c in frame.columns}
        s = score_records(cols, bins, meta["price"], sc.num_gpus, sc.token_convention)
        scores[rate] = s
        return [pb["slo_attainment"] for pb in s["per_bin"]]

    caps, _ = search_bins(probe, len(bins), float(start), target, rel_tol)
    out = []
    for i, (b, cap) in enumerate(zip(bins, caps, strict=True)):
        row = {"slo_ttft_p99_ms": b["ttft_p99_ms"], "slo_tpot_p99_ms": b["tpot_p99_ms"],
               "capacity_rate_per_s": cap, "cpm_closed_form_usd_per_mtok": cf[i]["cpm_usd_per_mtok"],
               "capacity_closed_form_rate_per_s": cf[i]["rate_per_s"]}
        if cap is None:
            row.update(status="no-capacity", note=f"attainment < {target:g} even at {start * MIN_RATE_RATIO:.3g} req/s",
                       cpm_served_usd_per_mtok=None, goodput_tokens_per_s=None, slo_attainment=None,
                       ttft_p50_ms=None, ttft_p99_ms=None, tpot_p50_ms=None, tpot_p99_ms=None, e2e_p99_ms=None)
        else:
            s = scores[cap]
            pb = s["per_bin"][i]
            row.update(status="ok", note=None, cpm_served_usd_per_mtok=pb["cpm_served_usd_per_mtok"],
                       goodput_tokens_per_s=pb["goodput_tokens_per_s"], slo_attainment=pb["slo_attainment"],
                       ttft_p50_ms=s["ttft_p50_ms"], ttft_p99_ms=s["ttft_p99_ms"], tpot_p50_ms=s["tpot_p50_ms"],
                       tpot_p99_ms=s["tpot_p99_ms"], e2e_p99_ms=s["e2e_p99_ms"])
        out.append(row)
    return {"rows": out, "probes": len(scores), "price_usd_per_gpu_hour": meta.get("price", dep.price_usd_per_gpu_hour),
            "price_source": meta.get("price_source", dep.price_source), "num_gpus": sc.num_gpus,
            "wall_s": time.perf_counter() - t0}
