"""The cost-correct calculator page: C = CPM_1:1 · R · (1+ρ̄) / α and its levers (02 §4, 03).

Numbers and the tornado chart come from :mod:`costcorrect.allocation` (issue 6); this
module only shapes them for the page, with the same keys as
``costcorrect cost-correct --json`` in its API-price mode (tested).
"""

from __future__ import annotations

from costcorrect.allocation import charts as alloc_charts
from costcorrect.allocation import cost_correct as cc
from costcorrect.io import jsonable

#: The calculator's inputs (query parameters), in the paper's order.
INPUTS = ("price_in_usd_per_mtok", "price_out_usd_per_mtok", "reasoning_multiplier", "rollout_ratio",
          "accept_rate")


def unit(inputs: dict) -> dict:
    """``costcorrect cost-correct --price-in… --price-out… -R… --rollout-ratio… --accept-rate… --json``."""
    cpm = float(cc.cpm_1to1_usd_per_mtok(inputs["price_in_usd_per_mtok"], inputs["price_out_usd_per_mtok"]))
    c = float(cc.cost_correct_usd_per_mtok(cpm, inputs["reasoning_multiplier"], inputs["rollout_ratio"],
                                           inputs["accept_rate"]))
    out = {"cpm_1to1_usd_per_mtok": cpm, "price_in_usd_per_mtok": inputs["price_in_usd_per_mtok"],
           "price_out_usd_per_mtok": inputs["price_out_usd_per_mtok"], "cpm_source": "api price",
           "cpm_usd_per_mtok": cpm, "reasoning_multiplier": inputs["reasoning_multiplier"],
           "rollout_ratio": inputs["rollout_ratio"], "accept_rate": inputs["accept_rate"],
           "cost_correct_usd_per_mtok": c, "vcpd_cost_usd_per_mtok": float(cc.vcpd_usd_per_mtok(cpm))}
    if inputs.get("answer_tokens") is not None:
        out["answer_tokens"] = inputs["answer_tokens"]
        out["cost_per_correct_answer_usd"] = float(cc.cost_per_correct_answer_usd(c, inputs["answer_tokens"]))
    return out


def lever_ranges(base: dict, spread: float) -> dict[str, tuple[float, float]]:
    """Each lever ± ``spread`` (a share) around its base, kept in its domain (R ≥ 1, α ≤ 1)."""
    out = {}
    for key in cc.LEVERS:
        lo, hi = base[key] * (1 - spread), base[key] * (1 + spread)
        if key == "reasoning_multiplier":
            lo = max(lo, 1.0)
        if key == "accept_rate":
            hi = min(hi, 1.0)
        out[key] = (lo, hi)
    return out


def cost_correct_view(inputs: dict, spread: float) -> dict:
    result = unit(inputs)
    base = {"cpm_1to1_usd_per_mtok": result["cpm_1to1_usd_per_mtok"],
            "reasoning_multiplier": inputs["reasoning_multiplier"], "rollout_ratio": inputs["rollout_ratio"],
            "accept_rate": inputs["accept_rate"]}
    rows = cc.tornado_rows(base, lever_ranges(base, spread))
    result["elasticities"] = {k: float(v) for k, v in cc.cost_elasticities(inputs["rollout_ratio"]).items()}
    result["tornado"] = rows
    chart = alloc_charts.tornado_chart(
        rows, title=f"Which lever moves cost-correct C most (each lever ±{spread * 100:g} %, others at base)")
    labels = alloc_charts.LEVER_LABELS
    lever_rows = [{**r, "lever": labels.get(r["lever"], r["lever"]),
                   "elasticity": result["elasticities"][{"cpm_1to1_usd_per_mtok": "p", "reasoning_multiplier": "R",
                                                         "rollout_ratio": "rho", "accept_rate": "alpha"}[r["lever"]]]}
                  for r in rows]
    return {
        "result": jsonable(result),
        "spec": chart.to_dict(),
        "notes": [],
        "tables": [
            {"name": "cost-correct", "columns": [
                {"key": "cpm_1to1_usd_per_mtok", "label": "CPM_1:1 [$/MTok]"},
                {"key": "cost_correct_usd_per_mtok", "label": "C [$ per M accepted answer tokens]"},
                {"key": "answer_tokens", "label": "answer [tokens]"},
                {"key": "cost_per_correct_answer_usd", "label": "per correct answer [$]"},
                {"key": "vcpd_cost_usd_per_mtok", "label": "VCpD cost side [$/MTok]"}],
             "rows": jsonable([result])},
            {"name": "levers", "columns": [
                {"key": "lever", "label": "lever"}, {"key": "low", "label": "low"}, {"key": "high", "label": "high"},
                {"key": "cost_low_usd_per_mtok", "label": "C at low [$/MTok]"},
                {"key": "cost_high_usd_per_mtok", "label": "C at high [$/MTok]"},
                {"key": "swing_usd_per_mtok", "label": "swing [$/MTok]"},
                {"key": "elasticity", "label": "elasticity ∂lnC/∂lnx [–]"}],
             "rows": jsonable(lever_rows)},
        ],
    }
