"""KV bytes (MLA, sliding windows, hybrid linear attention), MoE expert reads, precision."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from costcorrect.errors import InputError
from costcorrect.serving import layout as L


def test_kv_hand_values(catalog):
    # gpt-oss-120b: 36 layers x 2 (K,V) x 8 KV heads x 64 x 2 B = 73,728 B/token (BF16) while
    # the context is within the 128-token window; afterwards only the 18 full layers grow.
    g = catalog.model("gpt-oss-120b")
    assert L.kv_bytes_per_token(g, "bf16") == 36 * 2 * 8 * 64 * 2
    assert L.kv_bytes_per_token_full_layers(g, "bf16") == 18 * 2 * 8 * 64 * 2
    per_layer = 2 * 8 * 64 * 2
    assert L.kv_cache_bytes(g, 1000) == 18 * per_layer * 1000 + 18 * per_layer * 128
    assert L.kv_cache_bytes(g, 100) == 36 * per_layer * 100
    # GLM-5: MLA latent 512 + rope 64 + DSA indexer key 128 per layer, 78 layers, FP8 KV.
    assert L.kv_bytes_per_token(catalog.model("glm-5"), "fp8") == 78 * (512 + 64 + 128)
    # DeepSeek-V3: 61 x 576 x 2 = 70,272 B (kv.py doctest, DeepSeek-V3 report §2.1.1).
    assert L.kv_bytes_per_token(catalog.model("deepseek-r1"), "bf16") == 70_272
    # Qwen3.5-397B: only 15 of 60 layers hold KV: 15 x 2 x 2 x 256 x 2 B.
    q = catalog.model("qwen3.5-397b-a17b")
    assert L.kv_bytes_per_token(q, "bf16") == 15 * 2 * 2 * 256 * 2
    # Its 45 Gated DeltaNet layers hold 64 x 128 x 128 FP32 state + 3 conv steps of
    # (2 x 16 x 128 + 64 x 128) BF16 channels, independent of context.
    assert L.linear_attention_state_bytes(q) == 45 * (64 * 128 * 128 * 4 + (4096 + 8192) * 3 * 2)
    assert L.linear_attention_state_bytes(catalog.model("llama-3.1-8b")) == 0.0


@given(st.integers(0, 200_000))
@settings(max_examples=60, deadline=None)
def test_sliding_kv_is_capped_and_monotone(t):
    row = {"attention": "gqa", "num_layers": 36, "num_query_heads": 64, "num_kv_heads": 8,
           "head_dim": 64, "sliding_window_tokens": 128, "num_sliding_layers": 18}
    full = L.kv_cache_bytes({**row, "num_sliding_layers": 0}, t)
    capped = L.kv_cache_bytes(row, t)
    assert capped <= full
    assert L.kv_cache_bytes(row, t + 1) > capped  # full layers always grow
    if t <= 128:
        assert capped == full


def test_kv_precision_rejected():
    with pytest.raises(InputError, match=r"precision\.kv_cache"):
        L.kv_bytes_per_token({"attention": "gqa", "num_layers": 1, "num_query_heads": 1,
                              "head_dim": 1}, "fp4")


def test_expected_distinct_experts_hand_and_limits():
    # One token touches exactly k experts; 64 tokens of DeepSeek-V3 (E 256, k 8):
    # 256 (1 - (31/32)^64) = 222.44.
    assert L.expected_distinct_experts(256, 8, 1) == pytest.approx(8.0)
    assert L.expected_distinct_experts(256, 8, 64) == pytest.approx(256 * (1 - (31 / 32) ** 64))
    assert L.expected_distinct_experts(256, 8, 0) == 0.0
    assert L.expected_distinct_experts(256, 8, 10_000) == pytest.approx(256.0)
    assert L.expected_distinct_experts(8, 8, 3) == 8.0  # k = E: every expert, always
    with pytest.raises(InputError):
        L.expected_distinct_experts(8, 9, 3)


@given(st.integers(2, 512), st.integers(1, 16), st.integers(0, 4096))
@settings(max_examples=80, deadline=None)
def test_expected_distinct_experts_bounds(e, k, n):
    k = min(k, e)
    d = float(L.expected_distinct_experts(e, k, n))
    assert d <= min(n * k, e) + 1e-9
    assert d >= (k if n >= 1 else 0) - 1e-9
    assert float(L.expected_distinct_experts(e, k, n + 1)) >= d - 1e-12


def test_expected_distinct_experts_matches_simulated_uniform_routing():
    # Monte Carlo of the stated assumption: each token draws k distinct experts uniformly.
    rng = np.random.default_rng(0)
    e, k, n, trials = 128, 4, 20, 2000
    counts = [len({x for _ in range(n) for x in rng.choice(e, size=k, replace=False)})
              for _ in range(trials)]
    assert np.mean(counts) == pytest.approx(float(L.expected_distinct_experts(e, k, n)), rel=0.01)


def test_expert_bytes_read(catalog):
    m = catalog.model("deepseek-v3")
    expert = 3 * 7168 * 2048
    # One token, FP8: 8 routed + 1 shared expert in each of 58 MoE layers.
    one = L.expert_weight_bytes_read(m, 1, "fp8")
    assert one == pytest.approx(58 * 9 * expert)
    # A large batch reads every expert once; EP 8 splits them over 8 GPUs.
    big = L.expert_weight_bytes_read(m, 100_000, "fp8")
    assert big == pytest.approx(58 * 257 * expert, rel=1e-9)
    ep8 = L.expert_weight_bytes_read(m, 100_000, "fp8", moe_expert_parallel=8)
    assert ep8 == pytest.approx(58 * (256 / 8 + 1) * expert, rel=1e-9)
    # Neither "all experts" nor "the active share" at a mid-size batch.
    mid = L.expert_weight_bytes_read(m, 16, "fp8")
    assert 58 * 9 * expert < mid < big
    assert float(L.expert_weight_bytes_read(m, 0, "fp8")) == 0.0
    assert float(L.expert_weight_bytes_read(catalog.model("llama-3.1-8b"), 16)) == 0.0
    with pytest.raises(InputError, match="expert_parallel"):
        L.expert_weight_bytes_read(m, 16, "fp8", moe_expert_parallel=3)


def test_weight_bytes_per_param():
    assert L.weight_bytes_per_param("bf16") == 2.0
    assert L.weight_bytes_per_param("fp8") == 1.0
    assert L.weight_bytes_per_param("fp4") == 4.5 / 8  # NVFP4: 4 bits + FP8 scale per 16
    assert L.weight_bytes_per_param("fp4", fp4_format="mxfp4") == 4.25 / 8  # + E8M0 per 32
    assert L.weight_bytes_per_param("int4") == 4.5 / 8  # + BF16 scale per 32
    for bad in ("fp6", "int8", ""):
        with pytest.raises(InputError, match=r"precision\.weights"):
            L.weight_bytes_per_param(bad)
    with pytest.raises(InputError, match="fp4_format"):
        L.weight_bytes_per_param("fp4", fp4_format="e2m1")


def test_gpt_oss_checkpoint_size_matches_model_card(catalog):
    # gpt-oss model card: the 120b checkpoint is 60.8 GiB (MXFP4 MoE weights, rest BF16).
    b = L.weight_bytes(catalog.model("gpt-oss-120b"), "fp4", scope="routed_experts", fp4_format="mxfp4")
    assert b / 2**30 == pytest.approx(60.8, rel=0.01)
    with pytest.raises(InputError, match=r"precision\.scope"):
        L.weight_bytes(catalog.model("gpt-oss-120b"), "fp4", scope="attention")


def test_compute_precision_on_hopper_and_blackwell(catalog):
    h100, b200, a100 = catalog.gpu("h100-sxm"), catalog.gpu("b200"), catalog.gpu("a100-sxm-80gb")
    assert L.compute_precision("fp4", h100) == "bf16"  # stored FP4, W4A16 on Hopper
    assert L.compute_precision("fp8", h100) == "fp8"
    assert L.compute_precision("fp4", b200) == "fp4"
    assert L.compute_precision("fp4", b200, native=True) == "fp4"
    assert L.compute_precision("fp8", a100) == "bf16"
    assert L.compute_precision("int4", b200) == "bf16"
    with pytest.raises(InputError) as ei:
        L.compute_precision("fp4", h100, native=True)
    assert ei.value.field == "precision.compute" and "no FP4 tensor cores" in ei.value.allowed
    assert "bf16 or fp8 on h100-sxm" in ei.value.allowed
    with pytest.raises(InputError, match=r"precision\.compute"):
        L.compute_precision("fp8", a100, native=True)
    with pytest.raises(InputError, match=r"precision\.weights"):
        L.compute_precision("fp16x", h100)
    assert L.peak_tflops_for(h100, L.compute_precision("fp4", h100)) == pytest.approx(989.4)


def test_new_gpus_have_domains_and_fp4(catalog):
    g = catalog.table("gpus").set_index("id")
    assert list(g.loc[["h100-sxm", "h200-sxm", "b200", "b300", "gb200", "gb300"], "nvlink_domain_gpus"]) == [
        8, 8, 8, 8, 72, 72]
    assert g["nvlink_domain_gpus"].notna().all()
    for gid in ("b200", "b300", "gb200", "gb300"):
        row = g.loc[gid]
        assert row["fp4_dense_tflops"] > row["fp8_dense_tflops"] > row["bf16_dense_tflops"]
    for gid in ("a100-sxm-80gb", "h100-sxm", "h200-sxm"):
        assert np.isnan(g.loc[gid, "fp4_dense_tflops"])
    # GB200 per GPU = rack / 72 (dense = sparse / 2): 1440 PF FP4 -> 10 PF.
    assert g.loc["gb200", "fp4_dense_tflops"] == 1440e3 / 72 / 2
