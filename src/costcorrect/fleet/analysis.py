"""Plans and what they say: the joint plan, the savings breakdown, scarcity, infeasibility (issue 12).

- :func:`plan` -- the joint plan (contract of ``costcorrect fleet plan``), with the baseline and
  the savings breakdown.
- :func:`savings_breakdown` -- the saving of the joint plan over the best homogeneous
  per-model plan, split into hardware mix, co-location and per-replica serving strategy by
  solving the 2³ restricted programs (Shapley shares, which add up to the total exactly;
  the sequential waterfall hardware → co-location → strategy is reported beside them).
- :func:`scarcity` -- goodput retained when a GPU class's availability drops: the old plan
  losing nodes (static) versus a re-solve at the same budget (note 09, "2.39× goodput").
- :func:`diagnose_infeasible` -- which model cannot be served and which constraint binds.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import time

import numpy as np

from costcorrect import units
from costcorrect.errors import InputError
from costcorrect.fleet.capacity import Instance
from costcorrect.fleet.milp import Solution, demand_units, solve, solve_program, solve_restricted

LEVERS = ("hardware_mix", "co_location", "serving_strategy")
#: Problems with more options than this are solved with the two-stage decomposition by default.
AUTO_FULL_MAX_OPTIONS = 1500


def choose_method(inst: Instance, method: str) -> str:
    if method == "auto":
        return "full" if inst.num_options <= AUTO_FULL_MAX_OPTIONS else "two-stage"
    if method not in ("full", "two-stage"):
        raise InputError("--method", method, "auto, full or two-stage")
    return method


# ----------------------------------------------------------------------------- infeasibility
def _shortfall_penalty(inst: Instance) -> float:
    """A price per req/s of shortfall above what any option could cost to serve it. [$/h per req/s]"""
    if inst.num_options == 0:
        return 1.0
    per = inst.node_price_usd_per_hour[inst.opt_offer] * (1.0 + 1.0 / inst.opt_capacity)
    return 10.0 * float(per.max()) / float(inst.accept_rate.min())


def diagnose_infeasible(inst: Instance, objective: str = "cost", colocation: bool = True,
                        time_limit_s: float = 30.0) -> InputError:
    """An :class:`InputError` naming the model (or task) that cannot be served and the binding constraint."""
    tiers = inst.slo_tier
    has = np.zeros(inst.num_models, dtype=bool)
    has[inst.opt_model] = True
    if objective == "cost-correct":
        task_has = np.zeros(len(inst.task_names), dtype=bool)
        np.logical_or.at(task_has, inst.task_of, has)
        lacking = [i for i in range(inst.num_models) if not task_has[inst.task_of[i]]]
    else:
        lacking = [i for i in range(inst.num_models) if not has[i]]
    if lacking:
        i = lacking[0]
        return InputError(f"models[{inst.model_names[i]}]", inst.model_names[i],
                          f"a model with capacity at SLO tier '{tiers[i]}' on an offered GPU "
                          f"({', '.join(inst.gpu_classes)}): no capacity row serves it")
    dem, _ = demand_units(inst, objective)
    pen = _shortfall_penalty(inst)
    # 1) A unit that cannot be served even with every available GPU to itself.
    alone_max = np.zeros(dem.size)
    for u in range(dem.size):
        members = [u] if objective == "cost" else list(np.flatnonzero(inst.task_of == u))
        keep = np.isin(inst.opt_model, members)
        lam = np.where(np.isin(np.arange(inst.num_models), members), inst.demand_rate_per_s, 0.0)
        sub = dataclasses.replace(inst.subset(keep), demand_rate_per_s=lam)
        el = solve_program(sub, objective=objective, colocation=colocation, shortfall_penalty=pen,
                           time_limit_s=time_limit_s)
        alone_max[u] = el.served_rate_per_s[u] if el.ok else 0.0
        if el.ok and alone_max[u] < dem[u] * (1 - 1e-6):
            break
    alone = alone_max < dem * (1 - 1e-6)
    if alone.any():
        u = int(np.flatnonzero(alone)[0])
        context = "even with every available GPU to itself"
        served_u = alone_max[u]
    else:
        # 2) Each fits alone, not all together: least total relative shortfall.
        sc = dataclasses.replace(inst)
        el = solve_program(sc, objective=objective, colocation=colocation, shortfall_penalty=pen,
                           time_limit_s=time_limit_s)
        if not el.ok or el.served_rate_per_s is None:
            return InputError("fleet", "demand", f"a feasible plan (solver: {el.message})")
        short = (dem - el.served_rate_per_s) / dem
        u = int(np.argmax(short))
        served_u = el.served_rate_per_s[u]
        context = "together with the other models' demand"
    members = [u] if objective == "cost" else list(np.flatnonzero(inst.task_of == u))
    offers = sorted({int(o) for i in members for o in inst.opt_offer[inst.opt_model == i]})
    binding = [o for o in offers if np.isfinite(inst.max_nodes[o])]
    caps = [f"{inst.offer_names[o]} (available_gpus={int(inst.max_nodes[o] * inst.gpus_per_node[o])})"
            for o in binding]
    what = f"offers {', '.join(caps)}" if binding else "the offers it can use"
    unit = "req/s" if objective == "cost" else "correct answers/s"
    name = inst.model_names[u] if objective == "cost" else f"task {inst.task_names[u]}"
    if objective == "cost-correct":
        field = f"models[{inst.model_names[members[0]]}].demand_rate_per_s (task {inst.task_names[u]})"
    else:
        field = f"models[{name}].demand_rate_per_s"
    return InputError(field, float(dem[u]),
                      f"<= {served_u:.4g} {unit} at SLO tier '{tiers[members[0]]}' {context}; "
                      f"binding constraint: availability of {what}")


# ----------------------------------------------------------------------------- reporting
def model_costs_usd_per_hour(sol: Solution) -> np.ndarray:
    """Each model's share of the bill: its GPUs at their offer's price (+ spot term). [$/h]"""
    inst = sol.inst
    out = np.zeros(inst.num_models)
    if sol.replicas is None:
        return out
    o = inst.opt_offer
    per_gpu = inst.price_usd_per_gpu_hour[o] + inst.spot_penalty_usd_per_node_hour[o] / inst.gpus_per_node[o]
    np.add.at(out, inst.opt_model, inst.opt_gpus * sol.replicas * per_gpu)
    return out


def correct_answers_per_s(sol: Solution) -> np.ndarray:
    """Accepted answers per second each model delivers, α_i x_i. [1/s]"""
    inst = sol.inst
    served = np.minimum(sol.routed_rate_per_s, sol.capacity_rate_per_s())
    return inst.accept_rate * served


def cost_per_correct_answer_usd(cost_usd_per_hour, correct_per_s):
    """Dollars per accepted answer: hourly bill over accepted answers per hour. [$]

    The fleet form of C = cost / α (02 §4 with R = 1, ρ̄ = 0): serving x req/s at α accepts
    α x answers/s. Zero accepted answers gives ``inf``.
    """
    cost = np.asarray(cost_usd_per_hour, dtype=float)
    c = np.asarray(correct_per_s, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(c > 0, units.usd_per_hour_to_usd_per_s(cost) / np.where(c > 0, c, 1.0), np.inf)


def assignments(sol: Solution) -> list[dict]:
    inst = sol.inst
    out = []
    if sol.replicas is None:
        return out
    for k in np.flatnonzero(sol.replicas > 0):
        o = int(inst.opt_offer[k])
        out.append({
            "model": inst.model_names[int(inst.opt_model[k])], "gpu": inst.offer_gpu[o], "config": inst.opt_config[k],
            "replicas": int(sol.replicas[k]), "offer": inst.offer_names[o], "tier": inst.offer_tier[o],
            "tensor_parallel": int(inst.opt_tp[k]), "gpus_per_replica": int(inst.opt_gpus[k]),
            "capacity_rate_per_s": float(inst.opt_capacity[k] * sol.replicas[k]),
        })
    return sorted(out, key=lambda a: (a["model"], a["offer"], a["config"]))


def solution_summary(sol: Solution) -> dict:
    """Plain-JSON description of one solved program."""
    from costcorrect.allocation import cost_correct_usd_per_mtok

    inst = sol.inst
    if not sol.ok:
        return {"status": sol.status, "message": sol.message, "total_cost_usd_per_hour": None}
    mcost = model_costs_usd_per_hour(sol)
    correct = correct_answers_per_s(sol)
    routed = np.asarray(sol.routed_rate_per_s, dtype=float)
    # Per-model cost per correct answer through the cost-correct unit C = cost·R·(1+ρ̄)/α with
    # R = 1, ρ̄ = 0, applied to the model's cost per served request [$] (issue 6's unit).
    with np.errstate(divide="ignore", invalid="ignore"):
        per_request = np.where(routed > 0, units.usd_per_hour_to_usd_per_s(mcost) / np.where(routed > 0, routed, 1),
                               np.inf)
    c_model = cost_correct_usd_per_mtok(per_request, 1.0, 0.0, inst.accept_rate)
    used_gpus = np.zeros(inst.num_offers)
    np.add.at(used_gpus, inst.opt_offer, inst.opt_gpus * sol.replicas)
    offers = []
    for o in range(inst.num_offers):
        if sol.nodes[o] > 0:
            offers.append({"offer": inst.offer_names[o], "gpu": inst.offer_gpu[o], "tier": inst.offer_tier[o],
                           "nodes": int(sol.nodes[o]), "gpus": int(sol.nodes[o] * inst.gpus_per_node[o]),
                           "gpus_used": int(used_gpus[o]),
                           "price_usd_per_gpu_hour": float(inst.price_usd_per_gpu_hour[o]),
                           "price_source": inst.price_source[o],
                           "cost_usd_per_hour": float(sol.nodes[o] * inst.node_price_usd_per_hour[o])})
    total_correct = float(correct.sum())
    return {
        "status": sol.status,
        "total_cost_usd_per_hour": sol.cost_usd_per_hour,
        "assignments": assignments(sol),
        "offers": offers,
        "models": [{"model": inst.model_names[i], "demand_rate_per_s": float(inst.demand_rate_per_s[i]),
                    "routed_rate_per_s": float(routed[i]),
                    "capacity_rate_per_s": float(sol.capacity_rate_per_s()[i]),
                    "accept_rate": float(inst.accept_rate[i]) if inst.accept_given[i] else None,
                    "cost_usd_per_hour": float(mcost[i]),
                    "cost_per_correct_answer_usd": float(c_model[i]) if inst.accept_given[i] else None}
                   for i in range(inst.num_models)],
        "correct_answers_per_s": total_correct if inst.accept_given.any() else None,
        "cost_per_correct_answer_usd": (float(cost_per_correct_answer_usd(sol.cost_usd_per_hour, total_correct))
                                        if inst.accept_given.any() else None),
        "spot_expected_cost_usd_per_hour": sol.spot_cost_usd_per_hour(),
        "idle_gpu_cost_usd_per_hour": max(sol.cost_usd_per_hour - float(mcost.sum()), 0.0),
        "num_gpus": int(np.sum(sol.nodes * inst.gpus_per_node)),
        "solve_s": sol.solve_s,
        "mip_gap": sol.mip_gap,
    }


# ----------------------------------------------------------------------------- breakdown
def shapley3(v: dict[tuple[bool, bool, bool], float]) -> tuple[float, float, float]:
    """Shapley shares of the saving v(∅) − v(N) among three levers. [$/h]

    ``v[(a, b, c)]`` is the cost with lever j switched on where the j-th flag is True. The
    shares add up to v(∅) − v(N) exactly (Shapley efficiency).
    """
    out = []
    for j in range(3):
        phi = 0.0
        for s in itertools.product((False, True), repeat=3):
            if s[j]:
                continue
            k = sum(s)
            wgt = math.factorial(k) * math.factorial(3 - k - 1) / math.factorial(3)
            on = tuple(True if q == j else s[q] for q in range(3))
            phi += wgt * (v[s] - v[on])
        out.append(phi)
    return tuple(out)


def savings_breakdown(inst: Instance, *, objective: str = "cost", method: str = "full",
                      joint: Solution | None = None, time_limit_s: float = 60.0,
                      mip_rel_gap: float = 1e-4) -> dict:
    """Saving of the joint plan over the best homogeneous per-model plan, by lever.

    Levers: hardware mix (any GPU class vs the one best class for the whole fleet),
    co-location (models share an offer's nodes vs each model rents its own), serving strategy
    (any config per replica vs the default one). The baseline has all three off.
    """
    t0 = time.perf_counter()
    v: dict[tuple[bool, bool, bool], float] = {}
    programs = []
    for flags in itertools.product((False, True), repeat=3):
        if all(flags) and joint is not None:
            sol = joint
        else:
            sol = solve_restricted(inst, hardware_mix=flags[0], colocation=flags[1], strategy=flags[2],
                                   method=method, objective=objective, time_limit_s=time_limit_s,
                                   mip_rel_gap=mip_rel_gap)
        v[flags] = sol.cost_usd_per_hour if sol.ok else math.inf
        programs.append({**dict(zip(LEVERS, flags, strict=True)), "status": sol.status,
                         "cost_usd_per_hour": sol.cost_usd_per_hour if sol.ok else None,
                         "gpu_class": sol.restriction.get("gpu_class"), "solve_s": sol.solve_s})
    base, full = v[(False, False, False)], v[(True, True, True)]
    out = {
        "baseline": "best single GPU class for the whole fleet, each model on its own nodes, default "
                    "config per replica",
        "baseline_cost_usd_per_hour": base if math.isfinite(base) else None,
        "baseline_gpu_class": programs[0]["gpu_class"],
        "joint_cost_usd_per_hour": full if math.isfinite(full) else None,
        "programs": programs,
        "method": "shapley",
        "solve_s": time.perf_counter() - t0,
    }
    if not all(math.isfinite(x) for x in v.values()):
        bad = [p for p in programs if p["cost_usd_per_hour"] is None]
        out["note"] = ("some restricted programs have no feasible plan (availability caps), so the saving "
                       "cannot be split: " + "; ".join(
                           ", ".join(f"{k}={'on' if p[k] else 'off'}" for k in LEVERS) for p in bad))
        for k in LEVERS:
            out[f"{k}_usd_per_hour"] = None
        out["total_saving_usd_per_hour"] = None
        out["cost_ratio"] = None
        out["sequential"] = None
        return out
    phi = shapley3(v)
    for k, p in zip(LEVERS, phi, strict=True):
        out[f"{k}_usd_per_hour"] = p
    out["total_saving_usd_per_hour"] = base - full
    out["cost_ratio"] = base / full if full > 0 else None
    s1, s2 = v[(True, False, False)], v[(True, True, False)]
    out["sequential"] = {"order": list(LEVERS), "hardware_mix_usd_per_hour": base - s1,
                         "co_location_usd_per_hour": s1 - s2, "serving_strategy_usd_per_hour": s2 - full}
    return out


# ----------------------------------------------------------------------------- plan
def plan(inst: Instance, *, objective: str = "cost", method: str = "auto", breakdown: bool = True,
         compare_full: bool = False, time_limit_s: float = 60.0, mip_rel_gap: float = 1e-4) -> dict:
    """The joint plan: ``{"total_cost_usd_per_hour", "assignments", "baseline_cost_usd_per_hour",
    "savings_breakdown", "solve_s", ...}``; raises :class:`InputError` when no plan meets demand."""
    if objective not in ("cost", "cost-correct"):
        raise InputError("--objective", objective, "cost or cost-correct")
    if objective == "cost-correct" and not inst.accept_given.all():
        missing = [n for n, g in zip(inst.model_names, inst.accept_given, strict=True) if not g]
        raise InputError(f"models[{missing[0]}].accept_rate", None,
                         "a verifier accept rate in (0, 1] for every model under --objective cost-correct")
    m = choose_method(inst, method)
    t0 = time.perf_counter()
    sol = solve(inst, method=m, objective=objective, time_limit_s=time_limit_s, mip_rel_gap=mip_rel_gap)
    if not sol.ok:
        if sol.status == "infeasible":
            raise diagnose_infeasible(inst, objective, time_limit_s=time_limit_s)
        raise InputError("fleet", sol.status, f"a solvable instance ({sol.message})")
    solve_s = time.perf_counter() - t0
    out = solution_summary(sol)
    out.update(objective=objective, method=m, solve_s=solve_s, notes=list(inst.notes),
               options_total=inst.num_options, options_solved=sol.inst.num_options)
    if compare_full and m == "two-stage":
        full = solve(inst, method="full", objective=objective, time_limit_s=time_limit_s, mip_rel_gap=mip_rel_gap)
        out["full_milp"] = gap_report(sol, full)
    if breakdown:
        bd = savings_breakdown(inst, objective=objective, method=m, joint=sol, time_limit_s=time_limit_s,
                               mip_rel_gap=mip_rel_gap)
        out["baseline_cost_usd_per_hour"] = bd["baseline_cost_usd_per_hour"]
        out["savings_breakdown"] = bd
    else:
        out["baseline_cost_usd_per_hour"] = None
        out["savings_breakdown"] = {}
    return out


def gap_report(two_stage: Solution, full: Solution) -> dict:
    """Optimality gap of the two-stage plan against the full MILP (or its proven lower bound)."""
    rep = {"status": full.status, "solve_s": full.solve_s,
           "cost_usd_per_hour": full.cost_usd_per_hour if full.ok else None,
           "dual_bound_usd_per_hour": full.dual_bound_usd_per_hour}
    if full.ok and two_stage.ok:
        rep["gap"] = two_stage.cost_usd_per_hour / full.cost_usd_per_hour - 1.0
    if full.dual_bound_usd_per_hour and two_stage.ok:
        rep["gap_vs_bound"] = two_stage.cost_usd_per_hour / full.dual_bound_usd_per_hour - 1.0
    return rep


# ----------------------------------------------------------------------------- scarcity
def _goodput_tokens_per_s(inst: Instance, sol: Solution, replicas: np.ndarray, objective: str) -> float:
    """Output tokens per second served inside the SLO (accepted ones under cost-correct). [tokens/s]"""
    dem, w = demand_units(inst, objective)
    cap = np.zeros(inst.num_models)
    np.add.at(cap, inst.opt_model, inst.opt_capacity * replicas)
    if objective == "cost":
        return float(np.sum(np.minimum(cap, dem) * w))
    routed = np.minimum(np.asarray(sol.routed_rate_per_s), cap)
    got = np.zeros(len(dem))
    np.add.at(got, inst.task_of, inst.accept_rate * routed)
    return float(np.sum(np.minimum(got, dem) * w))


def _static_keep(inst: Instance, base: Solution, on_class: np.ndarray, caps: np.ndarray, w: np.ndarray,
                 objective: str) -> np.ndarray:
    """Replicas the old plan keeps when offers on the scarce class shrink to ``caps`` nodes."""
    kept = base.replicas.astype(float).copy()
    if objective == "cost":
        weight = w[inst.opt_model]
    else:
        weight = w[inst.task_of[inst.opt_model]] * inst.accept_rate[inst.opt_model]
    value_per_gpu = inst.opt_capacity * weight / inst.opt_gpus
    for o in np.flatnonzero(on_class):
        left = float(caps[o] * inst.gpus_per_node[o])
        idx = np.flatnonzero((inst.opt_offer == o) & (base.replicas > 0))
        for k in idx[np.argsort(-value_per_gpu[idx], kind="stable")]:
            keep = min(float(base.replicas[k]), math.floor(left / inst.opt_gpus[k] + 1e-9))
            kept[k] = keep
            left -= keep * inst.opt_gpus[k]
    return kept


def scarcity(inst: Instance, base: Solution, gpu_class: str, shares=(1.0, 0.75, 0.5, 0.25, 0.0), *,
             objective: str = "cost", time_limit_s: float = 60.0, mip_rel_gap: float = 1e-4) -> list[dict]:
    """Goodput retained when ``gpu_class`` keeps only a share of the nodes the plan uses.

    Static: on that class the plan keeps ⌊share · nodes⌋ nodes per offer and fills them with
    its own replicas, most goodput per GPU first; nothing else changes.
    Re-solved: the max-goodput program at the plan's budget, the class capped at
    ⌊share · nodes⌋ per offer (other offers keep their caps). Goodput in output tokens/s.
    """
    if gpu_class not in inst.gpu_classes:
        raise InputError("--gpu", gpu_class, f"one of the offered GPU classes: {', '.join(inst.gpu_classes)}")
    sinst = base.inst
    dem, w = demand_units(sinst, objective)
    full_goodput = float(np.sum(dem * w))
    on_class = np.array([g == gpu_class for g in sinst.offer_gpu])
    rows = []
    for share in shares:
        caps = sinst.max_nodes.copy()
        caps[on_class] = np.floor(share * base.nodes[on_class] + 1e-9)
        kept = _static_keep(sinst, base, on_class, caps, w, objective)
        static = _goodput_tokens_per_s(sinst, base, kept, objective)
        cinst = inst.with_max_nodes(np.where(on_class, caps, inst.max_nodes))
        re = solve(cinst, method="full" if inst.num_options <= AUTO_FULL_MAX_OPTIONS else "two-stage",
                   objective=objective, mode="max-goodput", budget_usd_per_hour=base.cost_usd_per_hour,
                   time_limit_s=time_limit_s, mip_rel_gap=mip_rel_gap)
        resolved = float(np.sum(re.served_rate_per_s * w)) if re.ok else None
        mc = solve(cinst, method="full" if inst.num_options <= AUTO_FULL_MAX_OPTIONS else "two-stage",
                   objective=objective, time_limit_s=time_limit_s, mip_rel_gap=mip_rel_gap)
        rows.append({
            "gpu": gpu_class, "availability_share": float(share), "nodes_available": int(caps[on_class].sum()),
            "static_goodput_share": static / full_goodput,
            "resolved_goodput_share": None if resolved is None else resolved / full_goodput,
            "goodput_ratio": (resolved / static) if resolved is not None and static > 0 else None,
            "resolved_cost_usd_per_hour": re.cost_usd_per_hour if re.ok else None,
            "full_demand_cost_usd_per_hour": mc.cost_usd_per_hour if mc.ok else None,
        })
    return rows
