"""Simulator: execution-time model, scheduler invariants, determinism, workloads, bad input."""

from __future__ import annotations

import json
from importlib import resources

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from costcorrect import units
from costcorrect.catalog import Catalog
from costcorrect.errors import InputError
from costcorrect.serving.roofline import forward_time_s
from costcorrect.simulator import SimScenario, build_deployment, find_capacity, sim_scenario_from_dict, simulate
from costcorrect.simulator.metrics import LogHistogram
from costcorrect.simulator.predictor import TablePredictor
from costcorrect.simulator.workload import read_trace

CAT = Catalog.load()
TRACES = resources.files("costcorrect") / "data" / "traces"


def scenario(**kw) -> SimScenario:
    wl = {"arrival": "poisson", "rate_per_s": 2.0, "num_requests": 300,
          "prompt_tokens": {"dist": "lognormal", "mean": 1155, "cv": 1.0, "max": 4096},
          "output_tokens": {"dist": "lognormal", "mean": 211, "cv": 1.0, "max": 2048}}
    wl.update(kw.pop("workload", {}))
    return sim_scenario_from_dict({"workload": wl, **kw})


def records(sc: SimScenario, tmp_path) -> tuple[dict, pd.DataFrame]:
    path = tmp_path / "r.parquet"
    res = simulate(sc, CAT, records=path)
    return res.summary, pd.read_parquet(path)


# ----------------------------------------------------------------------------- execution time
def test_single_decode_step_matches_hand_roofline():
    """Llama-2-70B, H100 TP4, one decode token at context 1000, by hand."""
    dep = build_deployment(scenario(), CAT)
    pred = dep.predictor
    su = dep.setup
    w = 68.98e9 * 2  # BF16 weights [bytes]
    kv = 2 * 80 * 8 * 128 * 2  # [bytes/token]
    mem_s = (w + kv * (1000 + 1)) / (4 * 3350e9 * su.efficiency.mbu)
    flops = 2 * 68.98e9 + 4 * 80 * 8192 * 1000
    cmp_s = flops / (4 * 989.4e12 * su.efficiency.mfu)
    ar_s = 80 * 2 * (2 * 3 / 4) * 8192 * 2 / (900e9 / 2)
    hand = max(mem_s, cmp_s) + ar_s + su.efficiency.overhead_ms / 1e3
    assert pred.iteration_s(0, 0.0, 1, 1000) == pytest.approx(hand, rel=2e-3)
    assert mem_s > cmp_s  # batch-1 decode is memory bound


def test_predictor_agrees_with_foundation_roofline():
    dep = build_deployment(scenario(), CAT)
    for p, d, ctx in [(2048, 0, 0), (0, 64, 900), (300, 40, 1200)]:
        attn = p * (p / 2.0)
        ours = dep.predictor.iteration_s(p, attn, d, d * ctx)
        ref = float(forward_time_s(dep.setup, p, d, ctx, 0.0))
        assert ours == pytest.approx(ref, rel=1e-9)


@settings(max_examples=60, deadline=None)
@given(b=st.integers(1, 400), ctx=st.integers(1, 200_000), k=st.integers(0, 300))
def test_decode_run_is_exact_sum_of_iterations(b, ctx, k):
    pred = build_deployment(scenario(), CAT).predictor
    steps = sum(pred.iteration_s(0, 0.0, b, ctx + j * b) for j in range(k))
    assert pred.decode_run_s(b, ctx, k) == pytest.approx(steps, rel=1e-9, abs=1e-12)
    if k:
        t = pred.decode_run_s(b, ctx, k)
        assert pred.decode_steps_within(b, ctx, k, t) == k
        assert pred.decode_steps_within(b, ctx, k, t * (1 - 1e-9) - 1e-15) == k - 1


def test_single_stream_decode_sits_above_hbm_floor(tmp_path):
    sc = scenario(architecture="colocated", workload={
        "arrival": "closed", "concurrency": 1, "num_requests": 3,
        "prompt_tokens": {"dist": "fixed", "mean": 128}, "output_tokens": {"dist": "fixed", "mean": 256}})
    s, _ = records(sc, tmp_path)
    floor_ms = units.s_to_ms(68.98e9 * 2 / (4 * 3350e9))
    assert s["tpot_ms"]["p50"] > floor_ms
    assert s["tpot_ms"]["p50"] < 2.5 * floor_ms  # and not absurdly far from it
    assert s["peak_in_flight"] == 1


def test_table_predictor_reproduces_roofline_it_was_built_from(tmp_path):
    base = scenario(architecture="chunked")
    pred = build_deployment(base, CAT).predictor
    rows = []
    for p in (0, 64, 256, 512):
        for d in (0, 1, 8, 32, 64, 128):
            for c in (0, 500, 1500, 3000, 6000):
                if p + d == 0 or (d == 0 and c) or (d and not c):
                    continue
                rows.append((p, d, c, units.s_to_ms(pred.iteration_s(p, p * p / 2, d, d * c))))
    path = tmp_path / "table.csv"
    pd.DataFrame(rows, columns=list(TablePredictor.COLUMNS)).to_csv(path, index=False)
    s_roof = simulate(base, CAT).summary
    s_tab = simulate(base.model_copy(update={"latency_table": str(path)}), CAT).summary
    assert s_tab["predictor"] == "table"
    assert s_tab["tpot_ms"]["p50"] == pytest.approx(s_roof["tpot_ms"]["p50"], rel=0.05)
    assert s_tab["ttft_ms"]["p50"] == pytest.approx(s_roof["ttft_ms"]["p50"], rel=0.15)


# ----------------------------------------------------------------------------- invariants
def _check_invariants(sc: SimScenario, s: dict, df: pd.DataFrame) -> None:
    n = sc.workload.num_requests
    assert s["num_requests"] == n == len(df)
    assert sorted(df["request_id"]) == list(range(n))  # none lost, none finished twice
    assert (df["arrival_s"] <= df["first_token_s"] + 1e-12).all()
    assert (df["first_token_s"] <= df["finish_s"] + 1e-12).all()
    assert s["kv_peak_blocks"] <= s["kv_capacity_blocks"]
    assert s["preemptions"] == int(df["preemptions"].sum())


@pytest.mark.parametrize("arch", ["colocated", "chunked", "disaggregated"])
def test_invariants_under_kv_pressure(arch, tmp_path):
    # Memory so tight that the cache holds ~a dozen requests: preemptions must happen.
    sc = scenario(architecture=arch, efficiency={"memory_fraction": 0.5},
                  workload={"rate_per_s": 6.0, "num_requests": 400,
                            "output_tokens": {"dist": "lognormal", "mean": 600, "cv": 1.0, "max": 2048}})
    s, df = records(sc, tmp_path)
    _check_invariants(sc, s, df)
    if arch != "disaggregated":
        assert s["preemptions"] > 0
    # tokens conserved: every request produced exactly its output length
    rng = np.random.default_rng(sc.seed)
    from costcorrect.simulator.workload import request_stream

    chunk = next(request_stream(sc.workload, rng))
    got = df.sort_values("request_id")
    assert (got["output_tokens"].to_numpy() == chunk.output_tokens).all()
    assert (got["prompt_tokens"].to_numpy() == chunk.prompt_tokens).all()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(arch=st.sampled_from(["colocated", "chunked", "disaggregated"]),
       rate=st.floats(0.2, 20), n=st.integers(1, 120), mem=st.floats(0.55, 0.95),
       p_mean=st.integers(16, 3000), d_mean=st.integers(1, 800), replicas=st.integers(1, 3),
       chunk=st.sampled_from([64, 256, 512, 2048]), arrival=st.sampled_from(["poisson", "gamma", "closed"]),
       bs=st.sampled_from([1, 16, 32]))
def test_random_small_scenarios_keep_invariants(tmp_path, arch, rate, n, mem, p_mean, d_mean, replicas, chunk,
                                                arrival, bs):
    sc = scenario(architecture=arch, replicas=replicas, prefill_instances=replicas, decode_instances=replicas,
                  chunk_tokens=chunk, block_size_tokens=bs, efficiency={"memory_fraction": mem},
                  workload={"arrival": arrival, "rate_per_s": rate, "num_requests": n, "concurrency": 7,
                            "prompt_tokens": {"dist": "lognormal", "mean": p_mean, "cv": 1.5, "max": 4000},
                            "output_tokens": {"dist": "lognormal", "mean": d_mean, "cv": 1.5, "max": 3000}})
    s, df = records(sc, tmp_path)
    _check_invariants(sc, s, df)
    if arrival == "closed":
        assert s["peak_in_flight"] == min(7, n)


def test_same_seed_same_result_other_seed_differs():
    sc = scenario(architecture="disaggregated")
    a, b = simulate(sc, CAT).summary, simulate(sc, CAT).summary
    c = simulate(sc.model_copy(update={"seed": 1}), CAT).summary
    drop = ("wall_s", "events_per_s")
    strip = lambda s: json.dumps({k: v for k, v in s.items() if k not in drop}, sort_keys=True)  # noqa: E731
    assert strip(a) == strip(b)
    assert strip(a) != strip(c)


def test_closed_loop_keeps_concurrency_in_flight(tmp_path):
    sc = scenario(architecture="chunked", workload={"arrival": "closed", "concurrency": 16, "num_requests": 200})
    s, df = records(sc, tmp_path)
    assert s["peak_in_flight"] == 16
    # after warm-up every finish is followed, at the same instant, by a new arrival
    fin = np.sort(df["finish_s"].to_numpy())[: 200 - 16]
    arr = np.sort(df["arrival_s"].to_numpy())[16:]
    assert np.allclose(fin, arr)


# ----------------------------------------------------------------------------- directional claims
def test_chunked_tightens_tpot_tail_vs_colocated_at_equal_load():
    kw = {"workload": {"rate_per_s": 3.0, "num_requests": 600}}
    co = simulate(scenario(architecture="colocated", **kw), CAT).summary
    ch = simulate(scenario(architecture="chunked", **kw), CAT).summary
    assert ch["tpot_ms"]["p99"] < co["tpot_ms"]["p99"]


def test_slower_kv_link_raises_latency():
    kw = {"architecture": "disaggregated", "workload": {"rate_per_s": 3.0, "num_requests": 400}}
    fast = simulate(scenario(kv_bandwidth_gb_s=50, **kw), CAT).summary
    slow = simulate(scenario(kv_bandwidth_gb_s=0.5, **kw), CAT).summary
    assert slow["tpot_ms"]["p99"] > fast["tpot_ms"]["p99"]
    assert slow["e2e_ms"]["p99"] > fast["e2e_ms"]["p99"]


def test_find_capacity_brackets_the_target():
    sc = scenario(architecture="chunked", workload={"num_requests": 300, "rate_per_s": 2.0})
    res = find_capacity(sc, CAT, target=0.99, rel_tol=0.05)
    assert res["summary"]["slo_attainment"] >= 0.99
    assert res["upper_rate_per_s"] > res["rate_per_s"]
    upper = next(p for p in res["probes"] if p["rate_per_s"] == res["upper_rate_per_s"])
    assert upper["slo_attainment"] < 0.99
    assert res["summary"]["cpm_served_usd_per_mtok"] > 0


# ----------------------------------------------------------------------------- workloads and metrics
@pytest.mark.parametrize("name", ["synthetic_azure.csv", "synthetic_mooncake.jsonl"])
def test_trace_formats_read_the_same_requests(name):
    tr = read_trace(TRACES / name)
    ref = read_trace(TRACES / "synthetic_azure.csv")
    assert len(tr.arrival_s) == 200
    assert (tr.prompt_tokens == ref.prompt_tokens).all()
    assert np.allclose(tr.arrival_s, ref.arrival_s, atol=1e-3)


def test_trace_replay_scales_to_target_rate_and_tiles():
    sc = scenario(workload={"arrival": "trace", "trace": str(TRACES / "synthetic_mooncake.jsonl"),
                            "rate_per_s": 4.0, "num_requests": 500})
    s = simulate(sc, CAT).summary
    assert s["num_requests"] == 500
    assert s["offered_rate_per_s"] == pytest.approx(4.0, rel=0.05)


def test_length_distributions_have_requested_moments():
    from costcorrect.simulator.config import LengthDist
    from costcorrect.simulator.workload import LengthSampler

    rng = np.random.default_rng(0)
    for dist in ("lognormal", "uniform"):
        x = LengthSampler(LengthDist(dist=dist, mean=1000, cv=0.5, max=100_000), "f").sample(rng, 200_000)
        assert x.mean() == pytest.approx(1000, rel=0.01)
        assert x.std() / x.mean() == pytest.approx(0.5, rel=0.03)
    emp = LengthSampler(LengthDist(dist="empirical", values=[5, 7]), "f").sample(rng, 1000)
    assert set(emp) == {5, 7}


def test_histogram_percentiles_match_exact_order_statistics():
    rng = np.random.default_rng(3)
    x = rng.lognormal(3, 1.5, 50_000)
    h = LogHistogram()
    h.add(x[:20_000])
    h.add(x[20_000:])
    for q in (0.5, 0.9, 0.99):
        exact = np.sort(x)[int(np.ceil(q * len(x))) - 1]
        assert h.quantile(q) == pytest.approx(exact, rel=1.2e-3)
    assert h.mean == pytest.approx(x.mean())


# ----------------------------------------------------------------------------- bad input
def test_unknown_key_names_nearest_valid_one():
    with pytest.raises(InputError, match="did you mean 'rate_per_s'"):
        sim_scenario_from_dict({"workload": {"rate_pers": 2}})
    with pytest.raises(InputError, match="did you mean 'architecture'"):
        sim_scenario_from_dict({"architectur": "chunked"})


def test_model_that_does_not_fit_says_so_with_numbers():
    with pytest.raises(InputError, match=r"tensor_parallel.*GiB") as exc:
        build_deployment(scenario(tensor_parallel=1), CAT)
    assert ">= 2" in str(exc.value)


def test_malformed_traces_name_file_line_and_column(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"timestamp": 0, "input_length": 5, "output_length": 3}\n{"timestamp": 1, "input_length": -4, '
                   '"output_length": 3}\n')
    with pytest.raises(InputError, match=r"bad\.jsonl line 2 column input_length"):
        read_trace(bad)
    csv = tmp_path / "bad.csv"
    csv.write_text("TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:00:00,5,3\n2023-11-16 18:00:01,x,3\n")
    with pytest.raises(InputError, match=r"bad\.csv line 3 column ContextTokens"):
        read_trace(csv)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    with pytest.raises(InputError, match="empty"):
        read_trace(empty)


def test_records_in_memory_equal_parquet_records(tmp_path):
    sc = scenario(architecture="chunked", workload={"num_requests": 150})
    path = tmp_path / "r.parquet"
    res = simulate(sc, CAT, records=path, keep_records=True)
    a = res.records_frame.sort_values("request_id").reset_index(drop=True)
    b = pd.read_parquet(path).sort_values("request_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b, check_dtype=False)


def test_simulate_cli_applies_a_calibration_overlay(tmp_path):
    from typer.testing import CliRunner

    from costcorrect.cli.app import app

    ov = tmp_path / "overlay.yaml"
    ov.write_text("efficiency: {mbu: 0.4}\ncalibration: {fit_to: test}\n")
    run = CliRunner().invoke(app, ["simulate", "--json", "--set", "workload.num_requests=50", "--overlay", str(ov)])
    assert run.exit_code == 0, run.output
    assert json.loads(run.stdout)["efficiency"]["mbu"] == 0.4


@pytest.mark.parametrize("arch", ["colocated", "chunked", "disaggregated"])
def test_longest_token_gap_bounds_mean_tpot(arch):
    sc = scenario(architecture=arch, replicas=2, prefill_instances=1, decode_instances=1,
                  workload={"rate_per_s": 3.0, "num_requests": 300})
    df = simulate(sc, CAT, keep_records=True).records_frame
    multi = df[df["output_tokens"] > 1]
    assert (multi["itl_max_ms"] >= multi["tpot_ms"] * (1 - 1e-9)).all()


def test_prefill_stalls_show_in_colocated_token_gaps_not_chunked():
    kw = {"replicas": 2, "workload": {"rate_per_s": 4.0, "num_requests": 400}}
    co = simulate(scenario(architecture="colocated", **kw), CAT).summary
    ch = simulate(scenario(architecture="chunked", **kw), CAT).summary
    assert co["itl_max_ms"]["p50"] > 2 * ch["itl_max_ms"]["p50"]
    # under a per-token tail contract the stalls break colocation's SLO first
    per_token = {"slo": {"ttft_p99_ms": 500, "tpot_p99_ms": 50, "tpot_basis": "max_itl"}}
    co_t = simulate(scenario(architecture="colocated", **kw, **per_token), CAT).summary
    ch_t = simulate(scenario(architecture="chunked", **kw, **per_token), CAT).summary
    assert ch_t["slo_attainment"] > co_t["slo_attainment"]


def test_set_overrides_keep_precision_aliases_consistent():
    from costcorrect.simulator import apply_sim_overrides

    sc = sim_scenario_from_dict({"model": "llama-3.1-70b", "gpu": "h200-sxm",
                                 "precision": {"weights": "fp8", "kv_cache": "fp8"}})
    sc2 = apply_sim_overrides(sc, ["precision.weights=bf16", "slo.ttft_p99_ms=300"])
    assert sc2.weights_precision == "bf16" and sc2.slo.ttft_p99_ms == 300
    with pytest.raises(InputError, match="existing scenario field"):
        apply_sim_overrides(sc, ["nosuch.x=1"])
