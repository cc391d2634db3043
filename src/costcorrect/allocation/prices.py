"""Dated per-model API prices with sources (02 §7, 08 Table 1), plus user rows from YAML.

Shipped rows live in ``catalog/data/model_prices.csv`` (every row: ``source``, ``as_of``).
Users add or override rows with a YAML file::

    model_prices:
      - {id: my-model, provider: me, price_in_usd_per_mtok: 1.0,
         price_out_usd_per_mtok: 4.0, source: "our contract", as_of: 2026-11-01}

(a bare list of rows works too). User sources are prefixed ``user:``.
"""

from __future__ import annotations

import math
from importlib import resources
from pathlib import Path

import pandas as pd
import yaml

from costcorrect.allocation.cost_correct import cpm_1to1_usd_per_mtok
from costcorrect.errors import InputError

COLUMNS = ("id", "provider", "price_in_usd_per_mtok", "price_out_usd_per_mtok", "source", "as_of")


def _check(df: pd.DataFrame, origin: str) -> pd.DataFrame:
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise InputError(f"{origin} columns", missing, f"all of {', '.join(COLUMNS)}")
    df = df.copy()
    for col in ("source", "as_of"):
        bad = df[col].isna() | (df[col].astype(str).str.strip() == "")
        if bad.any():
            raise InputError(f"{origin}[{df.loc[bad, 'id'].iloc[0]}].{col}", None, "a non-empty citation/date")
    for col in ("price_in_usd_per_mtok", "price_out_usd_per_mtok"):
        vals = pd.to_numeric(df[col], errors="coerce")
        bad = vals.isna() | (vals < 0)
        if bad.any():
            raise InputError(f"{origin}[{df.loc[bad, 'id'].iloc[0]}].{col}", df.loc[bad, col].iloc[0],
                             "a price >= 0 [$/MTok]")
        df[col] = vals.astype(float)
    ids = df["id"].astype(str)
    bad = ids[~ids.str.fullmatch(r"[a-z0-9][a-z0-9.\-]*")]
    if len(bad):
        raise InputError(f"{origin}.id", bad.iloc[0], "lowercase-hyphenated ids")
    df["id"] = ids
    df["as_of"] = df["as_of"].astype(str)
    if "name" not in df.columns:
        df["name"] = df["id"]
    if "note" not in df.columns:
        df["note"] = ""
    df["cpm_1to1_usd_per_mtok"] = cpm_1to1_usd_per_mtok(df["price_in_usd_per_mtok"], df["price_out_usd_per_mtok"])
    return df


def _shipped() -> pd.DataFrame:
    path = resources.files("costcorrect.catalog") / "data" / "model_prices.csv"
    with path.open("r", encoding="utf-8") as fh:
        return _check(pd.read_csv(fh, dtype={"as_of": str}), "model_prices")


def load_model_prices(overlay: str | Path | None = None) -> pd.DataFrame:
    """Shipped model prices, with user rows from ``overlay`` (YAML) added or overriding by id."""
    df = _shipped()
    if overlay is None:
        return df
    path = Path(overlay)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError("prices file", str(path), f"a readable YAML file ({exc.strerror})") from None
    except yaml.YAMLError:
        raise InputError("prices file", str(path), "valid YAML") from None
    rows = doc.get("model_prices") if isinstance(doc, dict) else doc
    if not isinstance(rows, list) or not rows or not all(isinstance(r, dict) for r in rows):
        raise InputError("prices file", str(path), "a list of rows under 'model_prices:'")
    for r in rows:
        src = r.get("source")
        if src is not None and not str(src).startswith("user:"):
            r["source"] = f"user:{src}"
    add = _check(pd.DataFrame(rows), f"prices file {path.name}")
    df = df[~df["id"].isin(add["id"])]
    return pd.concat([df, add], ignore_index=True)


def model_price(prices: pd.DataFrame, model_id: str) -> dict:
    """One model's row as a dict; unknown ids raise :class:`InputError` listing the known ones."""
    hit = prices[prices["id"] == model_id]
    if hit.empty:
        raise InputError("model", model_id, "one of " + ", ".join(sorted(prices["id"])))
    row = hit.iloc[-1].to_dict()
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
