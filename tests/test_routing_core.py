"""Paper 05 routing premium: closed form, exact premium vs Theorem 1, specialisations (issue 7)."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from costcorrect.allocation import routing as rt
from costcorrect.allocation import routing_special as sp
from costcorrect.allocation.cost_correct import cost_correct_usd_per_mtok
from costcorrect.allocation.routing_eval import _oracle_pick, evaluate_router

unit = st.floats(0.01, 1.0)


# ----------------------------------------------------------------------------- closed form
def test_premium_and_threshold_by_hand():
    assert rt.routing_premium(0.8, 0.5, 0.1) == pytest.approx(0.3)
    assert bool(rt.routing_pays(0.8, 0.5, 0.1)) and not bool(rt.routing_pays(0.1, 0.5, 0.1))
    # Δ = |C''| Var / (2C): |−6| * 0.25 / (2 * 3) = 0.25
    assert rt.heterogeneity_delta(-6.0, 0.25, 3.0) == pytest.approx(0.25)


@settings(max_examples=60, deadline=None)
@given(k=unit, d=st.floats(0.05, 2.0), g=st.floats(0.001, 0.5))
def test_elasticities_match_finite_differences(k, d, g):
    pi = float(rt.routing_premium(k, d, g))
    if abs(pi) < 1e-3:
        return  # divergent at the threshold: finite differences are meaningless there
    e = rt.premium_elasticities(k, d, g)
    h = 1e-6

    def dlog(f_hi, f_lo):
        return (np.log(abs(f_hi)) - np.log(abs(f_lo))) / (2 * h)

    num_k = dlog(rt.routing_premium(k * np.exp(h), d, g), rt.routing_premium(k * np.exp(-h), d, g))
    num_d = dlog(rt.routing_premium(k, d * np.exp(h), g), rt.routing_premium(k, d * np.exp(-h), g))
    num_g = dlog(rt.routing_premium(k, d, g * np.exp(h)), rt.routing_premium(k, d, g * np.exp(-h)))
    assert float(e["kappa"]) == pytest.approx(num_k, rel=1e-4, abs=1e-6)
    assert float(e["delta"]) == pytest.approx(num_d, rel=1e-4, abs=1e-6)
    assert float(e["gamma"]) == pytest.approx(num_g, rel=1e-4, abs=1e-6)
    assert float(e["kappa"] + e["gamma"]) == pytest.approx(1.0)  # eq. 9 identity


def test_elasticities_diverge_at_threshold():
    e = rt.premium_elasticities(0.5, 0.2, 0.1 - 1e-9)
    assert abs(float(e["kappa"])) > 1e6


def test_composition_eq10_and_cost_correct():
    assert float(rt.composed_cost_usd_per_mtok(200.0, 0.25, 0.2)) == pytest.approx(200 * 0.75 * 0.8)
    assert float(rt.composed_cost_usd_per_mtok(200.0, 0.25, 0.2, inference_channel=False)) == pytest.approx(160)
    base = float(cost_correct_usd_per_mtok(2.0, 10, 1, 0.5))  # 2*10*2/0.5 = 80
    assert float(rt.routed_cost_correct_usd_per_mtok(2.0, 10, 1, 0.5, 0.1)) == pytest.approx(0.9 * base)


# ----------------------------------------------------------------------------- exact vs second order
COST = rt.synthetic_cost_fn()
U = np.random.default_rng(0).uniform(-1, 1, 40)


def test_second_order_matches_exact_cubically():
    res = [rt.exact_premium(COST, 0.5 + eps * U) for eps in (0.2, 0.1, 0.05)]
    prem = [r["premium_exact"] for r in res]
    resid = [abs(r["residual"]) for r in res]
    # premium is second order in the spread (ratio 4 per halving) ...
    assert prem[0] / prem[1] == pytest.approx(4, rel=0.1) and prem[1] / prem[2] == pytest.approx(4, rel=0.05)
    # ... and the residual at least third order (ratio >= 8 per halving, up to noise)
    assert resid[0] / resid[1] > 7 and resid[1] / resid[2] > 7
    assert all(r["kappa"] == pytest.approx(1.0) for r in res)  # oracle groups


def test_noisy_classifier_kappa_and_uninformative():
    rng = np.random.default_rng(1)
    d = 0.5 + 0.1 * rng.uniform(-1, 1, 60)
    noisy = d + rng.normal(0, 0.05, d.size)
    bins = np.digitize(noisy, np.quantile(noisy, [0.25, 0.5, 0.75]))
    r = rt.exact_premium(COST, d, groups=bins, gamma=0.0)
    assert 0.3 < r["kappa"] < 0.99
    assert r["premium_exact"] == pytest.approx(r["premium_second_order"], rel=0.1)
    one = rt.exact_premium(COST, d, groups=np.zeros(d.size), gamma=0.02)
    assert one["kappa"] == pytest.approx(0.0, abs=1e-12)
    assert one["premium_exact"] == pytest.approx(-0.02, abs=1e-8)


def test_expansion_breaks_at_large_spread():
    """Cascade-like wide spreads: the third-order residual is no longer small (Cor. 2)."""
    small = rt.exact_premium(COST, 0.5 + 0.05 * U)
    wide = rt.exact_premium(COST, 0.5 + 0.5 * U)
    assert abs(small["residual"]) / small["premium_exact"] < 0.01
    assert abs(wide["residual"]) / wide["premium_exact"] > 0.05


def test_bootstrap_interval_brackets_point():
    d = 0.5 + 0.2 * U[:20]
    b = rt.bootstrap_premium(COST, d, n_boot=30, seed=3)
    for k in ("kappa", "delta", "premium_exact"):
        lo, hi = b["interval"][k]
        assert lo <= hi
    lo, hi = b["interval"]["delta"]
    assert lo <= b["point"]["delta"] <= hi


# ----------------------------------------------------------------------------- speculative decoding
def test_leviathan_closed_form_matches_simulation():
    rng = np.random.default_rng(0)
    k, a = 4, 0.7
    acc = rng.uniform(size=(200_000, k)) < a
    first_reject = np.where(acc.all(axis=1), k, np.argmin(acc, axis=1))
    tokens = first_reject + 1  # accepted drafts plus the target's own token
    assert float(sp.speculative_expected_tokens(k, a)) == pytest.approx(tokens.mean(), rel=5e-3)


def test_leviathan_special_cases():
    assert float(sp.speculative_expected_speedup(1, 0.5, 0.0)) == pytest.approx(1.5)
    assert float(sp.speculative_expected_speedup(1, 0.5, 0.5)) == pytest.approx(1.0)  # (1+a)/(1+c)
    assert float(sp.speculative_expected_tokens(5, 1.0)) == pytest.approx(6.0)
    assert float(sp.speculative_expected_tokens(5, 0.0)) == pytest.approx(1.0)
    assert float(sp.speculative_expected_tokens(3, 1 - 1e-12)) == pytest.approx(4.0)


# ----------------------------------------------------------------------------- other specialisations
def test_cascade_break_even():
    ratio = float(sp.cascade_break_even_accept_ratio(1.0, 4.0))
    ch, _ = sp.cascade_tier_choice([[1.0, 4.0]] * 2, [[0.2, 0.2 * ratio * 1.01], [0.2, 0.2 * ratio * 0.99]])
    assert ch.tolist() == [1, 0]


def test_rollout_count_brute_force():
    for p, h in [(0.1, 3.0), (0.5, 0.5), (0.02, 10.0)]:
        costs = [(h + n) / (1 - (1 - p) ** n) for n in range(1, 65)]
        assert int(sp.rollout_count_per_query(p, h)) == int(np.argmin(costs)) + 1


def test_breadth_roundtrip():
    d = np.linspace(0, 1, 5)
    k0, b = sp.fit_breadth_slope(d, sp.exploration_breadth(d, 3.0, 1.7))
    assert (k0, b) == pytest.approx((3.0, 1.7))


def test_early_exit_never_continues_when_cost_per_correct_rises():
    cost = np.array([1.0, 2.0, 3.0])
    assert sp.early_exit_layer(cost, [[0.3, 0.9, 0.95]]).tolist() == [1]  # 3.33, 2.22, 3.16
    assert sp.early_exit_layer(cost, [[0.3, 0.5, 0.99]]).tolist() == [0]  # 3.33, 4.0: stop at once


# ----------------------------------------------------------------------------- router evaluation
@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000))
def test_oracle_is_exact_against_brute_force(seed):
    rng = np.random.default_rng(seed)
    n = 7
    cost = rng.uniform(0.1, 2.0, (n, 2))
    corr = rng.uniform(size=(n, 2)) < 0.6
    corr[0, 0] = True
    best = np.inf
    for pick in itertools.product(range(2), repeat=n):
        c = cost[np.arange(n), pick].sum()
        k = corr[np.arange(n), pick].sum()
        if k:
            best = min(best, c / k)
    p = _oracle_pick(cost, corr)
    got = cost[np.arange(n), p].sum() / corr[np.arange(n), p].sum()
    assert got == pytest.approx(best)


def test_evaluate_router_hand_case():
    # easy queries (d=0): small tier right; hard (d=1): only large right. Small $1, large $10.
    cost = np.array([[1.0, 10.0]] * 4)
    corr = np.array([[1, 1], [1, 1], [0, 1], [0, 1]], dtype=bool)
    res = evaluate_router(cost, corr, difficulty=[0, 0, 1, 1], tiers=["s", "l"])
    assert res["best_fixed_tier"] == "s"  # 4/2 = 2 $/correct vs 40/4 = 10
    assert res["router"]["cost_per_correct_usd"] == pytest.approx(2.0)
    assert res["oracle"]["cost_per_correct_usd"] == pytest.approx(2.0)
    # make hard queries half as expensive on the large tier: routing them now pays
    cost[2:, 1] = 1.5
    res = evaluate_router(cost, corr, difficulty=[0, 0, 1, 1], tiers=["s", "l"])
    assert res["router"]["cost_per_correct_usd"] == pytest.approx(5.0 / 4)
    assert res["router"]["premium"] == pytest.approx(1 - 1.25 / 2.0)
    assert res["oracle"]["premium"] >= res["router"]["premium"] - 1e-12
