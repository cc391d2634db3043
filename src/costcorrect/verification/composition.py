"""Verifier composition (paper 07): the identity, Möbius inversion, Theorem 2, the joint mechanism.

Conventions. ``m`` verifiers (slots) give a joint decision ``r = (r_1, ..., r_m) ∈ {0,1}^m``;
its *cell index* is ``Σ_i r_i·2^(m-1-i)`` (slot 1 is the most significant bit), which for
``m = 2`` is the service's ``2·r1 + r2`` with cell order ``(q00, q01, q10, q11)``
(:mod:`costcorrect.service.scoring`). A subset ``S`` of slots uses the same bit convention.

* Theorem 1 / Corollary 1: ``E[V1∧V2] = α1α2 + C`` and ``E[V1∨V2] = α1 + α2 − α1α2 − C``.
* Corollary 2: any Boolean ``f`` on ``m`` verifiers is the multilinear polynomial
  ``f(v) = Σ_S c_S Π_{i∈S} v_i`` with Möbius coefficients ``c_S = Σ_{T⊆S} (−1)^{|S|−|T|} f(1_T)``,
  so ``E[f(V)] = Σ_S c_S μ_S`` with joint moments ``μ_S = E[Π_{i∈S} V_i]``.
* Theorem 2: two slot-1 candidates with equal marginals (0.6) but AND-pipeline rates
  0.40 vs 0.36; per-verifier elicitation cannot separate them.
* §5: joint strictly proper scoring rules on Δ({0,1}^m) are the categorical rules of
  :mod:`costcorrect.verification.rules` over the ``2^m`` cells; payments reuse
  :func:`costcorrect.verification.mechanism.payment_constants`; Proposition 1's pre-flight
  (rank of the joint-report second-moment matrix ≥ 2) gates selection.

All functions are pure NumPy; bad input raises :class:`costcorrect.errors.InputError`.
"""

from __future__ import annotations

import numpy as np

from costcorrect.errors import InputError, check_range
from costcorrect.verification import mechanism, rules

MAX_SLOTS = 12  # 2^12 cells; the joint report space grows as 2^m (paper 07 §10)
RULE_NAMES = ("and", "or", "majority")


# ----------------------------------------------------------------------------- two slots
def coupling_range(alpha1, alpha2) -> tuple[np.ndarray, np.ndarray]:
    """Feasible ``C = Cov(V1, V2)`` for marginals ``α1, α2`` [-] (Fréchet bounds).

    ``P(V1=1, V2=1) = α1α2 + C`` must lie in ``[max(0, α1+α2−1), min(α1, α2)]``.

    >>> [round(float(x), 2) for x in coupling_range(0.6, 0.6)]
    [-0.16, 0.24]
    """
    a1, a2 = np.asarray(alpha1, dtype=float), np.asarray(alpha2, dtype=float)
    check_range("alpha1", a1, 0.0, 1.0)
    check_range("alpha2", a2, 0.0, 1.0)
    return np.maximum(0.0, a1 + a2 - 1.0) - a1 * a2, np.minimum(a1, a2) - a1 * a2


def joint_from_marginals(alpha1, alpha2, coupling) -> np.ndarray:
    """Joint distribution ``(q00, q01, q10, q11)`` [-] from ``α1, α2, C`` (Theorem 1 inverted).

    Raises :class:`InputError` naming the feasible range of ``C`` when it is not a distribution.

    >>> joint_from_marginals(0.6, 0.6, 0.04).round(2).tolist()
    [0.2, 0.2, 0.2, 0.4]
    """
    a1, a2, c = (np.asarray(v, dtype=float) for v in (alpha1, alpha2, coupling))
    lo, hi = coupling_range(a1, a2)
    if not np.all(np.isfinite(c)) or np.any(c < lo - 1e-12) or np.any(c > hi + 1e-12):
        bad = np.broadcast_to(c, np.broadcast_shapes(c.shape, lo.shape))
        loB, hiB = np.broadcast_to(lo, bad.shape), np.broadcast_to(hi, bad.shape)
        i = np.argwhere(~((bad >= loB - 1e-12) & (bad <= hiB + 1e-12)))[0] if bad.ndim else ()
        i = tuple(i)
        raise InputError("coupling", float(bad[i]),
                         f"C in [{float(loB[i]):.4g}, {float(hiB[i]):.4g}] so that the implied joint "
                         f"distribution of (V1, V2) is a distribution "
                         f"(alpha1={float(np.broadcast_to(a1, bad.shape)[i]):g}, "
                         f"alpha2={float(np.broadcast_to(a2, bad.shape)[i]):g})")
    p11 = a1 * a2 + c
    p10, p01 = a1 - p11, a2 - p11
    p00 = 1.0 - a1 - a2 + p11
    return np.clip(np.stack(np.broadcast_arrays(p00, p01, p10, p11), axis=-1), 0.0, 1.0)


def pipeline_accept_rate(alpha1, alpha2, coupling, rule: str = "and") -> np.ndarray:
    """Pipeline accept rate [-]: AND ``α1α2 + C`` (Thm 1), OR ``α1+α2−α1α2−C`` (Cor 1).

    >>> [round(float(pipeline_accept_rate(0.6, 0.6, 0.04, r)), 4) for r in ("and", "or")]
    [0.4, 0.8]
    """
    joint_from_marginals(alpha1, alpha2, coupling)  # feasibility
    a1, a2, c = (np.asarray(v, dtype=float) for v in (alpha1, alpha2, coupling))
    if rule == "and":
        return a1 * a2 + c
    if rule == "or":
        return a1 + a2 - a1 * a2 - c
    raise InputError("rule", rule, "and, or")


def identity(alpha1: float, alpha2: float, coupling: float, rule: str = "and") -> dict:
    """The identity as a record (the ``compose identity`` CLI payload)."""
    lo, hi = coupling_range(alpha1, alpha2)
    pipe = float(pipeline_accept_rate(alpha1, alpha2, coupling, rule))
    indep = float(pipeline_accept_rate(alpha1, alpha2, 0.0, rule))
    q = joint_from_marginals(alpha1, alpha2, coupling)
    return {
        "rule": rule, "alpha1": float(alpha1), "alpha2": float(alpha2), "coupling": float(coupling),
        "pipeline_accept_rate": pipe, "independent_accept_rate": indep,
        "drift": pipe - indep,
        "cost_correct_ratio_vs_independent": (indep / pipe) if pipe > 0 else None,
        "joint_distribution": dict(zip(("q00", "q01", "q10", "q11"), (float(v) for v in q), strict=True)),
        "coupling_feasible_range": [float(lo), float(hi)],
        "formula": "alpha1*alpha2 + C" if rule == "and" else "alpha1 + alpha2 - alpha1*alpha2 - C",
    }


# ----------------------------------------------------------------------------- m slots
def _check_m(m) -> int:
    if not isinstance(m, (int, np.integer)) or m < 1 or m > MAX_SLOTS:
        raise InputError("m", m, f"an integer number of verifiers in [1, {MAX_SLOTS}]")
    return int(m)


def _popcount(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.int64)
    c = np.zeros_like(x)
    while np.any(x):
        c += x & 1
        x = x >> 1
    return c


def rule_table(rule: str, m: int) -> np.ndarray:
    """Truth table of a named rule on ``m`` verifiers, indexed by cell [0/1], shape ``(2^m,)``.

    ``and``, ``or``, ``majority`` (strict, > m/2) or ``k_of_m:K`` (at least K accept).

    >>> rule_table("majority", 3).tolist()
    [0, 0, 0, 1, 0, 1, 1, 1]
    """
    m = _check_m(m)
    ones = _popcount(np.arange(2**m))
    if rule == "and":
        k = m
    elif rule == "or":
        k = 1
    elif rule == "majority":
        k = m // 2 + 1
    elif isinstance(rule, str) and rule.startswith("k_of_m:") and rule[7:].isdigit() and 1 <= int(rule[7:]) <= m:
        k = int(rule[7:])
    else:
        raise InputError("rule", rule, f"and, or, majority, k_of_m:K with 1 <= K <= {m}")
    return (ones >= k).astype(np.int64)


def is_monotone(table) -> bool:
    """True when flipping any input from 0 to 1 never lowers ``f`` (monotone Boolean rule)."""
    t = np.asarray(table)
    m = int(np.log2(t.size))
    idx = np.arange(t.size)
    return all(bool(np.all(t[idx | (1 << b)] >= t[idx])) for b in range(m))


def _check_table(table, require_monotone: bool = True) -> tuple[np.ndarray, int]:
    t = np.asarray(table)
    m = round(np.log2(t.size)) if t.size else 0
    if t.ndim != 1 or t.size < 2 or 2**m != t.size or m > MAX_SLOTS:
        raise InputError("table", f"shape {t.shape}", f"a truth table of length 2^m, 1 <= m <= {MAX_SLOTS}")
    if not np.all((t == 0) | (t == 1)):
        raise InputError("table", t.tolist(), "entries in {0, 1}")
    if require_monotone and not is_monotone(t):
        raise InputError("table", t.tolist(), "a monotone Boolean rule (paper 07 §2)")
    return t.astype(np.int64), m


def _subset_matrix(m: int) -> np.ndarray:
    """``Z[c, S] = 1`` when cell ``c`` contains subset ``S`` (all slots in S accept)."""
    idx = np.arange(2**m)
    return ((idx[:, None] & idx[None, :]) == idx[None, :]).astype(float)


def mobius_coefficients(table, *, require_monotone: bool = True) -> np.ndarray:
    """Möbius coefficients ``c_S`` of ``f`` [-], shape ``(2^m,)`` indexed by subset (Cor 2).

    ``c_S = Σ_{T⊆S} (−1)^{|S|−|T|} f(1_T)``, so ``f(v) = Σ_S c_S Π_{i∈S} v_i`` exactly.

    >>> mobius_coefficients([0, 1, 1, 1]).tolist()   # OR: v1 + v2 − v1·v2
    [0, 1, 1, -1]
    """
    t, m = _check_table(table, require_monotone)
    c = t.copy()
    for b in range(m):  # fast zeta/Möbius transform over the subset lattice
        bit = 1 << b
        idx = np.arange(c.size)
        has = (idx & bit) != 0
        c[has] = c[has] - c[idx[has] ^ bit]
    return c


def _as_cells(cell_probs) -> tuple[np.ndarray, int]:
    p = np.asarray(cell_probs, dtype=float)
    m = round(np.log2(p.shape[-1])) if p.ndim and p.shape[-1] else 0
    if p.ndim < 1 or p.shape[-1] < 2 or 2**m != p.shape[-1]:
        raise InputError("cell_probs", f"shape {p.shape}", "(..., 2^m) cell probabilities")
    if not np.all(np.isfinite(p)) or np.any(p < -1e-12) or np.any(np.abs(p.sum(-1) - 1.0) > 1e-6):
        raise InputError("cell_probs", "row", "non-negative rows summing to 1")
    return p, m


def joint_moments(cell_probs) -> np.ndarray:
    """``μ_S = E[Π_{i∈S} V_i]`` for every subset ``S`` [-], shape ``(..., 2^m)`` (μ_∅ = 1)."""
    p, m = _as_cells(cell_probs)
    return p @ _subset_matrix(m)


def expected_rule(table, cell_probs) -> np.ndarray:
    """``E[f(V)] = Σ_S c_S μ_S`` [-] via Möbius inversion over the joint moments (Cor 2)."""
    c = mobius_coefficients(table)
    mu = joint_moments(cell_probs)
    if mu.shape[-1] != c.size:
        raise InputError("table", c.size, f"length {mu.shape[-1]} to match the cells")
    return mu @ c


def expansion_terms(table) -> list[dict]:
    """Readable expansion: ``[{"slots": [1, 3], "coefficient": -1}, ...]`` (non-zero terms)."""
    c = mobius_coefficients(table)
    m = int(np.log2(c.size))
    return [{"slots": [i + 1 for i in range(m) if s & (1 << (m - 1 - i))], "coefficient": int(c[s])}
            for s in range(c.size) if c[s] != 0]


def cells_from_decisions(decisions) -> tuple[np.ndarray, int]:
    """Cell index per probe from ``(N, m)`` 0/1 decisions; returns ``(cells, m)``."""
    d = np.asarray(decisions)
    if d.ndim != 2 or d.shape[0] < 1:
        raise InputError("decisions", f"shape {d.shape}", "(N, m) with N >= 1")
    m = _check_m(d.shape[1])
    if not np.all((d == 0) | (d == 1)):
        raise InputError("decisions", "value", "decisions in {0, 1}")
    w = 1 << np.arange(m - 1, -1, -1)
    return d.astype(np.int64) @ w, m


def estimate_identity(decisions, rule="and", *, n_boot: int = 2000, seed: int = 0, level: float = 0.95) -> dict:
    """Estimate marginals, couplings and the pipeline rate from ``(N, m)`` decisions, with intervals.

    Intervals are multinomial-bootstrap percentiles over the ``2^m`` cells (``n_boot`` draws).
    For ``m = 2`` ``coupling`` is ``C = μ_12 − α1α2``; for any ``m`` ``moments`` lists every
    ``μ_S``. ``predicted`` is ``Σ_S c_S μ_S``, ``observed`` the direct mean of ``f`` over
    probes; they agree exactly (the identity is algebraic), which the tests assert.
    """
    cells, m = cells_from_decisions(decisions)
    table = rule_table(rule, m) if isinstance(rule, str) else _check_table(rule)[0]
    if table.size != 2**m:
        raise InputError("rule", f"table of length {table.size}", f"length 2^{m}")
    check_range("level", level, 0.0, 1.0, lo_open=True, hi_open=True)
    if not isinstance(n_boot, (int, np.integer)) or n_boot < 10:
        raise InputError("n_boot", n_boot, "an integer >= 10")
    n = cells.size
    p = np.bincount(cells, minlength=2**m) / n
    rng = np.random.default_rng(seed)
    boot = rng.multinomial(n, p, size=n_boot) / n
    z = _subset_matrix(m)
    coef = mobius_coefficients(table)
    q = [(1 - level) / 2 * 100, (1 + level) / 2 * 100]

    def stat(pp):
        mu = pp @ z
        alphas = mu[..., [1 << (m - 1 - i) for i in range(m)]]
        out = {"alphas": alphas, "pipeline": mu @ coef, "moments": mu}
        if m == 2:
            out["coupling"] = mu[..., 3] - alphas[..., 0] * alphas[..., 1]
            out["independent"] = (table[0] * (1 - alphas[..., 0]) * (1 - alphas[..., 1])
                                  + table[1] * (1 - alphas[..., 0]) * alphas[..., 1]
                                  + table[2] * alphas[..., 0] * (1 - alphas[..., 1])
                                  + table[3] * alphas[..., 0] * alphas[..., 1])
        return out

    pt, bs = stat(p), stat(boot)

    def iv(key):
        return np.percentile(bs[key], q, axis=0).T.tolist()

    res = {
        "n_probes": int(n), "m": m, "rule": rule if isinstance(rule, str) else "table",
        "alphas": pt["alphas"].tolist(), "alphas_interval": iv("alphas"),
        "predicted_pipeline_accept_rate": float(pt["pipeline"]),
        "predicted_interval": [float(v) for v in np.percentile(bs["pipeline"], q)],
        "observed_pipeline_accept_rate": float(np.mean(table[cells])),
        "moments": {",".join(str(i + 1) for i in range(m) if s & (1 << (m - 1 - i))) or "∅": float(pt["moments"][s])
                    for s in range(2**m)},
        "expansion": expansion_terms(table), "level": level, "n_boot": int(n_boot),
    }
    if m == 2:
        res["coupling"] = float(pt["coupling"])
        res["coupling_interval"] = [float(v) for v in np.percentile(bs["coupling"], q)]
        res["independent_accept_rate"] = float(pt["independent"])
    return res


def identity_r2(predicted, observed) -> float:
    """R² of observed against the ``y = x`` line of the identity [-] (paper 07 §8 finding 1)."""
    pr, ob = np.asarray(predicted, dtype=float), np.asarray(observed, dtype=float)
    if pr.shape != ob.shape or pr.size < 2:
        raise InputError("predicted", f"shape {pr.shape}", f"same shape as observed {ob.shape}, >= 2 points")
    ss_tot = float(np.sum((ob - ob.mean()) ** 2))
    if ss_tot <= 0:
        raise InputError("observed", "constant", "at least two distinct observed rates for R²")
    return 1.0 - float(np.sum((ob - pr) ** 2)) / ss_tot


# ----------------------------------------------------------------------------- Theorem 2
THEOREM2_JOINTS = {  # (q00, q01, q10, q11) of (V1, V2): paper 07 §4 table
    "V1": (0.20, 0.20, 0.20, 0.40),
    "V1_prime": (0.16, 0.24, 0.24, 0.36),
}


def theorem2_construction(rule: str = "brier") -> dict:
    """Theorem 2's instance recomputed: equal marginal scores, different AND-pipeline rates.

    Per-verifier score: the expected marginal score of the truthful report ``α1 = 0.6``
    against the probes' ground truth (ℓ = 1 on both prompts), identical for both candidates.
    ``cost_correct_gap_pct``: ``(1/α_worse − 1/α_best)/(1/α_best)`` = ``α_best/α_worse − 1``;
    ``expected_gap_pct``: half of it (the per-verifier mechanism picks each candidate w.p. 1/2).
    """
    and_t = rule_table("and", 2)
    out = {}
    for name, q in THEOREM2_JOINTS.items():
        qa = np.asarray(q)
        a1, a2 = qa[2] + qa[3], qa[1] + qa[3]
        out[name] = {
            "alpha1": float(a1), "alpha2": float(a2), "coupling": float(qa[3] - a1 * a2),
            "pipeline_accept_rate": float(expected_rule(and_t, qa)),
            "marginal_score": float(rules.score(rule, [a1], [1])[0]),
            "joint_expected_score": float(np.sum(qa * rules.score(rule, np.tile(qa, (4, 1)), np.arange(4),
                                                                  categorical=True))),
        }
    best, worse = out["V1"]["pipeline_accept_rate"], out["V1_prime"]["pipeline_accept_rate"]
    gap = 100.0 * (best / worse - 1.0)
    out["cost_correct_gap_pct"] = gap
    out["expected_gap_pct"] = 0.5 * gap
    out["marginal_score_difference"] = out["V1"]["marginal_score"] - out["V1_prime"]["marginal_score"]
    return out


# ----------------------------------------------------------------------------- §6 sample size
def joint_sample_size(k1, k2, epsilon, constant=1.0) -> np.ndarray:
    """Probes for an ε gap under the joint mechanism: ``N = ceil(C²(ln K1 + ln K2)/ε²)`` (Thm 4).

    >>> int(joint_sample_size(16, 16, 0.05))
    2219
    """
    a, b = np.asarray(k1, dtype=float), np.asarray(k2, dtype=float)
    if np.any(a < 1) or np.any(b < 1) or np.any(a * b < 2):
        raise InputError("k1, k2", (k1, k2), "K1, K2 >= 1 with K1·K2 >= 2 candidate pairs")
    check_range("epsilon", epsilon, 0.0, 1.0, lo_open=True)
    check_range("constant", constant, 0.0, lo_open=True)
    return np.ceil(np.asarray(constant, dtype=float) ** 2 * (np.log(a) + np.log(b))
                   / np.asarray(epsilon, dtype=float) ** 2 - 1e-9).astype(np.int64)


# ----------------------------------------------------------------------------- §5 joint mechanism
def joint_score(rule: str, reports, cells) -> np.ndarray:
    """Joint strictly proper score on Δ({0,1}^m) [score units], per probe.

    ``reports`` ``(..., N, 2^m)`` joint distributions; ``cells`` ``(N,)`` realised cell
    indices. The categorical rules of :mod:`rules` (joint Brier ``−Σ_c (q_c − 1[r=c])²``).
    """
    return rules.score(rule, reports, cells, categorical=True)


def identifiability(joint_reports, *, tol: float = 1e-9) -> dict:
    """Proposition 1 pre-flight: rank of the joint-report second-moment matrix ``QᵀQ/N``.

    ``joint_reports`` ``(N, 2^m)`` for one pair (reported distributions, or one-hot observed
    decisions). Rank ≥ 2 ⇔ at least two probe types with different joint distributions.
    """
    q = np.asarray(joint_reports, dtype=float)
    if q.ndim != 2 or q.shape[0] < 1:
        raise InputError("joint_reports", f"shape {q.shape}", "(N, 2^m)")
    s = np.linalg.svd(q.T @ q / q.shape[0], compute_uv=False)
    rank = int(np.sum(s > tol * max(1.0, float(s[0]))))
    ok = rank >= 2
    return {"rank": rank, "identifiable": ok,
            "explanation": ("joint-report matrix has rank >= 2: at least two probe types with different "
                            "joint distributions (paper 07 Prop. 1)") if ok else
                           (f"joint-report matrix has rank {rank} < 2: every probe carries the same joint "
                            "distribution, so the coupling C is not identified and the joint scoring rule "
                            "does not separate pairs (paper 07 Prop. 1). Add probes of a different type, "
                            "e.g. conditional-rare-event probes (§7), and re-run.")}


def run_joint_mechanism(joint_reports, cells, rule: str = "brier", *, composition: str = "and",
                        per_probe_cap_usd: float | None = None, budget_usd: float | None = None,
                        reservation_usd: float = 0.0, pairs: list[str] | None = None,
                        preflight: bool = True) -> dict:
    """Joint scoring-rule mechanism (paper 07 §5, Thm 3) over P candidate pairs (or m-tuples).

    ``joint_reports`` ``(P, N, 2^m)``: each candidate's committed joint distribution per probe;
    ``cells`` ``(P, N)``: the realised joint decision of that candidate on each probe.
    Payment ``t = a + b·mean S`` [USD] with ``a, b`` from :func:`mechanism.payment_constants`
    (IR and cap binding, ``n_classes = 2^m``). Selection: empirical argmax of the pipeline
    accept rate ``Σ_c f(c)·q̂_c`` of the truthful (strictly proper, so elicited) joint
    reports — Theorem 4's rule. The pre-flight refuses (InputError) when any pair's
    joint-report matrix has rank < 2.
    """
    q = np.asarray(joint_reports, dtype=float)
    y = np.asarray(cells, dtype=np.int64)
    if q.ndim != 3 or y.shape != q.shape[:2]:
        raise InputError("joint_reports", f"shape {q.shape}", f"(P, N, 2^m) with cells of shape (P, N), got {y.shape}")
    p_, n, ncell = q.shape
    m = round(np.log2(ncell))
    table = rule_table(composition, m)
    verdicts = [identifiability(q[i]) for i in range(p_)]
    if preflight:
        bad = [i for i, v in enumerate(verdicts) if not v["identifiable"]]
        if bad:
            name = pairs[bad[0]] if pairs else f"#{bad[0]}"
            raise InputError(f"pair {name}", f"rank {verdicts[bad[0]]['rank']}",
                             "rank >= 2 before selecting: " + verdicts[bad[0]]["explanation"])
    s = joint_score(rule, q, y).mean(axis=-1)
    a, b, cap = mechanism.payment_constants(rule, n, n_vendors=p_, per_probe_cap_usd=per_probe_cap_usd,
                                            budget_usd=budget_usd, reservation_usd=reservation_usd,
                                            n_classes=ncell)
    alpha_hat = (q * table).sum(-1).mean(-1)
    return {"rule": rule, "composition": composition, "n_probes": int(n), "n_pairs": int(p_),
            "pairs": pairs or [f"#{i}" for i in range(p_)], "mean_scores": s.tolist(),
            "payments_usd": (a + b * s).tolist(), "a_usd": a, "b_usd": b, "per_probe_cap_usd": cap,
            "pipeline_accept_rate_hat": alpha_hat.tolist(), "selected": int(np.argmax(alpha_hat)),
            "identifiability": verdicts}


def per_verifier_selection(marginal_reports, labels, rule: str = "brier") -> list[int]:
    """Per-verifier baseline (§4): paper 06's mechanism in each slot independently.

    ``marginal_reports``: list over slots of ``(K_i, N)`` reports of P(label = 1);
    ``labels``: ``(N,)`` ground truth. Returns the selected index per slot.
    """
    return [int(mechanism.run_mechanism(r, labels, rule).selected) for r in marginal_reports]


# ----------------------------------------------------------------------------- §5 commit-reveal
def joint_report_payload(joint_reports, item_ids=None, *, pair: str | None = None) -> dict:
    """Canonical JSON-able record of one candidate's joint reports (the thing that is committed).

    ``joint_reports`` ``(N, 2^m)`` rows on Δ({0,1}^m) (cell order as in this module);
    ``item_ids`` one id per probe (default ``"0".."N-1"``). Floats pass through unchanged so
    that :func:`costcorrect.ledger.canonical.canonical_bytes` (RFC 8785) fixes their text.
    """
    q, m = _as_cells(joint_reports)
    if q.ndim != 2:
        raise InputError("joint_reports", f"shape {q.shape}", "(N, 2^m)")
    ids = [str(i) for i in range(q.shape[0])] if item_ids is None else [str(i) for i in item_ids]
    if len(ids) != q.shape[0] or len(set(ids)) != len(ids):
        raise InputError("item_ids", len(ids), f"{q.shape[0]} distinct ids, one per probe")
    out = {"m": m, "cells": [format(c, f"0{m}b") for c in range(2**m)],
           "reports": [{"item_id": i, "q": [float(v) for v in row]} for i, row in zip(ids, q, strict=True)]}
    if pair is not None:
        out["pair"] = str(pair)
    return out


def commit_joint_reports(salt: str, payload: dict) -> str:
    """Commitment ``SHA-256(salt ‖ RFC 8785 JSON(payload))`` [hex] of a joint-report payload (§5).

    Reuses the ledger's canonical JSON and hash (:func:`costcorrect.ledger.canonical.commitment_hex`),
    the same bytes the service's joint rounds commit to.
    """
    from costcorrect.ledger.canonical import commitment_hex

    if not isinstance(salt, str) or len(salt) < 16:
        raise InputError("salt", "too short" if isinstance(salt, str) else type(salt).__name__,
                         "a random string of >= 16 characters (e.g. secrets.token_hex(16))")
    return commitment_hex(salt, payload)


def verify_joint_reveal(commitment: str, salt: str, payload: dict) -> bool:
    """True when ``(salt, payload)`` opens ``commitment`` (constant-time comparison)."""
    import hmac

    return hmac.compare_digest(str(commitment).lower(), commit_joint_reports(salt, payload))
