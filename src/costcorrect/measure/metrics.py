"""Per-request SLO, goodput and CPM_served of a measured (or simulated) run (issue 5).

All functions are pure and vectorised over per-request arrays:

- a request *meets the contract* iff it succeeded, its TTFT ≤ T and its mean TPOT ≤ U
  (paper 01 §2's per-request SLO; TPOT = (latency − TTFT)/(output − 1), vLLM's
  definition, 0 for one-token outputs);
- goodput G = tokens of compliant requests / run duration [tokens/s], tokens counted in
  the frontier's convention (``output`` by default; ``prompt+output`` on request);
- CPM_served = c_H · N_H / (G · 3600 / 10⁶) [$/MTok] (paper 01 §2, through
  :func:`costcorrect.serving.decomposition.cpm_served_usd_per_mtok`);
- a percentile-bootstrap 95 % interval for CPM_served, resampling requests with
  replacement and holding the duration fixed.

Percentiles are nearest-rank (the ⌈q·n⌉-th smallest value), the rule the simulator's
histograms use, so a measured and a simulated p99 mean the same thing.
"""

from __future__ import annotations

import math

import numpy as np

from costcorrect.serving.decomposition import cpm_served_usd_per_mtok

#: Elements per bootstrap block (resamples × requests), bounding memory to ~64 MB.
BOOTSTRAP_BLOCK = 8_000_000


def request_slo_met(ttft_ms, tpot_ms, success, ttft_slo_ms, tpot_slo_ms):
    """Per-request contract: success ∧ TTFT ≤ T ∧ mean TPOT ≤ U (01 §2). [bool]

    NaN latencies (a failed or unmeasured request) never meet the contract.

    >>> request_slo_met([100, 600, 100], [20, 20, 60], [True, True, True], 500, 50).tolist()
    [True, False, False]
    """
    ttft = np.asarray(ttft_ms, dtype=float)
    tpot = np.asarray(tpot_ms, dtype=float)
    ok = np.asarray(success, dtype=bool)
    with np.errstate(invalid="ignore"):
        return ok & (ttft <= ttft_slo_ms) & (tpot <= tpot_slo_ms)


def request_tokens(prompt_tokens, output_tokens, convention: str = "output"):
    """Tokens a request contributes to goodput in a token convention. [tokens]

    ``output`` counts emitted tokens (01 §2); ``prompt+output`` counts P + D (01 §4.3).
    """
    out = np.asarray(output_tokens, dtype=float)
    if convention == "output":
        return out
    if convention == "prompt+output":
        return out + np.asarray(prompt_tokens, dtype=float)
    raise ValueError(f"token convention must be 'output' or 'prompt+output', got {convention!r}")


def goodput_tokens_per_s(tokens, met, duration_s):
    """G = Σ tokens of compliant requests / duration. [tokens/s]

    >>> float(goodput_tokens_per_s([100, 200, 300], [True, False, True], 2.0))
    200.0
    """
    t = np.asarray(tokens, dtype=float)
    m = np.asarray(met, dtype=bool)
    return float(t[m].sum()) / float(duration_s)


def steady_goodput_tokens_per_s(tokens, met, arrival_s):
    """Open-loop steady-state goodput: arrival rate × compliant tokens per request. [tokens/s]

    The simulator's definition (``costcorrect.simulator.run``): (n − 1)/(last − first
    arrival) × Σ compliant tokens / n. It leaves out the drain after the last arrival,
    which ``tokens / duration`` charges to every token of a short run. ``None`` when the
    arrivals span no time.

    >>> float(steady_goodput_tokens_per_s([100, 100, 100], [True, True, False], [0.0, 1.0, 2.0]))
    66.66666666666667
    """
    a = np.asarray(arrival_s, dtype=float)
    if a.size < 2:
        return None
    span = float(a.max() - a.min())
    if not span > 0:
        return None
    t = np.asarray(tokens, dtype=float)
    m = np.asarray(met, dtype=bool)
    return (a.size - 1) / span * float(t[m].sum()) / a.size


def nearest_rank_quantile(values, q: float) -> float:
    """The ⌈q·n⌉-th smallest value (nearest rank); NaN for no values. [same unit]

    >>> nearest_rank_quantile([5, 1, 4, 2, 3], 0.5)
    3.0
    """
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return math.nan
    k = max(1, math.ceil(q * v.size))
    return float(np.partition(v, k - 1)[k - 1])


def latency_summary(values) -> dict:
    """``{p50, p90, p99, mean}`` of finite values (nearest rank). [same unit]"""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    return {"p50": nearest_rank_quantile(v, 0.50), "p90": nearest_rank_quantile(v, 0.90),
            "p99": nearest_rank_quantile(v, 0.99), "mean": float(v.mean()) if v.size else math.nan}


def bootstrap_goodput(good_tokens, duration_s, n_resamples: int, rng: np.random.Generator):
    """Goodput of ``n_resamples`` request resamples (with replacement). [tokens/s]

    ``good_tokens`` holds each request's compliant tokens (0 for a request that missed
    the contract); the duration is held fixed, so the interval reflects which requests
    happened to meet the contract, not how long the run lasted.
    """
    g = np.asarray(good_tokens, dtype=float)
    n = g.size
    out = np.empty(n_resamples)
    block = max(1, BOOTSTRAP_BLOCK // max(n, 1))
    for start in range(0, n_resamples, block):
        b = min(block, n_resamples - start)
        idx = rng.integers(0, n, size=(b, n))
        out[start:start + b] = g[idx].sum(axis=1)
    return out / float(duration_s)


def cpm_interval_usd_per_mtok(price_usd_per_gpu_hour, num_gpus, goodput_samples, level: float = 0.95):
    """Percentile interval of CPM_served from goodput resamples. [$/MTok]

    CPM falls as goodput rises, so the interval's ends come from the goodput quantiles
    swapped; an end whose goodput is 0 is unbounded and returned as ``None``.
    """
    lo_q, hi_q = (1 - level) / 2, 1 - (1 - level) / 2
    g_lo, g_hi = np.quantile(np.asarray(goodput_samples, dtype=float), [lo_q, hi_q])

    def cpm(g):
        return float(cpm_served_usd_per_mtok(price_usd_per_gpu_hour, num_gpus, g)) if g > 0 else None

    return [cpm(g_hi), cpm(g_lo)]


def served_summary(*, prompt_tokens, output_tokens, ttft_ms, tpot_ms, success, duration_s: float,
                   ttft_slo_ms: float, tpot_slo_ms: float, price_usd_per_gpu_hour: float, num_gpus: int,
                   token_convention: str = "output", e2e_ms=None, arrival_s=None, n_bootstrap: int = 2000,
                   seed: int = 0) -> dict:
    """Everything ``costcorrect measure`` reports, from per-request arrays. [see keys]

    Keys: ``num_requests``, ``num_failed``, ``slo_attainment`` (compliant / all requests,
    failed ones included), ``goodput_tokens_per_s``, ``cpm_served_usd_per_mtok`` (``None``
    with ``cpm_note`` when nothing met the contract), ``cpm_served_ci95_usd_per_mtok``
    ``[lo, hi]``, and ``ttft_ms`` / ``tpot_ms`` / ``e2e_ms`` percentiles of successful
    requests. With arrival times, ``goodput_steady_tokens_per_s`` adds the simulator's
    open-loop goodput (arrival rate × compliant tokens per request), for comparison only.
    """
    ok = np.asarray(success, dtype=bool)
    n = ok.size
    met = request_slo_met(ttft_ms, tpot_ms, ok, ttft_slo_ms, tpot_slo_ms)
    tokens = request_tokens(prompt_tokens, output_tokens, token_convention)
    goodput = goodput_tokens_per_s(tokens, met, duration_s)
    cpm = float(cpm_served_usd_per_mtok(price_usd_per_gpu_hour, num_gpus, goodput)) if goodput > 0 else None
    ci = [None, None]
    if n_bootstrap > 0 and n > 0:
        samples = bootstrap_goodput(np.where(met, tokens, 0.0), duration_s, n_bootstrap, np.random.default_rng(seed))
        ci = cpm_interval_usd_per_mtok(price_usd_per_gpu_hour, num_gpus, samples)
    sel = ok
    return {
        "num_requests": int(n),
        "num_failed": int(n - ok.sum()),
        "num_slo_met": int(met.sum()),
        "slo": {"ttft_p99_ms": float(ttft_slo_ms), "tpot_p99_ms": float(tpot_slo_ms)},
        "slo_attainment": float(met.sum() / n) if n else None,
        "duration_s": float(duration_s),
        "goodput_tokens_per_s": goodput,
        "goodput_steady_tokens_per_s": steady_goodput_tokens_per_s(tokens, met, arrival_s)
        if arrival_s is not None else None,
        "throughput_tokens_per_s": float(tokens[ok].sum()) / float(duration_s),
        "token_convention": token_convention,
        "num_gpus": int(num_gpus),
        "price_usd_per_gpu_hour": float(price_usd_per_gpu_hour),
        "cpm_served_usd_per_mtok": cpm,
        "cpm_note": None if cpm is not None else "no request met the SLO: CPM_served is unbounded",
        "cpm_served_ci95_usd_per_mtok": ci,
        "bootstrap": {"n_resamples": int(n_bootstrap), "seed": int(seed),
                      "method": "percentile bootstrap over requests, duration fixed"},
        "ttft_ms": latency_summary(np.asarray(ttft_ms, dtype=float)[sel]),
        "tpot_ms": latency_summary(np.asarray(tpot_ms, dtype=float)[sel]),
        "e2e_ms": latency_summary(np.asarray(e2e_ms, dtype=float)[sel]) if e2e_ms is not None else None,
    }
