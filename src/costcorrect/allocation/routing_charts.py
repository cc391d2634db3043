"""Altair chart specs for paper 05 (issue 7): the threshold, its elasticities, the expansion
orders, Table 1 and a router's cost-quality curve. Pure: each function returns a chart with the
data inlined; :func:`costcorrect.charts.save_chart` writes it (PNG/SVG, atomically).

- :func:`chart_premium_vs_kappa` -- Π = κΔ − γ against κ for several Δ, threshold κ = γ/Δ marked
  (05 eq. 7-8).
- :func:`chart_elasticity_divergence` -- ε_κ = κΔ/(κΔ − γ) and ε_γ against κΔ/γ, divergent at 1
  (05 eq. 9).
- :func:`chart_expansion_orders` -- exact Π, κΔ and κΔ + Π₃ against the workload spread (log-log),
  with the two residuals: second order leaves O(ε³), third order leaves O(ε⁴) (05 Thm 1).
- :func:`chart_table1` -- the six systems' κΔ and γ bands (Table 1, Figure 2's reading).
- :func:`chart_cost_quality` -- a router's cost-quality frontier with fixed tiers and the oracle.
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from costcorrect.allocation.routing import premium_elasticities, routing_premium

__all__ = ["chart_cost_quality", "chart_elasticity_divergence", "chart_expansion_orders",
           "chart_premium_vs_kappa", "chart_table1"]

_W, _H = 520, 340


def chart_premium_vs_kappa(deltas=(0.1, 0.2, 0.4), gamma=0.05, n=101) -> alt.LayerChart:
    """Π against κ for each Δ at fixed γ, with the threshold κ* = γ/Δ as rules (05 eq. 7-8)."""
    kap = np.linspace(0, 1, int(n))
    df = pd.DataFrame([{"kappa": k, "premium": float(routing_premium(k, dl, gamma)), "Δ": f"Δ = {dl:g}"}
                       for dl in deltas for k in kap])
    th = pd.DataFrame([{"kappa": gamma / dl, "Δ": f"Δ = {dl:g}"} for dl in deltas if gamma / dl <= 1])
    base = alt.Chart(df).mark_line().encode(
        x=alt.X("kappa:Q", title="κ, classifier calibration [-]"),
        y=alt.Y("premium:Q", title="Π = κΔ − γ [share of C(c̄*, d̄)]"), color=alt.Color("Δ:N", title=None))
    zero = alt.Chart(pd.DataFrame({"y": [0.0]})).mark_rule(color="#888").encode(y="y:Q")
    rules = alt.Chart(th).mark_rule(strokeDash=[4, 3]).encode(x="kappa:Q", color="Δ:N")
    return (zero + base + rules).properties(
        width=_W, height=_H, title=alt.Title(f"Routing premium vs calibration (γ = {gamma:g})",
                                             subtitle="dashed: threshold κ = γ/Δ (eq. 8)"))


def chart_elasticity_divergence(ratio_lo=0.2, ratio_hi=4.0, n=400, clip=20.0) -> alt.LayerChart:
    """ε_κ (= ε_Δ) and ε_γ of Π against κΔ/γ; both diverge at κΔ = γ (05 eq. 9). Clipped at ±clip."""
    r = np.linspace(ratio_lo, ratio_hi, int(n))
    r = r[np.abs(r - 1) > 1e-3]
    e = premium_elasticities(r, 1.0, 1.0)
    rows = [{"ratio": float(x), "elasticity": float(np.clip(v, -clip, clip)), "which": name,
             "side": "below" if x < 1 else "above"}
            for name, arr in (("ε_κ = ε_Δ", e["kappa"]), ("ε_γ", e["gamma"])) for x, v in zip(r, arr, strict=True)]
    df = pd.DataFrame(rows)
    lines = alt.Chart(df).mark_line().encode(
        x=alt.X("ratio:Q", title="κΔ / γ [-]"),
        y=alt.Y("elasticity:Q", title=f"elasticity of Π [-] (clipped at ±{clip:g})"),
        color=alt.Color("which:N", title=None), detail="side:N")
    rule = alt.Chart(pd.DataFrame({"x": [1.0]})).mark_rule(strokeDash=[4, 3], color="#e45756").encode(x="x:Q")
    return (lines + rule).properties(width=_W, height=_H, title=alt.Title(
        "Elasticities of the routing premium diverge at the threshold", subtitle="eq. 9; dashed: κΔ = γ"))


def chart_expansion_orders(rows: list[dict]) -> alt.LayerChart:
    """Log-log: exact Π, |exact − κΔ| and |exact − (κΔ + Π₃)| against the spread ε (05 Thm 1).

    ``rows``: dicts with ``spread``, ``premium_exact``, ``residual``, ``residual_after_third``.
    """
    recs = []
    for r in rows:
        for key, name in (("premium_exact", "exact Π"), ("residual", "|exact − κΔ| (2nd-order error)"),
                          ("residual_after_third", "|exact − (κΔ + Π₃)| (3rd-order error)")):
            v = abs(float(r[key]))
            if v > 0:
                recs.append({"spread": float(r["spread"]), "value": v, "series": name})
    return alt.Chart(pd.DataFrame(recs)).mark_line(point=True).encode(
        x=alt.X("spread:Q", scale=alt.Scale(type="log"), title="workload spread ε of d [-] (log)"),
        y=alt.Y("value:Q", scale=alt.Scale(type="log"), title="share of C(c̄*, d̄) [-] (log)"),
        color=alt.Color("series:N", title=None)).properties(width=_W, height=_H, title=alt.Title(
            "Exact premium vs its Taylor orders", subtitle="slopes ≈ 2, 3, 4: Π ∝ ε², residuals ∝ ε³ and ε⁴"))


def chart_table1(rows: list[dict]) -> alt.LayerChart:
    """Table 1's κΔ band (bar) and γ band (tick range) per system; Π > 0 where κΔ clears γ."""
    df = pd.DataFrame([{"system": r["system"], "kd_lo": r["kappa_delta_low"], "kd_hi": r["kappa_delta_high"],
                        "g_lo": r["gamma_low"], "g_hi": r["gamma_high"]} for r in rows])
    kd = df.dropna(subset=["kd_lo"])
    bars = alt.Chart(kd).mark_bar(size=14, color="#4c78a8", opacity=0.7).encode(
        y=alt.Y("system:N", title=None), x=alt.X("kd_lo:Q", title="κΔ band (bar) and γ band (red) [-]"),
        x2="kd_hi:Q")
    gam = alt.Chart(df).mark_bar(size=6, color="#e45756").encode(y="system:N", x="g_lo:Q", x2="g_hi:Q")
    return (bars + gam).properties(width=_W, height=_H, title=alt.Title(
        "Paper 05 Table 1: κΔ against γ per system", subtitle="routing pays where the blue band clears the red"))


def chart_cost_quality(result: dict) -> alt.LayerChart:
    """Cost-quality curve of ``routing_eval.evaluate_router``: frontier, fixed tiers, oracle, router."""
    curve = pd.DataFrame([{"mean_cost_usd": p["mean_cost_usd"], "accuracy": p["accuracy"]}
                          for p in result.get("curve", [])])
    pts = [{"mean_cost_usd": f["mean_cost_usd"], "accuracy": f["accuracy"], "policy": f"fixed {f['tier']}"}
           for f in result["fixed"]]
    pts.append({"mean_cost_usd": result["oracle"]["mean_cost_usd"], "accuracy": result["oracle"]["accuracy"],
                "policy": "oracle"})
    if result.get("router"):
        pts.append({"mean_cost_usd": result["router"]["mean_cost_usd"], "accuracy": result["router"]["accuracy"],
                    "policy": "best threshold router (in-sample)"})
    x = alt.X("mean_cost_usd:Q", title="mean cost [$ per query]")
    y = alt.Y("accuracy:Q", title="accuracy [share of queries correct]")
    layers = []
    if not curve.empty:
        layers.append(alt.Chart(curve).mark_line(point=True, color="#4c78a8").encode(x=x, y=y))
    layers.append(alt.Chart(pd.DataFrame(pts)).mark_point(size=90, filled=True).encode(
        x=x, y=y, color=alt.Color("policy:N", title=None), shape=alt.Shape("policy:N", title=None)))
    return alt.layer(*layers).properties(width=_W, height=_H, title=alt.Title(
        f"Router cost-quality curve ({result['n_queries']} queries)",
        subtitle="line: frontier of threshold routers; points: fixed tiers, oracle, best router"))
