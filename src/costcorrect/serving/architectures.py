"""Capacity of each serving architecture under a p99 (TTFT, TPOT) contract (01 §3, §4).

For a workload of mean prompt P and output D tokens, each function finds the largest
load one instance sustains while the p99 TTFT and p99 TPOT stay inside the contract
and the KV cache fits, and returns the operating point there. All inputs broadcast
(NumPy), so one call evaluates a whole grid. Throughput is fluid (fractional batch);
the p99 of per-request mean TPOT uses a normal approximation to the count of
interfering prefills; the TTFT tail uses :mod:`costcorrect.serving.queueing` with
``servers`` = k instances sharing one request queue (the same k for every
architecture, so the comparison is like for like).

Three mechanisms, one per architecture of 01 §3:

- ``colocated`` (vLLM continuous batching, §3.1): prompts run as prefill-only passes
  that stall every in-flight decode. A request's mean TPOT is ``t_dec(b)`` plus the
  prefills that land during its life (Poisson, mean b) spread over its D tokens.
- ``chunked`` (Sarathi-Serve, §3.2): every pass carries the decode batch plus, when a
  prompt waits, a prefill chunk of χ tokens that shares the pass's weight read.
- ``disaggregated`` (DistServe / Splitwise / Mooncake, §3.3): separate prefill and
  decode instances; the prefill's KV cache crosses a link of bandwidth B, of which a
  fraction η is hidden behind decode (§4.3, §6.2). Pools are sized fluidly.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from costcorrect import units
from costcorrect.serving.kv import (
    kv_cache_bytes,
    kv_transfer_tax_usd_per_mtok,
    kv_transfer_time_s,
)
from costcorrect.serving.queueing import bisect_max, max_utilization_for_wait, wait_quantile_s
from costcorrect.serving.roofline import ServingSetup, forward_time_s

ARCHITECTURES = ("colocated", "chunked", "disaggregated")


@dataclass(frozen=True)
class OperatingPoint:
    """Per-instance operating point at the largest load inside the contract (arrays).

    ``cost_usd_per_mtok`` is per million prompt+output tokens and counts only the
    SLO-compliant share (``slo_attainment``) of what is served.
    """

    feasible: np.ndarray  # bool
    decode_batch: np.ndarray  # requests in the decode batch [requests]
    prefill_utilization: np.ndarray  # share of time the prefill server is busy [-]
    ttft_p99_s: np.ndarray  # [s]
    tpot_p99_s: np.ndarray  # [s]
    cost_usd_per_mtok: np.ndarray  # [$/MTok of prompt+output tokens]
    prefill_cost_usd_per_mtok: np.ndarray  # per prompt token (disaggregated only) [$/MTok]
    decode_cost_usd_per_mtok: np.ndarray  # per output token (disaggregated only) [$/MTok]
    kv_slot_tax_usd_per_mtok: np.ndarray  # τ_KV direct term (disaggregated only) [$/MTok]
    kv_transfer_s: np.ndarray  # t_KV [s]


def _as(x):
    return np.asarray(x, dtype=float)


def _mean_context(prompt_tokens, output_tokens):
    """Mean KV context of a request over its decode phase. [tokens]"""
    return _as(prompt_tokens) + 0.5 * _as(output_tokens)


def kv_batch_limit(setup: ServingSetup, prompt_tokens, output_tokens):
    """Largest decode batch whose KV cache fits beside the weights. [requests]"""
    per_request = setup.kv_bytes_per_token * _mean_context(prompt_tokens, output_tokens)
    return setup.kv_capacity_bytes / per_request


def _infeasible_to_inf(feasible, value):
    return np.where(feasible, value, np.inf)


def _colocated_point(setup, ok, b, pass_s, rho, ttft_s, tpot_s, P, D, quantile) -> OperatingPoint:
    """Price a colocated instance that finishes b/D requests per mean pass of ``pass_s``."""
    tokens_per_s = (b / D) / pass_s * (P + D) * quantile
    cost = _infeasible_to_inf(ok, units.usd_per_mtok(setup.price_usd_per_hour, tokens_per_s))
    nan = np.full_like(P, np.nan)
    zero = np.zeros_like(P)
    return OperatingPoint(ok, b, rho, ttft_s, tpot_s, cost, nan, nan, zero, zero)


def _z(quantile):
    return NormalDist().inv_cdf(quantile)


def colocated_operating_point(
    setup: ServingSetup,
    prompt_tokens,
    output_tokens,
    ttft_p99_s,
    tpot_p99_s,
    servers=1,
    quantile=0.99,
) -> OperatingPoint:
    """Continuous-batching colocation (01 §3.1) at its SLO capacity.

    Per decode pass of batch b (time ``t_d``), b/D prompts arrive and each takes a
    prefill-only pass ``t_p``. Mean time per decode pass ``T = t_d + (b/D) t_p``.
    p99 TPOT ``= t_d + (b + z sqrt(b)) t_p / D``; p99 TTFT ``= t_p + t_d + W99(ρ, t_p, k)``
    with ρ the prefill share of time and k replicas behind a least-loaded router. Returns the largest feasible b.
    """
    P, D, ttft, tpot = np.broadcast_arrays(
        _as(prompt_tokens), _as(output_tokens), _as(ttft_p99_s), _as(tpot_p99_s)
    )
    ctx = _mean_context(P, D)
    z = _z(quantile)
    t_p = forward_time_s(setup, P, 0.0, 0.0)

    def metrics(b):
        t_d = forward_time_s(setup, 0.0, b, ctx)
        prefill_time = (b / D) * t_p
        cycle = t_d + prefill_time
        rho = prefill_time / cycle
        tpot_b = t_d + (b + z * np.sqrt(b)) * t_p / D
        ttft_b = t_p + t_d + wait_quantile_s(rho, t_p, servers, quantile)
        return t_d, cycle, rho, tpot_b, ttft_b

    b_mem = kv_batch_limit(setup, P, D)

    def feasible(b):
        _, _, _, tpot_b, ttft_b = metrics(b)
        return (tpot_b <= tpot) & (ttft_b <= ttft) & (b <= b_mem)

    b = bisect_max(feasible, np.ones_like(P), np.maximum(b_mem, 1.0))
    ok = feasible(np.ones_like(P)) & (b_mem >= 1.0)
    _t_d, cycle, rho, tpot_b, ttft_b = metrics(b)
    return _colocated_point(setup, ok, b, cycle, rho, ttft_b, tpot_b, P, D, quantile)


def chunked_operating_point(
    setup: ServingSetup,
    prompt_tokens,
    output_tokens,
    ttft_p99_s,
    tpot_p99_s,
    chunk_tokens,
    servers=1,
    quantile=0.99,
) -> OperatingPoint:
    """Chunked-prefill colocation (01 §3.2, §4.4) at its SLO capacity.

    A pass carrying a chunk takes ``t_f = t(χ prefill + b decode)``, one without takes
    ``t_d``. Steady state needs ``b P / D`` prompt tokens per pass, so a share
    ``f = b P / (D χ)`` of passes carry a chunk. p99 TPOT ``= t_d + (f + z sqrt(f(1-f)/D))
    (t_f - t_d)``; a prompt's prefill takes ``max(P/χ, 1)`` chunk passes and queues as
    M/D/k. Small χ lengthens TTFT and wastes the pass on weight reads; large χ stretches
    the passes that carry a chunk (the chunk-size trade of §4.4).
    """
    P, D, ttft, tpot, chi = np.broadcast_arrays(
        _as(prompt_tokens), _as(output_tokens), _as(ttft_p99_s), _as(tpot_p99_s), _as(chunk_tokens)
    )
    ctx = _mean_context(P, D)
    z = _z(quantile)
    chunk_offset = np.maximum(P - chi, 0.0) / 2.0
    passes_per_prompt = np.maximum(P / chi, 1.0)

    def metrics(b):
        t_d = forward_time_s(setup, 0.0, b, ctx)
        t_f = forward_time_s(setup, chi, b, ctx, chunk_offset)
        f = np.minimum(b * P / (D * chi), 1.0)
        mean_pass = f * t_f + (1.0 - f) * t_d
        spread = np.minimum(f + z * np.sqrt(f * (1.0 - f) / D), 1.0)
        tpot_b = t_d + spread * (t_f - t_d)
        service = passes_per_prompt * t_f
        rho = (b / D) / mean_pass * service
        ttft_b = service + wait_quantile_s(rho, service, servers, quantile)
        return mean_pass, rho, tpot_b, ttft_b

    b_mem = kv_batch_limit(setup, P, D)

    def feasible(b):
        _, rho, tpot_b, ttft_b = metrics(b)
        return (rho < 1.0) & (tpot_b <= tpot) & (ttft_b <= ttft) & (b <= b_mem)

    b = bisect_max(feasible, np.ones_like(P), np.maximum(b_mem, 1.0))
    ok = feasible(np.ones_like(P)) & (b_mem >= 1.0)
    mean_pass, rho, tpot_b, ttft_b = metrics(b)
    return _colocated_point(setup, ok, b, mean_pass, rho, ttft_b, tpot_b, P, D, quantile)


def disaggregated_operating_point(
    setup: ServingSetup,
    prompt_tokens,
    output_tokens,
    ttft_p99_s,
    tpot_p99_s,
    bandwidth_gb_s=np.inf,
    overlap_eta=0.0,
    servers=1,
    quantile=0.99,
) -> OperatingPoint:
    """Prefill/decode disaggregation (01 §3.3) at its SLO capacity, pools sized fluidly.

    Prefill instance: one prompt per pass ``t_p``; p99 TTFT ``= t_p + W99(ρ, t_p, k) +
    (1-η) t_KV``; the largest ρ inside the contract sets the prefill cost. Decode
    instance: the largest b with ``t_d(b) <= TPOT`` and the KV in memory. The KV slot
    tax ``(1-η) τ_KV`` (§4.3) charges the decode slot held while the KV arrives.
    ``bandwidth_gb_s=inf`` gives the transfer-free reference phases of §4.5.
    """
    P, D, ttft, bw, eta = np.broadcast_arrays(
        _as(prompt_tokens), _as(output_tokens), _as(ttft_p99_s), _as(bandwidth_gb_s),
        _as(overlap_eta),
    )
    t_p = forward_time_s(setup, P, 0.0, 0.0)
    t_kv = kv_transfer_time_s(kv_cache_bytes(setup.kv_bytes_per_token, P), bw)
    exposed = (1.0 - eta) * t_kv
    budget = ttft - exposed - t_p
    rho = max_utilization_for_wait(budget, t_p, servers, quantile)
    prefill_feasible = (budget >= 0.0) & (rho > 0.0)
    prefill_tok_s = rho * P / t_p

    # The decode pool never sees the link: size it on (P, D, TPOT) alone, then broadcast.
    Pd, Dd, tpot = np.broadcast_arrays(_as(prompt_tokens), _as(output_tokens), _as(tpot_p99_s))
    ctx = _mean_context(Pd, Dd)
    b_mem = kv_batch_limit(setup, Pd, Dd)

    def decode_ok(b):
        return (forward_time_s(setup, 0.0, b, ctx) <= tpot) & (b <= b_mem)

    b = bisect_max(decode_ok, np.ones_like(Pd), np.maximum(b_mem, 1.0))
    decode_feasible = decode_ok(np.ones_like(Pd)) & (b_mem >= 1.0)
    t_d = forward_time_s(setup, 0.0, b, ctx)
    decode_tok_s = b / t_d
    P, D, ttft, bw, eta, t_p, t_kv, exposed, rho, prefill_feasible, prefill_tok_s, b, t_d, \
        decode_tok_s, decode_feasible = np.broadcast_arrays(
            P, D, ttft, bw, eta, t_p, t_kv, exposed, rho, prefill_feasible, prefill_tok_s, b, t_d,
            decode_tok_s, decode_feasible,
        )

    ok = prefill_feasible & decode_feasible
    price = setup.price_usd_per_hour
    # Only the SLO-compliant share of tokens counts (01 §2).
    c_prefill = _infeasible_to_inf(ok, units.usd_per_mtok(price, prefill_tok_s * quantile))
    c_decode = _infeasible_to_inf(ok, units.usd_per_mtok(price, decode_tok_s * quantile))
    slot_tax = np.where(
        ok, kv_transfer_tax_usd_per_mtok(price, t_kv, P, D, b, eta) / quantile, np.inf
    )
    alpha = P / (P + D)
    cost = alpha * c_prefill + (1.0 - alpha) * c_decode + slot_tax
    ttft_at = t_p + wait_quantile_s(rho, t_p, servers, quantile) + exposed
    return OperatingPoint(ok, b, rho, ttft_at, t_d, cost, c_prefill, c_decode, slot_tax, t_kv)
