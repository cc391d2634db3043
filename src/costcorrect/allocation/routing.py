"""The routing premium: when a difficulty router pays (paper 05).

    Π = κ·Δ − γ,   Δ = |C''_cc(c̄*, d̄)| · Var_d[c*(d)] / (2 · C(c̄*, d̄))        (05 eq. 7)

- :func:`routing_premium`, :func:`routing_pays` -- the closed form and threshold (eq. 7, 8).
- :func:`heterogeneity_delta` -- Δ from curvature, variance of the optimal compute, cost (eq. 7).
- :func:`premium_elasticities` -- ∂logΠ/∂log{κ, Δ, γ} (eq. 9), divergent at κΔ = γ.
- :func:`composed_cost_usd_per_mtok` -- eq. 10 / §5.3 composition with paper 02's channel premium.
- :func:`routed_cost_correct_usd_per_mtok` -- C(1 − Π) on the cost-correct unit of 02 §4.
- :func:`exact_premium` -- the exact expected-cost gap from per-query difficulties by numerical
  minimisation/integration, next to Theorem 1's second-order estimate and the residual.
- :func:`bootstrap_premium` -- percentile intervals for κ̂, Δ̂ and the exact premium.
- :func:`synthetic_cost_fn` -- a smooth workload with concave α(c, d) on the cost-correct unit.

Specialisations (05 §3.4) are in :mod:`costcorrect.allocation.routing_special`; the per-query
router evaluation (issue 7 item 5) in :mod:`costcorrect.allocation.routing_eval`.
All functions are pure NumPy; inputs are validated by the faces (CLI), not here, except where
a bad shape would give a silent wrong answer (then :class:`~costcorrect.errors.InputError`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.optimize import minimize_scalar

from costcorrect.allocation.cost_correct import cost_correct_usd_per_mtok
from costcorrect.errors import InputError

__all__ = [
    "bootstrap_premium",
    "composed_cost_usd_per_mtok",
    "exact_premium",
    "heterogeneity_delta",
    "kappa_explained_variance",
    "premium_elasticities",
    "routed_cost_correct_usd_per_mtok",
    "routing_pays",
    "routing_premium",
    "synthetic_cost_fn",
]


# ----------------------------------------------------------------------------- closed form
def routing_premium(kappa, delta, gamma):
    """Normalised routing premium Π = κ·Δ − γ, to second order (05 eq. 7). [-]

    Parameters
    ----------
    kappa : numeric -- classifier calibration, explained-variance share in [0, 1] (eq. 4). [-]
    delta : numeric -- workload heterogeneity Δ >= 0 (eq. 7). [-]
    gamma : numeric -- classifier overhead as a share of C(c̄*, d̄), >= 0 (eq. 5). [-]

    Returns
    -------
    numeric -- premium as a share of the unconditional optimum cost C(c̄*, d̄). [-]

    >>> round(float(routing_premium(0.5, 0.3, 0.05)), 6)
    0.1
    """
    return np.asarray(kappa, dtype=float) * np.asarray(delta, dtype=float) - np.asarray(gamma, dtype=float)


def routing_pays(kappa, delta, gamma):
    """Threshold κ·Δ > γ (05 eq. 8): routing pays at the margin around c̄*. [bool]

    >>> bool(routing_pays(0.5, 0.3, 0.2)), bool(routing_pays(0.5, 0.3, 0.1))
    (False, True)
    """
    return routing_premium(kappa, delta, gamma) > 0


def heterogeneity_delta(curvature_usd_per_mtok_per_c2, var_c_star_c2, cost_at_optimum_usd_per_mtok):
    """Δ = |C''_cc(c̄*, d̄)| · Var_d[c*(d)] / (2 · C(c̄*, d̄)) (05 eq. 7). [-]

    Parameters
    ----------
    curvature_usd_per_mtok_per_c2 : numeric -- C''_cc at (c̄*, d̄). [$/MTok per unit c²]
    var_c_star_c2 : numeric -- Var_d of the conditional optimum c*(d). [unit c²]
    cost_at_optimum_usd_per_mtok : numeric -- C(c̄*, d̄) > 0. [$/MTok]

    >>> float(heterogeneity_delta(-4.0, 0.5, 10.0))
    0.1
    """
    return (np.abs(np.asarray(curvature_usd_per_mtok_per_c2, dtype=float))
            * np.asarray(var_c_star_c2, dtype=float) / (2.0 * np.asarray(cost_at_optimum_usd_per_mtok, dtype=float)))


def premium_elasticities(kappa, delta, gamma) -> dict:
    """∂logΠ/∂log κ = ∂logΠ/∂log Δ = κΔ/(κΔ−γ), ∂logΠ/∂log γ = −γ/(κΔ−γ) (05 eq. 9). [-]

    All three diverge at the threshold κΔ = γ; there the result is ``±inf`` (or NaN when
    κΔ = γ = 0), which the faces report as null with a note. Identity: ε_κ + ε_γ = 1.

    >>> e = premium_elasticities(0.5, 0.4, 0.1)
    >>> [round(float(e[k]), 6) for k in ("kappa", "delta", "gamma")]
    [2.0, 2.0, -1.0]
    """
    kd = np.asarray(kappa, dtype=float) * np.asarray(delta, dtype=float)
    g = np.asarray(gamma, dtype=float)
    pi = kd - g
    with np.errstate(divide="ignore", invalid="ignore"):
        e_k = kd / pi
        e_g = -g / pi
    return {"kappa": e_k, "delta": e_k.copy(), "gamma": e_g}


def routed_cost_correct_usd_per_mtok(cpm_1to1_usd_per_mtok, reasoning_multiplier, rollout_ratio, accept_rate,
                                     premium):
    """Cost-correct after routing: C(c̄*, d̄) · (1 − Π) (05 eq. 10 with Π₁ off; 02 §4 unit). [$/MTok]

    >>> float(routed_cost_correct_usd_per_mtok(17.5, 10, 3, 0.5, 0.25))  # 1400 * 0.75
    1050.0
    """
    c = cost_correct_usd_per_mtok(cpm_1to1_usd_per_mtok, reasoning_multiplier, rollout_ratio, accept_rate)
    return c * (1.0 - np.asarray(premium, dtype=float))


def composed_cost_usd_per_mtok(cost_at_optimum_usd_per_mtok, premium_channel, premium_routing,
                               inference_channel=True, routing_on=None):
    """C_total = C(c̄*, d̄)·[1 − Π₁]^1[ch=inference]·[1 − Π₂]^1[κΔ>γ] (05 eq. 10, §5.3). [$/MTok]

    ``routing_on`` defaults to the threshold itself, Π₂ > 0 (eq. 8).

    >>> float(composed_cost_usd_per_mtok(100.0, 0.2, 0.1))
    72.0
    >>> float(composed_cost_usd_per_mtok(100.0, 0.2, -0.1))  # routing off when Π₂ <= 0
    80.0
    """
    p2 = np.asarray(premium_routing, dtype=float)
    on = p2 > 0 if routing_on is None else np.asarray(routing_on, dtype=bool)
    f1 = np.where(np.asarray(inference_channel, dtype=bool), 1.0 - np.asarray(premium_channel, dtype=float), 1.0)
    f2 = np.where(on, 1.0 - p2, 1.0)
    return np.asarray(cost_at_optimum_usd_per_mtok, dtype=float) * f1 * f2


# ----------------------------------------------------------------------------- synthetic workload
def synthetic_cost_fn(cpm_1to1_usd_per_mtok=1.0, base_reasoning=1.0, scale0=1.0, difficulty_slope=1.5,
                      rollout_ratio=0.0) -> Callable:
    """C(c, d) on the cost-correct unit with concave α(c, d) = 1 − exp(−c / s(d)) (05 §3.1, eq. 2). [$/MTok]

    Compute c is extra reasoning tokens per answer token, so R = ``base_reasoning`` + c, and
    s(d) = ``scale0`` · exp(``difficulty_slope`` · d) is the compute scale a query of difficulty d
    needs. C is smooth (C^∞) in c with an interior optimum c*(d) that grows with d. Synthetic,
    for tests and demonstrations; not fitted to anything.
    """
    def cost(c, d):
        c = np.asarray(c, dtype=float)
        s = scale0 * np.exp(difficulty_slope * np.asarray(d, dtype=float))
        alpha = -np.expm1(-c / s)
        return cost_correct_usd_per_mtok(cpm_1to1_usd_per_mtok, base_reasoning + c, rollout_ratio, alpha)

    return cost


# ----------------------------------------------------------------------------- exact premium
def _argmin(f: Callable[[float], float], bounds: tuple[float, float]) -> float:
    res = minimize_scalar(f, bounds=bounds, method="bounded", options={"xatol": 1e-10, "maxiter": 500})
    return float(res.x)


def kappa_explained_variance(c_star, groups, weights=None) -> float:
    """κ̂ = Var(E[c*(d) | d̂]) / Var(c*(d)) with d̂ given as group labels (05 eq. 4). [-]

    Estimator from per-query data: the between-group share of the variance of the oracle
    compute. 1 when every query is its own group (oracle), 0 for one group.

    >>> kappa_explained_variance([1.0, 1.0, 3.0, 3.0], [0, 0, 1, 1])
    1.0
    """
    c = np.asarray(c_star, dtype=float)
    g = np.asarray(groups)
    w = np.ones_like(c) if weights is None else np.asarray(weights, dtype=float)
    w = w / w.sum()
    mean = np.sum(w * c)
    total = np.sum(w * (c - mean) ** 2)
    if total <= 0:
        return float("nan")
    _, inv = np.unique(g, return_inverse=True)
    wg = np.bincount(inv, weights=w)
    keep = wg > 0  # groups with no weight (absent from a bootstrap resample)
    mg = np.bincount(inv, weights=w * c)[keep] / wg[keep]
    return float(np.sum(wg[keep] * (mg - mean) ** 2) / total)


def exact_premium(cost_fn: Callable, difficulty, groups=None, gamma=0.0, c_bounds=(1e-3, 100.0),
                  weights=None, c_star=None, fd_step=1e-3) -> dict:
    """Exact routing premium by numerical minimisation and integration vs Theorem 1 (05 eq. 3-7).

    Parameters
    ----------
    cost_fn : callable ``C(c, d)`` -- vectorised cost per correct answer. [$/MTok]
    difficulty : array (n,) -- per-query latent difficulty d (the workload F(d) as samples). [-]
    groups : array (n,) or None -- the classifier's estimate d̂ as bin labels; None = oracle
        (every query its own bin). [-]
    gamma : float -- classifier overhead as a share of C(c̄*, d̄). [-]
    c_bounds : (lo, hi) -- search interval for compute c. [unit c]
    weights : array (n,) or None -- query weights (bootstrap counts). [-]
    c_star : array (n,) or None -- precomputed c*(d) (saves time in the bootstrap). [unit c]
    fd_step : float -- central-difference step for C''_cc. [unit c]

    Returns
    -------
    dict -- ``c_bar_star`` (eq. 3), ``cost_at_optimum_usd_per_mtok`` C(c̄*, d̄), ``curvature``
    C''_cc(c̄*, d̄), ``var_c_star``, ``kappa`` (eq. 4 estimator), ``delta`` (eq. 7), ``gamma``,
    ``premium_exact`` (exact gap / C(c̄*, d̄) − γ), ``premium_second_order`` (κΔ − γ), and
    ``residual`` (exact − second order: the third- and higher-order terms).
    """
    d = np.asarray(difficulty, dtype=float)
    if d.ndim != 1 or d.size < 2:
        raise InputError("difficulty", d.shape, "a 1-d array of at least 2 queries")
    g = np.arange(d.size) if groups is None else np.asarray(groups)
    if g.shape != d.shape:
        raise InputError("groups", g.shape, f"same length as difficulty ({d.size})")
    w = np.ones_like(d) if weights is None else np.asarray(weights, dtype=float)
    w = w / w.sum()
    d_bar = float(np.sum(w * d))

    def mean_cost(c, mask=None):
        if mask is None:
            return float(np.sum(w * cost_fn(c, d)))
        return float(np.sum(w[mask] * cost_fn(c, d[mask])))

    c_bar = _argmin(mean_cost, c_bounds)
    if c_star is None:
        c_star = np.array([_argmin(lambda c, di=di: float(cost_fn(c, di)), c_bounds) for di in d])
    c_star = np.asarray(c_star, dtype=float)
    routed = np.empty_like(d)
    for lab in np.unique(g[w > 0]):
        m = (g == lab) & (w > 0)
        routed[m] = _argmin(lambda c, m=m: mean_cost(c, m), c_bounds)
    fixed_cost = mean_cost(c_bar)
    active = w > 0
    router_cost = float(np.sum(w[active] * cost_fn(routed[active], d[active])))
    c0 = float(cost_fn(c_bar, d_bar))
    h = fd_step
    curv = float((cost_fn(c_bar + h, d_bar) - 2 * c0 + cost_fn(c_bar - h, d_bar)) / h**2)
    mean_cs = np.sum(w * c_star)
    var_cs = float(np.sum(w * (c_star - mean_cs) ** 2))
    kappa = kappa_explained_variance(c_star, g, w) if var_cs > 0 else 0.0
    delta = float(heterogeneity_delta(curv, var_cs, c0))
    exact = (fixed_cost - router_cost) / c0 - gamma
    second = float(routing_premium(kappa, delta, gamma))
    return {
        "c_bar_star": c_bar, "d_bar": d_bar, "cost_at_optimum_usd_per_mtok": c0,
        "expected_cost_fixed_usd_per_mtok": fixed_cost, "expected_cost_router_usd_per_mtok": router_cost,
        "curvature": curv, "var_c_star": var_cs, "kappa": kappa, "delta": delta, "gamma": float(gamma),
        "premium_exact": float(exact), "premium_second_order": second, "residual": float(exact - second),
        "c_star": c_star, "c_router": routed,
    }


def bootstrap_premium(cost_fn: Callable, difficulty, groups=None, gamma=0.0, n_boot=200, ci=0.9, seed=0,
                      c_bounds=(1e-3, 100.0)) -> dict:
    """Percentile bootstrap intervals for κ̂, Δ̂, κ̂Δ̂ − γ and the exact premium (issue 7 item 2). [-]

    Resamples queries with replacement (as multinomial weights, so c*(d) is computed once).
    Returns the point estimates (``exact_premium`` on the full sample) and ``{name: [lo, hi]}``.
    """
    d = np.asarray(difficulty, dtype=float)
    point = exact_premium(cost_fn, d, groups, gamma, c_bounds)
    rng = np.random.default_rng(seed)
    keys = ("kappa", "delta", "premium_second_order", "premium_exact")
    draws = {k: [] for k in keys}
    for _ in range(int(n_boot)):
        wts = rng.multinomial(d.size, np.full(d.size, 1.0 / d.size)).astype(float)
        r = exact_premium(cost_fn, d, groups, gamma, c_bounds, weights=wts, c_star=point["c_star"])
        for k in keys:
            draws[k].append(r[k])
    lo, hi = (1 - ci) / 2, 1 - (1 - ci) / 2
    intervals = {k: [float(np.nanquantile(v, lo)), float(np.nanquantile(v, hi))] for k, v in draws.items()}
    return {"point": {k: point[k] for k in keys}, "interval": intervals, "ci": ci, "n_boot": int(n_boot)}
