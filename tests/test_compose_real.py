"""Paper 07 real pipelines (issue 9 item 6): partial-test runners AND static checkers on HumanEval."""

from __future__ import annotations

import ast
import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from costcorrect.cli.app import app
from costcorrect.verification import composition_real as cr
from costcorrect.verification import humaneval as he

runner = CliRunner()


def test_static_checks_by_hand():
    good = "def f(x):\n    y = x + 1\n    return y\n"
    assert cr.static_checks(good) == dict.fromkeys(cr.STATIC_CHECKS, True)
    c = cr.static_checks("def f(x, z):\n    if x:\n        pass\n    y = 2\n    return x\n")
    assert c == {"returns": True, "no_pass_branch": False, "args_used": False, "no_unused": False}
    assert not cr.static_checks("def f(x):\n    print(x)\n")["returns"]
    assert cr.static_checks("def f(x):\n    for i in x:\n        pass\n    return 1\n")["no_unused"]  # loop target ok
    assert cr.static_checks("def f(:\n") == dict.fromkeys(cr.STATIC_CHECKS, False)
    d = cr.static_vendor_decisions(c)
    assert d == {"static_return": 1, "static_pass": 0, "static_args": 0, "static_lint": 0}


def test_first_asserts_keeps_only_first_k():
    test = "def check(candidate):\n    x = 1\n    assert candidate(1) == 1\n    assert candidate(2) == 2\n" \
           "    assert candidate(3) == 3\n"
    src = cr.first_asserts(test, "f", 2)
    fn = next(n for n in ast.parse(src).body if isinstance(n, ast.FunctionDef))
    asserts = [s for s in fn.body if isinstance(s, ast.Assert)]
    assert len(asserts) == 2 and "candidate(3)" not in src and src.rstrip().endswith("check(f)")
    assert len(fn.body) == 3  # the non-assert statement survives


def _synthetic() -> pd.DataFrame:
    """Hand-built table where each slot's best vendor alone makes a worse pair (Theorem 2's shape)."""
    n = 10
    y = np.zeros(n, int)
    y[:2] = 1
    ones = np.ones(n, int)
    ones[-1] = 0  # not constant, so every pair passes the rank pre-flight

    def at(*ix):
        v = np.zeros(n, int)
        v[list(ix)] = 1
        return v

    cols = {"tests_first1": at(0, 1, 2), "tests_rand25": at(0, 1, 3, 5), "tests_rand50": ones, "doc_examples": ones,
            "static_return": at(0, 1, 2), "static_pass": at(0, 1, 4, 6), "static_args": ones, "static_lint": ones}
    return pd.DataFrame({"item_id": [f"p{i}" for i in range(n)], "problem": np.arange(n), "kind": "x",
                         "label": y, **cols})


def test_per_verifier_failure_detected_on_hand_built_table():
    v = _synthetic()
    r = cr.compose_real(v, n_boot=50)
    assert r["identifiability"]["all_identifiable"]
    # alone: first1 and return agree on 9/10, rand25 and pass on 8/10 → per-verifier takes first1 ∘ return
    assert r["per_verifier_selected"] == ["tests_first1", "static_return"]
    pv = next(t for t in r["tuples"] if t["vendors"] == ["tests_first1", "static_return"])
    assert pv["pipeline_agreement"] == pytest.approx(0.9)
    # by hand: first1 ∧ return accepts items 0,1,2 → P(both) 0.3, α1α2 0.09 → C = 0.21
    assert pv["coupling"] == pytest.approx(0.3 - 0.3 * 0.3)
    assert r["agreement_gap"] == pytest.approx(0.1) and r["per_verifier_worse"]
    best = next(t for t in r["tuples"] if t["vendors"] == r["joint_selected"])
    assert best["pipeline_agreement"] == pytest.approx(1.0)
    rows = {x["mechanism"]: x for x in cr.probe_resampling(v, (10,), seeds=5)}
    assert rows["per_verifier"]["regret_pp"] == pytest.approx(10.0) and rows["per_verifier"]["p_best"] == 0
    assert rows["joint"]["regret_pp"] == pytest.approx(0.0) and rows["joint"]["p_best"] == 1


def test_small_real_run_properties_and_cache(tmp_path, monkeypatch):
    cache = tmp_path / "verdicts.csv"
    v = cr.build_verdicts(4, 2, workers=2, cache=cache)
    assert (v.loc[v["kind"] == "canonical", "label"] == 1).all()
    passing = v[v["label"] == 1]
    for t in ("tests_first1", "tests_rand25", "tests_rand50"):  # a subset of the asserts cannot reject a pass
        assert (passing[t] == 1).all()
    reports, _labels = cr.to_data_mode(v)
    assert len(reports) == len(v) * (len(cr.TEST_VENDORS) + len(cr.STATIC_VENDORS))
    r = cr.compose_real(v, n_boot=50)
    for t in r["tuples"]:
        d = v[t["vendors"]].to_numpy()
        a1, a2 = d.mean(0)
        assert t["coupling"] == pytest.approx(np.mean(d[:, 0] * d[:, 1]) - a1 * a2)
        assert t["pipeline_accept_rate"] == pytest.approx(np.mean(d[:, 0] * d[:, 1]))

    def boom(*a, **k):
        raise AssertionError("sandbox ran despite a matching cache")

    monkeypatch.setattr(he, "run_sandboxed", boom)
    pd.testing.assert_frame_equal(cr.build_verdicts(4, 2, workers=2, cache=cache), v, check_dtype=False)
    with pytest.raises(AssertionError):  # another configuration is not served from the cache
        cr.build_verdicts(4, 1, workers=2, cache=cache)


def test_cli_humaneval_json_and_bad_input(tmp_path):
    r = runner.invoke(app, ["compose", "humaneval", "--out", str(tmp_path), "--problems", "3", "--mutants", "1",
                            "--bootstrap", "20", "--workers", "2", "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["per_verifier_selected"] and len(d["tuples"]) == len(cr.TEST_VENDORS) * len(cr.STATIC_VENDORS)
    assert {x["mechanism"] for x in d["resampling"]} == {"joint", "per_verifier"}
    for f in ("verdicts.csv", "reports.csv", "labels.csv", "result.json"):
        assert (tmp_path / f).is_file()
    run = runner.invoke(app, ["compose", "run", "--reports", str(tmp_path / "reports.csv"), "--labels",
                              str(tmp_path / "labels.csv"), "--bootstrap", "20", "--json"])
    assert run.exit_code == 0 and json.loads(run.stdout)["joint_selected"] == d["joint_selected"]
    bad = runner.invoke(app, ["compose", "humaneval", "--out", str(tmp_path), "--rule", "xor"])
    assert bad.exit_code == 2
    bad = runner.invoke(app, ["compose", "humaneval", "--out", str(tmp_path), "--problems", "0"])
    assert bad.exit_code == 2
