"""Paper 04 threshold, note 10 harvest line, note 11 energy, note 13 curriculum."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from costcorrect.allocation import curriculum as cu
from costcorrect.allocation import energy as en
from costcorrect.allocation import harvest as hv
from costcorrect.allocation import threshold as th


def test_paper_numbers():
    assert th.secant_elasticity(0.500, 0.533, 8, 64) == pytest.approx(math.log(0.533 / 0.5) / math.log(8))
    lo, hi = sorted(th.training_elasticity(0.392, 0.798, [0.01, 0.10]))
    assert lo == pytest.approx(math.log(0.798 / 0.392) / math.log(1.10)) and hi == pytest.approx(71.44, abs=5e-3)
    assert th.run_case("rstar-math")["inference_dominates"] is False
    r1 = th.run_case("deepseek-r1")
    assert r1["inference_dominates"] is False
    assert r1["eta_rho_needed"][0] == pytest.approx(0.5 + lo, rel=1e-9)


@settings(max_examples=80, deadline=None)
@given(st.floats(-1, 3), st.floats(0.01, 50), st.floats(0.5, 1e4), st.floats(0.01, 1e3), st.floats(0.01, 1e3))
def test_threshold_inequality_equals_per_dollar_comparison(eta_rho, eta_t, rho, t_cost, i_cost):
    r = th.threshold(eta_rho, eta_t, rho, t_cost, i_cost)
    # A.1 written out by hand
    lhs = (eta_rho - rho / (1 + rho)) / eta_t
    rhs = i_cost / t_cost
    assert r["lhs"] == pytest.approx(lhs) and r["rhs"] == pytest.approx(rhs)
    if abs(lhs - rhs) > 1e-9 * max(1, abs(rhs)):
        assert r["inference_dominates"] == (lhs > rhs)
    # the ρ >> 1 form is never more favourable to inference than the general form
    assert r["lhs_rho_gg_1"] <= r["lhs"] + 1e-12


def test_direct_marginal_cost_check():
    """Spend one more dollar on each channel in C = (1+ρ)/α(T, ρ) with constant elasticities."""
    eta_t, eta_rho, c_t, c_i, T, rho = 0.2, 0.8, 1.0, 0.5, 10.0, 2.0

    def log_c(T_, rho_):
        return math.log(1 + rho_) - eta_t * math.log(T_) - eta_rho * math.log(rho_)

    d = 1e-6
    g_t = -(log_c(T + d / c_t, rho) - log_c(T, rho)) / d
    g_r = -(log_c(T, rho + d / c_i) - log_c(T, rho)) / d
    r = th.threshold(eta_rho, eta_t, rho, T * c_t, rho * c_i)
    assert r["g_training_per_usd"] == pytest.approx(g_t, rel=1e-4)
    assert r["g_inference_per_usd"] == pytest.approx(g_r, rel=1e-4)


def test_plane_boundary_is_where_channels_tie():
    plane = th.threshold_plane(np.geomspace(0.1, 100, 30), np.array([1.0, 2.0, 4.0]), 0.9, 0.3, 1.0, 0.2)
    for rho, bt in zip(plane["rho"], plane["boundary_t"], strict=True):
        if np.isfinite(bt):
            r = th.threshold(0.9, 0.3, rho, bt * 1.0, rho * 0.2)
            assert r["g_inference_per_usd"] == pytest.approx(r["g_training_per_usd"], rel=1e-9)
    assert plane["inference_dominates"].shape == (3, 30)


def test_corollaries():
    assert th.corollary1_lhs(0.031, 64, 1e-9) < -1e6
    assert th.corollary1_lhs(0.999, 1, 1e-9) > 1e6
    adv = th.corollary2_inference_advantage(1.0, 0.9, 1.0, 1.0, 0.1, [10, 50])
    assert adv[1] == pytest.approx(adv[0] / 5)
    mu = th.corollary3_mu(1e6, [1e6, 1e8], 10, 0.01)
    assert mu[1] == pytest.approx(mu[0] / 100)


def test_three_channels_reduce_to_two_when_prices_equal():
    kw = dict(eta_t=0.1, eta_rho=0.7, rho=2.0, t_cost_usd=1.0, base_cost_usd=0.02, rollout_tokens=1e4)
    r = hv.three_channel_threshold(**kw, dedicated_usd_per_mtok=2.0, harvested_usd_per_mtok=2.0)
    assert r["channels"]["dedicated"]["g_per_usd"] == pytest.approx(r["channels"]["harvested"]["g_per_usd"])
    # with c_roll = c_base the share is ρ/(1+ρ), i.e. paper 04's A.1
    two = th.threshold(0.7, 0.1, 2.0, 1.0, 2.0 * 0.02)
    assert r["channels"]["dedicated"]["g_per_usd"] == pytest.approx(two["g_inference_per_usd"])
    assert hv.harvested_price_usd_per_mtok(3.0, 0.1, hv.slo_risk_charge_usd_per_mtok(0.05, 2.0)) == \
        pytest.approx(0.3 + 0.1)


def test_energy_by_hand():
    # 300 W at 1,500 tok/s = 0.2 J/token = 0.2e6 J/MTok = 0.0556 kWh; x PUE 1.2 x $0.10
    assert en.decode_energy_usd_per_mtok(300, 1500, 0.10, 1.2) == pytest.approx(0.2e6 / 3.6e6 * 1.2 * 0.10)
    assert en.decode_energy_usd_per_mtok(300, 1500, 0.10, 1.2, 0.32) == pytest.approx(
        0.68 * en.decode_energy_usd_per_mtok(300, 1500, 0.10, 1.2))


def test_curriculum_by_hand_and_iso_compute():
    cand = cu.candidate_cost_usd(setter_tokens=2000, verifier_tokens=1000, solver_tokens=3000, solver_attempts=4,
                                 setter_usd_per_mtok=1.0, verifier_usd_per_mtok=2.0, solver_usd_per_mtok=1.0,
                                 accept_rate=0.25)
    assert cand == pytest.approx((2000 + 2000 + 0.25 * 4 * 3000) / 1e6)
    per = cu.cost_per_useful_problem_usd(cand, 0.25, 0.5, 0.2)
    assert per == pytest.approx(cand / (0.25 * 0.8 * 0.5))
    assert np.isinf(cu.cost_per_useful_problem_usd(cand, 0.25, 0.5, 1.0))
    iso = cu.iso_compute(10.0, {"a": 0.1, "b": 0.2})
    assert iso["problems"] == {"a": 100.0, "b": 50.0} and iso["ratio_to_best"]["b"] == 0.5
