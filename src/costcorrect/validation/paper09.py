"""Note 09 (Coral, heterogeneous-GPU procurement): what its numbers say on our planner.

The note reports Coral's headline numbers (Mei et al. 2026: up to 2.79× lower serving cost
over the best baseline and up to 2.39× goodput under scarcity, 6 models × 20 GPU
configurations, solve time "hours to tens of seconds") but none of Coral's inputs: models'
traffic, capacities, prices or GPU configurations. So no number of the note can be
recomputed as such. The claims below evaluate each statement on our synthetic fleet of the
same shape (``costcorrect.fleet.synthetic``: 6 models × 20 GPU configurations, catalog
prices, closed-form capacities); a number that differs is ``not-reproduced`` with the reason.
"""

from __future__ import annotations

import numpy as np

from costcorrect.validation.registry import Claim, Context, register


def _fleet(ctx: Context, n: int = 6):
    key = f"fleet09-{n}"
    if key not in ctx.extras:
        from costcorrect.fleet import build_instance, solve
        from costcorrect.fleet.synthetic import synthetic_fleet

        inst = build_instance(synthetic_fleet(n, seed=0), ctx.catalog)
        ctx.extras[key] = (inst, solve(inst, method="full", mip_rel_gap=0.0))
    return ctx.extras[key]


def _breakdown(ctx: Context) -> dict:
    if "fleet09-bd" not in ctx.extras:
        from costcorrect.fleet import savings_breakdown

        inst, joint = _fleet(ctx)
        ctx.extras["fleet09-bd"] = savings_breakdown(inst, method="full", joint=joint, mip_rel_gap=0.0)
    return ctx.extras["fleet09-bd"]


def _ratio(ctx: Context) -> float:
    return float(_breakdown(ctx)["cost_ratio"])


def _two_stage_gap(ctx: Context) -> float:
    from costcorrect.fleet import solve

    inst, full = _fleet(ctx)
    two = solve(inst, method="two-stage", mip_rel_gap=0.0)
    return float(two.cost_usd_per_hour / full.cost_usd_per_hour - 1.0)


def _two_stage_seconds_50(ctx: Context) -> float:
    from costcorrect.fleet import solve

    inst, _ = _fleet(ctx, 50)
    return float(solve(inst, method="two-stage").solve_s)


def _full_seconds_50(ctx: Context) -> float:
    _, full = _fleet(ctx, 50)
    return float(full.solve_s)


def _goodput_ratio(ctx: Context) -> float:
    """Largest re-solved / static goodput over GPU classes the plan uses, at half availability."""
    from costcorrect.fleet import scarcity

    inst, base = _fleet(ctx)
    used = sorted({inst.offer_gpu[o] for o in np.flatnonzero(base.nodes)})
    best = 0.0
    for gpu in used:
        for r in scarcity(inst, base, gpu, (0.5,)):
            if r["goodput_ratio"] is not None:
                best = max(best, float(r["goodput_ratio"]))
    return best


def _mid_tier_perf_per_dollar(ctx: Context) -> float:
    """A100 / H100 requests per second per dollar, Llama 3.1 70B, chat mix, 500/50 ms p99 contract.

    Best tensor-parallel degree (1-8) and architecture (chunked / disaggregated) on each GPU;
    catalog default prices (CoreWeave on-demand) [req/s per $/h ratio, -].
    """
    from costcorrect.fleet.capacity import _efficiency, closed_form_capacity_rate_per_s
    from costcorrect.serving.setup import build_setup

    out = {}
    for gpu in ("a100-sxm-80gb", "h100-sxm"):
        price = float(ctx.catalog.default_price(gpu)["usd_per_gpu_hour"])
        best = 0.0
        for tp in (1, 2, 4, 8):
            setup = build_setup(ctx.catalog.model("llama-3.1-70b"), ctx.catalog.gpu(gpu), tp, price,
                                efficiency=_efficiency())
            if setup.kv_capacity_bytes <= 0:
                continue
            for arch in ("chunked", "disaggregated"):
                r = float(closed_form_capacity_rate_per_s(setup, arch, 1024.0, 256.0, 500.0, 50.0))
                best = max(best, r / (price * tp))
        out[gpu] = best
    return out["a100-sxm-80gb"] / out["h100-sxm"]


register(Claim(
    "09-joint-beats-homogeneous", "09", "What is interesting",
    "Joint model x GPU allocation costs less than the best homogeneous plan (6 models x 20 GPU configs)",
    "> 1", "x", "model", _ratio, check=lambda v: v > 1.0,
    note="Our synthetic 6 x 20 fleet: baseline = best single GPU class, each model on its own 8-GPU "
         "nodes, default config (fewest GPUs per replica).",
))
register(Claim(
    "09-coral-cost-ratio", "09", "What it claims",
    "Up to 2.79x lower serving cost than the best baseline (6 models x 20 GPU configs)",
    2.79, "x", "model", _ratio, rel_tol=0.10, expected_status="not-reproduced",
    note="Cannot be recomputed: the note gives none of Coral's models, traffic, capacities, prices or "
         "baseline. On our synthetic fleet of the same shape the baseline/joint ratio differs; most of it "
         "is co-location (8-GPU node fragmentation of small per-model demand), which Coral's "
         "'best baseline' may already include. See docs/fleet.md.",
))
register(Claim(
    "09-two-stage-optimal", "09", "How it argues",
    "The two-stage decomposition preserves joint optimality (gap vs the full MILP, 6 x 20)",
    0.0, "-", "model", _two_stage_gap, check=lambda v: abs(v) <= 1e-6,
    note="Our two-stage: keep <= 4 configs per (model, offer), then the allocation MILP. Gap 0 on this "
         "instance; benchmarks/bench_fleet.py reports it at 20 and 50 models.",
))
register(Claim(
    "09-solve-tens-of-seconds", "09", "What it claims",
    "The decomposed solve takes tens of seconds or less (50 models x 20 GPU configs)",
    "< 30", "s", "model", _two_stage_seconds_50, check=lambda v: v < 30.0,
))
register(Claim(
    "09-full-solve-hours", "09", "What it claims",
    "Without the decomposition the joint solve takes hours",
    "> 3600", "s", "model", _full_seconds_50, check=lambda v: v > 3600.0, expected_status="not-reproduced",
    note="Our full MILP (replicas per model x offer x config, HiGHS) solves 50 x 20 in about a second; "
         "Coral's joint program (with its serving-strategy search inside) is larger than ours.",
))
register(Claim(
    "09-goodput-under-scarcity", "09", "What it claims",
    "Up to 2.39x higher goodput under scarce availability (re-solve vs static plan, half a class gone)",
    2.39, "x", "model", _goodput_ratio, rel_tol=0.10, expected_status="not-reproduced",
    note="Cannot be recomputed (no Coral scarcity scenario in the note). Ours: the plan loses half the "
         "nodes of one GPU class; re-solving at the same budget vs keeping the rest of the old plan.",
))
register(Claim(
    "09-mid-tier-comparable", "09", "What is interesting",
    "Mid-tier / older GPUs give comparable performance per dollar (A100 vs H100, Llama 3.1 70B chat)",
    "0.67-1.5", "x", "model", _mid_tier_perf_per_dollar, check=lambda v: 0.67 <= v <= 1.5,
    note="Closed-form capacity at 500/50 ms p99, best TP and architecture per GPU, catalog default prices "
         "(CoreWeave on-demand, A100 $2.70, H100 $6.155 per GPU-hour).",
))
