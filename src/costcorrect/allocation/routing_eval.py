"""Router evaluation on per-query data for N tiers (issue 7 item 5; 05 eq. 7 read on data).

Input: per query, each tier's cost [$] and correctness [0/1], and optionally a difficulty
score d̂. Policies compared on cost per correct answer (total $ / total correct, 02 §4):

- fixed tier i for every query (the baseline; the best one is the unconditional optimum c̄*);
- threshold router: tier i for d̂ in [t_(i-1), t_i), monotone thresholds on a quantile grid;
- oracle: the per-query tier choice (knowing every outcome, κ = 1) that minimises total $ / total
  correct, found exactly by Dinkelbach's iteration on argmin_i cost − λ·correct.

Premium = 1 − C_policy / C_best_fixed (the normalised Π of 05 eq. 7, read exactly). The best
threshold is chosen in-sample, so its premium is optimistic; hold out queries to avoid that.
"""

from __future__ import annotations

import csv
import io
import itertools

import numpy as np

from costcorrect.errors import InputError

__all__ = ["evaluate_router", "parse_per_query_csv"]


def parse_per_query_csv(text: str) -> dict:
    """Parse ``query_id, cost_usd_<tier>..., correct_<tier>..., [difficulty]`` (pure; no I/O).

    Tiers are named by the column suffixes, in the order of the ``cost_usd_`` columns, and every
    tier needs both columns. Raises :class:`InputError` on missing/extra tier columns, ragged rows,
    non-finite or negative costs, correctness outside {0, 1}, or non-finite difficulty.
    """
    rows = list(csv.DictReader(io.StringIO(text)))
    if not rows:
        raise InputError("file", "empty", "a CSV header and at least one query row")
    cols = list(rows[0].keys())
    if "query_id" not in cols:
        raise InputError("columns", cols, "a query_id column")
    tiers = [c[len("cost_usd_"):] for c in cols if c.startswith("cost_usd_")]
    ctiers = [c[len("correct_"):] for c in cols if c.startswith("correct_")]
    if not tiers or sorted(tiers) != sorted(ctiers):
        raise InputError("tiers", {"cost_usd_": tiers, "correct_": ctiers},
                         "the same tier names in cost_usd_<tier> and correct_<tier> columns")

    def num(r, c, i):
        v = r.get(c)
        if v is None or str(v).strip() == "" or None in r:
            raise InputError(f"row {i + 1}", c, "a value in every column (tiers must have equal length)")
        try:
            return float(v)
        except ValueError:
            raise InputError(f"row {i + 1} {c}", v, "a number") from None

    cost = np.array([[num(r, f"cost_usd_{t}", i) for t in tiers] for i, r in enumerate(rows)])
    correct = np.array([[num(r, f"correct_{t}", i) for t in tiers] for i, r in enumerate(rows)])
    if not np.all(np.isfinite(cost)) or np.any(cost < 0):
        raise InputError("cost_usd", "non-finite or negative", "finite costs >= 0 [$]")
    if not np.all(np.isin(correct, (0.0, 1.0))):
        raise InputError("correct", "not 0/1", "0 or 1 per query and tier")
    difficulty = None
    if "difficulty" in cols:
        difficulty = np.array([num(r, "difficulty", i) for i, r in enumerate(rows)])
        if not np.all(np.isfinite(difficulty)):
            raise InputError("difficulty", "non-finite", "finite numbers")
    return {"query_id": [r["query_id"] for r in rows], "tiers": tiers, "cost_usd": cost,
            "correct": correct.astype(bool), "difficulty": difficulty}


def _cpc(cost, correct) -> float:
    n = float(np.sum(correct))
    return float(np.sum(cost)) / n if n > 0 else float("inf")


def evaluate_router(cost_usd, correct, difficulty=None, tiers=None, n_grid=21) -> dict:
    """Fixed-tier, best threshold router and oracle policies on per-query data (see module doc).

    Parameters
    ----------
    cost_usd : array (n, N) -- cost of query j on tier i. [$]
    correct : array (n, N) of bool -- whether tier i answered query j correctly. [-]
    difficulty : array (n,) or None -- router score d̂ (higher = harder = more expensive tier). [-]
    tiers : list of N names, ordered from cheapest to most expensive policy intent. [-]
    n_grid : int -- thresholds are searched on this many quantiles of d̂. [-]

    Returns
    -------
    dict with ``fixed`` (per tier), ``best_fixed_tier``, ``oracle``, ``router`` (best thresholds,
    or None without difficulty), premiums vs the best fixed tier, and ``curve`` (the
    cost-quality points of all threshold routers: mean cost [$/query], accuracy [-]).
    """
    cost = np.asarray(cost_usd, dtype=float)
    corr = np.asarray(correct, dtype=bool)
    if cost.ndim != 2 or cost.shape != corr.shape:
        raise InputError("tiers", (cost.shape, corr.shape), "cost and correct arrays of equal shape (queries, tiers)")
    n, k = cost.shape
    if not corr.any(axis=0).all():
        bad = [t for t, ok in zip(tiers or range(k), corr.any(axis=0), strict=True) if not ok]
        raise InputError("correct", f"no correct answer on tier(s) {bad}",
                         "at least one correct answer per tier (cost per correct is undefined otherwise)")
    tiers = list(tiers) if tiers is not None else [str(i) for i in range(k)]
    fixed = []
    for i, t in enumerate(tiers):
        fixed.append({"tier": t, "cost_per_correct_usd": _cpc(cost[:, i], corr[:, i]),
                      "mean_cost_usd": float(cost[:, i].mean()), "accuracy": float(corr[:, i].mean())})
    best = min(fixed, key=lambda r: r["cost_per_correct_usd"])
    base = best["cost_per_correct_usd"]

    pick = _oracle_pick(cost, corr)
    oc = cost[np.arange(n), pick]
    ok = corr[np.arange(n), pick]
    oracle = {"cost_per_correct_usd": _cpc(oc, ok), "mean_cost_usd": float(oc.mean()), "accuracy": float(ok.mean())}
    oracle["premium"] = 1.0 - oracle["cost_per_correct_usd"] / base if np.isfinite(base) else None

    router, curve = None, []
    if difficulty is not None:
        d = np.asarray(difficulty, dtype=float)
        if d.shape != (n,):
            raise InputError("difficulty", d.shape, f"one value per query ({n})")
        grid = np.unique(np.quantile(d, np.linspace(0, 1, int(n_grid))))
        grid = np.concatenate([[-np.inf], grid, [np.inf]])
        best_r = None
        for th in itertools.combinations_with_replacement(range(len(grid)), k - 1):
            t = grid[list(th)]
            tier_idx = np.searchsorted(t, d, side="right")
            rc = cost[np.arange(n), tier_idx]
            rk = corr[np.arange(n), tier_idx]
            cpc = _cpc(rc, rk)
            curve.append({"thresholds": [float(x) for x in t], "mean_cost_usd": float(rc.mean()),
                          "accuracy": float(rk.mean()), "cost_per_correct_usd": cpc})
            if best_r is None or cpc < best_r["cost_per_correct_usd"]:
                best_r = curve[-1]
        router = dict(best_r)
        router["premium"] = 1.0 - router["cost_per_correct_usd"] / base if np.isfinite(base) else None
        router["share_of_oracle_premium"] = (router["premium"] / oracle["premium"]
                                             if oracle["premium"] else None)
    return {"tiers": tiers, "n_queries": n, "fixed": fixed, "best_fixed_tier": best["tier"],
            "best_fixed_cost_per_correct_usd": base, "oracle": oracle, "router": router,
            "curve": _pareto(curve)}


def _oracle_pick(cost, corr, max_iter=100):
    """Dinkelbach: λ ← Σcost/Σcorrect of the pick minimising cost − λ·correct, to a fixed point."""
    n = cost.shape[0]
    pick = np.argmin(np.where(corr, cost, np.inf), axis=1)
    pick = np.where(corr.any(axis=1), pick, np.argmin(cost, axis=1))
    lam = _cpc(cost[np.arange(n), pick], corr[np.arange(n), pick])
    if not np.isfinite(lam):
        return np.argmin(cost, axis=1)
    for _ in range(max_iter):
        new = np.argmin(cost - lam * corr, axis=1)
        new_lam = _cpc(cost[np.arange(n), new], corr[np.arange(n), new])
        if new_lam >= lam - 1e-15 * abs(lam):
            break
        pick, lam = new, new_lam
    return pick


def _pareto(points: list[dict]) -> list[dict]:
    """Cost-quality frontier: points not dominated in (lower mean cost, higher accuracy)."""
    pts = sorted(points, key=lambda p: (p["mean_cost_usd"], -p["accuracy"]))
    out, best_acc = [], -1.0
    for p in pts:
        if p["accuracy"] > best_acc:
            out.append(p)
            best_acc = p["accuracy"]
    return out
