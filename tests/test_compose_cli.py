"""``costcorrect compose`` CLI and data mode (paper 07)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from costcorrect.cli.app import app
from costcorrect.errors import InputError
from costcorrect.verification.composition_data import compose_run

runner = CliRunner()


def test_identity_json_contract():
    args = ["compose", "identity", "--alpha1", "0.6", "--alpha2", "0.6", "--coupling", "0.04"]
    r = runner.invoke(app, [*args, "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["pipeline_accept_rate"] == pytest.approx(0.40)
    assert d["independent_accept_rate"] == pytest.approx(0.36)
    r = runner.invoke(app, ["compose", "identity", "--alpha1", "0.6", "--alpha2", "0.6", "--coupling", "0.04",
                            "--rule", "or", "--json"])
    assert json.loads(r.stdout)["pipeline_accept_rate"] == pytest.approx(0.6 + 0.6 - 0.36 - 0.04)


def test_identity_infeasible_says_range():
    r = runner.invoke(app, ["compose", "identity", "--alpha1", "0.6", "--alpha2", "0.6", "--coupling", "0.3"])
    assert r.exit_code == 2
    assert "-0.16" in r.output and "0.24" in r.output


def test_sample_size_cli():
    r = runner.invoke(app, ["compose", "sample-size", "--k1", "16", "--k2", "16", "--epsilon", "0.05", "--json"])
    assert json.loads(r.stdout)["probes"] == 2219  # ceil(2 ln 16 / 0.0025) = ceil(2218.07)


def _frames(n=60, seed=0):
    rng = np.random.default_rng(seed)
    z = rng.random(n) < 0.5
    dec = {(1, "a"): z, (1, "b"): rng.random(n) < 0.6, (2, "c"): z, (2, "d"): rng.random(n) < 0.6}
    rep = pd.DataFrame([{"slot": s, "vendor": v, "item_id": f"i{i}", "decision": int(d[i])}
                        for (s, v), d in dec.items() for i in range(n)])
    lab = pd.DataFrame({"item_id": [f"i{i}" for i in range(n)], "label": 1})
    return rep, lab, dec


def test_compose_run_data_mode(tmp_path):
    rep, lab, dec = _frames()
    r = compose_run(rep, lab, "and", n_boot=200)
    row = next(t for t in r["tuples"] if t["vendors"] == ["a", "c"])
    a = dec[(1, "a")].mean()
    assert row["coupling"] == pytest.approx(a - a * a)  # identical decisions: C = α(1−α)
    assert r["joint_selected"] == max(r["tuples"], key=lambda t: t["pipeline_agreement"])["vendors"]
    rep.to_csv(tmp_path / "r.csv", index=False)
    lab.to_csv(tmp_path / "l.csv", index=False)
    out = runner.invoke(app, ["compose", "run", "--reports", str(tmp_path / "r.csv"), "--labels",
                              str(tmp_path / "l.csv"), "--bootstrap", "100", "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["joint_selected"] == r["joint_selected"]


def test_compose_run_refuses_unidentified():
    rep, lab, _ = _frames()
    rep.loc[rep["vendor"].isin(["a", "c"]), "decision"] = 1  # a∘c always (1,1): rank 1
    r = compose_run(rep, lab, "and", n_boot=50)
    assert r["joint_selected"] is None and "Prop. 1" in r["joint_refusal"]
    assert ["a", "c"] in r["identifiability"]["unidentified"]


def test_compose_run_bad_input():
    rep, lab, _ = _frames()
    with pytest.raises(InputError):
        compose_run(rep.assign(decision=2), lab)
    with pytest.raises(InputError):
        compose_run(rep[rep["slot"] == 1], lab)
