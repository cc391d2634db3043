"""Paper 07 §7 probe strategies and the §8 simulation, on a documented generative analogue.

The paper's verifier-pair populations (logistic heads on MATH/GSM8K/HumanEval trajectories)
are not public, so this module simulates a stated analogue and reproduces the §8 findings
*qualitatively*. Every assumption below is ours, not the paper's.

The analogue (one seed)
-----------------------
* **Items.** The deployer's distribution D is a pool of ``M`` correct outputs (ℓ = 1) with a
  latent difficulty ``d ~ N(0, 1)``. The pool *is* D: first-best and regret are computed on it
  exactly, and probes are drawn from it.
* **Verifiers.** Slot s ∈ {1, 2} has ``K_s`` candidates with population accept rates
  ``α_k ~ U(alpha_lo, alpha_hi)`` (default [0.45, 0.55], so that every target coupling in
  ±0.2 is feasible: the Fréchet range at α = 0.5 is ±0.25). Per item,
  ``α_k(x) = Φ(a_k + b·d)`` with ``a_k = Φ⁻¹(α_k)·sqrt(1 + b²)`` (so ``E_x α_k(x) = α_k``)
  and a shared difficulty loading ``b`` [-].
* **Shared-latent coupling (Appendix F analogue).** Within one pipeline run on item x the
  two verifiers read one uniform latent ``U``: slot 2 uses ``U`` (comonotone, C > 0) or
  ``1 − U`` (countermonotone, C < 0) with probability ``λ``, a fresh uniform otherwise. Then
  ``C(x) = λ·C_max(x)`` with ``C_max(x)`` the Fréchet bound at ``(α_1(x), α_2(x))``, so the
  coupling parameter is calibrated in closed form: ``λ = T / E_x C_max(x)`` for the pair's
  target within-instance covariance ``T`` (clipped to [0, 1]; clipping is reported).
* **Covariance grid.** Pair ``(k1, k2)`` gets ``T = C̄·w`` with ``w ~ U(0, 1)`` per pair, so
  ``C̄`` is the largest coupling on the grid ``{−0.2, −0.1, 0, 0.1, 0.2}`` and pairs differ in
  their joint law while their marginals stay fixed — the Theorem 2 situation.
* **Runs.** Every pipeline run and every single-verifier run draws fresh within-instance
  randomness, so the AND outcome of pair (k1, k2) on item x is Bernoulli(``α1(x)α2(x) + C(x)``)
  (Theorem 1) and a single verifier's decision is Bernoulli(``α_k(x)``).

Mechanisms (selection rules)
----------------------------
* ``per_verifier`` (§4): paper 06's mechanism per slot — argmax of each slot's empirical
  accept rate on the probes (the Brier score of decisions against ℓ = 1 is ``−(1 − α̂)``) —
  then composed. It ignores the coupling, so it behaves identically in both regimes.
* ``joint`` (§5, Thm 4 rule), C̄ **unknown**: argmax over pairs of the empirical pipeline
  accept rate (mean AND outcome on the probes).
* ``joint``, C̄ **known** (side channel): the pair's population coupling
  ``C_pair = α^pipe(D) − α1(D)α2(D)`` is supplied; ``α̂^pipe = α̂1·α̂2 + C_pair`` with the
  marginals estimated from single-verifier runs on the probes.

Probe strategies (§7), all as importance sampling from the pool with Horvitz–Thompson
weights so that the estimates stay unbiased for D (Theorem 4 assumes ``α^pipe(P) = α^pipe(D)``):
the sampling score of item x uses the candidates' truthful *reports* (probabilities, not
outcomes), mixed with ``floor`` of its mean so no weight explodes.

* ``uniform`` — iid from D (reference; Theorem 4's setting).
* ``marginal`` (marginal-disagreement) — mean per-slot accept/reject entropy
  ``mean_k H(α_k(x))`` summed over the two slots.
* ``joint`` (joint-disagreement) — entropy [bits] of the pairs' mean joint report over the
  four cells ``{0,1}²``.
* ``rare`` (conditional-rare-event) — ``mean |C_pair(x)|`` over the focal cross (the
  per-slot marginal leaders f1, f2 by their reports, and every pair that shares one of them:
  K1 + K2 − 1 pairs): items where ``P(V1 = 1, V2 = 0 | x)`` departs most from independence.

Construction cost [USD] (stated assumptions; :func:`probe_construction_cost_usd`): every
probe costs ``γ`` to label; scoring a pool item for selection costs one query per report the
score needs — ``marginal`` reuses a paper-06 probe set whose per-slot reports already exist
(0 extra queries), ``joint`` needs every pair's joint report (``K1·K2`` per pool item),
``rare`` the focal cross's (``K1 + K2 − 1``).

Everything in a cell is vectorised over pairs and probes; each seed has its own generator,
so results do not depend on seed chunking. The grid runs through
:func:`costcorrect.verification.runner.run_grid`.
"""

from __future__ import annotations

import zlib
from dataclasses import asdict, dataclass, replace

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from costcorrect.errors import InputError, check_range

STRATEGIES = ("uniform", "marginal", "joint", "rare")
PAPER_STRATEGIES = ("marginal", "joint", "rare")
REGIMES = ("unknown", "known")
MECHANISMS = ("per_verifier", "joint")
PAPER_K = (4, 8, 16)
PAPER_N = (16, 64, 256, 1024, 4096)
PAPER_CBAR = (-0.2, -0.1, 0.0, 0.1, 0.2)
TARGET_GAP_PCT = 5.0  # the "5 %-of-first-best" operational target [%]

#: §8 numbers as printed (K1 = K2 = 16 unless stated) [probes or %].
PAPER_FINDINGS = {
    "identity_r2": {"math": 0.997, "gsm8k": 0.994, "humaneval": 0.981},
    "per_verifier_n_at_cbar0": 256,
    "joint_unknown_n": {"math": 512, "gsm8k": 512, "humaneval": 1024},
    "joint_known_n": {"math": 256, "gsm8k": 256, "humaneval": 384},
    "per_verifier_plateau_pct_cbar01": 12.0,
    "coupling_match_tol": 0.02,
}


# ----------------------------------------------------------------------------- §7 strategies
def binary_entropy_bits(p):
    """``H(p)`` [bits], 0 at p ∈ {0, 1}."""
    p = np.clip(np.asarray(p, dtype=float), 1e-12, 1 - 1e-12)
    return -(p * np.log2(p) + (1 - p) * np.log2(1 - p))


def joint_cells(a1, a2, c):
    """Cell probabilities ``(q00, q01, q10, q11)`` [-] on the last axis from α1(x), α2(x), C(x)."""
    q11 = a1 * a2 + c
    return np.stack([1 - a1 - a2 + q11, a2 - q11, a1 - q11, q11], axis=-1)


def strategy_scores(strategy: str, a1x, a2x, cx, focal: tuple[int, int] | None = None) -> np.ndarray:
    """Sampling score per pool item for a §7 strategy [-], shape ``(M,)``.

    ``a1x`` ``(K1, M)``, ``a2x`` ``(K2, M)``: slot candidates' reported accept probabilities;
    ``cx`` ``(K1, K2, M)``: pairs' reported within-instance couplings ``C(x)``; ``focal``:
    the focal pair for ``rare`` (default: the marginal leaders by mean report).
    """
    if strategy not in STRATEGIES:
        raise InputError("strategy", strategy, "one of " + ", ".join(STRATEGIES))
    m = a1x.shape[-1]
    if strategy == "uniform":
        return np.ones(m)
    if strategy == "marginal":
        return binary_entropy_bits(a1x).mean(0) + binary_entropy_bits(a2x).mean(0)
    if strategy == "joint":
        q = joint_cells(a1x[:, None, :], a2x[None, :, :], cx).mean(axis=(0, 1))  # (M, 4)
        q = np.clip(q, 1e-12, 1.0)
        return -(q * np.log2(q)).sum(-1)
    f1, f2 = focal if focal is not None else (int(np.argmax(a1x.mean(1))), int(np.argmax(a2x.mean(1))))
    cross = np.abs(cx[:, f2, :]).sum(0) + np.abs(cx[f1, :, :]).sum(0) - np.abs(cx[f1, f2, :])
    return cross / (cx.shape[0] + cx.shape[1] - 1)


def sampling_probs(scores, floor: float = 0.1) -> np.ndarray:
    """Importance-sampling probabilities ``π ∝ s + floor·mean(s)`` [-] (uniform if all s = 0)."""
    s = np.asarray(scores, dtype=float)
    check_range("floor", floor, 0.0)
    s = s + floor * s.mean()
    tot = s.sum()
    return np.full(s.size, 1.0 / s.size) if tot <= 0 else s / tot


def probe_construction_cost_usd(strategy: str, n_probes, gamma_usd_per_probe: float, k1: int, k2: int,
                                query_usd: float = 0.0, pool_factor: float = 4.0):
    """Cost of building ``N`` joint probes [USD] (§7, stated assumptions).

    ``N·γ`` labelling plus ``pool_factor·N`` scored pool items × queries per item:
    uniform 0, marginal 0 (reuses paper 06's per-slot reports), joint ``K1·K2``,
    rare ``K1 + K2 − 1`` (the focal cross), at ``query_usd`` per query.
    """
    if strategy not in STRATEGIES:
        raise InputError("strategy", strategy, "one of " + ", ".join(STRATEGIES))
    check_range("gamma_usd_per_probe", gamma_usd_per_probe, 0.0)
    check_range("query_usd", query_usd, 0.0)
    for name, k in (("k1", k1), ("k2", k2)):
        if int(k) < 1:
            raise InputError(name, k, "an integer >= 1")
    per_item = {"uniform": 0, "marginal": 0, "joint": int(k1) * int(k2), "rare": int(k1) + int(k2) - 1}[strategy]
    n = np.asarray(n_probes, dtype=float)
    return n * gamma_usd_per_probe + n * pool_factor * per_item * query_usd


def prop2_ratio_bound(k1, k2) -> np.ndarray:
    """Proposition 2: worst-case unknown/known probe-budget ratio ``sqrt(K1K2/(K1+K2))`` [-].

    >>> round(float(prop2_ratio_bound(16, 16)), 3)
    2.828
    """
    a, b = np.asarray(k1, dtype=float), np.asarray(k2, dtype=float)
    if np.any(a < 1) or np.any(b < 1):
        raise InputError("k1, k2", (k1, k2), "K1, K2 >= 1")
    return np.sqrt(a * b / (a + b))


def prop3_factor(k1, k2) -> np.ndarray:
    """Proposition 3: regret-constant reduction of rare-event vs marginal probes ``sqrt(min(K1, K2))`` [-]."""
    a, b = np.asarray(k1, dtype=float), np.asarray(k2, dtype=float)
    if np.any(a < 1) or np.any(b < 1):
        raise InputError("k1, k2", (k1, k2), "K1, K2 >= 1")
    return np.sqrt(np.minimum(a, b))


# ----------------------------------------------------------------------------- configuration
@dataclass(frozen=True)
class CompSimConfig:
    """Knobs of the §8 analogue (defaults are the documented ones)."""

    ks: tuple[int, ...] = PAPER_K
    ns: tuple[int, ...] = (16, 32, 64, 128, 256, 512, 1024, 2048, 4096)
    cbars: tuple[float, ...] = PAPER_CBAR
    strategies: tuple[str, ...] = STRATEGIES
    pool_size: int = 8192  # M: items of D per seed [items]
    alpha_lo: float = 0.45  # slot accept rates ~ U(alpha_lo, alpha_hi) [-]
    alpha_hi: float = 0.55
    loading: float = 0.4  # b: difficulty loading of every verifier [-]
    floor: float = 0.1  # defensive mixture of the importance sampler [-]
    gamma_usd_per_probe: float = 0.5  # labelling cost per probe [USD]
    query_usd: float = 0.001  # one report query on a pool item [USD]
    identity_seeds: int = 5  # seeds per cell that emit the per-pair identity rows
    base_seed: int = 2607

    def with_(self, **kw) -> CompSimConfig:
        return replace(self, **kw)


QUICK = CompSimConfig(ks=(4, 8), ns=(16, 64, 256, 1024), cbars=(0.0, 0.2))


def _check_cfg(cfg: CompSimConfig) -> None:
    for s in cfg.strategies:
        if s not in STRATEGIES:
            raise InputError("strategy", s, "one of " + ", ".join(STRATEGIES))
    for c in cfg.cbars:
        check_range("cbar", c, -0.25, 0.25)
    for k in cfg.ks:
        if int(k) < 2:
            raise InputError("K", k, "an integer >= 2")
    if min(cfg.ns) < 1 or max(cfg.ns) > 65536:
        raise InputError("N", list(cfg.ns), "probe budgets in [1, 65536]")
    check_range("alpha_lo", cfg.alpha_lo, 0.0, 1.0, lo_open=True)
    check_range("alpha_hi", cfg.alpha_hi, cfg.alpha_lo, 1.0, hi_open=True)


# ----------------------------------------------------------------------------- one seed
def _frechet_cmax(a1, a2, sign: float):
    """Fréchet bound of ``C`` at marginals a1, a2 in the direction of ``sign`` [-]."""
    if sign >= 0:
        return np.minimum(a1, a2) - a1 * a2
    return np.maximum(0.0, a1 + a2 - 1.0) - a1 * a2


def population(cfg: CompSimConfig, k1: int, k2: int, cbar: float, rng: np.random.Generator) -> dict:
    """One seed's verifier-pair population on its pool (see the module docstring).

    Returns ``a1x`` (K1, M), ``a2x`` (K2, M), ``cx`` (K1, K2, M) [-], ``target`` (K1, K2)
    [-], ``lam`` (K1, K2) [-], ``clipped`` (bool), and the population rates on D:
    ``alpha1`` (K1,), ``alpha2`` (K2,), ``alpha_pipe`` (K1, K2), ``coupling`` (K1, K2)
    (``α^pipe − α1α2``) and ``within`` (K1, K2) (``E_x C(x)``).
    """
    m, b = cfg.pool_size, cfg.loading
    d = rng.standard_normal(m)
    al1 = rng.uniform(cfg.alpha_lo, cfg.alpha_hi, k1)
    al2 = rng.uniform(cfg.alpha_lo, cfg.alpha_hi, k2)
    w = rng.random((k1, k2))
    s = np.sqrt(1 + b * b)
    a1x = ndtr(ndtri(al1)[:, None] * s + b * d[None, :])
    a2x = ndtr(ndtri(al2)[:, None] * s + b * d[None, :])
    target = cbar * w
    cmax = _frechet_cmax(a1x[:, None, :], a2x[None, :, :], cbar)  # (K1, K2, M)
    mean_cmax = cmax.mean(-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        lam_raw = np.where(np.abs(mean_cmax) > 0, target / mean_cmax, 0.0)
    lam = np.clip(lam_raw, 0.0, 1.0)
    cx = lam[..., None] * cmax
    pipe_x = a1x[:, None, :] * a2x[None, :, :] + cx
    alpha1, alpha2 = a1x.mean(1), a2x.mean(1)
    alpha_pipe = pipe_x.mean(-1)
    return {"a1x": a1x, "a2x": a2x, "cx": cx, "pipe_x": pipe_x, "target": target, "lam": lam,
            "clipped": bool(np.any(lam_raw > 1.0 + 1e-12)), "alpha1": alpha1, "alpha2": alpha2,
            "alpha_pipe": alpha_pipe, "coupling": alpha_pipe - np.outer(alpha1, alpha2),
            "within": cx.mean(-1), "prod_x": (a1x[:, None, :] * a2x[None, :, :]).mean(-1)}


def _rng(cfg: CompSimConfig, k1: int, k2: int, cbar: float, seed: int, stream: str) -> np.random.Generator:
    return np.random.default_rng([cfg.base_seed, k1, k2, round(1000 * cbar) + 1000, int(seed),
                                  zlib.crc32(stream.encode())])


def _cum_means(x, weights, ns):
    """HT means of ``x`` (..., Nmax) with ``weights`` (Nmax,) at every prefix length in ns: (len(ns), ...)."""
    c = np.cumsum(x * weights, axis=-1, dtype=np.float64)
    idx = np.asarray(ns) - 1
    return np.moveaxis(c[..., idx] / np.asarray(ns, dtype=float), -1, 0)


def simulate_cell(params: dict, seeds: np.ndarray) -> pd.DataFrame:
    """Every N × strategy × mechanism × regime for one ``(K1, K2, C̄)`` cell, seed by seed.

    ``params``: ``{"K1", "K2", "cbar", "config"}`` (``config`` a :class:`CompSimConfig` as a
    dict, optional). Rows: ``mechanism`` (per_verifier | joint | identity), ``regime``
    (unknown | known), ``strategy``, ``N``, ``seed``, ``gap_pct`` [% Cost-correct gap to
    first-best, ``α*/α_sel − 1``], ``alpha_gap`` [-], ``correct``, ``construction_usd`` [USD].
    ``identity`` rows (first ``identity_seeds`` seeds, one per pair): ``predicted``
    (``E_x[α1(x)α2(x)] + E_x C(x)``, Theorem 1 averaged over D), ``observed`` (AND
    frequency of ``Nmax`` uniform pipeline runs) and ``coupling_error`` (realised within-
    instance covariance minus target).
    """
    cfg = CompSimConfig(**params["config"]) if params.get("config") else CompSimConfig()
    _check_cfg(cfg)
    k1, k2, cbar = int(params["K1"]), int(params["K2"]), float(params["cbar"])
    ns = np.asarray(sorted(int(n) for n in cfg.ns))
    nmax = int(ns[-1])
    frames = []
    for seed in np.asarray(seeds, dtype=np.int64):
        pop = population(cfg, k1, k2, cbar, _rng(cfg, k1, k2, cbar, seed, "pop"))
        best = pop["alpha_pipe"].max()
        a_flat = pop["alpha_pipe"].ravel()
        cpair = pop["coupling"]
        rows = {key: [] for key in ("mechanism", "regime", "strategy", "N", "chosen", "construction_usd")}

        def add(mech, regime, strat, chosen_flat, cost, rows=rows):
            rows["mechanism"].extend([mech] * ns.size)
            rows["regime"].extend([regime] * ns.size)
            rows["strategy"].extend([strat] * ns.size)
            rows["N"].extend(ns.tolist())
            rows["chosen"].extend(np.asarray(chosen_flat).tolist())
            rows["construction_usd"].extend(np.asarray(cost, dtype=float).tolist())

        if seed < cfg.identity_seeds:
            rng = _rng(cfg, k1, k2, cbar, seed, "identity")
            idx = rng.integers(0, cfg.pool_size, nmax)
            prod = (pop["a1x"][:, None, idx] * pop["a2x"][None, :, idx]).reshape(k1 * k2, nmax)
            and_out = rng.random((k1 * k2, nmax)) < pop["pipe_x"][:, :, idx].reshape(k1 * k2, nmax)
            frames.append(pd.DataFrame({
                "mechanism": "identity", "regime": "none", "strategy": "uniform", "N": nmax, "seed": seed,
                "pair": np.arange(k1 * k2), "predicted": (pop["prod_x"] + pop["within"]).ravel(),
                "observed": and_out.mean(-1), "coupling_error": (and_out - prod).mean(-1) - pop["target"].ravel(),
                "target": pop["target"].ravel(), "clipped": pop["clipped"]}))
        for strat in cfg.strategies:
            rng = _rng(cfg, k1, k2, cbar, seed, strat)
            pi = sampling_probs(strategy_scores(strat, pop["a1x"], pop["a2x"], pop["cx"]), cfg.floor)
            idx = rng.choice(pi.size, size=nmax, replace=True, p=pi)
            wts = 1.0 / (pi.size * pi[idx])
            p_and = pop["pipe_x"][:, :, idx].reshape(k1 * k2, nmax)
            and_out = rng.random((k1 * k2, nmax), dtype=np.float32) < p_and
            d1 = rng.random((k1, nmax), dtype=np.float32) < pop["a1x"][:, idx]
            d2 = rng.random((k2, nmax), dtype=np.float32) < pop["a2x"][:, idx]
            e_pipe = _cum_means(and_out, wts, ns)  # (nN, P)
            e1, e2 = _cum_means(d1, wts, ns), _cum_means(d2, wts, ns)  # (nN, K1), (nN, K2)
            cost = probe_construction_cost_usd(strat, ns, cfg.gamma_usd_per_probe, k1, k2, cfg.query_usd)
            pv = np.argmax(e1, axis=1) * k2 + np.argmax(e2, axis=1)
            add("per_verifier", "unknown", strat, pv, cost)
            add("per_verifier", "known", strat, pv, cost)
            add("joint", "unknown", strat, np.argmax(e_pipe, axis=1), cost)
            known = e1[:, :, None] * e2[:, None, :] + cpair[None]
            add("joint", "known", strat, np.argmax(known.reshape(ns.size, -1), axis=1), cost)
        chosen = np.asarray(rows.pop("chosen"))
        a_sel = a_flat[chosen]
        df = pd.DataFrame(rows)
        df["seed"] = int(seed)
        df["gap_pct"] = 100.0 * (best / a_sel - 1.0)
        df["alpha_gap"] = best - a_sel
        df["correct"] = a_sel >= best - 1e-15
        df["coupling_spread"] = float(cpair.max() - cpair.min())
        frames.append(df)
    out = pd.concat(frames, ignore_index=True)
    out["K1"], out["K2"], out["cbar"] = k1, k2, cbar
    return out


# ----------------------------------------------------------------------------- the sweep
def sweep_grid(cfg: CompSimConfig) -> list[dict]:
    """Cells ``(K1, K2, C̄)`` of the §8 grid (largest K1·K2 first, for load balance)."""
    _check_cfg(cfg)
    conf = asdict(cfg)
    cells = [{"K1": a, "K2": b, "cbar": c, "config": conf} for a in cfg.ks for b in cfg.ks for c in cfg.cbars]
    return sorted(cells, key=lambda c: -c["K1"] * c["K2"])


def run_sweep(cfg: CompSimConfig | None = None, *, seeds: int = 200, backend: str = "local",
              workers: int | None = None, out_dir=None, progress: bool = False,
              seed_chunk: int | None = None) -> pd.DataFrame:
    """Run the §8 grid through :func:`runner.run_grid`; returns the per-seed frame."""
    from costcorrect.verification.runner import run_grid

    cfg = cfg or CompSimConfig()
    df = run_grid(simulate_cell, sweep_grid(cfg), seeds=seeds, seed_chunk=seed_chunk or max(1, min(seeds, 50)),
                  backend=backend, workers=workers, out_dir=out_dir, progress=progress, tag="paper07-s8-v1")
    return df.drop(columns=["config"], errors="ignore")


# ----------------------------------------------------------------------------- summaries
def summarize(df: pd.DataFrame) -> pd.DataFrame:
    """Mean gap (and 95 % CI half-width) over seeds per (K1, K2, C̄, mechanism, regime, strategy, N)."""
    s = df[df["mechanism"] != "identity"]
    keys = ["K1", "K2", "cbar", "mechanism", "regime", "strategy", "N"]
    out = s.groupby(keys, sort=True).agg(gap_pct=("gap_pct", "mean"), gap_sd=("gap_pct", "std"),
                                         alpha_gap=("alpha_gap", "mean"), p_correct=("correct", "mean"),
                                         construction_usd=("construction_usd", "mean"),
                                         seeds=("seed", "nunique")).reset_index()
    out["gap_ci95"] = 1.96 * out["gap_sd"].fillna(0.0) / np.sqrt(out["seeds"])
    return out.drop(columns="gap_sd")


def n_to_target(summary: pd.DataFrame, *, mechanism: str, regime: str, strategy: str, cbar, k1: int = 16,
                k2: int = 16, target_pct: float = TARGET_GAP_PCT) -> int | None:
    """Smallest N whose mean gap is ≤ target (and stays so at every larger N); None if never.

    ``cbar`` a value or a list (then every listed C̄ must meet the target at that N).
    """
    cb = [cbar] if np.isscalar(cbar) else list(cbar)
    s = summary[(summary["mechanism"] == mechanism) & (summary["regime"] == regime)
                & (summary["strategy"] == strategy) & (summary["K1"] == k1) & (summary["K2"] == k2)
                & (summary["cbar"].isin(cb))]
    if s.empty:
        return None
    worst = s.groupby("N")["gap_pct"].max().sort_index()
    ok = (worst <= target_pct).to_numpy()
    ns = worst.index.to_numpy()
    for i in range(ok.size):
        if ok[i:].all():
            return int(ns[i])
    return None


def identity_fit(df: pd.DataFrame) -> dict:
    """Finding 1: R² of observed vs predicted pipeline rates on y = x, and the coupling match."""
    from costcorrect.verification.composition import identity_r2

    idn = df[df["mechanism"] == "identity"]
    if idn.empty:
        raise InputError("results", "no identity rows", "a sweep with identity_seeds >= 1")
    err = idn["coupling_error"].abs()
    return {"r2": identity_r2(idn["predicted"].to_numpy(), idn["observed"].to_numpy()),
            "pairs": len(idn), "coupling_error_max": float(err.max()),
            "coupling_error_p95": float(err.quantile(0.95)),
            "share_within_0_02": float((err <= 0.02).mean()),
            "clipped_share": float(idn.groupby(["K1", "K2", "cbar", "seed"])["clipped"].first().mean())}


def findings(df: pd.DataFrame, k: int | None = None, strategy: str = "rare") -> dict:
    """The four §8 headline findings (and the cross-paper plateau) as computed on ``df``.

    ``k``: the K1 = K2 cell used (default 16, else the largest present).
    """
    s = summarize(df)
    ks = sorted(set(s["K1"]) & set(s["K2"]))
    k = k if k is not None else (16 if 16 in ks else ks[-1])
    cbars = sorted(s["cbar"].unique())
    nz = [c for c in cbars if abs(c) >= 0.1 - 1e-9]
    strat = strategy if strategy in set(s["strategy"]) else sorted(s["strategy"].unique())[0]

    def gap(mech, regime, cb, n, st=strat):
        r = s[(s["mechanism"] == mech) & (s["regime"] == regime) & (s["strategy"] == st) & (s["K1"] == k)
              & (s["K2"] == k) & (np.isclose(s["cbar"], cb)) & (s["N"] == n)]
        return float(r["gap_pct"].iloc[0]) if len(r) else None

    nmax = int(s["N"].max())
    strategies = sorted(s["strategy"].unique())
    pv_never = {float(c): n_to_target(s, mechanism="per_verifier", regime="unknown", strategy=strat, cbar=c,
                                      k1=k, k2=k) for c in nz}
    out = {
        "K": k, "strategy": strat, "n_max": nmax,
        "identity": identity_fit(df),
        "per_verifier_n_to_target": pv_never,
        "per_verifier_n_at_cbar0": (n_to_target(s, mechanism="per_verifier", regime="unknown", strategy=strat,
                                                cbar=0.0, k1=k, k2=k) if 0.0 in cbars else None),
        "per_verifier_gap_at_nmax": {float(c): gap("per_verifier", "unknown", c, nmax) for c in cbars},
        "joint_unknown_n": n_to_target(s, mechanism="joint", regime="unknown", strategy=strat, cbar=cbars, k1=k, k2=k),
        "joint_known_n": n_to_target(s, mechanism="joint", regime="known", strategy=strat, cbar=cbars, k1=k, k2=k),
        "joint_unknown_n_by_strategy": {st: n_to_target(s, mechanism="joint", regime="unknown", strategy=st,
                                                        cbar=cbars, k1=k, k2=k) for st in strategies},
        "joint_known_n_by_strategy": {st: n_to_target(s, mechanism="joint", regime="known", strategy=st,
                                                      cbar=cbars, k1=k, k2=k) for st in strategies},
    }
    if 0.1 in cbars:
        curve = s[(s["mechanism"] == "per_verifier") & (s["regime"] == "unknown") & (s["strategy"] == strat)
                  & (s["K1"] == k) & (s["K2"] == k) & np.isclose(s["cbar"], 0.1)].sort_values("N")
        out["per_verifier_curve_cbar01"] = dict(zip(curve["N"].astype(int), curve["gap_pct"].astype(float),
                                                    strict=True))
        jc = s[(s["mechanism"] == "joint") & (s["regime"] == "unknown") & (s["strategy"] == strat)
               & (s["K1"] == k) & (s["K2"] == k) & np.isclose(s["cbar"], 0.1)].sort_values("N")
        out["joint_curve_cbar01"] = dict(zip(jc["N"].astype(int), jc["gap_pct"].astype(float), strict=True))
    u, kn = out["joint_unknown_n"], out["joint_known_n"]
    out["unknown_over_known"] = (u / kn) if (u and kn) else None
    # Proposition 3 analogue: joint-unknown regret at the largest K, marginal vs rare-event probes.
    a = s[(s["mechanism"] == "joint") & (s["regime"] == "unknown") & (s["K1"] == k) & (s["K2"] == k)]
    by = a.groupby("strategy")["alpha_gap"].mean()
    out["regret_ratio_marginal_over_rare"] = (float(by["marginal"] / by["rare"])
                                              if {"marginal", "rare"} <= set(by.index) and by["rare"] > 0 else None)
    return out
