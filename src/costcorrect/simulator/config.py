"""Simulator scenarios: a pydantic model loaded from YAML/TOML (issue-4 keys are a contract).

The issue-4 keys (``model``, ``gpu``, ``tensor_parallel``, ``architecture``, ``chunk_tokens``,
``prefill_instances``, ``decode_instances``, ``kv_bandwidth_gb_s``, ``workload.*``,
``slo.*``, ``seed``) must keep loading; everything else has a documented default.
Unknown keys are rejected with the nearest valid key, so a typo never silently
falls back to a default.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from costcorrect.errors import InputError
from costcorrect.scenario import describe_validation_error, model_at, read_document, resolve_relative, set_dotted

Architecture = Literal["colocated", "chunked", "disaggregated"]
ARCHITECTURES: tuple[str, ...] = ("colocated", "chunked", "disaggregated")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LengthDist(_Strict):
    """A token-length distribution; draws are rounded to integers ≥ ``min``."""

    dist: Literal["fixed", "uniform", "lognormal", "empirical"] = "fixed"
    mean: float | None = Field(None, gt=0, le=10_000_000, description="mean length [tokens]")
    cv: float = Field(1.0, ge=0, le=20, description="coefficient of variation (lognormal) [-]")
    min: int = Field(1, ge=1, le=10_000_000, description="smallest length [tokens]")
    max: int = Field(1_000_000, ge=1, le=10_000_000, description="largest length [tokens]")
    values: list[int] | None = Field(None, description="empirical: lengths to resample [tokens]")
    file: str | None = Field(None, description="empirical: CSV with one column of lengths")
    column: str | None = Field(None, description="empirical: column name in `file`")

    @model_validator(mode="after")
    def _complete(self):
        if self.dist in ("fixed", "uniform", "lognormal") and self.mean is None:
            raise ValueError(f"dist {self.dist} needs `mean`")
        if self.dist == "empirical" and not (self.values or self.file):
            raise ValueError("dist empirical needs `values` or `file`")
        if self.max < self.min:
            raise ValueError("`max` must be >= `min`")
        return self


class SimWorkload(_Strict):
    """Arrivals and request shapes."""

    arrival: Literal["poisson", "gamma", "trace", "closed"] = "poisson"
    rate_per_s: float | None = Field(2.0, gt=0, le=1_000_000, description="mean arrival rate [req/s]")
    num_requests: int = Field(2000, ge=1, le=100_000_000, description="requests to simulate [-]")
    cv: float = Field(2.0, gt=0, le=50, description="gamma: inter-arrival coefficient of variation [-]")
    concurrency: int | None = Field(None, ge=1, le=1_000_000,
                                    description="closed: requests in flight at all times [-]")
    prompt_tokens: LengthDist = LengthDist(dist="lognormal", mean=1155, cv=1.0)
    output_tokens: LengthDist = LengthDist(dist="lognormal", mean=211, cv=1.0)
    trace: str | None = Field(None, description="Azure LLM trace CSV or Mooncake JSONL path")
    trace_format: Literal["auto", "azure", "mooncake"] = "auto"

    @model_validator(mode="after")
    def _complete(self):
        if self.arrival == "trace" and not self.trace:
            raise ValueError("arrival trace needs `trace` (a file path)")
        if self.arrival == "closed" and self.concurrency is None:
            raise ValueError("arrival closed needs `concurrency`")
        if self.arrival in ("poisson", "gamma") and self.rate_per_s is None:
            raise ValueError(f"arrival {self.arrival} needs `rate_per_s`")
        return self


class SimSLO(_Strict):
    ttft_p99_ms: float = Field(500.0, gt=0, le=3_600_000, description="TTFT bound [ms]")
    tpot_p99_ms: float = Field(50.0, gt=0, le=600_000, description="per-token bound [ms]")
    tpot_basis: Literal["mean", "max_itl"] = Field(
        "mean", description="what the per-token bound applies to: each request's mean TPOT (vLLM's "
                            "definition) or its longest inter-token gap (a per-token tail contract)")


class SimEfficiency(_Strict):
    """Execution-time model factors; defaults come from the catalog (``efficiency.yaml``)."""

    mfu: float | None = Field(None, gt=0, le=1, description="achieved share of peak FLOP/s [-]")
    mbu: float | None = Field(None, gt=0, le=1, description="achieved share of peak HBM bandwidth [-]")
    overhead_ms: float | None = Field(None, ge=0, le=1000, description="fixed cost per iteration [ms]")
    memory_fraction: float | None = Field(None, gt=0, le=1, description="usable HBM share [-]")
    comm_latency_us: float = Field(0.0, ge=0, le=10_000,
                                   description="fixed latency per TP all-reduce call [us]")


class SimPrecision(_Strict):
    """Weights and KV-cache precision (issue 14). ``fp4`` is NVFP4 or MXFP4 by ``fp4_format``."""

    weights: Literal["bf16", "fp8", "fp4", "int4"] = "bf16"
    kv_cache: Literal["bf16", "fp8"] = "bf16"
    fp4_format: Literal["nvfp4", "mxfp4"] = "nvfp4"
    scope: Literal["linear", "routed_experts"] = Field(
        "linear", description="which weights the checkpoint quantizes (the rest stay BF16)")
    native: bool = Field(False, description="require tensor cores at the weight precision "
                                            "(else low-bit weights may run weight-only in BF16)")


ENGINES: tuple[str, ...] = ("vllm", "sglang", "trtllm", "generic")
_ROLE_KEYS = ("tensor_parallel", "expert_parallel", "attention_data_parallel", "moe_tensor_parallel")


class SimScenario(_Strict):
    """One simulated deployment under one workload and contract."""

    name: str = "custom"
    model: str = "llama-2-70b"
    gpu: str = "h100-sxm"
    tensor_parallel: int = Field(4, ge=1, le=576, description="GPUs per replica [-]")
    architecture: Architecture = "chunked"
    replicas: int = Field(1, ge=1, le=100_000, description="colocated/chunked: replicas [-]")
    chunk_tokens: int = Field(512, ge=16, le=1_000_000, description="chunked: token budget per iteration")
    prefill_instances: int = Field(1, ge=1, le=100_000, description="disaggregated: prefill replicas")
    decode_instances: int = Field(1, ge=1, le=100_000, description="disaggregated: decode replicas")
    kv_bandwidth_gb_s: float = Field(50.0, gt=0, le=10_000_000,
                                     description="disaggregated: KV link per prefill replica [GB/s]")
    overlap_eta: float = Field(0.5, ge=0, le=1, description="share of KV transfer hidden by decode [-]")
    weight_dtype: Literal["bf16", "fp8"] = Field("bf16", description="alias of precision.weights")
    kv_dtype: Literal["bf16", "fp8"] = Field("bf16", description="alias of precision.kv_cache")
    # --- issue 14 -------------------------------------------------------------------------
    engine: Literal["vllm", "sglang", "trtllm", "generic"] | None = Field(
        None, description="engine profile (fitted efficiencies + scheduler defaults); None = issue-4 behaviour")
    precision: SimPrecision | None = None
    expert_parallel: int = Field(1, ge=1, le=1024, description="MoE expert-parallel degree (moe_ep) [-]")
    attention_data_parallel: int = Field(1, ge=1, le=1024, description="attention data-parallel ranks [-]")
    moe_tensor_parallel: int | None = Field(None, ge=1, le=1024,
                                            description="MoE tensor-parallel degree; default tp x adp / ep")
    prefill_tensor_parallel: int | None = Field(None, ge=1, le=576)
    decode_tensor_parallel: int | None = Field(None, ge=1, le=576)
    prefill_expert_parallel: int | None = Field(None, ge=1, le=1024)
    decode_expert_parallel: int | None = Field(None, ge=1, le=1024)
    prefill_attention_data_parallel: int | None = Field(None, ge=1, le=1024)
    decode_attention_data_parallel: int | None = Field(None, ge=1, le=1024)
    prefill_moe_tensor_parallel: int | None = Field(None, ge=1, le=1024)
    decode_moe_tensor_parallel: int | None = Field(None, ge=1, le=1024)
    price_usd_per_gpu_hour: float | None = Field(None, gt=0, le=1000)
    block_size_tokens: int = Field(16, ge=1, le=4096, description="paged-KV block [tokens]")
    max_batch_tokens: int = Field(8192, ge=16, le=10_000_000,
                                  description="colocated/prefill: tokens per prefill iteration")
    max_batch_requests: int = Field(256, ge=1, le=100_000, description="running requests per replica")
    dispatch: Literal["least-loaded", "round-robin"] = "least-loaded"
    token_convention: Literal["output", "prompt+output"] = "output"
    workload: SimWorkload = SimWorkload()
    slo: SimSLO = SimSLO()
    efficiency: SimEfficiency = SimEfficiency()
    latency_table: str | None = Field(None, description="CSV of measured iteration times (table predictor)")
    catalog_overlay: str | None = None
    seed: int = Field(0, ge=0, le=2**63 - 1)

    @model_validator(mode="after")
    def _aliases(self):
        if self.precision is not None:
            given = self.model_fields_set
            if "weight_dtype" in given and self.weight_dtype != self.precision.weights:
                raise ValueError(f"weight_dtype {self.weight_dtype} contradicts precision.weights "
                                 f"{self.precision.weights} (weight_dtype is an alias; set one)")
            if "kv_dtype" in given and self.kv_dtype != self.precision.kv_cache:
                raise ValueError(f"kv_dtype {self.kv_dtype} contradicts precision.kv_cache "
                                 f"{self.precision.kv_cache} (kv_dtype is an alias; set one)")
        if self.engine is not None:
            # Engine profile: its scheduler defaults fill what the scenario leaves unset;
            # `colocated` (one pool) becomes the engine's own single-pool scheduler.
            from costcorrect.simulator.profiles import scheduler_defaults

            sched = scheduler_defaults(self.engine)
            given = set(self.model_fields_set)
            for key in ("chunk_tokens", "max_batch_tokens", "max_batch_requests"):
                if key not in given and key in sched:
                    object.__setattr__(self, key, int(sched[key]))
            if self.architecture != "disaggregated" and (
                    "architecture" not in given or self.architecture == "colocated"):
                object.__setattr__(self, "architecture", sched["architecture"])
        return self

    @property
    def effective_precision(self) -> dict | None:
        """``precision`` as a dict, or None when only the legacy aliases are used."""
        return None if self.precision is None else self.precision.model_dump()

    @property
    def weights_precision(self) -> str:
        return self.precision.weights if self.precision is not None else self.weight_dtype

    @property
    def kv_precision(self) -> str:
        return self.precision.kv_cache if self.precision is not None else self.kv_dtype

    def role_layout(self, role: str | None = None) -> dict:
        """``{tensor_parallel, expert_parallel, attention_data_parallel, moe_tensor_parallel}``
        of a disaggregated role (``prefill``/``decode``; unset keys default to the replica's)."""
        out = {k: getattr(self, k) for k in _ROLE_KEYS}
        if role in ("prefill", "decode"):
            for k in _ROLE_KEYS:
                v = getattr(self, f"{role}_{k}")
                if v is not None:
                    out[k] = v
        return out

    def gpus_per_replica(self, role: str | None = None) -> int:
        """GPUs of one replica: tensor_parallel x attention_data_parallel. [-]"""
        lay = self.role_layout(role)
        return lay["tensor_parallel"] * lay["attention_data_parallel"]

    @property
    def num_gpus(self) -> int:
        if self.architecture == "disaggregated":
            return (self.prefill_instances * self.gpus_per_replica("prefill")
                    + self.decode_instances * self.gpus_per_replica("decode"))
        return self.replicas * self.gpus_per_replica()


# ----------------------------------------------------------------------------- loading
def sim_scenario_from_dict(doc, origin: str = "scenario", base_dir: Path | None = None) -> SimScenario:
    """Validate a mapping; relative file paths in it resolve against ``base_dir``."""
    if not isinstance(doc, dict):
        raise InputError(origin, type(doc).__name__, "a mapping of scenario fields")
    try:
        sc = SimScenario.model_validate(doc)
    except ValidationError as exc:
        raise describe_validation_error(SimScenario, exc, origin) from None
    if base_dir is not None:
        sc = _resolve_paths(sc, base_dir)
    return sc


def _resolve_paths(sc: SimScenario, base: Path) -> SimScenario:
    wl = sc.workload
    wl = wl.model_copy(update={
        "trace": resolve_relative(wl.trace, base),
        "prompt_tokens": wl.prompt_tokens.model_copy(update={"file": resolve_relative(wl.prompt_tokens.file, base)}),
        "output_tokens": wl.output_tokens.model_copy(update={"file": resolve_relative(wl.output_tokens.file, base)}),
    })
    return sc.model_copy(update={"workload": wl, "latency_table": resolve_relative(sc.latency_table, base),
                                 "catalog_overlay": resolve_relative(sc.catalog_overlay, base)})


def load_sim_scenario(path: str | Path | None = None) -> SimScenario:
    """Load a simulator scenario; ``None`` = the embedded default (``scenarios/simulate.yaml``)."""
    if path is None:
        text = (resources.files("costcorrect") / "scenarios" / "simulate.yaml").read_text("utf-8")
        return sim_scenario_from_dict(yaml.safe_load(text), "default simulate scenario")
    p = Path(path)
    return sim_scenario_from_dict(read_document(p), p.name, base_dir=p.parent)


def apply_sim_overrides(sc: SimScenario, assignments: list[str] | None) -> SimScenario:
    """``key.path=value`` overrides (YAML values); unknown paths name the nearest key.

    >>> apply_sim_overrides(SimScenario(), ["workload.rate_per_s=3", "architecture=colocated"]).workload.rate_per_s
    3.0
    """
    if not assignments:
        return sc
    # Only what the user set (defaults re-apply on validation), so aliases such as weight_dtype
    # are not re-sent beside `precision` and engine defaults can still yield to explicit keys.
    doc = sc.model_dump(exclude_unset=True)
    set_dotted(doc, assignments, example="workload.rate_per_s=3",
               section=lambda parts: model_at(SimScenario, parts) is not None)
    return sim_scenario_from_dict(doc, "--set")
