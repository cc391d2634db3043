"""Model layouts: parameter counts, KV bytes, MoE expert reads and weight precision.

Everything here works from one catalog ``models.csv`` row (a plain dict; missing cells
are ``None``/NaN/empty) and is pure NumPy. Sources for the layouts are the rows' own
``source`` cells (published ``config.json`` files); the formulas are the standard
decoder-only transformer counts, written out per block below.

Conventions
-----------
* Parameters are counted in units of one parameter ``[-]``; bytes in ``[bytes]``.
* ``ffn_size`` is the dense FFN width of dense models and the routed-expert width of MoE
  models (the catalog's original convention); ``expert_ffn_size``/``dense_ffn_size``/
  ``shared_expert_ffn_size`` make the three widths explicit for MoE rows.
* Multi-token-prediction (MTP) modules and vision towers are **not** counted: every
  published total we compare against excludes them (DeepSeek-V3 README: "671B ... excluding
  the 14B MTP module").
* "Active parameters per token" counts every weight a token's forward pass multiplies
  with: attention, the dense FFNs, ``experts_per_token`` routed experts, the shared
  experts, the routers and the LM head. The input embedding is a table lookup, not a
  matmul, so it is excluded by default (``include_input_embedding=True`` adds it). The
  published "active" figures differ on this point: gpt-oss's 5.13B excludes it (its
  model card counts the unembedding only), Mixtral's 12.9B includes it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from costcorrect import units
from costcorrect.errors import InputError, check_range

#: Weight storage formats and their cost per parameter. [bits/param]
#:
#: * ``bf16``/``fp16``: 16 bits.
#: * ``fp8``: 8 bits. Block-scaled FP8 checkpoints (DeepSeek-V3: one FP32 scale per
#:   128x128 block) add 32/16384 = 0.002 bits/param, ignored here.
#: * ``nvfp4``: 4-bit E2M1 values plus one FP8 (E4M3) scale per 16 values =
#:   4 + 8/16 = 4.5 bits (NVIDIA cuTile tutorial "Inference with NVFP4/MXFP8": 16 values
#:   = 8 packed bytes + 1 scale byte = 9 bytes; the per-tensor FP32 scale is negligible).
#: * ``mxfp4``: 4-bit E2M1 values plus one 8-bit E8M0 scale per 32 values =
#:   4 + 8/32 = 4.25 bits (OCP Microscaling Formats spec v1.0; e.g. docs.rs ``float4``
#:   ``MXFP4Block``: 32 values in 17 bytes). gpt-oss ships its MoE weights in MXFP4.
#: * ``int4``: 4-bit integers with one BF16 scale per group of 32 = 4 + 16/32 = 4.5 bits
#:   (Kimi-K2.5's compressed-tensors ``pack-quantized`` config: ``num_bits 4``,
#:   ``group_size 32``, symmetric, so no zero point).
WEIGHT_BITS_PER_PARAM = {
    "bf16": 16.0,
    "fp16": 16.0,
    "fp8": 8.0,
    "nvfp4": 4.5,
    "mxfp4": 4.25,
    "int4": 4.5,
}
#: User-facing weight precisions (``precision.weights`` in a scenario).
WEIGHT_PRECISIONS = ("bf16", "fp8", "fp4", "int4")
#: ``fp4`` means one of these block formats.
FP4_FORMATS = ("nvfp4", "mxfp4")
#: KV-cache precisions. [bytes/element] via :data:`costcorrect.units.BYTES_PER_ELEMENT`.
KV_PRECISIONS = ("bf16", "fp8")
#: Which weights a low-precision checkpoint quantizes (the rest stay BF16):
#: ``linear`` = every linear layer of the transformer blocks (FP8 checkpoints of
#: DeepSeek-V3/R1, Qwen3, GLM-5, MiniMax-M2.5); ``routed_experts`` = the routed-expert
#: FFNs only (gpt-oss MXFP4: attention, router, embeddings stay BF16 per its
#: ``modules_to_not_convert``; Kimi-K2.5 INT4: attention, shared experts and dense MLPs
#: are in its ``ignore`` list). Embeddings, LM head, norms and routers are never counted
#: as quantized.
QUANT_SCOPES = ("linear", "routed_experts")


def _num(row: dict, key: str, default: float | None = None) -> float | None:
    v = row.get(key)
    if v is None or (isinstance(v, str) and v.strip() == ""):
        return default
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise InputError(f"model.{key}", v, "a number") from None
    if math.isnan(f):
        return default
    return f


def _flag(row: dict, key: str) -> bool:
    v = row.get(key)
    if isinstance(v, str):
        return v.strip().lower() in ("1", "true", "yes")
    f = _num(row, key, 0.0)
    return bool(f)


@dataclass(frozen=True)
class ParamCounts:
    """Parameter counts of one layout, by block. [-] (number of parameters)"""

    input_embedding: float
    lm_head: float
    attention: float  # all attention blocks: projections, biases, q/k norms, sinks, indexer
    dense_ffn: float  # FFNs of the dense (non-MoE) layers
    routed_experts: float  # every routed expert of every MoE layer
    routed_experts_active: float  # experts_per_token of them, per token
    shared_experts: float
    router: float
    norms: float  # per-layer RMSNorms + final norm
    params_per_routed_expert: float  # one expert in one layer
    num_moe_layers: int

    @property
    def total(self) -> float:
        """All parameters (MTP modules and vision towers excluded). [-]"""
        return (self.input_embedding + self.lm_head + self.attention + self.dense_ffn
                + self.routed_experts + self.shared_experts + self.router + self.norms)

    def active(self, include_input_embedding: bool = False) -> float:
        """Parameters a token multiplies with in one forward pass. [-]"""
        out = (self.lm_head + self.attention + self.dense_ffn + self.routed_experts_active
               + self.shared_experts + self.router + self.norms)
        return out + (self.input_embedding if include_input_embedding else 0.0)


def _attention_params_per_layer(m: dict) -> float:
    """Parameters of one full-attention block (GQA/MHA or MLA, plus DSA indexer). [-]"""
    h = _num(m, "hidden_size")
    nq = _num(m, "num_query_heads")
    if str(m.get("attention", "")).lower() == "mla":
        # DeepSeek-V2/V3 MLA (DeepSeek-V3 technical report §2.1.1, HF modeling_deepseek):
        # q_a (h -> q_lora) + q_a_norm + q_b (q_lora -> nq (nope + rope)), or q (h -> nq(...));
        # kv_a (h -> kv_lora + rope) + kv_a_norm + kv_b (kv_lora -> nq (nope + v)); o (nq v -> h).
        q_lora = _num(m, "q_lora_rank", 0.0)
        kv_lora = _num(m, "kv_lora_rank")
        rope = _num(m, "qk_rope_head_dim")
        nope = _num(m, "qk_nope_head_dim", _num(m, "head_dim"))
        v = _num(m, "v_head_dim", _num(m, "head_dim"))
        if kv_lora is None or rope is None:
            raise InputError(f"model {m.get('id')}.kv_lora_rank", None,
                             "MLA rows need kv_lora_rank and qk_rope_head_dim")
        qk = nope + rope
        q = (h * q_lora + q_lora + q_lora * nq * qk) if q_lora else h * nq * qk
        kv = h * (kv_lora + rope) + kv_lora + kv_lora * nq * (nope + v)
        out = q + kv + nq * v * h
        # DeepSeek Sparse Attention lightning indexer (DeepSeek-V3.2, GLM-5): wq_b
        # (q_lora -> n_idx d_idx), wk (h -> d_idx), LayerNorm on keys (2 d_idx),
        # weights_proj (h -> n_idx).
        n_idx = _num(m, "indexer_num_heads", 0.0)
        d_idx = _num(m, "indexer_head_dim", 0.0)
        if n_idx and d_idx:
            out += (q_lora or h) * n_idx * d_idx + h * d_idx + 2 * d_idx + h * n_idx
        return out
    nkv = _num(m, "num_kv_heads", nq)
    d = _num(m, "head_dim")
    gate = 2.0 if _flag(m, "attention_output_gate") else 1.0  # Qwen3.5: q_proj also emits a gate
    out = h * nq * d * gate + 2 * h * nkv * d + nq * d * h
    if _flag(m, "attention_bias"):
        out += nq * d * gate + 2 * nkv * d + h
    qk_norm = str(m.get("qk_norm") or "none").lower()
    if qk_norm == "per_head":  # Qwen3: RMSNorm over head_dim, shared by heads
        out += 2 * d
    elif qk_norm == "per_layer":  # MiniMax-M2: RMSNorm over all q / all k features
        out += nq * d + nkv * d
    if _flag(m, "attention_sinks"):  # gpt-oss: one learned sink logit per head
        out += nq
    return out


def _linear_attention_params_per_layer(m: dict) -> float:
    """Parameters of one Gated DeltaNet block (Qwen3-Next / Qwen3.5 ``linear_attention``). [-]

    in_proj_qkvz (h -> 2 nk dk + 2 nv dv), in_proj_ba (h -> 2 nv), depthwise conv over the
    q/k/v channels (conv_dim x kernel), dt_bias and A_log (nv each), gated RMSNorm (dv),
    out_proj (nv dv -> h).
    """
    h = _num(m, "hidden_size")
    nk = _num(m, "linear_num_key_heads")
    nv = _num(m, "linear_num_value_heads")
    dk = _num(m, "linear_key_head_dim")
    dv = _num(m, "linear_value_head_dim")
    kernel = _num(m, "linear_conv_kernel", 4.0)
    conv_dim = 2 * nk * dk + nv * dv
    return (h * (2 * nk * dk + 2 * nv * dv) + h * 2 * nv + conv_dim * kernel + 2 * nv + dv
            + nv * dv * h)


def _ffn_params(h: float, f: float, gated: bool, bias: bool) -> float:
    """One FFN: SwiGLU (gate, up, down = 3 h f) or plain (up, down = 2 h f). [-]"""
    if gated:
        return 3 * h * f + ((2 * f + h) if bias else 0.0)
    return 2 * h * f + ((f + h) if bias else 0.0)


def param_counts(model: dict) -> ParamCounts:
    """Count the parameters of a catalog layout row, block by block.

    Parameters
    ----------
    model : dict -- a ``models.csv`` row (``Catalog.model(id)``).

    Returns
    -------
    ParamCounts -- per-block counts; ``.total`` and ``.active()``. [-]

    Examples
    --------
    Llama-3.1-8B (32 layers, h 4096, 32/8 heads, FFN 14336, vocab 128256, untied):

    >>> round(param_counts({"attention": "gqa", "num_layers": 32, "hidden_size": 4096,
    ...     "num_query_heads": 32, "num_kv_heads": 8, "head_dim": 128, "ffn_size": 14336,
    ...     "vocab_size": 128256}).total)
    8030261248
    """
    h = _num(model, "hidden_size")
    layers = int(_num(model, "num_layers"))
    vocab = _num(model, "vocab_size", 0.0)
    experts = int(_num(model, "num_experts", 1.0))
    k = _num(model, "experts_per_token", 1.0)
    gated = _num(model, "gated_ffn", 1.0) != 0.0
    ffn_bias = _flag(model, "ffn_bias")
    linear_layers = int(_num(model, "num_linear_attention_layers", 0.0))
    attn_layers = layers - linear_layers
    attention = attn_layers * _attention_params_per_layer(model)
    if linear_layers:
        attention += linear_layers * _linear_attention_params_per_layer(model)
    moe = experts > 1
    dense_layers = int(_num(model, "num_dense_layers", 0.0)) if moe else layers
    moe_layers = layers - dense_layers
    dense_ffn_width = _num(model, "dense_ffn_size", _num(model, "ffn_size"))
    dense_ffn = dense_layers * _ffn_params(h, dense_ffn_width, gated, ffn_bias) if dense_layers else 0.0
    per_expert = 0.0
    routed = routed_active = shared = router = 0.0
    if moe:
        f_e = _num(model, "expert_ffn_size", _num(model, "ffn_size"))
        per_expert = _ffn_params(h, f_e, gated, ffn_bias)
        routed = moe_layers * experts * per_expert
        routed_active = moe_layers * k * per_expert
        n_shared = _num(model, "num_shared_experts", 0.0)
        f_s = _num(model, "shared_expert_ffn_size", f_e)
        shared = moe_layers * n_shared * _ffn_params(h, f_s, gated, ffn_bias)
        router = moe_layers * (h * experts + (experts if ffn_bias else 0.0))
    norms = layers * 2 * h + h
    emb = vocab * h
    lm_head = 0.0 if _flag(model, "tied_embeddings") else vocab * h
    return ParamCounts(
        input_embedding=emb, lm_head=lm_head, attention=attention, dense_ffn=dense_ffn,
        routed_experts=routed, routed_experts_active=routed_active, shared_experts=shared,
        router=router, norms=norms, params_per_routed_expert=per_expert,
        num_moe_layers=moe_layers if moe else 0,
    )


def total_params(model: dict) -> float:
    """All parameters of a layout (MTP and vision excluded). [-]"""
    return param_counts(model).total


def active_params_per_token(model: dict, include_input_embedding: bool = False) -> float:
    """Parameters a token multiplies with (see module docstring for the convention). [-]"""
    return param_counts(model).active(include_input_embedding)


# --------------------------------------------------------------------------- KV cache


def kv_elements_per_token_per_layer(model: dict) -> float:
    """KV-cache elements one token adds to one full-attention layer. [elements]

    GQA/MHA: ``2 h_kv d`` (a key and a value per KV head; 01 §4.3). MLA: the compressed
    latent plus the decoupled RoPE key, ``kv_lora_rank + qk_rope_head_dim``, shared by all
    heads (DeepSeek-V3 report §2.1.1). A DSA indexer (GLM-5, DeepSeek-V3.2) also caches
    one ``indexer_head_dim`` key per token per layer; it is stored at the KV precision
    here (vLLM keeps it in FP8 with a per-token scale, which differs by < 10% of the MLA
    cache).
    """
    if str(model.get("attention", "")).lower() == "mla":
        out = _num(model, "kv_lora_rank") + _num(model, "qk_rope_head_dim")
        out += _num(model, "indexer_head_dim", 0.0) if _num(model, "indexer_num_heads", 0.0) else 0.0
        return out
    nq = _num(model, "num_query_heads")
    return 2.0 * _num(model, "num_kv_heads", nq) * _num(model, "head_dim")


def _kv_bytes_per_element(kv_precision: str) -> float:
    if kv_precision not in KV_PRECISIONS:
        raise InputError("precision.kv_cache", kv_precision, f"one of {', '.join(KV_PRECISIONS)}")
    return units.BYTES_PER_ELEMENT[kv_precision]


def _layer_split(model: dict) -> tuple[int, int]:
    """(full-context attention layers, sliding-window layers); linear layers hold no KV."""
    layers = int(_num(model, "num_layers"))
    linear = int(_num(model, "num_linear_attention_layers", 0.0))
    sliding = int(_num(model, "num_sliding_layers", 0.0))
    if _num(model, "sliding_window_tokens") is None:
        sliding = 0
    return layers - linear - sliding, sliding


def kv_bytes_per_token(model: dict, kv_precision: str = "bf16") -> float:
    """KV bytes one token adds while the context is shorter than any sliding window. [bytes/token]

    Sums every attention layer (full and sliding; linear-attention layers hold a constant
    state instead, see :func:`linear_attention_state_bytes`). Beyond the window the
    marginal cost drops to :func:`kv_bytes_per_token_full_layers`.

    >>> kv_bytes_per_token({"attention": "mla", "num_layers": 61, "kv_lora_rank": 512,
    ...                     "qk_rope_head_dim": 64}, "bf16")
    70272.0
    """
    full, sliding = _layer_split(model)
    return float((full + sliding) * kv_elements_per_token_per_layer(model) * _kv_bytes_per_element(kv_precision))


def kv_bytes_per_token_full_layers(model: dict, kv_precision: str = "bf16") -> float:
    """KV bytes one token adds once the context exceeds the sliding window. [bytes/token]"""
    full, _ = _layer_split(model)
    return float(full * kv_elements_per_token_per_layer(model) * _kv_bytes_per_element(kv_precision))


def kv_cache_bytes(model: dict, context_tokens, kv_precision: str = "bf16"):
    """KV-cache bytes of one request holding ``context_tokens`` tokens. [bytes]

    ``L_full * e * b * T + L_sliding * e * b * min(T, W)``: sliding-window layers keep
    only the last ``W = sliding_window_tokens`` tokens (gpt-oss: 18 of 36 layers, W 128,
    per its ``layer_types``/``sliding_window``). Add :func:`linear_attention_state_bytes`
    for hybrid linear-attention models.

    Parameters
    ----------
    model : dict -- layout row.
    context_tokens : array_like -- tokens in the request's context T. [tokens]
    kv_precision : str -- ``bf16`` or ``fp8``.

    Returns
    -------
    ndarray -- bytes per request. [bytes]
    """
    t = np.asarray(context_tokens, dtype=float)
    check_range("context_tokens", t, 0)
    full, sliding = _layer_split(model)
    per_layer = kv_elements_per_token_per_layer(model) * _kv_bytes_per_element(kv_precision)
    window = _num(model, "sliding_window_tokens")
    out = full * per_layer * t
    if sliding:
        out = out + sliding * per_layer * np.minimum(t, window)
    return out


def linear_attention_state_bytes(model: dict, state_bytes_per_element: float = 4.0,
                                 conv_bytes_per_element: float = 2.0) -> float:
    """Constant per-request state of the linear-attention layers. [bytes]

    Gated DeltaNet keeps an ``nv x dk x dv`` recurrent state (FP32 in Qwen3.5:
    ``mamba_ssm_dtype float32``) and the last ``kernel - 1`` inputs of its causal conv
    per layer; it does not grow with context.
    """
    n = int(_num(model, "num_linear_attention_layers", 0.0))
    if not n:
        return 0.0
    nk = _num(model, "linear_num_key_heads")
    nv = _num(model, "linear_num_value_heads")
    dk = _num(model, "linear_key_head_dim")
    dv = _num(model, "linear_value_head_dim")
    kernel = _num(model, "linear_conv_kernel", 4.0)
    state = nv * dk * dv * state_bytes_per_element
    conv = (2 * nk * dk + nv * dv) * (kernel - 1) * conv_bytes_per_element
    return float(n * (state + conv))


# --------------------------------------------------------------------------- MoE reads


def expected_distinct_experts(num_experts, experts_per_token, tokens):
    """Expected number of distinct routed experts a batch of tokens touches in one layer. [-]

    ``E (1 - (1 - k/E)^n)``. Assumption: **uniform, independent routing** — every token
    picks ``k`` distinct experts with each expert equally likely (probability ``k/E``)
    and independently of the other tokens. Then an expert is missed by one token with
    probability ``1 - k/E`` and by all ``n`` tokens with ``(1 - k/E)^n``; linearity of
    expectation gives the formula exactly. Real routers are skewed and correlated
    (load-balancing losses only approximate uniformity), which makes the true count
    *lower*, so this is an upper estimate of the expert weights read.

    Parameters
    ----------
    num_experts : array_like -- routed experts per layer E. [-]
    experts_per_token : array_like -- routed experts per token k (1 <= k <= E). [-]
    tokens : array_like -- tokens in the batch n (>= 0). [tokens]

    Returns
    -------
    ndarray -- expected distinct experts, between min(k, E) (n = 1) and E. [-]

    Examples
    --------
    >>> float(expected_distinct_experts(256, 8, 1))
    8.0
    >>> round(float(expected_distinct_experts(256, 8, 64)), 1)
    222.4
    """
    e = np.asarray(num_experts, dtype=float)
    k = np.asarray(experts_per_token, dtype=float)
    n = np.asarray(tokens, dtype=float)
    check_range("num_experts", e, 1)
    check_range("experts_per_token", k, 0)
    check_range("tokens", n, 0)
    if np.any(k > e):
        raise InputError("experts_per_token", float(np.max(k)), "at most num_experts")
    return e * (1.0 - (1.0 - k / e) ** n)


def expert_weight_bytes_read(model: dict, tokens, weights_precision: str = "bf16", *,
                             fp4_format: str = "nvfp4", moe_expert_parallel: int = 1,
                             moe_tensor_parallel: int = 1):
    """Bytes of MoE expert weights one GPU reads in one forward pass over ``tokens`` tokens. [bytes]

    Per MoE layer a GPU holds ``E / ep`` routed experts, each sharded ``moe_tp`` ways.
    Under uniform independent routing (:func:`expected_distinct_experts`) the batch's
    ``n`` tokens touch ``(E/ep)(1 - (1 - k/E)^n)`` of them in expectation; each touched
    expert is read once. Shared experts are read whenever ``n > 0`` (replicated on every
    EP rank, sharded ``moe_tp`` ways). ``n`` is the number of tokens routed through the
    layer, i.e. summed over attention-DP ranks.

    This is neither "all experts" (right only for large batches) nor the "active share"
    ``n k / E`` of them (wrong for ``n > 1``: two tokens usually pick different experts).

    Returns
    -------
    ndarray -- bytes per GPU per forward pass, all MoE layers. [bytes]
    """
    experts = int(_num(model, "num_experts", 1.0))
    if experts <= 1:
        return np.zeros_like(np.asarray(tokens, dtype=float))
    ep = int(moe_expert_parallel)
    tp = int(moe_tensor_parallel)
    if ep < 1 or experts % ep:
        raise InputError("expert_parallel", ep, f"a divisor of the model's {experts} experts")
    if tp < 1:
        raise InputError("moe_tensor_parallel", tp, "an integer >= 1")
    counts = param_counts(model)
    k = _num(model, "experts_per_token", 1.0)
    n = np.asarray(tokens, dtype=float)
    distinct_local = expected_distinct_experts(experts, k, n) / ep
    bpp = weight_bytes_per_param(weights_precision, fp4_format=fp4_format)
    shared_per_layer = counts.shared_experts / max(counts.num_moe_layers, 1)
    per_layer = (distinct_local * counts.params_per_routed_expert + np.where(n > 0, shared_per_layer, 0.0)) * bpp / tp
    return counts.num_moe_layers * per_layer


# --------------------------------------------------------------------------- precision


def weight_bytes_per_param(precision: str, *, fp4_format: str = "nvfp4") -> float:
    """Stored bytes per weight parameter, block scales included. [bytes/param]

    ``bf16`` 2, ``fp8`` 1, ``fp4`` 0.5625 (NVFP4) or 0.53125 (MXFP4), ``int4`` 0.5625;
    see :data:`WEIGHT_BITS_PER_PARAM` for the sources.

    >>> weight_bytes_per_param("fp4"), weight_bytes_per_param("fp4", fp4_format="mxfp4")
    (0.5625, 0.53125)
    """
    if precision == "fp4":
        if fp4_format not in FP4_FORMATS:
            raise InputError("precision.fp4_format", fp4_format, f"one of {', '.join(FP4_FORMATS)}")
        precision = fp4_format
    if precision not in WEIGHT_BITS_PER_PARAM:
        raise InputError("precision.weights", precision,
                         f"one of {', '.join(WEIGHT_PRECISIONS)} (or {', '.join(FP4_FORMATS)})")
    return WEIGHT_BITS_PER_PARAM[precision] / 8.0


def weight_bytes(model: dict, precision: str = "bf16", *, scope: str = "linear",
                 fp4_format: str = "nvfp4", unquantized: str = "bf16") -> float:
    """Bytes of all the weights of a layout stored at ``precision``. [bytes]

    ``scope`` says which weights the checkpoint quantizes (:data:`QUANT_SCOPES`); the
    embeddings, LM head, norms and routers -- and with ``routed_experts`` also attention,
    dense and shared FFNs -- stay at ``unquantized`` (BF16).
    """
    if scope not in QUANT_SCOPES:
        raise InputError("precision.scope", scope, f"one of {', '.join(QUANT_SCOPES)}")
    c = param_counts(model)
    q = weight_bytes_per_param(precision, fp4_format=fp4_format)
    u = weight_bytes_per_param(unquantized)
    if scope == "linear":
        quant = c.attention + c.dense_ffn + c.routed_experts + c.shared_experts
    else:
        quant = c.routed_experts
    return float(quant * q + (c.total - quant) * u)


def compute_precision(weights_precision: str, gpu: dict, *, native: bool = False) -> str:
    """The precision the tensor cores run at for ``weights_precision`` on ``gpu``.

    A GPU with tensor cores for the weight format computes in it (``fp8`` if the row has
    ``fp8_dense_tflops``; ``fp4`` if it has ``fp4_dense_tflops``). A GPU without them can
    still *store* the weights in that format and serves them **weight-only**: the kernels
    dequantize the weights to BF16 on the fly and multiply in BF16 (W4A16 / W8A16). This is
    what the engines do on Hopper, which has FP8 but no FP4 tensor cores: TensorRT-LLM
    PR #14775 ("Hopper GPUs, which lack a native NVFP4 tensor-core GEMM ... a W4A16 path
    that loads the NVFP4 weights and dequantizes them on-the-fly"), vLLM's Marlin
    WNA16 fallback for NVFP4/MXFP4 on non-Blackwell GPUs. So on an H100/H200 ``fp4`` and
    ``int4`` weights cost 4.25-4.5 bits/param of HBM traffic and BF16 peak FLOP/s.
    (TensorRT-LLM also has a W4A8 MXFP4 x FP8 MoE path on Hopper; an engine profile may
    choose ``fp8`` instead, this function returns the conservative BF16.)
    ``int4`` is always weight-only (no INT4 tensor-core path in the serving engines).

    Parameters
    ----------
    weights_precision : str -- ``bf16``, ``fp8``, ``fp4`` or ``int4``.
    gpu : dict -- a ``gpus.csv`` row.
    native : bool -- the user asks for native compute at the weight precision; if the GPU
        has no such tensor cores this raises :class:`InputError`.

    Returns
    -------
    str -- ``bf16``, ``fp8`` or ``fp4``.
    """
    if weights_precision not in WEIGHT_PRECISIONS:
        raise InputError("precision.weights", weights_precision, f"one of {', '.join(WEIGHT_PRECISIONS)}")
    gid = gpu.get("id", "this GPU")
    if weights_precision == "bf16":
        return "bf16"
    col = {"fp8": "fp8_dense_tflops", "fp4": "fp4_dense_tflops", "int4": None}[weights_precision]
    has = col is not None and (_num(gpu, col) or 0.0) > 0.0
    if has:
        return weights_precision
    if native:
        supported = [p for p, c in (("bf16", "bf16_dense_tflops"), ("fp8", "fp8_dense_tflops"),
                                    ("fp4", "fp4_dense_tflops")) if (_num(gpu, c) or 0.0) > 0.0]
        why = ("no INT4 tensor-core path" if weights_precision == "int4"
               else f"no {weights_precision.upper()} tensor cores")
        raise InputError("precision.compute", weights_precision,
                         f"{' or '.join(supported)} on {gid} ({why}; {weights_precision} weights "
                         "run weight-only in BF16)")
    return "bf16"


def peak_tflops_for(gpu: dict, compute: str) -> float:
    """Dense peak of ``gpu`` at a compute precision from :func:`compute_precision`. [TFLOPS]"""
    col = {"bf16": "bf16_dense_tflops", "fp8": "fp8_dense_tflops", "fp4": "fp4_dense_tflops"}.get(compute)
    value = _num(gpu, col) if col else None
    if not value:
        raise InputError("precision.compute", compute, f"a precision {gpu.get('id')} has tensor cores for")
    return float(value)
