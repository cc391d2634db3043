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
class MoEReads:
    """What an MoE forward pass reads, per replica (all GPUs of one instance together).

    bytes read per pass = ``nonexpert_read_bytes + shared_read_bytes [n > 0]
    + expert_bytes * D(n)``, with ``D(n) = E (1 - (1 - k/E)^n)`` the expected distinct
    routed experts ``n`` tokens touch per layer (uniform independent routing;
    :func:`costcorrect.serving.layout.expected_distinct_experts`).

    nonexpert_read_bytes : attention, dense FFNs, embeddings, norms, routers of every
        attention-DP copy. [bytes]
    shared_read_bytes : shared experts of every expert-parallel copy. [bytes]
    expert_bytes : one routed expert in every MoE layer. [bytes]
    num_experts, experts_per_token : E and k. [-]
    num_moe_layers : [-]
    """

    nonexpert_read_bytes: float
    shared_read_bytes: float
    expert_bytes: float
    num_experts: int
    experts_per_token: float
    num_moe_layers: int

    def read_bytes(self, tokens):
        """Weight bytes one pass over ``tokens`` tokens reads on the replica. [bytes]"""
        n = np.asarray(tokens, dtype=float)
        e, k = float(self.num_experts), float(self.experts_per_token)
        distinct = e * (1.0 - (1.0 - k / e) ** n)
        return self.nonexpert_read_bytes + np.where(n > 0, self.shared_read_bytes, 0.0) + self.expert_bytes * distinct


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
    # --- issue 14 (layout-aware setups; the defaults reproduce the dense TP-only setup) ---
    attention_dp: int = 1  # attention data-parallel ranks; num_gpus = tp x attention_dp [-]
    expert_parallel: int = 1  # MoE expert-parallel degree (moe_ep) [-]
    moe_tensor_parallel: int = 0  # MoE tensor-parallel degree (moe_tp); 0 = num_gpus [-]
    moe: MoEReads | None = None  # MoE weight reads (None: dense, every weight read per pass)
    kv_bytes_per_seq: float = 0.0  # per-request constant KV/state (sliding windows, linear attn) [bytes]
    decode_attention_dim: float = 0.0  # attention width of a decode token if != attention_dim (MLA) [-]
    attention_layers: int = 0  # layers whose attention grows with context; 0 = num_layers [-]
    weight_precision: str = "bf16"  # storage format of the quantized weights
    kv_precision: str = "bf16"
    compute_precision: str = "bf16"  # tensor-core precision the GEMMs run at
    nvlink_domain_gpus: int = 0  # GPUs one NVLink domain joins (0 = unknown) [-]

    @property
    def tensor_parallel(self) -> int:
        """Attention tensor-parallel degree: ``num_gpus / attention_dp``. [-]"""
        return max(self.num_gpus // max(self.attention_dp, 1), 1)

    @property
    def moe_tp(self) -> int:
        """MoE tensor-parallel degree; ``num_gpus / expert_parallel`` when not given. [-]"""
        return self.moe_tensor_parallel or max(self.num_gpus // max(self.expert_parallel, 1), 1)

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
    return weight_read_bytes(setup, p + d) + kv_read + kv_write + d * setup.kv_bytes_per_seq


def weight_read_bytes(setup: ServingSetup, tokens):
    """Weight bytes one forward pass over ``tokens`` tokens reads from HBM. [bytes]

    Dense: every stored weight once. MoE: the non-expert weights, the shared experts and
    only the routed experts the tokens touch (:class:`MoEReads`; issue 14 §4).
    """
    if setup.moe is None:
        return np.full_like(np.asarray(tokens, dtype=float), setup.weight_bytes)
    return setup.moe.read_bytes(tokens)


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
