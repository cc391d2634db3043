"""Fit the simulator's efficiency factors (MFU, MBU, per-iteration overhead) to a measured run.

The measured requests are replayed through the simulator — same prompt and output
lengths, same arrival times (the file's start times, else Poisson at the measured rate,
said so in the result) — on the user's deployment scenario. The fit minimises the mean
squared log error of TTFT and TPOT p50/p90/p99 (successful requests) with bounded
Nelder–Mead from the current values. Each evaluation is one deterministic simulation.

The result is a scenario *overlay*: the fitted ``efficiency`` values plus a
``calibration`` block saying what they were fit to (file, its SHA-256, request count,
deployment, objective, error before and after, date). :func:`overlay_overrides` turns
an overlay into ``--set`` overrides, ignoring the provenance block.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import tempfile
from pathlib import Path

import numpy as np
import yaml

from costcorrect.errors import InputError
from costcorrect.measure.metrics import nearest_rank_quantile

FIT_KEYS = ("mfu", "mbu", "overhead_ms")
BOUNDS = {"mfu": (0.02, 1.0), "mbu": (0.02, 1.0), "overhead_ms": (0.0, 100.0)}
METRICS = (("ttft_ms", "p50"), ("ttft_ms", "p90"), ("ttft_ms", "p99"),
           ("tpot_ms", "p50"), ("tpot_ms", "p90"), ("tpot_ms", "p99"))


def measured_percentiles(run) -> dict:
    ok = run.success
    return {f"{m}.{q}": nearest_rank_quantile(getattr(run, m)[ok], int(q[1:]) / 100) for m, q in METRICS}


def write_replay_trace(run, path: Path, seed: int = 0) -> tuple[Path, str]:
    """Successful requests as a Mooncake JSONL trace (timestamps in ms); how arrivals were set."""
    ok = run.success
    n = int(ok.sum())
    if n == 0:
        raise InputError(f"{Path(run.path).name}: requests", "every request failed", "at least one successful request")
    if run.arrival_s is not None:
        t = np.asarray(run.arrival_s, dtype=float)[ok]
        how = "arrivals replayed from the file's start times"
    else:
        rate = run.num_requests / run.duration_s
        gaps = np.random.default_rng(seed).exponential(1.0 / rate, n)
        gaps[0] = 0.0
        t = np.cumsum(gaps)
        how = f"the file has no start times: arrivals assumed Poisson at {rate:.3f} req/s (requests / duration)"
    lines = [json.dumps({"timestamp": float(ts * 1e3), "input_length": int(p), "output_length": int(d)})
             for ts, p, d in zip(t, run.prompt_tokens[ok], run.output_tokens[ok], strict=True)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, how


def _sim_percentiles(sc, catalog) -> dict:
    from costcorrect.simulator import simulate

    s = simulate(sc, catalog).summary
    return {f"{m}.{q}": s[m][q] for m, q in METRICS}


def rms_log_error(sim: dict, meas: dict) -> float:
    """√mean (ln(sim/measured))² over the fitted percentiles. [-]"""
    errs = []
    for k, v in meas.items():
        s = sim.get(k)
        if v is None or not (v > 0) or s is None or not (s > 0):
            continue
        errs.append(math.log(s / v) ** 2)
    return math.sqrt(sum(errs) / len(errs)) if errs else math.inf


def calibrate(run, base, catalog, *, fit: tuple[str, ...] = FIT_KEYS, max_evals: int = 80, seed: int = 0) -> dict:
    """Fit ``fit`` efficiency factors of scenario ``base`` to measured ``run``."""
    from scipy.optimize import minimize

    from costcorrect.simulator import build_deployment

    for k in fit:
        if k not in FIT_KEYS:
            raise InputError("--fit", k, "some of " + ", ".join(FIT_KEYS))
    if max_evals < 5:
        raise InputError("--max-evals", max_evals, "an integer >= 5")
    meas = measured_percentiles(run)
    start_eff = build_deployment(base, catalog).setup.efficiency
    x0 = np.array([float(getattr(start_eff, k)) for k in fit])
    scale = np.where(x0 > 0, x0, 1.0)
    evals: list[tuple[dict, float]] = []
    with tempfile.TemporaryDirectory(prefix="cc-calibrate-") as tmp:
        trace, how = write_replay_trace(run, Path(tmp) / "replay.jsonl", seed)
        n = int(run.success.sum())
        wl = base.workload.model_copy(update={"arrival": "trace", "trace": str(trace), "trace_format": "mooncake",
                                               "rate_per_s": None, "num_requests": n})
        replay = base.model_copy(update={"workload": wl})

        def scenario(values: dict):
            eff = replay.efficiency.model_copy(update=values)
            return replay.model_copy(update={"efficiency": eff})

        def objective(z: np.ndarray) -> float:
            vals = {k: float(np.clip(zi * si, *BOUNDS[k])) for k, zi, si in zip(fit, z, scale, strict=True)}
            try:
                err = rms_log_error(_sim_percentiles(scenario(vals), catalog), meas)
            except InputError:  # e.g. a request no longer fits: outside the feasible region
                err = 1e3
            evals.append((vals, err))
            return err

        before_vals = {k: float(v) for k, v in zip(fit, x0, strict=True)}
        before = _sim_percentiles(scenario(before_vals), catalog)
        z0 = np.ones(len(fit))
        simplex = np.vstack([z0] + [z0 * np.where(np.arange(len(fit)) == i, 0.7, 1.0) for i in range(len(fit))])
        bounds = [(BOUNDS[k][0] / s, BOUNDS[k][1] / s) for k, s in zip(fit, scale, strict=True)]
        minimize(objective, z0, method="Nelder-Mead", bounds=bounds,
                 options={"maxfev": max_evals, "initial_simplex": simplex, "xatol": 1e-3, "fatol": 1e-4})
        best_vals, best_err = min(evals, key=lambda e: e[1])
        after = _sim_percentiles(scenario(best_vals), catalog)
    rows = [{"metric": k, "measured": meas[k], "before": before[k], "after": after[k],
             "before_rel_error": (before[k] / meas[k] - 1) if meas[k] else None,
             "after_rel_error": (after[k] / meas[k] - 1) if meas[k] else None} for k in meas]
    return {
        "fitted": {k: best_vals[k] for k in fit},
        "start": before_vals,
        "rms_log_error_before": rms_log_error(before, meas),
        "rms_log_error_after": best_err,
        "percentiles": rows,
        "evaluations": len(evals),
        "replayed_requests": int(run.success.sum()),
        "arrivals": how,
    }


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def overlay_doc(result: dict, run, base) -> dict:
    """The overlay mapping: fitted ``efficiency`` values and their provenance."""
    return {
        "efficiency": {k: round(v, 6) for k, v in result["fitted"].items()},
        "calibration": {
            "status": "fitted",
            "fitted": list(result["fitted"]),
            "fitted_to": {"file": Path(run.path).name, "format": run.format, "sha256": file_sha256(run.path),
                          "num_requests": run.num_requests, "replayed_requests": result["replayed_requests"],
                          "arrivals": result["arrivals"], "model": base.model, "gpu": base.gpu,
                          "tensor_parallel": base.tensor_parallel, "architecture": base.architecture},
            "objective": "rms log error of TTFT and TPOT p50/p90/p99 (successful requests), bounded Nelder-Mead",
            "rms_log_error_before": round(result["rms_log_error_before"], 6),
            "rms_log_error_after": round(result["rms_log_error_after"], 6),
            "start": result["start"],
            "as_of": dt.date.today().isoformat(),
        },
    }


def overlay_yaml(doc: dict) -> str:
    cal = doc["calibration"]
    src = cal["fitted_to"]
    sets = " ".join(f"--set efficiency.{k}={v}" for k, v in doc["efficiency"].items())
    head = (
        "# Scenario overlay written by `costcorrect calibrate`.\n"
        f"# efficiency.{', efficiency.'.join(cal['fitted'])}: FITTED (not catalog defaults) to the measured run\n"
        f"#   {src['file']} ({src['format']}, {src['num_requests']} requests, sha256 {src['sha256'][:12]}...)\n"
        f"#   on {src['model']} / {src['gpu']} TP{src['tensor_parallel']} / {src['architecture']}, {cal['as_of']}.\n"
        f"# Error on TTFT/TPOT p50-p99 (rms log): {cal['rms_log_error_before']:.4f} before -> "
        f"{cal['rms_log_error_after']:.4f} after.\n"
        f"# Use: costcorrect tune --overlay THIS_FILE ... or costcorrect simulate {sets}\n"
    )
    return head + yaml.safe_dump(doc, sort_keys=False)


def overlay_overrides(path: str | Path) -> list[str]:
    """``key.path=value`` overrides from an overlay file (its ``calibration`` block is provenance)."""
    p = Path(path)
    try:
        doc = yaml.safe_load(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError("--overlay", str(p), f"a readable YAML file ({exc.strerror})") from None
    except yaml.YAMLError:
        raise InputError("--overlay", p.name, "valid YAML") from None
    if not isinstance(doc, dict):
        raise InputError("--overlay", p.name, "a mapping of scenario fields")
    out: list[str] = []

    def walk(prefix: str, node) -> None:
        if isinstance(node, dict) and node:
            for k, v in node.items():
                walk(f"{prefix}.{k}" if prefix else str(k), v)
        else:
            out.append(f"{prefix}={json.dumps(node)}")

    walk("", {k: v for k, v in doc.items() if k != "calibration"})
    return out
