"""Issue 14: layout-aware setups -- precision bytes, compute precision, MoE expert reads, bad input."""

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from costcorrect.catalog import Catalog
from costcorrect.cli import app
from costcorrect.errors import InputError
from costcorrect.serving import layout as L
from costcorrect.serving.setup import build_setup
from costcorrect.simulator import build_deployment, sim_scenario_from_dict
from costcorrect.simulator.predictor import RooflinePredictor

CAT = Catalog.load()
runner = CliRunner()


def setup(model, gpu="h200-sxm", n=8, **kw):
    return build_setup(CAT.model(model), CAT.gpu(gpu), n, 2.0, **kw)


def test_legacy_paper01_path_is_unchanged():
    s = setup("llama-2-70b", "h100-sxm", 4)
    assert s.weight_bytes == 68.98e9 * 2 and s.active_params == 68.98e9
    assert s.moe is None and s.peak_flops_per_s == 989.4e12


def test_fp8_weight_bytes_by_hand_llama_8b():
    m = CAT.model("llama-3.1-8b")
    s = setup("llama-3.1-8b", n=1, precision={"weights": "fp8"})
    # hand count: 32 layers x (attention 4096*(4096+2*1024+4096) + MLP 3*4096*14336) at 1 B,
    # embeddings + LM head (2 x 128256 x 4096) and norms (65 x 4096) at 2 B.
    linear = 32 * (4096 * (4096 + 2 * 1024 + 4096) + 3 * 4096 * 14336)
    other = 2 * 128256 * 4096 + (2 * 32 + 1) * 4096
    assert s.weight_bytes == pytest.approx(linear * 1 + other * 2, rel=1e-12)
    assert s.active_params == pytest.approx(L.total_params(m) - 128256 * 4096)
    assert s.compute_precision == "fp8" and s.peak_flops_per_s == 1978.9e12


def test_fp4_on_hopper_is_weight_only_at_bf16_peak_and_nvfp4_bytes():
    s = setup("llama-3.1-70b", n=2, precision={"weights": "fp4", "fp4_format": "nvfp4"})
    c = L.param_counts(CAT.model("llama-3.1-70b"))
    quant = c.attention + c.dense_ffn
    assert s.weight_bytes == pytest.approx(quant * 4.5 / 8 + (c.total - quant) * 2)
    assert s.compute_precision == "bf16" and s.peak_flops_per_s == 989.4e12
    b = setup("llama-3.1-70b", "b200", n=2, precision={"weights": "fp4"})
    assert b.compute_precision == "fp4" and b.peak_flops_per_s == pytest.approx(9000e12)


def test_gpt_oss_mxfp4_checkpoint_matches_model_card():
    s = setup("gpt-oss-120b", n=1, precision={"weights": "fp4", "fp4_format": "mxfp4", "scope": "routed_experts"})
    assert s.weight_bytes / 2**30 == pytest.approx(60.8, abs=0.15)  # model card: 60.8 GiB
    assert s.kv_bytes_per_seq > 0  # sliding-window layers: a constant per request


def test_moe_decode_reads_expected_distinct_experts_deepseek():
    m = CAT.model("deepseek-v3")
    s = setup("deepseek-v3", n=8, precision={"weights": "fp8"}, expert_parallel=8)
    pred = RooflinePredictor.from_setup(s)
    c = L.param_counts(m)
    per_expert = c.params_per_routed_expert * c.num_moe_layers * 1.0  # fp8: 1 B/param
    base = pred.weights_read(0)
    for n in (1, 2, 16, 256):
        distinct = 256 * (1 - (1 - 8 / 256) ** n)
        assert pred.weights_read(n) - base == pytest.approx(c.shared_experts * 8 + per_expert * distinct, rel=1e-9)
    # one token reads its 8 experts, far fewer bytes than all; a big batch reads nearly all 256
    assert pred.weights_read(1) < 0.15 * s.weight_bytes
    assert pred.weights_read(4096) == pytest.approx(s.weight_bytes, rel=1e-3)


@settings(max_examples=25, deadline=None)
@given(b=st.integers(1, 300), ctx=st.integers(0, 200_000), k=st.integers(1, 400))
def test_moe_decode_span_is_exact_sum_of_iterations(b, ctx, k):
    s = setup("qwen3-235b-a22b", n=8, precision={"weights": "fp8"}, expert_parallel=4)
    pred = RooflinePredictor.from_setup(s, 5e-6)
    total = sum(pred.iteration_s(0, 0, b, ctx + j * b) for j in range(k))
    assert pred.decode_run_s(b, ctx, k) == pytest.approx(total, rel=1e-9)


def test_mla_kv_is_replicated_across_tp_but_not_attention_dp():
    tp8 = setup("deepseek-r1", n=8, precision={"weights": "fp8"}, expert_parallel=8)
    dp8 = setup("deepseek-r1", n=8, precision={"weights": "fp8"}, expert_parallel=8, attention_dp=8)
    assert tp8.kv_bytes_per_token == 8 * dp8.kv_bytes_per_token == 8 * 61 * 576 * 2


def scenario(**kw):
    d = dict(model="llama-3.1-70b", gpu="h200-sxm", tensor_parallel=4, engine="vllm",
             precision={"weights": "fp8"},
             workload=dict(arrival="closed", concurrency=4, num_requests=8,
                           prompt_tokens={"dist": "fixed", "mean": 128}, output_tokens={"dist": "fixed", "mean": 16}))
    d.update(kw)
    return d


def test_aliases_and_engine_defaults():
    sc = sim_scenario_from_dict(scenario(precision=None, weight_dtype="fp8", kv_dtype="fp8"))
    assert sc.weights_precision == "fp8" and sc.kv_precision == "fp8"
    with pytest.raises(InputError, match="contradicts"):
        sim_scenario_from_dict(scenario(weight_dtype="bf16", precision={"weights": "fp8"}))
    sg = sim_scenario_from_dict(scenario(engine="sglang", architecture="colocated"))
    vl = sim_scenario_from_dict(scenario(architecture="colocated"))
    assert sg.architecture == "colocated" and vl.architecture == "chunked" and vl.chunk_tokens == 8192
    assert sim_scenario_from_dict(scenario(chunk_tokens=256)).chunk_tokens == 256  # user value wins


def test_model_that_does_not_fit_says_by_how_much():
    sc = sim_scenario_from_dict(scenario(model="deepseek-r1", tensor_parallel=2, expert_parallel=2))
    with pytest.raises(InputError, match=r"short by \d+(\.\d)? GiB") as exc:
        build_deployment(sc, CAT)
    assert "GiB" in exc.value.allowed


def _cli_one_line(tmp_path, doc, needle):
    import yaml

    p = tmp_path / "s.yaml"
    p.write_text(yaml.safe_dump(doc))
    r = runner.invoke(app, ["simulate", "--scenario", str(p), "--json"])
    assert r.exit_code == 2, r.output
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and needle in lines[0] and "allowed" in lines[0] and "Traceback" not in r.output
    return lines[0]


def test_bad_input_exits_2_with_one_line(tmp_path):
    line = _cli_one_line(tmp_path, scenario(precision={"weights": "fp4", "native": True}), "precision.compute")
    assert "h200-sxm" in line and "FP4" in line
    line = _cli_one_line(tmp_path, scenario(tensor_parallel=3), "tensor_parallel")
    assert "NVLink domain" in line and "1, 2, 4, 8" in line
    line = _cli_one_line(tmp_path, scenario(model="deepseek-r1", tensor_parallel=1, attention_data_parallel=8,
                                            expert_parallel=3), "expert_parallel")
    assert "256 experts" in line
    line = _cli_one_line(tmp_path, scenario(model="qwen3-235b-a22b", tensor_parallel=1, precision={"weights": "bf16"}),
                         "tensor_parallel")
    assert "short by" in line


def test_simulate_json_has_means_and_gpu_count_for_new_layouts(tmp_path):
    import yaml

    p = tmp_path / "s.yaml"
    p.write_text(yaml.safe_dump(scenario(model="deepseek-r1", tensor_parallel=1, attention_data_parallel=8,
                                         expert_parallel=8, engine="sglang")))
    r = runner.invoke(app, ["simulate", "--scenario", str(p), "--json"])
    assert r.exit_code == 0, r.output
    s = json.loads(r.stdout)
    assert s["num_gpus"] == 8 and math.isfinite(s["ttft_ms"]["mean"]) and math.isfinite(s["tpot_ms"]["mean"])
