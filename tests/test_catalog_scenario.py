import pytest

from costcorrect.catalog import TABLES, Catalog
from costcorrect.errors import InputError
from costcorrect.scenario import load_scenario


@pytest.mark.parametrize("name", TABLES)
def test_every_shipped_row_has_source_and_date(catalog, name):
    df = catalog.table(name)
    assert len(df) > 0
    assert df["source"].astype(str).str.len().min() > 10
    assert df["as_of"].astype(str).str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()


def test_required_ids_exist(catalog):
    for gpu in ("a100-sxm-80gb", "h100-sxm", "h200-sxm", "b200"):
        catalog.gpu(gpu)
    for model in ("llama-2-70b", "llama-3.1-8b", "llama-3.1-70b", "llama-3.1-405b",
                  "mixtral-8x7b", "opt-66b", "deepseek-v3"):
        catalog.model(model)
    for link in ("nvlink4", "roce-400g", "ib-hdr-200g"):
        catalog.interconnect(link)
    for system in ("vllm", "sarathi-serve", "distserve", "splitwise", "mooncake"):
        catalog.system(system)


def test_default_price_is_the_papers_coreweave_rate(catalog):
    row = catalog.default_price("h100-sxm")
    assert row["provider"] == "coreweave" and row["offering"] == "on-demand"
    assert row["usd_per_gpu_hour"] == pytest.approx(49.24 / 8, rel=1e-3)
    assert len(catalog.prices_for("h100-sxm")["provider"].unique()) >= 3


def test_unknown_ids_name_the_field_and_choices(catalog):
    with pytest.raises(InputError) as e:
        catalog.gpu("h900")
    assert e.value.field == "gpu" and "h100-sxm" in e.value.allowed


def test_user_overlay_adds_rows_without_editing_shipped_ones(tmp_path):
    overlay = tmp_path / "mine.yaml"
    overlay.write_text(
        "gpus:\n"
        "  - {id: my-gpu, name: Mine, hbm_capacity_gib: 96, hbm_bandwidth_gb_s: 4000,\n"
        "     bf16_dense_tflops: 900, fp8_dense_tflops: 1800, nvlink_bandwidth_gb_s: 900,\n"
        "     source: our lab sheet, as_of: '2026-11-01'}\n"
        "prices:\n"
        "  - {gpu_id: h100-sxm, provider: us, offering: reserved, usd_per_gpu_hour: 2.0,\n"
        "     source: contract 42, as_of: '2026-11-01'}\n"
    )
    cat = Catalog.load(overlay)
    assert cat.gpu("my-gpu")["hbm_bandwidth_gb_s"] == 4000
    assert cat.default_price("h100-sxm")["usd_per_gpu_hour"] == 2.0
    assert Catalog.load().default_price("h100-sxm")["provider"] == "coreweave"


@pytest.mark.parametrize("text,field", [
    ("gpus:\n  - {id: x, name: x}\n", "overlay mine.yaml:gpus"),
    ("gpus: [{id: x, name: x, hbm_capacity_gib: -1, hbm_bandwidth_gb_s: 1, bf16_dense_tflops: 1,"
     " fp8_dense_tflops: 1, nvlink_bandwidth_gb_s: 1, source: s, as_of: '2026-01-01'}]\n",
     "overlay mine.yaml:gpus.hbm_capacity_gib"),
    ("gpus: [\n", "catalog overlay"),
    ("cars: []\n", "catalog overlay table"),
])
def test_bad_overlays_are_clear_errors(tmp_path, text, field):
    p = tmp_path / "mine.yaml"
    p.write_text(text)
    with pytest.raises(InputError) as e:
        Catalog.load(p)
    assert e.value.field == field


def test_default_scenario_is_the_paper01_slice():
    sc = load_scenario()
    assert (sc.model, sc.gpu, sc.tensor_parallel) == ("llama-2-70b", "h100-sxm", 4)
    assert (sc.slo.ttft_p99_ms, sc.slo.tpot_p99_ms) == (500, 50)


@pytest.mark.parametrize("body,field", [
    ("overlap_eta: 1.5\n", "s.yaml.overlap_eta"),
    ("workload: {prompt_tokens: -3, output_tokens: 10}\n", "s.yaml.workload.prompt_tokens"),
    ("slo: {ttft_p99_ms: 0, tpot_p99_ms: 50}\n", "s.yaml.slo.ttft_p99_ms"),
    ("tensor_parallel: 0\n", "s.yaml.tensor_parallel"),
    ("modle: llama\n", "s.yaml.modle"),
    ("model: [unclosed\n", "scenario"),
])
def test_bad_scenarios_name_the_field(tmp_path, body, field):
    p = tmp_path / "s.yaml"
    p.write_text(body)
    with pytest.raises(InputError) as e:
        load_scenario(p)
    assert e.value.field == field


def test_toml_scenarios_load(tmp_path):
    p = tmp_path / "s.toml"
    p.write_text('model = "llama-3.1-8b"\ntensor_parallel = 1\n[slo]\nttft_p99_ms = 300\n'
                 'tpot_p99_ms = 40\n')
    sc = load_scenario(p)
    assert sc.model == "llama-3.1-8b" and sc.slo.ttft_p99_ms == 300
