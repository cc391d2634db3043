"""The cost-correct page: C = CPM_1:1 · R · (1+ρ̄) / α and its levers (02 §4, 03), the
training-vs-rollouts threshold plane (04 §3.4) and the routing premium (05 eq. 7-9).

Numbers and charts come from :mod:`costcorrect.allocation`; this module only shapes them
for the page, with the same keys as ``costcorrect cost-correct --json`` (API-price mode),
``costcorrect threshold --json`` (manual inputs) and ``costcorrect routing premium --json``
for the same inputs (tested).
"""

from __future__ import annotations

import math

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


# ----------------------------------------------------------------------------- threshold plane (paper 04)

#: Inputs of ``costcorrect threshold`` (manual mode), as query parameters.
THRESHOLD_INPUTS = ("eta_rho", "eta_t", "rho", "t_cost_usd", "i_cost_usd")

#: Start of the threshold panel: docs/cost-correct.md's worked example
#: (``threshold --eta-rho 0.9 --eta-t 0.2 --rho 4 --t-cost-usd 10 --i-cost-usd 1``).
DEFAULT_THRESHOLD = {"eta_rho": 0.9, "eta_t": 0.2, "rho": 4.0, "t_cost_usd": 10.0, "i_cost_usd": 1.0}


def threshold_result(inputs: dict) -> dict:
    """``costcorrect threshold --eta-rho … --eta-t … --rho … --t-cost-usd … --i-cost-usd … --json``."""
    from costcorrect.allocation import threshold as th

    out = th.threshold(inputs["eta_rho"], inputs["eta_t"], inputs["rho"], inputs["t_cost_usd"],
                       inputs["i_cost_usd"])
    out.update({k: inputs[k] for k in THRESHOLD_INPUTS})
    return jsonable(out)


def threshold_view(inputs: dict) -> dict:
    """04 §3.4's (T, ρ) plane, on the CLI's grid (``threshold --out``), with the operating point."""
    import altair as alt
    import numpy as np

    from costcorrect.allocation import threshold as th

    result = threshold_result(inputs)
    r0, et = float(inputs["rho"]), float(inputs["eta_t"])
    c_i = inputs["i_cost_usd"] / r0  # ρ·c_I per query → c_I per rollout
    t0 = inputs["t_cost_usd"]  # T in units of the operating point's T (T = 1 there), so c_T = T·c_T
    plane = th.threshold_plane(np.geomspace(0.01, 100, 60), np.geomspace(1, max(r0 * 4, 16), 40),
                               float(inputs["eta_rho"]), et, t0, c_i)
    side = "inference (rollouts)" if result["inference_dominates"] else "training"
    chart = alloc_charts.threshold_plane_chart(
        plane, title=f"Which channel should get the next dollar (04 §3.4): at the operating point, {side}")
    enc0 = chart.layer[0].encoding.to_dict()  # the plane's own axes (a layer without them widens the domain)
    point = alt.Chart(alt.Data(values=[{"t": 1.0, "rho": r0, "label": "operating point"}])).mark_point(
        shape="diamond", size=200, filled=True, color="#ffd400", stroke="black", strokeWidth=2).encode(
        x=alt.X("t:Q", title=enc0["x"]["title"], scale=alt.Scale(**enc0["x"]["scale"])),
        y=alt.Y("rho:Q", title=enc0["y"]["title"], scale=alt.Scale(**enc0["y"]["scale"])),
        tooltip=[alt.Tooltip("label:N", title=" "), alt.Tooltip("t:Q", title="T [× operating T]"),
                 alt.Tooltip("rho:Q", title="ρ [-]")])
    chart.layer = [*chart.layer, point]
    notes = []
    if result["robust"]:
        notes.append("η_ρ ≤ ρ/(1+ρ): no η_T > 0 and no prices make more rollouts pay at this point (04 A.1).")
    if not (plane["rho"][0] <= r0 <= plane["rho"][-1]):
        notes.append(f"ρ = {r0:g} is below the plane's ρ ≥ 1: the operating point is off the chart.")
    boundary = np.asarray(plane["boundary_t"], dtype=float)
    b_rows = [{"rho": float(r), "boundary_t": (float(b) if np.isfinite(b) else None)}
              for r, b in zip(plane["rho"][::8], boundary[::8], strict=True)]
    return {
        "result": result,
        "spec": chart.to_dict(),
        "notes": notes,
        "tables": [
            {"name": "threshold (04 A.1)", "columns": [
                {"key": "lhs", "label": "(η_ρ − ρ/(1+ρ))/η_T [–]"}, {"key": "rhs", "label": "ρc_I/(Tc_T) [–]"},
                {"key": "inference_dominates", "label": "next dollar to inference"},
                {"key": "g_training_per_usd", "label": "g_T [per $]"},
                {"key": "g_inference_per_usd", "label": "g_ρ [per $]"},
                {"key": "rollout_cost_share", "label": "ρ/(1+ρ) [–]"},
                {"key": "lhs_rho_gg_1", "label": "ρ ≫ 1 form (η_ρ − 1)/η_T [–]"}],
             "rows": jsonable([result])},
            {"name": "boundary T*(ρ)", "columns": [
                {"key": "rho", "label": "ρ [-]"}, {"key": "boundary_t", "label": "T* [× operating T]"}],
             "rows": jsonable(b_rows)},
        ],
    }


# ----------------------------------------------------------------------------- routing premium (paper 05)

ROUTING_INPUTS = ("kappa", "delta", "gamma")

#: Start of the routing panel: docs/routing.md's CLI example (κ 0.5, Δ 0.4, γ 0.1 → Π = 0.1).
DEFAULT_ROUTING = {"kappa": 0.5, "delta": 0.4, "gamma": 0.1}


def _finite_or_none(x) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


def routing_result(inputs: dict) -> dict:
    """``costcorrect routing premium --kappa … --delta … --gamma … --json`` (05 eq. 7-9)."""
    from costcorrect.allocation import routing as rt

    kappa, delta, gamma = (float(inputs[k]) for k in ROUTING_INPUTS)
    pi = float(rt.routing_premium(kappa, delta, gamma))
    el = rt.premium_elasticities(kappa, delta, gamma)
    return {"premium": pi, "routing_pays": bool(pi > 0),
            "elasticity_kappa": _finite_or_none(el["kappa"]), "elasticity_delta": _finite_or_none(el["delta"]),
            "elasticity_gamma": _finite_or_none(el["gamma"]), "kappa_delta": kappa * delta,
            "flip_drop": (pi / (kappa * delta)) if kappa * delta > 0 else None}


def routing_view(inputs: dict) -> dict:
    """Π = κΔ − γ against κ for Δ/2, Δ and 2Δ, the break-even line Π = 0, and the chosen point."""
    import altair as alt
    import numpy as np

    from costcorrect.allocation import routing as rt

    result = routing_result(inputs)
    kappa, delta, gamma = (float(inputs[k]) for k in ROUTING_INPUTS)
    ks = np.linspace(0.0, 1.0, 51)
    lines = []
    for factor in (0.5, 1.0, 2.0):
        d = delta * factor
        pis = rt.routing_premium(ks, d, gamma)
        label = f"Δ = {d:.3g}" + (" (yours)" if factor == 1 else "")
        lines += [{"kappa": float(k), "premium": float(p), "delta": label} for k, p in zip(ks, pis, strict=True)]
    x = alt.X("kappa:Q", title="classifier calibration κ [–]", scale=alt.Scale(domain=[0, 1]))
    y = alt.Y("premium:Q", title="routing premium Π [share of cost-correct C]")
    line = alt.Chart(alt.Data(values=lines)).mark_line().encode(
        x=x, y=y, color=alt.Color("delta:N", title="heterogeneity Δ [–]", sort=None),
        tooltip=[alt.Tooltip("delta:N", title="Δ"), alt.Tooltip("kappa:Q", title="κ [–]", format=".2f"),
                 alt.Tooltip("premium:Q", title="Π [–]", format="+.4f")])
    zero = (alt.Chart(alt.Data(values=[{"premium": 0.0}])).mark_rule(color="black", strokeDash=[4, 3])
            .encode(y=y))
    here = [{"kappa": kappa, "premium": result["premium"], "label": "yours"}]
    point = alt.Chart(alt.Data(values=here)).mark_point(
        shape="diamond", size=200, filled=True, color="#ffd400", stroke="black", strokeWidth=2).encode(
        x=x, y=y, tooltip=[alt.Tooltip("kappa:Q", title="κ [–]", format=".3f"),
                                             alt.Tooltip("premium:Q", title="Π [–]", format="+.4f")])
    verdict = "routing pays" if result["routing_pays"] else "routing does not pay"
    chart = alt.layer(line, zero, point).properties(
        width=520, height=300,
        title=alt.Title(f"Routing premium Π = κΔ − γ (05 eq. 7): {verdict} (Π = {result['premium']:+.4g})",
                        subtitle=f"γ = {gamma:g} (classifier overhead share); routing pays above the dashed "
                                 "line, κΔ > γ (eq. 8)", anchor="start"))
    notes = []
    if result["elasticity_kappa"] is None:
        notes.append("At the threshold κΔ = γ the elasticities of Π diverge (05 eq. 9); shown as —.")
    row = {**result, "kappa": kappa, "delta": delta, "gamma": gamma}
    return {
        "result": result,
        "spec": chart.to_dict(),
        "notes": notes,
        "tables": [{"name": "routing premium (05 eq. 7-9)", "columns": [
            {"key": "kappa", "label": "κ [–]"}, {"key": "delta", "label": "Δ [–]"}, {"key": "gamma", "label": "γ [–]"},
            {"key": "kappa_delta", "label": "κΔ [–]"}, {"key": "premium", "label": "Π [share of C]"},
            {"key": "routing_pays", "label": "routing pays"},
            {"key": "elasticity_kappa", "label": "∂lnΠ/∂lnκ = ∂lnΠ/∂lnΔ [–]"},
            {"key": "elasticity_gamma", "label": "∂lnΠ/∂lnγ [–]"},
            {"key": "flip_drop", "label": "κΔ drop that flips the sign [share]"}],
            "rows": jsonable([row])}],
    }
