"""Paper 06 §5–§7: the √(log K/N) rate, the simulation at a reduced grid, probe strategies,
the generic runner (resume, chunk-invariance) and the data mode."""

import json
from dataclasses import asdict

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from costcorrect.cli import app
from costcorrect.errors import InputError
from costcorrect.verification import probes as pr
from costcorrect.verification import simulate as sm
from costcorrect.verification.runner import run_grid

SMALL = sm.SimConfig(ks=(4, 8), ns=(16, 64), datasets=("math", "humaneval"))


def test_selection_regret_decays_at_sqrt_log_k_over_n():
    """Worst-case regret (sup over the two-level family) ∝ N^-1/2: fitted slope ≈ -0.5."""
    ns = [64, 256, 1024, 4096]
    reg = sm.worst_case_regret(16, ns, seeds=1500)
    slope, _ = sm.fit_rate(ns, reg)
    assert -0.6 < slope < -0.4
    # ... and grows with K like sqrt(log K): C = regret / sqrt(ln K / N) is roughly flat in K.
    c = [sm.worst_case_regret(k, [1024], seeds=1500)[0] / np.sqrt(np.log(k) / 1024) for k in (4, 32)]
    assert 0.6 < c[1] / c[0] < 1.6


def test_selection_converges_to_best_vendor_as_n_grows():
    df = sm.run_sweep(sm.SimConfig(ks=(8,), ns=(16, 256, 4096), datasets=("gsm8k",), strategies=("uniform",),
                                   rules=("brier",)), seeds=24, workers=1)
    s = sm.summarize(df[df["mechanism"] == "scoring_rule"]).sort_values("N")
    assert s["gap_pct"].iloc[-1] < s["gap_pct"].iloc[0]
    assert s["p_correct"].iloc[-1] > 0.9


@pytest.fixture(scope="module")
def small_df():
    return sm.run_sweep(SMALL, seeds=12, workers=1)


def test_small_sweep_shape_and_ordering(small_df):
    cells = small_df.groupby(["dataset", "K", "N", "mechanism", "strategy", "rule"]).size()
    assert (cells == 12).all()
    # 2 datasets × 2 K × 2 N × (4 baselines + 3 strategies × 3 rules)
    assert len(cells) == 2 * 2 * 2 * (4 + 9)
    assert (small_df.loc[small_df["mechanism"] == "oracle", "gap_pct"] == 0).all()
    assert (small_df["gap_pct"] >= -1e-9).all()
    rows = sm.table1(small_df)
    gaps = {(r["mechanism"], r["dataset"]): r["gap_pct"] for r in rows}
    for ds in ("math", "humaneval"):
        assert gaps[("scoring_rule", ds)] < gaps[("random", ds)] < gaps[("posted_price", ds)]
    # The calibration-monotone violation is what breaks public-benchmark ranking.
    assert gaps[("public_benchmark", "humaneval")] > gaps[("public_benchmark", "math")]


def test_brier_and_quadratic_select_identically(small_df):
    s = small_df[small_df["mechanism"] == "scoring_rule"].set_index(["dataset", "K", "N", "strategy", "seed"])
    b, q = s[s["rule"] == "brier"]["gap_pct"], s[s["rule"] == "quadratic"]["gap_pct"]
    pd.testing.assert_series_equal(b.sort_index(), q.sort_index(), check_names=False)


def test_cell_is_chunk_invariant_and_matches_per_seed_loop():
    params = {"dataset": "humaneval", "K": 4, "config": asdict(sm.SimConfig(ns=(16, 64)))}
    together = sm.simulate_cell(params, np.arange(5))
    looped = pd.concat([sm.simulate_cell(params, np.array([s])) for s in range(5)])
    key = ["N", "mechanism", "strategy", "rule", "seed"]
    a = together.sort_values(key).reset_index(drop=True)
    b = looped.sort_values(key).reset_index(drop=True)
    np.testing.assert_allclose(a["gap_pct"], b["gap_pct"], rtol=1e-9, atol=1e-9)


def _cell(params, seeds):
    return [{"x": params["x"], "seed": int(s), "v": params["x"] * 10 + int(s)} for s in seeds]


def test_runner_resumes_from_parts(tmp_path):
    df1 = run_grid(_cell, {"x": [1, 2]}, seeds=4, seed_chunk=2, out_dir=tmp_path, workers=1)
    parts = sorted((tmp_path / "parts").iterdir())
    assert len(parts) == 4
    parts[0].unlink()  # a task lost in a crash is redone, the others are read back
    df2 = run_grid(_cell, {"x": [1, 2]}, seeds=4, seed_chunk=2, out_dir=tmp_path, workers=1)
    pd.testing.assert_frame_equal(df1.sort_values(["x", "seed"]).reset_index(drop=True),
                                  df2.sort_values(["x", "seed"]).reset_index(drop=True), check_dtype=False)
    assert len(df2) == 8


def test_runner_rejects_unknown_backend():
    with pytest.raises(InputError):
        run_grid(_cell, {"x": [1]}, seeds=1, backend="slurm")


def test_maximin_picks_disagreement_and_hard_picks_uncertain():
    dec = np.array([[1, 1, 0, 1, 0], [1, 0, 0, 1, 1], [1, 1, 0, 0, 0], [1, 0, 0, 1, 1]])
    idx = pr.select_maximin_entropy(dec, 3)
    assert set(idx.tolist()) == {1, 3, 4}  # items 0 and 2: everyone agrees
    hard = pr.select_hard_instances(np.array([0.9, 0.52, 0.1, 0.45, 0.7]), 2)
    assert set(hard.tolist()) == {1, 3}
    assert pr.construction_cost_usd("hard", 100, 0.5, bootstrap_alpha=0.6) == pytest.approx(125.0)


def test_cost_decomposition_seven_to_one_is_87_5_percent():
    d = pr.probe_cost_decomposition(256, construction_usd=256 * 7.0, payments_usd=[256 / 16] * 16)
    assert d["construction_to_payment_ratio"] == pytest.approx(7.0)
    assert d["construction_share"] == pytest.approx(0.875)


# ----------------------------------------------------------------------------- data mode / CLI
runner = CliRunner()


def _write(tmp_path, rows, labels):
    r = tmp_path / "reports.csv"
    lab = tmp_path / "labels.csv"
    r.write_text("vendor,item_id,prob\n" + "\n".join(",".join(map(str, x)) for x in rows) + "\n")
    lab.write_text("item_id,label\n" + "\n".join(",".join(map(str, x)) for x in labels) + "\n")
    return r, lab


def test_procure_run_on_a_hand_built_file(tmp_path):
    labels = [(f"i{j}", j % 2) for j in range(6)]
    rows = [("good", f"i{j}", 0.9 if j % 2 else 0.1) for j in range(6)]
    rows += [("meh", f"i{j}", 0.6 if j % 2 else 0.45) for j in range(6)]
    r, lab = _write(tmp_path, rows, labels)
    res = runner.invoke(app, ["procure", "run", "--reports", str(r), "--labels", str(lab), "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["selected"] == "good"
    v = {x["vendor"]: x for x in out["vendors"]}
    assert v["good"]["score"] == pytest.approx(-0.01)  # -(0.1)^2 on every probe
    assert v["meh"]["score"] == pytest.approx(-(0.4**2 + 0.45**2) / 2)
    # Default cap 0.01 USD/probe, Brier: a = b = N·cap → payment = N·cap·(1 + mean S).
    assert v["good"]["payment"] == pytest.approx(6 * 0.01 * (1 - 0.01))
    assert v["good"]["score_ci95"][0] <= v["good"]["score"] <= v["good"]["score_ci95"][1]
    assert out["p_wrong"] == 0.0


@pytest.mark.parametrize("mutate,needle", [
    (lambda rows, labels: (rows[:-1], labels), "missing items"),
    (lambda rows, labels: ([*rows, rows[0]], labels), "duplicates"),
    (lambda rows, labels: ([("a", "i0", 1.5), *rows[1:]], labels), "[0, 1]"),
    (lambda rows, labels: ([("a", "i0", "nan"), *rows[1:]], labels), "[0, 1]"),
    (lambda rows, labels: (rows, [("i0", 2), *labels[1:]]), "{0, 1}"),
    (lambda rows, labels: ([], []), "empty"),
])
def test_procure_run_bad_input_exits_2(tmp_path, mutate, needle):
    labels = [(f"i{j}", j % 2) for j in range(3)]
    rows = [(v, f"i{j}", 0.5) for v in ("a", "b") for j in range(3)]
    r, lab = _write(tmp_path, *mutate(rows, labels))
    res = runner.invoke(app, ["procure", "run", "--reports", str(r), "--labels", str(lab)])
    assert res.exit_code == 2
    assert needle in res.output
    assert "Traceback" not in res.output


def test_procure_sample_size_contract():
    res = runner.invoke(app, ["procure", "sample-size", "--vendors", "32", "--epsilon", "0.05", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["probes"] == 1387
    res = runner.invoke(app, ["procure", "sample-size", "--vendors", "16", "--epsilon", "0.05",
                              "--constant", "2", "--json"])
    assert json.loads(res.stdout)["probes"] == int(np.ceil(4 * np.log(16) / 0.0025))
    assert runner.invoke(app, ["procure", "sample-size", "--vendors", "1", "--epsilon", "0.05"]).exit_code == 2
