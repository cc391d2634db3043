"""`costcorrect fleet ...` (issue 12): JSON contract, bad input exits 2 with one line, capacities."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from costcorrect.catalog import Catalog
from costcorrect.cli import app
from costcorrect.errors import InputError
from costcorrect.fleet import (
    build_instance,
    cached_find_capacity,
    closed_form_capacity_rate_per_s,
    fleet_from_dict,
    load_fleet,
    read_capacity_table,
)

runner = CliRunner()
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "fleet.yaml"


def _rows_fleet(**changes) -> dict:
    doc = {
        "name": "tiny",
        "models": [{"name": "a", "demand_rate_per_s": 4, "accept_rate": 0.8, "task": "t"},
                   {"name": "b", "demand_rate_per_s": 2, "accept_rate": 0.5, "task": "t"}],
        "offers": [{"name": "h100", "gpu": "h100-sxm", "price_usd_per_gpu_hour": 4.0, "gpus_per_node": 2},
                   {"name": "a100", "gpu": "a100-sxm-80gb", "provider": "coreweave", "offering": "on-demand",
                    "gpus_per_node": 2, "available_gpus": 4}],
        "capacity": {"source": "rows", "rows": [
            {"model": m, "gpu": g, "config": "tp1", "tensor_parallel": 1, "gpus_per_replica": 1,
             "capacity_rate_per_s": c}
            for m, g, c in (("a", "h100-sxm", 2.0), ("a", "a100-sxm-80gb", 1.0), ("b", "h100-sxm", 1.5),
                            ("b", "a100-sxm-80gb", 1.0))]},
    }
    doc.update(changes)
    return doc


def _write(tmp_path, doc) -> str:
    p = tmp_path / "fleet.yaml"
    p.write_text(yaml.safe_dump(doc))
    return str(p)


def test_plan_json_contract(tmp_path):
    res = runner.invoke(app, ["fleet", "plan", "--fleet", _write(tmp_path, _rows_fleet()), "--json",
                              "--out", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    for key in ("total_cost_usd_per_hour", "assignments", "baseline_cost_usd_per_hour", "savings_breakdown", "solve_s"):
        assert key in out
    assert set(out["assignments"][0]) >= {"model", "gpu", "config", "replicas"}
    # Cheapest per req/s: a on h100 ($2 per req/s-h) vs a100 ($2.70); b on a100 ($2.70) vs h100 ($2.67).
    bd = out["savings_breakdown"]
    assert out["baseline_cost_usd_per_hour"] >= out["total_cost_usd_per_hour"]
    assert bd["hardware_mix_usd_per_hour"] + bd["co_location_usd_per_hour"] + bd["serving_strategy_usd_per_hour"] == \
        pytest.approx(out["baseline_cost_usd_per_hour"] - out["total_cost_usd_per_hour"], abs=1e-6)
    served = {m["model"]: m["capacity_rate_per_s"] for m in out["models"]}
    assert served["a"] >= 4 - 1e-9 and served["b"] >= 2 - 1e-9
    a100 = [o for o in out["offers"] if o["offer"] == "a100"]
    if a100:
        assert a100[0]["price_usd_per_gpu_hour"] == pytest.approx(2.70)  # catalog coreweave on-demand
        assert "coreweave" in a100[0]["price_source"]
    assert (tmp_path / "out" / "plan.json").exists() and (tmp_path / "out" / "assignments.csv").exists()
    spec = json.loads((tmp_path / "out" / "waterfall.vl.json").read_text())
    assert spec["layer"][0]["encoding"]["y"]["title"] == "Fleet cost [$/h]"


def test_cost_correct_objective_lowers_cost_per_correct_answer(tmp_path):
    f = _write(tmp_path, _rows_fleet())
    cost = json.loads(runner.invoke(app, ["fleet", "plan", "--fleet", f, "--json", "--no-breakdown"]).stdout)
    cc = json.loads(runner.invoke(app, ["fleet", "plan", "--fleet", f, "--json", "--no-breakdown",
                                        "--objective", "cost-correct"]).stdout)
    assert cc["correct_answers_per_s"] >= 6 * (1 - 1e-6)  # every task of t ends accepted
    assert cc["cost_per_correct_answer_usd"] <= cost["cost_per_correct_answer_usd"] * (1 + 1e-9)


@pytest.mark.parametrize(("change", "needle"), [
    ({"offers": [{"name": "x", "gpu": "h100-sxm", "price_usd_per_gpu_hour": -1.0}]}, "price_usd_per_gpu_hour"),
    ({"offers": [{"name": "x", "gpu": "tpu-v9", "price_usd_per_gpu_hour": 1.0}]}, "offers[0].gpu"),
    ({"models": [{"name": "a", "model": "gpt-17", "demand_rate_per_s": 1}]}, "gpt-17"),
    ({"models": [{"name": "zzz", "demand_rate_per_s": 1}]}, "capacity.rows.model"),
    ({"models": [{"name": "a", "demand_rate_per_s": 1, "slo_tier": "urgent"}]}, "slo_tier"),
    ({"models": [{"name": "a", "demand_rate_per_s": 500}, {"name": "b", "demand_rate_per_s": 1}],
      "offers": [{"name": "h100", "gpu": "h100-sxm", "price_usd_per_gpu_hour": 4.0, "available_gpus": 8}]},
     "models[a].demand_rate_per_s"),
])
def test_bad_input_is_one_line_exit_2(tmp_path, change, needle, one_line_error):
    res = runner.invoke(app, ["fleet", "plan", "--fleet", _write(tmp_path, _rows_fleet(**change)), "--json"])
    assert needle in one_line_error(res), res.stderr
    assert res.stdout == ""


def test_bad_objective_and_missing_file(tmp_path):
    res = runner.invoke(app, ["fleet", "plan", "--fleet", _write(tmp_path, _rows_fleet()), "--objective", "speed"])
    assert res.exit_code == 2 and "--objective" in res.stderr
    res = runner.invoke(app, ["fleet", "plan", "--fleet", str(tmp_path / "nope.yaml")])
    assert res.exit_code == 2 and "readable" in res.stderr


def test_scarcity_command(tmp_path):
    res = runner.invoke(app, ["fleet", "scarcity", "--fleet", _write(tmp_path, _rows_fleet()), "--gpu", "h100-sxm",
                              "--shares", "1,0", "--json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)["rows"]
    assert rows[0]["resolved_goodput_share"] == pytest.approx(1.0, abs=1e-6)
    assert rows[1]["resolved_goodput_share"] >= rows[1]["static_goodput_share"]
    bad = runner.invoke(app, ["fleet", "scarcity", "--fleet", _write(tmp_path, _rows_fleet()), "--gpu", "b200"])
    assert bad.exit_code == 2


# ----------------------------------------------------------------------------- capacities
def test_capacity_table_csv_and_parquet_round_trip(tmp_path):
    spec = fleet_from_dict(_rows_fleet())
    df = pd.DataFrame([r.model_dump() for r in spec.capacity.rows])
    for name in ("caps.csv", "caps.parquet"):
        p = tmp_path / name
        df.to_csv(p, index=False) if name.endswith("csv") else df.to_parquet(p, index=False)
        table = read_capacity_table(p)
        doc = _rows_fleet(capacity={"source": "table", "table": name})
        fp = tmp_path / "t.yaml"
        fp.write_text(yaml.safe_dump(doc))
        inst = build_instance(load_fleet(fp))
        assert inst.num_options == len(table) == 4
    with pytest.raises(InputError, match="capacity_rate_per_s"):
        bad = df.drop(columns=["capacity_rate_per_s"])
        bad.to_csv(tmp_path / "bad.csv", index=False)
        read_capacity_table(tmp_path / "bad.csv")


def test_closed_form_capacity_is_the_inverse_of_cpm(catalog):
    from costcorrect.serving.decomposition import decompose
    from costcorrect.serving.setup import build_setup

    setup = build_setup(catalog.model("llama-3.1-8b"), catalog.gpu("h100-sxm"), 1, 3.0)
    rate = float(closed_form_capacity_rate_per_s(setup, "chunked", 1024.0, 256.0, 500.0, 50.0))
    cpm = float(decompose(setup, "chunked", 1024.0, 256.0, 500.0, 50.0, queue_servers=8,
                          token_convention="prompt+output").cpm_served_usd_per_mtok)
    # $3/h over (rate × 1280 tokens/s) is the CPM [$/MTok].
    assert 3.0 / 3600 / (rate * 1280) * 1e6 == pytest.approx(cpm, rel=1e-9)
    # An infeasible contract (TPOT shorter than any pass) gives zero capacity, not NaN.
    assert float(closed_form_capacity_rate_per_s(setup, "chunked", 1024.0, 256.0, 500.0, 0.01)) == 0.0


def test_simulator_capacity_is_cached_on_disk(tmp_path):
    from costcorrect.simulator import sim_scenario_from_dict

    cat = Catalog.load()
    sc = sim_scenario_from_dict({"model": "llama-3.1-8b", "gpu": "h100-sxm", "tensor_parallel": 1,
                                 "workload": {"num_requests": 150, "prompt_tokens": {"dist": "fixed", "mean": 256},
                                              "output_tokens": {"dist": "fixed", "mean": 32}}})
    first = cached_find_capacity(sc, cat, tmp_path, rel_tol=0.2)
    assert not first["cached"] and first["rate_per_s"] > 0
    assert (tmp_path / f"{first['key']}.json").exists()

    def boom(*a, **k):
        raise AssertionError("should have been cached")

    second = cached_find_capacity(sc, cat, tmp_path, rel_tol=0.2, compute=boom)
    assert second["cached"] and second["rate_per_s"] == first["rate_per_s"]
    other = sc.model_copy(update={"seed": 1})  # a different scenario is a different key
    assert cached_find_capacity(other, cat, tmp_path, rel_tol=0.2)["key"] != first["key"]


def test_example_fleet_loads_and_plans():
    spec = load_fleet(EXAMPLE)
    inst = build_instance(spec)
    assert inst.num_models == 5 and inst.num_offers >= 5
    assert np.all(inst.opt_capacity > 0)
    from costcorrect.fleet import plan

    res = plan(inst, breakdown=False)
    assert res["total_cost_usd_per_hour"] > 0
