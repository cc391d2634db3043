"""Reading the measured (AIConfigurator silicon_sample) format and rebuilding rows as scenarios."""

from importlib import resources
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from costcorrect.errors import InputError
from costcorrect.serving import measured as M

FIXTURE = Path(__file__).parent / "data" / "measured_fixture.csv"


@pytest.fixture(scope="module")
def fixture_rows():
    return M.read_measured(FIXTURE)


def test_fixture_parses_typed(fixture_rows):
    assert len(fixture_rows) == 37
    r = fixture_rows[0]
    assert isinstance(r.isl, int) and isinstance(r.silicon_ttft_ms, float)
    assert len({x.id for x in fixture_rows}) == len(fixture_rows)


def test_every_row_is_built_or_skipped_with_a_reason(fixture_rows, catalog):
    known = set(catalog.table("models")["id"])
    built, skipped = M.rebuild_rows(fixture_rows, known)
    assert len(built) + len(skipped) == len(fixture_rows)
    assert [s["id"] for s in skipped] + [b["id"] for b in built] != []
    assert {s["id"] for s in skipped}.isdisjoint({b["id"] for b in built})
    assert all(set(s) == {"id", "reason"} and s["reason"] for s in skipped)
    reasons = " | ".join(s["reason"] for s in skipped)
    for expected in ("silicon_concurrency", "worker counts unknown", "NVLink domain", "inconsistent layout"):
        assert expected in reasons
    gpus = set(catalog.table("gpus")["id"])
    for b in built:
        assert b["model"] in known and b["gpu"] in gpus
        assert b["engine"] in M.ENGINES
        assert b["workload"]["arrival"] == "closed" and b["workload"]["concurrency"] >= 1
        assert b["measured"]["ttft_ms"] > 0 and b["measured"]["tpot_ms"] > 0
        assert b["precision"]["weights"] in ("bf16", "fp8", "fp4", "int4")
        if b["architecture"] == "colocated":
            gpus_per_replica = b["tensor_parallel"] * b["attention_data_parallel"]
            assert gpus_per_replica == b["gpus_per_replica"] <= 8
            if b["model"] in M.MOE_MODELS:
                assert b["moe_tensor_parallel"] * b["expert_parallel"] == gpus_per_replica


def test_rebuild_values_from_the_raw_line(fixture_rows):
    built, _ = M.rebuild_rows(fixture_rows)
    by_id = {b["id"]: b for b in built}
    # First line of the file: DeepSeek-V3 on 8 x H200, SGLang, FP8, c=4, 1024/1024.
    b = by_id["dsr1_h200_sglang_fp8_agg_1024x1024_c4_cfg81"]
    assert (b["model"], b["gpu"], b["engine"]) == ("deepseek-v3", "h200-sxm", "sglang")
    assert b["precision"]["weights"] == "fp8" and b["tensor_parallel"] == 8
    assert b["workload"]["concurrency"] == 4
    assert b["workload"]["prompt_tokens"]["mean"] == 1024
    assert b["measured"] == {"ttft_ms": 259.9114292766899, "tpot_ms": 10.29225441516629}
    gpt = [x for x in built if x["model"] == "gpt-oss-120b" and x["source"]["precision"] == "fp4"]
    assert gpt and all(x["precision"]["fp4_format"] == "mxfp4" for x in gpt)
    assert all(x["precision"]["scope"] == "routed_experts" for x in gpt)
    kimi = [x for x in built if x["model"] == "kimi-k2.5"]
    assert kimi and kimi[0]["precision"]["weights"] == "int4"
    dis = [x for x in built if x["architecture"] == "disaggregated"]
    assert dis
    for x in dis:
        assert x["prefill_num_workers"] >= 1 and x["decode_num_workers"] >= 1
        assert x["tensor_parallel"] == x["decode_tensor_parallel"]
    assert any(x["source"]["model_path"] == "zhipuai/GLM-5" and x["model"] == "glm-5" for x in built)


def test_unknown_model_is_skipped_not_raised(fixture_rows):
    built, skipped = M.rebuild_rows(fixture_rows, known_models={"llama-3.1-8b"})
    assert built and all(b["model"] == "llama-3.1-8b" for b in built)
    assert any("unknown model" in s["reason"] for s in skipped)


def test_summary_counts(fixture_rows):
    s = M.summarize(fixture_rows)
    assert s["rows"] == 37
    for key in ("models", "engines", "modes", "systems", "precisions"):
        assert sum(s[key].values()) == 37
    assert set(s["engines"]) == {"sglang", "trtllm", "vllm"}
    assert set(s["modes"]) == {"agg", "disagg"}
    assert len(s["models"]) == 12
    assert sum(c["n"] for c in s["combinations"]) == 37


def test_shipped_full_file_matches_its_readme():
    # Counts published in shared/data/measured/README.md.
    path = resources.files("costcorrect") / "data" / "measured" / "aic_silicon_sample_hopper.csv"
    rows = M.parse_measured_csv(path.read_text(encoding="utf-8"))
    s = M.summarize(rows)
    assert s["rows"] == 1884
    assert s["systems"] == {"h100_sxm": 917, "h200_sxm": 967}
    assert s["modes"] == {"agg": 1593, "disagg": 291}
    assert sum(1 for r in rows if r.client_concurrency is None) == 15
    assert sum(1 for r in rows if r.mode == "disagg" and r.prefill_num_workers) == 43
    built, skipped = M.rebuild_rows(rows)
    assert len(built) + len(skipped) == 1884


@pytest.mark.parametrize("text,field", [
    ("", "measured"),
    ("id,backend\nx,vllm\n", "measured header"),
    (",".join(M.COLUMNS[::-1]) + "\n", "measured header"),
])
def test_bad_files_raise_input_error(text, field):
    with pytest.raises(InputError) as ei:
        M.parse_measured_csv(text)
    assert ei.value.field == field


def test_bad_cell_names_row_and_column():
    line = FIXTURE.read_text(encoding="utf-8").splitlines()
    assert ",agg,1024," in line[1]
    bad = line[0] + "\n" + line[1].replace(",agg,1024,", ",agg,lots,", 1) + "\n"
    with pytest.raises(InputError) as ei:
        M.parse_measured_csv(bad)
    assert ei.value.field.endswith(".isl") and "dsr1_h200_sglang" in ei.value.field
    with pytest.raises(InputError):
        M.read_measured(FIXTURE.parent / "no_such_file.csv")


@given(st.integers(1, 10_000), st.sampled_from(["", "config_id=3; ", "source_file=a.csv; "]),
       st.sampled_from(["", "; measured=2026-03-25", "; image=x:1"]))
@settings(max_examples=50, deadline=None)
def test_concurrency_field_parsed(c, pre, post):
    line = FIXTURE.read_text(encoding="utf-8").splitlines()
    row = M.parse_measured_csv(line[0] + "\n" + line[1] + "\n")[0]
    src = f"{pre}silicon_concurrency={c}{post}"
    assert M.MeasuredRow(**{**row.__dict__, "silicon_data_source": src}).client_concurrency == c
    other = M.MeasuredRow(**{**row.__dict__, "silicon_data_source": f"{pre}xsilicon_concurrency_total={c}"})
    assert other.client_concurrency is None
