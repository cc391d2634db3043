"""Per-(model, GPU, config) capacity at the SLO, and the solver-ready fleet instance (issue 12).

Capacity sources (``capacity.source`` in the fleet file):

- ``table`` -- a CSV/Parquet capacity table (the tuner's output format, ``CAPACITY_COLUMNS``).
- ``rows`` -- the same rows inline in the YAML (tests, hand-made examples).
- ``closed-form`` -- paper 01's closed-form operating points
  (:func:`costcorrect.serving.decomposition.decompose`): the SLO-compliant token rate of one
  replica, divided by the request's prompt+output tokens.
- ``simulator`` -- :func:`costcorrect.simulator.find_capacity` per (model, GPU, config), cached
  on disk keyed by the SHA-256 of the scenario's canonical JSON (atomic writes).

:func:`build_instance` turns a :class:`FleetSpec` plus capacity rows into flat NumPy arrays
(one "option" per model × offer × config) that :mod:`costcorrect.fleet.milp` solves.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from costcorrect import units
from costcorrect.catalog import Catalog, load_efficiency, price_label
from costcorrect.errors import InputError
from costcorrect.fleet.spec import (
    CAPACITY_COLUMNS,
    ConfigSpec,
    FleetModel,
    FleetSpec,
    GPUOffer,
    SLOTier,
)
from costcorrect.io import atomic_write_text


# ----------------------------------------------------------------------------- closed form
def closed_form_capacity_rate_per_s(setup, architecture: str, prompt_tokens, output_tokens,
                                    ttft_p99_ms, tpot_p99_ms, *, chunk_tokens=512, queue_servers=8):
    """Requests per second one replica serves inside the p99 contract (01 §4, closed form). [req/s]

    From paper 01's operating point: the SLO-compliant token rate is the replica's price
    over its cost per token, ``tokens/s = price [$/h] / 3600 / (CPM [$/MTok] / 1e6)`` (the
    inverse of :func:`costcorrect.units.usd_per_mtok`); one request is P + D tokens.
    Infeasible contracts (weights do not fit, TPOT bound below one pass) give 0.

    Parameters
    ----------
    setup : ServingSetup -- the replica (model on ``num_gpus`` GPUs). [-]
    architecture : "colocated" | "chunked" | "disaggregated"
    prompt_tokens, output_tokens : numeric -- mean P and D. [tokens]
    ttft_p99_ms, tpot_p99_ms : numeric -- the contract. [ms]
    """
    from costcorrect.serving.decomposition import decompose

    d = decompose(setup, architecture, prompt_tokens, output_tokens, ttft_p99_ms, tpot_p99_ms,
                  chunk_tokens=chunk_tokens, queue_servers=queue_servers, token_convention="prompt+output")
    cpm = np.asarray(d.cpm_served_usd_per_mtok, dtype=float)
    usd_per_s = units.usd_per_hour_to_usd_per_s(setup.price_usd_per_hour)
    with np.errstate(divide="ignore", invalid="ignore"):
        tokens_per_s = np.where(np.isfinite(cpm) & (cpm > 0), usd_per_s * units.TOKENS_PER_MTOK / cpm, 0.0)
    return tokens_per_s / (np.asarray(prompt_tokens, dtype=float) + np.asarray(output_tokens, dtype=float))


def _efficiency():
    from costcorrect.serving.roofline import Efficiency

    e = load_efficiency()
    return Efficiency(float(e["mfu"]), float(e["mbu"]), float(e["overhead_ms"]), float(e["memory_fraction"]))


def closed_form_rows(models: list[FleetModel], gpus: list[str], configs: list[ConfigSpec],
                     tiers: dict[str, SLOTier], catalog: Catalog, queue_servers: int = 8) -> list[dict]:
    """Capacity rows for every model × GPU × config from the closed-form serving model."""
    from costcorrect.serving.setup import build_setup

    eff = _efficiency()
    for m in models:
        if m.model is None:
            raise InputError(f"models[{m.name}].model", None, "a catalog model id (needed for computed capacity)")
    rows = []
    # One vectorised call per (catalog model, GPU, config): every fleet model on that
    # architecture is a lane of the broadcast arrays (its lengths and contract).
    groups: dict[str, list[FleetModel]] = {}
    for m in models:
        groups.setdefault(m.model, []).append(m)
    for model_id, ms in groups.items():
        mrow = catalog.model(model_id)
        P = np.array([m.prompt_tokens for m in ms])
        D = np.array([m.output_tokens for m in ms])
        ttft = np.array([tiers[m.slo_tier].ttft_p99_ms for m in ms])
        tpot = np.array([tiers[m.slo_tier].tpot_p99_ms for m in ms])
        for gpu in gpus:
            grow = catalog.gpu(gpu)
            for cfg in configs:
                setup = build_setup(mrow, grow, cfg.tensor_parallel, 1.0, weight_dtype=cfg.weight_dtype,
                                    efficiency=eff)
                if setup.kv_capacity_bytes <= 0:
                    continue
                rate = np.atleast_1d(closed_form_capacity_rate_per_s(
                    setup, cfg.architecture, P, D, ttft, tpot, chunk_tokens=cfg.chunk_tokens,
                    queue_servers=queue_servers))
                for m, r in zip(ms, rate, strict=True):
                    if r > 0:
                        rows.append({"model": m.name, "gpu": gpu, "config": cfg.label,
                                     "tensor_parallel": cfg.tensor_parallel,
                                     "gpus_per_replica": cfg.tensor_parallel, "slo_tier": m.slo_tier,
                                     "capacity_rate_per_s": float(r), "default": cfg.default,
                                     "architecture": cfg.architecture,
                                     "source": "closed-form (paper 01 §4; catalog efficiency.yaml, assumed)"})
    return rows


# ----------------------------------------------------------------------------- simulator (cached)
def canonical_hash(obj) -> str:
    """SHA-256 of the canonical JSON of ``obj`` (sorted keys, no whitespace)."""
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def cached_find_capacity(sc, catalog: Catalog, cache_dir: str | Path | None, *, target: float = 0.99,
                         rel_tol: float = 0.05, compute: Callable | None = None) -> dict:
    """:func:`costcorrect.simulator.find_capacity`, memoised on disk.

    The key is the SHA-256 of ``{"scenario": sc.model_dump(mode="json"), "target", "rel_tol"}``;
    each entry is one JSON file written atomically, so concurrent runs never see half a file.
    Returns ``{"rate_per_s", "num_gpus", "cached": bool, "key"}``.
    """
    from costcorrect.simulator import find_capacity

    key = canonical_hash({"scenario": sc.model_dump(mode="json"), "target": target, "rel_tol": rel_tol,
                          "kind": "fleet-capacity-v1"})
    path = Path(cache_dir) / f"{key}.json" if cache_dir is not None else None
    if path is not None and path.exists():
        try:
            hit = json.loads(path.read_text(encoding="utf-8"))
            return {**hit, "cached": True, "key": key}
        except (OSError, json.JSONDecodeError):
            pass  # a corrupt entry is recomputed and overwritten
    res = (compute or find_capacity)(sc, catalog, target=target, rel_tol=rel_tol)
    out = {"rate_per_s": res["rate_per_s"], "num_gpus": sc.num_gpus}
    if path is not None:
        atomic_write_text(path, json.dumps(out, sort_keys=True))
    return {**out, "cached": False, "key": key}


def simulator_rows(models: list[FleetModel], gpus: list[str], configs: list[ConfigSpec],
                   tiers: dict[str, SLOTier], catalog: Catalog, *, num_requests: int = 600,
                   target: float = 0.99, rel_tol: float = 0.05, cache_dir: str | Path | None = None,
                   stats: dict | None = None) -> list[dict]:
    """Capacity rows from the discrete-event simulator (one replica per scenario), cached."""
    from costcorrect.simulator import sim_scenario_from_dict

    rows = []
    for m in models:
        if m.model is None:
            raise InputError(f"models[{m.name}].model", None, "a catalog model id (needed for computed capacity)")
        tier = tiers[m.slo_tier]
        for gpu in gpus:
            for cfg in configs:
                doc = {
                    "name": f"fleet-{m.name}-{gpu}-{cfg.label}", "model": m.model, "gpu": gpu,
                    "tensor_parallel": cfg.tensor_parallel, "replicas": 1,
                    "architecture": cfg.architecture, "chunk_tokens": cfg.chunk_tokens,
                    "weight_dtype": cfg.weight_dtype,
                    "workload": {"arrival": "poisson", "rate_per_s": 1.0, "num_requests": num_requests,
                                 "prompt_tokens": {"dist": "fixed", "mean": m.prompt_tokens},
                                 "output_tokens": {"dist": "fixed", "mean": m.output_tokens}},
                    "slo": {"ttft_p99_ms": tier.ttft_p99_ms, "tpot_p99_ms": tier.tpot_p99_ms},
                }
                if cfg.architecture == "disaggregated":
                    doc.update(prefill_instances=1, decode_instances=1)
                sc = sim_scenario_from_dict(doc, f"simulated capacity {m.name}/{gpu}/{cfg.label}")
                try:
                    res = cached_find_capacity(sc, catalog, cache_dir, target=target, rel_tol=rel_tol)
                except InputError:
                    continue  # the configuration does not fit (weights + KV) on this GPU group
                if stats is not None:
                    stats["cached" if res["cached"] else "computed"] = stats.get(
                        "cached" if res["cached"] else "computed", 0) + 1
                if res["rate_per_s"]:
                    rows.append({"model": m.name, "gpu": gpu, "config": cfg.label,
                                 "tensor_parallel": cfg.tensor_parallel, "gpus_per_replica": int(res["num_gpus"]),
                                 "slo_tier": m.slo_tier, "capacity_rate_per_s": float(res["rate_per_s"]),
                                 "default": cfg.default, "architecture": cfg.architecture,
                                 "source": f"simulator find_capacity (target {target}, rel_tol {rel_tol}, "
                                           f"{num_requests} requests)"})
    return rows


# ----------------------------------------------------------------------------- tables
def _read_any_table(path: str | Path) -> pd.DataFrame:
    path = Path(path)
    try:
        # a folder is the tuner's Parquet dataset of part files
        is_parquet = path.is_dir() or path.suffix.lower() in (".parquet", ".pq")
        return pd.read_parquet(path) if is_parquet else pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise InputError("capacity.table", str(path), f"a readable CSV or Parquet file ({exc})") from None


def read_capacity_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV or Parquet capacity table and check its columns (``CAPACITY_COLUMNS``)."""
    return validate_capacity_frame(_read_any_table(path), str(path))


def is_tuner_table(df: pd.DataFrame) -> bool:
    """True for `costcorrect tune` output (issue 5), which is per deployment and per SLO bin."""
    return {"config_id", "slo_ttft_p99_ms", "slo_tpot_p99_ms", "num_gpus"} <= set(df.columns) and (
        "slo_tier" not in df.columns)


def tuner_rows_to_capacity(df: pd.DataFrame, spec: FleetSpec, origin: str = "tuner table") -> pd.DataFrame:
    """Map `costcorrect tune` rows onto the capacity-table columns.

    - SLO bin -> the fleet tier with the same (TTFT, TPOT) bounds; other bins are dropped.
    - catalog model id -> every fleet model serving that catalog model (the tuner's workload
      must be the fleet model's; the planner cannot check that, the docs say so).
    - a colocated/chunked deployment of n TP groups becomes n replicas of ``tensor_parallel``
      GPUs with capacity / n each (linear in replicas: conservative, since a shared queue
      over n replicas serves slightly more than n separate ones); a disaggregated deployment
      stays one unit of ``num_gpus`` GPUs.
    - the cheapest-looking rung only: with successive halving, only rows at the largest
      ``num_requests`` of a configuration are used.
    """
    d = df.copy()
    if "num_requests" in d.columns:
        d = d[d["num_requests"] == d.groupby("config_id")["num_requests"].transform("max")]
    cap = pd.to_numeric(d["capacity_rate_per_s"], errors="coerce")
    d = d[cap.notna() & (cap > 0)]
    tiers = spec.tiers()
    by_models: dict[str, list[str]] = {}
    for m in spec.models:
        by_models.setdefault(m.model, []).append(m.name)
    rows = []
    for r in d.to_dict(orient="records"):
        tier = next((name for name, t in tiers.items() if math.isclose(t.ttft_p99_ms, r["slo_ttft_p99_ms"])
                     and math.isclose(t.tpot_p99_ms, r["slo_tpot_p99_ms"])), None)
        if tier is None:
            continue
        tp = int(r["tensor_parallel"])
        disagg = r.get("architecture") == "disaggregated"
        groups = 1 if disagg else max(int(r["num_gpus"]) // tp, 1)
        for name in by_models.get(r["model"], []):
            rows.append({"model": name, "gpu": r["gpu"], "config": f"{r['architecture']}-tp{tp}-{r['config_id'][:8]}",
                         "tensor_parallel": tp, "gpus_per_replica": int(r["num_gpus"]) // groups,
                         "slo_tier": tier, "capacity_rate_per_s": float(r["capacity_rate_per_s"]) / groups,
                         "default": False, "architecture": r.get("architecture"),
                         "source": f"costcorrect tune ({origin}, config {r['config_id']})"})
    if not rows:
        raise InputError("capacity.table", origin,
                         "a tuner table with at least one feasible row whose SLO bin equals a fleet tier "
                         f"({', '.join(f'{n}: {t.ttft_p99_ms:g}/{t.tpot_p99_ms:g} ms' for n, t in tiers.items())}) "
                         "and whose model is a fleet model's catalog id")
    return pd.DataFrame(rows)


def validate_capacity_frame(df: pd.DataFrame, origin: str = "capacity") -> pd.DataFrame:
    missing = [c for c in CAPACITY_COLUMNS if c not in df.columns]
    if missing:
        raise InputError(f"{origin} columns", missing, f"a table with columns {list(CAPACITY_COLUMNS)}")
    df = df.copy()
    for col in ("tensor_parallel", "gpus_per_replica", "capacity_rate_per_s"):
        vals = pd.to_numeric(df[col], errors="coerce")
        bad = ~(vals >= 0) | (vals.isna())
        if col != "capacity_rate_per_s":
            bad |= ~(vals >= 1)
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(f"{origin}[{i}].{col}", df[col].iloc[i],
                             "a finite number >= 0" if col == "capacity_rate_per_s" else "an integer >= 1")
        df[col] = vals
    if "default" not in df.columns:
        df["default"] = False
    df["default"] = df["default"].fillna(False).astype(bool)
    for col in ("model", "gpu", "config", "slo_tier"):
        df[col] = df[col].astype(str)
    return df


def capacity_frame(spec: FleetSpec, catalog: Catalog, stats: dict | None = None) -> pd.DataFrame:
    """All capacity rows the spec's source yields, as a validated frame."""
    cap = spec.capacity
    gpus = sorted({o.gpu for o in spec.offers})
    if cap.source == "table":
        df = _read_any_table(cap.table)
        if is_tuner_table(df):
            df = tuner_rows_to_capacity(df, spec, origin=str(cap.table))
        df = validate_capacity_frame(df, str(cap.table))
    elif cap.source == "rows":
        df = pd.DataFrame([r.model_dump() for r in cap.rows])
    elif cap.source == "closed-form":
        df = pd.DataFrame(closed_form_rows(spec.models, gpus, cap.configs, spec.tiers(), catalog,
                                           cap.queue_servers))
    else:
        df = pd.DataFrame(simulator_rows(spec.models, gpus, cap.configs, spec.tiers(), catalog,
                                         num_requests=cap.sim_requests, target=cap.sim_target,
                                         rel_tol=cap.sim_rel_tol, cache_dir=cap.cache_dir, stats=stats))
    if df.empty:
        df = pd.DataFrame(columns=[*CAPACITY_COLUMNS, "default"])
    return validate_capacity_frame(df, f"capacity ({cap.source})")


# ----------------------------------------------------------------------------- instance
@dataclass
class Instance:
    """A fleet problem as flat arrays. Index i = model, o = offer, k = option (model × offer × config)."""

    model_names: list[str]
    demand_rate_per_s: np.ndarray  # λ_i [req/s]
    accept_rate: np.ndarray  # α_i [-] (1 where not given)
    accept_given: np.ndarray  # bool
    task_of: np.ndarray  # task index of model i
    task_names: list[str]
    output_tokens: np.ndarray  # mean D_i [tokens]
    slo_tier: list[str]
    offer_names: list[str]
    offer_gpu: list[str]
    offer_tier: list[str]
    price_usd_per_gpu_hour: np.ndarray  # [$/GPU-h]
    price_source: list[str]
    gpus_per_node: np.ndarray  # [GPUs]
    max_nodes: np.ndarray  # [nodes]; inf = unlimited
    committed_nodes: np.ndarray  # [nodes]
    availability: np.ndarray  # spot: share of time a replica is up [-]
    spot_penalty_usd_per_node_hour: np.ndarray  # interruption rate × cost per interruption [$/node-h]
    opt_model: np.ndarray  # k -> i
    opt_offer: np.ndarray  # k -> o
    opt_config: list[str]
    opt_tp: np.ndarray
    opt_gpus: np.ndarray  # GPUs per replica [GPUs]
    opt_capacity: np.ndarray  # derated capacity per replica [req/s]
    opt_default: np.ndarray  # bool
    notes: list[str] = field(default_factory=list)

    @property
    def num_models(self) -> int:
        return len(self.model_names)

    @property
    def num_offers(self) -> int:
        return len(self.offer_names)

    @property
    def num_options(self) -> int:
        return int(self.opt_model.size)

    @property
    def node_price_usd_per_hour(self) -> np.ndarray:
        """Price of one node including the spot expected-cost term. [$/node-h]"""
        return self.price_usd_per_gpu_hour * self.gpus_per_node + self.spot_penalty_usd_per_node_hour

    @property
    def gpu_classes(self) -> list[str]:
        return sorted(set(self.offer_gpu))

    def subset(self, keep: np.ndarray) -> Instance:
        """Same models and offers, only the options where ``keep`` is True."""
        keep = np.asarray(keep, dtype=bool)
        d = dict(self.__dict__)
        for name in ("opt_model", "opt_offer", "opt_tp", "opt_gpus", "opt_capacity", "opt_default"):
            d[name] = getattr(self, name)[keep]
        d["opt_config"] = [c for c, k in zip(self.opt_config, keep, strict=True) if k]
        d["notes"] = list(self.notes)
        return Instance(**d)

    def with_max_nodes(self, max_nodes: np.ndarray) -> Instance:
        d = dict(self.__dict__)
        d["max_nodes"] = np.asarray(max_nodes, dtype=float)
        d["committed_nodes"] = np.minimum(self.committed_nodes, d["max_nodes"])
        return Instance(**d)


def spot_availability(interruption_rate_per_hour, recovery_s):
    """Share of time a spot replica is serving: up 1/r hours, down t_rec per interruption. [-]

    A = (1/r) / (1/r + t_rec) = 1 / (1 + r t_rec) (alternating renewal process).
    """
    r = np.asarray(interruption_rate_per_hour, dtype=float)
    t_h = np.asarray(recovery_s, dtype=float) / units.SECONDS_PER_HOUR
    return 1.0 / (1.0 + r * t_h)


def resolve_offer_price(offer: GPUOffer, catalog: Catalog, origin: str) -> tuple[float, str]:
    """Price per GPU-hour of an offer and its source (given, or a catalog price row)."""
    if offer.price_usd_per_gpu_hour is not None:
        return float(offer.price_usd_per_gpu_hour), offer.price_source or "fleet file"
    rows = catalog.prices_for(offer.gpu)
    hit = rows[(rows["provider"].astype(str).str.lower() == str(offer.provider).lower())
               & (rows["offering"].astype(str) == str(offer.offering))]
    if hit.empty:
        have = ", ".join(f"{r.provider} {r.offering}" for r in rows.itertuples()) or "none"
        raise InputError(f"{origin}.provider/offering", f"{offer.provider} {offer.offering}",
                         f"a catalog price row for {offer.gpu}: {have}")
    row = hit.iloc[0].to_dict()
    return float(row["usd_per_gpu_hour"]), f"catalog prices.csv: {price_label(row)}"


def build_instance(spec: FleetSpec, catalog: Catalog | None = None, capacity: pd.DataFrame | None = None,
                   stats: dict | None = None) -> Instance:
    """Resolve prices and capacities into a solver-ready :class:`Instance`."""
    catalog = catalog or Catalog.load()
    notes: list[str] = []
    for j, o in enumerate(spec.offers):
        try:
            catalog.gpu(o.gpu)
        except InputError as exc:
            raise InputError(f"offers[{j}].gpu", o.gpu, exc.allowed) from None
    names = [m.name for m in spec.models]
    model_index = {n: i for i, n in enumerate(names)}
    for m in spec.models:
        if m.model is not None:
            try:
                catalog.model(m.model)
            except InputError as exc:
                raise InputError(f"models[{m.name}].model", m.model, exc.allowed) from None
    prices, psrc = [], []
    for j, o in enumerate(spec.offers):
        p, s = resolve_offer_price(o, catalog, f"offers[{j}]")
        prices.append(p)
        psrc.append(s)
    df = capacity if capacity is not None else capacity_frame(spec, catalog, stats)
    unknown = sorted(set(df["model"]) - set(names))
    if unknown and spec.capacity.source in ("rows",):
        raise InputError("capacity.rows.model", unknown[0], f"one of the fleet's models: {', '.join(names)}")
    if unknown:
        notes.append(f"capacity rows for models not in the fleet ignored: {', '.join(unknown[:5])}"
                     + (" ..." if len(unknown) > 5 else ""))
    offer_gpu = [o.gpu for o in spec.offers]
    tier_of = {m.name: m.slo_tier for m in spec.models}
    avail = spot_availability([o.interruption_rate_per_hour for o in spec.offers],
                              [o.recovery_s for o in spec.offers])
    opt = {k: [] for k in ("model", "offer", "config", "tp", "gpus", "cap", "default")}
    seen = set()
    for r in df.itertuples(index=False):
        if r.model not in model_index or tier_of[r.model] != r.slo_tier or not r.capacity_rate_per_s > 0:
            continue
        for j, g in enumerate(offer_gpu):
            if g != r.gpu:
                continue
            n = spec.offers[j].gpus_per_node
            if r.gpus_per_replica > n and r.gpus_per_replica % n:
                continue  # a replica must fill whole nodes when it spans several
            key = (r.model, j, r.config)
            if key in seen:
                raise InputError("capacity row", f"{r.model}/{r.gpu}/{r.config}/{r.slo_tier}",
                                 "one row per (model, gpu, config, slo_tier)")
            seen.add(key)
            opt["model"].append(model_index[r.model])
            opt["offer"].append(j)
            opt["config"].append(r.config)
            opt["tp"].append(int(r.tensor_parallel))
            opt["gpus"].append(int(r.gpus_per_replica))
            opt["cap"].append(float(r.capacity_rate_per_s) * float(avail[j]))
            opt["default"].append(bool(r.default))
    opt_model = np.asarray(opt["model"], dtype=int)
    opt_offer = np.asarray(opt["offer"], dtype=int)
    opt_gpus = np.asarray(opt["gpus"], dtype=int)
    opt_default = np.asarray(opt["default"], dtype=bool)
    # Default strategy where none is flagged: the fewest GPUs per replica (first listed on ties).
    for i in range(len(names)):
        for j in range(len(spec.offers)):
            idx = np.flatnonzero((opt_model == i) & (opt_offer == j))
            if idx.size and not opt_default[idx].any():
                opt_default[idx[np.argmin(opt_gpus[idx])]] = True
            elif idx.size and opt_default[idx].sum() > 1:
                keep = idx[opt_default[idx]][0]
                opt_default[idx] = False
                opt_default[keep] = True
    tasks = sorted({m.task_label for m in spec.models})
    alpha_given = np.array([m.accept_rate is not None for m in spec.models])
    return Instance(
        model_names=names,
        demand_rate_per_s=np.array([m.demand_rate_per_s for m in spec.models], dtype=float),
        accept_rate=np.array([m.accept_rate if m.accept_rate is not None else 1.0 for m in spec.models]),
        accept_given=alpha_given,
        task_of=np.array([tasks.index(m.task_label) for m in spec.models], dtype=int),
        task_names=tasks,
        output_tokens=np.array([m.output_tokens for m in spec.models], dtype=float),
        slo_tier=[m.slo_tier for m in spec.models],
        offer_names=[o.name for o in spec.offers],
        offer_gpu=offer_gpu,
        offer_tier=[o.tier for o in spec.offers],
        price_usd_per_gpu_hour=np.asarray(prices, dtype=float),
        price_source=psrc,
        gpus_per_node=np.array([o.gpus_per_node for o in spec.offers], dtype=float),
        max_nodes=np.array([math.inf if o.max_nodes is None else o.max_nodes for o in spec.offers], dtype=float),
        committed_nodes=np.array([o.committed_nodes for o in spec.offers], dtype=float),
        availability=avail,
        spot_penalty_usd_per_node_hour=np.array(
            [o.interruption_rate_per_hour * o.interruption_cost_usd for o in spec.offers], dtype=float),
        opt_model=opt_model, opt_offer=opt_offer, opt_config=list(opt["config"]),
        opt_tp=np.asarray(opt["tp"], dtype=int), opt_gpus=opt_gpus,
        opt_capacity=np.asarray(opt["cap"], dtype=float), opt_default=opt_default,
        notes=notes,
    )
