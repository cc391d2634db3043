"""Scenarios: pydantic models loaded from YAML/TOML, validated at the boundary."""

from __future__ import annotations

import difflib
import tomllib
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from costcorrect.errors import InputError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SLO(_Strict):
    """A p99 latency contract."""

    ttft_p99_ms: float = Field(gt=0, le=600_000, description="p99 time to first token [ms]")
    tpot_p99_ms: float = Field(gt=0, le=60_000, description="p99 mean time per output token [ms]")


class Workload(_Strict):
    """Mean request shape."""

    name: str = "custom"
    prompt_tokens: float = Field(gt=0, le=10_000_000, description="mean prompt length P [tokens]")
    output_tokens: float = Field(gt=0, le=10_000_000, description="mean output length D [tokens]")
    source: str = "user"


class Efficiency(_Strict):
    mfu: float = Field(0.5, gt=0, le=1, description="prefill model FLOPs utilisation [-]")
    mbu: float = Field(0.8, gt=0, le=1, description="decode HBM bandwidth utilisation [-]")
    overhead_ms: float = Field(2.0, ge=0, le=1000, description="per-pass fixed cost [ms]")
    memory_fraction: float = Field(0.9, gt=0, le=1, description="usable HBM share [-]")


class BreakevenGrid(_Strict):
    alpha_min: float = Field(0.2, gt=0, lt=1)
    alpha_max: float = Field(0.97, gt=0, lt=1)
    alpha_steps: int = Field(200, ge=2, le=2000)
    bandwidth_min_gb_s: float = Field(25.0, gt=0)
    bandwidth_max_gb_s: float = Field(900.0, gt=0)
    bandwidth_steps: int = Field(200, ge=2, le=2000)

    @model_validator(mode="after")
    def _ordered(self):
        if self.alpha_max <= self.alpha_min:
            raise ValueError("alpha_max must exceed alpha_min")
        if self.bandwidth_max_gb_s <= self.bandwidth_min_gb_s:
            raise ValueError("bandwidth_max_gb_s must exceed bandwidth_min_gb_s")
        return self


class Scenario(_Strict):
    """Everything one frontier run needs; defaults are paper 01's reference slice."""

    name: str = "custom"
    model: str = "llama-2-70b"
    gpu: str = "h100-sxm"
    tensor_parallel: int = Field(4, ge=1, le=64, description="GPUs per instance [-]")
    price_usd_per_gpu_hour: float | None = Field(None, gt=0, le=1000)
    weight_dtype: Literal["bf16", "fp8"] = "bf16"
    kv_dtype: Literal["bf16", "fp8"] = "bf16"
    workload: Workload = Workload(name="azure-conv-2023", prompt_tokens=1155, output_tokens=211)
    slo: SLO = SLO(ttft_p99_ms=500, tpot_p99_ms=50)
    slo_bins: list[SLO] = Field(
        default_factory=lambda: [SLO(ttft_p99_ms=200, tpot_p99_ms=30),
                                 SLO(ttft_p99_ms=500, tpot_p99_ms=50),
                                 SLO(ttft_p99_ms=1000, tpot_p99_ms=80)],
        min_length=1,
    )
    overlap_eta: float = Field(0.5, ge=0, le=1, description="KV-transfer overlap η [-]")
    queue_servers: int = Field(8, ge=1, le=512, description="instances sharing a queue [-]")
    token_convention: Literal["output", "prompt+output"] = "output"
    systems: list[str] = Field(
        default_factory=lambda: ["vllm", "sarathi-serve", "distserve", "splitwise", "mooncake"],
        min_length=1,
    )
    hardware: list[str] = Field(
        default_factory=lambda: ["a100-sxm-80gb", "h100-sxm", "h200-sxm", "b200"], min_length=1
    )
    efficiency: Efficiency = Efficiency()
    breakeven: BreakevenGrid = BreakevenGrid()
    catalog_overlay: str | None = None


def model_at(model: type[BaseModel], loc: tuple) -> type[BaseModel] | None:
    """The pydantic model class that owns the field at ``loc[:-1]``."""
    current = model
    for part in loc[:-1]:
        if not isinstance(part, str):
            continue
        field = current.model_fields.get(part)
        if field is None:
            return None
        ann = field.annotation
        candidates = [ann, *getattr(ann, "__args__", ())]
        nxt = next((c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None)
        if nxt is None:
            return None
        current = nxt
    return current


def _nearest_key(model: type[BaseModel], loc: tuple) -> str:
    owner = model_at(model, loc)
    if owner is None:
        return "no such field (check spelling)"
    valid = list(owner.model_fields)
    close = difflib.get_close_matches(str(loc[-1]), valid, n=1, cutoff=0.5)
    hint = f"did you mean '{close[0]}'? " if close else ""
    return f"no such field; {hint}valid: {', '.join(valid)}"


def describe_validation_error(model: type[BaseModel], exc: ValidationError, origin: str) -> InputError:
    """Turn pydantic's first error into an :class:`InputError` naming field and allowed range."""
    err = exc.errors()[0]
    loc = tuple(err["loc"])
    field = ".".join(str(p) for p in loc) or "scenario"
    ctx = err.get("ctx") or {}
    kind = err["type"]
    if kind == "extra_forbidden":
        allowed = _nearest_key(model, loc)
    else:
        allowed = {
            "greater_than": lambda: f"> {ctx.get('gt')}",
            "greater_than_equal": lambda: f">= {ctx.get('ge')}",
            "less_than": lambda: f"< {ctx.get('lt')}",
            "less_than_equal": lambda: f"<= {ctx.get('le')}",
            "literal_error": lambda: f"one of {ctx.get('expected')}",
            "missing": lambda: "a value (required)",
        }.get(kind, lambda: str(err["msg"]).removeprefix("Value error, "))()
    return InputError(f"{origin}.{field}" if field != "scenario" else origin, err.get("input"), allowed)


def scenario_from_dict(doc: dict, origin: str = "scenario") -> Scenario:
    if not isinstance(doc, dict):
        raise InputError(origin, type(doc).__name__, "a mapping of scenario fields")
    try:
        return Scenario.model_validate(doc)
    except ValidationError as exc:
        raise describe_validation_error(Scenario, exc, origin) from None


def read_document(path: str | Path, field: str = "scenario") -> object:
    """Parse a YAML (``.yaml``/``.yml``) or TOML (``.toml``) file; bad files raise :class:`InputError`
    naming ``field``, the file and (for YAML) the line."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(field, str(p), f"a readable file ({exc.strerror})") from None
    try:
        return tomllib.loads(text) if p.suffix == ".toml" else yaml.safe_load(text)
    except (yaml.YAMLError, tomllib.TOMLDecodeError) as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise InputError(field, f"{p.name}{where}", "valid YAML or TOML") from None


def resolve_relative(path: str | None, base_dir: Path | None) -> str | None:
    """A path from a config file, relative to that file's folder; absolute paths and None unchanged."""
    if path is None or base_dir is None or Path(path).is_absolute():
        return path
    return str((base_dir / path).resolve())


def load_scenario(path: str | Path | None = None) -> Scenario:
    """Load a YAML (``.yaml``/``.yml``) or TOML (``.toml``) scenario; ``None`` = embedded default."""
    if path is None:
        text = (resources.files("costcorrect") / "scenarios" / "default.yaml").read_text("utf-8")
        return scenario_from_dict(yaml.safe_load(text), "default scenario")
    return scenario_from_dict(read_document(path), Path(path).name)


def set_dotted(doc: dict, assignments: list[str], *, example: str, section=None) -> dict:
    """Apply ``key.path=value`` assignments (values parsed as YAML) to a nested dict in place.

    ``section(parts)`` may say that a missing intermediate key names a nested section, which
    is then created empty; otherwise every intermediate key must already hold a mapping.
    """
    for item in assignments:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise InputError("--set", item, f"key.path=value, e.g. {example}")
        try:
            value = yaml.safe_load(raw)
        except yaml.YAMLError:
            raise InputError(f"--set {key}", raw, "a YAML scalar, list or mapping") from None
        node = doc
        parts = key.strip().split(".")
        for i, part in enumerate(parts[:-1]):
            if part not in node and section is not None and section(tuple(parts[: i + 2])):
                node[part] = {}  # a nested section left at its defaults
            if not isinstance(node.get(part), dict):
                raise InputError("--set", key, "a path to an existing scenario field")
            node = node[part]
        node[parts[-1]] = value
    return doc


def apply_overrides(scenario: Scenario, assignments: list[str] | None) -> Scenario:
    """Apply ``key.path=value`` overrides (values parsed as YAML) and re-validate.

    >>> apply_overrides(Scenario(), ["slo.ttft_p99_ms=300", "gpu=h200-sxm"]).slo.ttft_p99_ms
    300.0
    """
    if not assignments:
        return scenario
    doc = set_dotted(scenario.model_dump(), assignments, example="slo.ttft_p99_ms=300")
    return scenario_from_dict(doc, "--set")
