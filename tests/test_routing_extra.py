"""Issue 7 completion: α table, third-order term, cascade breakdown, β from κΔ, held-out evaluation."""

import itertools
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from costcorrect.allocation import routing as rt
from costcorrect.allocation import routing_charts as rc
from costcorrect.allocation import routing_special as sp
from costcorrect.allocation.routing_eval import _threshold_search, evaluate_router
from costcorrect.allocation.routing_table import table1_rows
from costcorrect.cli import app
from costcorrect.errors import InputError

COST = rt.synthetic_cost_fn()
U = np.random.default_rng(0).uniform(-1, 1, 40)
DATA = Path(__file__).resolve().parents[1] / "src" / "costcorrect" / "catalog" / "data"
runner = CliRunner()


# ----------------------------------------------------------------------------- third order
@pytest.mark.parametrize("noisy", [False, True])
def test_third_order_leaves_fourth_order_residual(noisy):
    rng = np.random.default_rng(1)
    groups = None
    if noisy:
        score = U + rng.normal(0, 0.5, U.size)
        groups = np.digitize(score, np.quantile(score, [0.25, 0.5, 0.75]))
    res = [rt.exact_premium(COST, 0.5 + e * U, groups=groups) for e in (0.2, 0.1, 0.05)]
    r3 = [abs(r["residual_after_third"]) for r in res]
    r2 = [abs(r["residual"]) for r in res]
    # exact − (2nd + 3rd) shrinks at fourth order: ratio 16 per halving (>= 12 allowing 5th-order terms)
    assert r3[0] / r3[1] > 12 and r3[1] / r3[2] > 12
    assert all(a < b for a, b in zip(r3, r2, strict=True))  # the third-order term helps


def test_third_order_oracle_closed_form_by_hand():
    # C = (c − d)²/2 + 1 + t·(c − d)³/6 ... use a cost with known C''' and constant curvature:
    # C(c, d) = 1 + ½(c − d)² + (k/6)(c − d)³ has c*(d) ≈ d, h(d) = k(c̄ − d) and C''' = k.
    k = 0.3

    def cost(c, d):
        x = np.asarray(c, float) - np.asarray(d, float)
        return 1.0 + 0.5 * x**2 + k / 6 * x**3

    d = np.array([-0.1, 0.0, 0.2])
    cb = 0.05
    out = rt.third_order_correction(cost, d, d, cb)  # oracle: u = d − c̄
    u = d - cb
    h = k * (cb - d) - k * (cb - d.mean())
    expected = (0.5 * np.mean(h * u**2) + k / 3 * np.mean(u**3)) / float(cost(cb, d.mean()))
    assert out["pi3"] == pytest.approx(expected, rel=1e-6)


def test_vectorised_matches_loop():
    d = 0.5 + 0.3 * U
    groups = (U > 0).astype(int)
    a = rt.exact_premium(COST, d, groups=groups)
    b = rt.exact_premium(COST, d, groups=groups, method="loop")
    for key in ("c_bar_star", "premium_exact", "kappa", "delta"):
        assert a[key] == pytest.approx(b[key], rel=1e-6, abs=1e-12)
    np.testing.assert_allclose(a["c_star"], b["c_star"], rtol=1e-6)


# ----------------------------------------------------------------------------- cascade (Cor. 2)
def test_cascade_breaks_the_local_expansion():
    """Continuous Π ∝ ε² (Theorem 1), a two-tier cascade's Π ∝ ε: the expansion cannot describe it."""
    cont, cas = [], []
    for e in (0.2, 0.1, 0.05):
        r = rt.cascade_premium(COST, 0.5 + e * U, [1.0, 3.0])
        cont.append(r["premium_continuous_exact"])
        cas.append(r["premium_cascade_exact"])
    assert cont[0] / cont[1] == pytest.approx(4, rel=0.1)
    assert 1.5 < cas[0] / cas[1] < 3 and 1.5 < cas[1] / cas[2] < 3.5
    assert cas[2] > 5 * r["premium_second_order"]
    # a tier pair bracketing nothing useful: one tier wins everywhere, no premium at all
    flat = rt.cascade_premium(COST, 0.5 + 0.2 * U, [2.0, 40.0])
    assert flat["premium_cascade_exact"] == pytest.approx(0.0, abs=1e-12)
    assert flat["premium_second_order"] > 0


# ----------------------------------------------------------------------------- α table
@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.floats(0, 1), min_size=4, max_size=4), min_size=1, max_size=4))
def test_table_interpolation_monotone_and_exact_at_nodes(rows):
    a = np.maximum.accumulate(np.array(rows), axis=1)
    c = np.array([0.5, 1.0, 2.0, 8.0])
    e = np.linspace(0, 1, a.shape[0] + 1)
    alpha = rt.accept_rate_table_fn(c, e, a)
    mids = (e[:-1] + e[1:]) / 2
    grid = np.linspace(0, 10, 300)
    for b, m in enumerate(mids):
        vals = alpha(grid, m)
        assert np.all(np.diff(vals) >= -1e-12) and vals.min() >= 0 and vals.max() <= 1
        np.testing.assert_allclose(alpha(c, m), a[b], atol=1e-12)


def test_table_bad_input_and_cummax():
    c, e = [1.0, 2.0, 4.0], [0.0, 1.0]
    with pytest.raises(InputError):
        rt.accept_rate_table_fn(c, e, [[0.5, 0.4, 0.6]])
    alpha = rt.accept_rate_table_fn(c, e, [[0.5, 0.4, 0.6]], monotone="cummax")
    assert float(alpha(2.0, 0.5)) == pytest.approx(0.5)
    with pytest.raises(InputError):
        rt.accept_rate_table_fn(c, e, [[0.5, 0.7, 1.2]])
    text = "difficulty_low,difficulty_high,compute,accept_rate,source,as_of\n0,1,1,0.5,x,2026\n"
    with pytest.raises(InputError):  # only one compute level
        rt.parse_accept_rate_table(text)
    with pytest.raises(InputError):  # missing source
        rt.parse_accept_rate_table(text.replace(",x,", ",,") + "0,1,2,0.6,x,2026\n")


def test_shipped_table_tracks_parametric_family():
    tab = rt.parse_accept_rate_table((DATA / "routing_accept_rate_example.csv").read_text())
    lv = tab["compute_levels"]
    for m in (0.05, 0.55, 0.95):
        s = np.exp(1.5 * m)  # the table's own generator at the bin midpoint
        np.testing.assert_allclose(tab["alpha"](lv, m), -np.expm1(-lv / s), atol=1e-6)
    cost = rt.cost_fn_from_accept_rate(tab["alpha"])
    d = np.array([0.05, 0.55, 0.95])
    r = rt.exact_premium(cost, d, c_bounds=(lv[0], lv[-1]))
    ref = rt.exact_premium(COST, d)
    assert r["premium_exact"] == pytest.approx(ref["premium_exact"], rel=0.25)  # PCHIP between 2x-spaced nodes


# ----------------------------------------------------------------------------- β from κΔ (Cor. 4)
def test_beta_from_kappa_delta_recovers_log_slope():
    errs = []
    for e in (0.2, 0.1, 0.05):
        d = 0.5 + e * U
        r = rt.exact_premium(COST, d)
        beta = float(sp.breadth_slope_from_premium(r["kappa"] * r["delta"], r["curvature"], r["c_bar_star"],
                                                   r["cost_at_optimum_usd_per_mtok"], d.var()))
        _, fit = sp.fit_breadth_slope(d, r["c_star"])
        errs.append(abs(beta - fit))
    assert errs[0] > errs[1] > errs[2] and errs[2] / abs(fit) < 0.01


# ----------------------------------------------------------------------------- router evaluation
@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 3))
def test_vectorised_threshold_search_matches_brute_force(seed, k):
    rng = np.random.default_rng(seed)
    n = 12
    cost = rng.uniform(0.1, 2.0, (n, k))
    corr = rng.uniform(size=(n, k)) < 0.6
    d = rng.uniform(size=n)
    grid = np.unique(np.quantile(d, np.linspace(0, 1, 5)))
    _th, tc, tk = _threshold_search(cost, corr, d, grid)
    ext = np.concatenate([[-np.inf], grid, [np.inf]])
    for j, combo in enumerate(itertools.combinations_with_replacement(range(ext.size), k - 1)):
        idx = np.searchsorted(ext[list(combo)], d, side="right")
        assert tc[j] == pytest.approx(cost[np.arange(n), idx].sum())
        assert tk[j] == corr[np.arange(n), idx].sum()


def _pays_data(n=400, seed=5):
    rng = np.random.default_rng(seed)
    d = rng.uniform(size=n)
    corr = np.stack([rng.uniform(size=n) < 0.95 - 0.9 * d, rng.uniform(size=n) < 0.97], axis=1)
    cost = np.stack([np.full(n, 1.0), np.full(n, 1.5)], axis=1)
    return cost, corr, d + rng.normal(0, 0.05, n)


def test_evaluate_holdout_bootstrap_and_gamma():
    cost, corr, score = _pays_data()
    rcost = np.full(cost.shape[0], 0.01)
    res = evaluate_router(cost, corr, score, ["s", "l"], router_cost_usd=rcost, n_boot=40, seed=1)
    est = res["estimates"]
    assert est["gamma"] == pytest.approx(0.01 * 400 / cost[:, res["fixed"].index(
        next(f for f in res["fixed"] if f["tier"] == res["best_fixed_tier"]))].sum())
    assert res["holdout"]["n_train"] + res["holdout"]["n_test"] == 400
    assert res["router"]["premium"] > 0.03 and res["holdout"]["premium"] > 0.02  # routing pays here
    assert res["oracle"]["premium"] >= res["router"]["premium"]
    for key in ("kappa", "delta", "premium_holdout"):
        lo, hi = est["intervals"][key]
        assert lo <= hi
    assert 0 < est["kappa"] <= 1


def test_evaluate_cli_bootstrap_chart_and_bad_input(tmp_path):
    ex = str(DATA / "routing_example_queries.csv")
    r = runner.invoke(app, ["routing", "evaluate", ex, "--boot", "20", "--chart", str(tmp_path / "cq"), "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert set(out["estimates"]["intervals"]) >= {"kappa", "delta", "gamma", "premium_holdout"}
    assert (tmp_path / "cq.png").stat().st_size > 1000
    bad = runner.invoke(app, ["routing", "evaluate", ex, "--ci", "1.5"])
    assert bad.exit_code == 2 and len(bad.stderr.strip().splitlines()) == 1


def test_expansion_cli(tmp_path):
    r = runner.invoke(app, ["routing", "expansion", "--spreads", "0.2,0.1", "--json"])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)["rows"]
    assert abs(rows[1]["residual_after_third"]) < abs(rows[1]["residual"])
    p = tmp_path / "t.csv"
    p.write_text("difficulty_low,difficulty_high,compute,accept_rate,source,as_of\n"
                 "0,1,1,0.6,x,2026\n0,1,2,0.5,x,2026\n")
    bad = runner.invoke(app, ["routing", "expansion", "--table", str(p)])
    assert bad.exit_code == 2 and len(bad.stderr.strip().splitlines()) == 1


def test_charts_have_unit_titles():
    rows = [dict(spread=e, **rt.exact_premium(COST, 0.5 + e * U[:10])) for e in (0.2, 0.1)]
    res = evaluate_router(*_pays_data(60)[:2], _pays_data(60)[2])
    for ch in (rc.chart_premium_vs_kappa(), rc.chart_elasticity_divergence(), rc.chart_expansion_orders(rows),
               rc.chart_table1(table1_rows()), rc.chart_cost_quality(res)):
        spec = json.dumps(ch.to_dict())
        assert "[" in spec and "title" in spec
