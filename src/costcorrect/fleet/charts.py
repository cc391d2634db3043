"""Savings waterfall for the fleet plan (issue 12 item 3): baseline → levers → joint plan.

Pure: takes the ``savings_breakdown`` dict of :func:`costcorrect.fleet.analysis.savings_breakdown`
and returns an Altair chart; :func:`costcorrect.charts.save_chart` writes it.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

LABELS = {"hardware_mix": "Hardware mix", "co_location": "Co-location", "serving_strategy": "Per-replica strategy"}


def waterfall_frame(breakdown: dict, *, shares: str = "shapley") -> pd.DataFrame:
    """Bars of the waterfall: start/end [$/h] per step; the levers' steps add up to the saving.

    ``shares``: ``shapley`` (order-free shares) or ``sequential`` (hardware → co-location →
    strategy, each step the optimal restricted program's drop).
    """
    base = breakdown.get("baseline_cost_usd_per_hour")
    joint = breakdown.get("joint_cost_usd_per_hour")
    if base is None or joint is None:
        raise ValueError("the breakdown has no feasible baseline or joint plan to chart")
    src = breakdown if shares == "shapley" else breakdown["sequential"]
    rows = [{"step": "Homogeneous per-model baseline", "start": 0.0, "end": base, "kind": "total", "order": 0}]
    level = base
    for j, key in enumerate(LABELS, start=1):
        saving = float(src[f"{key}_usd_per_hour"])
        rows.append({"step": LABELS[key], "start": level, "end": level - saving,
                     "kind": "saving" if saving >= 0 else "increase", "order": j})
        level -= saving
    rows.append({"step": "Joint plan", "start": 0.0, "end": joint, "kind": "total", "order": 4})
    df = pd.DataFrame(rows)
    df["amount_usd_per_hour"] = (df["end"] - df["start"]).abs()
    return df


def savings_waterfall(breakdown: dict, *, shares: str = "shapley", title: str | None = None) -> alt.Chart:
    """Waterfall of fleet cost [$/h] from the best homogeneous plan to the joint plan."""
    df = waterfall_frame(breakdown, shares=shares)
    order = list(df["step"])
    ratio = breakdown.get("cost_ratio")
    title = title or (f"Where the joint plan's saving comes from ({shares} shares"
                      + (f"; baseline / joint = {ratio:.2f}×)" if ratio else ")"))
    color = alt.Color("kind:N", title=None,
                      scale=alt.Scale(domain=["total", "saving", "increase"],
                                      range=["#4c78a8", "#54a24b", "#e45756"]))
    bars = alt.Chart(df).mark_bar(size=48).encode(
        x=alt.X("step:N", sort=order, title=None, axis=alt.Axis(labelAngle=0, labelLimit=160)),
        y=alt.Y("start:Q", title="Fleet cost [$/h]"),
        y2="end:Q",
        color=color,
        tooltip=[alt.Tooltip("step:N"), alt.Tooltip("amount_usd_per_hour:Q", title="amount [$/h]", format=",.2f")],
    )
    text = alt.Chart(df).mark_text(dy=-8).encode(
        x=alt.X("step:N", sort=order), y=alt.Y("max_end:Q"),
        text=alt.Text("amount_usd_per_hour:Q", format=",.1f"),
    ).transform_calculate(max_end="max(datum.start, datum.end)")
    return (bars + text).properties(width=560, height=340, title=title)
