"""Build a :class:`ServingSetup` from catalog rows (plain dicts; no I/O here)."""

from __future__ import annotations

from costcorrect import units
from costcorrect.errors import InputError
from costcorrect.serving.kv import kv_bytes_per_token_gqa, kv_bytes_per_token_mla
from costcorrect.serving.roofline import Efficiency, ServingSetup

DTYPES = ("bf16", "fp8")


def model_kv_bytes_per_token(model: dict, kv_dtype: str = "bf16") -> float:
    """KV bytes per token for a catalog model row, GQA/MHA or MLA. [bytes/token]"""
    b = units.BYTES_PER_ELEMENT[kv_dtype]
    if model["attention"] == "mla":
        return float(
            kv_bytes_per_token_mla(model["num_layers"], model["kv_lora_rank"],
                                   model["qk_rope_head_dim"], b)
        )
    return float(kv_bytes_per_token_gqa(model["num_layers"], model["num_kv_heads"],
                                        model["head_dim"], b))


def peak_tflops(gpu: dict, dtype: str) -> float:
    """Dense peak TFLOPS of a GPU at a weight dtype; error if the GPU lacks it."""
    col = {"bf16": "bf16_dense_tflops", "fp8": "fp8_dense_tflops"}[dtype]
    value = gpu.get(col)
    if value is None:
        raise InputError("weight_dtype", dtype, f"a dtype {gpu['id']} supports (bf16)")
    return float(value)


def build_setup(
    model: dict,
    gpu: dict,
    num_gpus: int,
    price_usd_per_gpu_hour: float,
    *,
    weight_dtype: str = "bf16",
    kv_dtype: str = "bf16",
    efficiency: Efficiency | None = None,
) -> ServingSetup:
    """One TP instance of ``model`` on ``num_gpus`` x ``gpu`` at a price per GPU-hour."""
    if weight_dtype not in DTYPES:
        raise InputError("weight_dtype", weight_dtype, f"one of {', '.join(DTYPES)}")
    if kv_dtype not in DTYPES:
        raise InputError("kv_dtype", kv_dtype, f"one of {', '.join(DTYPES)}")
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
        price_usd_per_gpu_hour=float(price_usd_per_gpu_hour),
        efficiency=efficiency or Efficiency(),
    )
