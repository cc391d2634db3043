"""Build a :class:`ServingSetup` from catalog rows (plain dicts; no I/O here).

Two paths
---------
* **Legacy** (``precision=None``, a dense model, no expert or attention-data parallelism):
  the paper-01 setup, unchanged: weights = catalog ``total_params_b`` x bytes of
  ``weight_dtype``, FLOPs from catalog ``active_params_b``, peak at ``weight_dtype``.
  Paper 01's numbers and statuses are computed on this path and must not move.
* **Layout-aware** (issue 14; any ``precision`` given, any MoE model, or ``expert_parallel``/
  ``attention_dp`` > 1): every count comes from :mod:`costcorrect.serving.layout`:
  stored bytes per block at the checkpoint's precision (FP4 block scales, BF16 embeddings
  and routers), active parameters without the input-embedding lookup, the compute
  precision the GPU actually has tensor cores for (FP4 weights on Hopper run weight-only
  at BF16 peak), MoE reads of only the experts a batch touches, per-request KV of
  sliding-window and linear-attention layers, KV replication when TP exceeds the KV heads
  (MLA's latent is shared by all heads, so every TP rank holds all of it), and the
  NVLink-domain check.

The KV bytes per token come from :func:`layout.kv_bytes_per_token` on both paths; it
equals the old GQA/MLA formula for every pre-issue-14 row (tested).
"""

from __future__ import annotations

from costcorrect import units
from costcorrect.errors import InputError
from costcorrect.serving import layout
from costcorrect.serving.roofline import Efficiency, MoEReads, ServingSetup

DTYPES = ("bf16", "fp8")


def model_kv_bytes_per_token(model: dict, kv_dtype: str = "bf16") -> float:
    """KV bytes per token for a catalog model row, GQA/MHA or MLA. [bytes/token]

    Delegates to :func:`costcorrect.serving.layout.kv_bytes_per_token` (full + sliding
    attention layers; linear-attention layers hold no KV).
    """
    if kv_dtype not in DTYPES:
        raise InputError("kv_dtype", kv_dtype, f"one of {', '.join(DTYPES)}")
    return float(layout.kv_bytes_per_token(model, kv_dtype))


def peak_tflops(gpu: dict, dtype: str) -> float:
    """Dense peak TFLOPS of a GPU at a weight dtype; error if the GPU lacks it."""
    col = {"bf16": "bf16_dense_tflops", "fp8": "fp8_dense_tflops"}[dtype]
    value = gpu.get(col)
    if value is None:
        raise InputError("weight_dtype", dtype, f"a dtype {gpu['id']} supports (bf16)")
    return float(value)


def is_moe(model: dict) -> bool:
    """True when the layout routes tokens over more than one expert."""
    try:
        return int(float(model.get("num_experts") or 1)) > 1
    except (TypeError, ValueError):
        return False


def check_nvlink_domain(gpu: dict, gpus_per_replica: int, field: str = "tensor_parallel") -> int:
    """The GPU's NVLink-domain size; error if a replica does not divide it. [GPUs]

    A replica's collectives (all-reduce, all-to-all) are modelled over NVLink, so its GPUs
    must sit in one NVLink domain (8 per HGX node, 72 per NVL72 rack): ``gpus_per_replica``
    must divide ``nvlink_domain_gpus``. A GPU row without a domain size is not checked.
    """
    raw = gpu.get("nvlink_domain_gpus")
    try:
        domain = int(float(raw)) if raw not in (None, "") else 0
    except (TypeError, ValueError):
        domain = 0
    if domain <= 0:
        return 0
    n = int(gpus_per_replica)
    if n < 1 or domain % n:
        divisors = [d for d in range(1, domain + 1) if domain % d == 0]
        raise InputError(field, n, f"a GPU count per replica that divides the {domain}-GPU NVLink domain of "
                                   f"{gpu.get('id')} ({', '.join(map(str, divisors))}); multi-domain replicas "
                                   "are not modelled")
    return domain


def kv_replication(model: dict, tensor_parallel: int) -> float:
    """How many copies of each token's KV a ``tensor_parallel`` attention group stores. [-]

    GQA/MHA shards KV by heads; with more TP ranks than KV heads each head is replicated
    ``tp / h_kv`` times (vLLM/SGLang/TensorRT-LLM replicate KV heads). MLA caches one
    latent shared by all heads, so every TP rank keeps the whole latent: ``tp`` copies --
    the reason engines run DeepSeek attention data-parallel.
    """
    tp = max(int(tensor_parallel), 1)
    if str(model.get("attention", "")).lower() == "mla":
        return float(tp)
    try:
        nkv = float(model.get("num_kv_heads") or model.get("num_query_heads") or tp)
    except (TypeError, ValueError):
        nkv = float(tp)
    return max(1.0, tp / nkv) if nkv == nkv and nkv > 0 else 1.0


def _legacy(model, gpu, num_gpus, price, weight_dtype, kv_dtype, efficiency) -> ServingSetup:
    total_params = float(model["total_params_b"]) * 1e9
    active_params = float(model["active_params_b"]) * 1e9
    head_dim = float(model["head_dim"] or 128)
    return ServingSetup(
        model_id=str(model["id"]),
        gpu_id=str(gpu["id"]),
        num_gpus=int(num_gpus),
        active_params=active_params,
        weight_bytes=total_params * units.BYTES_PER_ELEMENT[weight_dtype],
        kv_bytes_per_token=model_kv_bytes_per_token(model, kv_dtype),
        attention_dim=float(model["num_query_heads"]) * head_dim,
        num_layers=int(model["num_layers"]),
        hidden_size=int(model["hidden_size"]),
        peak_flops_per_s=float(units.tflops_to_flops(peak_tflops(gpu, weight_dtype))),
        hbm_bytes_per_s=float(units.gb_s_to_bytes_per_s(gpu["hbm_bandwidth_gb_s"])),
        hbm_capacity_bytes=float(units.gib_to_bytes(gpu["hbm_capacity_gib"])),
        # NVLink is quoted bidirectional; a ring all-reduce uses one direction per step.
        tp_link_bytes_per_s=float(units.gb_s_to_bytes_per_s(gpu["nvlink_bandwidth_gb_s"])) / 2.0,
        price_usd_per_gpu_hour=float(price),
        efficiency=efficiency or Efficiency(),
        weight_precision=weight_dtype,
        kv_precision=kv_dtype,
        compute_precision=weight_dtype,
    )


def block_weight_bytes(model: dict, weights: str = "bf16", *, scope: str = "linear",
                       fp4_format: str = "nvfp4") -> dict:
    """Stored bytes of a layout's weights by block, at a checkpoint precision. [bytes]

    Returns ``{"nonexpert", "routed_total", "per_expert", "shared", "total"}``: quantized
    blocks at ``weights`` (:func:`layout.weight_bytes_per_param`, scales included), the
    rest (embeddings, LM head, norms, routers; with ``scope=routed_experts`` also attention,
    dense and shared FFNs) at BF16 -- the split :func:`layout.weight_bytes` uses.
    ``per_expert`` is one routed expert summed over all MoE layers.
    """
    if scope not in layout.QUANT_SCOPES:
        raise InputError("precision.scope", scope, f"one of {', '.join(layout.QUANT_SCOPES)}")
    c = layout.param_counts(model)
    q = layout.weight_bytes_per_param(weights, fp4_format=fp4_format)
    u = layout.weight_bytes_per_param("bf16")
    linear = scope == "linear"
    attn_dense = (c.attention + c.dense_ffn) * (q if linear else u)
    other = (c.input_embedding + c.lm_head + c.norms + c.router) * u
    shared = c.shared_experts * (q if linear else u)
    per_expert = c.params_per_routed_expert * c.num_moe_layers * q
    routed_total = c.routed_experts * q
    return {"nonexpert": attn_dense + other, "routed_total": routed_total, "per_expert": per_expert,
            "shared": shared, "total": attn_dense + other + shared + routed_total}


def build_setup(
    model: dict,
    gpu: dict,
    num_gpus: int,
    price_usd_per_gpu_hour: float,
    *,
    weight_dtype: str = "bf16",
    kv_dtype: str = "bf16",
    efficiency: Efficiency | None = None,
    precision: dict | None = None,
    expert_parallel: int = 1,
    attention_dp: int = 1,
    moe_tensor_parallel: int | None = None,
) -> ServingSetup:
    """One instance of ``model`` on ``num_gpus`` x ``gpu`` at a price per GPU-hour.

    Parameters
    ----------
    num_gpus : GPUs per replica = tensor_parallel x attention_dp (= moe_tp x expert_parallel). [-]
    weight_dtype, kv_dtype : legacy precision keys (``bf16``/``fp8``), used when
        ``precision`` is None.
    precision : ``{"weights": bf16|fp8|fp4|int4, "kv_cache": bf16|fp8, "scope":
        linear|routed_experts, "fp4_format": nvfp4|mxfp4, "native": bool}``; selects the
        layout-aware path (module docstring).
    expert_parallel, attention_dp, moe_tensor_parallel : MoE expert-parallel degree,
        attention data-parallel ranks, MoE tensor-parallel degree (default
        ``num_gpus / expert_parallel``). [-]
    """
    ep, adp = int(expert_parallel), int(attention_dp)
    moe = is_moe(model)
    if precision is None and not moe and ep == 1 and adp == 1:
        if weight_dtype not in DTYPES:
            raise InputError("weight_dtype", weight_dtype, f"one of {', '.join(DTYPES)}")
        if kv_dtype not in DTYPES:
            raise InputError("kv_dtype", kv_dtype, f"one of {', '.join(DTYPES)}")
        return _legacy(model, gpu, num_gpus, price_usd_per_gpu_hour, weight_dtype, kv_dtype, efficiency)
    prec = dict(precision or {"weights": weight_dtype, "kv_cache": kv_dtype})
    weights = str(prec.get("weights", "bf16"))
    kv = str(prec.get("kv_cache", "bf16"))
    scope = str(prec.get("scope") or "linear")
    fp4_format = str(prec.get("fp4_format") or "nvfp4")
    n = int(num_gpus)
    if adp < 1 or n % adp:
        raise InputError("attention_data_parallel", adp, f"a divisor of the replica's {n} GPUs")
    tp = n // adp
    domain = check_nvlink_domain(gpu, n, "tensor_parallel x attention_data_parallel")
    compute = layout.compute_precision(weights, gpu, native=bool(prec.get("native", False)))
    peak = layout.peak_tflops_for(gpu, compute)
    blocks = block_weight_bytes(model, weights, scope=scope, fp4_format=fp4_format)
    moe_reads = None
    if moe:
        experts = int(float(model["num_experts"]))
        if ep < 1 or experts % ep:
            raise InputError("expert_parallel", ep, f"a divisor of {model['id']}'s {experts} experts")
        if n % ep:
            raise InputError("expert_parallel", ep, f"a divisor of the replica's {n} GPUs "
                                                    "(tensor_parallel x attention_data_parallel)")
        moe_tp = int(moe_tensor_parallel or n // ep)
        if moe_tp * ep != n:
            raise InputError("moe_tensor_parallel", moe_tp, f"{n // ep} (GPUs per replica {n} / expert_parallel {ep})")
        counts = layout.param_counts(model)
        stored = adp * blocks["nonexpert"] + ep * blocks["shared"] + blocks["routed_total"]
        moe_reads = MoEReads(
            nonexpert_read_bytes=adp * blocks["nonexpert"],
            shared_read_bytes=ep * blocks["shared"],
            expert_bytes=blocks["per_expert"],
            num_experts=experts,
            experts_per_token=float(model.get("experts_per_token") or 1),
            num_moe_layers=counts.num_moe_layers,
        )
    else:
        if ep != 1:
            raise InputError("expert_parallel", ep, f"1 ({model['id']} is a dense model)")
        moe_tp = n
        stored = adp * blocks["total"]
    rep = kv_replication(model, tp)
    full, sliding = layout._layer_split(model)
    per_tok = layout.kv_bytes_per_token_full_layers(model, kv) if sliding else layout.kv_bytes_per_token(model, kv)
    per_seq = 0.0
    if sliding:
        per_seq += float(layout.kv_cache_bytes(model, 1e9, kv)) - per_tok * 1e9  # sliding layers x W
    per_seq += layout.linear_attention_state_bytes(model)
    nq = float(model["num_query_heads"])
    head_dim = float(model.get("head_dim") or 128)
    if str(model.get("attention", "")).lower() == "mla":
        # Prefill runs MLA expanded (q.k over nope+rope, then v): a = nq (qk + v) / 2.
        # Decode runs it absorbed over the latent (FlashMLA): a = nq (kv_lora + rope/2).
        rope = float(model["qk_rope_head_dim"])
        nope = float(model.get("qk_nope_head_dim") or head_dim)
        v = float(model.get("v_head_dim") or head_dim)
        attn_dim = nq * (nope + rope + v) / 2.0
        dec_dim = nq * (float(model["kv_lora_rank"]) + rope / 2.0)
    else:
        attn_dim = nq * head_dim
        dec_dim = 0.0
    return ServingSetup(
        model_id=str(model["id"]),
        gpu_id=str(gpu["id"]),
        num_gpus=n,
        active_params=float(layout.active_params_per_token(model)),
        weight_bytes=float(stored),
        kv_bytes_per_token=float(per_tok) * rep,
        attention_dim=attn_dim,
        num_layers=int(model["num_layers"]),
        hidden_size=int(model["hidden_size"]),
        peak_flops_per_s=float(units.tflops_to_flops(peak)),
        hbm_bytes_per_s=float(units.gb_s_to_bytes_per_s(gpu["hbm_bandwidth_gb_s"])),
        hbm_capacity_bytes=float(units.gib_to_bytes(gpu["hbm_capacity_gib"])),
        tp_link_bytes_per_s=float(units.gb_s_to_bytes_per_s(gpu["nvlink_bandwidth_gb_s"])) / 2.0,
        price_usd_per_gpu_hour=float(price_usd_per_gpu_hour),
        efficiency=efficiency or Efficiency(),
        attention_dp=adp,
        expert_parallel=ep,
        moe_tensor_parallel=moe_tp,
        moe=moe_reads,
        kv_bytes_per_seq=per_seq * rep,
        decode_attention_dim=dec_dim,
        attention_layers=int(full),
        weight_precision=weights if weights != "fp4" else fp4_format,
        kv_precision=kv,
        compute_precision=compute,
        nvlink_domain_gpus=domain,
    )


def weight_bytes_per_gpu(setup: ServingSetup) -> float:
    """Stored weight bytes on the most loaded GPU of the replica (even sharding). [bytes]"""
    return setup.weight_bytes / max(setup.num_gpus, 1)
