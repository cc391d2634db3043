"""Paper 01, checked by the simulator: the directional claims of 01 and of the systems' papers.

The simulator is not fitted to any headline ratio; each claim prints what the engine
measures on the default workloads (lognormal lengths with the Azure 2023 conversation
means, CV 1; Poisson arrivals; 8 TP4 H100 replicas; mean-TPOT contract as in measured
mode) beside the published figure, and says honestly where they disagree.
"""

from __future__ import annotations

from costcorrect.scenario import Scenario
from costcorrect.simulator.config import SimScenario
from costcorrect.simulator.frontier_sim import best_split, sim_scenario_for
from costcorrect.simulator.run import find_capacity, simulate
from costcorrect.validation.registry import Claim, Context, register

N_REQ = 400  # requests per probe: enough for a p99 over 8 replicas, small enough for CI
SPLITS = (2, 4, 6)  # prefill instances of 8 tried for disaggregation


def _base(ctx: Context, **workload) -> Scenario:
    sc = ctx.scenario
    return sc.model_copy(update={"workload": sc.workload.model_copy(update=workload)}) if workload else sc


def _cached(ctx: Context, key: str, fn):
    if key not in ctx.extras:
        ctx.extras[key] = fn()
    return ctx.extras[key]


def _single_stream_tpot_ms(ctx: Context) -> float:
    doc = sim_scenario_for(ctx.scenario, "colocated", instances=1, num_requests=3).model_dump()
    doc["workload"] = {"arrival": "closed", "concurrency": 1, "num_requests": 3,
                       "prompt_tokens": {"dist": "fixed", "mean": 128}, "output_tokens": {"dist": "fixed", "mean": 256}}
    sim = SimScenario.model_validate(doc)
    return simulate(sim, ctx.catalog).summary["tpot_ms"]["p50"]


def _hbm_floor_ms(ctx: Context) -> float:
    m = ctx.catalog.model("llama-2-70b")
    g = ctx.catalog.gpu("h100-sxm")
    return float(m["total_params_b"]) * 1e9 * 2 / (4 * float(g["hbm_bandwidth_gb_s"]) * 1e9) * 1e3


def _tpot_tail_ratio(ctx: Context) -> float:
    def run(arch):
        sim = sim_scenario_for(ctx.scenario, arch, num_requests=800)
        sim = sim.model_copy(update={"workload": sim.workload.model_copy(update={"rate_per_s": 12.0})})
        return simulate(sim, ctx.catalog).summary["tpot_ms"]["p99"]

    return _cached(ctx, "tpot-tail", lambda: run("colocated") / run("chunked"))


RELAXED = {"ttft_p99_ms": 1000.0, "tpot_p99_ms": 80.0}  # 01's relaxed bin: long prompts stay feasible


def _capacities(ctx: Context, prompt_tokens: float, slo: dict | None = None) -> dict:
    def compute():
        sc = _base(ctx, prompt_tokens=prompt_tokens)
        if slo:
            sc = sc.model_copy(update={"slo": sc.slo.model_copy(update=slo)})
        co = find_capacity(sim_scenario_for(sc, "colocated", num_requests=N_REQ), ctx.catalog, rel_tol=0.05)
        ch = find_capacity(sim_scenario_for(sc, "chunked", num_requests=N_REQ, chunk_tokens=512), ctx.catalog,
                           rel_tol=0.05)
        _, pd_ = best_split(sim_scenario_for(sc, "disaggregated", num_requests=N_REQ), ctx.catalog, splits=SPLITS)
        return {"colocated": co["rate_per_s"] or 0.0, "chunked": ch["rate_per_s"] or 0.0,
                "disaggregated": (pd_ or {}).get("rate_per_s") or 0.0}

    return _cached(ctx, f"cap-{prompt_tokens}-{slo}", compute)


def _gain(ctx: Context, prompt_tokens: float, slo: dict | None = None) -> float | None:
    c = _capacities(ctx, prompt_tokens, slo)
    return c["disaggregated"] / c["colocated"] if c["colocated"] else None


def _gain_growth(ctx: Context) -> float | None:
    lo, hi = _gain(ctx, 300, RELAXED), _gain(ctx, 2000, RELAXED)
    return hi / lo if lo and hi else None


def _per_token_caps(ctx: Context) -> dict:
    """Capacities [req/s] at (500 ms, 50 ms) with the 50 ms bound on every inter-token gap."""
    def compute():
        caps = {}
        for arch in ("colocated", "chunked", "disaggregated"):
            sim = sim_scenario_for(ctx.scenario, arch, num_requests=N_REQ, chunk_tokens=512)
            sim = sim.model_copy(update={"slo": sim.slo.model_copy(update={"tpot_basis": "max_itl"})})
            if arch == "disaggregated":
                _, res = best_split(sim, ctx.catalog, splits=SPLITS)
            else:
                res = find_capacity(sim, ctx.catalog, rel_tol=0.05)
            caps[arch] = (res or {}).get("rate_per_s") or 0.0
        return caps

    return _cached(ctx, "per-token-caps", compute)


def _per_token_uplift(ctx: Context) -> float | None:
    c = _per_token_caps(ctx)
    return c["chunked"] / c["colocated"] if c["colocated"] else None


def _per_token_distserve(ctx: Context) -> float | None:
    c = _per_token_caps(ctx)
    return c["disaggregated"] / c["colocated"] if c["colocated"] else None


def _slow_link_ratio(ctx: Context) -> float:
    def run(bw):
        sim = sim_scenario_for(ctx.scenario, "disaggregated", num_requests=600, kv_bandwidth_gb_s=bw,
                               prefill_instances=6)
        sim = sim.model_copy(update={"workload": sim.workload.model_copy(update={"rate_per_s": 20.0})})
        return simulate(sim, ctx.catalog).summary["e2e_ms"]["p99"]

    return run(1.0) / run(50.0)


register(Claim(
    "01-sim-single-stream-tpot", "01", "§4.2 (simulator)",
    "Batch-1 decode TPOT of Llama-2-70B on 4x H100 sits above the HBM floor W/(4·3.35 TB/s) = 10.3 ms",
    "> 10.3", "ms", "model", _single_stream_tpot_ms, check=lambda v: v is not None and v > 10.3,
    note="Realised figure printed: weights read at MBU 0.8 (assumed), plus 2 ms per-iteration overhead "
         "(assumed) and 160 NVLink all-reduces; the HBM floor alone is 10.3 ms.",
))
register(Claim(
    "01-sim-chunked-tpot-tail", "01", "§4.4 (simulator)",
    "Chunked prefill tightens the TPOT p99 tail vs prefill-prioritised colocation at equal load "
    "(ratio colocated/chunked at 12 req/s on 8 TP4 replicas)",
    "> 1", "x", "model", _tpot_tail_ratio, check=lambda v: v is not None and v > 1.0,
    note="Sarathi-Serve's mechanism: colocated prefill iterations stall every running decode.",
))
register(Claim(
    "01-sim-chunked-capacity-uplift", "01", "§4.4 (simulator)",
    "Sarathi-Serve's serving-capacity uplift over vLLM at (500 ms, 50 ms), chunk 512",
    5.6, "x", "model", lambda c: _capacities(c, c.scenario.workload.prompt_tokens)["chunked"]
    / max(_capacities(c, c.scenario.workload.prompt_tokens)["colocated"], 1e-9),
    rel_tol=0.25, expected_status="not-reproduced",
    note="Our SLO is per-request mean TPOT (as measured mode and vLLM's benchmark report it): a colocated "
         "prefill stall is averaged over the request's tokens, so prefill priority costs little TPOT while "
         "it minimises TTFT, which binds first on this long-tailed prompt mix. Sarathi-Serve's 5.6x "
         "(Falcon-180B) is measured against a per-token tail and on its own traces; see the two per-token rows "
         "below, where the direction reproduces.",
))
register(Claim(
    "01-sim-chunked-wins-per-token-contract", "01", "§4.4 (simulator)",
    "Under a per-token tail contract (every inter-token gap ≤ 50 ms, TTFT ≤ 500 ms) chunked prefill "
    "(χ=512) serves more than prefill-prioritised colocation: capacity ratio chunked/colocated",
    "> 1", "x", "model", _per_token_uplift, check=lambda v: v is not None and v > 1.0,
    note="The direction of Sarathi-Serve's result, once the contract is on token gaps: colocated prefill "
         "iterations (hundreds of ms for long prompts) stall every running decode.",
))
register(Claim(
    "01-sim-chunked-uplift-per-token-magnitude", "01", "§4.4 (simulator)",
    "Sarathi-Serve's 5.6x capacity uplift, against our per-token-contract capacity ratio",
    5.6, "x", "model", _per_token_uplift, rel_tol=0.25, expected_status="not-reproduced",
    note="Our ratio is larger: on TP4 H100 with a lognormal (CV 1) prompt mix most colocated requests see "
         "a prefill stall above 50 ms, so colocation's per-token capacity collapses. Sarathi-Serve's 5.6x is "
         "Falcon-180B on its own traces and baseline settings; the ratio is sensitive to the prompt tail.",
))
register(Claim(
    "01-sim-distserve-gain", "01", "§3 (simulator)",
    "DistServe's 7.4x more requests served within SLO than vLLM: our capacity ratio disaggregated/colocated "
    "under the per-token contract (500 ms, 50 ms per gap), 8 TP4 replicas, best of 2:6/4:4/6:2",
    7.4, "x", "model", _per_token_distserve, rel_tol=0.25, expected_status="not-reproduced",
    note="DistServe's 7.4x is OPT-66B/175B on A100 with its own placement search and workloads (chatbot, "
         "code, summarisation); ours is Llama-2-70B on H100 with equal GPU counts. The direction (disaggregation "
         "far ahead of prefill-prioritised colocation under a per-token contract) holds; the magnitude is ours.",
))
register(Claim(
    "01-sim-disagg-gain-grows-with-alpha", "01", "§5.2 (simulator)",
    "Disaggregation's capacity gain over colocation grows with α: gain at P=2000 / gain at P=300 (D=211), "
    "relaxed contract (1000 ms, 80 ms)",
    "> 1", "x", "model", _gain_growth, check=lambda v: v is not None and v > 1.0,
    note="Capacity at (1000 ms, 80 ms): at (500, 50) a P=2000 lognormal mix has p99 prompts whose prefill alone "
         "exceeds 500 ms, so no architecture is feasible. Best of 2:6, 4:4, 6:2 splits of 8 TP4 replicas.",
))
register(Claim(
    "01-sim-splitwise-gain", "01", "§3 (simulator)",
    "Splitwise's throughput uplift of phase splitting on the Azure conversation mix",
    1.4, "x", "model", lambda c: _gain(c, c.scenario.workload.prompt_tokens),
    rel_tol=0.25, expected_status="not-reproduced",
    note="We measure the capacity ratio disaggregated/colocated at equal GPU count (8 TP4 replicas, best "
         "split) under (500 ms, 50 ms); Splitwise's 1.4x is throughput at lower cost and power on A100/H100 "
         "machine mixes with its own scheduler. Our engine gives disaggregation a larger gain because "
         "colocated TTFT is the binding constraint on this mix.",
))
register(Claim(
    "01-sim-slow-link-latency", "01", "§4.3 (simulator)",
    "A slower KV link raises latency: E2E p99 at 1 GB/s over E2E p99 at 50 GB/s (6:2 split, 20 req/s)",
    "> 1", "x", "model", _slow_link_ratio, check=lambda v: v is not None and v > 1.0,
    note="The link is a FIFO per prefill replica; at 1 GB/s a 1,155-token KV (0.38 GB) takes 378 ms.",
))
