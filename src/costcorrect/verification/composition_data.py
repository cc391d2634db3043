"""Data mode of paper 07: per-slot decisions on labelled probes → pair table, C, selection.

Reports: ``slot,vendor,item_id,decision`` (decision 0/1; slot an integer 1..m); labels:
``item_id,label``. Every vendor of every slot must decide every labelled item. For every
tuple (one vendor per slot) we compute, with multinomial-bootstrap intervals
(:func:`composition.estimate_identity`), the marginal accept rates, the coupling ``C``
(m = 2), the pipeline accept rate, and the pipeline's agreement with the labels (the quantity
both mechanisms select on), plus Proposition 1's identifiability verdict. Selection:

* ``joint``: argmax of the pipeline's label agreement over all tuples (§5, Thm 4 rule);
* ``per_verifier``: paper 06's mechanism in each slot on its own decisions (§4), composed.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from costcorrect.errors import InputError
from costcorrect.verification import composition as cp
from costcorrect.verification import rules
from costcorrect.verification.datamode import check_probe_tables

MAX_TUPLES = 4096


def _frames(reports: pd.DataFrame, labels: pd.DataFrame):
    check_probe_tables(reports, labels, ("slot", "vendor", "item_id", "decision"))
    dec = pd.to_numeric(reports["decision"], errors="coerce").to_numpy(dtype=float)
    if not np.all(np.isin(dec, (0.0, 1.0))):
        raise InputError("reports decision", reports["decision"][~np.isin(dec, (0.0, 1.0))].head(3).tolist(),
                         "decisions in {0, 1}")
    slot = pd.to_numeric(reports["slot"], errors="coerce")
    if slot.isna().any() or (slot % 1 != 0).any() or (slot < 1).any():
        raise InputError("reports slot", reports["slot"][slot.isna()].head(3).tolist() or "value",
                         "integer slots 1..m")
    r = reports.assign(slot=slot.astype(int), decision=dec.astype(int), item_id=reports["item_id"].astype(str),
                       vendor=reports["vendor"].astype(str))
    if r.duplicated(["slot", "vendor", "item_id"]).any():
        raise InputError("reports", "duplicate (slot, vendor, item_id)", "one decision per slot, vendor and item")
    slots = sorted(r["slot"].unique())
    if slots != list(range(1, len(slots) + 1)) or len(slots) < 2:
        raise InputError("reports slot", slots, "slots 1..m with m >= 2")
    items = np.sort(labels["item_id"].astype(str).unique())
    if not r["item_id"].isin(items).all():
        raise InputError("reports item_id", r.loc[~r["item_id"].isin(items), "item_id"].head(3).tolist(),
                         "items that have a label")
    y = labels.assign(item_id=labels["item_id"].astype(str)).set_index("item_id").loc[items, "label"]
    y = y.to_numpy(dtype=float).astype(np.int64)
    per_slot = []
    for s in slots:
        w = r[r["slot"] == s].pivot(index="vendor", columns="item_id", values="decision").reindex(columns=items)
        if w.isna().to_numpy().any():
            raise InputError(f"slot {s} vendors with missing items", w.index[w.isna().any(axis=1)].tolist()[:5],
                             "every vendor deciding every labelled item")
        per_slot.append((w.index.tolist(), w.to_numpy(dtype=np.int64)))
    return per_slot, items.tolist(), y


def compose_run(reports: pd.DataFrame, labels: pd.DataFrame, rule: str = "and", *, n_boot: int = 1000,
                seed: int = 0, score_rule: str = "brier") -> dict:
    """The pair table, C with intervals, both selections and identifiability (paper 07 data mode)."""
    per_slot, items, y = _frames(reports, labels)
    m = len(per_slot)
    table = cp.rule_table(rule, m)
    n_tuples = int(np.prod([len(v) for v, _ in per_slot]))
    if n_tuples > MAX_TUPLES:
        raise InputError("candidate tuples", n_tuples, f"at most {MAX_TUPLES} (prod of vendors per slot)")
    rows = []
    for combo in itertools.product(*[range(len(v)) for v, _ in per_slot]):
        d = np.stack([per_slot[s][1][k] for s, k in enumerate(combo)], axis=1)
        est = cp.estimate_identity(d, table, n_boot=n_boot, seed=seed)
        cells, _ = cp.cells_from_decisions(d)
        pipe = table[cells]
        ident = cp.identifiability(np.eye(2**m)[cells])
        rows.append({
            "vendors": [per_slot[s][0][k] for s, k in enumerate(combo)],
            "alphas": est["alphas"], "coupling": est.get("coupling"), "coupling_interval": est.get("coupling_interval"),
            "pipeline_accept_rate": est["predicted_pipeline_accept_rate"],
            "pipeline_accept_rate_interval": est["predicted_interval"],
            "independent_accept_rate": est.get("independent_accept_rate"),
            "pipeline_agreement": float(np.mean(pipe == y)),
            "pipeline_score": float(rules.score(score_rule, pipe.astype(float), y).mean()),
            "identifiable": ident["identifiable"], "rank": ident["rank"],
        })
    best = int(np.argmax([r["pipeline_agreement"] for r in rows]))
    per_v = [int(np.argmax(rules.score(score_rule, dec.astype(float), y).mean(-1))) for _, dec in per_slot]
    pv_vendors = [per_slot[s][0][k] for s, k in enumerate(per_v)]
    pv_row = next(r for r in rows if r["vendors"] == pv_vendors)
    all_ident = all(r["identifiable"] for r in rows)
    return {
        "rule": rule, "m": m, "probes": len(items), "tuples": rows,
        "identifiability": {"all_identifiable": all_ident,
                            "unidentified": [r["vendors"] for r in rows if not r["identifiable"]]},
        "joint_selected": rows[best]["vendors"] if all_ident else None,
        "joint_refusal": None if all_ident else (
            "refused: some candidate tuples show a single joint decision on every probe (rank < 2), so "
            "their coupling is not identified (paper 07 Prop. 1); add probes of another type"),
        "per_verifier_selected": pv_vendors,
        "per_verifier_gap_pct": (100.0 * (rows[best]["pipeline_agreement"] / pv_row["pipeline_agreement"] - 1.0)
                                 if pv_row["pipeline_agreement"] > 0 else None),
    }
