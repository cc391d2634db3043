"""Workloads: arrival processes, length distributions and trace replay.

A workload is a stream of request chunks ``(arrival_s, prompt_tokens, output_tokens)`` so a
million-request replay never holds more than one chunk in memory. Closed-loop workloads
(``arrival: closed``) yield lengths only; the engine sets arrival times (a new request as
soon as one finishes, the benchmark-client regime).

Trace formats (times scaled to ``rate_per_s`` when it is set, else replayed as recorded;
a trace shorter than ``num_requests`` is tiled, each copy starting one mean gap after the
previous copy's last arrival):
- Azure LLM inference trace 2023 CSV: ``TIMESTAMP, ContextTokens, GeneratedTokens``
  (Patel et al., ISCA'24; Azure/AzurePublicDataset, CC-BY 4.0);
- Mooncake JSONL: ``timestamp`` [ms], ``input_length``, ``output_length`` (Qin et al.,
  FAST'25; kvcache-ai/Mooncake, Apache-2.0).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from costcorrect.errors import InputError
from costcorrect.simulator.config import LengthDist, SimWorkload

CHUNK = 65_536


@dataclass(frozen=True)
class RequestChunk:
    arrival_s: np.ndarray  # [s]; NaN for closed-loop
    prompt_tokens: np.ndarray  # [tokens], int64
    output_tokens: np.ndarray  # [tokens], int64


# ----------------------------------------------------------------------------- lengths
def _read_length_file(path: str, column: str | None) -> np.ndarray:
    import pandas as pd

    p = Path(path)
    try:
        df = pd.read_csv(p)
    except (OSError, ValueError) as exc:
        raise InputError("length file", str(p), f"a readable CSV ({exc})") from None
    if df.empty:
        raise InputError("length file", str(p), "at least one row")
    col = column or next((c for c in df.columns if pd.api.types.is_numeric_dtype(df[c])), None)
    if col is None or col not in df.columns:
        raise InputError("length file column", column, f"a numeric column of {p.name}: {list(df.columns)}")
    vals = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(~np.isfinite(vals) | (vals < 1))
    if len(bad):
        raise InputError(f"{p.name} line {bad[0] + 2} column {col}", df[col].iloc[bad[0]], "an integer >= 1")
    return vals.astype(np.int64)


class LengthSampler:
    """Draw integer token lengths from a :class:`LengthDist`."""

    def __init__(self, spec: LengthDist, field: str):
        self.spec = spec
        self.field = field
        self._pool = None
        if spec.dist == "empirical":
            self._pool = (np.asarray(spec.values, dtype=np.int64) if spec.values
                          else _read_length_file(spec.file, spec.column))
            if len(self._pool) == 0 or (self._pool < 1).any():
                raise InputError(f"{field}.values", spec.values, "a non-empty list of integers >= 1")

    @property
    def mean_tokens(self) -> float:
        if self._pool is not None:
            return float(self._pool.mean())
        return float(self.spec.mean)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        s = self.spec
        if s.dist == "fixed":
            x = np.full(n, float(s.mean))
        elif s.dist == "uniform":  # symmetric about the mean with the requested CV
            half = np.sqrt(3.0) * s.cv * s.mean
            x = rng.uniform(s.mean - half, s.mean + half, n)
        elif s.dist == "lognormal":
            sigma2 = np.log1p(s.cv**2)
            x = rng.lognormal(np.log(s.mean) - sigma2 / 2.0, np.sqrt(sigma2), n)
        else:
            x = self._pool[rng.integers(0, len(self._pool), n)].astype(float)
        return np.clip(np.rint(x), s.min, s.max).astype(np.int64)


# ----------------------------------------------------------------------------- traces
@dataclass(frozen=True)
class Trace:
    arrival_s: np.ndarray
    prompt_tokens: np.ndarray
    output_tokens: np.ndarray
    path: str

    @property
    def rate_per_s(self) -> float:
        span = float(self.arrival_s[-1] - self.arrival_s[0])
        return (len(self.arrival_s) - 1) / span if span > 0 else float("inf")


def _trace_format(path: Path, fmt: str) -> str:
    if fmt != "auto":
        return fmt
    if path.suffix in (".jsonl", ".json"):
        return "mooncake"
    if path.suffix == ".csv":
        return "azure"
    raise InputError("workload.trace_format", "auto", f"azure or mooncake (cannot tell from {path.name})")


def _check_lengths(path: Path, name: str, vals: np.ndarray, line_offset: int) -> None:
    bad = np.flatnonzero(~np.isfinite(vals) | (vals < 0))
    if len(bad):
        raise InputError(f"trace {path.name} line {bad[0] + line_offset} column {name}", vals[bad[0]],
                         "an integer >= 0")


def read_azure_trace(path: Path) -> Trace:
    import pandas as pd

    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError) as exc:
        raise InputError("trace", str(path), f"a readable Azure CSV ({exc})") from None
    cols = ("TIMESTAMP", "ContextTokens", "GeneratedTokens")
    for c in cols:
        if c not in df.columns:
            raise InputError(f"trace {path.name} line 1 column {c}", list(df.columns),
                             "an Azure trace header TIMESTAMP,ContextTokens,GeneratedTokens")
    if df.empty:
        raise InputError(f"trace {path.name}", "empty", "at least one request row")
    ts = pd.to_datetime(df["TIMESTAMP"], errors="coerce", format="mixed")
    bad = np.flatnonzero(ts.isna().to_numpy())
    if len(bad):
        raise InputError(f"trace {path.name} line {bad[0] + 2} column TIMESTAMP", df["TIMESTAMP"].iloc[bad[0]],
                         "a date-time such as 2023-11-16 18:15:46.6805900")
    t = (ts - ts.iloc[0]).dt.total_seconds().to_numpy(dtype=float)
    out = []
    for c in cols[1:]:
        v = pd.to_numeric(df[c], errors="coerce").to_numpy(dtype=float)
        _check_lengths(path, c, v, 2)
        out.append(v.astype(np.int64))
    return _sorted_trace(t, out[0], out[1], path)


def read_mooncake_trace(path: Path) -> Trace:
    t, p, d = [], [], []
    try:
        fh = path.open("r", encoding="utf-8")
    except OSError as exc:
        raise InputError("trace", str(path), f"a readable Mooncake JSONL ({exc.strerror})") from None
    with fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"trace {path.name} line {lineno} column {exc.colno}", line.strip()[:40],
                                 "one JSON object per line") from None
            if not isinstance(row, dict):
                raise InputError(f"trace {path.name} line {lineno}", line.strip()[:40], "a JSON object")
            for key, sink in (("timestamp", t), ("input_length", p), ("output_length", d)):
                v = row.get(key)
                if not isinstance(v, int | float) or isinstance(v, bool) or v < 0:
                    raise InputError(f"trace {path.name} line {lineno} column {key}", v, "a number >= 0")
                sink.append(v)
    if not t:
        raise InputError(f"trace {path.name}", "empty", "at least one request line")
    return _sorted_trace(np.asarray(t, float) / 1e3, np.asarray(p, np.int64), np.asarray(d, np.int64), path)


def _sorted_trace(t, p, d, path: Path) -> Trace:
    order = np.argsort(t, kind="stable")
    # A zero-length prompt or output cannot be served; bump to one token (documented).
    return Trace(t[order] - t[order][0], np.maximum(p[order], 1), np.maximum(d[order], 1), str(path))


def read_trace(path: str | Path, fmt: str = "auto") -> Trace:
    p = Path(path)
    if not p.exists():
        raise InputError("workload.trace", str(p), "an existing Azure CSV or Mooncake JSONL file")
    f = _trace_format(p, fmt)
    return read_azure_trace(p) if f == "azure" else read_mooncake_trace(p)


# ----------------------------------------------------------------------------- streams
def request_stream(wl: SimWorkload, rng: np.random.Generator, chunk: int = CHUNK) -> Iterator[RequestChunk]:
    """Yield request chunks for ``wl.num_requests`` requests (deterministic per ``rng`` state)."""
    n_total = wl.num_requests
    if wl.arrival == "trace":
        yield from _trace_stream(wl, chunk)
        return
    prompt = LengthSampler(wl.prompt_tokens, "workload.prompt_tokens")
    output = LengthSampler(wl.output_tokens, "workload.output_tokens")
    t0 = 0.0
    done = 0
    while done < n_total:
        n = min(chunk, n_total - done)
        if wl.arrival == "closed":
            arrivals = np.full(n, np.nan)
        else:
            if wl.arrival == "poisson":
                gaps = rng.exponential(1.0 / wl.rate_per_s, n)
            else:  # gamma with shape 1/cv^2 keeps the mean gap 1/rate
                shape = 1.0 / wl.cv**2
                gaps = rng.gamma(shape, 1.0 / (wl.rate_per_s * shape), n)
            if done == 0:
                gaps[0] = 0.0
            arrivals = t0 + np.cumsum(gaps)
            t0 = float(arrivals[-1])
        yield RequestChunk(arrivals, prompt.sample(rng, n), output.sample(rng, n))
        done += n


def _trace_stream(wl: SimWorkload, chunk: int) -> Iterator[RequestChunk]:
    tr = read_trace(wl.trace, wl.trace_format)
    scale = 1.0
    if wl.rate_per_s is not None and np.isfinite(tr.rate_per_s):
        scale = tr.rate_per_s / wl.rate_per_s
    t = tr.arrival_s * scale
    gap = float(t[-1] / max(len(t) - 1, 1)) if len(t) > 1 else 1.0 / (wl.rate_per_s or 1.0)
    period = float(t[-1]) + gap
    n_rows = len(t)
    done = 0
    while done < wl.num_requests:
        n = min(chunk, wl.num_requests - done)
        idx = np.arange(done, done + n)
        copy, row = np.divmod(idx, n_rows)
        yield RequestChunk(t[row] + copy * period, tr.prompt_tokens[row], tr.output_tokens[row])
        done += n
