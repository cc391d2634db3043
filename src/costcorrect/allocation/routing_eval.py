"""Router evaluation on per-query data for N tiers (issue 7 item 5; 05 eq. 7 read on data).

Input: per query, each tier's cost [$] and correctness [0/1], and optionally a difficulty
score d̂. Policies compared on cost per correct answer (total $ / total correct, 02 §4):

- fixed tier i for every query (the baseline; the best one is the unconditional optimum c̄*);
- threshold router: tier i for d̂ in [t_(i-1), t_i), monotone thresholds on a quantile grid;
- oracle: the per-query tier choice (knowing every outcome, κ = 1) that minimises total $ / total
  correct, found exactly by Dinkelbach's iteration on argmin_i cost − λ·correct.

Premium = 1 − C_policy / C_best_fixed (the normalised Π of 05 eq. 7, read exactly). The best
threshold chosen in-sample is optimistic, so ``holdout`` chooses it on a random half and measures
it on the other half; ``estimates`` reads κ̂ (eq. 4 on the oracle tier index), Δ̂ (the oracle
premium: eq. 7 at κ = 1, γ = 0), γ̂ (router $ / best fixed tier's $) and Π̂ off the data, with
percentile bootstrap intervals.
"""

from __future__ import annotations

import csv
import io
import itertools

import numpy as np

from costcorrect.errors import InputError

__all__ = ["evaluate_router", "parse_per_query_csv"]


def parse_per_query_csv(text: str) -> dict:
    """Parse ``query_id, cost_usd_<tier>..., correct_<tier>..., [difficulty], [router_cost_usd]`` (pure).

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
    router_cost = None
    if "router_cost_usd" in cols:
        router_cost = np.array([num(r, "router_cost_usd", i) for i, r in enumerate(rows)])
        if not np.all(np.isfinite(router_cost)) or np.any(router_cost < 0):
            raise InputError("router_cost_usd", "non-finite or negative", "finite costs >= 0 [$]")
    return {"query_id": [r["query_id"] for r in rows], "tiers": tiers, "cost_usd": cost,
            "correct": correct.astype(bool), "difficulty": difficulty, "router_cost_usd": router_cost}


def _cpc(cost, correct) -> float:
    n = float(np.sum(correct))
    return float(np.sum(cost)) / n if n > 0 else float("inf")


def _threshold_search(cost, corr, d, grid, extra=None):
    """All monotone threshold routers on a grid, vectorised (one row per threshold combination).

    Queries fall into cells between consecutive grid points; a combination of k − 1 thresholds
    (indices into [−inf, grid..., +inf]) sends cell j to tier #{thresholds with index <= j}.
    Returns (thresholds (M, k−1), total cost [$], total correct, n) with ``extra`` ($ per query,
    the router's own cost) added to every routed query.
    """
    _n, k = cost.shape
    ext = np.concatenate([[-np.inf], grid, [np.inf]])
    cell = np.searchsorted(grid, d, side="right")  # 0..len(grid)
    ncell = grid.size + 1
    combos = np.array(list(itertools.combinations_with_replacement(range(ext.size), k - 1)), dtype=int)
    combos = combos.reshape(len(combos), k - 1)
    if combos.shape[0] > 500_000:
        raise InputError("tiers", k, "fewer tiers or a smaller --grid (threshold combinations exceed 500,000)")
    tier_of_cell = (combos[:, :, None] <= np.arange(ncell)[None, None, :]).sum(axis=1)  # (M, ncell)
    s_cost = np.stack([np.bincount(cell, weights=cost[:, i], minlength=ncell) for i in range(k)], axis=1)
    s_corr = np.stack([np.bincount(cell, weights=corr[:, i].astype(float), minlength=ncell) for i in range(k)], axis=1)
    cells = np.arange(ncell)[None, :]
    tot_cost = s_cost[cells, tier_of_cell].sum(axis=1) + (0.0 if extra is None else float(np.sum(extra)))
    tot_corr = s_corr[cells, tier_of_cell].sum(axis=1)
    return ext[combos], tot_cost, tot_corr


def _best_threshold(cost, corr, d, n_grid, extra=None):
    grid = np.unique(np.quantile(d, np.linspace(0, 1, int(n_grid))))
    th, tc, tk = _threshold_search(cost, corr, d, grid, extra)
    with np.errstate(divide="ignore", invalid="ignore"):
        cpc = np.where(tk > 0, tc / np.where(tk > 0, tk, 1.0), np.inf)
    j = int(np.argmin(cpc))
    return th[j], cpc, th, tc, tk


def _apply(cost, corr, d, thresholds, extra=None):
    n = cost.shape[0]
    idx = np.searchsorted(thresholds, d, side="right")
    rc = cost[np.arange(n), idx] + (0.0 if extra is None else extra)
    return rc, corr[np.arange(n), idx]


def _kappa_hat(cost, corr, d, n_bins=10):
    """κ̂ (eq. 4) on tiers: between-bin share of Var(c*) with c* the oracle tier index and d̂ deciles."""
    from costcorrect.allocation.routing import kappa_explained_variance

    c_star = _oracle_pick(cost, corr).astype(float)
    if np.var(c_star) <= 0:
        return float("nan")
    edges = np.unique(np.quantile(d, np.linspace(0, 1, n_bins + 1))[1:-1])
    return kappa_explained_variance(c_star, np.searchsorted(edges, d, side="right"))


def _estimates(cost, corr, d, router_cost, n_grid, train, test):
    """κ̂, Δ̂ (oracle premium, eq. 7 at κ = 1, γ = 0), γ̂, held-out Π̂ and in-sample Π̂ on one sample."""
    base_i = int(np.argmin([_cpc(cost[:, i], corr[:, i]) for i in range(cost.shape[1])]))
    base = _cpc(cost[:, base_i], corr[:, base_i])
    pick = _oracle_pick(cost, corr)
    n = cost.shape[0]
    delta = 1.0 - _cpc(cost[np.arange(n), pick], corr[np.arange(n), pick]) / base
    gamma = 0.0 if router_cost is None else float(np.sum(router_cost) / np.sum(cost[:, base_i]))
    out = {"kappa": _kappa_hat(cost, corr, d), "delta": delta, "gamma": gamma}
    ex_tr = None if router_cost is None else router_cost[train]
    ex_te = None if router_cost is None else router_cost[test]
    th, *_ = _best_threshold(cost[train], corr[train], d[train], n_grid, ex_tr)
    tr_base_i = int(np.argmin([_cpc(cost[train, i], corr[train, i]) for i in range(cost.shape[1])]))
    rc, rk = _apply(cost[test], corr[test], d[test], th, ex_te)
    test_base = _cpc(cost[test, tr_base_i], corr[test, tr_base_i])
    out["premium_holdout"] = 1.0 - _cpc(rc, rk) / test_base
    out["thresholds_holdout"] = [float(x) for x in th]
    out["premium_second_order"] = out["kappa"] * delta - gamma
    return out


def _bootstrap(cost, corr, d, router_cost, n_grid, train, test, n_boot, ci, seed):
    """Percentile intervals: κ̂, Δ̂, γ̂ resample all queries; Π̂ (held-out) resamples the train half
    and the test half separately and re-chooses the thresholds on each train resample."""
    rng = np.random.default_rng(seed)
    keys = ("kappa", "delta", "gamma", "premium_holdout", "premium_second_order")
    draws = {k: [] for k in keys}
    n = cost.shape[0]
    for _ in range(int(n_boot)):
        tr = rng.choice(train, train.size)
        te = rng.choice(test, test.size)
        idx = np.concatenate([tr, te])
        rcost = None if router_cost is None else router_cost[idx]
        if not corr[idx].any(axis=0).all() or not corr[tr].any(axis=0).all() or not corr[te].any(axis=0).all():
            continue  # a tier without a correct answer in the resample: cost per correct undefined
        e = _estimates(cost[idx], corr[idx], d[idx], rcost, n_grid, np.arange(tr.size),
                       np.arange(tr.size, idx.size))
        for k in keys:
            draws[k].append(e[k])
    lo, hi = (1 - ci) / 2, 1 - (1 - ci) / 2
    iv = {k: ([float(np.nanquantile(v, lo)), float(np.nanquantile(v, hi))] if np.isfinite(v).any() else None)
          for k, v in ((k, np.asarray(v, dtype=float)) for k, v in draws.items())}
    return iv, len(draws["kappa"]), n


def evaluate_router(cost_usd, correct, difficulty=None, tiers=None, n_grid=21, router_cost_usd=None,
                    n_boot=0, ci=0.9, seed=0) -> dict:
    """Fixed-tier, best threshold router and oracle policies on per-query data (see module doc).

    Parameters
    ----------
    cost_usd : array (n, N) -- cost of query j on tier i. [$]
    correct : array (n, N) of bool -- whether tier i answered query j correctly. [-]
    difficulty : array (n,) or None -- router score d̂ (higher = harder = more expensive tier). [-]
    tiers : list of N names, ordered from cheapest to most expensive policy intent. [-]
    n_grid : int -- thresholds are searched on this many quantiles of d̂. [-]
    router_cost_usd : array (n,) or None -- the classifier's own cost per query (γ; 0 if None). [$]
    n_boot : int -- bootstrap resamples for the intervals (0 = none). [-]
    ci : float -- interval coverage. [-]
    seed : int -- seeds the held-out split and the bootstrap. [-]

    Returns
    -------
    dict with ``fixed`` (per tier), ``best_fixed_tier``, ``oracle``, ``router`` (best thresholds
    in-sample, or None without difficulty), ``holdout`` (thresholds chosen on a random half,
    premium measured on the other half against the fixed tier that was best on the first half),
    ``estimates`` (κ̂, Δ̂, γ̂, Π̂ and κ̂Δ̂ − γ̂, with bootstrap ``intervals`` when ``n_boot`` > 0),
    and ``curve`` (the cost-quality frontier of all threshold routers: mean cost [$/query],
    accuracy [-]).
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
    rcost = None if router_cost_usd is None else np.asarray(router_cost_usd, dtype=float)
    if rcost is not None and (rcost.shape != (n,) or not np.all(np.isfinite(rcost)) or np.any(rcost < 0)):
        raise InputError("router_cost_usd", "bad shape or value", f"one finite cost >= 0 per query ({n})")
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

    router, curve, holdout, estimates = None, [], None, None
    if difficulty is not None:
        d = np.asarray(difficulty, dtype=float)
        if d.shape != (n,):
            raise InputError("difficulty", d.shape, f"one value per query ({n})")
        th, cpc, ths, tc, tk = _best_threshold(cost, corr, d, n_grid, rcost)
        rc, rk = _apply(cost, corr, d, th, rcost)
        shares = np.bincount(np.searchsorted(th, d, side="right"), minlength=k) / n
        router = {"thresholds": [float(x) for x in th], "tier_shares": [float(x) for x in shares],
                  "mean_cost_usd": float(rc.mean()),
                  "accuracy": float(rk.mean()), "cost_per_correct_usd": _cpc(rc, rk)}
        router["premium"] = 1.0 - router["cost_per_correct_usd"] / base if np.isfinite(base) else None
        router["share_of_oracle_premium"] = (router["premium"] / oracle["premium"] if oracle["premium"] else None)
        curve = [{"thresholds": [float(x) for x in t], "mean_cost_usd": float(c / n), "accuracy": float(a / n),
                  "cost_per_correct_usd": float(p)} for t, c, a, p in zip(ths, tc, tk, cpc, strict=True)]
        if n >= 4:
            perm = np.random.default_rng(seed).permutation(n)
            train, test = np.sort(perm[: n // 2]), np.sort(perm[n // 2:])
            if corr[train].any(axis=0).all() and corr[test].any(axis=0).all():
                estimates = _estimates(cost, corr, d, rcost, n_grid, train, test)
                holdout = {"premium": estimates["premium_holdout"], "thresholds": estimates["thresholds_holdout"],
                           "n_train": int(train.size), "n_test": int(test.size), "seed": int(seed)}
                estimates["premium_in_sample"] = router["premium"]
                if n_boot:
                    iv, used, _ = _bootstrap(cost, corr, d, rcost, n_grid, train, test, n_boot, ci, seed)
                    estimates["intervals"], estimates["ci"], estimates["n_boot_used"] = iv, ci, used
    return {"tiers": tiers, "n_queries": n, "fixed": fixed, "best_fixed_tier": best["tier"],
            "best_fixed_cost_per_correct_usd": base, "oracle": oracle, "router": router,
            "holdout": holdout, "estimates": estimates, "curve": _pareto(curve)}


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
