"""Measured mode against hand-computed files (issue 5)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from costcorrect.measure import measure_run, read_measurement
from costcorrect.measure.metrics import served_summary

EX = Path(__file__).resolve().parents[1] / "examples" / "measured"


def test_csv_example_matches_hand_calculation(catalog):
    # Hand calculation (T = 500 ms, U = 50 ms): rows 1, 4, 5 meet the contract (row 2 misses
    # TTFT, row 3 misses TPOT, row 6 failed) -> 100 + 300 + 1 = 401 compliant output tokens.
    run = read_measurement(EX / "requests-handwritten.csv", "csv", duration_s=10.0)
    r = measure_run(run, catalog, gpu="h100-sxm", num_gpus=2, ttft_slo_ms=500, tpot_slo_ms=50,
                    price_usd_per_gpu_hour=2.0)
    assert r["num_requests"] == 6 and r["num_failed"] == 1
    assert r["slo_attainment"] == pytest.approx(3 / 6)
    assert r["goodput_tokens_per_s"] == pytest.approx(40.1)
    assert r["cpm_served_usd_per_mtok"] == pytest.approx(2.0 * 2 / (40.1 * 3600 / 1e6))  # 27.7085...
    lo, hi = r["cpm_served_ci95_usd_per_mtok"]
    assert lo < r["cpm_served_usd_per_mtok"] < hi


def test_csv_duration_from_arrivals_and_e2e():
    # last finish: row 4 arrives at 3 s, e2e = 0.45 + 0.045 * 299 = 13.905 s -> 16.905 s after the first arrival
    run = read_measurement(EX / "requests-handwritten.csv")
    assert run.duration_s == pytest.approx(16.905)


def test_sglang_example_second_run_by_hand(catalog):
    # run 2 (last line): r1 TTFT 0.25 s, TPOT 0.16/4 = 40 ms -> meets; r2 TTFT 600 ms misses;
    # r3 TPOT 70 ms misses; r4 failed. Goodput 5 tokens / 10 s.
    run = read_measurement(EX / "sglang-handwritten.jsonl")
    r = measure_run(run, catalog, gpu="h100-sxm", num_gpus=1, ttft_slo_ms=500, tpot_slo_ms=50,
                    price_usd_per_gpu_hour=2.0, n_bootstrap=0)
    assert (r["num_requests"], r["num_failed"], r["num_slo_met"]) == (4, 1, 1)
    assert r["goodput_tokens_per_s"] == pytest.approx(0.5)
    assert r["cpm_served_usd_per_mtok"] == pytest.approx(2.0 / (0.5 * 3600 / 1e6))
    first = read_measurement(EX / "sglang-handwritten.jsonl", run=0)
    assert first.duration_s == 20.0 and first.num_requests == 2


def test_vllm_failed_requests_never_meet_the_slo(tmp_path, catalog):
    doc = {"duration": 4.0, "input_lens": [10, 10, 10], "output_lens": [3, 0, 3], "ttfts": [0.1, 0.0, 0.1],
           "itls": [[0.01, 0.01], [], [0.01, 0.01]], "errors": ["", "timeout", "boom"]}
    p = tmp_path / "run.json"
    p.write_text(json.dumps(doc))
    r = measure_run(read_measurement(p), catalog, gpu="h100-sxm", num_gpus=1, ttft_slo_ms=1e6, tpot_slo_ms=1e6,
                    n_bootstrap=0)
    assert r["num_failed"] == 2 and r["num_slo_met"] == 1
    assert r["goodput_tokens_per_s"] == pytest.approx(3 / 4.0)
    assert r["price_row"]["source"] and r["price_row"]["as_of"]  # the catalog row it used


def test_tpot_uses_latency_when_recorded(tmp_path):
    doc = {"duration": 1.0, "input_lens": [5], "output_lens": [5], "ttfts": [0.1], "itls": [[0.01] * 4],
           "latencies": [0.5]}
    p = tmp_path / "run.json"
    p.write_text(json.dumps(doc))
    assert read_measurement(p).tpot_ms[0] == pytest.approx((0.5 - 0.1) * 1000 / 4)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 40), seed=st.integers(0, 1000), price=st.floats(0.5, 20), gpus=st.integers(1, 16))
def test_summary_invariants(n, seed, price, gpus):
    rng = np.random.default_rng(seed)
    out = rng.integers(0, 400, n)
    ok = out > 0
    kw = dict(prompt_tokens=rng.integers(1, 2000, n), output_tokens=out, ttft_ms=rng.uniform(10, 900, n),
              tpot_ms=rng.uniform(5, 90, n), success=ok, duration_s=float(rng.uniform(1, 100)), ttft_slo_ms=500,
              tpot_slo_ms=50, num_gpus=gpus, n_bootstrap=200, seed=seed)
    s = served_summary(price_usd_per_gpu_hour=price, **kw)
    assert 0.0 <= s["slo_attainment"] <= 1.0
    assert s["goodput_tokens_per_s"] <= s["throughput_tokens_per_s"] + 1e-9
    if s["cpm_served_usd_per_mtok"] is not None:
        double = served_summary(price_usd_per_gpu_hour=2 * price, **kw)
        assert double["cpm_served_usd_per_mtok"] == pytest.approx(2 * s["cpm_served_usd_per_mtok"])
        lo, hi = s["cpm_served_ci95_usd_per_mtok"]
        assert lo <= s["cpm_served_usd_per_mtok"] * (1 + 1e-9)
        assert hi is None or hi >= s["cpm_served_usd_per_mtok"] * (1 - 1e-9)
    # prompt+output tokens can only add goodput
    both = served_summary(price_usd_per_gpu_hour=price, token_convention="prompt+output", **kw)
    assert both["goodput_tokens_per_s"] >= s["goodput_tokens_per_s"]
