"""Cost-correct unit (02 §4), partials and elasticities (03 §2): hand calculations and properties."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from costcorrect.allocation import cost_correct as cc

pos = st.floats(0.01, 100.0, allow_nan=False)
mult = st.floats(1.0, 200.0, allow_nan=False)
rho = st.floats(0.0, 100.0, allow_nan=False)
alpha = st.floats(0.01, 1.0, allow_nan=False)


def test_hand_calculation():
    # GPT-5.5: (5 + 30)/2 = 17.5 $/MTok; R = 30, best-of-4 (ρ̄ = 3), α = 0.6
    cpm = cc.cpm_1to1_usd_per_mtok(5.0, 30.0)
    c = cc.cost_correct_usd_per_mtok(cpm, 30, 3, 0.6)
    assert float(c) == pytest.approx(17.5 * 30 * 4 / 0.6)
    assert float(cc.cost_per_correct_answer_usd(c, 500)) == pytest.approx(17.5 * 30 * 4 / 0.6 * 500 / 1e6)


def test_zero_accept_rate_is_infinite_not_nan():
    assert np.isinf(cc.cost_correct_usd_per_mtok(1.0, 1.0, 0.0, 0.0))


@settings(max_examples=60, deadline=None)
@given(pos, mult, rho, alpha, st.floats(0.1, 10.0))
def test_linear_in_p_and_r_hyperbolic_in_alpha(p, r, rh, a, k):
    c = cc.cost_correct_usd_per_mtok(p, r, rh, a)
    assert cc.cost_correct_usd_per_mtok(k * p, r, rh, a) == pytest.approx(k * c, rel=1e-9)
    assert cc.cost_correct_usd_per_mtok(p, k * r, rh, a) == pytest.approx(k * c, rel=1e-9)
    a2 = min(1.0, a * k) if k > 1 else a * k
    assert cc.cost_correct_usd_per_mtok(p, r, rh, a2) == pytest.approx(c * a / a2, rel=1e-9)


@settings(max_examples=60, deadline=None)
@given(pos, mult, rho, st.floats(0.05, 0.95))
def test_elasticities_match_finite_differences(p, r, rh, a):
    h = 1e-6
    base = dict(cpm_1to1_usd_per_mtok=p, reasoning_multiplier=r, rollout_ratio=rh, accept_rate=a)
    eps = cc.cost_elasticities(rh)
    partials = cc.cost_correct_partials(p, r, rh, a)
    for key, name in (("p", "cpm_1to1_usd_per_mtok"), ("R", "reasoning_multiplier"), ("rho", "rollout_ratio"),
                      ("alpha", "accept_rate")):
        x = base[name]
        if x < 1e-9:
            continue
        up = dict(base, **{name: x * (1 + h)})
        dn = dict(base, **{name: x * (1 - h)})
        cu = cc.cost_correct_usd_per_mtok(**up)
        cd = cc.cost_correct_usd_per_mtok(**dn)
        fd = (np.log(cu) - np.log(cd)) / (np.log1p(h) - np.log1p(-h))
        assert float(eps[key]) == pytest.approx(fd, rel=1e-4, abs=1e-7)
        c0 = cc.cost_correct_usd_per_mtok(**base)
        assert float(partials[key]) * x == pytest.approx(float(eps[key]) * float(c0), rel=1e-9)


def test_additive_reading_and_verifier_budget_by_hand():
    assert cc.additive_change_share(0.5, 0.01) == pytest.approx(1 - 0.5 / 0.51)
    assert cc.alpha_point_vs_cpm_point(0.25) == pytest.approx((1 - 0.25 / 0.26) / 0.01)
    # α 0.3 -> 0.6 at equal rollouts: the verifier may cost up to one generator pass
    assert cc.max_verifier_cost_ratio(0.3, 0.6) == pytest.approx(1.0)


@settings(max_examples=50, deadline=None)
@given(alpha, alpha, rho, rho, st.floats(0.0, 5.0))
def test_verifier_budget_is_the_break_even(a0, a1, r0, r1, frac):
    k_max = float(cc.max_verifier_cost_ratio(a0, a1, r0, r1))
    c0 = cc.cost_correct_usd_per_mtok(1.0, 1.0, r0, a0)
    k = frac * max(k_max, 0.0)
    c1 = (1 + k) * cc.cost_correct_usd_per_mtok(1.0, 1.0, r1, a1)
    if k_max > 0 and frac < 0.999:
        assert c1 < c0 * (1 + 1e-12)
    if k_max > 0:
        assert (1 + k_max) * cc.cost_correct_usd_per_mtok(1.0, 1.0, r1, a1) == pytest.approx(float(c0), rel=1e-9)


def test_tornado_orders_by_swing_and_alpha_dominates_at_low_alpha():
    base = {"cpm_1to1_usd_per_mtok": 10.0, "reasoning_multiplier": 20.0, "rollout_ratio": 3.0, "accept_rate": 0.3}
    rows = cc.tornado_rows(base, {"cpm_1to1_usd_per_mtok": (9, 11), "accept_rate": (0.2, 0.4),
                                  "rollout_ratio": (2, 4)})
    assert rows[0]["lever"] == "accept_rate"
    assert rows[0]["cost_low_usd_per_mtok"] == pytest.approx(10 * 20 * 4 / 0.2)
    assert all(a["swing_usd_per_mtok"] >= b["swing_usd_per_mtok"] for a, b in itertools.pairwise(rows))
