"""Probe-construction strategies and the probe-cost decomposition (paper 06 §6–§7).

Strategies pick ``N`` probes out of a labelled candidate pool of size ``M``:

* :func:`select_uniform` — iid draws from the deployer's distribution (the pool is iid,
  so the first ``N`` of a shuffled pool).
* :func:`select_maximin_entropy` — the ``N`` pool items with the largest entropy of the K
  candidates' accept/reject split, ``H(m_i/K)`` with ``m_i`` the number of verifiers that
  accept item ``i`` (ties broken at random). Items on which every verifier agrees carry no
  information about the ranking by agreement; these are dropped first.
* :func:`select_hard_instances` — the ``N`` pool items where a bootstrap verifier is least
  confident (smallest ``|p0 - 1/2|``).

All are vectorised over leading axes (seeds). Costs: :func:`construction_cost_usd` and
:func:`probe_cost_decomposition` (§7: construction ≈ 7× payments, 87 % of total).
"""

from __future__ import annotations

import numpy as np

from costcorrect.errors import InputError, check_range

STRATEGIES = ("uniform", "maximin", "hard")


def _check_n(n_probes: int, pool_size: int) -> int:
    n = int(n_probes)
    if n < 1 or n > pool_size:
        raise InputError("n_probes", n_probes, f"an integer in [1, pool size {pool_size}]")
    return n


def select_uniform(n_probes: int, pool_size: int, rng: np.random.Generator | None = None, batch_shape=()):
    """Indices of ``N`` iid probes from a pool of ``M`` (without replacement), shape (*batch, N).

    With ``rng=None`` the first ``N`` indices (the pool is already an iid sample).
    """
    n = _check_n(n_probes, pool_size)
    if rng is None:
        return np.broadcast_to(np.arange(n), (*batch_shape, n)).copy()
    keys = rng.random((*batch_shape, pool_size))
    return np.argpartition(keys, n - 1, axis=-1)[..., :n] if n < pool_size else np.argsort(keys, axis=-1)


def binary_entropy_bits(frac):
    """``H(f) = -f log2 f - (1-f) log2 (1-f)`` [bits], 0 at f ∈ {0, 1}."""
    f = np.clip(np.asarray(frac, dtype=float), 0.0, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -(f * np.log2(f) + (1 - f) * np.log2(1 - f))
    return np.nan_to_num(h, nan=0.0)


def _tie_keys(tie_break, shape):
    """Uniform tie-break keys: from a Generator, a given array (prefix-sliced), or pool order."""
    if tie_break is None:
        return np.broadcast_to(np.linspace(1, 0, shape[-1], endpoint=False), shape)
    if isinstance(tie_break, np.random.Generator):
        return tie_break.random(shape)
    t = np.asarray(tie_break, dtype=float)
    return np.broadcast_to(t[..., : shape[-1]], shape)


def select_maximin_entropy(decisions, n_probes: int, rng=None):
    """Indices (..., N) of the pool items with the highest disagreement entropy (§6).

    ``decisions``: (..., K, M) accept (1) / reject (0) of each candidate verifier on each
    pool item. Ties (e.g. all-agree items) are broken uniformly at random when ``rng`` is a
    Generator (or an array of uniform keys, shape (..., >= M)), else by pool order.
    """
    d = np.asarray(decisions)
    if d.ndim < 2:
        raise InputError("decisions", f"shape {d.shape}", "(..., K, M)")
    m = d.shape[-1]
    n = _check_n(n_probes, m)
    h = binary_entropy_bits(d.mean(axis=-2))
    # Entropy takes at most K+1 distinct values; the tie-break key stays below their spacing.
    tie = _tie_keys(rng, h.shape) * 1e-6
    key = -(h + tie)
    if n == m:
        return np.argsort(key, axis=-1)
    return np.argpartition(key, n - 1, axis=-1)[..., :n]


def select_hard_instances(bootstrap_probs, n_probes: int, rng=None):
    """Indices (..., N) of the pool items where the bootstrap verifier's ``P(accept)`` is
    closest to 1/2 (hard-instance mining, §6). ``bootstrap_probs``: (..., M)."""
    p = np.asarray(bootstrap_probs, dtype=float)
    m = p.shape[-1]
    n = _check_n(n_probes, m)
    tie = _tie_keys(rng, p.shape) * 1e-9
    key = np.abs(p - 0.5) + tie
    if n == m:
        return np.argsort(key, axis=-1)
    return np.argpartition(key, n - 1, axis=-1)[..., :n]


def construction_cost_usd(strategy: str, n_probes, gamma_usd_per_probe: float, bootstrap_alpha=None,
                          query_usd_per_item: float = 0.0, n_vendors: int = 0, pool_factor: float = 1.0):
    """Cost of building ``N`` labelled probes with a strategy [USD] (§6).

    * uniform: ``N·γ`` (one in-house verification per probe);
    * maximin: ``N·γ`` plus, optionally, querying K vendors on the ``pool_factor·N`` pool
      items at ``query_usd_per_item`` each (the paper assumes no per-probe increase: 0);
    * hard: ``N·γ / (1 - α0)`` with ``α0`` the bootstrap verifier's accept rate
      (Proposition 2's scaling).
    """
    if strategy not in STRATEGIES:
        raise InputError("strategy", strategy, "one of " + ", ".join(STRATEGIES))
    check_range("gamma_usd_per_probe", gamma_usd_per_probe, 0.0)
    n = np.asarray(n_probes, dtype=float)
    base = n * gamma_usd_per_probe
    if strategy == "uniform":
        return base
    if strategy == "maximin":
        return base + n * pool_factor * n_vendors * query_usd_per_item
    if bootstrap_alpha is None:
        raise InputError("bootstrap_alpha", None, "the bootstrap verifier's accept rate in [0, 1) for 'hard'")
    a0 = np.asarray(bootstrap_alpha, dtype=float)
    check_range("bootstrap_alpha", a0, 0.0, 1.0, hi_open=True)
    return base / (1.0 - a0)


def probe_cost_decomposition(n_probes: int, construction_usd: float, payments_usd) -> dict:
    """Split of the mechanism's cost into probe construction and scoring-rule payments (§7).

    ``payments_usd``: the K vendors' payments for the probe set [USD]. Returns the per-probe
    construction cost, the per-probe payment summed across the K vendors, their ratio (the
    paper's "≈ 7×") and the construction share of the total (the paper's "87 %").
    """
    n = int(n_probes)
    if n < 1:
        raise InputError("n_probes", n_probes, "an integer >= 1")
    pay = float(np.sum(payments_usd))
    c = float(construction_usd)
    per_probe_c = c / n
    per_probe_pay = pay / n
    return {
        "construction_usd": c,
        "payments_usd": pay,
        "total_usd": c + pay,
        "construction_usd_per_probe": per_probe_c,
        "payments_usd_per_probe_all_vendors": per_probe_pay,
        "construction_to_payment_ratio": per_probe_c / per_probe_pay if per_probe_pay > 0 else float("inf"),
        "construction_share": c / (c + pay) if c + pay > 0 else float("nan"),
    }


def share_from_ratio(ratio):
    """Construction share of total cost implied by a construction:payment ratio ``r``: ``r/(1+r)``."""
    r = np.asarray(ratio, dtype=float)
    return r / (1.0 + r)
