"""CLI contracts of the cost-correct commands (issue 6): JSON keys, bad input -> one line, exit 2."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from costcorrect.cli import app

runner = CliRunner()
EXAMPLE = str(Path(__file__).resolve().parents[1] / "examples" / "eval-log.jsonl")
LEVERS = ["--reasoning-multiplier", "20", "--rollout-ratio", "3", "--accept-rate", "0.5"]


def run(*args):
    return runner.invoke(app, list(args))


def test_cost_correct_json_contract():
    r = run("cost-correct", "--price-in-usd-per-mtok", "5", "--price-out-usd-per-mtok", "30", *LEVERS,
            "--answer-tokens", "400", "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["cpm_1to1_usd_per_mtok"] == pytest.approx(17.5)
    assert out["cost_correct_usd_per_mtok"] == pytest.approx(17.5 * 20 * 4 / 0.5)
    assert out["cost_per_correct_answer_usd"] == pytest.approx(17.5 * 20 * 4 / 0.5 * 400 / 1e6)


def test_cost_correct_from_catalog_and_self_hosted():
    a = json.loads(run("cost-correct", "--model", "gpt-5.5", *LEVERS, "--json").stdout)
    assert a["cpm_1to1_usd_per_mtok"] == pytest.approx(17.5)
    b = run("cost-correct", "--gpu", "h100-sxm", "--num-gpus", "4", "--goodput-tokens-per-s", "2000",
            "--price-usd-per-gpu-hour", "3.6", *LEVERS, "--json")
    assert b.exit_code == 0, b.output
    served = 3.6 * 4 / 3600 / 2000 * 1e6  # $/h x GPUs / (tok/s) -> $/MTok
    assert json.loads(b.stdout)["cost_correct_usd_per_mtok"] == pytest.approx(served * 20 * 4 / 0.5)


def test_cost_correct_from_log_has_ci95_and_groups():
    r = run("cost-correct", "--from-log", EXAMPLE, "--log-model", "gpt-5.4-mini", "--replicates", "300", "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    for key in ("cpm_1to1_usd_per_mtok", "cost_correct_usd_per_mtok", "cost_per_correct_answer_usd", "ci95"):
        assert key in out
    assert out["cpm_1to1_usd_per_mtok"] == pytest.approx((0.75 + 4.5) / 2)
    ci = out["ci95"]["cost_correct_usd_per_mtok"]
    assert ci["low"] < out["cost_correct_usd_per_mtok"] < ci["high"]
    assert {g["task_class"] for g in out["groups"]} == {"math", "code"}


def test_elasticities_contract():
    r = run("elasticities", "--price-in-usd-per-mtok", "1", "--price-out-usd-per-mtok", "3", *LEVERS, "--json")
    out = json.loads(r.stdout)
    assert (out["p"], out["R"], out["alpha"]) == (1.0, 1.0, -1.0)
    assert out["rho"] == pytest.approx(3 / 4)


def test_threshold_contract_and_cases():
    r = run("threshold", "--eta-rho", "0.9", "--eta-t", "0.1", "--rho", "1", "--t-cost-usd", "10",
            "--i-cost-usd", "1", "--json")
    out = json.loads(r.stdout)
    assert out["lhs"] == pytest.approx((0.9 - 0.5) / 0.1) and out["rhs"] == pytest.approx(0.1)
    assert out["inference_dominates"] is True
    for case in ("rstar-math", "deepseek-r1"):
        c = run("threshold", "--case", case, "--json")
        assert c.exit_code == 0, c.output
        assert json.loads(c.stdout)["inference_dominates"] is False


def test_prices_json_and_user_rows(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text("model_prices:\n  - {id: my-model, provider: me, price_in_usd_per_mtok: 1, "
                 "price_out_usd_per_mtok: 3, source: contract, as_of: '2026-11-01'}\n")
    out = json.loads(run("prices", "--prices", str(f), "--json").stdout)["model_prices"]
    mine = next(r for r in out if r["id"] == "my-model")
    assert mine["cpm_1to1_usd_per_mtok"] == 2.0 and mine["source"].startswith("user:")
    assert all(r["source"] and r["as_of"] for r in out)


def test_other_commands_run():
    assert run("harvest", "--dedicated-usd-per-mtok", "2", "--serving-cpm-usd-per-mtok", "1.5", "--overhead-share",
               "0.1", "--burst-probability", "0.01", "--breach-cost-usd-per-mtok", "10", "--json").exit_code == 0
    e = json.loads(run("energy", "--power-w", "300", "--decode-tokens-per-s", "1500", "--usd-per-kwh", "0.1",
                       "--json").stdout)
    assert e["energy_clock_locked_usd_per_mtok"] == pytest.approx(0.68 * e["energy_usd_per_mtok"])
    c = run("curriculum", "--setter-tokens", "1000", "--solver-tokens", "2000", "--solver-attempts", "4",
            "--price-usd-per-mtok", "1", "--accept-rate", "0.5", "--useful-share", "0.5", "--verifier-tokens", "500",
            "--false-accept-rate", "0.1", "--hard-accept-rate", "0.3", "--json")
    assert set(json.loads(c.stdout)["iso_compute"]["problems"]) == {"soft", "hard"}
    v = json.loads(run("verifier-budget", "--accept-rate", "0.414", "--accept-rate-with-verifier", "0.864",
                       "--rollout-ratio-with-verifier", "63", "--json").stdout)
    assert v["verifier_can_pay"] is False


def test_tornado_writes_chart(tmp_path):
    r = run("tornado", "--cpm-usd-per-mtok", "10", "--reasoning-multiplier", "20", "--rollout-ratio", "3",
            "--accept-rate", "0.4", "--range", "alpha=0.3,0.5", "--range", "cpm=9,11", "--out",
            str(tmp_path / "t"), "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["rows"][0]["lever"] == "accept_rate" and (tmp_path / "t.svg").exists()


@pytest.mark.parametrize("args,needle", [
    (["cost-correct", "--price-in-usd-per-mtok", "1", "--price-out-usd-per-mtok", "2", "--reasoning-multiplier",
      "2", "--rollout-ratio", "0", "--accept-rate", "0"], "accept_rate"),
    (["cost-correct", "--price-in-usd-per-mtok", "1", "--price-out-usd-per-mtok", "2", "--reasoning-multiplier",
      "2", "--rollout-ratio", "0", "--accept-rate", "1.2"], "accept_rate"),
    (["cost-correct", "--price-in-usd-per-mtok", "-1", "--price-out-usd-per-mtok", "2", *LEVERS], "price_in"),
    (["cost-correct", "--price-in-usd-per-mtok", "1", "--price-out-usd-per-mtok", "2", "--reasoning-multiplier",
      "-3", "--rollout-ratio", "0", "--accept-rate", "0.5"], "reasoning_multiplier"),
    (["cost-correct", "--price-in-usd-per-mtok", "1", "--price-out-usd-per-mtok", "2", "--reasoning-multiplier",
      "2", "--rollout-ratio", "-1", "--accept-rate", "0.5"], "rollout_ratio"),
    (["cost-correct", "--model", "gpt-9", *LEVERS], "model"),
    (["threshold", "--case", "nope"], "case"),
    (["threshold", "--eta-rho", "0.5", "--eta-t", "0", "--rho", "2", "--t-cost-usd", "1", "--i-cost-usd", "1"],
     "eta_t"),
    (["harvest", "--dedicated-usd-per-mtok", "2", "--serving-cpm-usd-per-mtok", "1", "--overhead-share", "0.1",
      "--burst-probability", "0", "--breach-cost-usd-per-mtok", "1"], "burst_probability"),
])
def test_bad_input_is_one_line_and_exit_2(args, needle, one_line_error):
    line = one_line_error(run(*args))
    assert needle in line and "allowed" in line


def test_log_without_accepted_answers_says_infinite(tmp_path):
    p = tmp_path / "log.jsonl"
    p.write_text('{"task_id": "a", "attempt": 1, "input_tokens": 1, "output_tokens": 5, "answer_tokens": 2, '
                 '"accepted": false}\n')
    r = run("cost-correct", "--from-log", str(p), "--price-in-usd-per-mtok", "1", "--price-out-usd-per-mtok", "2",
            "--json")
    assert r.exit_code == 2 and r.stdout == ""
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "infinite" in lines[0]
    assert "inf" not in r.stdout and "NaN" not in r.stdout
