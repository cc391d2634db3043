"""The scoring-rule procurement mechanism (paper 06 §4–§5) and its baselines (§3, §7).

* :func:`payment_constants` — ``a`` and ``b`` of ``t_k = a + b·mean_i S(p_ki, ℓ_i)`` from
  individual rationality (``a + b·min_S >= reservation``) and the per-probe cap / budget
  (``a + b·max_S <= N·cap``), Theorem 2.
* :func:`run_mechanism` — K vendors × N probes → mean scores, payments, empirical argmax.
* :func:`binary_accept_rate` — the binary-report reduction of §4 (argmax of Brier on
  {0,1} reports is argmax of agreement with the labels).
* Cost-correct translation (§5): :func:`cost_correct_usd`, :func:`gap_pct`.
* Baselines: :func:`posted_price_equilibrium` (Theorem 1 unravelling with a single-crossing
  cost of quality :func:`cost_of_quality_usd`), :func:`random_choice`,
  :func:`public_benchmark_choice`.
* Sample size (§5): :func:`sample_size`, :func:`implied_constant`.
* Data-mode statistics: :func:`bootstrap_selection`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

from costcorrect.errors import InputError, check_range
from costcorrect.verification.rules import check_reports, score, score_bounds

#: Per-probe, per-vendor payment cap used when neither a cap nor a budget is given [USD].
DEFAULT_PER_PROBE_CAP_USD = 0.01


# ----------------------------------------------------------------------------- payments
def payment_constants(rule: str, n_probes: int, *, n_vendors: int = 1, per_probe_cap_usd: float | None = None,
                      budget_usd: float | None = None, reservation_usd: float = 0.0,
                      n_classes: int = 2) -> tuple[float, float, float]:
    """``(a_usd, b_usd, cap_usd)`` of the payment rule ``t = a + b·mean S`` (Theorem 2).

    The per-probe cap ``t̄`` [USD per probe per vendor] is ``per_probe_cap_usd``, tightened
    to ``budget_usd / (K·N)`` when a total budget is given (budget feasibility: ``Σ_k t_k <=
    K·N·t̄ <= budget``). Both constraints are made to bind:

    * IR:  ``a + b·min_S = reservation_usd``  (every vendor's payment covers its reservation);
    * cap: ``a + b·max_S = N·t̄``               (paper's ``t̄ = a/N + b·max_S/N``),

    so ``b = (N·t̄ - reservation) / (max_S - min_S)`` and ``a = reservation - b·min_S``.
    Infeasible when ``N·t̄ <= reservation`` (raises :class:`InputError`).

    >>> a, b, cap = payment_constants("brier", 100, per_probe_cap_usd=0.01)
    >>> round(a, 6), round(b, 6), cap
    (1.0, 1.0, 0.01)
    """
    n = int(n_probes)
    if n < 1:
        raise InputError("n_probes", n_probes, "an integer >= 1")
    check_range("reservation_usd", reservation_usd, 0.0)
    cap = DEFAULT_PER_PROBE_CAP_USD if per_probe_cap_usd is None and budget_usd is None else per_probe_cap_usd
    if cap is not None:
        check_range("per_probe_cap_usd", cap, 0.0, lo_open=True)
    if budget_usd is not None:
        check_range("budget_usd", budget_usd, 0.0, lo_open=True)
        by_budget = float(budget_usd) / (max(int(n_vendors), 1) * n)
        cap = by_budget if cap is None else min(float(cap), by_budget)
    cap = float(cap)
    lo, hi = score_bounds(rule, n_classes)
    spend = n * cap - float(reservation_usd)
    if spend <= 0:
        raise InputError("reservation_usd", reservation_usd,
                         f"less than N·cap = {n * cap:.6g} USD (IR and the cap cannot both hold)")
    b = spend / (hi - lo)
    a = float(reservation_usd) - b * lo
    return float(a), float(b), cap


# ----------------------------------------------------------------------------- mechanism
@dataclass
class MechanismResult:
    """Outcome of one run of the mechanism on K vendors × N probes.

    ``mean_scores`` [score units] and ``payments_usd`` [USD, for the whole probe set] have
    shape (K,); ``selected`` is the index of the empirical argmax (lowest index on ties).
    """

    rule: str
    n_probes: int
    n_vendors: int
    mean_scores: np.ndarray
    payments_usd: np.ndarray
    a_usd: float
    b_usd: float
    per_probe_cap_usd: float
    selected: int
    binary_reports: bool
    accept_rates: np.ndarray | None = None  # agreement with labels, when reports are binary
    vendors: list[str] = field(default_factory=list)
    budget_usd: float | None = None
    reservation_usd: float = 0.0

    @property
    def total_payment_usd(self) -> float:
        return float(np.sum(self.payments_usd))

    @property
    def selected_vendor(self) -> str:
        return self.vendors[self.selected] if self.vendors else str(self.selected)

    def as_dict(self) -> dict:
        d = asdict(self)
        d["mean_scores"] = self.mean_scores.tolist()
        d["payments_usd"] = self.payments_usd.tolist()
        d["accept_rates"] = None if self.accept_rates is None else self.accept_rates.tolist()
        d["total_payment_usd"] = self.total_payment_usd
        d["selected_vendor"] = self.selected_vendor
        return d


def binary_accept_rate(reports, outcomes) -> np.ndarray:
    """Empirical agreement ``α̂_k = mean_i 1[p̂_ki = ℓ_i]`` of {0,1} reports [-] (§4 reduction).

    Reports must be exactly 0 or 1. On such reports mean Brier = ``α̂ - 1`` (and quadratic
    = ``2α̂ - 1``), so the argmax of either is the argmax of ``α̂``.
    """
    p, y, _ = check_reports(reports, outcomes, categorical=False)
    if np.any((p != 0.0) & (p != 1.0)):
        raise InputError("reports", float(p[(p != 0.0) & (p != 1.0)].ravel()[0]), "binary decisions in {0, 1}")
    return np.mean(p == y, axis=-1)


def run_mechanism(reports, outcomes, rule: str = "brier", *, budget_usd: float | None = None,
                  per_probe_cap_usd: float | None = None, reservation_usd: float = 0.0,
                  categorical: bool | None = None, vendors: list[str] | None = None) -> MechanismResult:
    """Pay K vendors a strictly proper score on N labelled probes and select the argmax (§4).

    ``reports``: (K, N) of P(label=1) (or (K, N, M) categorical); ``outcomes``: (N,) labels.
    Payments ``t_k = a + b·mean_i S(p_ki, ℓ_i)`` [USD] with ``a, b`` from
    :func:`payment_constants` (IR at ``reservation_usd``, cap ``per_probe_cap_usd`` per probe
    per vendor, and/or total ``budget_usd`` over all vendors). Default cap:
    ``DEFAULT_PER_PROBE_CAP_USD``.

    >>> r = run_mechanism([[1, 0, 1, 1], [0.6, 0.4, 0.6, 0.6]], [1, 0, 1, 1], per_probe_cap_usd=0.01)
    >>> r.selected, [round(float(x), 3) for x in r.payments_usd]
    (0, [0.04, 0.034])
    """
    p, y, cat = check_reports(reports, outcomes, categorical=categorical)
    if p.ndim != (3 if cat else 2):
        raise InputError("reports", f"shape {p.shape}", "(K, N) binary or (K, N, M) categorical")
    k, n = p.shape[0], p.shape[1]
    if k < 2:
        raise InputError("reports", f"{k} vendor(s)", "K >= 2 vendors")
    if y.shape != (n,):
        raise InputError("outcomes", f"shape {y.shape}", f"one label per probe, shape ({n},)")
    if vendors is not None and len(vendors) != k:
        raise InputError("vendors", len(vendors), f"{k} names (one per row of reports)")
    a, b, cap = payment_constants(rule, n, n_vendors=k, per_probe_cap_usd=per_probe_cap_usd,
                                  budget_usd=budget_usd, reservation_usd=reservation_usd,
                                  n_classes=p.shape[-1] if cat else 2)
    mean_s = score(rule, p, y, categorical=cat, validate=False).mean(axis=-1)
    binary = (not cat) and bool(np.all((p == 0.0) | (p == 1.0)))
    return MechanismResult(
        rule=rule, n_probes=n, n_vendors=k, mean_scores=mean_s, payments_usd=a + b * mean_s,
        a_usd=a, b_usd=b, per_probe_cap_usd=cap, selected=int(np.argmax(mean_s)), binary_reports=binary,
        accept_rates=np.mean(p == y, axis=-1) if binary else None, vendors=list(vendors or []),
        budget_usd=budget_usd, reservation_usd=float(reservation_usd),
    )


# ----------------------------------------------------------------------------- cost-correct
def cost_correct_usd(alpha, cpm_usd_per_mtok=1.0, reasoning_multiplier=1.0, rollout_ratio=0.0):
    """Cost per correct answer ``CPM_{1:1}·R·(1+ρ̄)/α`` (paper 06 §2, after field notes #2).

    ``cpm_usd_per_mtok`` [USD/MTok], ``reasoning_multiplier`` R [-], ``rollout_ratio`` ρ̄ [-],
    ``alpha`` the verifier's accept rate at the deployer's threshold [-]; α <= 0 gives inf
    (nothing is ever accepted). Result in the numerator's unit [USD/MTok of correct output].
    """
    try:  # the package's cost-correct unit (papers 02–04), when present
        from costcorrect.allocation.cost_correct import cost_correct_usd_per_mtok
    except ImportError:
        cost_correct_usd_per_mtok = None
    if cost_correct_usd_per_mtok is not None:
        return cost_correct_usd_per_mtok(cpm_usd_per_mtok, reasoning_multiplier, rollout_ratio, alpha)
    a = np.asarray(alpha, dtype=float)
    num = np.asarray(cpm_usd_per_mtok, dtype=float) * reasoning_multiplier * (1.0 + np.asarray(rollout_ratio))
    with np.errstate(divide="ignore"):
        return np.where(a > 0, num / np.where(a > 0, a, 1.0), np.inf)


def gap_pct(alpha, chosen, axis: int = -1) -> np.ndarray:
    """Cost-correct gap to the oracle verifier [%]: ``100·(α_{k*}/α_{chosen} - 1)``.

    ``alpha``: (..., K) population accept rates; ``chosen``: (...) indices. The numerator of
    Cost-correct is common to every verifier (§2), so it cancels from the ratio.

    >>> round(float(gap_pct(np.array([0.8, 0.5]), 1)), 6)
    60.0
    """
    a = np.asarray(alpha, dtype=float)
    c = np.asarray(chosen)
    best = np.max(a, axis=axis)
    sel = np.take_along_axis(a, np.expand_dims(c, axis), axis=axis).squeeze(axis)
    return 100.0 * (best / sel - 1.0)


# ----------------------------------------------------------------------------- baselines
def cost_of_quality_usd(alpha, kappa0_usd: float = 1.0, eta: float = 6.0, alpha_floor: float = 0.5):
    """Single-crossing cost of operating at quality α [USD per verification]:
    ``κ(α) = κ0·((α - α_floor)/(1 - α_floor))^η`` for α above the floor (0 below).

    Increasing and, for η > 1, convex: the marginal cost of quality rises with quality,
    which is the single-crossing condition of Theorem 1. Stated assumption, not fitted.
    """
    x = np.clip((np.asarray(alpha, dtype=float) - alpha_floor) / (1.0 - alpha_floor), 0.0, None)
    return kappa0_usd * x**eta


def posted_price_equilibrium(alpha, kappa_usd, value_markup: float = 1.5, max_iter: int | None = None):
    """Posted-price unravelling (Theorem 1, Akerlof): iterate ``p ← mean_{κ_k <= p} v_k``.

    ``alpha``, ``kappa_usd``: (..., K) qualities [-] and reservation costs [USD];
    buyer value ``v_k = value_markup·κ_k`` (trade is efficient for every type, yet the
    buyer can only pay the expected value of the pool that self-selects at the price).
    Starts from the full-pool price and iterates to the fixed point (at most K steps).

    Returns ``(participants, price_path_usd)``: a (..., K) bool mask of the vendors that
    still sell at the equilibrium price, and the (..., steps+1) price trajectory [USD].
    The deployer then buys uniformly among ``participants``.
    """
    a = np.asarray(alpha, dtype=float)
    kap = np.asarray(kappa_usd, dtype=float)
    v = value_markup * kap
    k = a.shape[-1]
    price = v.mean(axis=-1)
    path = [price]
    part = kap <= price[..., None] + 1e-15
    for _ in range(max_iter or k):
        cnt = part.sum(axis=-1)
        # With nobody left, the cheapest type alone is the pool (price covers it by markup >= 1).
        cheapest = kap == kap.min(axis=-1, keepdims=True)
        part = np.where((cnt == 0)[..., None], cheapest, part)
        new = np.where(part, v, 0.0).sum(axis=-1) / part.sum(axis=-1)
        path.append(new)
        new_part = kap <= new[..., None] + 1e-15
        new_part = np.where((new_part.sum(axis=-1) == 0)[..., None], cheapest, new_part)
        if np.array_equal(new_part, part):
            break
        part = new_part
    return part, np.stack(path, axis=-1)


def uniform_among(mask, rng: np.random.Generator) -> np.ndarray:
    """Index drawn uniformly among the True entries of each (..., K) row of ``mask``."""
    m = np.asarray(mask, dtype=bool)
    u = rng.random(m.shape)
    return np.argmax(np.where(m, u, -1.0), axis=-1)


def random_choice(shape, n_vendors: int, rng: np.random.Generator) -> np.ndarray:
    """Random verifier choice baseline: uniform index in [0, K)."""
    return rng.integers(0, n_vendors, size=shape)


def public_benchmark_choice(headline_accuracy) -> np.ndarray:
    """Public-benchmark ranking baseline: argmax of headline accuracy on the public split."""
    return np.argmax(np.asarray(headline_accuracy, dtype=float), axis=-1)


# ----------------------------------------------------------------------------- sample size
def sample_size(n_vendors, epsilon, constant=1.0) -> np.ndarray:
    """Probes needed for an ε gap in α units: ``N = ceil(C²·ln K / ε²)`` (paper 06 §5).

    Natural log, as in the Hoeffding + union bound. With C = 1, K = 16, ε = 0.05 this is
    ceil(1109.04) = 1,110 (paper: ≈1100) and K = 32 gives 1,387 (paper: ≈1400).

    >>> int(sample_size(16, 0.05)), int(sample_size(32, 0.05))
    (1110, 1387)
    """
    k = np.asarray(n_vendors, dtype=float)
    if np.any(k < 2):
        raise InputError("vendors", n_vendors, "K >= 2")
    check_range("epsilon", epsilon, 0.0, 1.0, lo_open=True)
    check_range("constant", constant, 0.0, lo_open=True)
    return np.ceil(np.asarray(constant, dtype=float) ** 2 * np.log(k) / np.asarray(epsilon, dtype=float) ** 2
                   - 1e-9).astype(np.int64)


def implied_constant(n_probes, n_vendors, epsilon) -> np.ndarray:
    """The C that makes ``N = C²·ln K/ε²`` hold: ``C = ε·sqrt(N / ln K)`` [-]."""
    return np.asarray(epsilon, dtype=float) * np.sqrt(np.asarray(n_probes, dtype=float) / np.log(n_vendors))


def hoeffding_epsilon(n_probes, n_vendors, delta=0.05) -> np.ndarray:
    """Uniform deviation bound of §5: ``ε = sqrt((ln K + ln(2/δ)) / (2N))`` [-]."""
    n = np.asarray(n_probes, dtype=float)
    return np.sqrt((np.log(n_vendors) + np.log(2.0 / np.asarray(delta, dtype=float))) / (2.0 * n))


# ----------------------------------------------------------------------------- data mode
def bootstrap_selection(per_probe_scores, n_boot: int = 2000, seed: int = 0, alpha_level: float = 0.05):
    """Bootstrap over probes of the mean scores and of the argmax selection.

    ``per_probe_scores``: (K, N) [score units]. Returns a dict with ``ci_low``/``ci_high``
    (K,) percentile intervals of the mean score, ``p_wrong`` (share of resamples whose
    argmax differs from the full-sample argmax) and ``probes_needed``: the N at which the
    paired difference between the selected vendor and the runner-up would be
    ``z_{0.95}`` standard errors from zero (normal approximation), i.e. where a 5 %
    one-sided wrong-selection probability is reached.
    """
    s = np.asarray(per_probe_scores, dtype=float)
    k, n = s.shape
    rng = np.random.default_rng(seed)
    means = s.mean(axis=1)
    sel = int(np.argmax(means))
    chunks = []
    left = int(n_boot)
    while left > 0:
        b = min(left, max(1, 4_000_000 // max(k * n, 1)))
        idx = rng.integers(0, n, size=(b, n))
        chunks.append(s[:, idx].mean(axis=2).T)  # (b, K)
        left -= b
    boot = np.concatenate(chunks, axis=0)
    lo, hi = np.quantile(boot, [alpha_level / 2, 1 - alpha_level / 2], axis=0)
    p_wrong = float(np.mean(np.argmax(boot, axis=1) != sel))
    order = np.argsort(-means, kind="stable")
    runner = int(order[1])
    d = s[sel] - s[runner]
    gap = float(d.mean())
    sd = float(d.std(ddof=1)) if n > 1 else float("nan")
    z = 1.6448536269514722
    if gap <= 0 or not math.isfinite(sd):
        needed = None
    elif sd == 0:
        needed = n
    else:
        needed = math.ceil((z * sd / gap) ** 2)
    return {"ci_low": lo, "ci_high": hi, "p_wrong": p_wrong, "selected": sel, "runner_up": runner,
            "probes_needed": needed, "more_probes": None if needed is None else max(0, needed - n)}
