"""Training vs test-time allocation threshold (paper 04 §3-4, Appendix A-B).

Two channels under separability log α(T, ρ) = log α₀(T) + h(ρ) (04 eq. 4), with elasticities
η_T = ∂log α/∂log T and η_ρ = ∂log α/∂log ρ (04 eq. 5). Per dollar, the log-reduction of
C is

    g_T = η_T / (T c_T),        g_ρ = (η_ρ − s_ρ) / (ρ c_I)                (04 eq. 10, A.2)

where s_ρ = ∂log(cost per query)/∂log ρ is the rollouts' share of the query's cost:
ρ/(1+ρ) under eq. (1) with ρ counted as in paper 04 (A.1), → 1 when ρ ≫ 1 (eq. 7), and
ρ c_roll / (c_base + ρ c_roll) when rollouts are priced apart from the base pass (the
third price line of note 10, :mod:`costcorrect.allocation.harvest`). The inference channel
wins iff g_ρ > g_T, i.e. (η_ρ − s_ρ)/η_T > ρ c_I / (T c_T) = 1/μ for η_T > 0.

Dollar amounts ``t_cost_usd`` = T·c_T (training spend at the operating point, amortised
per query) and ``i_cost_usd`` = ρ·c_I (inference spend on rollouts per query).
"""

from __future__ import annotations

from importlib import resources

import numpy as np
import yaml

from costcorrect.errors import InputError

__all__ = [
    "corollary1_lhs",
    "corollary2_inference_advantage",
    "corollary3_mu",
    "load_calibration",
    "pass_at_k_local_elasticity",
    "per_dollar_returns",
    "rollout_cost_share",
    "run_case",
    "secant_elasticity",
    "threshold",
    "threshold_plane",
    "training_elasticity",
]


def secant_elasticity(y_from, y_to, x_from, x_to):
    """Secant elasticity log(y₁/y₀) / log(x₁/x₀) (04 §4.1). [-]

    >>> round(float(secant_elasticity(0.500, 0.533, 8, 64)), 4)  # rStar-Math AIME, 04 §4.1
    0.0307
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(np.asarray(y_to, dtype=float) / np.asarray(y_from, dtype=float)) / np.log(
            np.asarray(x_to, dtype=float) / np.asarray(x_from, dtype=float))


def training_elasticity(alpha_before, alpha_after, compute_share):
    """η_T implied by a lift α₀ → α₁ from extra training compute ΔT = s·T: log(α₁/α₀)/log(1+s) (04 §4.2). [-]

    >>> [round(float(x), 2) for x in training_elasticity(0.392, 0.798, [0.01, 0.10])]
    [71.44, 7.46]
    """
    s = np.asarray(compute_share, dtype=float)
    return np.log(np.asarray(alpha_after, dtype=float) / np.asarray(alpha_before, dtype=float)) / np.log1p(s)


def rollout_cost_share(rho, rollout_cost_usd=None, base_cost_usd=None):
    """s_ρ, the rollouts' share of a query's cost: ρ/(1+ρ) (04 A.1), or ρc/(c₀+ρc) if priced apart. [-]

    >>> float(rollout_cost_share(1.0)), round(float(rollout_cost_share(64.0)), 4)
    (0.5, 0.9846)
    """
    r = np.asarray(rho, dtype=float)
    if rollout_cost_usd is None:
        return r / (1.0 + r)
    rc = r * np.asarray(rollout_cost_usd, dtype=float)
    return rc / (np.asarray(base_cost_usd, dtype=float) + rc)


def per_dollar_returns(eta_t, eta_rho, t_cost_usd, i_cost_usd, cost_share):
    """(g_T, g_ρ): log-reduction of C per dollar on each channel (04 eq. 10, A.2). [1/$]

    >>> g_t, g_r = per_dollar_returns(0.5, 0.9, 100.0, 10.0, 0.5)
    >>> float(g_t), round(float(g_r), 3)
    (0.005, 0.04)
    """
    g_t = np.asarray(eta_t, dtype=float) / np.asarray(t_cost_usd, dtype=float)
    g_rho = (np.asarray(eta_rho, dtype=float) - np.asarray(cost_share, dtype=float)) / np.asarray(
        i_cost_usd, dtype=float)
    return g_t, g_rho


def threshold(eta_rho, eta_t, rho, t_cost_usd, i_cost_usd, cost_share=None) -> dict:
    """The threshold theorem in its general form (04 A.1) and its ρ ≫ 1 form (04 eq. 7).

    Parameters
    ----------
    eta_rho : float -- η_ρ, elasticity of α in the rollout count. [-]
    eta_t : float -- η_T > 0, elasticity of α in training compute. [-]
    rho : float -- rollout count per query (paper 04's convention). [-]
    t_cost_usd : float -- T·c_T, training dollars at the operating point per query. [$]
    i_cost_usd : float -- ρ·c_I, rollout dollars per query. [$]
    cost_share : float, optional -- s_ρ; default ρ/(1+ρ) (A.1).

    Returns
    -------
    dict -- ``lhs`` = (η_ρ − s_ρ)/η_T, ``rhs`` = ρc_I/(Tc_T) = 1/μ, ``inference_dominates``,
    the same for the ρ ≫ 1 form (``lhs_rho_gg_1``, ``inference_dominates_rho_gg_1``),
    the per-dollar returns, and ``robust`` (True when η_ρ ≤ s_ρ: no η_T > 0 and no
    prices can make the inference channel win).

    >>> r = threshold(0.031, 1.0, 64, 1.0, 1.0)
    >>> r["inference_dominates"], r["robust"], round(r["lhs_rho_gg_1"], 3)
    (False, True, -0.969)
    """
    s = float(rollout_cost_share(rho) if cost_share is None else cost_share)
    g_t, g_rho = per_dollar_returns(eta_t, eta_rho, t_cost_usd, i_cost_usd, s)
    lhs = (eta_rho - s) / eta_t
    lhs_inf = (eta_rho - 1.0) / eta_t
    rhs = i_cost_usd / t_cost_usd
    return {
        "inference_dominates": bool(g_rho > g_t),
        "lhs": float(lhs),
        "rhs": float(rhs),
        "mu": float(t_cost_usd / i_cost_usd),
        "rollout_cost_share": s,
        "g_training_per_usd": float(g_t),
        "g_inference_per_usd": float(g_rho),
        "lhs_rho_gg_1": float(lhs_inf),
        "inference_dominates_rho_gg_1": bool(lhs_inf > rhs),
        "robust": bool(eta_rho <= s),
        "form": "general (04 A.1)",
    }


def pass_at_k_local_elasticity(alpha_single, rho):
    """Local η_ρ of α(ρ) = 1 − (1 − α₁)^ρ (best-of-ρ with a perfect verifier). [-]

    Never above 1 (α is concave with α(0) = 0). At α₁ = 0.95, ρ = 1 it is 0.158,
    above the 1 − α₁ = 0.05 bound 04 §4.4 states.

    >>> round(float(pass_at_k_local_elasticity(0.95, 1.0)), 3)
    0.158
    """
    a1 = np.asarray(alpha_single, dtype=float)
    r = np.asarray(rho, dtype=float)
    q = (1.0 - a1) ** r
    return r * (-np.log1p(-a1)) * q / (1.0 - q)


def corollary1_lhs(eta_rho, rho, eta_t):
    """LHS of (A.1) as η_T → 0 (04 Corollary 1): diverges with the sign of η_ρ − ρ/(1+ρ). [-]

    >>> float(np.sign(corollary1_lhs(0.031, 64, 1e-9)))
    -1.0
    """
    return (np.asarray(eta_rho, dtype=float) - rollout_cost_share(rho)) / np.asarray(eta_t, dtype=float)


def corollary2_inference_advantage(eta_t, eta_rho, rho, t_cost_usd, rollout_cost_usd_per_r, reasoning_multiplier):
    """g_ρ/g_T when a rollout's price scales with R (tokens) and training's does not (04 Corollary 2). [-]

    C ∝ R, so R cancels from (A.1) unless the channels' prices depend on it; rollouts are billed
    per token, so ρ·c_I ∝ R and a larger R *raises* the bar for the inference channel.

    >>> a = corollary2_inference_advantage(1.0, 0.9, 1.0, 1.0, 0.1, [10, 50])
    >>> bool(a[0] > a[1])
    True
    """
    i_cost = np.asarray(rho, dtype=float) * rollout_cost_usd_per_r * np.asarray(reasoning_multiplier, dtype=float)
    g_t, g_rho = per_dollar_returns(eta_t, eta_rho, t_cost_usd, i_cost, rollout_cost_share(rho))
    return g_rho / g_t


def corollary3_mu(training_cost_usd, query_lifetime, rho, c_inference_usd):
    """μ = T c_T / (ρ c_I) with c_T = (training dollars)/Q amortised over Q queries (04 §3.3, Cor. 3). [-]

    μ *falls* as Q grows, so 1/μ (the bar for the inference channel) rises.

    >>> [round(float(x), 6) for x in corollary3_mu(1e6, [1e6, 1e8], 10, 0.01)]
    [10.0, 0.1]
    """
    return (np.asarray(training_cost_usd, dtype=float) / np.asarray(query_lifetime, dtype=float)) / (
        np.asarray(rho, dtype=float) * np.asarray(c_inference_usd, dtype=float))


def threshold_plane(t_grid, rho_grid, eta_rho, eta_t, c_t_usd, c_i_usd) -> dict:
    """The (T, ρ) plane of 04 §3.4 at constant elasticities: which channel wins in each cell.

    Parameters
    ----------
    t_grid : array -- training compute T in units whose marginal price is ``c_t_usd``. [unit]
    rho_grid : array -- rollout counts. [-]
    eta_rho, eta_t : float -- constant elasticities. [-]
    c_t_usd : float -- c_T, dollars per unit of T per query (amortised). [$]
    c_i_usd : float -- c_I, dollars per rollout. [$]

    Returns
    -------
    dict -- ``margin`` (len(rho) x len(T)) = log10(g_ρ/g_T) where g_ρ > 0, else -inf-like
    ``nan``; ``inference_dominates`` boolean grid; ``boundary_t`` = T*(ρ) where (A.1)
    holds with equality (``nan`` where no T makes inference win).
    """
    t = np.asarray(t_grid, dtype=float)[None, :]
    r = np.asarray(rho_grid, dtype=float)[:, None]
    g_t, g_r = per_dollar_returns(eta_t, eta_rho, t * c_t_usd, r * c_i_usd, rollout_cost_share(r))
    num = eta_rho - rollout_cost_share(r[:, 0])
    with np.errstate(divide="ignore", invalid="ignore"):
        boundary = np.where(num > 0, r[:, 0] * c_i_usd * eta_t / (c_t_usd * num), np.nan)
    return {"t": t[0], "rho": r[:, 0], "inference_dominates": g_r > g_t, "boundary_t": boundary,
            "g_ratio": g_r / g_t}


# --------------------------------------------------------------------------- calibration data


def load_calibration() -> dict:
    """Paper 04 Appendix B tables B.1-B.4 and the two shipped cases, with sources."""
    path = resources.files("costcorrect.catalog") / "data" / "threshold_calibration.yaml"
    with path.open("r", encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def _pass_at_1(cal: dict, table: str, model: str, benchmark: str, rho: float | None = None) -> float:
    for row in cal["tables"][table]["rows"]:
        if row["model"] == model and row["benchmark"] == benchmark and (rho is None or row["rho"] == rho):
            return float(row["pass_at_1"])
    raise KeyError((table, model, benchmark, rho))


CASES = ("rstar-math", "deepseek-r1")


def run_case(name: str, *, eta_t: float | None = None, eta_rho: float | None = None,
             t_cost_usd: float = 1.0, i_cost_usd: float = 1.0) -> dict:
    """A shipped calibration case of 04 §4.1-4.2, evaluated with (A.1).

    ``rstar-math``: η_ρ is the AIME secant over ρ 8 → 64 from Table B.1; the verdict holds for
    every η_T > 0 and every price (η_ρ < ρ/(1+ρ)), so η_T and the costs default to 1.
    ``deepseek-r1``: η_T is bracketed from Table B.2 over s ∈ [0.01, 0.10]; η_ρ defaults to 1.0
    (the pass@k ceiling); the costs default to μ = 1, the value the paper's "η_ρ ≳ 8 to 71"
    implicitly assumes. Returns the threshold at each end of the bracket and the η_ρ needed.
    """
    cal = load_calibration()
    if name not in cal["cases"]:
        raise InputError("case", name, f"one of {', '.join(CASES)}")
    case = cal["cases"][name]
    if name == "rstar-math":
        y0 = _pass_at_1(cal, "B1", case["model"], case["benchmark"], case["rho_from"])
        y1 = _pass_at_1(cal, "B1", case["model"], case["benchmark"], case["rho_to"])
        secant = float(secant_elasticity(y0, y1, case["rho_from"], case["rho_to"]))
        res = threshold(secant if eta_rho is None else eta_rho, 1.0 if eta_t is None else eta_t,
                        case["rho_to"], t_cost_usd, i_cost_usd)
        res.update({"case": name, "description": case["description"], "eta_rho": secant if eta_rho is None
                    else eta_rho, "eta_rho_secant": secant, "eta_t": 1.0 if eta_t is None else eta_t,
                    "rho": case["rho_to"], "source": cal["tables"]["B1"]["source"]})
        return res
    a0 = _pass_at_1(cal, "B2", case["before"], case["benchmark"])
    a1 = _pass_at_1(cal, "B2", case["after"], case["benchmark"])
    shares = sorted(case["share_bracket"], reverse=True)  # larger RL share -> smaller η_T: ascending η_T
    bracket = [float(x) for x in training_elasticity(a0, a1, shares)]
    e_rho = case["eta_rho_default"] if eta_rho is None else eta_rho
    ends = [threshold(e_rho, et, case["rho"], t_cost_usd, i_cost_usd) for et in
            ([eta_t] if eta_t is not None else bracket)]
    s = float(rollout_cost_share(case["rho"]))
    needed = [s + et * i_cost_usd / t_cost_usd for et in ([eta_t] if eta_t is not None else bracket)]
    worst = max(ends, key=lambda r: r["g_inference_per_usd"] - r["g_training_per_usd"])
    res = dict(worst)
    res.update({
        "case": name, "description": case["description"], "eta_rho": e_rho, "rho": case["rho"],
        "eta_t_bracket": bracket, "compute_share_bracket": shares,
        "eta_rho_needed": needed, "at_bracket_ends": ends,
        "inference_dominates": any(r["inference_dominates"] for r in ends),
        "source": cal["tables"]["B2"]["source"],
    })
    return res
