"""Tail latency of the prefill queue: M/D/k with an exponential waiting-time tail.

Prefill work is a queue with Poisson arrivals and a deterministic service time. One
instance is the M/D/1 model DistServe uses for its prefill instances (Zhong et al.,
OSDI'24, §3.1); ``k`` instances behind one scheduler (a global prefill queue, or a
least-loaded router in front of colocated replicas) share the queue. We approximate:
the probability of waiting by Erlang C (exact for M/M/k, an upper bound for M/D/k), and
the conditional wait as exponential with mean ``s / (2 k (1-ρ))`` (half the M/M/k value:
deterministic service halves the mean residual, Pollaczek-Khinchine). For k = 1 this is
exactly ``P(W>0) = ρ`` and the P-K mean wait ``ρ s / (2 (1-ρ))``. The discrete-event
simulator replaces the approximation with the real queue.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np


def erlang_c(servers: int, utilization):
    """Probability an arrival waits in an M/M/k queue (Erlang C). [-]

    >>> round(float(erlang_c(1, 0.7)), 6)
    0.7
    """
    k = int(servers)
    rho = np.clip(np.asarray(utilization, dtype=float), 0.0, 1.0 - 1e-12)
    a = k * rho
    # Sum a^i / i! for i < k, iteratively to stay finite for large k.
    term = np.ones_like(a)
    total = np.zeros_like(a)
    for i in range(k):
        total = total + term
        term = term * a / (i + 1)
    top = term / (1.0 - rho)
    return top / (total + top)


def wait_quantile_s(utilization, service_s, servers=1, quantile=0.99):
    """Queueing delay not exceeded by a fraction ``quantile`` of requests. [s]

    Parameters
    ----------
    utilization : numeric -- per-server utilization ρ = λ s / k in [0, 1). [-]
    service_s : numeric -- deterministic service time s. [s]
    servers : int -- k servers sharing the queue. [-]
    quantile : float -- e.g. 0.99 for p99. [-]

    Returns
    -------
    numeric -- ``s / (2 k (1-ρ)) * ln(C / (1-q))`` when the wait probability C exceeds
    1-q, else 0; ``inf`` for ρ >= 1. [s]
    """
    rho = np.asarray(utilization, dtype=float)
    tail = 1.0 - quantile
    p_wait = erlang_c(servers, rho)
    with np.errstate(divide="ignore", invalid="ignore"):
        cond_mean = np.asarray(service_s, dtype=float) / (2.0 * servers * (1.0 - rho))
        wait = cond_mean * np.log(np.maximum(p_wait, tail) / tail)
    return np.where(rho >= 1.0, np.inf, np.where(p_wait > tail, wait, 0.0))


def bisect_max(feasible, lo, hi, iterations=48):
    """Largest x in [lo, hi] with ``feasible(x)`` true, elementwise, for monotone predicates.

    ``feasible`` must be true below the answer and false above it. Returns ``lo`` where
    nothing above ``lo`` is feasible (check ``feasible(lo)`` separately).
    """
    lo = np.asarray(lo, dtype=float)
    hi = np.asarray(hi, dtype=float)
    lo, hi = np.broadcast_arrays(lo, hi)
    lo = lo.copy()
    hi = hi.copy()
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        ok = feasible(mid)
        lo = np.where(ok, mid, lo)
        hi = np.where(ok, hi, mid)
    return lo


@lru_cache(maxsize=64)
def _wait_curve(servers: int, quantile: float):
    """(ρ, W99/s) on a grid dense near ρ = 1, from the last ρ with zero wait upward."""
    rho = np.unique(np.concatenate([np.linspace(0.0, 0.99, 4000), 1.0 - np.logspace(-2, -7, 600)]))
    g = wait_quantile_s(rho, 1.0, servers, quantile)
    start = int(np.searchsorted(g, 0.0, side="right")) - 1
    return rho[start:], g[start:]


def max_utilization_for_wait(wait_budget_s, service_s, servers=1, quantile=0.99):
    """Largest per-server utilization whose p-quantile wait fits in ``wait_budget_s``. [-]

    The quantile wait scales with the service time, ``W_q = s g(ρ)``, so the answer is
    ``g^{-1}(budget / s)``, read off a tabulated monotone curve (vectorised, no loop per
    element). A negative budget gives 0 (infeasible).
    """
    rho_grid, g_grid = _wait_curve(int(servers), float(quantile))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.asarray(wait_budget_s, dtype=float) / np.asarray(service_s, dtype=float)
    rho = np.interp(ratio, g_grid, rho_grid)
    return np.where(ratio >= 0.0, rho, 0.0)
