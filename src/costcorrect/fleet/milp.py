"""The fleet mixed-integer program and its restricted and two-stage variants (issue 12, note 09).

Decision variables (all per hour of steady-state serving):

- ``y_k`` ∈ ℤ≥0 -- replicas of option k = (model i, offer o, config c); a replica uses
  ``g_k`` GPUs and serves ``r_k`` req/s inside the model's SLO tier (spot offers derated by
  their availability ``A_o``).
- ``N_o`` ∈ ℤ≥0 -- nodes rented from offer o (co-location: models share an offer's nodes), or
  ``N_io`` per (model, offer) when co-location is off (each model rents its own nodes), plus
  ``U_o`` idle nodes that only a reserved commitment forces.
- ``x_i`` ≥ 0 -- cost-correct objective only: requests per second routed to model i.

Minimise Σ_o (p_o n_o + π_o) N_o  [$/h], p_o the price per GPU-hour, n_o GPUs per node, π_o the
spot expected interruption cost per node-hour, subject to

- demand (objective ``cost``):           Σ_k∈i r_k y_k ≥ λ_i                  [req/s]
- demand (objective ``cost-correct``):   Σ_k∈i r_k y_k ≥ x_i,  Σ_i∈t α_i x_i ≥ Σ_i∈t λ_i
  (every task of task group t must end in an accepted answer; a verifier re-asks the same
  model until it accepts, so model i needs 1/α_i attempts per correct answer: C = cost / α)
- nodes:     Σ_k∈o g_k y_k ≤ n_o N_o (or per model when co-location is off)          [GPUs]
- caps:      committed_o ≤ N_o ≤ ⌊available_o / n_o⌋                                 [nodes]

The node constraint counts GPUs in aggregate; it is exact when every replica size divides the
node size (TP 1, 2, 4, 8 on 8-GPU nodes) and otherwise slightly optimistic.

Solved with :func:`scipy.optimize.milp` (HiGHS branch and cut).
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import time
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from costcorrect.fleet.capacity import Instance

#: Demand rows are met to this relative slack (HiGHS' feasibility tolerance is 1e-6 absolute).
_DEMAND_EPS = 1e-9


@contextlib.contextmanager
def _quiet_c_stdout():
    """Silence HiGHS' occasional C-level prints on fd 1 (they would corrupt ``--json`` output)."""
    try:
        sys.stdout.flush()
        saved = os.dup(1)
    except (OSError, ValueError):
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


@dataclass
class Solution:
    """One solved (or failed) program."""

    status: str  # optimal | time-limit | infeasible | error
    message: str
    inst: Instance  # the (possibly option-restricted) instance that was solved
    cost_usd_per_hour: float = math.inf  # objective incl. spot expected cost [$/h]
    replicas: np.ndarray | None = None  # y_k
    nodes: np.ndarray | None = None  # nodes per offer (co-located or summed) [nodes]
    routed_rate_per_s: np.ndarray | None = None  # x_i (cost-correct) else capacity used [req/s]
    served_rate_per_s: np.ndarray | None = None  # goodput mode: s_u [req/s or correct/s]
    solve_s: float = 0.0
    mip_gap: float | None = None
    dual_bound_usd_per_hour: float | None = None
    restriction: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.replicas is not None and self.status in ("optimal", "time-limit")

    def capacity_rate_per_s(self) -> np.ndarray:
        """Capacity each model gets from its replicas. [req/s]"""
        out = np.zeros(self.inst.num_models)
        if self.replicas is not None:
            np.add.at(out, self.inst.opt_model, self.inst.opt_capacity * self.replicas)
        return out

    def spot_cost_usd_per_hour(self) -> float:
        if self.nodes is None:
            return 0.0
        return float(np.sum(self.inst.spot_penalty_usd_per_node_hour * self.nodes))


def demand_units(inst: Instance, objective: str) -> tuple[np.ndarray, np.ndarray]:
    """Demand per unit and weight per unit: models (``cost``) or task groups (``cost-correct``).

    Returns (demand [req/s or correct answers/s], output tokens per unit [tokens]).
    """
    if objective == "cost":
        return inst.demand_rate_per_s.copy(), inst.output_tokens.copy()
    nt = len(inst.task_names)
    d = np.zeros(nt)
    w = np.zeros(nt)
    np.add.at(d, inst.task_of, inst.demand_rate_per_s)
    np.add.at(w, inst.task_of, inst.demand_rate_per_s * inst.output_tokens)
    return d, w / np.where(d > 0, d, 1.0)


def need_rate_per_s(inst: Instance, objective: str) -> np.ndarray:
    """Most requests per second model i could ever have to serve (bounds y). [req/s]"""
    if objective == "cost":
        return inst.demand_rate_per_s
    d, _ = demand_units(inst, objective)
    return d[inst.task_of] / inst.accept_rate


def solve_program(inst: Instance, *, objective: str = "cost", colocation: bool = True,
                  mode: str = "min-cost", budget_usd_per_hour: float | None = None,
                  time_limit_s: float = 60.0, mip_rel_gap: float = 1e-4,
                  shortfall_penalty: float | None = None) -> Solution:
    """Build and solve the fleet MILP on ``inst`` (all its options).

    ``mode="min-cost"`` meets all demand at least cost; ``mode="max-goodput"`` maximises served
    output tokens per second (correct ones under ``cost-correct``) under the availability caps
    and an optional budget [$/h] (scarcity re-solves). ``shortfall_penalty`` [$/h per req/s]
    turns demand rows elastic (infeasibility diagnosis).
    """
    if objective not in ("cost", "cost-correct"):
        raise ValueError(f"objective must be cost or cost-correct, got {objective!r}")
    t0 = time.perf_counter()
    K, M, O = inst.num_options, inst.num_models, inst.num_offers  # noqa: E741
    dem, w = demand_units(inst, objective)
    U = dem.size
    need = need_rate_per_s(inst, objective)
    cap = inst.opt_capacity
    g = inst.opt_gpus.astype(float)
    n = inst.gpus_per_node
    node_price = inst.node_price_usd_per_hour
    maxn = inst.max_nodes
    committed = inst.committed_nodes

    # --- variable layout
    y_ub = np.ceil(need[inst.opt_model] / np.where(cap > 0, cap, 1.0) * (1 + 1e-9)) if K else np.zeros(0)
    cols_lb, cols_ub, cols_c, cols_int = [np.zeros(K)], [y_ub], [np.zeros(K)], [np.ones(K)]
    nvar = K
    if colocation:
        node_of_offer = np.arange(O) + nvar
        gpus_needed = np.zeros(O)
        np.add.at(gpus_needed, inst.opt_offer, g * y_ub)
        ub = np.minimum(maxn, np.ceil(gpus_needed / n) + committed)
        cols_lb.append(np.minimum(committed, ub))
        cols_ub.append(ub)
        cols_c.append(node_price)
        cols_int.append(np.ones(O))
        nvar += O
        pairs = None
    else:
        pairs = sorted({(int(i), int(o)) for i, o in zip(inst.opt_model, inst.opt_offer, strict=True)})
        pair_index = {p: nvar + j for j, p in enumerate(pairs)}
        P = len(pairs)
        gneed = {}
        for k in range(K):
            key = (int(inst.opt_model[k]), int(inst.opt_offer[k]))
            gneed[key] = gneed.get(key, 0.0) + g[k] * y_ub[k]
        pub = np.array([min(maxn[o], math.ceil(gneed[(i, o)] / n[o])) for i, o in pairs], dtype=float)
        cols_lb.append(np.zeros(P))
        cols_ub.append(pub)
        cols_c.append(np.array([node_price[o] for _, o in pairs], dtype=float))
        cols_int.append(np.ones(P))
        nvar += P
        idle_of_offer = np.arange(O) + nvar  # U_o: nodes paid only because of a commitment
        cols_lb.append(np.zeros(O))
        cols_ub.append(np.minimum(committed, maxn))
        cols_c.append(node_price)
        cols_int.append(np.ones(O))
        nvar += O
    if objective == "cost-correct":
        x_of_model = np.arange(M) + nvar
        cols_lb.append(np.zeros(M))
        cols_ub.append(need.astype(float))
        cols_c.append(np.zeros(M))
        cols_int.append(np.zeros(M))
        nvar += M
    if mode == "max-goodput":
        s_of_unit = np.arange(U) + nvar
        cols_lb.append(np.zeros(U))
        cols_ub.append(dem.astype(float))
        cols_c.append(np.zeros(U))
        cols_int.append(np.zeros(U))
        nvar += U
    if shortfall_penalty is not None:
        short_of_unit = np.arange(U) + nvar
        cols_lb.append(np.zeros(U))
        cols_ub.append(dem.astype(float))
        cols_c.append(np.full(U, float(shortfall_penalty)))
        cols_int.append(np.zeros(U))
        nvar += U
    lb, ub = np.concatenate(cols_lb), np.concatenate(cols_ub)
    cost_vec = np.concatenate(cols_c)
    integrality = np.concatenate(cols_int)

    rows, cols, vals, rlo, rhi = [], [], [], [], []
    r = 0

    def add_row(cidx, cval, lo, hi):
        nonlocal r
        rows.extend([r] * len(cidx))
        cols.extend(int(c) for c in cidx)
        vals.extend(float(v) for v in cval)
        rlo.append(lo)
        rhi.append(hi)
        r += 1

    opts_of_model = [np.flatnonzero(inst.opt_model == i) for i in range(M)]
    # --- demand
    if objective == "cost":
        for i in range(M):
            idx = opts_of_model[i]
            cidx, cval = list(idx), list(cap[idx])
            lo = dem[i] * (1 - _DEMAND_EPS)
            if mode == "max-goodput":
                cidx.append(s_of_unit[i])
                cval.append(-1.0)
                lo = 0.0
            if shortfall_penalty is not None:
                cidx.append(short_of_unit[i])
                cval.append(1.0)
            add_row(cidx, cval, lo, np.inf)
    else:
        for i in range(M):
            idx = opts_of_model[i]
            add_row([*idx, x_of_model[i]], [*cap[idx], -1.0], 0.0, np.inf)
        for t in range(U):
            members = np.flatnonzero(inst.task_of == t)
            cidx, cval = list(x_of_model[members]), list(inst.accept_rate[members])
            lo = dem[t] * (1 - _DEMAND_EPS)
            if mode == "max-goodput":
                cidx.append(s_of_unit[t])
                cval.append(-1.0)
                lo = 0.0
            if shortfall_penalty is not None:
                cidx.append(short_of_unit[t])
                cval.append(1.0)
            add_row(cidx, cval, lo, np.inf)
    # --- nodes
    if colocation:
        for o in range(O):
            idx = np.flatnonzero(inst.opt_offer == o)
            if idx.size:
                add_row([*idx, node_of_offer[o]], [*g[idx], -n[o]], -np.inf, 0.0)
    else:
        for (i, o) in pairs:
            idx = opts_of_model[i][inst.opt_offer[opts_of_model[i]] == o]
            add_row([*idx, pair_index[(i, o)]], [*g[idx], -n[o]], -np.inf, 0.0)
        for o in range(O):
            pidx = [pair_index[p] for p in pairs if p[1] == o]
            if np.isfinite(maxn[o]) or committed[o] > 0:
                add_row([*pidx, idle_of_offer[o]], [1.0] * (len(pidx) + 1), committed[o],
                        maxn[o] if np.isfinite(maxn[o]) else np.inf)
    # --- objective and budget
    money = cost_vec.copy()
    if shortfall_penalty is not None:
        money[short_of_unit] = 0.0
    if mode == "max-goodput":
        if budget_usd_per_hour is not None:
            nz = np.flatnonzero(money)
            add_row(nz, money[nz], -np.inf, float(budget_usd_per_hour) * (1 + 1e-9))
        # Tokens/s served first; cost only breaks ties (scaled far below one token).
        tokens_scale = max(float(np.max(w)) if U else 1.0, 1.0)
        cost_scale = max(float(np.sum(node_price * np.where(np.isfinite(maxn), maxn, 0))) + 1.0,
                         float(money.max(initial=1.0)))
        c = money * (1e-6 / cost_scale)
        c[s_of_unit] = -w / tokens_scale
    else:
        c = cost_vec

    A = sparse.csr_array((vals, (rows, cols)), shape=(r, nvar)) if r else None
    constraints = [LinearConstraint(A, np.array(rlo), np.array(rhi))] if r else []
    restriction = {"objective": objective, "colocation": colocation, "mode": mode}
    if nvar == 0:
        return Solution("infeasible", "nothing to decide (no options)", inst, restriction=restriction)
    with _quiet_c_stdout():
        res = milp(c, integrality=integrality, bounds=Bounds(lb, ub), constraints=constraints,
                   options={"time_limit": float(time_limit_s), "mip_rel_gap": float(mip_rel_gap), "disp": False})
    solve_s = time.perf_counter() - t0
    status = {0: "optimal", 1: "time-limit", 2: "infeasible", 3: "unbounded"}.get(res.status, "error")
    sol = Solution(status, str(res.message), inst, solve_s=solve_s, restriction=restriction)
    if res.x is None:
        if status == "time-limit":
            sol.status = "error"
            sol.message = f"no feasible plan found within the {time_limit_s:g} s limit"
        return sol
    x = res.x
    y = np.round(x[:K]).astype(int)
    if colocation:
        nodes = np.round(x[node_of_offer]).astype(int)
    else:
        nodes = np.round(x[idle_of_offer]).astype(int)
        for j, (_, o) in enumerate(pairs):
            nodes[o] += round(x[K + j])
    sol.replicas = y
    sol.nodes = nodes
    sol.cost_usd_per_hour = float(np.sum(node_price * nodes))
    sol.mip_gap = float(res.mip_gap) if getattr(res, "mip_gap", None) is not None else None
    db = getattr(res, "mip_dual_bound", None)
    if mode == "min-cost" and shortfall_penalty is None and db is not None and np.isfinite(db):
        sol.dual_bound_usd_per_hour = float(db)
    if objective == "cost-correct":
        sol.routed_rate_per_s = x[x_of_model]
    else:
        sol.routed_rate_per_s = np.minimum(sol.capacity_rate_per_s(), inst.demand_rate_per_s)
    if mode == "max-goodput":
        sol.served_rate_per_s = x[s_of_unit]
    if shortfall_penalty is not None:
        sol.served_rate_per_s = dem - x[short_of_unit]
    return sol


# ----------------------------------------------------------------------------- restrictions
def restrict(inst: Instance, *, gpu_class: str | None = None, strategy: bool = True) -> Instance:
    """Options of one GPU class only (no hardware mix) and/or the default config only."""
    keep = np.ones(inst.num_options, dtype=bool)
    if gpu_class is not None:
        keep &= np.array([inst.offer_gpu[o] == gpu_class for o in inst.opt_offer], dtype=bool)
    if not strategy:
        keep &= inst.opt_default
    return inst.subset(keep)


def select_configs(inst: Instance, objective: str = "cost") -> np.ndarray:
    """Stage 1 of the two-stage decomposition: per (model, offer) keep at most four configs.

    Kept: the most capacity per GPU (what the LP relaxation uses: price is per GPU, so on one
    offer it is also the cheapest per req/s); the config that serves the model's whole demand
    alone with the fewest GPUs (what rounding to whole replicas favours when nodes are
    shared); the one that does so with the fewest whole nodes (when they are not); and the
    smallest replica with the most capacity per GPU among those (the finest step, for a
    model that gets only part of a task's traffic or tops up another offer).
    """
    need = need_rate_per_s(inst, objective)
    keep = np.zeros(inst.num_options, dtype=bool)
    order = np.lexsort((inst.opt_offer, inst.opt_model))
    if order.size == 0:
        return keep
    key = inst.opt_model[order] * (inst.num_offers + 1) + inst.opt_offer[order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    ends = np.r_[starts[1:], order.size]
    per_gpu = inst.opt_capacity / inst.opt_gpus
    gpus_alone = np.ceil(need[inst.opt_model] / inst.opt_capacity * (1 - 1e-9)) * inst.opt_gpus
    n = inst.gpus_per_node[inst.opt_offer]
    nodes_alone = np.ceil(gpus_alone / n)
    for s, e in zip(starts, ends, strict=True):
        idx = order[s:e]
        keep[idx[np.argmax(per_gpu[idx])]] = True
        keep[idx[np.lexsort((-per_gpu[idx], gpus_alone[idx]))[0]]] = True
        keep[idx[np.lexsort((-per_gpu[idx], nodes_alone[idx]))[0]]] = True
        keep[idx[np.lexsort((-per_gpu[idx], inst.opt_gpus[idx]))[0]]] = True
    return keep


def solve_two_stage(inst: Instance, **kw) -> Solution:
    """Configuration selection (stage 1), then the allocation MILP on the kept configs (stage 2)."""
    t0 = time.perf_counter()
    keep = select_configs(inst, kw.get("objective", "cost"))
    sol = solve_program(inst.subset(keep), **kw)
    sol.solve_s = time.perf_counter() - t0
    sol.restriction["method"] = "two-stage"
    sol.restriction["options_kept"] = int(keep.sum())
    sol.restriction["options_total"] = inst.num_options
    return sol


def solve(inst: Instance, *, method: str = "full", **kw) -> Solution:
    """``method``: ``full`` (every option in one MILP) or ``two-stage``."""
    if method == "two-stage":
        return solve_two_stage(inst, **kw)
    if method != "full":
        raise ValueError(f"method must be full or two-stage, got {method!r}")
    sol = solve_program(inst, **kw)
    sol.restriction["method"] = "full"
    return sol


def solve_restricted(inst: Instance, *, hardware_mix: bool = True, colocation: bool = True,
                     strategy: bool = True, method: str = "full", **kw) -> Solution:
    """The program with levers switched off; hardware mix off = the best single GPU class."""
    classes = [None] if hardware_mix else inst.gpu_classes
    best: Solution | None = None
    t0 = time.perf_counter()
    for gc in classes:
        sub = restrict(inst, gpu_class=gc, strategy=strategy)
        sol = solve(sub, method=method, colocation=colocation, **kw)
        sol.restriction.update(hardware_mix=hardware_mix, strategy=strategy, gpu_class=gc)
        if best is None or (sol.ok and (not best.ok or sol.cost_usd_per_hour < best.cost_usd_per_hour)):
            best = sol
    best.solve_s = time.perf_counter() - t0
    return best
