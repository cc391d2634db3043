import json

import pytest
from typer.testing import CliRunner

from costcorrect.cli import app

runner = CliRunner()


def run(*args):
    return runner.invoke(app, list(args))


def test_kv_json_contract():
    r = run("kv", "--model", "llama-2-70b", "--prompt-tokens", "4096", "--bandwidth-gb-s", "25",
            "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["kv_bytes"] == 1_342_177_280
    assert out["transfer_ms"] == pytest.approx(53.687, rel=1e-4)


@pytest.mark.parametrize("args,needle", [
    (["kv", "--model", "llama-9", "--prompt-tokens", "10"], "model"),
    (["kv", "--model", "llama-2-70b", "--prompt-tokens", "0"], "prompt_tokens"),
    (["kv", "--model", "llama-2-70b", "--prompt-tokens", "10", "--bandwidth-gb-s", "0"],
     "bandwidth_gb_s"),
    (["kv", "--model", "llama-2-70b", "--prompt-tokens", "10", "--eta", "1.2"], "eta"),
    (["kv", "--model", "llama-2-70b", "--prompt-tokens", "10", "--dtype", "int3"], "dtype"),
    (["breakeven", "--gpu", "tpu-v9"], "gpu"),
    (["breakeven", "--alpha-steps", "1"], "alpha_steps"),
    (["validate", "--paper", "42"], "paper"),
])
def test_bad_input_is_one_line_and_exit_2(args, needle, one_line_error):
    line = one_line_error(run(*args))
    assert needle in line and "allowed" in line


def test_malformed_scenario_exit_2(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("overlap_eta: 2\n")
    r = run("frontier", "--scenario", str(p), "--no-figures", "--out", str(tmp_path), "--json")
    assert r.exit_code == 2 and "overlap_eta" in r.stderr


def test_breakeven_json_contract():
    r = run("breakeven", "--alpha-steps", "5", "--bandwidth-steps", "4", "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert len(out["cells"]) == 3 * 5 * 4
    keys = {"ttft_p99_ms", "tpot_p99_ms", "alpha", "bandwidth_gb_s",
            "cpm_colocated_usd_per_mtok", "cpm_disaggregated_usd_per_mtok"}
    assert keys <= set(out["cells"][0])
    assert {(c["ttft_p99_ms"], c["tpot_p99_ms"]) for c in out["cells"]} == {
        (200, 30), (500, 50), (1000, 80)}


def test_frontier_json_contract_without_figures(tmp_path):
    r = run("frontier", "--no-figures", "--out", str(tmp_path), "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    systems = {p["system"] for p in out["points"]}
    assert systems == {"vllm", "sarathi-serve", "distserve", "splitwise", "mooncake"}
    for p in out["points"]:
        for k in ("system", "architecture", "ttft_p99_ms", "tpot_p99_ms",
                  "cpm_served_usd_per_mtok", "pareto_optimal"):
            assert k in p
    assert any(p["pareto_optimal"] for p in out["points"])
    assert json.loads((tmp_path / "frontier.json").read_text())["points"] == out["points"]


def test_validate_json_contract():
    r = run("validate", "--paper", "01", "--json")
    assert r.exit_code == 0, r.output
    claims = json.loads(r.stdout)["claims"]
    assert len(claims) >= 20
    assert {"id", "source", "paper_value", "computed_value", "status", "note"} <= set(claims[0])


@pytest.mark.parametrize("table", ["gpus", "models", "prices", "systems"])
def test_catalog_commands(table):
    r = run("catalog", table, "--json")
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)[table]
    assert rows and all(row["source"] and row["as_of"] for row in rows)
    assert run("catalog", table).exit_code == 0


def test_cpm_from_goodput_matches_the_unit_definition():
    r = run("cpm", "--gpu", "h100-sxm", "--num-gpus", "4", "--price-usd-per-gpu-hour", "2.5",
            "--goodput-tokens-per-s", "1000", "--json")
    assert r.exit_code == 0, r.output
    # $10/h for 3.6 MTok/h = $2.777.../MTok.
    assert json.loads(r.stdout)["cpm_served_usd_per_mtok"] == pytest.approx(10 / 3.6)


def test_cpm_from_phase_throughputs_weights_by_alpha():
    r = run("cpm", "--gpu", "h100-sxm", "--num-gpus", "1", "--price-usd-per-gpu-hour", "3.6",
            "--prefill-tokens-per-s", "4000", "--decode-tokens-per-s", "500", "--alpha", "0.8", "--json")
    out = json.loads(r.stdout)
    assert out["c_prefill_usd_per_mtok"] == pytest.approx(0.25)
    assert out["c_decode_usd_per_mtok"] == pytest.approx(2.0)
    assert out["cpm_served_usd_per_mtok"] == pytest.approx(0.8 * 0.25 + 0.2 * 2.0)


@pytest.mark.parametrize("args,needle", [
    (["--alpha", "1.3", "--prefill-tokens-per-s", "1", "--decode-tokens-per-s", "1"], "alpha"),
    (["--goodput-tokens-per-s", "-5"], "goodput_tokens_per_s"),
    ([], "throughput"),
])
def test_cpm_bad_input(args, needle):
    r = run("cpm", "--gpu", "h100-sxm", "--num-gpus", "1", *args)
    assert r.exit_code == 2 and needle in r.stderr


def test_set_overrides_reach_the_run(tmp_path):
    r = run("frontier", "--no-figures", "--out", str(tmp_path), "--json",
            "--set", "gpu=h200-sxm", "--set", "slo.ttft_p99_ms=800")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["gpu"] == "h200-sxm" and out["slo"]["ttft_p99_ms"] == 800
    bad = run("frontier", "--no-figures", "--out", str(tmp_path), "--set", "slo.ttft=3")
    assert bad.exit_code == 2 and "slo.ttft" in bad.stderr


@pytest.mark.parametrize("scenario", ["long-context-h200.yaml", "code-completion-fp8.toml"])
def test_examples_run(tmp_path, scenario):
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "examples"
    r = run("frontier", "--scenario", str(root / scenario), "--catalog", str(root / "my-catalog.yaml"),
            "--no-figures", "--out", str(tmp_path), "--json")
    assert r.exit_code == 0, r.output
    assert all(p["cpm_served_usd_per_mtok"] for p in json.loads(r.stdout)["points"])
