"""Paper 07 §7 strategies, §8 simulation (reduced), commit-reveal of joint reports."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from costcorrect.cli.app import app
from costcorrect.errors import InputError
from costcorrect.verification import composition as cp
from costcorrect.verification import composition_sim as cs

TINY = cs.CompSimConfig(ks=(4,), ns=(16, 64, 256, 1024), cbars=(0.0, 0.2), pool_size=1024, identity_seeds=2)


@given(st.floats(0.02, 0.98), st.floats(0.02, 0.98), st.floats(-1.0, 1.0))
def test_joint_cells_is_a_distribution_with_the_identity(a1, a2, u):
    lo, hi = cp.coupling_range(a1, a2)
    c = float(lo + (hi - lo) * (u + 1) / 2)
    q = cs.joint_cells(np.array(a1), np.array(a2), np.array(c))
    assert q.sum() == pytest.approx(1.0)
    assert np.all(q >= -1e-12)
    assert q[3] == pytest.approx(a1 * a2 + c)  # Theorem 1 by hand
    assert q[2] + q[3] == pytest.approx(a1) and q[1] + q[3] == pytest.approx(a2)


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from([-0.2, -0.1, 0.1, 0.2]))
def test_population_hits_target_coupling_unless_clipped(seed, cbar):
    pop = cs.population(TINY.with_(pool_size=512), 4, 3, cbar, np.random.default_rng(seed))
    ok = pop["lam"] < 1.0  # not clipped: E_x C(x) equals the target exactly (closed-form λ)
    assert np.allclose(pop["within"][ok], pop["target"][ok], atol=1e-12)
    assert np.all(np.sign(pop["within"]) * np.sign(cbar) >= 0)
    # Marginals untouched by the coupling: every pair sees the same slot accept rates.
    assert np.allclose(pop["alpha_pipe"], pop["prod_x"] + pop["within"])
    assert np.all((pop["alpha_pipe"] >= 0) & (pop["alpha_pipe"] <= 1))


def test_strategy_scores_and_sampling():
    pop = cs.population(TINY, 4, 4, 0.2, np.random.default_rng(0))
    for s in cs.STRATEGIES:
        sc = cs.strategy_scores(s, pop["a1x"], pop["a2x"], pop["cx"])
        assert sc.shape == (TINY.pool_size,) and np.all(sc >= 0)
        pi = cs.sampling_probs(sc)
        assert pi.sum() == pytest.approx(1.0) and np.all(pi > 0)
    # Joint-disagreement entropy is in [0, 2] bits; marginal in [0, 2] (two slots of ≤ 1 bit).
    assert cs.strategy_scores("joint", pop["a1x"], pop["a2x"], pop["cx"]).max() <= 2.0 + 1e-9
    # Rare-event scores vanish when no pair is coupled.
    pop0 = cs.population(TINY, 4, 4, 0.0, np.random.default_rng(0))
    assert np.all(cs.strategy_scores("rare", pop0["a1x"], pop0["a2x"], pop0["cx"]) == 0)
    with pytest.raises(InputError):
        cs.strategy_scores("psychic", pop["a1x"], pop["a2x"], pop["cx"])


def test_construction_costs_by_hand():
    # 100 probes at 0.5 USD, pool 4x, query 0.01 USD: joint K1K2 = 64, rare K1+K2-1 = 15 queries per item.
    assert cs.probe_construction_cost_usd("marginal", 100, 0.5, 8, 8, 0.01) == pytest.approx(50.0)
    assert cs.probe_construction_cost_usd("joint", 100, 0.5, 8, 8, 0.01) == pytest.approx(50 + 400 * 64 * 0.01)
    assert cs.probe_construction_cost_usd("rare", 100, 0.5, 8, 8, 0.01) == pytest.approx(50 + 400 * 15 * 0.01)
    assert float(cs.prop2_ratio_bound(16, 16)) == pytest.approx(8 ** 0.5)
    assert float(cs.prop3_factor(16, 4)) == pytest.approx(2.0)
    with pytest.raises(InputError):
        cs.probe_construction_cost_usd("joint", 10, -1.0, 4, 4)


def test_importance_weights_are_unbiased():
    """HT-weighted probe means are unbiased for the pool (= D) pipeline rate under every strategy."""
    pop = cs.population(TINY, 4, 4, 0.2, np.random.default_rng(3))
    target = pop["pipe_x"][0, 0].mean()
    for s in ("marginal", "joint", "rare"):
        pi = cs.sampling_probs(cs.strategy_scores(s, pop["a1x"], pop["a2x"], pop["cx"]))
        w = 1.0 / (pi.size * pi)
        assert float(np.sum(pi * w * pop["pipe_x"][0, 0])) == pytest.approx(target)


def test_cell_is_chunk_invariant_and_well_formed():
    params = {"K1": 4, "K2": 4, "cbar": 0.2, "config": asdict(TINY)}
    a = cs.simulate_cell(params, np.arange(4))
    b = __import__("pandas").concat([cs.simulate_cell(params, np.arange(2)), cs.simulate_cell(params, np.arange(2, 4))])
    key = ["seed", "mechanism", "regime", "strategy", "N"]
    ga = a[a.mechanism != "identity"].sort_values(key)["gap_pct"].to_numpy()
    gb = b[b.mechanism != "identity"].sort_values(key)["gap_pct"].to_numpy()
    assert np.array_equal(ga, gb)
    assert np.all(np.isfinite(ga)) and np.all(ga >= 0)
    pv = a[a.mechanism == "per_verifier"]
    known, unknown = (pv[pv.regime == r]["gap_pct"].to_numpy() for r in ("known", "unknown"))
    assert np.array_equal(known, unknown)  # the per-verifier mechanism ignores the side channel


def test_reduced_sweep_reproduces_the_qualitative_findings(tmp_path):
    """Per-verifier fails at C̄ = 0.2 but not at C̄ = 0; the joint mechanism improves with N."""
    cfg = TINY.with_(strategies=("uniform", "rare"))
    df = cs.run_sweep(cfg, seeds=24, workers=1, out_dir=tmp_path)
    s = cs.summarize(df)

    def g(mech, cb, n):
        r = s[(s.mechanism == mech) & (s.regime == "unknown") & (s.strategy == "uniform") & (s.cbar == cb) & (s.N == n)]
        return float(r["gap_pct"].iloc[0])

    assert g("per_verifier", 0.2, 1024) > 3 * g("joint", 0.2, 1024)  # Theorem 2 bites
    assert g("per_verifier", 0.0, 1024) < 5.0  # no coupling: marginal selection is pipeline selection
    assert g("joint", 0.2, 1024) < g("joint", 0.2, 16)
    f = cs.findings(df, k=4, strategy="uniform")
    assert f["identity"]["r2"] > 0.9
    # Resume: a second run reads the parts back and returns the same frame.
    again = cs.run_sweep(cfg, seeds=24, workers=1, out_dir=tmp_path)
    assert np.array_equal(again["gap_pct"].to_numpy(), df["gap_pct"].to_numpy(), equal_nan=True)


def test_simulate_cli_quick(tmp_path, monkeypatch):
    monkeypatch.setattr(cs, "QUICK", TINY)
    r = CliRunner().invoke(app, ["compose", "simulate", "--quick", "--seeds", "4", "--workers", "1",
                                 "--out", str(tmp_path), "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["findings"]["K"] == 4 and (tmp_path / "findings.json").exists() and (tmp_path / "summary.csv").exists()
    r = CliRunner().invoke(app, ["compose", "simulate", "--backend", "mpi", "--out", str(tmp_path)])
    assert r.exit_code == 2


def test_commit_reveal_of_joint_reports():
    q = np.array([[0.2, 0.2, 0.2, 0.4], [0.16, 0.24, 0.24, 0.36]])
    payload = cp.joint_report_payload(q, ["a", "b"], pair="V1∘V2")
    salt = "0123456789abcdef"
    h = cp.commit_joint_reports(salt, payload)
    # By hand: SHA-256 over salt then RFC 8785 JSON (sorted keys, no spaces, shortest floats).
    canon = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert h == hashlib.sha256(salt.encode() + canon).hexdigest()
    assert cp.verify_joint_reveal(h, salt, payload)
    tampered = cp.joint_report_payload(q[::-1], ["a", "b"], pair="V1∘V2")
    assert not cp.verify_joint_reveal(h, salt, tampered)
    assert not cp.verify_joint_reveal(h, salt + "x", payload)
    with pytest.raises(InputError):
        cp.commit_joint_reports("short", payload)
    with pytest.raises(InputError):
        cp.joint_report_payload(np.array([[0.5, 0.6, 0.0, 0.0]]))
    with pytest.raises(InputError):
        cp.joint_report_payload(q, ["a", "a"])
