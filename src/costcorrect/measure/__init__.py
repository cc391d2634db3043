"""Measured mode (issue 5): a benchmark run of your own → SLO attainment, goodput and
CPM_served [$ per million SLO-compliant tokens] with a bootstrap interval.

:mod:`readers` parse vLLM / SGLang benchmark output and a plain CSV into per-request
arrays; :mod:`metrics` holds the pure per-request SLO, goodput and CPM arithmetic the
simulator-based tuner reuses; :mod:`export` writes simulator records in vLLM's format.
"""

from __future__ import annotations

from costcorrect.catalog import Catalog, price_label
from costcorrect.errors import InputError, check_range
from costcorrect.measure.metrics import request_slo_met, served_summary
from costcorrect.measure.readers import FORMATS, MeasuredRun, read_measurement

__all__ = ["FORMATS", "MeasuredRun", "measure_run", "read_measurement", "request_slo_met", "resolve_price",
           "served_summary"]


def resolve_price(catalog: Catalog, gpu: str, price_usd_per_gpu_hour: float | None) -> tuple[float, str, dict | None]:
    """Price per GPU-hour, its label and the catalog row used (``None`` when given). [$/h]"""
    catalog.gpu(gpu)  # unknown GPU → InputError listing the known ones
    if price_usd_per_gpu_hour is not None:
        check_range("--price-usd-per-gpu-hour", price_usd_per_gpu_hour, 0, 1000, lo_open=True)
        return float(price_usd_per_gpu_hour), "given (--price-usd-per-gpu-hour)", None
    row = catalog.default_price(gpu)
    keep = ("gpu_id", "provider", "offering", "usd_per_gpu_hour", "source", "as_of")
    return float(row["usd_per_gpu_hour"]), price_label(row), {k: row.get(k) for k in keep}


def measure_run(run: MeasuredRun, catalog: Catalog, *, gpu: str, num_gpus: int, ttft_slo_ms: float,
                tpot_slo_ms: float, price_usd_per_gpu_hour: float | None = None, token_convention: str = "output",
                n_bootstrap: int = 2000, seed: int = 0) -> dict:
    """CPM_served of a measured run under a contract, with the price row it used."""
    if not isinstance(num_gpus, int) or num_gpus < 1:
        raise InputError("--num-gpus", num_gpus, "an integer >= 1")
    check_range("--ttft-p99-ms", ttft_slo_ms, 0, None, lo_open=True)
    check_range("--tpot-p99-ms", tpot_slo_ms, 0, None, lo_open=True)
    if token_convention not in ("output", "prompt+output"):
        raise InputError("--token-convention", token_convention, "output or prompt+output")
    if n_bootstrap < 0:
        raise InputError("--bootstrap", n_bootstrap, "an integer >= 0")
    price, label, row = resolve_price(catalog, gpu, price_usd_per_gpu_hour)
    s = served_summary(prompt_tokens=run.prompt_tokens, output_tokens=run.output_tokens, ttft_ms=run.ttft_ms,
                       tpot_ms=run.tpot_ms, success=run.success, e2e_ms=run.e2e_ms, arrival_s=run.arrival_s,
                       duration_s=run.duration_s,
                       ttft_slo_ms=ttft_slo_ms, tpot_slo_ms=tpot_slo_ms, price_usd_per_gpu_hour=price,
                       num_gpus=num_gpus, token_convention=token_convention, n_bootstrap=n_bootstrap, seed=seed)
    return {"file": run.path, "format": run.format, "gpu": gpu, **s, "price_source": label, "price_row": row,
            "notes": list(run.notes)}
