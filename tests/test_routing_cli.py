"""CLI contracts of `costcorrect routing` (issue 7): JSON keys, bad input -> one line, exit 2."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from costcorrect.allocation.routing_table import load_routing_systems, table1_rows
from costcorrect.cli import app

runner = CliRunner()
EXAMPLE = str(Path(__file__).resolve().parents[1] / "src" / "costcorrect" / "catalog" / "data"
              / "routing_example_queries.csv")


def run(*args):
    return runner.invoke(app, list(args))


def test_premium_json_contract():
    r = run("routing", "premium", "--kappa", "0.5", "--delta", "0.4", "--gamma", "0.1", "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert {"premium", "routing_pays", "elasticity_kappa", "elasticity_delta", "elasticity_gamma"} <= set(out)
    assert out["premium"] == pytest.approx(0.1) and out["routing_pays"] is True
    assert out["elasticity_kappa"] == pytest.approx(2.0) and out["elasticity_gamma"] == pytest.approx(-1.0)


def test_premium_at_threshold_reports_null_elasticities():
    r = run("routing", "premium", "--kappa", "1", "--delta", "0.25", "--gamma", "0.25", "--json")
    assert r.exit_code == 0
    out = json.loads(r.stdout)
    assert out["routing_pays"] is False and out["elasticity_kappa"] is None


def test_speculative_json_contract():
    r = run("routing", "speculative", "--draft-tokens", "1", "--accept-rate", "0.5", "--cost-ratio", "0", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["expected_speedup"] == pytest.approx(1.5)  # (1 - 0.25)/(0.5 * 1)


def test_evaluate_example_file():
    r = run("routing", "evaluate", EXAMPLE, "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["tiers"] == ["small", "medium", "large"] and out["n_queries"] == 200
    assert out["oracle"]["premium"] >= out["router"]["premium"] >= -1e-12
    assert run("routing", "evaluate", EXAMPLE).exit_code == 0


@pytest.mark.parametrize("args", [
    ("premium", "--kappa", "1.2", "--delta", "0.3", "--gamma", "0.1"),
    ("premium", "--kappa", "0.5", "--delta", "0.3", "--gamma", "-0.1"),
    ("premium", "--kappa", "nan", "--delta", "0.3", "--gamma", "0.1"),
    ("speculative", "--draft-tokens", "3", "--accept-rate", "1.5", "--cost-ratio", "0.1"),
    ("speculative", "--draft-tokens", "0", "--accept-rate", "0.5", "--cost-ratio", "0.1"),
])
def test_bad_input_exit_2_one_line(args):
    r = run("routing", *args)
    assert r.exit_code == 2
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.output


@pytest.mark.parametrize("body", [
    "query_id,cost_usd_a,cost_usd_b,correct_a,correct_b\nq1,1,2,1,0\nq2,1,,1\n",  # ragged tiers
    "query_id,cost_usd_a,cost_usd_b,correct_a,correct_b\nq1,inf,2,1,0\n",  # non-finite cost
    "query_id,cost_usd_a,cost_usd_b,correct_a,correct_b\nq1,nan,2,1,0\n",
    "query_id,cost_usd_a,cost_usd_b,correct_a\nq1,1,2,1\n",  # tier without correct column
    "query_id,cost_usd_a,correct_a\nq1,1,2\n",  # correct not 0/1
    "query_id,cost_usd_a,cost_usd_b,correct_a,correct_b\nq1,1,2,0,1\n",  # tier a never correct
])
def test_bad_files_exit_2(tmp_path, body):
    p = tmp_path / "q.csv"
    p.write_text(body)
    r = run("routing", "evaluate", str(p), "--json")
    assert r.exit_code == 2, r.output
    assert len(r.stderr.strip().splitlines()) == 1


def test_table1_rows_have_sources_and_signs():
    df = load_routing_systems()
    assert len(df) == 6 and df["source"].str.len().min() > 10 and df["as_of"].notna().all()
    rows = {r["id"]: r for r in table1_rows()}
    assert all(r["sign"].startswith("+") for r in rows.values())  # the paper's signs
    assert rows["leviathan-medusa"]["premium_low"] == pytest.approx(0.5)
    assert rows["frugalgpt"]["kappa_delta_high"] == pytest.approx(0.99)
    assert rows["calm"]["premium_low"] == pytest.approx(1 / 3)  # paper prints 0.10 (see validation)
    assert run("routing", "table").exit_code == 0
