"""Space expansion: grid minus non-applicable combinations, guards, infeasible drops (issue 5)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from costcorrect.cli import app
from costcorrect.errors import InputError
from costcorrect.simulator import load_sim_scenario
from costcorrect.tuning.space import expand, load_space, space_from_dict
from costcorrect.tuning.tune import halving_rungs, prepare

ROOT = Path(__file__).resolve().parents[1]


def test_non_applicable_knobs_collapse():
    sp = space_from_dict({"architecture": ["colocated", "chunked", "disaggregated"], "chunk_tokens": [256, 512, 1024],
                          "prefill_instances": [1, 2], "replicas": [1, 2]})
    cfgs, collapsed = expand(sp, "chunked")
    # colocated: replicas 2; chunked: 3 chunks x 2 replicas; disaggregated: 2 prefill counts
    assert len(cfgs) == 2 + 6 + 2
    assert collapsed == 3 * 3 * 2 * 2 - 10
    assert len({c.config_id for c in cfgs}) == len(cfgs)
    for c in cfgs:
        if c.values["architecture"] != "chunked":
            assert "chunk_tokens" not in c.values
        if c.values["architecture"] != "disaggregated":
            assert "prefill_instances" not in c.values


def test_default_space_has_more_than_1000_configurations(catalog):
    sp = load_space(ROOT / "examples" / "tune-space.yaml")
    prep = prepare(load_sim_scenario(), sp, catalog)
    assert prep.num_configurations >= 1000
    assert len(prep.bins) == 3
    # A100 has no FP8 tensor cores: every a100 + fp8 deployment is dropped with that reason
    a100_fp8 = [i for i in prep.infeasible if i["values"].get("gpu") == "a100-sxm-80gb"
                and i["values"].get("weight_dtype") == "fp8"]
    assert a100_fp8 and "weight_dtype" in a100_fp8[0]["reason"]


def test_guards_refuse_before_starting(tmp_path):
    p = tmp_path / "space.yaml"
    p.write_text("tensor_parallel: [1, 2, 4, 8]\nchunk_tokens: [128, 256, 512, 1024]\n")
    r = CliRunner().invoke(app, ["tune", "--space", str(p), "--max-configs", "10", "--out", str(tmp_path / "o")])
    assert r.exit_code == 2 and "16 configurations" in r.output and "at most 10" in r.output
    assert not (tmp_path / "o").exists()
    p.write_text("tensor_parallel: []\n")
    r = CliRunner().invoke(app, ["tune", "--space", str(p), "--out", str(tmp_path / "o")])
    assert r.exit_code == 2 and "tensor_parallel" in r.output


def test_typo_and_bad_value_name_the_key(catalog):
    with pytest.raises(InputError, match="architecture"):
        prepare(load_sim_scenario(), space_from_dict({"architecure": ["chunked"]}), catalog)
    with pytest.raises(InputError, match="tensor_parallel"):
        prepare(load_sim_scenario(), space_from_dict({"tensor_parallel": [0]}), catalog)
    with pytest.raises(InputError, match="0 runnable"):  # 70B in bf16 on one A100 never fits
        prepare(load_sim_scenario(), space_from_dict({"gpu": ["a100-sxm-80gb"], "tensor_parallel": [1]}), catalog)


def test_slo_bins_from_lists_are_crossed():
    sp = space_from_dict({"slo.ttft_p99_ms": [200, 500], "slo.tpot_p99_ms": [30, 50, 80]})
    assert len(sp.slo_bins) == 6


def test_halving_rungs():
    assert halving_rungs(2000, 3, 200) == [222, 666, 2000]
    assert halving_rungs(100, 3, 200) == [100]


def test_pareto_and_best_and_chart_on_synthetic_rows():
    from costcorrect.tuning.chart import tune_chart
    from costcorrect.tuning.tune import best_per_bin, pareto_rows

    def row(i, ttft, cpm, b):
        return {"task_id": f"t{i}", "config_id": f"c{i}", "architecture": "chunked", "gpu": "h100-sxm",
                "tensor_parallel": 4, "num_gpus": 4, "slo_ttft_p99_ms": b, "slo_tpot_p99_ms": 50.0,
                "capacity_rate_per_s": 1.0, "ttft_p99_ms": ttft, "cpm_served_usd_per_mtok": cpm}

    rows = [row(0, 100, 9.0, 500.0), row(1, 200, 5.0, 500.0), row(2, 300, 6.0, 1000.0), row(3, 400, 4.0, 1000.0),
            row(4, 150, None, 500.0)]
    assert [r["config_id"] for r in pareto_rows(rows)] == ["c0", "c1", "c3"]  # c2 is dominated by c1
    best = best_per_bin(rows, [{"ttft_p99_ms": 500.0, "tpot_p99_ms": 50.0}, {"ttft_p99_ms": 1000.0,
                                                                             "tpot_p99_ms": 50.0}])
    assert [b["best"]["config_id"] for b in best] == ["c1", "c3"]
    spec = tune_chart(rows, pareto_rows(rows), best).to_dict()
    assert "[ms]" in str(spec) and "$ per million" in str(spec)
