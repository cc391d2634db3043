"""Cost per correct answer: the unit, its partials and elasticities (papers 02 §4, 03 §2-4, 08 §1).

    C = CPM_1:1 · R · (1 + ρ̄) / α                                            (02 §4)

- ``cpm_1to1_usd_per_mtok`` -- CPM_1:1 = (p_in + p_out) / 2, the blended public-API price
  (08 §1); or, self-hosted, CPM_served from :mod:`costcorrect.serving` (01 §2). [$/MTok]
- ``reasoning_multiplier`` -- R, billed output tokens / final-answer tokens (02 §2). [-]
- ``rollout_ratio`` -- ρ̄, extra attempts per task: 0 for one sample, N-1 for best-of-N
  (02 §4, 03 §1). [-]
- ``accept_rate`` -- α, share of tasks whose answer the verifier accepts (02 §4). [-]

C is in dollars per million *accepted final-answer tokens*; times the answer length it is
the cost of one correct answer. Every function is pure, vectorised NumPy (broadcasting);
inputs are validated by the faces (CLI, pydantic models), not here. ``routing.py`` and
other engines import these functions rather than re-deriving the unit.
"""

from __future__ import annotations

import numpy as np

from costcorrect import units

__all__ = [
    "additive_change_share",
    "alpha_point_vs_cpm_point",
    "cost_correct_partials",
    "cost_correct_usd_per_mtok",
    "cost_elasticities",
    "cost_per_correct_answer_usd",
    "cpm_1to1_usd_per_mtok",
    "max_verifier_cost_ratio",
    "tornado_rows",
    "vcpd_usd_per_mtok",
]


def cpm_1to1_usd_per_mtok(price_in_usd_per_mtok, price_out_usd_per_mtok):
    """CPM_1:1 = (p_in + p_out) / 2, the blended price at a 1:1 token mix (08 §1, 02 §4). [$/MTok]

    Parameters
    ----------
    price_in_usd_per_mtok : numeric -- public input price. [$/MTok]
    price_out_usd_per_mtok : numeric -- public output price. [$/MTok]

    >>> float(cpm_1to1_usd_per_mtok(5.0, 30.0))  # GPT-5.5, 08 Table 1
    17.5
    """
    return (np.asarray(price_in_usd_per_mtok, dtype=float) + np.asarray(price_out_usd_per_mtok, dtype=float)) / 2.0


def cost_correct_usd_per_mtok(cpm_1to1_usd_per_mtok, reasoning_multiplier, rollout_ratio, accept_rate):
    """Cost-correct C = CPM_1:1 · R · (1 + ρ̄) / α (02 §4, eq. in 03 §1, 04 eq. 1). [$/MTok]

    Parameters
    ----------
    cpm_1to1_usd_per_mtok : numeric -- blended price, or CPM_served when self-hosted. [$/MTok]
    reasoning_multiplier : numeric -- R >= 1 in practice. [-]
    rollout_ratio : numeric -- ρ̄ >= 0 (N - 1 for best-of-N). [-]
    accept_rate : numeric -- α in (0, 1]; α = 0 gives ``inf`` (no answer is ever accepted). [-]

    Returns
    -------
    numeric -- dollars per million accepted final-answer tokens. [$/MTok]

    >>> float(cost_correct_usd_per_mtok(17.5, 10, 3, 0.5))  # 17.5 * 10 * 4 / 0.5
    1400.0
    """
    a = np.asarray(accept_rate, dtype=float)
    num = (np.asarray(cpm_1to1_usd_per_mtok, dtype=float) * np.asarray(reasoning_multiplier, dtype=float)
           * (1.0 + np.asarray(rollout_ratio, dtype=float)))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(a > 0, num / np.where(a > 0, a, 1.0), np.inf)


def cost_per_correct_answer_usd(cost_correct_usd_per_mtok, answer_tokens):
    """Dollars per accepted answer: C times the final-answer length (02 §4). [$]

    >>> round(float(cost_per_correct_answer_usd(1400.0, 500)), 6)
    0.7
    """
    per_token = np.asarray(cost_correct_usd_per_mtok, dtype=float) / units.TOKENS_PER_MTOK
    return per_token * np.asarray(answer_tokens, dtype=float)


def vcpd_usd_per_mtok(cpm_1to1_usd_per_mtok):
    """VCpD's cost side: Cost-correct at R = 1, ρ̄ = 0, α = 1, i.e. CPM itself (02 §4, 08). [$/MTok]

    >>> float(vcpd_usd_per_mtok(8.75))
    8.75
    """
    return cost_correct_usd_per_mtok(cpm_1to1_usd_per_mtok, 1.0, 0.0, 1.0)


def cost_correct_partials(cpm_1to1_usd_per_mtok, reasoning_multiplier, rollout_ratio, accept_rate) -> dict:
    """∂C/∂p, ∂C/∂R, ∂C/∂ρ̄, ∂C/∂α (03 §2). Units: C's unit per unit of each lever.

    >>> d = cost_correct_partials(2.0, 10.0, 1.0, 0.5)
    >>> [float(d[k]) for k in ("p", "R", "rho", "alpha")]
    [40.0, 8.0, 40.0, -160.0]
    """
    p = np.asarray(cpm_1to1_usd_per_mtok, dtype=float)
    r = np.asarray(reasoning_multiplier, dtype=float)
    rho = np.asarray(rollout_ratio, dtype=float)
    a = np.asarray(accept_rate, dtype=float)
    return {
        "p": r * (1 + rho) / a,
        "R": p * (1 + rho) / a,
        "rho": p * r / a,
        "alpha": -p * r * (1 + rho) / a**2,
    }


def cost_elasticities(rollout_ratio) -> dict:
    """Log-elasticities of C: ε_p = ε_R = 1, ε_ρ̄ = ρ̄/(1+ρ̄), ε_α = -1 (03 §2). [-]

    Only ε_ρ̄ depends on the operating point (C is a monomial in p, R and α).

    >>> e = cost_elasticities(15.0)
    >>> [float(e[k]) for k in ("p", "R", "rho", "alpha")]
    [1.0, 1.0, 0.9375, -1.0]
    """
    rho = np.asarray(rollout_ratio, dtype=float)
    one = np.ones_like(rho)
    return {"p": one, "R": one.copy(), "rho": rho / (1.0 + rho), "alpha": -one}


def additive_change_share(accept_rate, delta_accept_rate=0.01):
    """Share of C removed by lifting α additively by Δ: 1 - α/(α+Δ) (03 §2). [-]

    03 §2: "a single α percentage point at the operating mean is worth approximately 2 % of C"
    (α = 0.5) and 0.4 -> 0.5 removes 20 %.

    >>> round(float(additive_change_share(0.5)), 4), round(float(additive_change_share(0.4, 0.1)), 4)
    (0.0196, 0.2)
    """
    a = np.asarray(accept_rate, dtype=float)
    return 1.0 - a / (a + np.asarray(delta_accept_rate, dtype=float))


def alpha_point_vs_cpm_point(accept_rate, delta_accept_rate=0.01, cpm_cut_share=0.01):
    """How many times more C one α point removes than a 1 % CPM cut (03 TL;DR, §2). [-]

    >>> round(float(alpha_point_vs_cpm_point(0.2)), 2), round(float(alpha_point_vs_cpm_point(0.7)), 2)
    (4.76, 1.41)
    """
    return additive_change_share(accept_rate, delta_accept_rate) / np.asarray(cpm_cut_share, dtype=float)


def max_verifier_cost_ratio(accept_rate_without, accept_rate_with, rollout_ratio_without=0.0,
                            rollout_ratio_with=0.0):
    """Largest verifier/generator cost ratio k at which adding the verifier still lowers C (03 §4). [-]

    Without the verifier C₀ ∝ (1+ρ̄₀)/α₀; with a verifier costing k generator passes per attempt
    C₁ ∝ (1+k)(1+ρ̄₁)/α₁. C₁ < C₀ iff ``k < α₁(1+ρ̄₀) / (α₀(1+ρ̄₁)) - 1``. A negative result
    means no verifier, however cheap, pays for itself at those accept rates and rollouts.

    >>> round(float(max_verifier_cost_ratio(0.414, 0.864)), 3)  # same rollouts: may cost 1.09 passes
    1.087
    >>> round(float(max_verifier_cost_ratio(0.414, 0.864, 0, 63)), 3)  # rStar's 64 rollouts
    -0.967
    """
    a0 = np.asarray(accept_rate_without, dtype=float)
    a1 = np.asarray(accept_rate_with, dtype=float)
    return a1 * (1.0 + np.asarray(rollout_ratio_without, dtype=float)) / (
        a0 * (1.0 + np.asarray(rollout_ratio_with, dtype=float))) - 1.0


LEVERS = ("cpm_1to1_usd_per_mtok", "reasoning_multiplier", "rollout_ratio", "accept_rate")


def tornado_rows(base: dict, ranges: dict) -> list[dict]:
    """C at the low and high end of each lever's range, others at base (03 §2, tornado chart).

    Parameters
    ----------
    base : dict -- the four levers (keys of :data:`LEVERS`) at the operating point.
    ranges : dict -- ``lever -> (low, high)`` for the levers to vary.

    Returns
    -------
    list of dict -- one row per lever, sorted by swing (largest first): ``lever``, ``low``,
    ``high``, ``cost_low_usd_per_mtok``, ``cost_high_usd_per_mtok``, ``swing_usd_per_mtok``,
    and ``cost_base_usd_per_mtok``.

    >>> rows = tornado_rows({"cpm_1to1_usd_per_mtok": 1, "reasoning_multiplier": 1,
    ...                      "rollout_ratio": 0, "accept_rate": 0.5}, {"accept_rate": (0.4, 0.6)})
    >>> round(rows[0]["swing_usd_per_mtok"], 4)
    0.8333
    """
    c0 = float(cost_correct_usd_per_mtok(*(base[k] for k in LEVERS)))
    rows = []
    for lever, (lo, hi) in ranges.items():
        vals = []
        for v in (lo, hi):
            args = dict(base, **{lever: v})
            vals.append(float(cost_correct_usd_per_mtok(*(args[k] for k in LEVERS))))
        rows.append({"lever": lever, "low": float(lo), "high": float(hi), "cost_base_usd_per_mtok": c0,
                     "cost_low_usd_per_mtok": vals[0], "cost_high_usd_per_mtok": vals[1],
                     "swing_usd_per_mtok": abs(vals[1] - vals[0])})
    rows.sort(key=lambda r: -r["swing_usd_per_mtok"])
    return rows
