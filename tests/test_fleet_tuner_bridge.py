"""The fleet planner reads `costcorrect tune` output (issue 5 -> issue 12) without hand mapping."""

from __future__ import annotations

import pandas as pd
import pytest

from costcorrect.catalog import Catalog
from costcorrect.errors import InputError
from costcorrect.fleet.capacity import capacity_frame, is_tuner_table, tuner_rows_to_capacity
from costcorrect.fleet.spec import FleetSpec


def tuner_frame() -> pd.DataFrame:
    base = {"task_id": "t", "model": "llama-2-70b", "gpu": "h100-sxm", "status": "ok", "note": None}
    rows = [
        # 2 chunked TP4 groups -> 2 replicas of 4 GPUs, 5 req/s each
        {**base, "config_id": "aaaaaaaa11", "num_requests": 2000, "architecture": "chunked", "tensor_parallel": 4,
         "num_gpus": 8, "slo_ttft_p99_ms": 500.0, "slo_tpot_p99_ms": 50.0, "capacity_rate_per_s": 10.0},
        # a smaller halving rung of the same config: ignored
        {**base, "config_id": "aaaaaaaa11", "num_requests": 250, "architecture": "chunked", "tensor_parallel": 4,
         "num_gpus": 8, "slo_ttft_p99_ms": 500.0, "slo_tpot_p99_ms": 50.0, "capacity_rate_per_s": 99.0},
        # disaggregated 1P:1D at TP4: one unit of 8 GPUs
        {**base, "config_id": "bbbbbbbb22", "num_requests": 2000, "architecture": "disaggregated",
         "tensor_parallel": 4, "num_gpus": 8, "slo_ttft_p99_ms": 500.0, "slo_tpot_p99_ms": 50.0,
         "capacity_rate_per_s": 7.0},
        # a bin no fleet tier uses: dropped
        {**base, "config_id": "aaaaaaaa11", "num_requests": 2000, "architecture": "chunked", "tensor_parallel": 4,
         "num_gpus": 8, "slo_ttft_p99_ms": 200.0, "slo_tpot_p99_ms": 30.0, "capacity_rate_per_s": 3.0},
        # no capacity: dropped
        {**base, "config_id": "cccccccc33", "num_requests": 2000, "architecture": "colocated", "tensor_parallel": 4,
         "num_gpus": 4, "slo_ttft_p99_ms": 500.0, "slo_tpot_p99_ms": 50.0, "capacity_rate_per_s": None,
         "status": "no-capacity"},
    ]
    return pd.DataFrame(rows)


def spec(table: str) -> FleetSpec:
    return FleetSpec.model_validate({
        "models": [{"name": "chat", "model": "llama-2-70b", "demand_rate_per_s": 12.0, "prompt_tokens": 1155,
                    "output_tokens": 211, "slo_tier": "interactive"}],
        "offers": [{"name": "h100", "gpu": "h100-sxm", "price_usd_per_gpu_hour": 3.0, "gpus_per_node": 8}],
        "capacity": {"source": "table", "table": table}})


def test_tuner_rows_map_to_per_replica_capacity(tmp_path):
    df = tuner_frame()
    assert is_tuner_table(df)
    out = tuner_rows_to_capacity(df, spec("x")).sort_values("architecture").reset_index(drop=True)
    assert list(out["architecture"]) == ["chunked", "disaggregated"]
    assert list(out["gpus_per_replica"]) == [4, 8]
    assert list(out["capacity_rate_per_s"]) == [5.0, 7.0]
    assert set(out["slo_tier"]) == {"interactive"} and set(out["model"]) == {"chat"}


def test_fleet_reads_a_tuner_parquet_file(tmp_path):
    path = tmp_path / "tuned.parquet"
    tuner_frame().to_parquet(path)
    frame = capacity_frame(spec(str(path)), Catalog.load())
    assert len(frame) == 2


def test_tuner_table_without_matching_tier_says_so():
    df = tuner_frame()
    df["slo_ttft_p99_ms"] = 123.0
    with pytest.raises(InputError, match="fleet tier"):
        tuner_rows_to_capacity(df, spec("x"))
