"""Bad measurement files: exit code 2, one line naming the file and the field (issue 5)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from costcorrect.cli import app

GOOD = {"duration": 2.0, "input_lens": [10, 20], "output_lens": [3, 4], "ttfts": [0.1, 0.2],
        "itls": [[0.01, 0.01], [0.01, 0.01, 0.01]]}
ARGS = ["--gpu", "h100-sxm", "--num-gpus", "1", "--ttft-p99-ms", "500", "--tpot-p99-ms", "50"]


def _run(path, *extra):
    return CliRunner().invoke(app, ["measure", str(path), *ARGS, *extra])


@pytest.mark.parametrize(("change", "field"), [
    ({"duration": 0}, "duration"),
    ({"duration": None}, "duration"),
    ({"ttfts": None}, "ttfts"),
    ({"ttfts": [0.1, -0.2]}, "ttfts[1]"),
    ({"itls": [[0.01, -0.01], [0.01]]}, "itls[0]"),
    ({"output_lens": [3]}, "output_lens"),
    ({"latencies": [0.05, 0.5]}, "latencies[0]"),
])
def test_bad_vllm_file_names_file_and_field(tmp_path, change, field):
    doc = {**GOOD, **change}
    doc = {k: v for k, v in doc.items() if v is not None}
    p = tmp_path / "bench.json"
    p.write_text(json.dumps(doc))
    r = _run(p, "--format", "vllm")
    assert r.exit_code == 2, r.output
    assert "bench.json" in r.output and field in r.output
    assert "Traceback" not in r.output


@pytest.mark.parametrize(("csv", "field"), [
    ("prompt_tokens,output_tokens,ttft_ms\n1,2,3\n", "column tpot_ms"),
    ("prompt_tokens,output_tokens,ttft_ms,tpot_ms,arrival_s\n1,2,-3,4,0\n", "line 2 column ttft_ms"),
    ("prompt_tokens,output_tokens,ttft_ms,tpot_ms,arrival_s\n1,2,3,x,0\n", "line 2 column tpot_ms"),
    ("prompt_tokens,output_tokens,ttft_ms,tpot_ms\n1,2,3,4\n", "duration"),
])
def test_bad_csv_names_file_and_field(tmp_path, csv, field):
    p = tmp_path / "reqs.csv"
    p.write_text(csv)
    r = _run(p)
    assert r.exit_code == 2, r.output
    assert "reqs.csv" in r.output and field in r.output


def test_sglang_without_details_says_how_to_get_them(tmp_path):
    p = tmp_path / "out.jsonl"
    p.write_text(json.dumps({"duration": 3.0, "completed": 2}) + "\n")
    r = _run(p)
    assert r.exit_code == 2 and "--output-details" in r.output


def test_unknown_gpu_and_bad_counts_exit_2(tmp_path):
    p = tmp_path / "bench.json"
    p.write_text(json.dumps(GOOD))
    r = CliRunner().invoke(app, ["measure", str(p), "--gpu", "h100", "--num-gpus", "1", "--ttft-p99-ms", "5",
                                 "--tpot-p99-ms", "5"])
    assert r.exit_code == 2 and "h100-sxm" in r.output
    r = CliRunner().invoke(app, ["measure", str(p), *ARGS[:2], "--num-gpus", "0", *ARGS[4:]])
    assert r.exit_code == 2 and "--num-gpus" in r.output
