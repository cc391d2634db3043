"""Issue 14: `costcorrect validate --measured FILE [--per-row] [--json]` on the fixture file."""

import json
import math

from typer.testing import CliRunner

from costcorrect.cli import app
from costcorrect.serving.measured import read_measured
from costcorrect.simulator import profiles

runner = CliRunner()
FIXTURE = "tests/data/measured_fixture.csv"


def test_validate_measured_json_contract():
    r = runner.invoke(app, ["validate", "--measured", FIXTURE, "--per-row", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert {"rows", "predicted", "skipped", "ttft_mape_pct", "tpot_mape_pct", "by", "predictions"} <= set(out)
    n = len(read_measured(FIXTURE))
    assert out["rows"] == n and out["predicted"] + len(out["skipped"]) == n  # nothing dropped silently
    assert all(set(s) == {"id", "reason"} and s["reason"] for s in out["skipped"])
    assert len(out["predictions"]) == out["predicted"] and sum(g["n"] for g in out["by"]) == out["predicted"]
    for g in out["by"]:
        assert set(g) == {"model", "system", "engine", "mode", "n", "ttft_mape_pct", "tpot_mape_pct"}
    errs = []
    for p in out["predictions"]:
        assert set(p) == {"id", "ttft_ms", "tpot_ms", "measured_ttft_ms", "measured_tpot_ms"}
        assert math.isfinite(p["ttft_ms"]) and p["ttft_ms"] > 0 and p["tpot_ms"] > 0
        errs.append(abs(p["tpot_ms"] / p["measured_tpot_ms"] - 1))
    assert out["tpot_mape_pct"] == __import__("pytest").approx(100 * sum(errs) / len(errs))
    assert "predictions" not in json.loads(runner.invoke(app, ["validate", "--measured", FIXTURE, "--json"]).stdout)


def test_validate_measured_table_and_bad_file(tmp_path):
    r = runner.invoke(app, ["validate", "--measured", FIXTURE])
    assert r.exit_code == 0 and "TPOT MAPE" in r.stdout
    bad = tmp_path / "bad.csv"
    bad.write_text("id,foo\n1,2\n")
    r = runner.invoke(app, ["validate", "--measured", str(bad), "--json"])
    assert r.exit_code == 2 and "header" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_profiles_are_labelled_fitted_on_the_hopper_file():
    import hashlib
    from importlib import resources

    sha = hashlib.sha256((resources.files("costcorrect") / "data" / "measured" /
                          "aic_silicon_sample_hopper.csv").read_bytes()).hexdigest()
    for name in ("vllm", "sglang", "trtllm"):
        p = profiles.profile(name)
        assert p["status"] == "fitted" and p["fit"]["sha256"] == sha and "residuals" in p["fit"]
        assert set(p["fitted"]) == set(profiles.FITTED_KEYS)
    assert profiles.profile("generic")["status"] == "assumed"
