"""Paper 07 (verifier composition): every computable number, recomputed.

Theorem 2's construction (§4) and the joint-mechanism sample size (§6) are arithmetic. The §7
propositions and §8 findings run the documented analogue of
:mod:`costcorrect.verification.composition_sim` at K1 = K2 = 16 only (all five C̄, N = 16…4096,
marginal-disagreement and conditional-rare-event probes, 30 seeds) so validation stays fast;
the full sweep (all K, 200 seeds) is ``costcorrect compose simulate`` /
``benchmarks/bench_composition.py``.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from costcorrect.validation.registry import Claim, Context, register
from costcorrect.verification import composition as cp
from costcorrect.verification.mechanism import sample_size


def _t2(ctx: Context) -> dict:
    if "paper07_t2" not in ctx.extras:
        ctx.extras["paper07_t2"] = cp.theorem2_construction()
    return ctx.extras["paper07_t2"]


register(Claim(
    "07-thm2-coupling", "07", "§4", "Theorem 2: C of (V1, V2) from the joint table", 0.04, "-", "arithmetic",
    lambda c: round(_t2(c)["V1"]["coupling"], 4), decimals=2,
    note="C = P(1,1) − α1α2 = 0.40 − 0.6·0.6.",
))
register(Claim(
    "07-thm2-pipeline-v1", "07", "§4", "Theorem 2: AND-pipeline accept rate of (V1, V2)", 0.40, "-",
    "arithmetic", lambda c: round(_t2(c)["V1"]["pipeline_accept_rate"], 4), decimals=2,
))
register(Claim(
    "07-thm2-pipeline-v1prime", "07", "§4", "Theorem 2: AND-pipeline accept rate of (V1', V2)", 0.36, "-",
    "arithmetic", lambda c: round(_t2(c)["V1_prime"]["pipeline_accept_rate"], 4), decimals=2,
))
register(Claim(
    "07-thm2-marginal-tie", "07", "§4", "Theorem 2: V1 and V1' have equal per-verifier (marginal) Brier scores",
    "True", "-", "arithmetic", lambda c: abs(_t2(c)["marginal_score_difference"]) < 1e-12,
    check=lambda v: v is True,
))
register(Claim(
    "07-thm2-cost-gap", "07", "§4", "Theorem 2: Cost-correct gap 0.04/0.36", 11.0, "%", "arithmetic",
    lambda c: round(_t2(c)["cost_correct_gap_pct"], 2), rel_tol=0.02,
    note="0.40/0.36 − 1 = 11.11 % (the paper prints ≈11 %).",
))
register(Claim(
    "07-thm2-expected-gap", "07", "§4", "Theorem 2: expected gap of the per-verifier mechanism (w.p. 1/2)",
    5.5, "%", "arithmetic", lambda c: round(_t2(c)["expected_gap_pct"], 2), rel_tol=0.02,
    note="½ · 11.11 % = 5.56 %; the paper's 5.5 % is half of its rounded 11 %.",
))
register(Claim(
    "07-sample-size-k16", "07", "§6",
    "Joint-mechanism probes at K1 = K2 = 16, ε = 0.05: N = (ln K1 + ln K2)/ε²",
    2200, "probes", "arithmetic", lambda c: int(cp.joint_sample_size(16, 16, 0.05)), rel_tol=0.01,
    note="(ln 16 + ln 16)/0.05² = 2218.07 → 2,219 probes with C = 1 (same constant as paper 06's ≈1100).",
))
register(Claim(
    "07-sample-size-ratio", "07", "§6", "Joint budget / Paper #1 budget at K = 16 (factor of two)", 2.0, "x",
    "arithmetic", lambda c: round(int(cp.joint_sample_size(16, 16, 0.05)) / int(sample_size(16, 0.05)), 3),
    rel_tol=0.01,
    note="2219 / 1110: ln(K1·K2) = 2 ln K when K1 = K2.",
))


# ---------------------------------------------------------------- §7 propositions and §8 simulation
@lru_cache(maxsize=1)
def _sim_findings() -> dict:
    """The K1 = K2 = 16 slice of the §8 analogue, computed once per process (deterministic)."""
    from costcorrect.verification import composition_sim as cs

    cfg = cs.CompSimConfig(ks=(16,), strategies=("marginal", "rare"))
    return cs.findings(cs.run_sweep(cfg, seeds=30), k=16, strategy="rare")


def _f(ctx: Context) -> dict:
    return _sim_findings()


def _rank1_caught_and_restored() -> tuple[float, float]:
    """Negative finding: a homogeneous population (loading 0) on 20 seeds: share of seeds whose
    pre-flight refuses under marginal probes, and share restored to rank ≥ 2 by rare-event probes."""
    from costcorrect.verification import composition_sim as cs

    cfg = cs.CompSimConfig(loading=0.0, pool_size=512)
    caught = restored = 0
    for seed in range(20):
        rng = np.random.default_rng([7, seed])
        pop = cs.population(cfg, 4, 4, 0.1, rng)
        q = cs.joint_cells(pop["a1x"][:, None, :], pop["a2x"][None, :, :], pop["cx"])  # (K1, K2, M, 4)
        out = {}
        for strat in ("marginal", "rare"):
            pi = cs.sampling_probs(cs.strategy_scores(strat, pop["a1x"], pop["a2x"], pop["cx"]))
            idx = rng.choice(pi.size, 256, p=pi)
            out[strat] = all(cp.identifiability(q[i, j, idx])["identifiable"] for i in range(4) for j in range(4))
        caught += not out["marginal"]
        restored += (not out["marginal"]) and out["rare"]
    return caught / 20, (restored / caught if caught else 0.0)


register(Claim(
    "07-prop2-bound", "07", "§7 Prop. 2", "Worst-case unknown/known budget ratio sqrt(K1K2/(K1+K2)) at K1 = K2 = 16",
    "sqrt(8) = 2.83", "x", "arithmetic", lambda c: round(float(cp_sim().prop2_ratio_bound(16, 16)), 3),
    check=lambda v: abs(v - 8 ** 0.5) < 1e-3,
    note="The paper states the bound as a formula; 2.828 at K1 = K2 = 16.",
))
register(Claim(
    "07-prop3-factor", "07", "§7 Prop. 3",
    "Rare-event probes cut the regret constant by sqrt(min(K1, K2)) = 4 vs marginal-disagreement (K = 16)",
    4.0, "x", "model", lambda c: round(_f(c)["regret_ratio_marginal_over_rare"], 3), rel_tol=0.5,
    expected_status="not-reproduced",
    note="Ratio of the joint mechanism's mean α-regret (C̄ unknown, all C̄ and N) with marginal-disagreement "
         "vs conditional-rare-event probes in our analogue: ≈1, not 4. With importance-weighted (unbiased) "
         "probes the strategy only reshapes variance; no strategy changes the union-bound constant here.",
))
register(Claim(
    "07-s8-identity-r2", "07", "§8 finding 1", "Observed pipeline rate on y = α1α2 + C (R², HumanEval lowest)",
    "0.981–0.997", "-", "model", lambda c: round(_f(c)["identity"]["r2"], 4), check=lambda v: v >= 0.981,
    note="Observed: AND frequency of 4,096 pipeline runs per pair; predicted: E_x[α1(x)α2(x)] + E_x C(x). "
         "The identity is algebraic, so R² < 1 is sampling noise only.",
))
register(Claim(
    "07-s8-coupling-match", "07", "§8", "Empirical covariance matches the construction target within ±0.02 "
    "(95th percentile of |error| over pairs)", 0.02, "-", "model",
    lambda c: round(_f(c)["identity"]["coupling_error_p95"], 4), check=lambda v: v <= 0.02,
    note="The largest errors are at C̄ = ±0.2, where the target sits at the Fréchet limit for accept rates "
         "near 0.5 with item heterogeneity: the shared-latent λ clips at 1 and the realised C falls short "
         "of the target for the most coupled pairs (see the max error in the benchmark).",
))
register(Claim(
    "07-s8-per-verifier-fails", "07", "§8 finding 2",
    "Per-verifier baseline never reaches the 5 % target at any N ≤ 4096 when |C̄| ≥ 0.1 (K = 16)",
    "True", "-", "model", lambda c: all(v is None for v in _f(c)["per_verifier_n_to_target"].values()),
    check=lambda v: v is True,
))
register(Claim(
    "07-s8-per-verifier-cbar0", "07", "§8 finding 2", "Per-verifier baseline at C̄ = 0 reaches the target at N",
    256, "probes", "model", lambda c: _f(c)["per_verifier_n_at_cbar0"], check=lambda v: v == 256,
))
register(Claim(
    "07-s8-joint-unknown-n", "07", "§8 finding 3",
    "Joint mechanism, C̄ unknown, rare-event probes: N reaching the 5 % target at every C̄ (MATH/GSM8K)",
    512, "probes", "model", lambda c: _f(c)["joint_unknown_n"], check=lambda v: v == 512,
    note="30 seeds on the power-of-two N grid, worst C̄ of the five. The 200-seed full sweep "
         "(docs/benchmarks.md) needs N = 1,024 (the paper's HumanEval value), so this match is fragile.",
))
register(Claim(
    "07-s8-joint-known-n", "07", "§8 finding 4", "Joint mechanism, C̄ known (side channel): N reaching the target",
    256, "probes", "model", lambda c: _f(c)["joint_known_n"], check=lambda v: v == 256,
    expected_status="not-reproduced",
    note="With the pair couplings supplied, α̂1·α̂2 + C_pair removes the AND indicator's extra variance, "
         "but in our analogue the remaining error (K1·K2 = 256 products of marginal estimates) still needs "
         "N = 512 at the worst C̄ at 30 seeds; the side channel helps less than the paper reports.",
))
register(Claim(
    "07-s8-known-unknown-ratio", "07", "§8 finding 4", "Unknown/known C̄ probe-budget ratio (≈ 2, ≤ Prop. 2 bound)",
    "≈ 2", "x", "model", lambda c: _f(c)["unknown_over_known"],
    check=lambda v: v is not None and 1.5 <= v <= 2.83, expected_status="not-reproduced",
    note="Follows from the two rows above (512 / 512 at 30 seeds). The 200-seed full sweep gives "
         "1,024 / 512 = 2.0, matching the paper's factor of two, but each budget is twice the paper's.",
))
register(Claim(
    "07-s8-per-verifier-plateau", "07", "§8 cross-paper",
    "Per-verifier gap at C̄ = 0.1 flattens near 12 % (mean over N = 256…4096)", 12.0, "%", "model",
    lambda c: round(float(np.mean([g for n, g in _f(c)["per_verifier_curve_cbar01"].items() if n >= 256])), 2),
    rel_tol=0.25,
))
register(Claim(
    "07-s8-preflight-catches", "07", "§8 negative finding",
    "Pre-flight (Prop. 1) catches a rank-deficient (homogeneous) pair population", "True", "-", "model",
    lambda c: _rank1_caught_and_restored()[0] == 1.0, check=lambda v: v is True,
))
register(Claim(
    "07-s8-preflight-restored", "07", "§8 negative finding",
    "Switching to conditional-rare-event probes restores full rank", 87, "% of seeds", "model",
    lambda c: round(100 * _rank1_caught_and_restored()[1], 1), rel_tol=0.1, expected_status="not-reproduced",
    note="In our homogeneous population every probe carries the same joint report, so no re-selection of "
         "probes from that pool can create a second probe type: 0 %. Restoring rank needs new probe "
         "types (the paper's 'manual intervention'), which a selection strategy cannot supply.",
))


def cp_sim():
    from costcorrect.verification import composition_sim as cs

    return cs
