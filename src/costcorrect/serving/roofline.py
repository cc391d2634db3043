"""Roofline execution time of one forward pass of a tensor-parallel instance (01 §4.2).

A forward pass over ``prefill_tokens`` new prompt tokens and ``decode_tokens`` decode
steps costs FLOPs (``2 n`` per token for the linear layers, plus attention that grows
with context) and HBM bytes (every weight once per pass, plus the KV cache each decode
step reads). Its time is the slower of the two, at the achievable fraction of peak
(MFU for compute, MBU for memory), plus the tensor-parallel all-reduces over NVLink and
a fixed per-pass overhead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from costcorrect import units


@dataclass(frozen=True)
class Efficiency:
    """Achievable fractions of peak and fixed costs; see catalog ``efficiency.yaml``.

    mfu : fraction of dense peak FLOP/s a large forward pass reaches. [-]
    mbu : fraction of peak HBM bandwidth a memory-bound pass reaches. [-]
    overhead_ms : fixed per-pass cost (kernel launches, scheduling, sampling). [ms]
    memory_fraction : share of HBM the engine may use for weights + KV cache. [-]
    """

    mfu: float = 0.5
    mbu: float = 0.8
    overhead_ms: float = 2.0
    memory_fraction: float = 0.9


@dataclass(frozen=True)
class ServingSetup:
    """One serving instance: a model on a tensor-parallel group of identical GPUs.

    All fields carry their unit; the engine builds this from catalog rows
    (:func:`costcorrect.serving.setup.build_setup`).
    """

    model_id: str
    gpu_id: str
    num_gpus: int  # GPUs per instance (TP degree) [-]
    active_params: float  # parameters touched per token [-]
    weight_bytes: float  # all weights, read once per pass [bytes]
    kv_bytes_per_token: float  # [bytes/token]
    attention_dim: float  # num_query_heads * head_dim [-]
    num_layers: int  # [-]
    hidden_size: int  # [-]
    peak_flops_per_s: float  # per GPU at the weight dtype [FLOP/s]
    hbm_bytes_per_s: float  # per GPU [bytes/s]
    hbm_capacity_bytes: float  # per GPU [bytes]
    tp_link_bytes_per_s: float  # per GPU, per direction, for all-reduce [bytes/s]
    price_usd_per_gpu_hour: float  # [$/h per GPU]
    activation_bytes: float = 2.0  # bytes per activation element in all-reduce [bytes]
    efficiency: Efficiency = Efficiency()

    @property
    def price_usd_per_hour(self) -> float:
        """Hourly price of the whole instance. [$/h]"""
        return self.price_usd_per_gpu_hour * self.num_gpus

    @property
    def kv_capacity_bytes(self) -> float:
        """HBM left for KV cache on the instance after weights. [bytes]"""
        usable = self.num_gpus * self.hbm_capacity_bytes * self.efficiency.memory_fraction
        return max(usable - self.weight_bytes, 0.0)


def forward_flops(setup: ServingSetup, prefill_tokens, decode_tokens, prefill_context, decode_context):
    """FLOPs of one forward pass. [FLOP]

    Linear layers: ``2 n`` per token (01 §4.2, Hoffmann et al. 2022). Attention: a
    decode token at context c costs ``4 L a c`` (QK^T and AV, a = heads x head_dim);
    a prefill chunk of χ tokens after ``o`` cached tokens costs ``4 L a χ (o + χ/2)``.

    prefill_context : tokens already cached before the chunk (0 for a whole prompt). [tokens]
    decode_context : mean context of the decode tokens. [tokens]
    """
    p = np.asarray(prefill_tokens, dtype=float)
    d = np.asarray(decode_tokens, dtype=float)
    linear = 2.0 * setup.active_params * (p + d)
    la4 = 4.0 * setup.num_layers * setup.attention_dim
    attention = la4 * (p * (np.asarray(prefill_context, dtype=float) + p / 2.0) + d * decode_context)
    return linear + attention


def forward_bytes(setup: ServingSetup, prefill_tokens, decode_tokens, decode_context):
    """HBM bytes one forward pass moves: weights once, KV reads, KV writes. [bytes]"""
    p = np.asarray(prefill_tokens, dtype=float)
    d = np.asarray(decode_tokens, dtype=float)
    kv_read = d * np.asarray(decode_context, dtype=float) * setup.kv_bytes_per_token
    kv_write = (p + d) * setup.kv_bytes_per_token
    return setup.weight_bytes + kv_read + kv_write


def tp_allreduce_time_s(setup: ServingSetup, tokens):
    """Ring all-reduce time of the two per-layer reductions under tensor parallelism. [s]

    Each layer all-reduces ``tokens x hidden`` activations twice (attention out, MLP
    out); a ring moves ``2 (N-1)/N`` of the message over each GPU's link.
    """
    n = setup.num_gpus
    if n <= 1:
        return np.zeros_like(np.asarray(tokens, dtype=float))
    msg = np.asarray(tokens, dtype=float) * setup.hidden_size * setup.activation_bytes
    per_layer = 2.0 * (2.0 * (n - 1) / n) * msg / setup.tp_link_bytes_per_s
    return setup.num_layers * per_layer


def forward_time_s(
    setup: ServingSetup, prefill_tokens, decode_tokens, decode_context, prefill_context=0.0
):
    """Wall-clock time of one forward pass on the instance. [s]

    ``max(FLOPs / (N F mfu), bytes / (N H mbu)) + all-reduce + overhead``.

    Examples
    --------
    Decoding one Llama-2-70B token on one H100 at MBU 1 reads ~138 GB of weights:
    3350 GB/s / 138 GB ≈ 24 tokens/s, the single-stream cap of 01 §4.2.
    """
    eff = setup.efficiency
    n = setup.num_gpus
    flops = forward_flops(setup, prefill_tokens, decode_tokens, prefill_context, decode_context)
    moved = forward_bytes(setup, prefill_tokens, decode_tokens, decode_context)
    t_compute = flops / (n * setup.peak_flops_per_s * eff.mfu)
    t_memory = moved / (n * setup.hbm_bytes_per_s * eff.mbu)
    tokens = np.asarray(prefill_tokens, dtype=float) + decode_tokens
    return (
        np.maximum(t_compute, t_memory)
        + tp_allreduce_time_s(setup, tokens)
        + units.ms_to_s(eff.overhead_ms)
    )


def single_stream_decode_tokens_per_s(weight_bytes, hbm_bandwidth_gb_s):
    """Upper bound on batch-1 decode speed: one full weight read per token (01 §4.2). [tok/s]

    >>> round(float(single_stream_decode_tokens_per_s(140e9, 3350)), 1)
    23.9
    """
    return units.gb_s_to_bytes_per_s(hbm_bandwidth_gb_s) / np.asarray(weight_bytes, dtype=float)
