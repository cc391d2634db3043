"""Sourced catalog data: GPUs, interconnects, model layouts, prices, serving systems.

Every shipped row carries ``source`` and ``as_of``. Users add or override rows with a
YAML overlay (``Catalog.load(overlay=...)``); shipped files are never edited.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import pandas as pd
import yaml

from costcorrect.errors import InputError

TABLES = ("gpus", "interconnects", "models", "prices", "systems", "published_claims")

#: Columns each table must have (besides ``source`` and ``as_of``) and which are numeric.
REQUIRED = {
    "gpus": ["id", "name", "hbm_capacity_gib", "hbm_bandwidth_gb_s", "bf16_dense_tflops",
             "fp8_dense_tflops", "nvlink_bandwidth_gb_s"],
    "interconnects": ["id", "name", "bandwidth_gb_s", "scope"],
    "models": ["id", "name", "attention", "num_layers", "hidden_size", "num_query_heads",
               "num_kv_heads", "head_dim", "total_params_b", "active_params_b"],
    "prices": ["gpu_id", "provider", "offering", "usd_per_gpu_hour"],
    "systems": ["id", "name", "architecture", "chunk_tokens", "interconnect_id",
                "kv_overlap_eta"],
    "published_claims": ["id", "system_id", "metric", "value", "unit"],
}
KEYS = {"gpus": "id", "interconnects": "id", "models": "id", "systems": "id",
        "published_claims": "id", "prices": None}

#: Positive numeric columns checked on load (user overlays included).
POSITIVE = {
    "gpus": ["hbm_capacity_gib", "hbm_bandwidth_gb_s", "bf16_dense_tflops", "nvlink_bandwidth_gb_s"],
    "interconnects": ["bandwidth_gb_s"],
    "models": ["num_layers", "hidden_size", "num_query_heads", "head_dim", "total_params_b",
               "active_params_b"],
    "prices": ["usd_per_gpu_hour"],
}


def _read_shipped(name: str) -> pd.DataFrame:
    path = resources.files("costcorrect.catalog") / "data" / f"{name}.csv"
    with path.open("r", encoding="utf-8") as fh:
        return pd.read_csv(fh, dtype={"as_of": str})


def _validate(name: str, df: pd.DataFrame, origin: str) -> pd.DataFrame:
    missing = [c for c in [*REQUIRED[name], "source", "as_of"] if c not in df.columns]
    if missing:
        raise InputError(f"{origin}:{name}", missing, f"columns {REQUIRED[name] + ['source', 'as_of']}")
    for i, row in df.iterrows():
        for col in ("source", "as_of"):
            v = row[col]
            if v is None or (isinstance(v, float) and math.isnan(v)) or str(v).strip() == "":
                raise InputError(f"{origin}:{name}[{i}].{col}", v, "a non-empty citation/date")
    for col in POSITIVE.get(name, []):
        vals = pd.to_numeric(df[col], errors="coerce")
        bad = df[~(vals > 0) & df[col].notna()]
        if len(bad):
            r = bad.iloc[0]
            raise InputError(f"{origin}:{name}.{col}", r[col], "a number > 0")
    key = KEYS[name]
    if key is not None:
        ids = df[key].astype(str)
        bad = ids[~ids.str.fullmatch(r"[a-z0-9][a-z0-9.\-]*")]
        if len(bad):
            raise InputError(f"{origin}:{name}.{key}", bad.iloc[0], "lowercase-hyphenated ids")
    return df


@dataclass
class Catalog:
    """All catalog tables, shipped rows plus an optional user overlay."""

    tables: dict[str, pd.DataFrame] = field(default_factory=dict)

    @classmethod
    def load(cls, overlay: str | Path | None = None) -> Catalog:
        tables = {name: _validate(name, _read_shipped(name), "catalog") for name in TABLES}
        if overlay is not None:
            tables = _apply_overlay(tables, Path(overlay))
        return cls(tables)

    def table(self, name: str) -> pd.DataFrame:
        if name not in self.tables:
            raise InputError("table", name, f"one of {', '.join(TABLES)}")
        return self.tables[name]

    def row(self, name: str, row_id: str) -> dict:
        df = self.table(name)
        hit = df[df["id"] == row_id]
        if hit.empty:
            singular = name.rstrip("s")
            raise InputError(singular, row_id, "one of " + ", ".join(sorted(df["id"].astype(str))))
        return _clean(hit.iloc[-1].to_dict())

    def gpu(self, gpu_id: str) -> dict:
        return self.row("gpus", gpu_id)

    def model(self, model_id: str) -> dict:
        return self.row("models", model_id)

    def interconnect(self, link_id: str) -> dict:
        return self.row("interconnects", link_id)

    def system(self, system_id: str) -> dict:
        return self.row("systems", system_id)

    def prices_for(self, gpu_id: str) -> pd.DataFrame:
        self.gpu(gpu_id)
        df = self.table("prices")
        return df[df["gpu_id"] == gpu_id]

    def default_price(self, gpu_id: str) -> dict:
        """The price a run uses when none is given. [$/h per GPU]

        Rule: a user-overlay row for the GPU if any; else CoreWeave on-demand (paper 01's
        rate sheet); else the median on-demand row.
        """
        rows = self.prices_for(gpu_id)
        if rows.empty:
            raise InputError("price", gpu_id, "a GPU with a price row (add one in an overlay)")
        user = rows[rows["source"].astype(str).str.startswith("user:")]
        if not user.empty:
            return _clean(user.iloc[-1].to_dict())
        cw = rows[(rows["provider"].str.lower() == "coreweave") & (rows["offering"] == "on-demand")]
        if not cw.empty:
            return _clean(cw.iloc[0].to_dict())
        od = rows[rows["offering"] == "on-demand"]
        pool = od if not od.empty else rows
        pool = pool.sort_values("usd_per_gpu_hour", kind="stable")
        return _clean(pool.iloc[(len(pool) - 1) // 2].to_dict())


def price_label(row: dict) -> str:
    """Where a price row comes from, for tables and JSON: ``provider offering (as_of)``."""
    return f"{row['provider']} {row['offering']} ({row['as_of']})"


def _clean(d: dict) -> dict:
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in d.items()}


def _apply_overlay(tables: dict[str, pd.DataFrame], path: Path) -> dict[str, pd.DataFrame]:
    """Merge a user YAML overlay: ``{gpus: [...], models: [...], prices: [...], ...}``."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError("catalog overlay", str(path), f"a readable YAML file ({exc.strerror})") from None
    try:
        doc = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        where = f" (line {line + 1})" if line is not None else ""
        raise InputError("catalog overlay", f"{path}{where}", "valid YAML") from None
    if not isinstance(doc, dict):
        raise InputError("catalog overlay", type(doc).__name__, "a mapping of table name -> rows")
    out = dict(tables)
    for name, rows in doc.items():
        if name not in TABLES:
            raise InputError("catalog overlay table", name, f"one of {', '.join(TABLES)}")
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise InputError(f"catalog overlay {name}", rows, "a list of rows (mappings)")
        for r in rows:
            r.setdefault("source", None)
            if r["source"] is not None and not str(r["source"]).startswith("user:"):
                r["source"] = f"user:{r['source']}"
        add = _validate(name, pd.DataFrame(rows), f"overlay {path.name}")
        base = out[name]
        key = KEYS[name]
        if key is not None:
            base = base[~base[key].isin(add[key])]
        out[name] = pd.concat([base, add], ignore_index=True)
    return out


def load_efficiency() -> dict:
    """Default roofline efficiencies with their provenance (``efficiency.yaml``)."""
    path = resources.files("costcorrect.catalog") / "data" / "efficiency.yaml"
    with path.open("r", encoding="utf-8") as fh:
        return yaml.safe_load(fh)["default"]
