"""Issue 14: closed-loop fast path agrees with the full simulation; closed-loop invariant; schedule traces."""

import numpy as np
import pytest

from costcorrect.catalog import Catalog
from costcorrect.serving.measured import parse_measured_csv
from costcorrect.simulator import build_deployment, sim_scenario_from_dict, simulate
from costcorrect.simulator import measured_validation as mv
from costcorrect.simulator import steady_state as ss

CAT = Catalog.load()


def scenario(engine, conc, isl, osl, n_waves=12, model="llama-3.1-8b", tp=1, **kw):
    d = dict(model=model, gpu="h100-sxm", tensor_parallel=tp, engine=engine, precision={"weights": "fp8"},
             max_batch_requests=conc,
             workload=dict(arrival="closed", concurrency=conc, num_requests=n_waves * conc,
                           prompt_tokens={"dist": "fixed", "mean": isl}, output_tokens={"dist": "fixed", "mean": osl}))
    d.update(kw)
    return sim_scenario_from_dict(d)


@pytest.mark.parametrize("engine,conc,isl,osl", [
    ("sglang", 16, 1024, 256),   # prefill-prioritised: lockstep waves, period = C requests
    ("sglang", 5, 3000, 400),
    ("vllm", 12, 1000, 300),     # chunked: mixed prefill + decode iterations
    ("trtllm", 3, 8192, 64),
])
def test_fast_path_agrees_with_full_simulation(engine, conc, isl, osl):
    sc = scenario(engine, conc, isl, osl)
    full = simulate(sc, CAT).summary
    res = ss.run_closed_loop(sc, build_deployment(sc, CAT))
    fast = ss.summarize(res)
    assert fast["num_requests"] == full["num_requests"] == sc.workload.num_requests
    for key in ("ttft_ms", "tpot_ms", "e2e_ms"):
        for q in ("mean", "p50", "p90", "p99"):
            assert fast[key][q] == pytest.approx(full[key][q], rel=1e-9), (key, q)
    assert fast["duration_s"] == pytest.approx(full["duration_s"], rel=1e-12)
    assert fast["preemptions"] == full["preemptions"]


def test_fast_path_jumps_over_periods_on_a_long_run():
    sc = scenario("sglang", 8, 512, 128, n_waves=200)
    res = ss.run_closed_loop(sc, build_deployment(sc, CAT))
    assert res.jumped_periods > 100 and res.period_requests % 8 == 0
    full = simulate(sc, CAT).summary
    assert ss.summarize(res)["tpot_ms"]["mean"] == pytest.approx(full["tpot_ms"]["mean"], rel=1e-9)
    # the simulated events are a small fraction of the plain run's
    plain = ss.run_closed_loop(sc, build_deployment(sc, CAT), fast=False)
    assert res.engine.seq < plain.engine.seq / 10


@pytest.mark.parametrize("engine", ["sglang", "vllm"])
def test_closed_loop_keeps_concurrency_in_flight_after_warm_up(engine):
    sc = scenario(engine, 10, 700, 90, n_waves=8)
    dep = build_deployment(sc, CAT)
    seen = []
    orig = ss._fingerprint

    def spy(eng):
        seen.append((eng.finished, eng.in_flight))
        return orig(eng)

    ss._fingerprint, saved = spy, ss._fingerprint
    try:
        ss.run_closed_loop(sc, dep)
    finally:
        ss._fingerprint = saved
    steady = [inflight for fin, inflight in seen if fin <= sc.workload.num_requests - 10]
    assert steady and all(x == 10 for x in steady)


def test_schedule_trace_reproduces_the_simulation_at_other_efficiencies():
    text = (open("tests/data/measured_fixture.csv", encoding="utf-8").read())
    rows = parse_measured_csv(text)
    plans, _ = mv.prepare(rows[:12], CAT)
    plans = [p for p in plans if ss.fast_path_applies(p.scenario)][:4]
    ts, used = mv.collect_traces(plans)
    eff = {"mbu": 0.55, "mfu": 0.35, "overhead_ms": 3.0, "comm_latency_us": 25.0}
    pt, pp = mv.trace_predict(ts, eff["mbu"], eff["mfu"], eff["overhead_ms"], eff["comm_latency_us"])
    for j, i in enumerate(used):
        st_, sp_ = mv._simulate_plan(plans[i], CAT, eff)
        assert pt[j] == pytest.approx(st_, rel=1e-9) and pp[j] == pytest.approx(sp_, rel=1e-9)


def test_span_max_sum_matches_a_loop():
    rng = np.random.default_rng(1)
    c0, c1, m0, m1 = rng.uniform(0, 1, (4, 200))
    c1 -= 0.5
    k = rng.integers(1, 50, 200).astype(float)
    got = mv._span_max_sum(c0, c1, m0, m1, k)
    want = [sum(max(c0[i] + c1[i] * j, m0[i] + m1[i] * j) for j in range(int(k[i]))) for i in range(200)]
    assert np.allclose(got, want, rtol=1e-12)
