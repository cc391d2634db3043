"""Paper 06 §4: strict propriety of the rules, IR/budget of the payments, the binary
reduction, bad input, and the posted-price unravelling of Theorem 1."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from costcorrect.errors import InputError
from costcorrect.verification.mechanism import (
    binary_accept_rate,
    cost_of_quality_usd,
    gap_pct,
    implied_constant,
    payment_constants,
    posted_price_equilibrium,
    run_mechanism,
    sample_size,
)
from costcorrect.verification.rules import RULES, expected_score, score, score_bounds

GRID = np.linspace(0.0005, 0.9995, 1999)


@pytest.mark.parametrize("rule", RULES)
@settings(max_examples=40, deadline=None)
@given(q=st.floats(0.01, 0.99))
def test_binary_rules_are_strictly_proper(rule, q):
    """E_q S(p, ·) is maximised at p = q, and strictly below it elsewhere."""
    e = expected_score(rule, GRID, q)
    assert abs(GRID[np.argmax(e)] - q) <= 1e-3 + 1e-12
    truthful = expected_score(rule, q, q)
    assert np.all(e[np.abs(GRID - q) > 0.01] < truthful)


@pytest.mark.parametrize("rule", RULES)
@settings(max_examples=30, deadline=None)
@given(q=st.lists(st.floats(0.05, 1.0), min_size=3, max_size=3),
       r=st.lists(st.floats(0.05, 1.0), min_size=3, max_size=3))
def test_categorical_rules_are_strictly_proper(rule, q, r):
    """For any other report r != q on the 3-simplex, E_q S(r) < E_q S(q)."""
    q = np.asarray(q) / np.sum(q)
    r = np.asarray(r) / np.sum(r)
    outcomes = np.arange(3)

    def exp_score(p):
        return float(np.sum(q * score(rule, np.tile(p, (3, 1)), outcomes, categorical=True)))

    if np.max(np.abs(q - r)) > 0.02:
        assert exp_score(r) < exp_score(q)


def test_hand_values():
    # Paper §4 forms: Brier -(p-l)^2, quadratic (Gneiting-Raftery) 1 - 2(p-l)^2.
    assert score("brier", [0.8], [1])[0] == pytest.approx(-0.04)
    assert score("quadratic", [0.8], [1])[0] == pytest.approx(1 - 2 * 0.04)
    assert score("log", [0.8], [0])[0] == pytest.approx(np.log(0.2))
    assert score("spherical", [0.8], [1])[0] == pytest.approx(0.8 / np.sqrt(0.64 + 0.04))
    # Categorical Brier = -sum (p_j - e_j)^2
    assert score("brier", [[0.7, 0.2, 0.1]], [1])[0] == pytest.approx(-(0.49 + 0.64 + 0.01))


@pytest.mark.parametrize("rule", RULES)
def test_scores_stay_within_bounds(rule):
    p = np.linspace(0, 1, 101)
    lo, hi = score_bounds(rule)
    for y in (0, 1):
        s = score(rule, p, np.full(p.size, y))
        assert np.all(s >= lo - 1e-12) and np.all(s <= hi + 1e-12)


@pytest.mark.parametrize("bad", [
    dict(reports=[[0.5, 1.2], [0.1, 0.2]], outcomes=[0, 1]),
    dict(reports=[[0.5, np.nan], [0.1, 0.2]], outcomes=[0, 1]),
    dict(reports=[[0.5, 0.5, 0.5], [0.1, 0.2, 0.3]], outcomes=[0, 1]),
    dict(reports=[[0.5, 0.5]], outcomes=[0, 1]),
    dict(reports=[[0.5, 0.5], [0.1, 0.2]], outcomes=[0, 2]),
    dict(reports=[[0.5, 0.5], [0.1, 0.2]], outcomes=[0, 1], rule="hinge"),
])
def test_bad_input_raises_input_error(bad):
    with pytest.raises(InputError):
        run_mechanism(bad["reports"], bad["outcomes"], bad.get("rule", "brier"))


@pytest.mark.parametrize("rule", RULES)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_payments_are_ir_and_within_budget(rule, data):
    k = data.draw(st.integers(2, 6))
    n = data.draw(st.integers(1, 40))
    rng = np.random.default_rng(data.draw(st.integers(0, 10**6)))
    reports = rng.random((k, n))
    reports[0, : n // 2] = rng.integers(0, 2, n // 2)  # extreme reports too
    y = rng.integers(0, 2, n)
    cap = data.draw(st.floats(0.001, 1.0))
    budget = data.draw(st.floats(0.5, 2.0)) * cap * k * n
    reservation = data.draw(st.floats(0.0, 0.9)) * min(cap, budget / (k * n)) * n
    r = run_mechanism(reports, y, rule, per_probe_cap_usd=cap, budget_usd=budget, reservation_usd=reservation)
    assert np.all(r.payments_usd >= reservation - 1e-9)  # ex post IR
    assert np.all(r.payments_usd <= n * r.per_probe_cap_usd + 1e-9)  # per-probe cap
    assert r.total_payment_usd <= budget + 1e-9  # budget feasibility
    assert r.selected == int(np.argmax(r.mean_scores))
    # Theorem 2's cap formula t̄ = a/N + b·max_S/N is binding.
    assert r.a_usd / n + r.b_usd * score_bounds(rule)[1] / n == pytest.approx(r.per_probe_cap_usd)


def test_payment_infeasible_when_reservation_exceeds_cap():
    with pytest.raises(InputError):
        payment_constants("brier", 10, per_probe_cap_usd=0.01, reservation_usd=0.2)


def test_binary_reduction_brier_is_accuracy():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 200)
    rep = np.where(rng.random((5, 200)) < np.array([[0.6], [0.7], [0.9], [0.8], [0.5]]), y, 1 - y).astype(float)
    r = run_mechanism(rep, y, "brier")
    acc = binary_accept_rate(rep, y)
    assert r.binary_reports
    np.testing.assert_allclose(r.mean_scores, acc - 1.0)
    assert r.selected == int(np.argmax(acc))
    assert run_mechanism(rep, y, "quadratic").selected == r.selected


def test_as_dict_has_the_contract_keys():
    d = run_mechanism([[0.9, 0.1], [0.5, 0.5]], [1, 0]).as_dict()
    for key in ("mean_scores", "payments_usd", "a_usd", "b_usd", "selected"):
        assert key in d
    assert d["selected"] == 0


def test_gap_pct_hand():
    assert float(gap_pct(np.array([0.9, 0.6, 0.75]), 2)) == pytest.approx(100 * (0.9 / 0.75 - 1))


def test_sample_size_reproduces_paper_at_c_1():
    assert int(sample_size(16, 0.05)) == 1110  # 16: ln 16 / 0.05² = 1109.04 → paper "≈1100"
    assert int(sample_size(32, 0.05)) == 1387  # paper "≈1400"
    assert float(implied_constant(1100, 16, 0.05)) == pytest.approx(0.996, abs=1e-3)
    with pytest.raises(InputError):
        sample_size(1, 0.05)


def test_posted_price_unravels_to_the_worst_types():
    """Theorem 1: with single-crossing costs the pool that still sells at the equilibrium
    price is a lower set and shrinks to the bottom of the quality order."""
    alpha = np.linspace(0.6, 0.95, 16)
    kappa = cost_of_quality_usd(alpha)
    part, path = posted_price_equilibrium(alpha, kappa, value_markup=1.5)
    assert part[0] and not part[-1]
    # lower set: no participant above a non-participant
    idx = np.flatnonzero(part)
    assert np.array_equal(idx, np.arange(idx.size))
    assert idx.size <= 3
    assert np.all(np.diff(path) <= 1e-12)  # the price only falls
    # Without single crossing (equal costs) nobody is screened out.
    part_flat, _ = posted_price_equilibrium(alpha, np.ones_like(alpha), value_markup=1.5)
    assert part_flat.all()


def test_cost_correct_translation_matches_gap():
    from costcorrect.verification.mechanism import cost_correct_usd

    c = cost_correct_usd(np.array([0.8, 0.5]), 17.5, 10, 3)
    assert c[0] == pytest.approx(17.5 * 10 * 4 / 0.8)
    assert 100 * (c[1] / c[0] - 1) == pytest.approx(float(gap_pct(np.array([0.8, 0.5]), 1)))
