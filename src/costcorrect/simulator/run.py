"""Build a simulated deployment from a scenario, run it, summarise it in CPM_served.

``simulate(scenario)`` → :class:`SimResult` with the issue-4 JSON summary keys;
``find_capacity(scenario)`` → the highest arrival rate whose SLO attainment stays at or
above a target (bisection on the rate, same seed at every probe so the comparison is
between rates, not between random draws), with its CPM_served.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from costcorrect import units
from costcorrect.catalog import Catalog, load_efficiency, price_label
from costcorrect.errors import InputError
from costcorrect.serving.decomposition import cpm_served_usd_per_mtok
from costcorrect.serving.roofline import Efficiency, ServingSetup
from costcorrect.serving.setup import build_setup
from costcorrect.simulator import profiles
from costcorrect.simulator.config import SimScenario
from costcorrect.simulator.engine import Engine, Replica, Request
from costcorrect.simulator.metrics import Recorder
from costcorrect.simulator.predictor import RooflinePredictor, TablePredictor
from costcorrect.simulator.workload import request_stream


@dataclass(frozen=True)
class Deployment:
    """Resolved hardware for a scenario: per-replica setup, predictor, KV blocks, price."""

    setup: ServingSetup
    predictor: object
    kv_blocks: int
    activation_bytes: float
    price_usd_per_gpu_hour: float
    price_source: str
    efficiency_source: str


def resolve_efficiency(sc: SimScenario) -> tuple[Efficiency, str]:
    """Efficiency factors: the scenario's own values, else the engine profile's, else the catalog's.

    With ``engine`` set, mfu/mbu/overhead_ms come from the profile (fitted on the Hopper
    measured file; ``generic`` = the catalog assumptions) and memory_fraction from the
    profile's scheduler defaults.
    """
    cat = load_efficiency()
    base = {k: float(cat[k]) for k in ("mfu", "mbu", "overhead_ms", "memory_fraction")}
    src = f"catalog efficiency.yaml ({cat.get('status', 'assumed')})"
    if sc.engine is not None:
        base.update({k: v for k, v in profiles.efficiency_values(sc.engine).items() if k in base})
        mf = profiles.scheduler_defaults(sc.engine).get("memory_fraction")
        if mf is not None:
            base["memory_fraction"] = float(mf)
        src = profiles.label(sc.engine)
    e = sc.efficiency
    given = [k for k in ("mfu", "mbu", "overhead_ms", "memory_fraction") if getattr(e, k) is not None]
    eff = Efficiency(**{k: (getattr(e, k) if getattr(e, k) is not None else base[k]) for k in base})
    return eff, (f"scenario ({', '.join(given)}) + {src}" if given else src)


def resolve_comm_latency_s(sc: SimScenario) -> float:
    """Fixed latency per collective call: the scenario's, else the engine profile's. [s]"""
    us = sc.efficiency.comm_latency_us
    if "comm_latency_us" not in sc.efficiency.model_fields_set and sc.engine is not None:
        us = profiles.efficiency_values(sc.engine).get("comm_latency_us", us)
    return float(units.ms_to_s(us / 1000.0))


def activation_bytes_per_gpu(model: dict, tensor_parallel: int, peak_tokens: int, act_bytes: float = 2.0) -> float:
    """Peak activation memory of one iteration on one GPU (estimate). [bytes]

    Inference keeps one layer's activations at a time: the residual stream and q/k/v/out
    buffers (~4 × hidden) plus the two MLP intermediates sharded by TP (2 × ffn / tp),
    for every token of the largest iteration. An estimate, not a profile: vLLM measures
    it with a dummy forward pass at start-up.
    """
    per_token = 4.0 * float(model["hidden_size"]) + 2.0 * float(model["ffn_size"]) / tensor_parallel
    return float(peak_tokens) * per_token * act_bytes


class RolePredictor:
    """Disaggregated pools with different layouts: prefill-only iterations go to the prefill
    worker's predictor, everything else (decode spans, decode iterations) to the decode one.

    A decode worker that recomputes a preempted request's prefill is charged at the prefill
    worker's speed (rare; stated)."""

    def __init__(self, prefill, decode):
        self.prefill, self.decode = prefill, decode

    def iteration_s(self, prefill_tokens, prefill_attn, decode_tokens, decode_ctx_sum):
        pred = self.prefill if decode_tokens == 0 and prefill_tokens > 0 else self.decode
        return pred.iteration_s(prefill_tokens, prefill_attn, decode_tokens, decode_ctx_sum)

    def decode_run_s(self, b, ctx_sum0, k):
        return self.decode.decode_run_s(b, ctx_sum0, k)

    def decode_steps_within(self, b, ctx_sum0, k_max, elapsed_s):
        return self.decode.decode_steps_within(b, ctx_sum0, k_max, elapsed_s)


def _role_setup(sc: SimScenario, model: dict, gpu: dict, price: float, eff: Efficiency, role: str | None):
    lay = sc.role_layout(role)
    gpus = lay["tensor_parallel"] * lay["attention_data_parallel"]
    return build_setup(model, gpu, gpus, price, weight_dtype=sc.weight_dtype, kv_dtype=sc.kv_dtype,
                       efficiency=eff, precision=sc.effective_precision,
                       expert_parallel=lay["expert_parallel"], attention_dp=lay["attention_data_parallel"],
                       moe_tensor_parallel=lay["moe_tensor_parallel"]), lay


def _kv_blocks(sc: SimScenario, model: dict, setup: ServingSetup, eff: Efficiency, lay: dict, role: str | None):
    """(KV blocks, activation bytes) of one replica; error if the weights leave no room."""
    gpus = setup.num_gpus
    usable = gpus * setup.hbm_capacity_bytes * eff.memory_fraction
    peak_tokens = max(sc.max_batch_tokens if sc.architecture != "chunked" else 0, sc.chunk_tokens)
    act = gpus * activation_bytes_per_gpu(model, lay["tensor_parallel"], peak_tokens)
    per_seq = setup.kv_bytes_per_seq * sc.max_batch_requests  # sliding-window / linear-attention state
    free = usable - setup.weight_bytes - act - per_seq
    block_bytes = setup.kv_bytes_per_token * sc.block_size_tokens
    if free < block_bytes:
        gib = units.bytes_to_gib
        field = f"{role}_tensor_parallel" if role else "tensor_parallel"
        need_gpus = math.ceil((setup.weight_bytes + act + per_seq) / (setup.hbm_capacity_bytes * eff.memory_fraction))
        prec = sc.weights_precision
        raise InputError(
            field, lay["tensor_parallel"],
            f"a layout with >= {need_gpus} GPUs per replica: {sc.model} needs {gib(setup.weight_bytes):.1f} GiB of "
            f"{prec} weights + {gib(act + per_seq):.1f} GiB activations/state, but {gpus} x {sc.gpu} give "
            f"{gib(usable):.1f} GiB usable ({eff.memory_fraction:g} of HBM): short by "
            f"{gib(setup.weight_bytes + act + per_seq - usable + block_bytes):.1f} GiB, leaving no room for KV cache")
    return int(free // block_bytes), act


def build_deployment(sc: SimScenario, catalog: Catalog) -> Deployment:
    model = catalog.model(sc.model)
    gpu = catalog.gpu(sc.gpu)
    if sc.price_usd_per_gpu_hour is not None:
        price, psrc = float(sc.price_usd_per_gpu_hour), "scenario"
    else:
        row = catalog.default_price(sc.gpu)
        price, psrc = float(row["usd_per_gpu_hour"]), price_label(row)
    eff, esrc = resolve_efficiency(sc)
    comm_s = resolve_comm_latency_s(sc)
    if sc.architecture == "disaggregated" and any(
            getattr(sc, f"{r}_{k}") is not None for r in ("prefill", "decode")
            for k in ("tensor_parallel", "expert_parallel", "attention_data_parallel", "moe_tensor_parallel")):
        setups = {r: _role_setup(sc, model, gpu, price, eff, r) for r in ("prefill", "decode")}
        blocks = {r: _kv_blocks(sc, model, setups[r][0], eff, setups[r][1], r) for r in setups}
        setup = setups["decode"][0]
        if sc.latency_table:
            predictor = TablePredictor.from_csv(sc.latency_table)
        else:
            predictor = RolePredictor(RooflinePredictor.from_setup(setups["prefill"][0], comm_s),
                                      RooflinePredictor.from_setup(setup, comm_s))
        kv_blocks = min(blocks["prefill"][0], blocks["decode"][0])
        return Deployment(setup, predictor, kv_blocks, blocks["decode"][1], price, psrc, esrc)
    setup, lay = _role_setup(sc, model, gpu, price, eff, None)
    kv_blocks, act = _kv_blocks(sc, model, setup, eff, lay, None)
    if sc.latency_table:
        predictor = TablePredictor.from_csv(sc.latency_table)
    else:
        predictor = RooflinePredictor.from_setup(setup, comm_s)
    return Deployment(setup, predictor, kv_blocks, act, price, psrc, esrc)


@dataclass
class SimResult:
    summary: dict
    records_path: Path | None = None
    extras: dict = field(default_factory=dict)
    records_frame: object = None  # pandas DataFrame of per-request records when keep_records=True


def _summary(sc: SimScenario, dep: Deployment, rec: Recorder, eng: Engine, wall_s: float,
             kv_peak: int, arrivals: int) -> dict:
    duration = rec.duration_s
    span = eng.last_arrival_s - eng.first_arrival_s
    closed = sc.workload.arrival == "closed"
    if not closed and arrivals > 1 and span > 0:
        # Open loop: in steady state the served rate equals the arrival rate, so goodput is
        # the offered rate times compliant tokens per request. Dividing by the makespan
        # instead would charge the drain of the last long requests to every token.
        goodput = rec.goodput_tokens / rec.n * (arrivals - 1) / span
    else:
        goodput = rec.goodput_tokens / duration if duration > 0 else 0.0
    cpm = float(cpm_served_usd_per_mtok(dep.price_usd_per_gpu_hour, sc.num_gpus, goodput)) if goodput > 0 else None
    events = eng.seq + arrivals
    return {
        "scenario": sc.name,
        "architecture": sc.architecture,
        "model": sc.model,
        "gpu": sc.gpu,
        "tensor_parallel": sc.tensor_parallel,
        "num_requests": rec.n,
        "ttft_ms": rec.ttft.summary(),
        "tpot_ms": rec.tpot.summary(),
        "e2e_ms": rec.e2e.summary(),
        "itl_max_ms": rec.itl_max.summary(),
        "slo": {"ttft_p99_ms": sc.slo.ttft_p99_ms, "tpot_p99_ms": sc.slo.tpot_p99_ms,
                "tpot_basis": sc.slo.tpot_basis},
        "slo_attainment": rec.n_met / rec.n if rec.n else None,
        "goodput_tokens_per_s": goodput,
        "throughput_tokens_per_s": goodput * rec.served_tokens / rec.goodput_tokens if rec.goodput_tokens
        else 0.0,
        "goodput_basis": "makespan (closed loop)" if closed or arrivals <= 1 or span <= 0
        else "arrival rate x compliant tokens per request (open loop, steady state)",
        "num_gpus": sc.num_gpus,
        "price_usd_per_gpu_hour": dep.price_usd_per_gpu_hour,
        "price_source": dep.price_source,
        "cpm_served_usd_per_mtok": cpm,
        "cpm_note": None if cpm is not None else "no request met the SLO: CPM_served is unbounded",
        "token_convention": sc.token_convention,
        "preemptions": rec.preemptions,
        "duration_s": duration,
        "offered_rate_per_s": (arrivals - 1) / (eng.last_arrival_s - eng.first_arrival_s)
        if arrivals > 1 and eng.last_arrival_s > eng.first_arrival_s else None,
        "kv_capacity_blocks": dep.kv_blocks,
        "kv_peak_blocks": kv_peak,
        "peak_in_flight": eng.peak_in_flight,
        "efficiency": {"mfu": dep.setup.efficiency.mfu, "mbu": dep.setup.efficiency.mbu,
                       "overhead_ms": dep.setup.efficiency.overhead_ms,
                       "memory_fraction": dep.setup.efficiency.memory_fraction,
                       "source": dep.efficiency_source},
        "predictor": "table" if isinstance(dep.predictor, TablePredictor) else "roofline",
        "events": events,
        "wall_s": wall_s,
        "events_per_s": events / wall_s if wall_s > 0 else None,
        "seed": sc.seed,
    }


def simulate(sc: SimScenario, catalog: Catalog | None = None, *, records: Path | None = None,
             keep_records: bool = False,
             progress: Callable[[int], None] | None = None, max_span_steps: int | None = None) -> SimResult:
    """Run one scenario to completion; per-request records go to ``records`` (Parquet) if given."""
    catalog = catalog or Catalog.load(sc.catalog_overlay)
    dep = build_deployment(sc, catalog)
    rec = Recorder(sc.slo.ttft_p99_ms, sc.slo.tpot_p99_ms, sc.token_convention, records, keep=keep_records,
                   tpot_basis=sc.slo.tpot_basis)
    eng = Engine(rec, progress)
    eng.max_span_steps = max_span_steps
    eng.dispatch = sc.dispatch
    eng.first_arrival_s = math.inf
    eng.last_arrival_s = -math.inf
    bs = sc.block_size_tokens

    def replica(i: int, mode: str) -> Replica:
        return Replica(eng, i, mode, dep.predictor, dep.kv_blocks, bs, sc.max_batch_requests,
                       sc.max_batch_tokens, sc.chunk_tokens)

    if sc.architecture == "disaggregated":
        eng.front = [replica(i, "prefill") for i in range(sc.prefill_instances)]
        eng.decode_pool = [replica(i, "decode") for i in range(sc.decode_instances)]
        eng.kv_bytes_per_token = dep.setup.kv_bytes_per_token
        eng.link_bytes_per_s = float(units.gb_s_to_bytes_per_s(sc.kv_bandwidth_gb_s))
        eng.overlap_eta = sc.overlap_eta
    else:
        eng.front = [replica(i, sc.architecture) for i in range(sc.replicas)]

    rng = np.random.default_rng(sc.seed)
    stream = request_stream(sc.workload, rng)
    max_tokens_per_request = dep.kv_blocks * bs
    closed = sc.workload.arrival == "closed"
    state = {"chunk": None, "i": 0, "rid": 0, "arrivals": 0}
    ready: deque = deque()

    def make(arrival_s: float) -> Request | None:
        ch = state["chunk"]
        if ch is None or state["i"] >= len(ch.prompt_tokens):
            ch = next(stream, None)
            state["chunk"], state["i"] = ch, 0
            if ch is None:
                return None
        i = state["i"]
        state["i"] = i + 1
        p, d = int(ch.prompt_tokens[i]), int(ch.output_tokens[i])
        if p + d > max_tokens_per_request:
            raise InputError(f"request {state['rid']} tokens", p + d,
                             f"<= {max_tokens_per_request} (the replica's whole KV cache: {dep.kv_blocks} "
                             f"blocks of {bs}); cap workload lengths with `max` or raise tensor_parallel")
        t = arrival_s if closed else float(ch.arrival_s[i])
        req = Request(state["rid"], t, p, d)
        state["rid"] += 1
        state["arrivals"] += 1
        eng.first_arrival_s = min(eng.first_arrival_s, t)
        eng.last_arrival_s = max(eng.last_arrival_s, t)
        return req

    if closed:
        for _ in range(min(sc.workload.concurrency, sc.workload.num_requests)):
            r = make(0.0)
            if r is not None:
                ready.append(r)

        def on_finish(now: float) -> None:
            r = make(now)
            if r is not None:
                ready.append(r)

        eng.on_finish = on_finish

        def next_arrival():
            return ready.popleft() if ready else None
    else:
        def next_arrival():
            return make(0.0)

    t0 = time.perf_counter()
    try:
        eng.run(next_arrival)
        rec.close()
    except BaseException:
        rec.abort()
        raise
    wall = time.perf_counter() - t0
    kv_peak = max(r.peak_blocks for r in eng.front + eng.decode_pool)
    summary = _summary(sc, dep, rec, eng, wall, kv_peak, state["arrivals"])
    if eng.in_flight != 0 or rec.n != state["arrivals"]:  # an engine bug, never user input
        raise RuntimeError(f"simulator lost requests: {state['arrivals']} arrived, {rec.n} finished")
    return SimResult(summary, records, records_frame=rec.records_frame() if keep_records else None)


def find_capacity(sc: SimScenario, catalog: Catalog | None = None, *, target: float = 0.99,
                  rel_tol: float = 0.02, max_probes: int = 30,
                  progress: Callable[[float, float], None] | None = None) -> dict:
    """Highest arrival rate [req/s] with SLO attainment ≥ ``target``, by bisection.

    Every probe reuses the scenario's seed (common random numbers): inter-arrival gaps are
    the same draws scaled by 1/rate, so attainment is close to monotone in the rate.
    Returns ``{"rate_per_s", "summary", "probes": [{"rate_per_s", "slo_attainment"}]}``.
    """
    if sc.workload.arrival == "closed":
        raise InputError("workload.arrival", "closed", "poisson, gamma or trace for --find-capacity")
    check = float(target)
    if not 0 < check <= 1:
        raise InputError("--target", target, "(0, 1]")
    catalog = catalog or Catalog.load(sc.catalog_overlay)
    probes: list[dict] = []

    def run(rate: float) -> dict:
        wl = sc.workload.model_copy(update={"rate_per_s": rate})
        s = simulate(sc.model_copy(update={"workload": wl}), catalog).summary
        probes.append({"rate_per_s": rate, "slo_attainment": s["slo_attainment"]})
        if progress is not None:
            progress(rate, s["slo_attainment"])
        return s

    rate = float(sc.workload.rate_per_s or 1.0)
    lo, lo_summary, hi = 0.0, None, math.inf
    s = run(rate)
    if s["slo_attainment"] >= target:
        lo, lo_summary = rate, s
        while len(probes) < max_probes:
            rate *= 2.0
            s = run(rate)
            if s["slo_attainment"] >= target:
                lo, lo_summary = rate, s
            else:
                hi = rate
                break
    else:
        hi = rate
        while len(probes) < max_probes:
            rate /= 2.0
            s = run(rate)
            if s["slo_attainment"] >= target:
                lo, lo_summary = rate, s
                break
            hi = rate
            if rate < 1e-6:
                break
    while lo_summary is not None and math.isfinite(hi) and (hi - lo) / hi > rel_tol and len(probes) < max_probes:
        mid = 0.5 * (lo + hi)
        s = run(mid)
        if s["slo_attainment"] >= target:
            lo, lo_summary = mid, s
        else:
            hi = mid
    return {"rate_per_s": lo if lo_summary is not None else None, "target_attainment": target,
            "summary": lo_summary, "upper_rate_per_s": hi if math.isfinite(hi) else None, "probes": probes}
