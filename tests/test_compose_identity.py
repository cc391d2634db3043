"""Paper 07: identity on enumerated joints, Möbius vs brute force, joint rules, pre-flight, Thm 2."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from costcorrect.errors import InputError
from costcorrect.validation import evaluate
from costcorrect.verification import composition as cp
from costcorrect.verification import rules

probs = st.integers(2, 4).flatmap(
    lambda m: st.lists(st.floats(0.0, 1.0), min_size=2**m, max_size=2**m).filter(lambda v: sum(v) > 1e-3))


def _norm(v):
    p = np.asarray(v, dtype=float)
    return p / p.sum()


@given(st.lists(st.floats(0.0, 1.0), min_size=4, max_size=4).filter(lambda v: sum(v) > 1e-3))
def test_and_or_identity_exact_on_joint(v):
    q = _norm(v)  # (q00, q01, q10, q11)
    a1, a2 = q[2] + q[3], q[1] + q[3]
    c = q[3] - a1 * a2  # covariance by definition, not via the code under test
    assert cp.pipeline_accept_rate(a1, a2, c, "and") == pytest.approx(q[3], abs=1e-12)
    assert cp.pipeline_accept_rate(a1, a2, c, "or") == pytest.approx(q[1] + q[2] + q[3], abs=1e-12)
    assert np.allclose(cp.joint_from_marginals(a1, a2, c), q, atol=1e-12)


def _brute_expectation(table, p, m):
    return sum(p[i] * table[i] for i in range(2**m))


def _brute_monotone_tables(m):
    """All monotone Boolean functions on m ≤ 3 inputs, by filtering every truth table."""
    out = []
    for bits in itertools.product((0, 1), repeat=2**m):
        t = np.array(bits)
        idx = np.arange(2**m)
        if all(np.all(t[idx | (1 << b)] >= t) for b in range(m)):
            out.append(t)
    return out


@pytest.mark.parametrize("m", [1, 2, 3])
def test_mobius_all_monotone_rules_vs_brute_force(m):
    rng = np.random.default_rng(m)
    tables = _brute_monotone_tables(m)
    assert len(tables) == {1: 3, 2: 6, 3: 20}[m]  # Dedekind numbers
    p = rng.dirichlet(np.ones(2**m), size=5)
    for t in tables:
        got = cp.expected_rule(t, p)
        want = np.array([_brute_expectation(t, pp, m) for pp in p])
        assert np.allclose(got, want, atol=1e-12)


@settings(max_examples=60)
@given(probs, st.sampled_from(["and", "or", "majority", "k_of_m:2"]))
def test_mobius_named_rules_m_le_4(v, rule):
    p = _norm(v)
    m = int(np.log2(p.size))
    if rule == "k_of_m:2" and m < 2:
        return
    t = cp.rule_table(rule, m)
    # pointwise: f(v) = Σ_S c_S Π v_i on every cell, then in expectation
    c = cp.mobius_coefficients(t)
    for cell in range(2**m):
        poly = sum(c[s] for s in range(2**m) if (cell & s) == s)
        assert poly == t[cell]
    assert cp.expected_rule(t, p) == pytest.approx(_brute_expectation(t, p, m), abs=1e-12)


def test_or_expansion_hand():
    assert cp.expansion_terms(cp.rule_table("or", 2)) == [
        {"slots": [2], "coefficient": 1}, {"slots": [1], "coefficient": 1}, {"slots": [1, 2], "coefficient": -1}]
    # majority of 3 = v1v2 + v1v3 + v2v3 − 2 v1v2v3 (hand calculation)
    terms = {tuple(d["slots"]): d["coefficient"] for d in cp.expansion_terms(cp.rule_table("majority", 3))}
    assert terms == {(1, 2): 1, (1, 3): 1, (2, 3): 1, (1, 2, 3): -2}


def test_non_monotone_and_infeasible_rejected():
    with pytest.raises(InputError):
        cp.mobius_coefficients([0, 1, 1, 0])  # XOR
    with pytest.raises(InputError, match=r"-0.16, 0.24"):
        cp.identity(0.6, 0.6, 0.3)


def test_estimate_identity_from_data():
    rng = np.random.default_rng(0)
    q = np.array(cp.THEOREM2_JOINTS["V1"])
    cells = rng.choice(4, size=4000, p=q)
    d = np.stack([(cells >> 1) & 1, cells & 1], axis=1)
    r = cp.estimate_identity(d, "and", n_boot=500)
    assert r["predicted_pipeline_accept_rate"] == pytest.approx(r["observed_pipeline_accept_rate"], abs=1e-12)
    lo, hi = r["coupling_interval"]
    assert lo < 0.04 < hi and lo > 0.0  # C = 0.04 recovered; the interval excludes independence
    d3 = rng.integers(0, 2, size=(300, 3))
    r3 = cp.estimate_identity(d3, "majority", n_boot=100)
    assert r3["predicted_pipeline_accept_rate"] == pytest.approx(np.mean(d3.sum(1) >= 2), abs=1e-12)


def test_identity_r2():
    assert cp.identity_r2([0.1, 0.2, 0.3], [0.1, 0.2, 0.3]) == 1.0
    with pytest.raises(InputError):
        cp.identity_r2([0.1, 0.2], [0.3, 0.3])


@settings(max_examples=40)
@given(st.integers(2, 3), st.sampled_from(["brier", "log", "spherical"]), st.integers(0, 10_000))
def test_joint_rules_strictly_proper(m, rule, seed):
    rng = np.random.default_rng(seed)
    q = rng.dirichlet(np.ones(2**m))
    p = rng.dirichlet(np.ones(2**m))
    if np.abs(p - q).max() < 1e-3:
        return
    cells = np.arange(2**m)

    def expect(r):
        return float(np.sum(q * cp.joint_score(rule, np.tile(r, (2**m, 1)), cells)))

    assert expect(q) > expect(p)


def test_preflight_catches_rank_one():
    n = 50
    same = np.tile([0.2, 0.2, 0.2, 0.4], (n, 1))  # every probe one joint distribution: rank 1
    two = same.copy()
    two[::2] = [0.5, 0.1, 0.1, 0.3]
    assert cp.identifiability(same)["rank"] == 1
    assert cp.identifiability(two)["identifiable"]
    cells = np.zeros((2, n), dtype=int)
    with pytest.raises(InputError, match=r"Prop\. 1"):
        cp.run_joint_mechanism(np.stack([same, two]), cells)
    res = cp.run_joint_mechanism(np.stack([two, two[::-1]]), cells, per_probe_cap_usd=0.01)
    assert all(p >= 0 for p in res["payments_usd"])  # ex post IR
    assert max(res["payments_usd"]) <= 0.01 * n + 1e-12  # cap


def test_joint_selects_thm2_pair_per_verifier_cannot():
    """Theorem 2 in data: joint reports separate (V1,V2) from (V1',V2); marginal scores tie."""
    t2 = cp.theorem2_construction()
    assert t2["marginal_score_difference"] == pytest.approx(0.0, abs=1e-12)
    n = 40
    q1, q2 = (np.array(cp.THEOREM2_JOINTS[k]) for k in ("V1", "V1_prime"))
    alt = np.array([0.25, 0.25, 0.25, 0.25])
    reports = np.stack([np.where(np.arange(n)[:, None] % 2 == 0, q1, alt),
                        np.where(np.arange(n)[:, None] % 2 == 0, q2, alt)])
    res = cp.run_joint_mechanism(reports, np.full((2, n), 3))
    assert res["selected"] == 0
    assert rules.score("brier", [0.6], [1])[0] == pytest.approx(-0.16)


def test_paper07_claims_status():
    for r in evaluate("07"):
        assert r.status == r.claim.expected_status, (r.claim.id, r.computed_value)
