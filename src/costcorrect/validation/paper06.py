"""Paper 06 (verifier procurement): every computable number, recomputed.

Arithmetic claims use the paper's own formulas and Table 1. Model claims run the §7
analogue (:mod:`costcorrect.verification.simulate`) at the Table-1 cell only (K = 16,
N = 256, 200 seeds, the three dataset analogues) so that validation stays fast; the full
sweep is ``costcorrect procure simulate`` / ``benchmarks/bench_procurement.py``.
"""

from __future__ import annotations

import numpy as np

from costcorrect.validation.registry import Claim, Context, register
from costcorrect.verification import simulate as sm
from costcorrect.verification.mechanism import implied_constant, sample_size
from costcorrect.verification.probes import share_from_ratio

T1 = sm.PAPER_TABLE1


def _sim(ctx: Context):
    """The Table-1 cell of the analogue, computed once per validation run."""
    if "paper06_sim" not in ctx.extras:
        cfg = sm.SimConfig(ks=(16,), ns=(256,), rules=("brier", "quadratic", "log"),
                           strategies=("uniform", "maximin"))
        ctx.extras["paper06_sim"] = sm.run_sweep(cfg, seeds=200, workers=1)
    return ctx.extras["paper06_sim"]


def _t1(ctx: Context) -> dict:
    return {(r["mechanism"], r["dataset"]): r["gap_pct"] for r in sm.table1(_sim(ctx))}


def _closes(mech: str, ds: str, ref: str = "random") -> float:
    """Share of the reference baseline's gap that ``mech`` closes, from Table 1 [%]."""
    return 100.0 * (T1[ref][ds] - T1[mech][ds]) / T1[ref][ds]


# ---------------------------------------------------------------- §5 sample size
register(Claim(
    "06-sample-size-k16", "06", "§5", "Probes for ε = 0.05 at K = 16: N = C²·ln K/ε² with C = 1", 1100,
    "probes", "arithmetic", lambda c: int(sample_size(16, 0.05, 1.0)), rel_tol=0.01,
    note="ln 16 / 0.05² = 1109.04 → 1,110 probes (natural log, C = 1); the paper rounds to ≈1100.",
))
register(Claim(
    "06-sample-size-k32", "06", "§5", "Probes for ε = 0.05 at K = 32: N = C²·ln K/ε² with C = 1", 1400,
    "probes", "arithmetic", lambda c: int(sample_size(32, 0.05, 1.0)), rel_tol=0.01,
    note="ln 32 / 0.05² = 1386.3 → 1,387 probes.",
))
register(Claim(
    "06-sample-size-constant", "06", "§5", "C implied by the paper's ≈1100 (K = 16) and ≈1400 (K = 32)",
    "≈ 1 (order unity)", "-", "arithmetic",
    lambda c: float(np.round(np.mean([implied_constant(1100, 16, 0.05), implied_constant(1400, 32, 0.05)]), 3)),
    check=lambda v: 0.95 <= v <= 1.05,
    note="C = ε·sqrt(N/ln K): 0.996 (K = 16) and 1.005 (K = 32), natural log. Our simulated worst-case "
         "constant for binary reports is ≈0.23 (see 06-worst-case-constant), so the paper's budgets are "
         "conservative by ~(1/0.23)² ≈ 19x.",
))
register(Claim(
    "06-worst-case-constant", "06", "§5", "Regret constant C 'on the order of unity' (simulated worst case, K = 16)",
    "≈ 1", "-", "model",
    lambda c: float(np.max(sm.worst_case_regret(16, [64, 256, 1024], seeds=1000)
                           / np.sqrt(np.log(16) / np.array([64, 256, 1024])))),
    check=lambda v: 0.5 <= v <= 2.0, expected_status="not-reproduced",
    note="sup over the two-level (Le Cam) family of Δ·P(wrong selection), binary reports with α ≈ 0.75: "
         "C ≈ 0.23. The bound's C = 1 is what the paper's probe budgets use; the simulated constant is "
         "4x smaller, so N ≈ 60 (not 1,110) probes reach ε = 0.05 in the worst case at K = 16.",
))
register(Claim(
    "06-rate-slope", "06", "§5 Theorems 3–4", "Worst-case regret decays as sqrt(log K / N): log-log slope in N",
    -0.5, "-", "model", lambda c: sm.fit_rate([64, 256, 1024, 4096], sm.worst_case_regret(16, [64, 256, 1024, 4096],
                                                                                         seeds=1000))[0],
    check=lambda v: -0.6 <= v <= -0.4,
))

# ---------------------------------------------------------------- §7 cost decomposition
register(Claim(
    "06-construction-share", "06", "§7", "Construction 7x the payments ⇒ construction share of total cost",
    87, "%", "arithmetic", lambda c: float(100 * share_from_ratio(7.0)), rel_tol=0.01,
    note="7/(7+1) = 87.5 %; the paper prints 87 % (truncated). Consistent.",
))

# ---------------------------------------------------------------- §7 text vs Table 1 (arithmetic)
register(Claim(
    "06-public-closes-math", "06", "§7", "Public-benchmark ranking closes 40–60 % of the gap on MATH (Table 1)",
    "40–60", "%", "arithmetic", lambda c: round(_closes("public_benchmark", "math"), 1),
    check=lambda v: 40 <= v <= 60, expected_status="erratum",
    note="From the paper's own Table 1, (27.4 - 5.8)/27.4 = 78.8 % of the random-choice gap "
         "((30.6 - 5.8)/30.6 = 81.0 % of the posted-price gap): the text's 40–60 % does not match the table.",
))
register(Claim(
    "06-public-closes-gsm8k", "06", "§7", "Public-benchmark ranking closes 40–60 % of the gap on GSM8K (Table 1)",
    "40–60", "%", "arithmetic", lambda c: round(_closes("public_benchmark", "gsm8k"), 1),
    check=lambda v: 40 <= v <= 60, expected_status="erratum",
    note="(25.1 - 4.1)/25.1 = 83.7 % of the random-choice gap per Table 1, not 40–60 %.",
))
register(Claim(
    "06-public-closes-humaneval", "06", "§7", "Public-benchmark ranking closes only 18 % of the gap on HumanEval",
    18, "%", "arithmetic", lambda c: round(_closes("public_benchmark", "humaneval"), 1), decimals=0,
    expected_status="erratum",
    note="(31.8 - 18.4)/31.8 = 42.1 % of the random-choice gap; 18.4 % is the remaining gap itself, "
         "not the share closed.",
))
register(Claim(
    "06-posted-closes-under-30", "06", "§7", "Posted price closes no more than 30 % of the gap (Table 1, all datasets)",
    "<= 30", "%", "arithmetic",
    lambda c: round(max(_closes("posted_price", ds) for ds in ("math", "gsm8k", "humaneval")), 1),
    check=lambda v: v <= 30,
    note="Against random choice posted price closes a negative share (it is worse than random: "
         "-11.7 % on MATH), consistent with the claim.",
))

# ---------------------------------------------------------------- §7 simulation (model, our analogue)
register(Claim(
    "06-table1-scoring-within-5", "06", "§7 Table 1",
    "Scoring rule (Brier, maximin, K = 16, N = 256) within 5 % of oracle on all three datasets",
    "< 5", "%", "model", lambda c: round(max(v for (m, _), v in _t1(c).items() if m == "scoring_rule"), 3),
    check=lambda v: v < 5,
    note="Our analogue: well under 1 % on all three (paper: 4.7 / 4.9 / 6.4 %; note the paper's own "
         "HumanEval 6.4 % contradicts 'all three').",
))
register(Claim(
    "06-table1-ordering", "06", "§7 Table 1",
    "Ordering: scoring rule < public benchmark (HumanEval) and scoring rule < random < posted price",
    True, "-", "model",
    lambda c: bool(all(_t1(c)[("scoring_rule", d)] < _t1(c)[("random", d)] < _t1(c)[("posted_price", d)]
                       for d in ("math", "gsm8k", "humaneval"))
                   and _t1(c)[("scoring_rule", "humaneval")] < _t1(c)[("public_benchmark", "humaneval")]),
))
register(Claim(
    "06-table1-brier-math", "06", "§7 Table 1", "Scoring rule (Brier) gap on MATH, K = 16, N = 256, maximin",
    4.7, "%", "model", lambda c: round(_t1(c)[("scoring_rule", "math")], 3), rel_tol=0.25,
    expected_status="not-reproduced",
    note="Our analogue gives ≈0.1 %: with calibration fractions log-spaced in [0.05, 1] and truthful "
         "calibrated reports, the top verifiers are separated well enough that 256 maximin probes nearly "
         "always find the best one. The paper's trajectory-feature heads are not public; its larger "
         "residual gap implies near-ties at the top that our documented analogue does not have.",
))
register(Claim(
    "06-table1-public-math", "06", "§7 Table 1", "Public-benchmark gap on MATH (calibration-monotone case)",
    5.8, "%", "model", lambda c: round(_t1(c)[("public_benchmark", "math")], 3), rel_tol=0.25,
    expected_status="not-reproduced",
    note="≈0 in our analogue, and necessarily small: in a calibration-monotone family the quality "
         "order is the same on every distribution, so a shifted public benchmark still ranks correctly "
         "(up to estimation noise). Corollary 1's non-identification needs non-monotone types — which is "
         "exactly the HumanEval case, where we do reproduce a large public-benchmark gap.",
))
register(Claim(
    "06-table1-public-humaneval", "06", "§7 Table 1", "Public-benchmark gap on HumanEval (monotone violation)",
    18.4, "%", "model", lambda c: round(_t1(c)[("public_benchmark", "humaneval")], 3), rel_tol=0.25,
    note="Reproduced in kind: 2 of 16 verifiers read a long-program-only signal, the public split is "
         "80 % long programs, the deployer's 25 %.",
))
register(Claim(
    "06-table1-random-math", "06", "§7 Table 1", "Random verifier choice gap on MATH", 27.4, "%", "model",
    lambda c: round(_t1(c)[("random", "math")], 3), rel_tol=0.25, expected_status="not-reproduced",
    note="The random-choice gap is set by the spread of verifier quality, a property of the population "
         "(here τ_max = 6 logits of signal noise at β = 0.05), not of the mechanism; ours is ≈19 %.",
))
register(Claim(
    "06-table1-posted-math", "06", "§7 Table 1", "Posted-price gap on MATH", 30.6, "%", "model",
    lambda c: round(_t1(c)[("posted_price", "math")], 3), rel_tol=0.25,
    note="Posted price is worse than random choice in both (Theorem 1 unravelling).",
))
register(Claim(
    "06-posted-worst2", "06", "§7", "Posted price ends on the worst two types (MATH, K = 16)", 72, "% of seeds",
    "model", lambda c: round(100 * float(_sim(c).query("mechanism == 'posted_price' and dataset == 'math'")
                                         ["worst2"].mean()), 2), rel_tol=0.1,
    note="Cost of quality κ(α) = ((α - 0.5)/0.5)^6 USD, buyer value 1.5 κ (stated assumptions).",
))
register(Claim(
    "06-brier-quadratic-identical", "06", "§7", "Brier and quadratic give indistinguishable results",
    True, "-", "model",
    lambda c: bool((_sim(c).query("rule == 'brier'")["gap_pct"].to_numpy()
                    == _sim(c).query("rule == 'quadratic'")["gap_pct"].to_numpy()).all()),
    note="Identical, not just indistinguishable: the quadratic score (either the paper's 2pℓ - p² or "
         "Gneiting–Raftery's) is an affine transform of Brier plus a term in the label only, so the "
         "argmax is the same on every probe set.",
))


def _log_dispersion_pct(ctx: Context) -> float:
    s = _sim(ctx).query("mechanism == 'scoring_rule' and strategy == 'maximin' and dataset == 'math'")
    cv = s.groupby("rule")["payment_cv"].mean()
    return float(100 * (cv["log"] / cv["brier"] - 1))


register(Claim(
    "06-log-dispersion", "06", "§7", "Log rule: higher payment dispersion than Brier (same cap)", 1.2, "%",
    "model", lambda c: round(_log_dispersion_pct(c), 2), rel_tol=0.5, expected_status="not-reproduced",
    note="Dispersion = coefficient of variation of the K payments, with a, b set from IR and the same "
         "per-probe cap. The log rule's range (clipped at 1e-3: [-6.9, 0]) is ~7x Brier's, so with the cap "
         "binding its payments vary far less across vendors; the paper's +1.2 % depends on an "
         "unstated normalisation of a and b.",
))


def _maximin_gain(ctx: Context) -> float:
    s = _sim(ctx).query("mechanism == 'scoring_rule' and rule == 'brier' and dataset != 'humaneval'")
    g = s.groupby("strategy")["alpha_gap"].mean()
    return float(g["uniform"] / g["maximin"])


register(Claim(
    "06-maximin-sqrt-k", "06", "§6 Proposition 1",
    "Maximin entropy shrinks the regret constant by ~sqrt(K) = 4 at K = 16",
    4.0, "x", "model", lambda c: round(_maximin_gain(c), 3), rel_tol=0.5, expected_status="not-reproduced",
    note="Ratio of mean α-regret, uniform / maximin, at K = 16, N = 256 (MATH and GSM8K analogues). "
         "Maximin helps, but by well under sqrt(K) in our analogue.",
))
