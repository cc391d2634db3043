"""Readers for measured serving runs: vLLM and SGLang benchmark files, and a plain CSV.

Every reader returns a :class:`MeasuredRun` (per-request arrays in ms and tokens plus the
run's duration in s) or raises :class:`~costcorrect.errors.InputError` naming the file
and the field — a missing field, a negative time, lists of different lengths, or a zero
duration never get past here.

Formats (see ``docs/measured-mode.md`` for the sources):

- ``vllm``: the JSON ``vllm bench serve --save-result`` (formerly
  ``benchmarks/benchmark_serving.py``) writes: ``duration`` [s] and per-request lists
  ``input_lens``, ``output_lens``, ``ttfts`` [s], ``itls`` (a list per request) [s];
  newer versions add ``latencies`` [s], ``start_times`` [s] and ``errors``. A failed
  request has a non-empty error and/or zero output length.
- ``sglang``: the JSONL ``python -m sglang.bench_serving --output-file F --output-details``
  appends, one JSON object per run, with the same ``duration`` and per-request lists
  (no ``latencies``); ``run`` picks a line (default: the last).
- ``csv``: one row per request, ``prompt_tokens, output_tokens, ttft_ms, tpot_ms`` and
  optional ``arrival_s``, ``success``, ``e2e_ms``; the duration comes from
  ``duration_s`` (argument) or from the arrivals and end-to-end times.

TPOT per request is (latency − TTFT)/(output − 1) when the latency is recorded, else
Σ ITL/(output − 1) (the same quantity: the ITLs span first to last token); 0 for a
one-token output, as vLLM counts it for goodput.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from costcorrect import units
from costcorrect.errors import InputError

FORMATS = ("vllm", "sglang", "csv")


@dataclass(frozen=True)
class MeasuredRun:
    """Per-request measurements of one benchmark run."""

    path: str
    format: str
    duration_s: float
    prompt_tokens: np.ndarray  # [tokens]
    output_tokens: np.ndarray  # [tokens]
    ttft_ms: np.ndarray  # [ms], NaN for failed requests
    tpot_ms: np.ndarray  # [ms], NaN for failed requests
    e2e_ms: np.ndarray  # [ms], NaN where unknown
    success: np.ndarray  # [bool]
    arrival_s: np.ndarray | None = None  # [s] from the first request, when recorded
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def num_requests(self) -> int:
        return int(self.success.size)


def detect_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix == ".jsonl":
        return "sglang"
    if suffix == ".json":
        return "vllm"
    raise InputError("--format", "auto", f"vllm, sglang or csv (cannot tell from the name {path.name})")


def read_measurement(path: str | Path, fmt: str = "auto", *, run: int = -1,
                     duration_s: float | None = None) -> MeasuredRun:
    """Read a measured run in ``fmt`` (``auto`` guesses from the suffix)."""
    p = Path(path)
    if fmt == "auto":
        fmt = detect_format(p)
    if fmt not in FORMATS:
        raise InputError("--format", fmt, "one of " + ", ".join(FORMATS))
    if not p.is_file():
        raise InputError("FILE", str(p), "an existing measurement file")
    if fmt == "vllm":
        return read_vllm(p)
    if fmt == "sglang":
        return read_sglang(p, run=run)
    return read_csv(p, duration_s=duration_s)


# ----------------------------------------------------------------------------- helpers
def _num(x) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def _err(path: Path, fld: str, value, allowed: str) -> InputError:
    return InputError(f"{path.name}: {fld}", value, allowed)


def _duration(doc: dict, path: Path) -> float:
    if "duration" not in doc:
        raise _err(path, "duration", None, "the run's wall time in seconds (a number > 0)")
    d = doc["duration"]
    if not _num(d) or d <= 0:
        raise _err(path, "duration", d, "a number > 0 [s]")
    return float(d)


def _lists(doc: dict, path: Path, required: tuple[str, ...], optional: tuple[str, ...], hint: str) -> dict:
    out = {}
    n = None
    for key in required + optional:
        if key not in doc or doc[key] is None:
            if key in required:
                raise _err(path, key, None, f"a per-request list{hint}")
            continue
        v = doc[key]
        if not isinstance(v, list):
            raise _err(path, key, type(v).__name__, "a list with one entry per request")
        if n is None:
            n = len(v)
        elif len(v) != n:
            raise _err(path, key, f"{len(v)} entries", f"{n} entries, one per request like {required[0]}")
        out[key] = v
    if not n:
        raise _err(path, required[0], "[]", "at least one request")
    return out


def _from_benchmark_doc(doc, path: Path, fmt: str, hint: str) -> MeasuredRun:
    if not isinstance(doc, dict):
        raise _err(path, "top level", type(doc).__name__, "a JSON object with the benchmark result")
    duration = _duration(doc, path)
    cols = _lists(doc, path, ("input_lens", "output_lens", "ttfts", "itls"),
                  ("latencies", "start_times", "errors"), hint)
    n = len(cols["input_lens"])
    prompt = np.zeros(n, dtype=np.int64)
    output = np.zeros(n, dtype=np.int64)
    ttft = np.full(n, np.nan)
    tpot = np.full(n, np.nan)
    e2e = np.full(n, np.nan)
    ok = np.zeros(n, dtype=bool)
    errors = cols.get("errors")
    lat = cols.get("latencies")
    for i in range(n):
        p, d = cols["input_lens"][i], cols["output_lens"][i]
        error = errors[i] if errors is not None else ""
        failed = bool(error) or d in (0, None, "")
        if not _num(p) or p < 0:
            raise _err(path, f"input_lens[{i}]", p, "a token count >= 0")
        prompt[i] = int(p)
        if failed:
            if _num(d) and d < 0:
                raise _err(path, f"output_lens[{i}]", d, "a token count >= 0")
            output[i] = int(d) if _num(d) else 0
            continue
        if not _num(d) or d < 0:
            raise _err(path, f"output_lens[{i}]", d, "a token count >= 0")
        t = cols["ttfts"][i]
        if not _num(t) or t < 0:
            raise _err(path, f"ttfts[{i}]", t, "a time >= 0 [s] for a successful request")
        itl = cols["itls"][i]
        if not isinstance(itl, list) or not all(_num(x) for x in itl):
            raise _err(path, f"itls[{i}]", str(itl)[:40], "a list of inter-token times [s]")
        if any(x < 0 for x in itl):
            raise _err(path, f"itls[{i}]", min(itl), "inter-token times >= 0 [s]")
        if lat is not None:
            latency = lat[i]
            if not _num(latency) or latency < t:
                raise _err(path, f"latencies[{i}]", latency, f"a time >= ttfts[{i}] = {t} [s]")
            decode_s = latency - t
        else:
            decode_s = math.fsum(itl)
            latency = t + decode_s
        output[i] = int(d)
        ok[i] = True
        ttft[i] = float(units.s_to_ms(t))
        e2e[i] = float(units.s_to_ms(latency))
        tpot[i] = float(units.s_to_ms(decode_s)) / (d - 1) if d > 1 else 0.0
    arrival = None
    starts = cols.get("start_times")
    if starts is not None:
        if not all(_num(s) for s in starts):
            bad = next(i for i, s in enumerate(starts) if not _num(s))
            raise _err(path, f"start_times[{bad}]", starts[bad], "a time [s]")
        a = np.asarray(starts, dtype=float)
        arrival = a - a.min()
    notes = []
    if not ok.any():
        notes.append("every request failed")
    return MeasuredRun(str(path), fmt, duration, prompt, output, ttft, tpot, e2e, ok, arrival, tuple(notes))


# ----------------------------------------------------------------------------- readers
def read_vllm(path: str | Path) -> MeasuredRun:
    """vLLM serving-benchmark result JSON (``--save-result``) with per-request lists."""
    p = Path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError("FILE", str(p), f"a readable file ({exc.strerror})") from None
    except json.JSONDecodeError as exc:
        raise _err(p, f"line {exc.lineno} column {exc.colno}", exc.msg, "valid JSON (vLLM --save-result)") from None
    return _from_benchmark_doc(doc, p, "vllm", " (vLLM saves them with --save-result)")


def read_sglang(path: str | Path, run: int = -1) -> MeasuredRun:
    """SGLang ``bench_serving`` JSONL (one run per line; needs ``--output-details``)."""
    p = Path(path)
    try:
        lines = [(i, ln) for i, ln in enumerate(p.read_text(encoding="utf-8").splitlines(), start=1) if ln.strip()]
    except OSError as exc:
        raise InputError("FILE", str(p), f"a readable file ({exc.strerror})") from None
    if not lines:
        raise _err(p, "line 1", "empty", "one JSON object per benchmark run")
    if not -len(lines) <= run < len(lines):
        raise InputError("--run", run, f"an index into the file's {len(lines)} runs (0..{len(lines) - 1}, or -1)")
    lineno, text = lines[run]
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _err(p, f"line {lineno} column {exc.colno}", exc.msg, "one JSON object per line") from None
    res = _from_benchmark_doc(doc, p, "sglang", " (run sglang.bench_serving with --output-details)")
    if len(lines) > 1:
        note = f"file holds {len(lines)} runs; used line {lineno}"
        res = MeasuredRun(**{**res.__dict__, "notes": (*res.notes, note)})
    return res


_TRUE = {"1", "true", "yes", "y", "t", "ok", "success"}
_FALSE = {"0", "false", "no", "n", "f", "failed", "error", "fail"}


def read_csv(path: str | Path, duration_s: float | None = None) -> MeasuredRun:
    """One row per request: ``prompt_tokens, output_tokens, ttft_ms, tpot_ms`` (+ optional
    ``arrival_s``, ``success``, ``e2e_ms``)."""
    import pandas as pd

    p = Path(path)
    try:
        df = pd.read_csv(p, dtype=str, keep_default_na=False, skipinitialspace=True)
    except (OSError, ValueError) as exc:
        raise InputError("FILE", str(p), f"a readable CSV ({exc})") from None
    df.columns = [c.strip() for c in df.columns]
    required = ("prompt_tokens", "output_tokens", "ttft_ms", "tpot_ms")
    for c in required:
        if c not in df.columns:
            raise _err(p, f"column {c}", list(df.columns), "a header with " + ", ".join(required))
    if df.empty:
        raise _err(p, "rows", 0, "at least one request row")
    n = len(df)

    def num(col: str) -> np.ndarray:
        s = df[col].str.strip()
        v = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float).copy()
        v[(s == "").to_numpy()] = np.nan
        bad = np.flatnonzero(np.isnan(v) & (s != "").to_numpy())
        if len(bad):
            raise _err(p, f"line {bad[0] + 2} column {col}", df[col].iloc[bad[0]], "a number")
        return v

    prompt, output = num("prompt_tokens"), num("output_tokens")
    ttft, tpot = num("ttft_ms"), num("tpot_ms")
    e2e = num("e2e_ms") if "e2e_ms" in df.columns else np.full(n, np.nan)
    if "success" in df.columns:
        s = df["success"].str.strip().str.lower()
        unknown = ~s.isin(_TRUE | _FALSE)
        if unknown.any():
            i = int(np.flatnonzero(unknown.to_numpy())[0])
            raise _err(p, f"line {i + 2} column success", df["success"].iloc[i], "true/false (or 1/0)")
        ok = s.isin(_TRUE).to_numpy()
    else:
        ok = np.nan_to_num(output, nan=0.0) > 0
    for col, v in (("prompt_tokens", prompt), ("output_tokens", output)):
        bad = np.flatnonzero(np.isnan(v) | (v < 0))
        if len(bad):
            raise _err(p, f"line {bad[0] + 2} column {col}", df[col].iloc[bad[0]], "a token count >= 0")
    for col, v in (("ttft_ms", ttft), ("tpot_ms", tpot), ("e2e_ms", e2e)):
        bad = np.flatnonzero(ok & (v < 0))
        if len(bad):
            raise _err(p, f"line {bad[0] + 2} column {col}", v[bad[0]], "a time >= 0 [ms]")
    for col, v in (("ttft_ms", ttft), ("tpot_ms", tpot)):
        bad = np.flatnonzero(ok & np.isnan(v))
        if len(bad):
            raise _err(p, f"line {bad[0] + 2} column {col}", "", "a time [ms] for a successful request")
    ok = ok & (output > 0)
    ttft = np.where(ok, ttft, np.nan)
    tpot = np.where(ok, tpot, np.nan)
    # end-to-end from TTFT and TPOT where not given: TTFT + TPOT·(D − 1)
    e2e = np.where(np.isnan(e2e) & ok, ttft + tpot * np.maximum(output - 1, 0), e2e)
    arrival = None
    if "arrival_s" in df.columns:
        a = num("arrival_s")
        bad = np.flatnonzero(np.isnan(a) | (a < 0))
        if len(bad):
            raise _err(p, f"line {bad[0] + 2} column arrival_s", df["arrival_s"].iloc[bad[0]], "a time >= 0 [s]")
        arrival = a - a.min()
    notes = []
    if duration_s is not None:
        if not (_num(duration_s) and duration_s > 0):
            raise InputError("--duration-s", duration_s, "a number > 0 [s]")
        dur = float(duration_s)
    elif arrival is not None:
        if not ok.any():
            raise _err(p, "rows", "every request failed", "at least one successful request, or give --duration-s")
        end = arrival + units.ms_to_s(np.nan_to_num(e2e, nan=0.0))
        dur = float(end.max() - arrival.min())
        notes.append("duration = last finish - first arrival (from arrival_s and e2e)")
        if dur <= 0:
            raise _err(p, "duration (from arrival_s, e2e_ms)", dur, "a number > 0 [s]; give --duration-s")
    else:
        raise _err(p, "duration", None, "an arrival_s column, or --duration-s")
    return MeasuredRun(str(p), "csv", dur, prompt.astype(np.int64), output.astype(np.int64), ttft, tpot, e2e,
                       ok, arrival, tuple(notes))
