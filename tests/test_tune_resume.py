"""A real `costcorrect tune` killed with SIGKILL resumes with no lost and no duplicated rows (issue 5)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
from typer.testing import CliRunner

from costcorrect.cli import app

SPACE = """\
architecture: [colocated, chunked]
tensor_parallel: [4, 8]
chunk_tokens: [256, 512, 1024]
"""
N_DEPLOYMENTS = 2 + 6


def _args(space, out, *extra):
    return ["tune", "--space", str(space), "--out", str(out), "--num-requests", "150", "--workers", "1",
            "--no-chart", "--json", *extra]


def test_sigkill_then_resume(tmp_path):
    space = tmp_path / "space.yaml"
    space.write_text(SPACE)
    out = tmp_path / "res.parquet"
    proc = subprocess.Popen([sys.executable, "-m", "costcorrect.cli", *_args(space, out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(list(out.glob("part-*.parquet"))) < 2:
            if proc.poll() is not None:
                break
            time.sleep(0.01)
        os.killpg(proc.pid, signal.SIGKILL)  # the whole group: driver and any workers
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    before = {p.name: p.read_bytes() for p in out.glob("part-*.parquet")}
    assert 0 < len(before) < N_DEPLOYMENTS, "the run must be killed part-way"
    (out / ".part-deadbeef-n150.parquet.x1.tmp").write_bytes(b"half a file")  # as a kill mid-write leaves

    r = CliRunner().invoke(app, _args(space, out))
    assert r.exit_code == 0, r.output
    res = json.loads(r.stdout)
    assert res["stages"][0]["skipped_done"] == len(before)
    assert res["stages"][0]["ran"] == N_DEPLOYMENTS - len(before)
    df = pd.read_parquet(out)
    assert len(df) == N_DEPLOYMENTS  # one SLO bin: one row per deployment, none lost
    assert df["config_id"].is_unique  # none duplicated
    for name, data in before.items():  # finished parts were kept, not recomputed
        assert (out / name).read_bytes() == data
    assert not list(out.glob(".part-*.tmp"))
    # a rerun does nothing new
    again = json.loads(CliRunner().invoke(app, _args(space, out)).stdout)
    assert again["stages"][0]["ran"] == 0 and len(pd.read_parquet(out)) == N_DEPLOYMENTS


def test_other_inputs_into_same_folder_are_refused(tmp_path):
    space = tmp_path / "space.yaml"
    space.write_text("tensor_parallel: [4]\n")
    out = tmp_path / "res.parquet"
    assert CliRunner().invoke(app, _args(space, out)).exit_code == 0
    r = CliRunner().invoke(app, _args(space, out, "--set", "workload.rate_per_s=3"))
    assert r.exit_code == 2 and "_run.json" in r.output and "scenario_sha" in r.output


@pytest.mark.parametrize("search", ["halving"])
def test_halving_finds_the_grid_optimum_with_fewer_full_simulations(tmp_path, search):
    space = tmp_path / "space.yaml"
    space.write_text("architecture: [colocated, chunked, disaggregated]\ntensor_parallel: [4, 8]\n"
                     "slo:\n  - {ttft_p99_ms: 1000, tpot_p99_ms: 80}\n")
    out = tmp_path / "res.parquet"
    common = ["tune", "--space", str(space), "--out", str(out), "--num-requests", "360", "--workers", "1",
              "--no-chart", "--json"]
    h = json.loads(CliRunner().invoke(app, [*common, "--search", search, "--eta", "3", "--min-requests", "40"]).stdout)
    g = json.loads(CliRunner().invoke(app, common).stdout)
    assert [s["num_requests"] for s in h["stages"]] == [40, 120, 360]
    assert h["best_per_bin"][0]["best"]["config_id"] == g["best_per_bin"][0]["best"]["config_id"]
    assert h["full_simulations"] < g["full_simulations"]
    assert g["stages"][0]["skipped_done"] == h["stages"][-1]["configs"]  # the grid reused the last rung
