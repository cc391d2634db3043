"""Measured validation (issue 14 §7): rebuild measured serving runs, simulate them, report errors.

Pipeline
--------
1. :func:`costcorrect.serving.measured.rebuild_rows` turns each row of a file in the
   measured format into scenario fields (or a skip reason).
2. :func:`scenario_for` makes a :class:`SimScenario` of it: the row's engine profile, its
   precision, parallel layout, a closed loop at the client concurrency with fixed ISL/OSL.
3. :func:`predict` simulates every scenario (closed-loop fast path where it applies,
   :mod:`costcorrect.simulator.steady_state`; otherwise :func:`simulate`) and compares the
   simulated **mean** TTFT and TPOT with the measured ones. A row the simulator cannot
   build (the model does not fit, a request longer than the KV cache, ...) is skipped with
   the reason, never dropped.
4. :func:`fit_profiles` fits each engine's efficiency parameters
   (:data:`costcorrect.simulator.profiles.FITTED_KEYS`) by least squares on
   ``log(pred / measured)`` of TTFT and TPOT over that engine's single-pool rows, and
   :func:`cross_validate` refits with each model left out in turn (leave-one-model-out),
   so the published error is not a training-set number.

Why fitting is cheap: for a single-pool closed loop the order of iterations and what each
contains does not depend on the efficiency parameters (arrivals come only when a request
finishes, i.e. at iteration boundaries), so one simulation per row records the schedule
(:class:`steady_state.Trace`) and every mean TTFT/TPOT is an exact linear functional of
iteration durations, each ``max(FLOPs / (N F mfu), bytes / (N H mbu)) + comm + calls
latency + overhead``. :func:`trace_predict` evaluates all rows at new parameters in
milliseconds, and :func:`predict` checks the result against the real simulation.
Disaggregated rows depend on KV-transfer timing, so they are simulated, not fitted.

Error convention: ``100 |pred / measured - 1|`` per row; MAPE = their mean. [%]
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from costcorrect.catalog import Catalog
from costcorrect.errors import InputError
from costcorrect.serving.measured import MeasuredRow, rebuild_rows
from costcorrect.simulator import profiles
from costcorrect.simulator.config import SimScenario, sim_scenario_from_dict
from costcorrect.simulator.predictor import RooflinePredictor
from costcorrect.simulator.run import build_deployment, simulate
from costcorrect.simulator.steady_state import fast_path_applies, run_closed_loop

#: Parameter bounds for the fit: (low, high) of mbu, mfu [-], overhead_ms [ms], comm_latency_us [us].
BOUNDS = {"mbu": (0.05, 1.0), "mfu": (0.02, 1.0), "overhead_ms": (0.0, 100.0), "comm_latency_us": (0.0, 200.0)}
#: Fitted engines (``generic`` stays unfitted).
FIT_ENGINES = ("vllm", "sglang", "trtllm")


def file_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def scenario_for(built: dict, catalog: Catalog, efficiency: dict | None = None) -> SimScenario:
    """A closed-loop :class:`SimScenario` for one rebuilt measured row.

    Disaggregated rows use ``prefill_num_workers``/``decode_num_workers`` as instance
    counts and a KV link of NVLink (half the bidirectional figure, per prefill worker) when
    every worker fits in one NVLink domain, else one 400 Gb/s NIC (50 GB/s) per prefill GPU
    (the file does not record the transfer path; an assumption, stated).
    """
    prec = {k: v for k, v in built["precision"].items() if k in ("weights", "kv_cache", "scope", "fp4_format")}
    kv_default = profiles.scheduler_defaults(built["engine"]).get("kv_cache_with_quantized_weights")
    if kv_default and prec.get("weights") in ("fp8", "fp4"):
        # The file does not record the KV dtype; the engine's default for a quantized
        # checkpoint is used (TensorRT-LLM/ModelOpt FP8 and NVFP4 checkpoints carry an FP8 KV cache).
        prec["kv_cache"] = kv_default
    doc: dict = {
        "name": str(built["id"]),
        "model": built["model"],
        "gpu": built["gpu"],
        "engine": built["engine"],
        "precision": prec,
        "tensor_parallel": built["tensor_parallel"],
        "expert_parallel": built["expert_parallel"],
        "attention_data_parallel": built["attention_data_parallel"],
        "moe_tensor_parallel": built["moe_tensor_parallel"],
        "workload": dict(built["workload"]),
        "slo": {"ttft_p99_ms": 3_600_000, "tpot_p99_ms": 600_000},
    }
    wl = doc["workload"]
    conc = int(wl["concurrency"])
    doc["max_batch_requests"] = max(conc, 1)  # the client caps what runs; the engines' caps are above it
    if built["architecture"] == "disaggregated":
        doc["architecture"] = "disaggregated"
        for role in ("prefill", "decode"):
            for k in ("tensor_parallel", "expert_parallel", "attention_data_parallel", "moe_tensor_parallel"):
                doc[f"{role}_{k}"] = built[f"{role}_{k}"]
        doc["prefill_instances"] = built["prefill_num_workers"]
        doc["decode_instances"] = built["decode_num_workers"]
        gpu = catalog.gpu(built["gpu"])
        gp, gd = built["prefill_gpus_per_worker"], built["decode_gpus_per_worker"]
        total = built["prefill_num_workers"] * gp + built["decode_num_workers"] * gd
        domain = int(float(gpu.get("nvlink_domain_gpus") or 8))
        doc["kv_bandwidth_gb_s"] = (float(gpu["nvlink_bandwidth_gb_s"]) / 2.0 if total <= domain else 50.0 * gp)
    else:
        doc["architecture"] = "colocated"
    if efficiency:
        doc["efficiency"] = dict(efficiency)
    return sim_scenario_from_dict(doc, f"measured row {built['id']}")


@dataclass
class RowPlan:
    """A measured row ready to simulate: its scenario, deployment and measured values."""

    built: dict
    scenario: SimScenario
    deployment: object
    group: tuple  # (model, system, engine, mode)


def prepare(rows: list[MeasuredRow], catalog: Catalog) -> tuple[list[RowPlan], list[dict]]:
    """Rebuild and build every row; ``(plans, skipped[{id, reason}])``, every row in one list."""
    built, skipped = rebuild_rows(rows, known_models=set(catalog.table("models")["id"]))
    plans: list[RowPlan] = []
    for b in built:
        try:
            sc = scenario_for(b, catalog)
            dep = build_deployment(sc, catalog)
            if sc.architecture != "disaggregated":
                need = b["workload"]["prompt_tokens"]["mean"] + b["workload"]["output_tokens"]["mean"]
                if need > dep.kv_blocks * sc.block_size_tokens:
                    raise InputError("request tokens", need,
                                     f"<= {dep.kv_blocks * sc.block_size_tokens} (KV cache of the replica)")
        except InputError as exc:
            skipped.append({"id": b["id"], "reason": f"cannot simulate: {exc}"})
            continue
        src = b["source"]
        plans.append(RowPlan(b, sc, dep, (b["model"], src["system"], b["engine"], src["mode"])))
    order = {r.id: i for i, r in enumerate(rows)}
    skipped.sort(key=lambda s: order.get(s["id"], 0))
    return plans, skipped


def _simulate_plan(p: RowPlan, catalog: Catalog, efficiency: dict | None = None) -> tuple[float, float]:
    """Simulated mean TTFT and mean TPOT of one row. [ms]"""
    sc, dep = p.scenario, p.deployment
    if efficiency:
        sc = scenario_for(p.built, catalog, efficiency)
        dep = build_deployment(sc, catalog)
    if fast_path_applies(sc):
        rec = run_closed_loop(sc, dep).recorder
        return rec.ttft.mean, rec.tpot.mean
    s = simulate(sc, catalog).summary
    return s["ttft_ms"]["mean"], s["tpot_ms"]["mean"]


def _mape(pred, meas) -> float | None:
    pred, meas = np.asarray(pred, float), np.asarray(meas, float)
    ok = np.isfinite(pred) & (meas > 0)
    if not ok.any():
        return None
    return float(np.mean(np.abs(pred[ok] / meas[ok] - 1.0)) * 100.0)


def report(plans: list[RowPlan], pred_ttft, pred_tpot, skipped: list[dict], total_rows: int,
           per_row: bool = False) -> dict:
    """The ``validate --measured`` JSON (a contract; see issue 14 §7)."""
    mt = np.array([p.built["measured"]["ttft_ms"] for p in plans], dtype=float)
    mp = np.array([p.built["measured"]["tpot_ms"] for p in plans], dtype=float)
    pt, pp = np.asarray(pred_ttft, float), np.asarray(pred_tpot, float)
    groups: dict[tuple, list[int]] = defaultdict(list)
    for i, p in enumerate(plans):
        groups[p.group].append(i)
    by = []
    for g in sorted(groups):
        idx = groups[g]
        by.append({"model": g[0], "system": g[1], "engine": g[2], "mode": g[3], "n": len(idx),
                   "ttft_mape_pct": _mape(pt[idx], mt[idx]), "tpot_mape_pct": _mape(pp[idx], mp[idx])})
    out = {
        "rows": int(total_rows),
        "predicted": len(plans),
        "skipped": skipped,
        "ttft_mape_pct": _mape(pt, mt),
        "tpot_mape_pct": _mape(pp, mp),
        "by": by,
    }
    if per_row:
        out["predictions"] = [
            {"id": p.built["id"], "ttft_ms": float(pt[i]), "tpot_ms": float(pp[i]),
             "measured_ttft_ms": float(mt[i]), "measured_tpot_ms": float(mp[i])}
            for i, p in enumerate(plans)]
    return out


def predict(plans: list[RowPlan], catalog: Catalog, efficiency_by_engine: dict | None = None,
            progress=None) -> tuple[np.ndarray, np.ndarray]:
    """Simulate every prepared row; ``efficiency_by_engine`` overrides the profiles' values."""
    pt = np.empty(len(plans))
    pp = np.empty(len(plans))
    for i, p in enumerate(plans):
        eff = (efficiency_by_engine or {}).get(p.built["engine"])
        pt[i], pp[i] = _simulate_plan(p, catalog, eff)
        if progress is not None:
            progress(i + 1)
    return pt, pp


def validate_measured(rows: list[MeasuredRow], catalog: Catalog | None = None, *, per_row: bool = False,
                      progress=None) -> dict:
    """Rebuild, simulate and score every row with the shipped engine profiles."""
    catalog = catalog or Catalog.load()
    plans, skipped = prepare(rows, catalog)
    pt, pp = predict(plans, catalog, progress=progress)
    return report(plans, pt, pp, skipped, len(rows), per_row)


# ------------------------------------------------------------------------------ traces and fit


@dataclass
class TraceSet:
    """Schedules of many single-pool rows, concatenated for vectorised evaluation."""

    row: np.ndarray  # plan -> row index (into `plans`)
    k: np.ndarray  # steps per plan
    c0: np.ndarray  # FLOPs of the first step at unit efficiency, already / (N F) [s]
    c1: np.ndarray  # FLOP growth per step / (N F) [s]
    m0: np.ndarray  # bytes of the first step / (N H) [s]
    m1: np.ndarray  # byte growth per step / (N H) [s]
    comm: np.ndarray  # bandwidth part of the collectives per step [s]
    calls: np.ndarray  # collective calls per step [-]
    req_row: np.ndarray
    a: np.ndarray  # global plan index of arrival (first plan waited on)
    f: np.ndarray  # global plan index of first token
    e: np.ndarray  # global plan index of finish
    out: np.ndarray  # output tokens
    mult: np.ndarray  # multiplicity (periods replayed by the fast path)
    n_rows: int


def _unit_predictor(p: RowPlan) -> tuple[RooflinePredictor, float]:
    """The row's predictor at mfu = mbu = 1, zero overhead and zero call latency; its calls/step."""
    dep = p.deployment
    setup = dep.setup
    from dataclasses import replace

    from costcorrect.serving.roofline import Efficiency

    unit = replace(setup, efficiency=Efficiency(1.0, 1.0, 0.0, setup.efficiency.memory_fraction))
    pred = RooflinePredictor.from_setup(unit, 0.0)
    with_lat = RooflinePredictor.from_setup(unit, 1.0)
    return pred, with_lat.fixed_s - pred.fixed_s


def collect_traces(plans: list[RowPlan]) -> tuple[TraceSet, list[int]]:
    """Simulate each single-pool row once, recording its schedule; returns (traces, row indices)."""
    cols = defaultdict(list)
    rcols = defaultdict(list)
    used: list[int] = []
    offset = 0
    for i, p in enumerate(plans):
        if not fast_path_applies(p.scenario):
            continue
        res = run_closed_loop(p.scenario, p.deployment, trace=True)
        tr = res.trace
        pred, calls = _unit_predictor(p)
        k, ptok, pattn, b, ctx0 = (tr.plans[:, j] for j in range(5))
        tokens = ptok + b
        fc, fm = pred.compute_flops_per_s, pred.memory_bytes_per_s
        dec = pred._dec_attn
        wread = (np.array([pred.weights_read(t) for t in tokens]) if pred.moe_experts
                 else np.full(len(k), pred.weight_bytes))
        cols["row"].append(np.full(len(k), len(used)))
        cols["k"].append(k)
        cols["c0"].append((pred.flops_per_token * tokens + pred.flops_per_attn_token * pattn + dec * ctx0) / fc)
        cols["c1"].append(dec * b / fc)
        cols["m0"].append((wread + pred.kv_bytes_per_token * (ctx0 + tokens) + pred.kv_bytes_per_seq * b) / fm)
        cols["m1"].append(pred.kv_bytes_per_token * b / fm)
        cols["comm"].append(pred.allreduce_s_per_token * tokens)
        cols["calls"].append(np.full(len(k), calls))
        rq = tr.requests
        rcols["req_row"].append(np.full(len(rq), len(used)))
        rcols["a"].append(rq[:, 0] + offset)
        rcols["f"].append(rq[:, 1] + offset)
        rcols["e"].append(rq[:, 2] + offset)
        rcols["out"].append(rq[:, 3])
        rcols["mult"].append(rq[:, 4])
        offset += len(k)
        used.append(i)
    cat = lambda d, key: np.concatenate(d[key]) if d[key] else np.zeros(0)  # noqa: E731
    ts = TraceSet(
        row=cat(cols, "row").astype(np.int64), k=cat(cols, "k"), c0=cat(cols, "c0"), c1=cat(cols, "c1"),
        m0=cat(cols, "m0"), m1=cat(cols, "m1"), comm=cat(cols, "comm"), calls=cat(cols, "calls"),
        req_row=cat(rcols, "req_row").astype(np.int64), a=cat(rcols, "a").astype(np.int64),
        f=cat(rcols, "f").astype(np.int64), e=cat(rcols, "e").astype(np.int64), out=cat(rcols, "out"),
        mult=cat(rcols, "mult"), n_rows=len(used))
    return ts, used


def _span_max_sum(c0, c1, m0, m1, k):
    """Σ_{j<k} max(c0 + c1 j, m0 + m1 j), vectorised and exact (lines cross at most once). [s]"""
    d0, d1 = c0 - m0, c1 - m1
    with np.errstate(divide="ignore", invalid="ignore"):
        cross = -d0 / d1
    # split = number of leading steps on the "first" line
    up = d1 > 0  # compute grows faster: memory first, then compute
    split_up = np.clip(np.ceil(cross), 0, k)
    split_dn = np.clip(np.floor(cross) + 1, 0, k)
    split = np.where(d1 == 0, np.where(d0 >= 0, k, 0), np.where(up, split_up, split_dn))
    split = np.nan_to_num(split, nan=0.0)
    a0 = np.where(up, m0, c0)
    a1 = np.where(up, m1, c1)
    b0 = np.where(up, c0, m0)
    b1 = np.where(up, c1, m1)
    flat = d1 == 0
    a0 = np.where(flat, np.maximum(c0, m0), a0)
    a1 = np.where(flat, np.where(d0 >= 0, c1, m1), a1)

    def line(x0, x1, lo, hi):
        n = hi - lo
        return np.where(n > 0, n * x0 + x1 * (lo + hi - 1) * n / 2.0, 0.0)

    return line(a0, a1, 0, split) + line(b0, b1, split, k)


def trace_predict(ts: TraceSet, mbu, mfu, overhead_ms, comm_latency_us) -> tuple[np.ndarray, np.ndarray]:
    """Mean TTFT and TPOT per traced row at the given efficiencies (scalars or per-row arrays). [ms]"""
    def per_plan(x):
        x = np.asarray(x, dtype=float)
        return x[ts.row] if x.ndim else np.full(len(ts.k), float(x))

    mbu_p, mfu_p = per_plan(mbu), per_plan(mfu)
    dur = _span_max_sum(ts.c0 / mfu_p, ts.c1 / mfu_p, ts.m0 / mbu_p, ts.m1 / mbu_p, ts.k)
    dur = dur + ts.k * (ts.comm + per_plan(overhead_ms) * 1e-3 + ts.calls * per_plan(comm_latency_us) * 1e-6)
    cum = np.cumsum(dur)
    excl = cum - dur
    ttft = cum[ts.f] - excl[ts.a]
    tpot = (cum[ts.e] - cum[ts.f]) / np.maximum(ts.out - 1, 1)
    w = np.bincount(ts.req_row, weights=ts.mult, minlength=ts.n_rows)
    t_mean = np.bincount(ts.req_row, weights=ts.mult * ttft, minlength=ts.n_rows) / w
    p_mean = np.bincount(ts.req_row, weights=ts.mult * tpot, minlength=ts.n_rows) / w
    return t_mean * 1e3, p_mean * 1e3


def _subset(ts: TraceSet, rows: np.ndarray) -> TraceSet:
    """The traces of the given row indices (renumbered 0..len-1)."""
    keep_rows = np.asarray(rows, dtype=np.int64)
    new_id = np.full(ts.n_rows, -1)
    new_id[keep_rows] = np.arange(len(keep_rows))
    pm = new_id[ts.row] >= 0
    plan_new = np.cumsum(pm) - 1
    rm = new_id[ts.req_row] >= 0
    return TraceSet(
        row=new_id[ts.row[pm]], k=ts.k[pm], c0=ts.c0[pm], c1=ts.c1[pm], m0=ts.m0[pm], m1=ts.m1[pm],
        comm=ts.comm[pm], calls=ts.calls[pm], req_row=new_id[ts.req_row[rm]], a=plan_new[ts.a[rm]],
        f=plan_new[ts.f[rm]], e=plan_new[ts.e[rm]], out=ts.out[rm], mult=ts.mult[rm], n_rows=len(keep_rows))


def fit_engine(ts: TraceSet, meas_ttft, meas_tpot, x0: dict | None = None) -> tuple[dict, dict]:
    """Least-squares fit of the four efficiencies on log errors of TTFT and TPOT.

    Returns ``(values, residuals)``; residuals are the in-sample MAPEs [%] and the RMS of
    ``log(pred/meas)``. Parameters are searched in a bounded transform (BOUNDS) from ``x0``.
    """
    from scipy.optimize import least_squares

    keys = profiles.FITTED_KEYS
    lo = np.array([BOUNDS[k][0] for k in keys])
    hi = np.array([BOUNDS[k][1] for k in keys])
    start = x0 or {"mbu": 0.7, "mfu": 0.4, "overhead_ms": 5.0, "comm_latency_us": 10.0}
    x = np.array([min(max(start[k], lo[i] + 1e-6), hi[i] - 1e-6) for i, k in enumerate(keys)])
    mt, mp = np.asarray(meas_ttft, float), np.asarray(meas_tpot, float)

    def resid(v):
        t, p = trace_predict(ts, *v)
        return np.concatenate([np.log(t / mt), np.log(p / mp)])

    sol = least_squares(resid, x, bounds=(lo, hi), x_scale=np.maximum(np.abs(x), 1e-3), max_nfev=200)
    t, p = trace_predict(ts, *sol.x)
    vals = {k: float(v) for k, v in zip(keys, sol.x, strict=True)}
    res = {"ttft_mape_pct": _mape(t, mt), "tpot_mape_pct": _mape(p, mp),
           "rms_log_error": float(np.sqrt(np.mean(sol.fun ** 2))), "rows": len(mt)}
    return vals, res


def fit_profiles(plans: list[RowPlan], ts: TraceSet, used: list[int], exclude_model: str | None = None) -> dict:
    """Fit every engine on its traced rows (optionally leaving one model out): ``{engine: (values, res)}``."""
    out = {}
    for engine in FIT_ENGINES:
        idx = [j for j, i in enumerate(used) if plans[i].built["engine"] == engine
               and plans[i].built["model"] != exclude_model]
        if len(idx) < len(profiles.FITTED_KEYS) + 1:
            continue
        sub = _subset(ts, np.array(idx))
        mt = [plans[used[j]].built["measured"]["ttft_ms"] for j in idx]
        mp = [plans[used[j]].built["measured"]["tpot_ms"] for j in idx]
        out[engine] = fit_engine(sub, mt, mp)
    return out


def cross_validate(plans: list[RowPlan], ts: TraceSet, used: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Leave-one-model-out predictions for every traced row: fit without the row's model. [ms]"""
    pt = np.full(len(plans), math.nan)
    pp = np.full(len(plans), math.nan)
    models = sorted({plans[i].built["model"] for i in used})
    for m in models:
        fits = fit_profiles(plans, ts, used, exclude_model=m)
        idx = np.array([j for j, i in enumerate(used) if plans[i].built["model"] == m])
        if not len(idx):
            continue
        sub = _subset(ts, idx)
        eng = [plans[used[j]].built["engine"] for j in idx]
        vals = {k: np.array([fits[e][0][k] if e in fits else math.nan for e in eng]) for k in profiles.FITTED_KEYS}
        t, p = trace_predict(sub, vals["mbu"], vals["mfu"], vals["overhead_ms"], vals["comm_latency_us"])
        for n, j in enumerate(idx):
            pt[used[j]], pp[used[j]] = t[n], p[n]
    return pt, pp
