"""Data mode: run the mechanism on a buyer's own probes (paper 06 §4 as a tool).

Inputs are two tables (CSV or Parquet):

* reports: ``vendor,item_id,prob`` — each vendor's P(label = 1) on each probe;
* labels:  ``item_id,label`` — ground truth in {0, 1}.

:func:`validate_frames` enforces the rules below and raises :class:`InputError` naming the
first few offending rows (1-based data rows, header excluded) and the rule broken:
probabilities in [0, 1] and not NaN; labels in {0, 1}; no duplicate (vendor, item_id) or
duplicate label rows; every vendor reports on every labelled item, and every reported item
has a label; at least one probe and two vendors.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from costcorrect.errors import InputError
from costcorrect.verification.mechanism import bootstrap_selection, run_mechanism
from costcorrect.verification.rules import score

REPORT_COLUMNS = ("vendor", "item_id", "prob")
LABEL_COLUMNS = ("item_id", "label")


def load_table(path: str | Path, what: str) -> pd.DataFrame:
    """Read a CSV or Parquet file (by suffix); ``item_id``/``vendor`` are read as strings."""
    p = Path(path)
    if not p.is_file():
        raise InputError(what, str(path), "an existing CSV or Parquet file")
    if p.suffix.lower() in (".parquet", ".pq"):
        try:
            df = pd.read_parquet(p)
        except ImportError:
            raise InputError(what, str(path), "CSV, or install pyarrow ('costcorrect[parquet]') for Parquet") from None
    else:
        try:
            df = pd.read_csv(p, dtype={"vendor": str, "item_id": str})
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            raise InputError(what, str(path), f"a readable CSV ({type(exc).__name__})") from None
    for c in ("vendor", "item_id"):
        if c in df.columns:
            df[c] = df[c].astype(str)
    return df


def _rows(mask, limit: int = 5) -> str:
    idx = np.flatnonzero(np.asarray(mask)) + 1
    more = f" (+{idx.size - limit} more)" if idx.size > limit else ""
    return ", ".join(str(i) for i in idx[:limit]) + more


def check_probe_tables(reports: pd.DataFrame, labels: pd.DataFrame, report_columns) -> np.ndarray:
    """Shared checks of a probe set: the columns, non-empty tables, labels in {0, 1} and one
    label per ``item_id``. Returns the labels as floats (in ``labels`` order)."""
    for df, cols, name in ((reports, tuple(report_columns), "reports"), (labels, LABEL_COLUMNS, "labels")):
        missing = [c for c in cols if c not in df.columns]
        if missing:
            raise InputError(f"{name} columns", list(df.columns), "columns " + ",".join(cols))
    if len(labels) == 0 or len(reports) == 0:
        raise InputError("probe set", "empty", "at least one labelled probe and its reports")
    lab = pd.to_numeric(labels["label"], errors="coerce").to_numpy(dtype=float)
    badl = ~np.isin(lab, (0.0, 1.0))
    if badl.any():
        raise InputError(f"labels rows {_rows(badl)} label", labels["label"].to_numpy()[badl][:5].tolist(),
                         "labels in {0, 1}")
    dup_l = labels.duplicated("item_id", keep=False).to_numpy()
    if dup_l.any():
        raise InputError(f"labels rows {_rows(dup_l)}", labels["item_id"].to_numpy()[dup_l][:5].tolist(),
                         "one label per item_id (duplicates found)")
    return lab


def validate_frames(reports: pd.DataFrame, labels: pd.DataFrame):
    """Check the two tables; return ``(vendors, items, P (K, N), y (N,))`` in sorted order."""
    check_probe_tables(reports, labels, REPORT_COLUMNS)
    prob = pd.to_numeric(reports["prob"], errors="coerce").to_numpy(dtype=float)
    bad = ~((prob >= 0) & (prob <= 1))
    if bad.any():
        raise InputError(f"reports rows {_rows(bad)} prob", reports["prob"].to_numpy()[bad][:5].tolist(),
                         "probabilities in [0, 1], not NaN")
    dup = reports.duplicated(["vendor", "item_id"], keep=False).to_numpy()
    if dup.any():
        raise InputError(f"reports rows {_rows(dup)}",
                         reports.loc[dup, ["vendor", "item_id"]].head(5).to_numpy().tolist(),
                         "one row per (vendor, item_id) (duplicates found)")
    items = np.sort(labels["item_id"].unique())
    unl = ~reports["item_id"].isin(items).to_numpy()
    if unl.any():
        raise InputError(f"reports rows {_rows(unl)} item_id", reports["item_id"].to_numpy()[unl][:5].tolist(),
                         "items that have a label")
    vendors = np.sort(reports["vendor"].unique())
    if vendors.size < 2:
        raise InputError("vendors", vendors.tolist(), "at least 2 vendors")
    wide = reports.pivot(index="vendor", columns="item_id", values="prob").reindex(index=vendors, columns=items)
    gaps = wide.isna()
    if gaps.to_numpy().any():
        lacking = [f"{v} ({int(gaps.loc[v].sum())} items, e.g. {gaps.columns[gaps.loc[v]][0]})"
                   for v in vendors if gaps.loc[v].any()]
        raise InputError("vendors with missing items", "; ".join(lacking[:5]),
                         "every vendor reporting on every labelled item")
    y = labels.set_index("item_id").loc[items, "label"].to_numpy(dtype=float).astype(np.int64)
    return vendors.tolist(), items.tolist(), wide.to_numpy(dtype=float), y


def procure(reports: pd.DataFrame, labels: pd.DataFrame, rule: str = "brier", *,
            per_probe_cap_usd: float | None = None, budget_usd: float | None = None,
            reservation_usd: float = 0.0, n_boot: int = 2000, seed: int = 0) -> dict:
    """Mechanism on the buyer's probes: per-vendor mean score with a bootstrap 95 % interval,
    payment [USD], the selection, the probability the selection is wrong (share of bootstrap
    resamples of the probes that pick another vendor) and how many more probes would bring
    that to 5 % (normal approximation on the paired score difference with the runner-up)."""
    vendors, items, p, y = validate_frames(reports, labels)
    res = run_mechanism(p, y, rule, per_probe_cap_usd=per_probe_cap_usd, budget_usd=budget_usd,
                        reservation_usd=reservation_usd, vendors=vendors)
    boot = bootstrap_selection(score(rule, p, y, categorical=False), n_boot=n_boot, seed=seed)
    rows = []
    for i, v in enumerate(vendors):
        rows.append({
            "vendor": v, "score": float(res.mean_scores[i]),
            "score_ci95": [float(boot["ci_low"][i]), float(boot["ci_high"][i])],
            "payment": float(res.payments_usd[i]),
            "accept_rate": float(np.mean((p[i] >= 0.5) == (y == 1))),
        })
    return {
        "selected": vendors[res.selected],
        "rule": rule,
        "probes": len(items),
        "vendors": rows,
        "p_wrong": boot["p_wrong"],
        "runner_up": vendors[boot["runner_up"]],
        "probes_needed": boot["probes_needed"],
        "more_probes": boot["more_probes"],
        "a_usd": res.a_usd, "b_usd": res.b_usd, "per_probe_cap_usd": res.per_probe_cap_usd,
        "total_payment_usd": res.total_payment_usd,
        "payment_unit": "USD for the whole probe set",
        "bootstrap_resamples": int(n_boot),
    }
