"""Calibration recovers a run made with known efficiency factors (issue 5)."""

from __future__ import annotations

import json

import yaml
from typer.testing import CliRunner

from costcorrect.cli import app
from costcorrect.measure import read_measurement
from costcorrect.measure.export import read_records, records_to_vllm
from costcorrect.simulator import apply_sim_overrides, load_sim_scenario, simulate
from costcorrect.tuning.calibrate import overlay_overrides


def test_calibrate_fits_known_factors_and_labels_the_overlay(tmp_path, catalog):
    truth = apply_sim_overrides(load_sim_scenario(), ["workload.num_requests=150", "efficiency.mfu=0.35",
                                                      "efficiency.mbu=0.6", "efficiency.overhead_ms=5"])
    simulate(truth, catalog, records=tmp_path / "r.parquet")
    (tmp_path / "run.json").write_text(json.dumps(records_to_vllm(read_records(tmp_path / "r.parquet"))))
    out = tmp_path / "overlay.yaml"
    r = CliRunner().invoke(app, ["calibrate", str(tmp_path / "run.json"), "--out", str(out), "--max-evals", "45",
                                 "--json"])
    assert r.exit_code == 0, r.output
    res = json.loads(r.stdout)
    assert res["rms_log_error_after"] < 0.05 < res["rms_log_error_before"]
    assert abs(res["fitted"]["mfu"] / 0.35 - 1) < 0.15  # TTFT pins MFU; MBU and overhead trade off on TPOT
    doc = yaml.safe_load(out.read_text())
    assert doc["calibration"]["status"] == "fitted" and doc["calibration"]["fitted_to"]["file"] == "run.json"
    assert "FITTED" in out.read_text().splitlines()[1]
    # the overlay applies as plain overrides, provenance left out
    sets = overlay_overrides(out)
    assert all(s.startswith("efficiency.") for s in sets) and len(sets) == 3
    fitted = apply_sim_overrides(load_sim_scenario(), sets)
    assert fitted.efficiency.mfu == doc["efficiency"]["mfu"]
    assert read_measurement(tmp_path / "run.json").num_requests == 150
