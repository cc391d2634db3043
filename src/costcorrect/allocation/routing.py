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
- :func:`accept_rate_table_fn`, :func:`parse_accept_rate_table`, :func:`cost_fn_from_accept_rate`
  -- α(c, d) as a table (difficulty bin × compute level), monotone (PCHIP) in c.
- :func:`third_order_correction` -- the explicit third-order term of the Taylor expansion behind
  Theorem 1 (curvature heterogeneity + C''' skew): exact = κΔ − γ + Π₃ + O(‖·‖⁴).
- :func:`cascade_premium` -- the discrete-tier (cascade) exact premium next to the local
  expansion, where Theorem 1 breaks (Cor. 2).

Specialisations (05 §3.4) are in :mod:`costcorrect.allocation.routing_special`; the per-query
router evaluation (issue 7 item 5) in :mod:`costcorrect.allocation.routing_eval`.
All functions are pure NumPy; inputs are validated by the faces (CLI), not here, except where
a bad shape would give a silent wrong answer (then :class:`~costcorrect.errors.InputError`).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
from scipy.optimize import minimize_scalar

from costcorrect.allocation.cost_correct import cost_correct_usd_per_mtok
from costcorrect.errors import InputError

__all__ = [
    "accept_rate_table_fn",
    "bootstrap_premium",
    "cascade_premium",
    "composed_cost_usd_per_mtok",
    "cost_fn_from_accept_rate",
    "exact_premium",
    "heterogeneity_delta",
    "kappa_explained_variance",
    "parse_accept_rate_table",
    "premium_elasticities",
    "routed_cost_correct_usd_per_mtok",
    "routing_pays",
    "routing_premium",
    "synthetic_cost_fn",
    "third_order_correction",
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


_GOLDEN = (np.sqrt(5.0) - 1.0) / 2.0


def _golden_argmin(f: Callable, lo: float, hi: float, n: int, n_iter: int = 80) -> np.ndarray:
    """Vectorised golden-section search: ``n`` independent unimodal problems at once.

    ``f(c)`` takes an array (n,) of trial points and returns an array (n,) of values. After
    ``n_iter`` steps the bracket is (hi − lo)·0.618^n_iter wide (80 steps: 2e-17 of the range).
    """
    a = np.full(n, float(lo))
    b = np.full(n, float(hi))
    x1 = b - _GOLDEN * (b - a)
    x2 = a + _GOLDEN * (b - a)
    f1, f2 = f(x1), f(x2)
    for _ in range(int(n_iter)):
        left = f1 <= f2  # minimum in [a, x2]
        b = np.where(left, x2, b)
        a = np.where(left, a, x1)
        nx1 = np.where(left, b - _GOLDEN * (b - a), x2)
        nx2 = np.where(left, x1, a + _GOLDEN * (b - a))
        fn = f(np.where(left, nx1, nx2))
        f1, f2 = np.where(left, fn, f2), np.where(left, f1, fn)
        x1, x2 = nx1, nx2
    return (a + b) / 2.0


def exact_premium(cost_fn: Callable, difficulty, groups=None, gamma=0.0, c_bounds=(1e-3, 100.0),
                  weights=None, c_star=None, fd_step=1e-3, method="vectorised") -> dict:
    """Exact routing premium by numerical minimisation and integration vs Theorem 1 (05 eq. 3-7).

    Parameters
    ----------
    cost_fn : callable ``C(c, d)`` -- vectorised cost per correct answer, unimodal in c. [$/MTok]
    difficulty : array (n,) -- per-query latent difficulty d (the workload F(d) as samples). [-]
    groups : array (n,) or None -- the classifier's estimate d̂ as bin labels; None = oracle
        (every query its own bin). [-]
    gamma : float -- classifier overhead as a share of C(c̄*, d̄). [-]
    c_bounds : (lo, hi) -- search interval for compute c. [unit c]
    weights : array (n,) or None -- query weights (bootstrap counts). [-]
    c_star : array (n,) or None -- precomputed c*(d) (saves time in the bootstrap). [unit c]
    fd_step : float -- central-difference step for C''_cc. [unit c]
    method : ``"vectorised"`` (golden-section search on all queries and bins at once, default) or
        ``"loop"`` (one bounded Brent search per query and per bin; the benchmark's baseline).

    Returns
    -------
    dict -- ``c_bar_star`` (eq. 3), ``cost_at_optimum_usd_per_mtok`` C(c̄*, d̄), ``curvature``
    C''_cc(c̄*, d̄), ``var_c_star``, ``kappa`` (eq. 4 estimator), ``delta`` (eq. 7), ``gamma``,
    ``premium_exact`` (exact gap / C(c̄*, d̄) − γ), ``premium_second_order`` (κΔ − γ),
    ``residual`` (exact − second order: third and higher orders), ``third_order`` (Π₃ of
    :func:`third_order_correction`, with its two parts), ``premium_third_order`` (κΔ − γ + Π₃)
    and ``residual_after_third`` (exact − that: fourth and higher orders).
    """
    if method not in ("vectorised", "loop"):
        raise InputError("method", method, "'vectorised' or 'loop'")
    d = np.asarray(difficulty, dtype=float)
    if d.ndim != 1 or d.size < 2:
        raise InputError("difficulty", d.shape, "a 1-d array of at least 2 queries")
    g = np.arange(d.size) if groups is None else np.asarray(groups)
    if g.shape != d.shape:
        raise InputError("groups", g.shape, f"same length as difficulty ({d.size})")
    w = np.ones_like(d) if weights is None else np.asarray(weights, dtype=float)
    w = w / w.sum()
    d_bar = float(np.sum(w * d))
    lo, hi = float(c_bounds[0]), float(c_bounds[1])
    active = w > 0
    labels, inv = np.unique(g, return_inverse=True)
    wg = np.bincount(inv, weights=w, minlength=labels.size)

    def mean_cost(c, mask=None):
        if mask is None:
            return float(np.sum(w * cost_fn(c, d)))
        return float(np.sum(w[mask] * cost_fn(c, d[mask])))

    if method == "loop":
        c_bar = _argmin(mean_cost, c_bounds)
        if c_star is None:
            c_star = np.array([_argmin(lambda c, di=di: float(cost_fn(c, di)), c_bounds) for di in d])
        routed = np.empty_like(d)
        for lab in np.unique(g[active]):
            m = (g == lab) & active
            routed[m] = _argmin(lambda c, m=m: mean_cost(c, m), c_bounds)
    else:
        c_bar = float(_golden_argmin(lambda c: np.array([mean_cost(c[0])]), lo, hi, 1)[0])
        if c_star is None:
            c_star = _golden_argmin(lambda c: cost_fn(c, d), lo, hi, d.size)

        def group_cost(cg):  # trial compute per bin (n_bins,) -> weighted mean cost per bin
            tot = np.bincount(inv, weights=w * cost_fn(cg[inv], d), minlength=labels.size)
            return np.where(wg > 0, tot / np.where(wg > 0, wg, 1.0), 0.0)

        routed = _golden_argmin(group_cost, lo, hi, labels.size)[inv]
    c_star = np.asarray(c_star, dtype=float)
    fixed_cost = mean_cost(c_bar)
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
    third = third_order_correction(cost_fn, d, c_star, c_bar, groups=g, weights=w, d_bar=d_bar)
    return {
        "c_bar_star": c_bar, "d_bar": d_bar, "cost_at_optimum_usd_per_mtok": c0,
        "expected_cost_fixed_usd_per_mtok": fixed_cost, "expected_cost_router_usd_per_mtok": router_cost,
        "curvature": curv, "var_c_star": var_cs, "kappa": kappa, "delta": delta, "gamma": float(gamma),
        "premium_exact": float(exact), "premium_second_order": second, "residual": float(exact - second),
        "third_order": third["pi3"], "third_order_curvature": third["curvature_heterogeneity"],
        "third_order_skew": third["skew"], "premium_third_order": second + third["pi3"],
        "residual_after_third": float(exact - second - third["pi3"]),
        "c_star": c_star, "c_router": routed,
    }


def third_order_correction(cost_fn: Callable, difficulty, c_star, c_bar_star, groups=None, weights=None,
                           d_bar=None, fd_step=1e-2) -> dict:
    """Explicit third-order term Π₃ of the expansion behind Theorem 1 (05 eq. 6-7, the O(‖·‖³) made explicit). [-]

    Notation as in the paper: c̄* the unconditional optimum (eq. 3), c*(d) the conditional one,
    u = c*(d) − c̄*, m(d̂) = E[u | d̂] the router's predicted shift, C'' = C''_cc(c̄*, d̄),
    C''' = C'''_ccc(c̄*, d̄), h(d) = C''_cc(c̄*, d) − C''_cc(c̄*, d̄) (how the curvature moves
    with difficulty). Expanding E[C(c, d) | d̂] to third order in c − c̄*, minimising per bin,
    and using C'_c(c̄*, d) = −C''_cc(c̄*, d)·u − ½·C'''·u² + O(u³) gives

        Π₃ · C(c̄*, d̄) = E_d̂[ m·E[h·u | d̂] − ½·E[h | d̂]·m² ]      (curvature heterogeneity)
                       + C''' · E_d̂[ ½·m·E[u² | d̂] − ⅙·m³ ]          (skew through C''')

    so that Π_exact = κΔ − γ + Π₃ + O(‖c(d̂) − c̄*‖⁴). For the oracle (d̂ = d, m = u):
    Π₃·C = ½·E[h·u²] + ⅓·C'''·E[u³]; for an uninformative classifier m = E[u] = O(u²), Π₃ ≈ 0.
    Derivatives are central differences (step ``fd_step``) of ``cost_fn``; the formula needs C
    three times differentiable in c (a PCHIP table is only C¹, so Π₃ is indicative there).

    Returns ``{"pi3", "curvature_heterogeneity", "skew"}`` as shares of C(c̄*, d̄). [-]
    """
    d = np.asarray(difficulty, dtype=float)
    u = np.asarray(c_star, dtype=float) - float(c_bar_star)
    g = np.arange(d.size) if groups is None else np.asarray(groups)
    w = np.ones_like(d) if weights is None else np.asarray(weights, dtype=float)
    w = w / w.sum()
    db = float(np.sum(w * d)) if d_bar is None else float(d_bar)
    cb, s = float(c_bar_star), float(fd_step)
    c0 = float(cost_fn(cb, db))
    f = np.array([float(cost_fn(cb + k * s, db)) for k in (-2, -1, 0, 1, 2)])
    c2_bar = (f[3] - 2 * f[2] + f[1]) / s**2
    c3_bar = (f[4] - 2 * f[3] + 2 * f[1] - f[0]) / (2 * s**3)
    hd = (cost_fn(cb + s, d) - 2 * cost_fn(cb, d) + cost_fn(cb - s, d)) / s**2 - c2_bar
    _, inv = np.unique(g, return_inverse=True)
    wg = np.bincount(inv, weights=w)
    keep = wg > 0

    def cond(x):  # E[x | d̂] per bin with weight
        return np.bincount(inv, weights=w * x)[keep] / wg[keep]

    m, eh, ehu, eu2 = cond(u), cond(hd), cond(hd * u), cond(u * u)
    p = wg[keep]
    curv_term = float(np.sum(p * (m * ehu - 0.5 * eh * m * m)))
    skew_term = float(c3_bar * np.sum(p * (0.5 * m * eu2 - m**3 / 6.0)))
    return {"pi3": (curv_term + skew_term) / c0, "curvature_heterogeneity": curv_term / c0,
            "skew": skew_term / c0}


def cascade_premium(cost_fn: Callable, difficulty, levels, groups=None, gamma=0.0,
                    c_bounds=(1e-3, 100.0)) -> dict:
    """Discrete-tier (cascade) exact premium next to the local expansion (05 Cor. 2). [-]

    The router may only pick c from ``levels`` (tier compute levels): the fixed policy is the
    best single level, the router the best level per d̂ bin (Cor. 2's per-bin break-even). The
    gap is normalised by C(c_fixed, d̄) (eq. 7 with the best tier as c̄*). Beside it: the
    continuous-c exact premium and Theorem 1's κΔ − γ (and + Π₃) on the same workload -- what
    the local expansion predicts. They disagree when the tier gap is wide relative to the spread
    of c*(d): the binary policy moves c far from c̄* on every query, where the paper says the
    local assumption "binds hardest".

    Returns ``premium_cascade_exact``, ``tier_fixed`` (index), ``tier_router`` (per query),
    ``premium_continuous_exact``, ``premium_second_order``, ``premium_third_order``, ``kappa``,
    ``delta``, ``c_bar_star``. [-]
    """
    d = np.asarray(difficulty, dtype=float)
    lv = np.asarray(levels, dtype=float)
    if lv.ndim != 1 or lv.size < 2 or not np.all(np.isfinite(lv)):
        raise InputError("levels", levels, "at least two finite tier compute levels")
    g = np.arange(d.size) if groups is None else np.asarray(groups)
    if g.shape != d.shape:
        raise InputError("groups", g.shape, f"same length as difficulty ({d.size})")
    cost = cost_fn(lv[None, :], d[:, None])  # (n, tiers)
    mean_by_tier = cost.mean(axis=0)
    fixed = int(np.argmin(mean_by_tier))
    _, inv = np.unique(g, return_inverse=True)
    per_bin = np.stack([np.bincount(inv, weights=cost[:, j]) for j in range(lv.size)], axis=1)
    pick = np.argmin(per_bin, axis=1)[inv]
    router_cost = float(cost[np.arange(d.size), pick].mean())
    cont = exact_premium(cost_fn, d, g, gamma, c_bounds)
    c0 = float(cost_fn(lv[fixed], float(d.mean())))
    return {"premium_cascade_exact": (float(mean_by_tier[fixed]) - router_cost) / c0 - float(gamma),
            "tier_fixed": fixed, "tier_router": pick, "levels": lv.tolist(),
            "premium_continuous_exact": cont["premium_exact"],
            "premium_second_order": cont["premium_second_order"],
            "premium_third_order": cont["premium_third_order"], "kappa": cont["kappa"], "delta": cont["delta"],
            "c_bar_star": cont["c_bar_star"]}


# ----------------------------------------------------------------------------- α(c, d) as a table
def accept_rate_table_fn(compute_levels, difficulty_edges, accept_rate, monotone="raise") -> Callable:
    """α(c, d) from a table: difficulty bin × compute level → accept rate (05 §3.1, eq. 2). [-]

    Parameters
    ----------
    compute_levels : array (K,) -- strictly increasing compute grid c. [unit c]
    difficulty_edges : array (B + 1,) -- increasing bin edges of d; d outside goes to the end bin. [-]
    accept_rate : array (B, K) -- α in [0, 1] per bin and compute level. [-]
    monotone : ``"raise"`` (α must be non-decreasing in c within each bin) or ``"cummax"``
        (replace α by its running maximum in c: more compute never lowers the accept rate).

    Returns a vectorised ``alpha(c, d)``: piecewise constant in d, shape-preserving monotone
    cubic in c (PCHIP: C¹, no overshoot, monotone where the data are), constant beyond the grid.
    """
    from scipy.interpolate import PchipInterpolator

    c = np.asarray(compute_levels, dtype=float)
    e = np.asarray(difficulty_edges, dtype=float)
    a = np.asarray(accept_rate, dtype=float)
    if c.ndim != 1 or c.size < 2 or not np.all(np.isfinite(c)) or np.any(np.diff(c) <= 0):
        raise InputError("compute", c.tolist(), "at least two finite, strictly increasing compute levels")
    if e.ndim != 1 or e.size < 2 or not np.all(np.isfinite(e)) or np.any(np.diff(e) <= 0):
        raise InputError("difficulty_edges", e.tolist(), "strictly increasing finite bin edges")
    if a.shape != (e.size - 1, c.size):
        raise InputError("accept_rate", a.shape,
                         f"one row per bin and one column per compute level ({e.size - 1}, {c.size})")
    if not np.all(np.isfinite(a)) or np.any(a < 0) or np.any(a > 1):
        raise InputError("accept_rate", "outside [0, 1]", "accept rates in [0, 1]")
    if monotone == "cummax":
        a = np.maximum.accumulate(a, axis=1)
    elif monotone == "raise":
        if np.any(np.diff(a, axis=1) < 0):
            raise InputError("accept_rate", "decreasing in compute",
                             "non-decreasing in compute within each bin (or monotone='cummax')")
    else:
        raise InputError("monotone", monotone, "'raise' or 'cummax'")
    interp = PchipInterpolator(c, a, axis=1, extrapolate=False)

    def alpha(cc, dd):
        cc, dd = np.broadcast_arrays(np.asarray(cc, dtype=float), np.asarray(dd, dtype=float))
        b = np.clip(np.searchsorted(e, dd, side="right") - 1, 0, e.size - 2).ravel()
        vals = interp(np.clip(cc, c[0], c[-1]).ravel())  # (bins, n)
        return np.clip(vals[b, np.arange(b.size)], 0.0, 1.0).reshape(cc.shape)

    return alpha


def parse_accept_rate_table(text: str, monotone="raise") -> dict:
    """Parse an accept-rate table CSV (pure; no I/O) for :func:`accept_rate_table_fn`.

    Long format, one row per (difficulty bin, compute level): ``difficulty_low``,
    ``difficulty_high``, ``compute``, ``accept_rate``, plus ``source`` and ``as_of`` on every
    row. Bins must be contiguous and every bin must have every compute level.
    Returns ``compute_levels``, ``difficulty_edges``, ``accept_rate`` (bins × levels), ``alpha``.
    """
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(text)))
    need = {"difficulty_low", "difficulty_high", "compute", "accept_rate", "source", "as_of"}
    if not rows or not need <= set(rows[0]):
        raise InputError("accept-rate table", sorted(rows[0]) if rows else "empty", f"columns {sorted(need)}")
    try:
        lo = np.array([float(r["difficulty_low"]) for r in rows])
        hi = np.array([float(r["difficulty_high"]) for r in rows])
        c = np.array([float(r["compute"]) for r in rows])
        a = np.array([float(r["accept_rate"]) for r in rows])
    except (TypeError, ValueError):
        raise InputError("accept-rate table", "non-numeric cell",
                         "numbers in difficulty_low/high, compute, accept_rate") from None
    if any(not (r.get("source") or "").strip() or not (r.get("as_of") or "").strip() for r in rows):
        raise InputError("accept-rate table", "missing source/as_of", "a source and as_of on every row")
    bins = sorted(set(zip(lo.tolist(), hi.tolist(), strict=True)))
    for (_, h0), (l1, _) in itertools.pairwise(bins):
        if l1 != h0:
            raise InputError("difficulty bins", bins, "contiguous bins (each high = the next low)")
    levels = np.unique(c)
    table = np.full((len(bins), levels.size), np.nan)
    for i, b in enumerate(bins):
        m = (lo == b[0]) & (hi == b[1])
        if m.sum() != levels.size or np.unique(c[m]).size != levels.size:
            raise InputError("accept-rate table", f"bin {b} has {int(m.sum())} rows",
                             f"every bin at every compute level once ({levels.size})")
        table[i, np.searchsorted(levels, c[m])] = a[m]
    edges = np.array([b[0] for b in bins] + [bins[-1][1]])
    return {"compute_levels": levels, "difficulty_edges": edges, "accept_rate": table,
            "alpha": accept_rate_table_fn(levels, edges, table, monotone=monotone)}


def cost_fn_from_accept_rate(alpha: Callable, cpm_1to1_usd_per_mtok=1.0, base_reasoning=1.0,
                             rollout_ratio=0.0) -> Callable:
    """C(c, d) = CPM · (R0 + c) · (1 + ρ̄) / α(c, d), the cost-correct unit (05 eq. 2). [$/MTok]

    ``alpha`` is any vectorised α(c, d): a parametric family or :func:`accept_rate_table_fn`.
    Compute c is reasoning tokens per answer token on top of ``base_reasoning`` (R = R0 + c).
    """
    def cost(c, d):
        c = np.asarray(c, dtype=float)
        return cost_correct_usd_per_mtok(cpm_1to1_usd_per_mtok, base_reasoning + c, rollout_ratio, alpha(c, d))

    return cost


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
