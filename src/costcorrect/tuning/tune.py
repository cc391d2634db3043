"""The autotuner: grid (or successive halving) → capacity and CPM_served per configuration.

:func:`prepare` loads nothing itself: it takes a base scenario and a :class:`Space`,
expands the grid minus non-applicable combinations, drops deployments that cannot run
(with the reason) and builds picklable tasks. :func:`tune` runs them on a backend,
appending a part file per finished task to the results folder, skipping tasks whose
part already exists (resume), and returns the cheapest configuration per SLO bin and
the Pareto set of CPM_served against TTFT p99.

Successive halving (``search="halving"``): every deployment is first evaluated with
few requests, the cheapest 1/η per SLO bin go on to η× more requests, and so on until
the full request count; only the last rung runs full simulations.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from costcorrect.errors import InputError
from costcorrect.io import dumps
from costcorrect.tuning.space import Config, Space, _yaml_value, expand, resolve_bins

SEARCHES = ("grid", "halving")
FIXED_COLUMNS: tuple[tuple[str, str], ...] = (
    ("task_id", "string"), ("config_id", "string"), ("num_requests", "int64"),
    ("model", "string"), ("gpu", "string"), ("architecture", "string"), ("tensor_parallel", "int64"),
    ("num_gpus", "int64"), ("slo_ttft_p99_ms", "float64"), ("slo_tpot_p99_ms", "float64"),
    ("status", "string"), ("capacity_rate_per_s", "float64"), ("cpm_served_usd_per_mtok", "float64"),
    ("cpm_closed_form_usd_per_mtok", "float64"), ("capacity_closed_form_rate_per_s", "float64"),
    ("goodput_tokens_per_s", "float64"), ("slo_attainment", "float64"), ("ttft_p50_ms", "float64"),
    ("ttft_p99_ms", "float64"), ("tpot_p50_ms", "float64"), ("tpot_p99_ms", "float64"),
    ("e2e_p99_ms", "float64"), ("price_usd_per_gpu_hour", "float64"), ("price_source", "string"),
    ("probes", "int64"), ("wall_s", "float64"), ("note", "string"),
)


@dataclass
class Prepared:
    base: object  # SimScenario
    space: Space
    bins: list[dict]
    configs: list[Config]
    infeasible: list[dict]
    collapsed: int
    resolved: dict[str, dict]  # config_id -> model/gpu/architecture/tensor_parallel/num_gpus
    schema: object
    manifest: dict
    catalog_overlay: str | None
    dim_columns: dict[str, str] = field(default_factory=dict)

    @property
    def num_configurations(self) -> int:
        return len(self.configs) * len(self.bins)


def _dim_type(values: list) -> str:
    if all(isinstance(v, bool) for v in values):
        return "bool"
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return "int64"
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return "float64"
    if all(isinstance(v, str) for v in values):
        return "string"
    return "json"


def _schema(dims: dict[str, list]):
    import pyarrow as pa

    kinds = {"string": pa.string(), "int64": pa.int64(), "float64": pa.float64(), "bool": pa.bool_(),
             "json": pa.string()}
    fixed = [pa.field(n, kinds[k]) for n, k in FIXED_COLUMNS]
    names = {n for n, _ in FIXED_COLUMNS}
    dim_cols = {k: _dim_type(v) for k, v in dims.items() if k not in names}
    return pa.schema(fixed + [pa.field(k, kinds[t]) for k, t in dim_cols.items()]), dim_cols


def _hash(obj) -> str:
    return hashlib.sha256(dumps(obj, indent=None).encode()).hexdigest()[:16]


def prepare(base, space: Space, catalog, *, num_requests: int | None = None, max_configs: int | None = None,
            catalog_overlay: str | None = None) -> Prepared:
    """Expand and check the grid before anything runs (bad spaces fail here, exit 2)."""
    from costcorrect.simulator import apply_sim_overrides, build_deployment

    if num_requests is not None:
        base = base.model_copy(update={"workload": base.workload.model_copy(update={"num_requests": num_requests})})
    if base.workload.arrival == "closed":
        raise InputError("workload.arrival", "closed", "poisson, gamma or trace (tune searches the arrival rate)")
    bins = resolve_bins(space, {"ttft_p99_ms": base.slo.ttft_p99_ms, "tpot_p99_ms": base.slo.tpot_p99_ms})
    for k, values in space.dims.items():  # every key and value must be a valid scenario field
        for v in values:
            apply_sim_overrides(base, [f"{k}={_yaml_value(v)}"])
    configs, collapsed = expand(space, base.architecture, max_configs=max_configs, num_bins=len(bins))
    ok, infeasible, resolved = [], [], {}
    for c in configs:
        sc = apply_sim_overrides(base, c.overrides)
        try:
            build_deployment(sc, catalog)
        except InputError as exc:
            infeasible.append({"config_id": c.config_id, "values": c.values, "reason": str(exc)})
            continue
        ok.append(c)
        resolved[c.config_id] = {"model": sc.model, "gpu": sc.gpu, "architecture": sc.architecture,
                                 "tensor_parallel": sc.tensor_parallel, "num_gpus": sc.num_gpus}
    if not ok:
        first = infeasible[0]["reason"] if infeasible else "none"
        raise InputError("--space", f"0 runnable configurations of {len(configs)}", f"at least one (first: {first})")
    schema, dim_cols = _schema(space.dims)
    manifest = {"format": "costcorrect-tune/1", "scenario_sha": _hash(base.model_dump()),
                "space_sha": _hash(space.canonical()), "bins": bins, "target": space.target,
                "rel_tol": space.rel_tol, "catalog_overlay": catalog_overlay}
    return Prepared(base, space, bins, ok, infeasible, collapsed, resolved, schema, manifest, catalog_overlay,
                    dim_cols)


def task_for(prep: Prepared, cfg: Config, n: int) -> dict:
    return {"task_id": f"{cfg.config_id}-n{n}", "config_id": cfg.config_id, "overrides": cfg.overrides,
            "scenario": prep.base.model_dump(), "num_requests": n, "bins": prep.bins, "target": prep.space.target,
            "rel_tol": prep.space.rel_tol, "catalog_overlay": prep.catalog_overlay}


def rows_for(prep: Prepared, cfg: Config, result: dict, n: int) -> list[dict]:
    rows = []
    for r in result["rows"]:
        row = {"task_id": result["task_id"], "config_id": cfg.config_id, "num_requests": n,
               **prep.resolved[cfg.config_id], **r, "price_usd_per_gpu_hour": result["price_usd_per_gpu_hour"],
               "price_source": result["price_source"], "probes": result["probes"], "wall_s": result["wall_s"]}
        for k, kind in prep.dim_columns.items():
            v = cfg.values.get(k)
            row[k] = json.dumps(v, sort_keys=True) if (kind == "json" and v is not None) else v
        rows.append(row)
    return rows


def _finite(x) -> bool:
    return x is not None and isinstance(x, int | float) and math.isfinite(x)


def best_per_bin(rows: list[dict], bins: list[dict]) -> list[dict]:
    """The cheapest configuration (lowest simulated CPM_served) in each SLO bin."""
    out = []
    for b in bins:
        cand = [r for r in rows if r["slo_ttft_p99_ms"] == b["ttft_p99_ms"] and r["slo_tpot_p99_ms"] == b["tpot_p99_ms"]
                and _finite(r.get("cpm_served_usd_per_mtok"))]
        best = min(cand, key=lambda r: (r["cpm_served_usd_per_mtok"], r["config_id"])) if cand else None
        out.append({"slo": b, "best": best, "num_with_capacity": len(cand)})
    return out


def pareto_rows(rows: list[dict]) -> list[dict]:
    """Rows not dominated on (TTFT p99 at capacity [ms], CPM_served [$/MTok])."""
    from costcorrect.serving.frontier import pareto_mask

    cand = [r for r in rows if _finite(r.get("cpm_served_usd_per_mtok")) and _finite(r.get("ttft_p99_ms"))]
    if not cand:
        return []
    mask = pareto_mask([r["ttft_p99_ms"] for r in cand], [r["cpm_served_usd_per_mtok"] for r in cand])
    keep = [r for r, m in zip(cand, mask, strict=True) if m]
    seen, out = set(), []
    for r in sorted(keep, key=lambda r: (r["ttft_p99_ms"], r["cpm_served_usd_per_mtok"])):
        key = (r["ttft_p99_ms"], r["cpm_served_usd_per_mtok"])
        if key not in seen:
            seen.add(key)
            out.append(r)
    return out


def halving_rungs(n_full: int, eta: int, min_requests: int) -> list[int]:
    """Request counts per rung, smallest first, ending at ``n_full``.

    >>> halving_rungs(2000, 3, 200)
    [222, 666, 2000]
    """
    rungs = [n_full]
    while rungs[0] // eta >= min_requests:
        rungs.insert(0, rungs[0] // eta)
    return rungs


def _survivors(cfgs: list[Config], rows: list[dict], bins: list[dict], eta: int, keep_min: int) -> list[Config]:
    by_id = {c.config_id: c for c in cfgs}
    keep: set[str] = set()
    for b in bins:
        cand = sorted((r["cpm_served_usd_per_mtok"], r["config_id"]) for r in rows
                       if r["slo_ttft_p99_ms"] == b["ttft_p99_ms"] and r["slo_tpot_p99_ms"] == b["tpot_p99_ms"]
                       and _finite(r.get("cpm_served_usd_per_mtok")) and r["config_id"] in by_id)
        k = max(keep_min, math.ceil(len(cand) / eta))
        keep.update(cid for _, cid in cand[:k])
    return [c for c in cfgs if c.config_id in keep]


def run_tasks(prep: Prepared, cfgs: list[Config], n: int, store, backend, progress: Callable | None,
              label: str) -> tuple[list[dict], dict]:
    """Evaluate ``cfgs`` at ``n`` requests, skipping parts already on disk; rows of all of them."""
    done = store.done()
    todo = [c for c in cfgs if f"{c.config_id}-n{n}" not in done]
    by_task = {f"{c.config_id}-n{n}": c for c in cfgs}
    stats = {"label": label, "num_requests": n, "configs": len(cfgs), "skipped_done": len(cfgs) - len(todo),
             "ran": 0, "probes": 0, "wall_s": 0.0}
    if progress:
        progress({"event": "start", "label": label, "total": len(todo), "skipped": len(cfgs) - len(todo)})
    t0 = time.perf_counter()
    for res in backend.run(task_for(prep, c, n) for c in todo):
        cfg = by_task[res["task_id"]]
        store.write(res["task_id"], rows_for(prep, cfg, res, n))
        stats["ran"] += 1
        stats["probes"] += res["probes"]
        if progress:
            progress({"event": "done", "label": label, "result": res})
    stats["wall_s"] = time.perf_counter() - t0
    rows = store.read(by_task)
    # probes of tasks finished by an earlier (killed) run count too
    stats["probes_total"] = int(sum({r["task_id"]: r["probes"] for r in rows}.values()))
    return rows, stats


def tune(prep: Prepared, store, backend, *, search: str = "grid", eta: int = 3, min_requests: int = 200,
         keep_min: int = 2, progress: Callable | None = None) -> dict:
    """Run the search; returns best per bin, Pareto set and how much simulation it took."""
    if search not in SEARCHES:
        raise InputError("--search", search, "grid or halving")
    if eta < 2:
        raise InputError("--eta", eta, "an integer >= 2")
    n_full = prep.base.workload.num_requests
    t0 = time.perf_counter()
    stages = []
    if search == "grid":
        rows, st = run_tasks(prep, prep.configs, n_full, store, backend, progress, "grid")
        stages.append(st)
    else:
        cfgs = prep.configs
        rungs = halving_rungs(n_full, eta, min_requests)
        for i, n in enumerate(rungs):
            rows, st = run_tasks(prep, cfgs, n, store, backend, progress, f"rung {i + 1}/{len(rungs)}")
            stages.append(st)
            if n != n_full:
                cfgs = _survivors(cfgs, rows, prep.bins, eta, keep_min)
    final = [s for s in stages if s["num_requests"] == n_full]
    return {
        "search": search,
        "num_configurations": prep.num_configurations,
        "num_deployments": len(prep.configs),
        "num_slo_bins": len(prep.bins),
        "not_applicable_collapsed": prep.collapsed,
        "infeasible": len(prep.infeasible),
        "infeasible_examples": prep.infeasible[:5],
        "backend": backend.name,
        "workers": backend.workers,
        "stages": stages,
        "full_simulations": int(sum(s["probes_total"] for s in final)),
        "simulated_requests": int(sum(s["probes_total"] * s["num_requests"] for s in stages)),
        "best_per_bin": best_per_bin(rows, prep.bins),
        "pareto": pareto_rows(rows),
        "rows": rows,
        "wall_s": time.perf_counter() - t0,
        "out": str(store.root),
    }


def summary_for_json(result: dict) -> dict:
    """The result without the full table (that is in the Parquet dataset)."""
    keep = {k: v for k, v in result.items() if k != "rows"}
    keep["num_rows"] = len(result["rows"])
    return json.loads(dumps(keep))


def rows_frame(rows: list[dict]):
    import pandas as pd

    df = pd.DataFrame(rows)
    return df.replace({None: np.nan}) if not df.empty else df
