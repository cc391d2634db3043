"""Roofline execution time vs the shipped measured Hopper runs (NVIDIA AIConfigurator sample).

Loose sanity bounds with the package's default (assumed) efficiencies; see docs/roofline-check.md.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

_BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "roofline_vs_measured.py"


@pytest.fixture(scope="module")
def rvm():
    spec = importlib.util.spec_from_file_location("roofline_vs_measured", _BENCH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def measured(rvm):
    return rvm.load_measured()


@pytest.fixture(scope="module")
def pred(rvm, measured, catalog):
    return rvm.predict(measured, catalog)


def test_shipped_subset_provenance(rvm, measured):
    path = rvm.measured_path()
    assert path.is_file()
    assert (path.parent / "README.md").is_file()
    for col in ("id", "silicon_data_source", "backend", "backend_version", "model_path", "system", "precision",
                "mode", "isl", "osl", "batch_size", "tp_size", "silicon_ttft_ms", "silicon_tpot_ms"):
        assert col in measured.columns, col
    assert len(measured) == 421
    # Hopper only: the Blackwell rows of the upstream sample are held out and must never be shipped.
    assert set(measured["system"]) == {"h100_sxm", "h200_sxm"}
    assert set(measured["mode"]) == {"agg"}
    assert set(measured["model_path"]) == set(rvm.MODEL_IDS)
    assert measured["silicon_data_source"].str.len().gt(0).all()
    assert measured["concurrency"].notna().all()
    assert (measured["silicon_tpot_ms"] > 0).all() and (measured["silicon_ttft_ms"] > 0).all()


def test_low_concurrency_8b_bf16_h100_tpot_within_factor(pred):
    rows = pred[(pred["model_path"] == "meta-llama/Llama-3.1-8B-Instruct") & (pred["system"] == "h100_sxm")
                & pred["low_concurrency"]]
    assert len(rows) == 36
    ratio = rows["pred_tpot_ms"].to_numpy() / rows["silicon_tpot_ms"].to_numpy()
    within = (ratio <= 1.5) & (ratio >= 1 / 1.5)
    assert within.mean() >= 0.9, np.sort(ratio)


def test_tpot_under_predicted_under_load(pred):
    # The steady-state decode pass ignores prefill interference: optimistic across all rows.
    assert np.median(pred["err_tpot"]) < 0


def test_low_concurrency_ttft_is_a_lower_bound(pred):
    low = pred[pred["low_concurrency"]]
    assert len(low) > 50
    assert (low["pred_ttft_ms"] <= 1.2 * low["silicon_ttft_ms"]).all()
