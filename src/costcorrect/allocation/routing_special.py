"""The five specialisations of the routing premium (05 §3.4, Corollaries 1-5).

- Speculative decoding (Cor. 1): :func:`speculative_expected_tokens`,
  :func:`speculative_expected_speedup` (Leviathan et al. 2023, eq. 1 and Theorem 3.8), and
  :func:`premium_from_speedup` (05 §4: Π = 1 − 1/S).
- Cascade (Cor. 2): :func:`cascade_tier_choice` (per-bin break-even over N tiers),
  :func:`cascade_break_even_accept_ratio`.
- Adaptive self-consistency (Cor. 3): :func:`rollout_count_per_query`.
- Complexity-aware exploration (Cor. 4): :func:`exploration_breadth`, :func:`fit_breadth_slope`,
  :func:`breadth_slope_from_premium` (β from κΔ; the link is derived here, the paper gives none).
- Early exit (Cor. 5): :func:`early_exit_layer`.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "breadth_slope_from_premium",
    "cascade_break_even_accept_ratio",
    "cascade_tier_choice",
    "early_exit_layer",
    "exploration_breadth",
    "fit_breadth_slope",
    "premium_from_speedup",
    "rollout_count_per_query",
    "speculative_expected_speedup",
    "speculative_expected_tokens",
]


def speculative_expected_tokens(draft_tokens, accept_rate):
    """E[tokens per verifier pass] = (1 − a^(k+1)) / (1 − a) (Leviathan et al. 2023, eq. 1). [tokens]

    Parameters
    ----------
    draft_tokens : numeric -- k, drafted tokens per iteration (γ in Leviathan et al.). [tokens]
    accept_rate : numeric -- a in [0, 1], i.i.d. per-token acceptance (α there). [-]

    The a → 1 limit is k + 1.

    >>> float(speculative_expected_tokens(4, 0.5))
    1.9375
    >>> float(speculative_expected_tokens(4, 1.0))
    5.0
    """
    k = np.asarray(draft_tokens, dtype=float)
    a = np.asarray(accept_rate, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        geo = -np.expm1((k + 1) * np.log(a)) / (1.0 - a)
    return np.where(a >= 1.0, k + 1.0, np.where(a <= 0.0, 1.0, geo))


def speculative_expected_speedup(draft_tokens, accept_rate, cost_ratio):
    """Expected walltime speedup (1 − a^(k+1)) / ((1 − a)(k·c + 1)) (Leviathan et al. 2023, Thm 3.8). [x]

    Parameters
    ----------
    draft_tokens : numeric -- k. [tokens]
    accept_rate : numeric -- a in [0, 1]. [-]
    cost_ratio : numeric -- c, drafter time per token / target time per token (05: γ). [-]

    >>> round(float(speculative_expected_speedup(3, 0.8, 0.05)), 4)  # 2.952 / 1.15
    2.567
    """
    k = np.asarray(draft_tokens, dtype=float)
    return speculative_expected_tokens(k, accept_rate) / (k * np.asarray(cost_ratio, dtype=float) + 1.0)


def premium_from_speedup(speedup):
    """Π = 1 − 1/S: a speedup S at iso-quality removes 1 − 1/S of the cost (05 §4, Cor. 1). [-]

    >>> [round(float(x), 3) for x in premium_from_speedup([2.0, 3.0])]
    [0.5, 0.667]
    """
    return 1.0 - 1.0 / np.asarray(speedup, dtype=float)


def cascade_tier_choice(tier_cost_usd, tier_accept_rate):
    """Per-bin break-even over N tiers: the tier minimising cost / α in each bin (05 Cor. 2). [index]

    Parameters
    ----------
    tier_cost_usd : array (..., N) -- cost per query of each tier (or per bin). [$]
    tier_accept_rate : array (..., N) -- α of each tier in each difficulty bin. [-]

    Returns
    -------
    (choice, cost_per_correct_usd) -- argmin tier index and its cost per correct answer. [-, $]

    >>> ch, c = cascade_tier_choice([[1.0, 10.0], [1.0, 10.0]], [[0.9, 0.95], [0.05, 0.9]])
    >>> ch.tolist(), [round(x, 3) for x in c.tolist()]
    ([0, 1], [1.111, 11.111])
    """
    cost = np.asarray(tier_cost_usd, dtype=float)
    a = np.asarray(tier_accept_rate, dtype=float)
    with np.errstate(divide="ignore"):
        cpc = np.where(a > 0, cost / np.where(a > 0, a, 1.0), np.inf)
    ch = np.argmin(cpc, axis=-1)
    return ch, np.take_along_axis(cpc, ch[..., None], axis=-1)[..., 0]


def cascade_break_even_accept_ratio(cost_small_usd, cost_large_usd):
    """Send to the large tier iff α_large / α_small > cost_large / cost_small (05 Cor. 2). [-]

    >>> float(cascade_break_even_accept_ratio(1.0, 10.0))
    10.0
    """
    return np.asarray(cost_large_usd, dtype=float) / np.asarray(cost_small_usd, dtype=float)


def rollout_count_per_query(p_correct, overhead_ratio=1.0, n_max=64):
    """Cost-correct optimal rollout count N*(p) = argmin (h + N) / (1 − (1 − p)^N) (05 Cor. 3). [-]

    Each rollout costs 1 unit, a per-query fixed cost (prompt, verifier setup) costs ``h`` units,
    and the query is accepted when any of N independent rollouts with success ``p`` is correct
    (an oracle verifier). Returns integer N in [1, n_max].

    >>> rollout_count_per_query([0.9, 0.3, 0.05], overhead_ratio=2.0).tolist()
    [1, 3, 8]
    """
    p = np.asarray(p_correct, dtype=float)[..., None]
    n = np.arange(1, int(n_max) + 1, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        acc = -np.expm1(n * np.log1p(-np.clip(p, 0.0, 1.0 - 1e-15)))
        cost = np.where(acc > 0, (np.asarray(overhead_ratio, dtype=float)[..., None] + n) / acc, np.inf)
    return np.argmin(cost, axis=-1) + 1


def exploration_breadth(difficulty_hat, k0, beta):
    """k(d̂) = k0 · exp(β · d̂), the complexity-aware breadth rule (05 Cor. 4). [-]

    >>> round(float(exploration_breadth(1.0, 2.0, np.log(4))), 6)
    8.0
    """
    return np.asarray(k0, dtype=float) * np.exp(np.asarray(beta, dtype=float) * np.asarray(difficulty_hat, dtype=float))


def fit_breadth_slope(difficulty_hat, breadth):
    """Fit (k0, β) of k = k0·exp(β d̂) by least squares on log k (05 Cor. 4, CA-SQL schedule). [-]

    Fitted parameters: fitted to the (d̂, k) schedule given.

    >>> k0, b = fit_breadth_slope([0, 1, 2], [2, 4, 8])
    >>> round(k0, 6), round(b, 6)
    (2.0, 0.693147)
    """
    x = np.asarray(difficulty_hat, dtype=float)
    y = np.log(np.asarray(breadth, dtype=float))
    b, a = np.polyfit(x, y, 1)
    return float(np.exp(a)), float(b)


def early_exit_layer(layer_cost, accept_rate_by_layer):
    """Per-token exit layer: the first layer ℓ after which going on raises cost / α (05 Cor. 5). [index]

    Parameters
    ----------
    layer_cost : array (L,) -- cumulative compute cost up to and including layer ℓ. [any cost unit]
    accept_rate_by_layer : array (..., L) -- α if the token exits at ℓ (e.g. confidence-head
        calibrated accuracy). [-]

    Myopic rule: continue from ℓ to ℓ+1 iff cost_{ℓ+1}/α_{ℓ+1} < cost_ℓ/α_ℓ, i.e. iff
    α_{ℓ+1}/α_ℓ > cost_{ℓ+1}/cost_ℓ; exit at the first ℓ where that fails (last layer if never).

    >>> early_exit_layer([1.0, 1.2, 1.4, 1.6], [[0.5, 0.9, 0.95, 0.99]]).tolist()  # C: 2, 1.33, 1.47
    [1]
    """
    cost = np.asarray(layer_cost, dtype=float)
    a = np.asarray(accept_rate_by_layer, dtype=float)
    with np.errstate(divide="ignore"):
        cpc = np.where(a > 0, cost / np.where(a > 0, a, 1.0), np.inf)
    stop = cpc[..., 1:] >= cpc[..., :-1]
    stop = np.concatenate([stop, np.ones((*stop.shape[:-1], 1), dtype=bool)], axis=-1)
    return np.argmax(stop, axis=-1)


def breadth_slope_from_premium(kappa_delta, curvature_usd_per_mtok_per_c2, c_bar_star, cost_at_optimum_usd_per_mtok,
                               var_difficulty_hat):
    """β of k(d̂) = k0·exp(β d̂) pinned by κΔ at the workload mean (05 Cor. 4; derivation ours). [1/unit d̂]

    The paper states that β is "pinned by κ·Δ" without the link. Under its own model: the
    router's compute is E[c* | d̂] with c = k, and the exponential rule linearised at the mean is
    k(d̂) ≈ c̄*·(1 + β(d̂ − E d̂)), so Var(E[c* | d̂]) = c̄*²·β²·Var(d̂). Eq. 4 gives
    Var(E[c* | d̂]) = κ·Var(c*) and eq. 7 gives Var(c*) = 2·C·Δ/|C''|, hence

        β = sqrt( 2·κΔ·C(c̄*, d̄) / (|C''_cc|·c̄*²·Var(d̂)) ) = sqrt( 2·κΔ / (η·Var(d̂)) ),

    with η = |C''_cc|·c̄*²/C the curvature of C in log-compute at the optimum (dimensionless).
    Its sign is that of Cov(c*, d̂) (positive when harder queries need more breadth). Holds to
    first order in the spread of d̂ (the exponential's curvature is a second-order effect).

    Parameters
    ----------
    kappa_delta : numeric -- κΔ (eq. 7). [-]
    curvature_usd_per_mtok_per_c2 : numeric -- C''_cc(c̄*, d̄). [$/MTok per unit c²]
    c_bar_star : numeric -- unconditional optimum breadth c̄* > 0 (eq. 3). [unit c]
    cost_at_optimum_usd_per_mtok : numeric -- C(c̄*, d̄). [$/MTok]
    var_difficulty_hat : numeric -- Var(d̂) of the classifier's score on the workload. [unit d̂²]

    >>> round(float(breadth_slope_from_premium(0.02, 4.0, 2.0, 100.0, 0.25)), 6)  # η = 0.16: sqrt(.04/.04)
    1.0
    """
    kd = np.asarray(kappa_delta, dtype=float)
    eta = (np.abs(np.asarray(curvature_usd_per_mtok_per_c2, dtype=float)) * np.asarray(c_bar_star, dtype=float) ** 2
           / np.asarray(cost_at_optimum_usd_per_mtok, dtype=float))
    return np.sqrt(2.0 * kd / (eta * np.asarray(var_difficulty_hat, dtype=float)))
