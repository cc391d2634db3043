"""CPM_served and its four-term decomposition (paper 01 §2, §4.1, §4.2, §4.5, §6.3)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from costcorrect import units
from costcorrect.serving.architectures import (
    OperatingPoint,
    chunked_operating_point,
    colocated_operating_point,
    disaggregated_operating_point,
)
from costcorrect.serving.roofline import ServingSetup

TokenConvention = Literal["output", "prompt+output"]
TOKEN_CONVENTIONS: tuple[str, ...] = ("output", "prompt+output")


def prefill_share(prompt_tokens, output_tokens):
    """α = P / (P + D), the prefill FLOPs share of a request (01 §4.2). [-]

    >>> round(float(prefill_share(1150, 210)), 3)
    0.846
    """
    p = np.asarray(prompt_tokens, dtype=float)
    return p / (p + output_tokens)


def prompt_tokens_for_share(alpha, output_tokens):
    """Prompt length P giving prefill share α at output length D: ``P = α D / (1-α)``. [tokens]"""
    a = np.asarray(alpha, dtype=float)
    return a * np.asarray(output_tokens, dtype=float) / (1.0 - a)


def cpm_served_usd_per_mtok(price_usd_per_gpu_hour, num_gpus, goodput_tokens_per_s):
    """CPM_served = c_H · N_H / (G / 10^6), G converted to tokens per hour (01 §2). [$/MTok]

    Parameters
    ----------
    price_usd_per_gpu_hour : numeric -- c_H. [$/h per GPU]
    num_gpus : numeric -- N_H, accelerators that sustain G. [-]
    goodput_tokens_per_s : numeric -- G, SLO-compliant tokens per second. [tok/s]

    >>> round(float(cpm_served_usd_per_mtok(3.6, 1, 1000)), 4)
    1.0
    """
    return units.usd_per_mtok(np.asarray(price_usd_per_gpu_hour, dtype=float) * num_gpus,
                              goodput_tokens_per_s)


def token_convention_factor(prompt_tokens, output_tokens, convention: TokenConvention = "output"):
    """Multiplier from $/MTok of prompt+output tokens to the chosen convention. [-]

    01 §2 counts the tokens a system *emits* for compliant requests (output tokens);
    §4.3 amortises over P + D. A cost per prompt+output MTok times ``(P + D) / D`` is
    the cost per output MTok. Every reported number uses one convention, ``output`` by
    default.
    """
    if convention == "prompt+output":
        return np.ones_like(np.asarray(prompt_tokens, dtype=float))
    if convention == "output":
        p = np.asarray(prompt_tokens, dtype=float)
        return (p + output_tokens) / np.asarray(output_tokens, dtype=float)
    raise ValueError(f"token convention must be one of {TOKEN_CONVENTIONS}, got {convention!r}")


@dataclass(frozen=True)
class Decomposition:
    """CPM_served = α c_prefill + (1-α) c_decode + 1_PD (1-η) τ_KV + (1-1_PD) σ_co (01 §4.1).

    Every cost term is in $/MTok of the chosen token convention, so the four terms add up
    to ``cpm_served_usd_per_mtok``. ``c_prefill`` and ``c_decode`` are the phases' costs
    alone under the same contract (the transfer-free disaggregated phases); the KV tax
    ``tau_kv`` is split into the decode-slot term of §4.3 (``tau_kv_slot``) and the TTFT
    budget the transfer consumes (``tau_kv_ttft``); ``sigma_co`` is what colocation costs
    beyond the two phases alone (negative when its multiplexing gain outweighs the
    interference).
    """

    architecture: str
    alpha: np.ndarray
    prefill_term_usd_per_mtok: np.ndarray  # α c_prefill
    decode_term_usd_per_mtok: np.ndarray  # (1-α) c_decode
    tau_kv_usd_per_mtok: np.ndarray
    tau_kv_slot_usd_per_mtok: np.ndarray
    tau_kv_ttft_usd_per_mtok: np.ndarray
    sigma_co_usd_per_mtok: np.ndarray
    cpm_served_usd_per_mtok: np.ndarray
    operating_point: OperatingPoint
    token_convention: str

    @property
    def feasible(self) -> np.ndarray:
        return self.operating_point.feasible

    @property
    def sigma_co_fraction(self) -> np.ndarray:
        """Colocation slack as a share of the colocated bill. [-]"""
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.sigma_co_usd_per_mtok / self.cpm_served_usd_per_mtok


def decompose(
    setup: ServingSetup,
    architecture: str,
    prompt_tokens,
    output_tokens,
    ttft_p99_ms,
    tpot_p99_ms,
    *,
    bandwidth_gb_s=np.inf,
    overlap_eta=0.5,
    chunk_tokens=512,
    queue_servers: int = 1,
    token_convention: TokenConvention = "output",
    quantile: float = 0.99,
) -> Decomposition:
    """The four-term CPM_served decomposition for one architecture, over broadcast arrays.

    Parameters
    ----------
    setup : ServingSetup -- model on a TP group of GPUs, with price and efficiencies.
    architecture : {"colocated", "chunked", "disaggregated"}
    prompt_tokens, output_tokens : numeric -- mean P and D. [tokens]
    ttft_p99_ms, tpot_p99_ms : numeric -- the p99 contract. [ms]
    bandwidth_gb_s : numeric -- KV link B (disaggregated). [GB/s]
    overlap_eta : numeric -- KV-transfer overlap η in [0, 1] (disaggregated). [-]
    chunk_tokens : numeric -- prefill chunk χ (chunked). [tokens]
    queue_servers : int -- instances sharing one request queue (M/D/k). [-]
    token_convention : "output" | "prompt+output"

    Returns
    -------
    Decomposition -- all cost terms in $/MTok of ``token_convention``.
    """
    ttft_s = units.ms_to_s(ttft_p99_ms)
    tpot_s = units.ms_to_s(tpot_p99_ms)
    ref = disaggregated_operating_point(
        setup, prompt_tokens, output_tokens, ttft_s, tpot_s, np.inf, 0.0, queue_servers, quantile
    )
    alpha = prefill_share(prompt_tokens, output_tokens)
    prefill_term = alpha * ref.prefill_cost_usd_per_mtok
    decode_term = (1.0 - alpha) * ref.decode_cost_usd_per_mtok
    phases = prefill_term + decode_term
    zeros = np.zeros_like(np.asarray(phases))

    if architecture == "disaggregated":
        op = disaggregated_operating_point(
            setup, prompt_tokens, output_tokens, ttft_s, tpot_s, bandwidth_gb_s, overlap_eta,
            queue_servers, quantile,
        )
        slot = op.kv_slot_tax_usd_per_mtok
        with np.errstate(invalid="ignore"):
            ttft_tax = np.where(
                op.feasible, alpha * (op.prefill_cost_usd_per_mtok - ref.prefill_cost_usd_per_mtok),
                np.inf,
            )
        tau, sigma = slot + ttft_tax, zeros
        total = op.cost_usd_per_mtok
    elif architecture in ("colocated", "chunked"):
        if architecture == "colocated":
            op = colocated_operating_point(
                setup, prompt_tokens, output_tokens, ttft_s, tpot_s, queue_servers, quantile
            )
        else:
            op = chunked_operating_point(
                setup, prompt_tokens, output_tokens, ttft_s, tpot_s, chunk_tokens, queue_servers,
                quantile,
            )
        total = op.cost_usd_per_mtok
        with np.errstate(invalid="ignore"):
            sigma = np.where(np.isfinite(total) & np.isfinite(phases), total - phases, np.inf)
        tau = slot = ttft_tax = zeros
    else:
        raise ValueError(f"unknown architecture {architecture!r}")

    k = token_convention_factor(prompt_tokens, output_tokens, token_convention)
    return Decomposition(
        architecture=architecture,
        alpha=np.asarray(alpha),
        prefill_term_usd_per_mtok=prefill_term * k,
        decode_term_usd_per_mtok=decode_term * k,
        tau_kv_usd_per_mtok=tau * k,
        tau_kv_slot_usd_per_mtok=slot * k,
        tau_kv_ttft_usd_per_mtok=ttft_tax * k,
        sigma_co_usd_per_mtok=sigma * k,
        cpm_served_usd_per_mtok=total * k,
        operating_point=op,
        token_convention=token_convention,
    )


def clip_colocation_slack(sigma_co_fraction, utilization):
    """Colocation slack clipped at the realized utilization (01 §6.3). [-]

    Below the SLO knee prefill jitter has idle capacity to land in; 01 §6.3 caps the
    modeled slack share at the deployment's realized utilization u = λ / λ_capacity.
    """
    return np.minimum(np.asarray(sigma_co_fraction, dtype=float), np.clip(utilization, 0.0, 1.0))
