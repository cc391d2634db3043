"""Search spaces for ``costcorrect tune``: dotted scenario keys → lists of values.

A space file is a YAML/TOML mapping. Every key except the reserved ones is a dotted
simulator-scenario key (``architecture``, ``tensor_parallel``, ``gpu``,
``workload.rate_per_s``, ...) mapped to the list of values to try; the grid is their
product. Reserved keys:

- ``slo``: the SLO bins, a list of ``{ttft_p99_ms, tpot_p99_ms}`` contracts (or
  ``slo.ttft_p99_ms`` / ``slo.tpot_p99_ms`` lists, crossed). A configuration is a
  deployment *and* a bin; configurations that differ only in their bin share their
  simulations (one capacity search serves every bin).
- ``settings``: ``target`` (SLO attainment, default 0.99), ``rel_tol`` (capacity
  bisection tolerance, default 0.05), ``max_configs`` (guard, default 5000).

Combinations that do not apply are removed: a knob that the configuration's
architecture ignores (``chunk_tokens`` outside ``chunked``; ``replicas`` for
``disaggregated``; the P/D knobs outside ``disaggregated``; ``max_batch_tokens`` for
``chunked``) collapses to "not applicable", so e.g. colocated × 4 chunk sizes is one
configuration, not four. Deployments that cannot run (the model does not fit the
replica's HBM, a dtype the GPU lacks) are dropped with the reason, before any
simulation.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from costcorrect.errors import InputError
from costcorrect.scenario import read_document

ARCH_ONLY: dict[str, frozenset[str]] = {
    "chunk_tokens": frozenset({"chunked"}),
    "replicas": frozenset({"colocated", "chunked"}),
    "max_batch_tokens": frozenset({"colocated", "disaggregated"}),
    "prefill_instances": frozenset({"disaggregated"}),
    "decode_instances": frozenset({"disaggregated"}),
    "kv_bandwidth_gb_s": frozenset({"disaggregated"}),
    "overlap_eta": frozenset({"disaggregated"}),
}
SETTINGS = {"target": (0.99, float), "rel_tol": (0.05, float), "max_configs": (5000, int)}
#: A raw product this many times over ``max_configs`` is refused without enumerating it.
RAW_FACTOR = 50


@dataclass(frozen=True)
class Space:
    dims: dict[str, list]
    slo_bins: list[dict] | None
    target: float = 0.99
    rel_tol: float = 0.05
    max_configs: int = 5000
    source: str = "space"

    def canonical(self) -> dict:
        return {"dims": self.dims, "slo_bins": self.slo_bins, "target": self.target, "rel_tol": self.rel_tol}


@dataclass(frozen=True)
class Config:
    """One deployment of the grid (its SLO bins are evaluated together)."""

    values: dict  # applicable dotted key -> value
    config_id: str
    overrides: list[str] = field(default_factory=list)


def config_id(values: dict) -> str:
    blob = json.dumps(values, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _read(path: Path) -> dict:
    doc = read_document(path, "--space")
    if not isinstance(doc, dict) or not doc:
        raise InputError("--space", path.name, "a non-empty mapping of dotted scenario keys to lists of values")
    return doc


def _slo_bin(v, where: str) -> dict:
    if not isinstance(v, dict) or set(v) != {"ttft_p99_ms", "tpot_p99_ms"}:
        raise InputError(where, v, "a mapping {ttft_p99_ms: T, tpot_p99_ms: U}")
    for k, x in v.items():
        if not isinstance(x, int | float) or isinstance(x, bool) or not x > 0 or not math.isfinite(x):
            raise InputError(f"{where}.{k}", x, "a number > 0 [ms]")
    return {"ttft_p99_ms": float(v["ttft_p99_ms"]), "tpot_p99_ms": float(v["tpot_p99_ms"])}


def space_from_dict(doc: dict, origin: str = "space") -> Space:
    doc = dict(doc)
    settings = doc.pop("settings", None) or {}
    if not isinstance(settings, dict):
        raise InputError(f"{origin}.settings", settings, "a mapping of " + ", ".join(SETTINGS))
    kw = {}
    for k, v in settings.items():
        if k not in SETTINGS:
            raise InputError(f"{origin}.settings.{k}", v, "one of " + ", ".join(SETTINGS))
        default, kind = SETTINGS[k]
        if not isinstance(v, int | float) or isinstance(v, bool):
            raise InputError(f"{origin}.settings.{k}", v, f"a number like {default}")
        kw[k] = kind(v)
    if "target" in kw and not 0 < kw["target"] <= 1:
        raise InputError(f"{origin}.settings.target", kw["target"], "(0, 1]")
    if "rel_tol" in kw and not 0 < kw["rel_tol"] < 1:
        raise InputError(f"{origin}.settings.rel_tol", kw["rel_tol"], "(0, 1)")
    if "max_configs" in kw and kw["max_configs"] < 1:
        raise InputError(f"{origin}.settings.max_configs", kw["max_configs"], ">= 1")
    bins = None
    if "slo" in doc:
        raw = doc.pop("slo")
        if not isinstance(raw, list) or not raw:
            raise InputError(f"{origin}.slo", raw, "a non-empty list of {ttft_p99_ms, tpot_p99_ms} bins")
        bins = [_slo_bin(v, f"{origin}.slo[{i}]") for i, v in enumerate(raw)]
    t_list, u_list = doc.pop("slo.ttft_p99_ms", None), doc.pop("slo.tpot_p99_ms", None)
    if t_list is not None or u_list is not None:
        if bins is not None:
            raise InputError(f"{origin}.slo.ttft_p99_ms", t_list, "either `slo` bins or slo.* lists, not both")
        t_list = t_list if t_list is not None else [None]
        u_list = u_list if u_list is not None else [None]
        bins = [{"ttft_p99_ms": t, "tpot_p99_ms": u} for t in _as_list(t_list, origin, "slo.ttft_p99_ms")
                for u in _as_list(u_list, origin, "slo.tpot_p99_ms")]
    dims = {}
    for k, v in doc.items():
        dims[str(k)] = _as_list(v, origin, str(k))
    return Space(dims=dims, slo_bins=bins, source=origin, **kw)


def _as_list(v, origin: str, key: str) -> list:
    if not isinstance(v, list) or not v:
        raise InputError(f"{origin}.{key}", v, "a non-empty list of values to try")
    seen = []
    for x in v:
        if x not in seen:
            seen.append(x)
    return seen


def load_space(path: str | Path) -> Space:
    p = Path(path)
    return space_from_dict(_read(p), p.name)


def resolve_bins(space: Space, base_slo: dict) -> list[dict]:
    """The space's SLO bins, with a missing bound filled from the scenario's contract."""
    if space.slo_bins is None:
        return [dict(base_slo)]
    out = []
    for b in space.slo_bins:
        t = b["ttft_p99_ms"] if b["ttft_p99_ms"] is not None else base_slo["ttft_p99_ms"]
        u = b["tpot_p99_ms"] if b["tpot_p99_ms"] is not None else base_slo["tpot_p99_ms"]
        out.append({"ttft_p99_ms": float(t), "tpot_p99_ms": float(u)})
    return out


def _yaml_value(v) -> str:
    return yaml.safe_dump(v, default_flow_style=True, width=10_000).strip().removesuffix("...").strip()


def expand(space: Space, base_architecture: str, *, max_configs: int | None = None,
           num_bins: int = 1) -> tuple[list[Config], int]:
    """Grid of applicable deployments (deduplicated) and how many raw combos collapsed.

    Raises :class:`InputError` before enumerating when the grid is empty or bigger than
    ``max_configs`` configurations (deployments × SLO bins).
    """
    limit = int(max_configs if max_configs is not None else space.max_configs)
    keys = list(space.dims)
    raw = math.prod(len(space.dims[k]) for k in keys) if keys else 1
    if raw * num_bins > RAW_FACTOR * limit:
        raise InputError("--space", f"{raw * num_bins:,} raw combinations",
                         f"at most {limit:,} configurations (--max-configs / settings.max_configs)")
    configs: dict[str, Config] = {}
    collapsed = 0
    for combo in itertools.product(*(space.dims[k] for k in keys)):
        cfg = dict(zip(keys, combo, strict=True))
        arch = cfg.get("architecture", base_architecture)
        values = {k: v for k, v in cfg.items() if k not in ARCH_ONLY or arch in ARCH_ONLY[k]}
        cid = config_id(values)
        if cid in configs:
            collapsed += 1
            continue
        configs[cid] = Config(values, cid, [f"{k}={_yaml_value(v)}" for k, v in values.items()])
    n_cfg = len(configs) * num_bins
    if n_cfg == 0:
        raise InputError("--space", "0 configurations", "a space with at least one configuration")
    if n_cfg > limit:
        raise InputError("--space", f"{n_cfg:,} configurations ({len(configs):,} deployments x {num_bins} SLO bins)",
                         f"at most {limit:,} (raise --max-configs or settings.max_configs, or narrow the space)")
    return list(configs.values()), collapsed
