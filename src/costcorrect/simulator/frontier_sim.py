"""The simulator inside the frontier: simulated curves and terms beside the closed form (01 §4–5).

- :func:`simulated_curves` — for each architecture, a sweep of the arrival rate on a fixed
  deployment (``queue_servers`` TP replicas, the paper-01 scenario's instance count). Each
  rate gives one point: x = simulated TTFT p99, y = CPM_served counting the tokens of
  requests that met the TPOT bound. The lower-left envelope of a curve is the cost at a
  TTFT contract, the simulated analogue of Figure 1's closed-form lines. Loads where fewer
  than 99 % of requests meet TPOT are dropped (the contract is broken there).
- :func:`simulated_terms` — capacity-based CPM_served at the scenario's contract for
  colocated, chunked and disaggregated (best integer P:D split of the same instances),
  with KV link B and with an ideal link, giving σ_co,sim = CPM_co − CPM_P/D(B=∞) and
  τ_KV,sim = CPM_P/D(B) − CPM_P/D(B=∞), beside :func:`~costcorrect.serving.decomposition.decompose`.

Workload: lognormal prompt/output lengths (CV 1) with the scenario's means, Poisson arrivals.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from costcorrect.catalog import Catalog
from costcorrect.scenario import Scenario
from costcorrect.serving.decomposition import decompose
from costcorrect.serving.frontier import setup_for
from costcorrect.simulator.config import SimScenario
from costcorrect.simulator.run import find_capacity, simulate

IDEAL_LINK_GB_S = 1e6  # "B = ∞" for the phase-cost reference [GB/s]
DEFAULT_LINK_GB_S = 50.0  # 400 Gb/s InfiniBand NDR / RoCE, catalog `ib-ndr-400g` [GB/s]


def sim_scenario_for(sc: Scenario, architecture: str, *, num_requests: int = 1500, instances: int | None = None,
                     kv_bandwidth_gb_s: float = DEFAULT_LINK_GB_S, prefill_instances: int | None = None,
                     chunk_tokens: int = 512, seed: int = 0) -> SimScenario:
    """A simulator scenario matching a paper-01 scenario's model, GPU, price, contract and mix."""
    n = instances or sc.queue_servers
    p_inst = prefill_instances or max(1, n // 2)
    e = sc.efficiency
    return SimScenario(
        name=f"{sc.name}-{architecture}", model=sc.model, gpu=sc.gpu, tensor_parallel=sc.tensor_parallel,
        architecture=architecture, replicas=n, chunk_tokens=chunk_tokens,
        prefill_instances=p_inst, decode_instances=max(1, n - p_inst), kv_bandwidth_gb_s=kv_bandwidth_gb_s,
        overlap_eta=sc.overlap_eta, weight_dtype=sc.weight_dtype, kv_dtype=sc.kv_dtype,
        price_usd_per_gpu_hour=sc.price_usd_per_gpu_hour, token_convention=sc.token_convention,
        workload={"arrival": "poisson", "rate_per_s": 1.0, "num_requests": num_requests,
                  "prompt_tokens": {"dist": "lognormal", "mean": sc.workload.prompt_tokens, "cv": 1.0,
                                    "max": 32_768},
                  "output_tokens": {"dist": "lognormal", "mean": sc.workload.output_tokens, "cv": 1.0,
                                    "max": 16_384}},
        slo={"ttft_p99_ms": sc.slo.ttft_p99_ms, "tpot_p99_ms": sc.slo.tpot_p99_ms},
        efficiency={"mfu": e.mfu, "mbu": e.mbu, "overhead_ms": e.overhead_ms, "memory_fraction": e.memory_fraction},
        catalog_overlay=sc.catalog_overlay, seed=seed,
    )


#: Chunk sizes searched for the chunked architecture (Sarathi-Serve's 512 and larger budgets).
CHUNK_CANDIDATES = (512, 1024, 2048)


def best_chunk(sim: SimScenario, catalog: Catalog, *, rel_tol: float = 0.05,
               candidates=CHUNK_CANDIDATES) -> tuple[int, dict]:
    """The chunk budget with the most capacity at the contract (a knob a deployment tunes)."""
    best = (0, None, -1.0)
    for chunk in candidates:
        res = find_capacity(sim.model_copy(update={"chunk_tokens": chunk}), catalog, rel_tol=rel_tol)
        rate = res["rate_per_s"] or 0.0
        if rate > best[2]:
            best = (chunk, res, rate)
    return best[0], best[1]


def best_split(sim: SimScenario, catalog: Catalog, *, rel_tol: float = 0.05, splits=None) -> tuple[int, dict]:
    """The prefill:decode split of ``prefill_instances + decode_instances`` with the most capacity."""
    total = sim.prefill_instances + sim.decode_instances
    best = (0, None, -1.0)
    for p in splits or range(1, total):
        s = sim.model_copy(update={"prefill_instances": p, "decode_instances": total - p})
        res = find_capacity(s, catalog, rel_tol=rel_tol)
        rate = res["rate_per_s"] or 0.0
        if rate > best[2]:
            best = (p, res, rate)
    return best[0], best[1]


LOAD_FRACTIONS = (0.15, 0.3, 0.45, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1)


def simulated_curves(sc: Scenario, catalog: Catalog, terms: dict | None = None, *,
                     num_requests: int = 1500) -> pd.DataFrame:
    """Rate sweeps per architecture: TTFT p99 [ms] and CPM_served [$/MTok] at each load.

    Each architecture runs in the configuration :func:`simulated_terms` found best (chunk
    budget, P:D split) at loads from 15 % to 110 % of its capacity at the contract.
    """
    terms = terms or simulated_terms(sc, catalog, num_requests=num_requests)
    rows = []
    for arch in ("colocated", "chunked", "disaggregated"):
        info = terms["architectures"][arch]
        cap = info["capacity_rate_per_s"]
        if not cap:
            continue
        sim = sim_scenario_for(sc, arch, num_requests=num_requests, chunk_tokens=info.get("chunk_tokens") or 512,
                               prefill_instances=info.get("prefill_instances"),
                               kv_bandwidth_gb_s=terms["kv_bandwidth_gb_s"])
        # TPOT-only contract: x is the measured TTFT tail, so TTFT must not filter y.
        sim = sim.model_copy(update={"slo": sim.slo.model_copy(update={"ttft_p99_ms": 3_600_000})})
        for frac in LOAD_FRACTIONS:
            rate = cap * frac
            s = simulate(sim.model_copy(update={"workload": sim.workload.model_copy(update={"rate_per_s": rate})}),
                         catalog).summary
            if s["slo_attainment"] < 0.99:
                break
            rows.append({"architecture": arch, "series": f"simulated {arch}", "rate_per_s": rate,
                         "load_fraction": frac, "chunk_tokens": info.get("chunk_tokens"),
                         "prefill_instances": info.get("prefill_instances"),
                         "ttft_p99_ms": s["ttft_ms"]["p99"], "tpot_p99_ms": s["tpot_ms"]["p99"],
                         "cpm_served_usd_per_mtok": s["cpm_served_usd_per_mtok"], "num_gpus": s["num_gpus"]})
    return pd.DataFrame(rows)


def simulated_terms(sc: Scenario, catalog: Catalog, *, num_requests: int = 1500,
                    kv_bandwidth_gb_s: float = DEFAULT_LINK_GB_S) -> dict:
    """σ_co and τ_KV from simulated capacities at the scenario's contract, with the closed form's."""
    out: dict = {"kv_bandwidth_gb_s": kv_bandwidth_gb_s, "instances": sc.queue_servers,
                 "tensor_parallel": sc.tensor_parallel, "num_requests": num_requests, "architectures": {}}
    cpm = {}
    for arch in ("colocated", "chunked"):
        sim = sim_scenario_for(sc, arch, num_requests=num_requests)
        if arch == "chunked":
            chunk, res = best_chunk(sim, catalog)
        else:
            chunk, res = None, find_capacity(sim, catalog)
        cpm[arch] = _cpm(res)
        out["architectures"][arch] = {"capacity_rate_per_s": res["rate_per_s"], "cpm_served_usd_per_mtok": cpm[arch],
                                      "chunk_tokens": chunk}
    for label, bw in (("disaggregated", kv_bandwidth_gb_s), ("disaggregated_ideal_link", IDEAL_LINK_GB_S)):
        sim = sim_scenario_for(sc, "disaggregated", num_requests=num_requests, kv_bandwidth_gb_s=bw)
        p, res = best_split(sim, catalog)
        cpm[label] = _cpm(res)
        out["architectures"][label] = {"capacity_rate_per_s": res["rate_per_s"], "cpm_served_usd_per_mtok": cpm[label],
                                       "prefill_instances": p, "decode_instances": sim.replicas - p,
                                       "kv_bandwidth_gb_s": bw}
    ref = cpm["disaggregated_ideal_link"]
    setup = setup_for(catalog, sc)
    wl = sc.workload

    def closed(arch: str, bw: float):
        return decompose(setup, arch, wl.prompt_tokens, wl.output_tokens, sc.slo.ttft_p99_ms, sc.slo.tpot_p99_ms,
                         bandwidth_gb_s=bw, overlap_eta=sc.overlap_eta, chunk_tokens=512,
                         queue_servers=sc.queue_servers, token_convention=sc.token_convention)

    out["sigma_co_usd_per_mtok"] = {
        arch: {"simulated": _diff(cpm[arch], ref),
               "closed_form": float(closed(arch, math.inf).sigma_co_usd_per_mtok)}
        for arch in ("colocated", "chunked")}
    out["tau_kv_usd_per_mtok"] = {
        "simulated": _diff(cpm["disaggregated"], ref),
        "closed_form": float(closed("disaggregated", kv_bandwidth_gb_s).tau_kv_usd_per_mtok)}
    return out


def config_label(row: dict) -> str:
    """How a :func:`simulated_terms` architecture row was configured, for tables."""
    if row.get("chunk_tokens"):
        return f"chunk {row['chunk_tokens']}"
    if "prefill_instances" in row:
        return f"{row['prefill_instances']}P:{row['decode_instances']}D, {row['kv_bandwidth_gb_s']:g} GB/s"
    return ""


def _cpm(res: dict) -> float | None:
    s = res.get("summary")
    return None if s is None else s["cpm_served_usd_per_mtok"]


def _diff(a, b):
    if a is None or b is None or not (np.isfinite(a) and np.isfinite(b)):
        return None
    return float(a - b)
