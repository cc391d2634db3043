"""The real probe set: AST mutants, the sandbox's limits, and the end-to-end command."""

import json

import pytest
from typer.testing import CliRunner

from costcorrect.cli import app
from costcorrect.verification import humaneval as he


def test_mutants_are_distinct_and_parse():
    src = "def f(x):\n    if x < 3:\n        return x + 1\n    return 0\n"
    ms = he.mutants(src, 10)
    assert len(ms) >= 3
    assert len({m for _, m in ms}) == len(ms)
    kinds = {k for k, _ in ms}
    assert {"flip", "offbyone", "dropbranch"} <= kinds


def test_sandbox_blocks_network_files_subprocess_and_loops(tmp_path):
    outside = tmp_path / "evil.txt"
    res = he.run_sandboxed("x = 1", {
        "ok": "assert x == 1",
        "net": "import socket; socket.create_connection(('127.0.0.1', 9))",
        "write_outside": f"open({str(outside)!r}, 'w').write('x')",
        "read_etc": "open('/etc/hostname').read()",
        "subprocess": "import subprocess; subprocess.run(['true'])",
        "system": "import os; os.system('true')",
        "write_tmp": "open('scratch.txt', 'w').write('x')",
        "loop": "while True: pass",
    }, timeout_s=0.5)
    assert res["ok"] and res["write_tmp"]
    for k in ("net", "write_outside", "read_etc", "subprocess", "system", "loop"):
        assert not res[k], k
    assert not outside.exists()


def test_canonical_passes_and_a_mutant_fails():
    p = he.load_problems(1)[0]
    full = p["prompt"] + p["canonical_solution"]
    check = {"full": p["test"] + f"\ncheck({p['entry_point']})\n"}
    assert he.run_sandboxed(full, check)["full"]
    labels = [he.run_sandboxed(src, check)["full"] for _, src in he.mutants(full, 4)]
    assert not all(labels)


def test_procure_humaneval_end_to_end(tmp_path):
    res = CliRunner().invoke(app, ["procure", "humaneval", "--out", str(tmp_path), "--problems", "6",
                                   "--mutants", "2", "--probes", "8", "--seeds", "20", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    gaps = {r["mechanism"]: r["gap_pct"] for r in out["rows"]}
    assert gaps["oracle"] == 0.0
    assert all(v >= 0 for v in gaps.values())
    # the written files are valid data-mode input
    res2 = CliRunner().invoke(app, ["procure", "run", "--reports", str(tmp_path / "reports.csv"),
                                    "--labels", str(tmp_path / "labels.csv"), "--json", "--bootstrap", "200"])
    assert res2.exit_code == 0, res2.output
    assert json.loads(res2.stdout)["selected"] in {v["vendor"] for v in out["vendors"]}


@pytest.mark.parametrize("args", [["--seeds", "2", "--workers", "1"]])
def test_procure_simulate_contract(tmp_path, args):
    res = CliRunner().invoke(app, ["procure", "simulate", "--out", str(tmp_path), "--json", *args])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    for row in out["rows"]:
        for key in ("mechanism", "dataset", "gap_pct", "seeds"):
            assert key in row
    assert {r["mechanism"] for r in out["rows"]} >= {"oracle", "random", "posted_price", "public_benchmark",
                                                     "scoring_rule"}
    assert (tmp_path / "table1.json").exists()
    assert CliRunner().invoke(app, ["procure", "simulate", "--out", str(tmp_path), "--backend", "slurm"]).exit_code == 2
