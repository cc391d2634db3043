"""The §7 simulation of paper 06 as a seed-vectorised sweep, on a documented generative
analogue of the paper's (non-public) verifier populations.

The analogue (see docs/verifier-procurement.md for the full statement)
-------------------------------------------------------------------
Per dataset analogue (``math``, ``gsm8k``, ``humaneval``) and seed:

* Items have F = 3 standardised trajectory features ``x ~ N(0, I)`` on the deployer's
  distribution D (length-normalised log-prob, step count, self-consistency agreement), a
  program-length flag ``L ~ Bernoulli(π)`` and a label ``ℓ ~ Bernoulli(σ(b* + w*·x))``: the
  latent difficulty is ``-(b* + w*·x)``.
* Verifier k is a logistic head calibrated on a fraction ``β_k`` of held-out data, with the
  β spaced log-uniformly in ``[0.05, 1]`` (``geomspace``). Its head's weights carry the
  estimation error of a fit on ``β_k·n_cal`` examples, ``δ ~ N(0, v/(β_k n_cal))``, and its
  signal carries item-level noise ``τ_k = τ_max·ln β_k / ln 0.05`` (0 at β = 1): the less
  calibration data, the noisier. The family is calibration-monotone in β.
* Reports are the verifier's calibrated posterior ``p = σ(s / sqrt(1 + π τ²/8))`` (probit
  approximation), i.e. truthful reports (Theorem 2 makes truth dominant). It accepts when
  ``p >= θ``.
* ``α_k(D)`` — the population accept-rate-at-threshold the deployer cares about, i.e. the
  probability the verifier's decision matches the label — is computed by Rao–Blackwellised
  Monte Carlo on ``n_pop`` fresh items (exact in the item noise and the label).
* Calibration-monotone violation switch (on for ``humaneval``): ``round(K/8)`` verifiers
  near the 25th β-percentile are excellent on long programs and poor on short ones; the
  public split is mostly long programs, the deployer's distribution mostly short.
* The public benchmark is the headline accuracy averaged over thresholds 0.3…0.7 on a split
  shifted in the features (and in the long-program share).

Baselines: random choice; posted price (Theorem 1 unravelling with a single-crossing cost of
quality, buying uniformly among those who still sell); public-benchmark ranking. Probe
strategies: uniform, maximin entropy and hard-instance mining (bootstrap verifier with
β = 0.05) from a pool of ``pool_factor·N`` items.

Everything inside a cell is vectorised over seeds and verifiers; each seed's randomness
comes from its own generator, so results do not depend on chunking (and a naive per-seed
loop reproduces them exactly). The grid runs through :func:`costcorrect.verification.runner.run_grid`.
"""

from __future__ import annotations

import zlib
from dataclasses import asdict, dataclass, field, replace

import numpy as np
import pandas as pd
from scipy.special import expit, logit, ndtr

from costcorrect.errors import InputError
from costcorrect.verification import probes as pr
from costcorrect.verification.mechanism import cost_of_quality_usd, gap_pct, payment_constants, posted_price_equilibrium
from costcorrect.verification.rules import RULES, score

# ----------------------------------------------------------------------------- configuration
PAPER_K = (4, 8, 16, 32)
PAPER_N = (16, 64, 256, 1024, 4096)
PAPER_RULES = ("brier", "quadratic", "log")
PAPER_STRATEGIES = ("uniform", "maximin", "hard")
BASELINES = ("random", "posted_price", "public_benchmark")
MECHANISM_ORDER = ("oracle", "random", "posted_price", "public_benchmark", "scoring_rule")

#: Paper 06 Table 1 (K = 16, N = 256, maximin-entropy probes, 200 seeds) [% gap to oracle].
PAPER_TABLE1 = {
    "oracle": {"math": 0.0, "gsm8k": 0.0, "humaneval": 0.0},
    "random": {"math": 27.4, "gsm8k": 25.1, "humaneval": 31.8},
    "posted_price": {"math": 30.6, "gsm8k": 28.9, "humaneval": 34.2},
    "public_benchmark": {"math": 5.8, "gsm8k": 4.1, "humaneval": 18.4},
    "scoring_rule": {"math": 4.7, "gsm8k": 4.9, "humaneval": 6.4},
}


@dataclass(frozen=True)
class DatasetAnalogue:
    """Generative stand-in for one of the paper's datasets (stated assumptions, not fitted)."""

    name: str
    base_logit: float  # b*: intercept of the label model [logit]
    weights: tuple[float, float, float]  # w*: feature loadings [logit per SD]
    public_shift: tuple[float, float, float]  # feature mean shift on the public split [SD]
    long_share_deploy: float = 0.5  # π on D [-]
    long_share_public: float = 0.5  # π on the public split [-]
    monotone_violation: bool = False  # the switch: some verifiers violate calibration-monotonicity
    hidden_weight: float = 2.5  # w_h: load of a long-program-only signal h that only violators read [logit per SD]


DATASETS = {
    "math": DatasetAnalogue("math", -0.3, (1.1, -0.6, 1.4), (0.4, -0.3, 0.3)),
    "gsm8k": DatasetAnalogue("gsm8k", 0.9, (1.2, -0.4, 1.5), (0.3, -0.2, 0.2)),
    "humaneval": DatasetAnalogue("humaneval", 0.2, (1.0, -0.5, 1.3), (0.3, 0.3, 0.2),
                                 long_share_deploy=0.25, long_share_public=0.8, monotone_violation=True),
}


@dataclass(frozen=True)
class SimConfig:
    """Knobs of the analogue (defaults are the documented ones)."""

    ks: tuple[int, ...] = PAPER_K
    ns: tuple[int, ...] = PAPER_N
    rules: tuple[str, ...] = PAPER_RULES
    strategies: tuple[str, ...] = PAPER_STRATEGIES
    datasets: tuple[str, ...] = ("math", "gsm8k", "humaneval")
    beta_min: float = 0.05  # smallest calibration fraction [-]
    tau_max: float = 6.0  # item-level signal noise at β_min [logit]
    n_cal: int = 2000  # calibration examples at β = 1 [items]
    est_var: float = 5.0  # inverse-Fisher scale of the head's estimation error [-]
    theta: float = 0.5  # deployer's acceptance threshold on p [-]
    public_thresholds: tuple[float, ...] = (0.3, 0.4, 0.5, 0.6, 0.7)
    n_pop: int = 2048  # items for the Rao–Blackwellised α_k(D) and public accuracy
    pool_factor: int = 4  # candidate pool = pool_factor·N items
    bootstrap_beta: float = 0.05  # calibration fraction of the hard-mining bootstrap verifier
    kappa0_usd: float = 1.0  # cost-of-quality scale [USD per verification]
    kappa_eta: float = 6.0  # cost-of-quality convexity [-]
    value_markup: float = 1.5  # buyer value / seller cost [-]
    per_probe_cap_usd: float = 0.005  # scoring-rule payment cap per probe per vendor [USD]
    gamma_usd_per_probe: float = 0.5  # in-house construction cost of one labelled probe [USD]
    monotone_violation: bool | None = None  # None: each dataset's own switch; True/False forces
    base_seed: int = 2026

    def with_(self, **kw) -> SimConfig:
        return replace(self, **kw)


QUICK = SimConfig()


# ----------------------------------------------------------------------------- one seed's draws
@dataclass
class _Draws:
    arrays: dict = field(default_factory=dict)


def _rng(cfg: SimConfig, ds: str, k: int, seed: int) -> np.random.Generator:
    return np.random.default_rng([cfg.base_seed, zlib.crc32(ds.encode()), k, int(seed)])


def _draw(cfg: SimConfig, ds: str, k: int, m_max: int, seed: int) -> dict:
    rng = _rng(cfg, ds, k, seed)
    d = DATASETS[ds]
    f = len(d.weights)
    beta = np.geomspace(cfg.beta_min, 1.0, k)
    sd = np.sqrt(cfg.est_var / (beta * cfg.n_cal))
    sd0 = np.sqrt(cfg.est_var / (cfg.bootstrap_beta * cfg.n_cal))
    return {
        "dw": rng.standard_normal((k, f)) * sd[:, None],
        "db": rng.standard_normal(k) * sd,
        "x_pop": rng.standard_normal((cfg.n_pop, f)),
        "l_pop": rng.random(cfg.n_pop) < d.long_share_deploy,
        "x_pub": rng.standard_normal((cfg.n_pop, f)) + np.asarray(d.public_shift),
        "l_pub": rng.random(cfg.n_pop) < d.long_share_public,
        "h_pop": rng.standard_normal(cfg.n_pop),
        "h_pub": rng.standard_normal(cfg.n_pop),
        "h_pool": rng.standard_normal(m_max),
        "x_pool": rng.standard_normal((m_max, f)),
        "l_pool": rng.random(m_max) < d.long_share_deploy,
        "u_lab": rng.random(m_max),
        "eps": rng.standard_normal((k, m_max)),
        "dw0": rng.standard_normal(f) * sd0,
        "db0": rng.standard_normal() * sd0,
        "eps0": rng.standard_normal(m_max),
        "tie": rng.random(m_max),
        "u_rand": rng.integers(0, k),
        "u_post": rng.random(k),
    }


def _stack(draws: list[dict]) -> dict:
    return {key: np.stack([dd[key] for dd in draws]) for key in draws[0]}


# ----------------------------------------------------------------------------- model pieces
def verifier_noise(k: int, cfg: SimConfig, violation: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(tau_short, tau_long, violators)`` [logit], (K,) each: item-level signal noise on short
    and long programs, and the mask of calibration-monotone violators."""
    beta = np.geomspace(cfg.beta_min, 1.0, k)
    tau = cfg.tau_max * np.log(beta) / np.log(cfg.beta_min)
    ts, tl = tau.copy(), tau.copy()
    viol = np.zeros(k, dtype=bool)
    if violation:
        n_v = max(1, round(k / 8))
        start = int(0.25 * k)
        idx = np.arange(start, min(start + n_v, k - 1))
        viol[idx] = True
        ts[idx] = cfg.tau_max  # poor on short programs
        tl[idx] = tau[-1]  # as good as the best head on long programs
    return ts, tl, viol


def _probit_scale(tau):
    return np.sqrt(1.0 + np.pi * np.asarray(tau) ** 2 / 8.0)


def _accept_prob(mean_logit, tau, threshold):
    """P(p >= threshold | x) for signal ``s = mean_logit + τ·ε`` and report ``σ(s/c(τ))``."""
    cut = logit(threshold) * _probit_scale(tau)
    t = np.maximum(tau, 1e-6)
    return ndtr((mean_logit - cut) / t)


def _head_logits(x, long_flag, h, w, b, wh, viol):
    """(S, K, M) head logits ``b_k + w_k·x`` (+ ``w_h·h`` on long programs for the violators,
    who read the long-program-only signal) for x (S, M, F), w (S, K, F), b (S, K)."""
    m = np.einsum("smf,skf->skm", x, w, optimize=True) + b[..., None]
    if wh and np.any(viol):
        m = m + (wh * h * long_flag)[:, None, :] * viol[None, :, None]
    return m


def _truth_logit(x, long_flag, h, wt, bt, wh):
    """(S, M) label logit ``b* + w*·x + w_h·h·L`` [logit]."""
    return np.einsum("smf,f->sm", x, wt) + bt + (wh * h * long_flag if wh else 0.0)


def _accuracy(x, long_flag, h, w, b, wt, bt, wh, viol, tau_s, tau_l, thresholds):
    """Decision accuracy vs labels, Rao–Blackwellised over item noise and labels [-], (S, K)."""
    step = 8  # seed blocks keep the (S, K, n_pop) temporaries cache-sized
    if x.shape[0] > step:
        return np.concatenate([
            _accuracy(x[i:i + step], long_flag[i:i + step], h[i:i + step], w[i:i + step], b[i:i + step],
                      wt, bt, wh, viol, tau_s, tau_l, thresholds) for i in range(0, x.shape[0], step)])
    m = _head_logits(x, long_flag, h, w, b, wh, viol)
    q = expit(_truth_logit(x, long_flag, h, wt, bt, wh))[:, None, :]
    tau = np.where(long_flag[:, None, :], tau_l[None, :, None], tau_s[None, :, None])
    acc = 0.0
    for th in np.atleast_1d(thresholds):
        a = _accept_prob(m, tau, th)
        acc = acc + (q * a + (1 - q) * (1 - a)).mean(axis=-1)
    return acc / len(np.atleast_1d(thresholds))


# ----------------------------------------------------------------------------- one cell
def simulate_cell(params: dict, seeds: np.ndarray) -> pd.DataFrame:
    """Every N × strategy × rule and every baseline for one (dataset, K) cell, all seeds at once.

    ``params``: ``{"dataset", "K", "config"}`` with ``config`` a :class:`SimConfig` as a dict
    (optional). Returns one row per (seed, N, mechanism, strategy, rule) with ``gap_pct``
    [%, Cost-correct gap to the oracle], ``alpha_gap`` [-], ``correct`` (picked the oracle
    best), ``payment_cv`` [-] (payment dispersion across vendors), ``construction_usd`` and
    ``payments_usd`` [USD] for the probe set, and ``worst2`` (posted price bought one of the
    two worst types).
    """
    cfg = SimConfig(**params["config"]) if params.get("config") else SimConfig()
    ds, k = params["dataset"], int(params["K"])
    if ds not in DATASETS:
        raise InputError("dataset", ds, "one of " + ", ".join(DATASETS))
    ns = tuple(int(n) for n in params.get("ns", cfg.ns))
    d = DATASETS[ds]
    violation = d.monotone_violation if cfg.monotone_violation is None else cfg.monotone_violation
    m_max = cfg.pool_factor * max(ns)
    seeds = np.asarray(seeds, dtype=np.int64)
    z = _stack([_draw(cfg, ds, k, m_max, s) for s in seeds])
    n_s = len(seeds)
    wt, bt = np.asarray(d.weights), d.base_logit
    w = wt[None, None, :] + z["dw"]
    b = bt + z["db"]
    tau_s, tau_l, viol = verifier_noise(k, cfg, violation)
    wh = d.hidden_weight if violation else 0.0

    alpha = _accuracy(z["x_pop"], z["l_pop"], z["h_pop"], w, b, wt, bt, wh, viol, tau_s, tau_l, cfg.theta)  # (S, K)
    headline = _accuracy(z["x_pub"], z["l_pub"], z["h_pub"], w, b, wt, bt, wh, viol, tau_s, tau_l,
                         cfg.public_thresholds)

    # Pool reports and labels (S, K, M) / (S, M).
    mean_pool = _head_logits(z["x_pool"], z["l_pool"], z["h_pool"], w, b, wh, viol)
    long_pool = z["l_pool"][:, None, :]
    tau_pool = np.where(long_pool, tau_l[None, :, None], tau_s[None, :, None])
    inv_c = np.where(long_pool, 1.0 / _probit_scale(tau_l)[None, :, None], 1.0 / _probit_scale(tau_s)[None, :, None])
    reports = expit((mean_pool + tau_pool * z["eps"]) * inv_c)
    del tau_pool, inv_c
    del mean_pool
    labels = (z["u_lab"] < expit(_truth_logit(z["x_pool"], z["l_pool"], z["h_pool"], wt, bt, wh))).astype(np.int8)
    decisions = reports >= cfg.theta
    # Bootstrap verifier for hard mining (β = bootstrap_beta, τ = τ_max everywhere).
    w0 = wt[None, :] + z["dw0"]
    b0 = bt + z["db0"]
    p0 = expit((np.einsum("smf,sf->sm", z["x_pool"], w0) + b0[:, None] + cfg.tau_max * z["eps0"])
               / _probit_scale(cfg.tau_max))
    tau0 = np.full(1, cfg.tau_max)
    alpha0 = _accuracy(z["x_pop"], z["l_pop"], z["h_pop"], w0[:, None, :], b0[:, None], wt, bt, wh,
                       np.zeros(1, dtype=bool), tau0, tau0, cfg.theta)[:, 0]

    best = np.argmax(alpha, axis=1)
    rows: list[pd.DataFrame] = []

    def emit(n, mechanism, strategy, rule, chosen, **extra):
        g = gap_pct(alpha, chosen)
        a_sel = np.take_along_axis(alpha, chosen[:, None], axis=1)[:, 0]
        cols = {"dataset": ds, "K": k, "N": n, "mechanism": mechanism, "strategy": strategy, "rule": rule,
                "seed": seeds, "gap_pct": g, "alpha_gap": alpha.max(axis=1) - a_sel, "correct": chosen == best}
        for key, v in extra.items():
            cols[key] = v
        rows.append(pd.DataFrame(cols))

    # Baselines (independent of N and of the probe strategy; repeated per N for filtering).
    rand = z["u_rand"].astype(np.int64)
    kappa = cost_of_quality_usd(alpha, cfg.kappa0_usd, cfg.kappa_eta)
    part, _ = posted_price_equilibrium(alpha, kappa, cfg.value_markup)
    posted = np.argmax(np.where(part, z["u_post"], -1.0), axis=1)
    rank = np.argsort(np.argsort(alpha, axis=1), axis=1)  # 0 = worst
    worst2 = np.take_along_axis(rank, posted[:, None], axis=1)[:, 0] < 2
    public = np.argmax(headline, axis=1)
    for n in ns:
        emit(n, "oracle", "none", "none", best)
        emit(n, "random", "none", "none", rand)
        emit(n, "posted_price", "none", "none", posted, worst2=worst2, participants=part.sum(axis=1))
        emit(n, "public_benchmark", "none", "none", public)

    for n in ns:
        m = min(cfg.pool_factor * n, m_max)
        for strat in cfg.strategies:
            if strat == "uniform":
                idx = np.broadcast_to(np.arange(n), (n_s, n))
                construction = pr.construction_cost_usd("uniform", n, cfg.gamma_usd_per_probe)
                b_alpha = np.full(n_s, np.nan)
            elif strat == "maximin":
                idx = pr.select_maximin_entropy(decisions[:, :, :m], n, z["tie"])
                construction = pr.construction_cost_usd("maximin", n, cfg.gamma_usd_per_probe)
                b_alpha = np.full(n_s, np.nan)
            elif strat == "hard":
                idx = pr.select_hard_instances(p0[:, :m], n, z["tie"])
                construction = pr.construction_cost_usd("hard", n, cfg.gamma_usd_per_probe, bootstrap_alpha=alpha0)
                b_alpha = alpha0
            else:
                raise InputError("strategy", strat, "one of " + ", ".join(pr.STRATEGIES))
            rep = np.take_along_axis(reports, idx[:, None, :], axis=2)
            lab = np.take_along_axis(labels, idx, axis=1)[:, None, :]
            for rule in cfg.rules:
                mean_s = score(rule, rep, lab, categorical=False, validate=False).mean(axis=2)
                a_usd, b_usd, _ = payment_constants(rule, n, per_probe_cap_usd=cfg.per_probe_cap_usd)
                pay = a_usd + b_usd * mean_s
                emit(n, "scoring_rule", strat, rule, np.argmax(mean_s, axis=1),
                     payment_cv=pay.std(axis=1) / pay.mean(axis=1),
                     payments_usd=pay.sum(axis=1), construction_usd=np.broadcast_to(construction, (n_s,)),
                     bootstrap_alpha=b_alpha)
    out = pd.concat(rows, ignore_index=True)
    out["violators"] = int(viol.sum())
    return out


# ----------------------------------------------------------------------------- the sweep
def sweep_grid(cfg: SimConfig) -> list[dict]:
    """Cells of the §7 grid (largest K first, so a process pool balances its load)."""
    for r in cfg.rules:
        if r not in RULES:
            raise InputError("rule", r, "one of " + ", ".join(RULES))
    for s in cfg.strategies:
        if s not in pr.STRATEGIES:
            raise InputError("strategy", s, "one of " + ", ".join(pr.STRATEGIES))
    conf = asdict(cfg)
    return [{"dataset": ds, "K": k, "config": conf}
            for k in sorted(cfg.ks, reverse=True) for ds in cfg.datasets]


def run_sweep(cfg: SimConfig | None = None, *, seeds: int = 200, backend: str = "local",
              workers: int | None = None, out_dir=None, progress: bool = False, seed_chunk: int | None = None):
    """Run the §7 grid; returns the per-seed frame (see :func:`simulate_cell`)."""
    from costcorrect.verification.runner import run_grid

    cfg = cfg or SimConfig()
    if seed_chunk is None:
        # Keep one task's (S, K, 4·N_max) float arrays near 2^23 elements.
        seed_chunk = max(1, min(seeds, (1 << 23) // (max(cfg.ks) * cfg.pool_factor * max(cfg.ns))))
    df = run_grid(simulate_cell, sweep_grid(cfg), seeds=seeds, seed_chunk=seed_chunk, backend=backend,
                  workers=workers, out_dir=out_dir, progress=progress, tag="paper06-s7-v1")
    return df.drop(columns=["config"], errors="ignore")


# ----------------------------------------------------------------------------- summaries
def summarize(df: pd.DataFrame) -> pd.DataFrame:
    """Mean (and 95 % normal CI half-width) of the gap over seeds, per cell."""
    keys = ["dataset", "K", "N", "mechanism", "strategy", "rule"]
    g = df.groupby(keys, sort=False)
    out = g.agg(gap_pct=("gap_pct", "mean"), gap_sd=("gap_pct", "std"), alpha_gap=("alpha_gap", "mean"),
                p_correct=("correct", "mean"), seeds=("seed", "nunique")).reset_index()
    out["gap_ci95"] = 1.96 * out["gap_sd"].fillna(0.0) / np.sqrt(out["seeds"])
    return out.drop(columns="gap_sd")


def table1(df: pd.DataFrame, k: int = 16, n: int = 256, strategy: str = "maximin", rule: str = "brier") -> list[dict]:
    """Table-1-shaped rows: ``mechanism``, ``dataset``, ``gap_pct``, ``gap_ci95``, ``seeds``,
    ``paper_gap_pct``. Falls back to the nearest K and N present in ``df``."""
    ks, ns = np.array(sorted(df["K"].unique())), np.array(sorted(df["N"].unique()))
    k = int(ks[np.argmin(np.abs(ks - k))])
    n = int(ns[np.argmin(np.abs(np.log(ns) - np.log(n)))])
    sel = df[(df["K"] == k) & (df["N"] == n)]
    sel = sel[(sel["mechanism"] != "scoring_rule") | ((sel["strategy"] == strategy) & (sel["rule"] == rule))]
    s = summarize(sel)
    rows = []
    for mech in MECHANISM_ORDER:
        for ds in s["dataset"].unique():
            r = s[(s["mechanism"] == mech) & (s["dataset"] == ds)]
            if r.empty:
                continue
            r = r.iloc[0]
            rows.append({"mechanism": mech, "dataset": ds, "K": k, "N": n,
                         "strategy": strategy if mech == "scoring_rule" else "none",
                         "rule": rule if mech == "scoring_rule" else "none",
                         "gap_pct": float(r["gap_pct"]), "gap_ci95": float(r["gap_ci95"]),
                         "p_correct": float(r["p_correct"]), "seeds": int(r["seeds"]),
                         "paper_gap_pct": PAPER_TABLE1.get(mech, {}).get(ds)})
    return rows


def regret_constant(df: pd.DataFrame, strategy: str | None = None, rule: str = "brier") -> pd.DataFrame:
    """Empirical constant ``C = E[α* - α_sel] / sqrt(ln K / N)`` per dataset, K, N (scoring rule)."""
    s = df[(df["mechanism"] == "scoring_rule") & (df["rule"] == rule)]
    if strategy is not None:
        s = s[s["strategy"] == strategy]
    g = s.groupby(["dataset", "strategy", "K", "N"], sort=True)["alpha_gap"].mean().reset_index()
    g["C"] = g["alpha_gap"] / np.sqrt(np.log(g["K"]) / g["N"])
    return g


# ----------------------------------------------------------------------------- worst-case rate
def worst_case_regret(k: int, ns, deltas=None, seeds: int = 4000, alpha0: float = 0.75, seed: int = 0):
    """Worst-case expected α-regret of the empirical argmax with binary reports, ``sup_Δ Δ·P(wrong)``
    over a two-level family (one verifier at ``α0 + Δ``, K-1 at ``α0``), per N [-].

    The sup over Δ is the Le Cam two-point construction of Theorem 4; its decay in N is the
    ``sqrt(log K / N)`` rate of Theorems 3–4. Agreement counts are Binomial(N, α); ties are
    broken at random. Returns (len(ns),) regrets.
    """
    rng = np.random.default_rng([seed, k])
    ns = np.asarray(ns, dtype=np.int64)
    out = np.empty(ns.size)
    for j, n in enumerate(ns):
        d = np.geomspace(0.05, 6.0, 48) * np.sqrt(np.log(k) / n) if deltas is None else np.asarray(deltas)
        d = d[alpha0 + d < 1.0]
        a = np.full((d.size, k), alpha0)
        a[:, 0] += d
        cnt = rng.binomial(n, a[:, None, :], size=(d.size, seeds, k)).astype(float)
        cnt += rng.random(cnt.shape) * 0.5  # random tie-break (counts are integers)
        wrong = np.argmax(cnt, axis=2) != 0
        out[j] = float(np.max(d * wrong.mean(axis=1)))
    return out


def fit_rate(ns, regret) -> tuple[float, float]:
    """Least-squares slope and intercept of ``log regret`` on ``log N``."""
    slope, icpt = np.polyfit(np.log(np.asarray(ns, dtype=float)), np.log(np.asarray(regret, dtype=float)), 1)
    return float(slope), float(icpt)
