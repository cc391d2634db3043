"""Eval logs -> R, ρ̄, α with task-bootstrap 95 % intervals, and unbiased pass@k (02 §4).

One row per attempt (docs/eval-log-format.md): ``task_id``, ``attempt``, ``input_tokens``,
``output_tokens``, ``answer_tokens``, ``accepted``; optional ``correct``, ``model``,
``task_class``. Estimators, per group of rows:

- R  = Σ output_tokens / Σ answer_tokens (billed output over final-answer tokens, 02 §2);
- ρ̄  = attempts / tasks − 1 (extra attempts per task, 02 §4);
- α  = tasks with ≥ 1 accepted attempt / tasks (task-level accept rate).

With these definitions C · answer_tokens_per_accepted_task equals the blended bill over the
accepted tasks: the decomposition is an identity on the log, not an approximation. (An
*attempt*-level α would count the rollouts twice, once in 1 + ρ̄ and once in 1/α.)

Intervals resample *tasks* with replacement, never attempts: attempts of one task share
the prompt and the model's difficulty on it, so they are correlated, and resampling them
independently would make the intervals too narrow. The bootstrap is vectorised: per-task
sums times a (replicates x tasks) resample-count matrix (integers + bincount).

:func:`read_eval_log` is the only I/O here and is called by the faces.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import gammaln

from costcorrect.allocation.cost_correct import cost_correct_usd_per_mtok
from costcorrect.errors import InputError

REQUIRED_COLUMNS = ("task_id", "attempt", "input_tokens", "output_tokens", "answer_tokens", "accepted")
OPTIONAL_COLUMNS = ("correct", "model", "task_class")
TOKEN_COLUMNS = ("input_tokens", "output_tokens", "answer_tokens")
FORMATS = ("jsonl", "csv", "parquet")

#: Bootstrap cells processed per chunk (replicates x tasks); bounds memory to ~100 MB.
_CHUNK_CELLS = 4_000_000


def read_eval_log(path: str | Path) -> pd.DataFrame:
    """Read and validate a JSONL / CSV / Parquet eval log (format from the file suffix)."""
    path = Path(path)
    suffix = path.suffix.lower().lstrip(".")
    fmt = {"jsonl": "jsonl", "ndjson": "jsonl", "json": "jsonl", "csv": "csv", "parquet": "parquet",
           "pq": "parquet"}.get(suffix)
    if fmt is None:
        raise InputError("log", str(path), "a .jsonl, .csv or .parquet file")
    if not path.is_file():
        raise InputError("log", str(path), "an existing file")
    try:
        if fmt == "jsonl":
            df = pd.read_json(path, lines=True, dtype=False)
        elif fmt == "csv":
            df = pd.read_csv(path)
        else:
            try:
                import pyarrow  # noqa: F401
            except ImportError:
                raise InputError("log", str(path),
                                 "a .jsonl or .csv file, or install the parquet extra "
                                 "(pip install 'costcorrect[parquet]') to read Parquet") from None
            df = pd.read_parquet(path)
    except InputError:
        raise
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        raise InputError("log", str(path), f"a readable {fmt} file ({type(exc).__name__})") from None
    return validate_eval_log(df, origin=path.name)


def _to_bool(v):
    if isinstance(v, bool | np.bool_):
        return bool(v)
    if isinstance(v, int | float | np.integer | np.floating) and v in (0, 1):
        return bool(v)
    if isinstance(v, str):
        return {"true": True, "1": True, "false": False, "0": False}.get(v.strip().lower())
    return None


def _as_bool(series: pd.Series, field: str) -> pd.Series:
    out = series.map(_to_bool)
    bad = out.isna() & series.notna()
    if bad.any():
        raise InputError(field, series[bad].iloc[0], "true/false (or 1/0)")
    return out


def validate_eval_log(df: pd.DataFrame, origin: str = "log") -> pd.DataFrame:
    """Check columns, types and ranges; return a clean frame (one row per attempt)."""
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise InputError(f"{origin} columns", missing, f"all of {', '.join(REQUIRED_COLUMNS)}")
    if df.empty:
        raise InputError(origin, "0 rows", "at least one attempt")
    out = df.copy()
    out["task_id"] = out["task_id"].astype(str)
    for col in ("attempt", *TOKEN_COLUMNS):
        vals = pd.to_numeric(out[col], errors="coerce")
        bad = vals.isna() | (vals < 0)
        if bad.any():
            raise InputError(col, out.loc[bad, col].iloc[0], "a number >= 0 on every row")
        out[col] = vals.astype(float)
    if (out["answer_tokens"] > out["output_tokens"]).any():
        r = out[out["answer_tokens"] > out["output_tokens"]].iloc[0]
        raise InputError("answer_tokens", r["answer_tokens"],
                         f"<= output_tokens ({r['output_tokens']:g}) on task {r['task_id']}")
    out["accepted"] = _as_bool(out["accepted"], "accepted")
    if out["accepted"].isna().any():
        raise InputError("accepted", None, "true/false on every row")
    out["accepted"] = out["accepted"].astype(bool)
    if "correct" in out.columns:
        if out["correct"].isna().all():
            out = out.drop(columns="correct")
        else:
            out["correct"] = _as_bool(out["correct"], "correct")
            if out["correct"].isna().any():
                raise InputError("correct", None, "given on every row or on none")
            out["correct"] = out["correct"].astype(bool)
    for col in ("model", "task_class"):
        if col not in out.columns:
            out[col] = "all" if col == "task_class" else "unknown"
        out[col] = out[col].fillna("all" if col == "task_class" else "unknown").astype(str)
    dup = out.duplicated(["model", "task_id", "attempt"])
    if dup.any():
        r = out[dup].iloc[0]
        raise InputError("attempt", f"{r['task_id']}#{r['attempt']:g}", "unique (model, task_id, attempt)")
    return out


@dataclass(frozen=True)
class TaskTable:
    """Per-task sums of one group: the unit the bootstrap resamples."""

    output_tokens: np.ndarray
    answer_tokens: np.ndarray
    input_tokens: np.ndarray
    attempts: np.ndarray
    accepted_any: np.ndarray
    accepted_attempts: np.ndarray

    @property
    def n_tasks(self) -> int:
        return int(self.attempts.size)


def task_table(rows: pd.DataFrame) -> TaskTable:
    """Aggregate attempts to tasks (vectorised groupby)."""
    rows = rows.sort_values(["task_id", "attempt"], kind="stable")
    g = rows.groupby("task_id", sort=True)
    sums = g[["output_tokens", "answer_tokens", "input_tokens"]].sum()
    return TaskTable(
        output_tokens=sums["output_tokens"].to_numpy(float),
        answer_tokens=sums["answer_tokens"].to_numpy(float),
        input_tokens=sums["input_tokens"].to_numpy(float),
        attempts=g.size().to_numpy(float),
        accepted_any=g["accepted"].any().to_numpy(float),
        accepted_attempts=g["accepted"].sum().to_numpy(float),
    )


def _levers_from_sums(out_sum, ans_sum, attempts_sum, accepted_sum, n_tasks):
    """R, ρ̄, α from (possibly replicated) sums; arrays broadcast."""
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(ans_sum > 0, out_sum / np.where(ans_sum > 0, ans_sum, 1.0), np.nan)
    rho = attempts_sum / n_tasks - 1.0
    alpha = accepted_sum / n_tasks
    return r, rho, alpha


def point_estimates(t: TaskTable) -> dict:
    """R, ρ̄, α of one group, plus counts."""
    r, rho, alpha = _levers_from_sums(t.output_tokens.sum(), t.answer_tokens.sum(), t.attempts.sum(),
                                      t.accepted_any.sum(), t.n_tasks)
    return {"reasoning_multiplier": float(r), "rollout_ratio": float(rho), "accept_rate": float(alpha),
            "tasks": t.n_tasks, "attempts": int(t.attempts.sum()), "accepted_tasks": int(t.accepted_any.sum()),
            "attempt_accept_rate": float(t.accepted_attempts.sum() / t.attempts.sum())}


def bootstrap_counts(n_tasks: int, replicates: int, rng: np.random.Generator):
    """Yield (replicates_chunk x n_tasks) resample counts, chunked to bound memory.

    Each row counts how often each task was drawn in one resample of ``n_tasks`` tasks with
    replacement (one ``integers`` draw and one ``bincount`` per chunk, no Python loop).
    """
    per = max(1, _CHUNK_CELLS // max(n_tasks, 1))
    done = 0
    while done < replicates:
        k = min(per, replicates - done)
        idx = rng.integers(0, n_tasks, size=(k, n_tasks))
        idx += np.arange(k)[:, None] * n_tasks
        yield np.bincount(idx.ravel(), minlength=k * n_tasks).reshape(k, n_tasks).astype(float)
        done += k


def bootstrap_levers(t: TaskTable, cpm_usd_per_mtok: float, replicates: int = 2000,
                     seed: int = 0) -> dict[str, np.ndarray]:
    """Task-bootstrap replicates of R, ρ̄, α and C (vectorised; see module docstring).

    Returns arrays of length ``replicates``; C is ``inf`` in replicates with no accepted task.
    """
    rng = np.random.default_rng(seed)
    cols = np.stack([t.output_tokens, t.answer_tokens, t.attempts, t.accepted_any], axis=1)
    parts = [counts @ cols for counts in bootstrap_counts(t.n_tasks, replicates, rng)]
    sums = np.concatenate(parts, axis=0)
    r, rho, alpha = _levers_from_sums(sums[:, 0], sums[:, 1], sums[:, 2], sums[:, 3], t.n_tasks)
    c = cost_correct_usd_per_mtok(cpm_usd_per_mtok, r, rho, alpha)
    with np.errstate(divide="ignore", invalid="ignore"):
        # C x mean answer length = CPM x billed output per accepted task (module docstring)
        per_answer = np.where(sums[:, 3] > 0, cpm_usd_per_mtok * sums[:, 0] / np.where(sums[:, 3] > 0, sums[:, 3], 1)
                              / 1e6, np.inf)
    return {"reasoning_multiplier": r, "rollout_ratio": rho, "accept_rate": alpha,
            "cost_correct_usd_per_mtok": c, "cost_per_correct_answer_usd": per_answer}


def bootstrap_levers_loop(t: TaskTable, cpm_usd_per_mtok: float, replicates: int = 2000,
                          seed: int = 0) -> dict[str, np.ndarray]:
    """Reference implementation: one resample per Python iteration (for tests and benchmarks)."""
    rng = np.random.default_rng(seed)
    out = {k: np.empty(replicates) for k in ("reasoning_multiplier", "rollout_ratio", "accept_rate",
                                             "cost_correct_usd_per_mtok")}
    for b in range(replicates):
        idx = rng.integers(0, t.n_tasks, t.n_tasks)
        r, rho, alpha = _levers_from_sums(t.output_tokens[idx].sum(), t.answer_tokens[idx].sum(),
                                          t.attempts[idx].sum(), t.accepted_any[idx].sum(), t.n_tasks)
        out["reasoning_multiplier"][b] = r
        out["rollout_ratio"][b] = rho
        out["accept_rate"][b] = alpha
        out["cost_correct_usd_per_mtok"][b] = cost_correct_usd_per_mtok(cpm_usd_per_mtok, r, rho, alpha)
    return out


def percentile_interval(samples: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """Percentile interval without interpolating into ``inf`` (order statistics). Bounds may be inf."""
    s = np.asarray(samples, dtype=float)
    s = s[~np.isnan(s)]
    lo, hi = np.quantile(s, [(1 - level) / 2, 1 - (1 - level) / 2], method="inverted_cdf")
    return float(lo), float(hi)


def pass_at_k(n_attempts, n_passed, k):
    """Unbiased pass@k per task, 1 - C(n-c, k) / C(n, k) (Chen et al. 2021, HumanEval §2.1). [-]

    Vectorised over tasks via log-gamma; tasks need ``n >= k``.

    >>> [round(float(x), 4) for x in pass_at_k([10, 10, 5], [0, 3, 5], 2)]
    [0.0, 0.5333, 1.0]
    """
    n = np.asarray(n_attempts, dtype=float)
    c = np.asarray(n_passed, dtype=float)
    k = float(k)
    fail = n - c
    with np.errstate(invalid="ignore"):
        log_ratio = (gammaln(fail + 1) - gammaln(np.maximum(fail - k, 0) + 1)
                     - gammaln(n + 1) + gammaln(n - k + 1))
    return np.where(fail < k, 1.0, 1.0 - np.exp(log_ratio))


def estimate_group(rows: pd.DataFrame, cpm_usd_per_mtok: float, *, price_in_usd_per_mtok: float | None = None,
                   price_out_usd_per_mtok: float | None = None, replicates: int = 2000, seed: int = 0,
                   k: int | None = None) -> dict:
    """Everything the CLI reports for one group of attempts at one price.

    Raises :class:`InputError` when no task has an accepted attempt (C is infinite).
    """
    t = task_table(rows)
    est = point_estimates(t)
    if est["accepted_tasks"] == 0:
        raise InputError("log", f"{est['attempts']} attempts on {est['tasks']} tasks, none accepted",
                         "at least one accepted answer (cost per correct answer is infinite)")
    c = float(cost_correct_usd_per_mtok(cpm_usd_per_mtok, est["reasoning_multiplier"], est["rollout_ratio"],
                                        est["accept_rate"]))
    boot = bootstrap_levers(t, cpm_usd_per_mtok, replicates, seed)
    ci = {name: percentile_interval(v) for name, v in boot.items()}
    mean_answer = float(t.answer_tokens.sum() / t.attempts.sum())
    res = {
        **est,
        "cpm_1to1_usd_per_mtok": cpm_usd_per_mtok,
        "cost_correct_usd_per_mtok": c,
        "mean_answer_tokens": mean_answer,
        # C x the mean answer length = the blended bill (CPM x billed output) per accepted task.
        "cost_per_correct_answer_usd": c * mean_answer / 1e6,
        "ci95": {k_: {"low": lo, "high": hi, "unbounded": bool(np.isinf(hi))} for k_, (lo, hi) in ci.items()},
        "bootstrap": {"replicates": replicates, "seed": seed, "unit": "task"},
    }
    if price_in_usd_per_mtok is not None and price_out_usd_per_mtok is not None:
        billed = (price_in_usd_per_mtok * t.input_tokens.sum() + price_out_usd_per_mtok * t.output_tokens.sum()) / 1e6
        res["billed_cost_per_correct_answer_usd"] = float(billed / est["accepted_tasks"])
    if "correct" in rows.columns:
        acc = rows[rows["accepted"]]
        res["accepted_precision"] = float(acc["correct"].mean()) if len(acc) else None
        res["correct_rate"] = float(rows.groupby("task_id")["correct"].any().mean())
    if k is not None:
        n = t.attempts
        if (n < k).any():
            raise InputError("k", k, f"<= the smallest number of attempts per task ({int(n.min())})")
        res["pass_at_k"] = {"k": k, "accepted": float(pass_at_k(n, t.accepted_attempts, k).mean())}
        if "correct" in rows.columns:
            n_corr = rows.groupby("task_id", sort=True)["correct"].sum().to_numpy(float)
            res["pass_at_k"]["correct"] = float(pass_at_k(n, n_corr, k).mean())
    return res
