import numpy as np
import pytest

from costcorrect import units
from costcorrect.serving.kv import (
    kv_bytes_per_token_gqa,
    kv_bytes_per_token_mla,
    kv_cache_bytes,
    kv_transfer_tax_usd_per_mtok,
    kv_transfer_tax_usd_per_request,
    kv_transfer_time_s,
)
from costcorrect.serving.queueing import erlang_c, max_utilization_for_wait, wait_quantile_s
from costcorrect.serving.roofline import forward_time_s, single_stream_decode_tokens_per_s
from costcorrect.serving.setup import model_kv_bytes_per_token


def test_usd_per_mtok_converts_hours_and_millions():
    # $3.60/h producing 1000 tok/s: $0.001/s / 1000 tok/s = $1e-6/token = $1/MTok.
    assert units.usd_per_mtok(3.6, 1000) == pytest.approx(1.0)
    assert np.isinf(units.usd_per_mtok(3.6, 0.0))


def test_kv_layouts_from_catalog(catalog):
    assert kv_bytes_per_token_gqa(80, 8, 128, 2) == 327_680
    assert model_kv_bytes_per_token(catalog.model("llama-2-70b"), "bf16") == 80 * 2 * 8 * 128 * 2
    assert model_kv_bytes_per_token(catalog.model("llama-2-70b"), "fp8") == 163_840
    # MLA caches one 512-d latent + 64-d rope key per layer, shared by all heads.
    assert model_kv_bytes_per_token(catalog.model("deepseek-v3"), "bf16") == 61 * 576 * 2
    assert kv_bytes_per_token_mla(61, 512, 64, 1) == 61 * 576
    # OPT-66B is plain MHA: 72 KV heads.
    assert model_kv_bytes_per_token(catalog.model("opt-66b"), "bf16") == 2 * 64 * 72 * 128 * 2


def test_kv_4k_is_1342_mb_not_1310():
    kv = kv_cache_bytes(327_680, 4096)
    assert kv == 1_342_177_280
    assert units.bytes_to_gib(kv) == pytest.approx(1.25)
    assert kv_transfer_time_s(kv, 50.0) * 1e3 == pytest.approx(26.8435456)


def test_transfer_tax_is_linear_in_prompt_and_uses_dollars_per_second():
    t = kv_transfer_time_s(kv_cache_bytes(327_680, np.array([1000, 2000, 4000])), 25.0)
    per_req = kv_transfer_tax_usd_per_request(7.2, t, 10, 0.0)
    assert per_req[1] == pytest.approx(2 * per_req[0])
    assert per_req[2] == pytest.approx(4 * per_req[0])
    # $7.20/h = $0.002/s; 1 s transfer shared by 10 slots = $0.0002 per request.
    assert kv_transfer_tax_usd_per_request(7.2, 1.0, 10, 0.0) == pytest.approx(2e-4)
    # Overlap hides a share η; over P+D = 1e6 tokens that is $/MTok directly.
    tau = kv_transfer_tax_usd_per_mtok(7.2, 1.0, 999_000, 1_000, 10, 0.5)
    assert tau == pytest.approx(1e-4)


def test_single_stream_cap_is_the_papers_24_tokens_per_s():
    assert single_stream_decode_tokens_per_s(140e9, 3350) == pytest.approx(23.93, abs=0.01)


def test_forward_time_regimes(h100_setup):
    s = h100_setup
    # Batch-1 decode is memory-bound: close to weights / (N * HBM * MBU) + overhead + all-reduce.
    t1 = forward_time_s(s, 0, 1, 1000)
    floor = s.weight_bytes / (s.num_gpus * s.hbm_bytes_per_s * s.efficiency.mbu)
    assert floor < t1 < floor + 0.004
    # Prefill of 4096 tokens is compute-bound: time grows ~linearly with tokens.
    t2k = forward_time_s(s, 2048, 0, 0)
    t4k = forward_time_s(s, 4096, 0, 0)
    assert 1.9 < t4k / t2k < 2.3
    # Batching amortises weights: 64 decodes cost far less than 64x one decode.
    assert forward_time_s(s, 0, 64, 1000) < 3 * t1


def test_erlang_c_and_wait_quantile():
    assert erlang_c(1, 0.7) == pytest.approx(0.7)
    # Known value: M/M/2 at a = 1.5 (ρ = 0.75): C = 0.6428...
    assert erlang_c(2, 0.75) == pytest.approx(0.642857, rel=1e-5)
    w = wait_quantile_s(np.array([0.005, 0.5, 0.9, 1.0]), 1.0, 1, 0.99)
    assert w[0] == 0 and 0 < w[1] < w[2] and np.isinf(w[3])
    # More servers sharing a queue never wait longer at the same utilization.
    assert wait_quantile_s(0.8, 1.0, 8) < wait_quantile_s(0.8, 1.0, 1)


def test_max_utilization_inverts_wait_quantile():
    rho = max_utilization_for_wait(np.array([0.5, 2.0, 10.0]), 1.0, 4, 0.99)
    back = wait_quantile_s(rho, 1.0, 4, 0.99)
    assert back == pytest.approx([0.5, 2.0, 10.0], rel=2e-3)
    assert max_utilization_for_wait(-1.0, 1.0) == 0.0
