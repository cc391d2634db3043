"""Fleet MILP (issue 12): hand-checked optima, brute force, breakdown identities, two-stage gap."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from costcorrect.errors import InputError
from costcorrect.fleet import (
    build_instance,
    fleet_from_dict,
    plan,
    savings_breakdown,
    scarcity,
    shapley3,
    solve,
    solve_program,
    spot_availability,
)
from costcorrect.fleet.milp import select_configs

GPUS = ("h100-sxm", "a100-sxm-80gb")


def _row(model, gpu, config, g, cap, default=False):
    return {"model": model, "gpu": gpu, "config": config, "tensor_parallel": g, "gpus_per_replica": g,
            "capacity_rate_per_s": cap, "default": default}


def _fleet(models, offers, rows):
    return build_instance(fleet_from_dict({"models": models, "offers": offers,
                                           "capacity": {"source": "rows", "rows": rows}}))


def _offer(name, gpu, price, n=1, avail=None, **kw):
    o = {"name": name, "gpu": gpu, "price_usd_per_gpu_hour": price, "gpus_per_node": n, **kw}
    if avail is not None:
        o["available_gpus"] = avail
    return o


# ----------------------------------------------------------------------------- by hand
def test_cheaper_per_request_offer_wins_and_cap_forces_the_other():
    # A: $2/GPU-h, 3 req/s per GPU -> 4 replicas = $8/h; B: $5/GPU-h, 10 req/s -> 1 replica = $5/h.
    models = [{"name": "m", "demand_rate_per_s": 10}]
    rows = [_row("m", "h100-sxm", "c", 1, 3.0), _row("m", "a100-sxm-80gb", "c", 1, 10.0)]
    inst = _fleet(models, [_offer("A", "h100-sxm", 2.0), _offer("B", "a100-sxm-80gb", 5.0)], rows)
    assert solve(inst).cost_usd_per_hour == pytest.approx(5.0)
    capped = _fleet(models, [_offer("A", "h100-sxm", 2.0), _offer("B", "a100-sxm-80gb", 5.0, avail=0)], rows)
    sol = solve(capped)
    assert sol.cost_usd_per_hour == pytest.approx(8.0)
    assert sol.replicas.tolist() == [4, 0]


def test_co_location_shares_nodes():
    # Two models each need one 1-GPU replica; nodes are 8 GPUs at $1/GPU-h.
    models = [{"name": "a", "demand_rate_per_s": 1}, {"name": "b", "demand_rate_per_s": 1}]
    rows = [_row("a", "h100-sxm", "c", 1, 1.0), _row("b", "h100-sxm", "c", 1, 1.0)]
    inst = _fleet(models, [_offer("H", "h100-sxm", 1.0, n=8)], rows)
    assert solve(inst, colocation=True).cost_usd_per_hour == pytest.approx(8.0)
    assert solve(inst, colocation=False).cost_usd_per_hour == pytest.approx(16.0)


def test_cost_correct_routes_tasks_to_the_cheaper_correct_answer():
    # Task t: D = 2 tasks/s. m1: α 0.5, 1 req/s per $1 GPU -> $2 per (correct/s)-h;
    # m2: α 1.0, 0.4 req/s per $1 GPU -> $2.5. All to m1: x1 = 4 req/s -> 4 GPUs = $4/h.
    models = [{"name": "m1", "demand_rate_per_s": 1, "accept_rate": 0.5, "task": "t"},
              {"name": "m2", "demand_rate_per_s": 1, "accept_rate": 1.0, "task": "t"}]
    rows = [_row("m1", "h100-sxm", "c", 1, 1.0), _row("m2", "h100-sxm", "c", 1, 0.4)]
    inst = _fleet(models, [_offer("H", "h100-sxm", 1.0)], rows)
    res = plan(inst, objective="cost-correct", breakdown=False)
    assert res["total_cost_usd_per_hour"] == pytest.approx(4.0)
    assert res["models"][0]["routed_rate_per_s"] == pytest.approx(4.0, rel=1e-6)
    assert res["cost_per_correct_answer_usd"] == pytest.approx(4.0 / 3600 / 2.0, rel=1e-6)
    # Cost objective serves each model's own demand: m1 1 GPU + m2 ceil(1/0.4) = 3 GPUs.
    cost = plan(inst, objective="cost", breakdown=False)
    assert cost["total_cost_usd_per_hour"] == pytest.approx(4.0)
    assert cost["correct_answers_per_s"] == pytest.approx(1.5)


def test_spot_derate_and_expected_cost():
    # r = 0.5/h, 3600 s down per interruption -> A = 1/(1 + 0.5) = 2/3: 3 req/s becomes 2.
    assert float(spot_availability(0.5, 3600.0)) == pytest.approx(2 / 3)
    models = [{"name": "m", "demand_rate_per_s": 4}]
    inst = _fleet(models, [_offer("S", "h100-sxm", 1.0, tier="spot", interruption_rate_per_hour=0.5,
                                  recovery_s=3600, interruption_cost_usd=2.0)],
                  [_row("m", "h100-sxm", "c", 1, 3.0)])
    sol = solve(inst)
    assert sol.replicas.tolist() == [2]  # 4 req/s / 2 req/s
    # 2 nodes x ($1 + 0.5/h x $2) = $4/h, of which $2/h is the expected interruption cost.
    assert sol.cost_usd_per_hour == pytest.approx(4.0)
    assert sol.spot_cost_usd_per_hour() == pytest.approx(2.0)


def test_reserved_commitment_is_paid_even_if_unused():
    models = [{"name": "m", "demand_rate_per_s": 1}]
    rows = [_row("m", "h100-sxm", "c", 1, 1.0), _row("m", "a100-sxm-80gb", "c", 1, 1.0)]
    offers = [_offer("R", "h100-sxm", 3.0, n=1, avail=4, tier="reserved", committed_gpus=2),
              _offer("D", "a100-sxm-80gb", 1.0)]
    for co in (True, False):
        sol = solve(_fleet(models, offers, rows), colocation=co)
        assert sol.cost_usd_per_hour == pytest.approx(6.0)  # the 2 committed GPUs serve the demand


# ----------------------------------------------------------------------------- infeasibility
def test_infeasible_names_model_and_binding_offer():
    models = [{"name": "big", "demand_rate_per_s": 50}, {"name": "small", "demand_rate_per_s": 1}]
    rows = [_row("big", "h100-sxm", "c", 1, 1.0), _row("small", "h100-sxm", "c", 1, 1.0)]
    inst = _fleet(models, [_offer("H", "h100-sxm", 1.0, n=8, avail=16)], rows)
    with pytest.raises(InputError) as exc:
        plan(inst)
    msg = str(exc.value)
    assert "models[big]" in msg and "H (available_gpus=16)" in msg and "<= 16 req/s" in msg
    assert "to itself" in msg


def test_infeasible_together_but_not_alone():
    models = [{"name": "a", "demand_rate_per_s": 10}, {"name": "b", "demand_rate_per_s": 10}]
    rows = [_row("a", "h100-sxm", "c", 1, 1.0), _row("b", "h100-sxm", "c", 1, 1.0)]
    inst = _fleet(models, [_offer("H", "h100-sxm", 1.0, n=8, avail=16)], rows)
    with pytest.raises(InputError, match=r"together with the other models.*H \(available_gpus=16\)"):
        plan(inst)


def test_model_without_capacity_rows_is_named():
    models = [{"name": "a", "demand_rate_per_s": 1}, {"name": "orphan", "demand_rate_per_s": 1, "slo_tier": "batch"}]
    inst = _fleet(models, [_offer("H", "h100-sxm", 1.0)], [_row("a", "h100-sxm", "c", 1, 1.0)])
    with pytest.raises(InputError, match=r"orphan.*batch"):
        plan(inst)


def test_cost_correct_needs_accept_rates():
    inst = _fleet([{"name": "a", "demand_rate_per_s": 1}], [_offer("H", "h100-sxm", 1.0)],
                  [_row("a", "h100-sxm", "c", 1, 1.0)])
    with pytest.raises(InputError, match="accept_rate"):
        plan(inst, objective="cost-correct")


# ----------------------------------------------------------------------------- brute force
def _brute_force(inst, colocation=True) -> float:
    """Enumerate every replica vector up to each option's standalone need; exact optimum."""
    ub = np.ceil(inst.demand_rate_per_s[inst.opt_model] / inst.opt_capacity - 1e-12).astype(int)
    grid = np.array(list(itertools.product(*[range(u + 1) for u in ub])), dtype=float)
    served = np.zeros((grid.shape[0], inst.num_models))
    for k in range(inst.num_options):
        served[:, inst.opt_model[k]] += grid[:, k] * inst.opt_capacity[k]
    ok = np.all(served >= inst.demand_rate_per_s * (1 - 1e-9), axis=1)
    cost = np.zeros(grid.shape[0])
    used_nodes = np.zeros((grid.shape[0], inst.num_offers))
    groups = [(None, o) for o in range(inst.num_offers)] if colocation else \
        [(i, o) for i in range(inst.num_models) for o in range(inst.num_offers)]
    for i, o in groups:
        sel = (inst.opt_offer == o) & ((inst.opt_model == i) if i is not None else True)
        gpus = grid[:, sel] @ inst.opt_gpus[sel]
        nodes = np.ceil(gpus / inst.gpus_per_node[o] - 1e-12)
        used_nodes[:, o] += nodes
        cost += nodes * inst.node_price_usd_per_hour[o]
    ok &= np.all(used_nodes <= inst.max_nodes, axis=1)
    return float(cost[ok].min()) if ok.any() else math.inf


@st.composite
def tiny_fleets(draw):
    nm = draw(st.integers(1, 2))
    models = [{"name": f"m{i}", "demand_rate_per_s": draw(st.sampled_from([0.5, 1.0, 2.5, 4.0]))} for i in range(nm)]
    offers, rows = [], []
    for j, gpu in enumerate(GPUS):
        n = draw(st.sampled_from([1, 2, 4]))
        avail = draw(st.sampled_from([None, 4, 8]))
        offers.append(_offer(f"o{j}", gpu, draw(st.sampled_from([1.0, 2.5, 4.0])), n=n, avail=avail))
        for i in range(nm):
            for c in range(draw(st.integers(0, 2))):
                g = draw(st.sampled_from([1, 2]))
                cap = draw(st.sampled_from([1.5, 2.0, 3.0, 5.0])) * g
                rows.append(_row(f"m{i}", gpu, f"c{c}", g, cap))
    return models, offers, rows


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_fleets(), st.booleans())
def test_milp_matches_brute_force(fleet, colocation):
    models, offers, rows = fleet
    assume(rows)
    inst = _fleet(models, offers, rows)
    expect = _brute_force(inst, colocation)
    sol = solve_program(inst, colocation=colocation, mip_rel_gap=0.0)
    if math.isinf(expect):
        assert not sol.ok
    else:
        assert sol.ok and sol.cost_usd_per_hour == pytest.approx(expect, rel=1e-9, abs=1e-9)


# ----------------------------------------------------------------------------- breakdown
def _random_table_fleet(num_models, seed, *, caps=True):
    """A mid-size random fleet from a made-up capacity table (no serving model needed)."""
    rng = np.random.default_rng(seed)
    gpus = ["a100-sxm-80gb", "h100-sxm", "h200-sxm", "b200"]
    prices = {"a100-sxm-80gb": 2.7, "h100-sxm": 4.0, "h200-sxm": 4.5, "b200": 6.5}
    speed = {"a100-sxm-80gb": 1.0, "h100-sxm": 1.9, "h200-sxm": 2.3, "b200": 3.6}
    models = [{"name": f"m{i}", "demand_rate_per_s": float(np.round(rng.lognormal(0.5, 1.0), 2) + 0.1)}
              for i in range(num_models)]
    rows = []
    for i in range(num_models):
        size = rng.choice([1, 2, 4])
        base = rng.lognormal(0.0, 0.5)
        for gpu in gpus:
            for tp in (1, 2, 4, 8):
                if tp < size:
                    continue
                eff = 1.0 + 0.4 * rng.random() - 0.1 * np.log2(tp)  # strategies differ per model × GPU
                rows.append(_row(f"m{i}", gpu, f"tp{tp}", tp, float(base * speed[gpu] * tp * eff)))
    offers = [_offer(g, g, prices[g], n=8, avail=(int(8 * (1 + num_models // 4)) if caps and g != "h100-sxm" else None))
              for g in gpus]
    return _fleet(models, offers, rows)


def test_breakdown_sums_to_total_and_levers_never_hurt():
    inst = _random_table_fleet(6, seed=3)
    bd = savings_breakdown(inst, method="full")
    parts = [bd[f"{k}_usd_per_hour"] for k in ("hardware_mix", "co_location", "serving_strategy")]
    assert sum(parts) == pytest.approx(bd["total_saving_usd_per_hour"], abs=1e-6)
    seq = bd["sequential"]
    assert sum(seq[f"{k}_usd_per_hour"] for k in ("hardware_mix", "co_location", "serving_strategy")) == \
        pytest.approx(bd["total_saving_usd_per_hour"], abs=1e-6)
    cost = {(p["hardware_mix"], p["co_location"], p["serving_strategy"]): p["cost_usd_per_hour"]
            for p in bd["programs"]}
    for s, c in cost.items():  # switching a lever on only relaxes the program
        for j in range(3):
            if not s[j]:
                on = tuple(True if q == j else s[q] for q in range(3))
                assert cost[on] <= c * (1 + 1e-3) + 1e-6
    assert bd["cost_ratio"] >= 1.0


def test_shapley_of_additive_game_is_each_levers_own_saving():
    # v(S) = 10 - 3·hw - 2·co - 1·st: shares are exactly 3, 2, 1.
    v = {s: 10 - 3 * s[0] - 2 * s[1] - 1 * s[2] for s in itertools.product((False, True), repeat=3)}
    assert shapley3(v) == pytest.approx((3.0, 2.0, 1.0))


def test_two_stage_gap_on_mid_size_instances():
    for seed in (0, 1):
        inst = _random_table_fleet(14, seed=seed)
        full = solve(inst, method="full", mip_rel_gap=1e-6)
        two = solve(inst, method="two-stage", mip_rel_gap=1e-6)
        assert full.ok and two.ok
        assert two.inst.num_options < inst.num_options
        gap = two.cost_usd_per_hour / full.cost_usd_per_hour - 1
        assert -1e-6 <= gap <= 0.02, gap


def test_stage_one_keeps_the_most_efficient_config():
    inst = _random_table_fleet(5, seed=7)
    keep = select_configs(inst)
    per_gpu = inst.opt_capacity / inst.opt_gpus
    for i, o in {(int(a), int(b)) for a, b in zip(inst.opt_model, inst.opt_offer, strict=True)}:
        idx = np.flatnonzero((inst.opt_model == i) & (inst.opt_offer == o))
        assert keep[idx].any() and keep[idx].sum() <= 4
        assert keep[idx[np.argmax(per_gpu[idx])]]


def test_scarcity_resolve_never_below_static():
    inst = _random_table_fleet(6, seed=5, caps=False)
    base = solve(inst)
    used = {inst.offer_gpu[o] for o in np.flatnonzero(base.nodes)}
    gpu = sorted(used)[0]
    rows = scarcity(inst, base, gpu, (1.0, 0.5, 0.0))
    assert rows[0]["resolved_goodput_share"] == pytest.approx(1.0, abs=1e-6)
    for r in rows:
        assert r["resolved_goodput_share"] >= r["static_goodput_share"] - 1e-6
        assert 0.0 <= r["static_goodput_share"] <= 1.0 + 1e-9
    assert rows[-1]["static_goodput_share"] < 1.0
