"""Fleet inputs (issue 12): models with demand, GPU offers, capacity sources — pydantic from YAML.

A fleet file has four parts (see ``docs/fleet.md`` and ``examples/fleet.yaml``):

- ``slo_tiers`` -- named latency contracts ``{ttft_p99_ms, tpot_p99_ms}``.
- ``models`` -- hosted models: demand [req/s], length mix [tokens], SLO tier, optional
  verifier accept rate α and a ``task`` label (models with the same task can answer each
  other's requests; used by the cost-correct objective).
- ``offers`` -- GPU offers: catalog GPU id, price [$/GPU-h] (given, or looked up in the
  catalog by provider + offering), tier (on-demand / reserved / spot), GPUs per node (the
  unit you rent), availability cap [GPUs], spot interruption rate and its expected cost.
- ``capacity`` -- where per-(model, GPU, config) capacity at the SLO comes from: a table
  (CSV/Parquet, the tuner's format), inline ``rows``, the closed-form serving model, or the
  discrete-event simulator (cached on disk).

No I/O happens in the model classes; :func:`load_fleet` reads the YAML file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from costcorrect.errors import InputError
from costcorrect.scenario import describe_validation_error, resolve_relative

Tier = Literal["on-demand", "reserved", "spot"]
Objective = Literal["cost", "cost-correct"]
OBJECTIVES: tuple[str, ...] = ("cost", "cost-correct")

#: Capacity-table columns (the contract the tuner's output should match; docs/fleet.md).
CAPACITY_COLUMNS = ("model", "gpu", "config", "tensor_parallel", "gpus_per_replica", "slo_tier",
                    "capacity_rate_per_s")
CAPACITY_OPTIONAL = ("default", "architecture", "source")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SLOTier(_Strict):
    ttft_p99_ms: float = Field(gt=0, le=3_600_000, description="p99 time to first token [ms]")
    tpot_p99_ms: float = Field(gt=0, le=600_000, description="p99 time per output token [ms]")


DEFAULT_TIERS = {
    "interactive": SLOTier(ttft_p99_ms=500.0, tpot_p99_ms=50.0),
    "relaxed": SLOTier(ttft_p99_ms=2000.0, tpot_p99_ms=100.0),
    "batch": SLOTier(ttft_p99_ms=30_000.0, tpot_p99_ms=200.0),
}


class FleetModel(_Strict):
    """One hosted model and its demand."""

    name: str = Field(min_length=1, max_length=200, description="fleet-unique label")
    model: str | None = Field(None, description="catalog model id (needed for computed capacity)")
    demand_rate_per_s: float = Field(gt=0, le=1_000_000, description="request (task) arrival rate [req/s]")
    prompt_tokens: float = Field(1024.0, gt=0, le=10_000_000, description="mean prompt length [tokens]")
    output_tokens: float = Field(256.0, gt=0, le=10_000_000, description="mean output length [tokens]")
    slo_tier: str = "interactive"
    accept_rate: float | None = Field(None, gt=0, le=1, description="verifier accept rate α [-]")
    task: str | None = Field(None, description="models sharing a task may serve each other's tasks")

    @property
    def task_label(self) -> str:
        return self.task or self.name


class GPUOffer(_Strict):
    """One way to buy a GPU class: a price, a tier and how many are available."""

    name: str = Field(min_length=1, max_length=200)
    gpu: str = Field(description="catalog GPU id")
    price_usd_per_gpu_hour: float | None = Field(None, gt=0, le=1000, description="[$/GPU-h]")
    provider: str | None = Field(None, description="catalog price row (with `offering`) when no price is given")
    offering: str | None = None
    tier: Tier = "on-demand"
    gpus_per_node: int = Field(8, ge=1, le=576, description="GPUs per rentable node [-]")
    available_gpus: int | None = Field(None, ge=0, le=10_000_000, description="availability cap [GPUs]")
    committed_gpus: int = Field(0, ge=0, le=10_000_000, description="reserved: GPUs paid for anyway [GPUs]")
    interruption_rate_per_hour: float = Field(0.0, ge=0, le=100, description="spot: interruptions [1/h]")
    recovery_s: float = Field(600.0, ge=0, le=86_400, description="spot: replica down time per interruption [s]")
    interruption_cost_usd: float = Field(0.0, ge=0, le=1_000_000,
                                         description="spot: expected cost of one node interruption [$]")
    price_source: str | None = None

    @model_validator(mode="after")
    def _price(self):
        if self.price_usd_per_gpu_hour is None and not (self.provider and self.offering):
            raise ValueError("give price_usd_per_gpu_hour, or provider + offering to look it up in the catalog")
        if self.tier != "spot" and (self.interruption_rate_per_hour > 0 or self.interruption_cost_usd > 0):
            raise ValueError("interruption_rate_per_hour / interruption_cost_usd apply to tier spot only")
        if self.committed_gpus and self.tier != "reserved":
            raise ValueError("committed_gpus applies to tier reserved only")
        return self

    @property
    def max_nodes(self) -> int | None:
        return None if self.available_gpus is None else self.available_gpus // self.gpus_per_node

    @property
    def committed_nodes(self) -> int:
        return -(-self.committed_gpus // self.gpus_per_node)


class ConfigSpec(_Strict):
    """A per-replica serving configuration for computed capacity."""

    name: str | None = None
    tensor_parallel: int = Field(1, ge=1, le=576)
    architecture: Literal["colocated", "chunked", "disaggregated"] = "chunked"
    chunk_tokens: int = Field(512, ge=16, le=1_000_000)
    weight_dtype: Literal["bf16", "fp8"] = "bf16"
    default: bool = False

    @property
    def label(self) -> str:
        if self.name:
            return self.name
        dt = "" if self.weight_dtype == "bf16" else f"-{self.weight_dtype}"
        return f"tp{self.tensor_parallel}-{self.architecture}{dt}"


class CapacityRow(_Strict):
    model: str
    gpu: str
    config: str
    tensor_parallel: int = Field(ge=1, le=576)
    gpus_per_replica: int = Field(ge=1, le=576)
    slo_tier: str = "interactive"
    capacity_rate_per_s: float = Field(ge=0, le=10_000_000, description="per replica at the SLO [req/s]")
    default: bool = False
    architecture: str | None = None
    source: str | None = None


class CapacitySource(_Strict):
    source: Literal["table", "rows", "closed-form", "simulator"] = "rows"
    table: str | None = Field(None, description="CSV or Parquet capacity table (tuner format)")
    rows: list[CapacityRow] = []
    configs: list[ConfigSpec] = [ConfigSpec(tensor_parallel=1), ConfigSpec(tensor_parallel=2),
                                 ConfigSpec(tensor_parallel=4), ConfigSpec(tensor_parallel=8)]
    queue_servers: int = Field(8, ge=1, le=512, description="closed-form: instances sharing a queue [-]")
    sim_requests: int = Field(600, ge=50, le=1_000_000, description="simulator: requests per probe [-]")
    sim_target: float = Field(0.99, gt=0, le=1, description="simulator: SLO attainment target [-]")
    sim_rel_tol: float = Field(0.05, gt=0, le=0.5, description="simulator: bisection tolerance [-]")
    cache_dir: str | None = Field(None, description="simulator: capacity cache folder")

    @model_validator(mode="after")
    def _complete(self):
        if self.source == "table" and not self.table:
            raise ValueError("source table needs `table` (a CSV or Parquet path)")
        if self.source == "rows" and not self.rows:
            raise ValueError("source rows needs a non-empty `rows` list")
        return self


class FleetSpec(_Strict):
    """A whole fleet-procurement problem."""

    name: str = "fleet"
    slo_tiers: dict[str, SLOTier] = {}
    models: list[FleetModel] = Field(min_length=1)
    offers: list[GPUOffer] = Field(min_length=1)
    capacity: CapacitySource
    mip_rel_gap: float = Field(1e-4, ge=0, le=0.5, description="MILP relative gap tolerance [-]")
    time_limit_s: float = Field(60.0, gt=0, le=3600, description="per-MILP wall-clock limit [s]")

    @model_validator(mode="after")
    def _unique(self):
        for what, names in (("models", [m.name for m in self.models]), ("offers", [o.name for o in self.offers])):
            dup = {n for n in names if names.count(n) > 1}
            if dup:
                raise ValueError(f"{what} names must be unique; repeated: {sorted(dup)}")
        return self

    def tiers(self) -> dict[str, SLOTier]:
        return {**DEFAULT_TIERS, **self.slo_tiers}


# ----------------------------------------------------------------------------- loading
def fleet_from_dict(doc, origin: str = "fleet", base_dir: Path | None = None) -> FleetSpec:
    """Validate a mapping into a :class:`FleetSpec`; errors become one-line :class:`InputError`."""
    if not isinstance(doc, dict):
        raise InputError(origin, type(doc).__name__, "a mapping with models, offers and capacity")
    try:
        spec = FleetSpec.model_validate(doc)
    except ValidationError as exc:
        raise describe_validation_error(FleetSpec, exc, origin) from None
    tiers = spec.tiers()
    for i, m in enumerate(spec.models):
        if m.slo_tier not in tiers:
            raise InputError(f"{origin}.models[{i}].slo_tier", m.slo_tier, f"one of {', '.join(tiers)}")
    spec.capacity.table = resolve_relative(spec.capacity.table, base_dir)
    spec.capacity.cache_dir = resolve_relative(spec.capacity.cache_dir, base_dir)
    return spec


def load_fleet(path: str | Path) -> FleetSpec:
    """Read a fleet YAML file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError("--fleet", str(path), f"a readable YAML file ({exc.strerror})") from None
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        where = f" (line {line + 1})" if line is not None else ""
        raise InputError("--fleet", f"{path}{where}", "valid YAML") from None
    return fleet_from_dict(doc, path.name, path.parent)
