"""The tuner's shared-probe capacity search agrees with the simulator's (issue 5)."""

from __future__ import annotations

import pytest

from costcorrect.simulator import apply_sim_overrides, find_capacity, load_sim_scenario, simulate
from costcorrect.tuning.capacity import evaluate_config, search_bins


def test_single_bin_capacity_matches_find_capacity(catalog):
    sc = apply_sim_overrides(load_sim_scenario(), ["workload.num_requests=300"])
    bins = [{"ttft_p99_ms": sc.slo.ttft_p99_ms, "tpot_p99_ms": sc.slo.tpot_p99_ms}]
    mine = evaluate_config(sc, catalog, bins, target=0.99, rel_tol=0.02)["rows"][0]
    ref = find_capacity(sc, catalog, target=0.99, rel_tol=0.02)
    # both brackets are within 2 % of the same threshold
    assert mine["capacity_rate_per_s"] == pytest.approx(ref["rate_per_s"], rel=0.045)
    # at the tuner's capacity, its per-bin score equals the simulator's own summary
    at = simulate(sc.model_copy(update={"workload": sc.workload.model_copy(
        update={"rate_per_s": mine["capacity_rate_per_s"]})}), catalog).summary
    assert mine["slo_attainment"] == pytest.approx(at["slo_attainment"], abs=1e-12)
    assert mine["goodput_tokens_per_s"] == pytest.approx(at["goodput_tokens_per_s"], rel=1e-9)
    assert mine["cpm_served_usd_per_mtok"] == pytest.approx(at["cpm_served_usd_per_mtok"], rel=1e-9)
    assert mine["cpm_closed_form_usd_per_mtok"] > 0


def test_tighter_bins_never_get_more_capacity(catalog):
    sc = apply_sim_overrides(load_sim_scenario(), ["workload.num_requests=250"])
    bins = [{"ttft_p99_ms": 300, "tpot_p99_ms": 40}, {"ttft_p99_ms": 500, "tpot_p99_ms": 50},
            {"ttft_p99_ms": 2000, "tpot_p99_ms": 100}]
    rows = evaluate_config(sc, catalog, bins, target=0.99, rel_tol=0.05)["rows"]
    caps = [r["capacity_rate_per_s"] or 0.0 for r in rows]
    assert caps[0] <= caps[1] * 1.05 and caps[1] <= caps[2] * 1.05
    assert rows[2]["status"] == "ok"


def test_search_on_a_known_step_function():
    calls = []

    def probe(rate):  # bin 0 passes below 3.0, bin 1 below 7.0, bin 2 never
        calls.append(rate)
        return [1.0 if rate < 3.0 else 0.5, 1.0 if rate < 7.0 else 0.0, 0.0]

    caps, cache = search_bins(probe, 3, start_rate=1.0, target=0.99, rel_tol=0.02)
    assert 3.0 * 0.98 <= caps[0] < 3.0 and 7.0 * 0.98 <= caps[1] < 7.0 and caps[2] is None
    assert len(calls) == len(set(calls)) == len(cache) < 40
