"""The Ray backend runs the same tasks as the local one, on a local Ray (issue 5)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from costcorrect.cli import app

ray = pytest.importorskip("ray")


@pytest.mark.slow
def test_ray_backend_matches_local(tmp_path):
    space = tmp_path / "space.yaml"
    space.write_text("architecture: [colocated, chunked]\ntensor_parallel: [4]\n")
    common = ["tune", "--space", str(space), "--num-requests", "120", "--no-chart", "--json", "--workers", "2"]
    loc = json.loads(CliRunner().invoke(app, [*common, "--out", str(tmp_path / "local")]).stdout)
    r = CliRunner().invoke(app, [*common, "--out", str(tmp_path / "ray"), "--backend", "ray"])
    assert r.exit_code == 0, r.output
    rr = json.loads(r.stdout)
    assert rr["backend"] == "ray" and not ray.is_initialized()

    def key(res):
        return sorted((p["config_id"], p["cpm_served_usd_per_mtok"]) for p in
                      (b["best"] for b in res["best_per_bin"]) if p)

    assert key(rr) == key(loc)
    assert rr["full_simulations"] == loc["full_simulations"]
