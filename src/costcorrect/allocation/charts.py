"""Altair specs for the cost-correct charts: the lever tornado (03) and the (T, ρ) threshold plane (04).

Pure functions: rows/arrays in, ``alt.Chart`` out; save with :func:`costcorrect.charts.save_chart`.
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

__all__ = ["threshold_plane_chart", "tornado_chart"]

LEVER_LABELS = {
    "cpm_1to1_usd_per_mtok": "CPM_1:1 [$/MTok]",
    "reasoning_multiplier": "R, reasoning multiplier [-]",
    "rollout_ratio": "ρ̄, rollout ratio [-]",
    "accept_rate": "α, accept rate [-]",
}
_FONT = "DejaVu Sans, Liberation Sans, Arial, Helvetica, sans-serif"


def tornado_chart(rows: list[dict], title: str = "Sensitivity of cost per correct answer to each lever") -> alt.Chart:
    """Horizontal bars from C(low) to C(high) per lever, largest swing on top, base C as a rule (03 §2)."""
    base = rows[0]["cost_base_usd_per_mtok"] if rows else 0.0
    df = pd.DataFrame([{
        "lever": LEVER_LABELS.get(r["lever"], r["lever"]),
        "range": f"{r['low']:g} – {r['high']:g}",
        "c_min": min(r["cost_low_usd_per_mtok"], r["cost_high_usd_per_mtok"]),
        "c_max": max(r["cost_low_usd_per_mtok"], r["cost_high_usd_per_mtok"]),
        "swing": r["swing_usd_per_mtok"],
    } for r in rows])
    order = list(df["lever"]) if len(df) else []
    y = alt.Y("lever:N", sort=order, title=None)
    bars = alt.Chart(df).mark_bar(height=22, color="#4c78a8").encode(
        y=y,
        x=alt.X("c_min:Q", title="Cost-correct C [$ per million accepted answer tokens]"),
        x2="c_max:Q",
        tooltip=["lever", "range", alt.Tooltip("c_min:Q", format=".4g"), alt.Tooltip("c_max:Q", format=".4g")],
    )
    labels = alt.Chart(df).mark_text(align="left", dx=4, font=_FONT, fontSize=11).encode(
        y=y, x="c_max:Q", text="range:N")
    rule = alt.Chart(pd.DataFrame({"c": [base]})).mark_rule(color="#e45756", strokeDash=[4, 3]).encode(x="c:Q")
    return (bars + labels + rule).properties(
        width=520, height=max(60, 40 * len(df)),
        title=alt.Title(title, subtitle=f"Other levers at base; dashed line: C at base = {base:.4g} $/MTok",
                        anchor="start", subtitleFont=_FONT),
    )


def threshold_plane_chart(plane: dict, title: str = "Which channel should get the next dollar (04 §3.4)") -> alt.Chart:
    """Cells of the (T, ρ) plane coloured by the winning channel, with the boundary T*(ρ)."""
    t, rho = plane["t"], plane["rho"]
    win = plane["inference_dominates"]
    cells = pd.DataFrame({
        "t": np.repeat(t[None, :], rho.size, axis=0).ravel(),
        "rho": np.repeat(rho[:, None], t.size, axis=1).ravel(),
        "channel": np.where(win.ravel(), "inference (rollouts)", "training"),
    })
    x = alt.X("t:Q", scale=alt.Scale(type="log", domain=[float(t.min()), float(t.max())]),
              title="Training compute T [multiples of the operating point's T] (log)")
    ylab = alt.Y("rho:Q", scale=alt.Scale(type="log", domain=[float(rho.min()), float(rho.max())]),
                 title="Rollouts per query ρ [-] (log)")
    heat = alt.Chart(cells).mark_square(size=60, opacity=0.85).encode(
        x=x, y=ylab,
        color=alt.Color("channel:N", scale=alt.Scale(domain=["training", "inference (rollouts)"],
                                                      range=["#9ecae9", "#f58518"]), title="next dollar to"),
    )
    b = pd.DataFrame({"t": plane["boundary_t"], "rho": rho}).dropna()
    b = b[(b["t"] >= t.min()) & (b["t"] <= t.max())]
    layers = [heat]
    if len(b):
        layers.append(alt.Chart(b).mark_line(color="black").encode(x=x, y=ylab, order="rho:Q"))
    return alt.layer(*layers).properties(
        width=520, height=340,
        title=alt.Title(title, subtitle="Boundary: (η_ρ − ρ/(1+ρ))/η_T = ρ c_I/(T c_T) (04 A.1), constant elasticities",
                        anchor="start", subtitleFont=_FONT),
    )
