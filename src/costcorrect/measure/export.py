"""Write simulator records as a vLLM serving-benchmark JSON (for the round-trip test).

The simulator's per-request records (``costcorrect simulate --out DIR`` →
``records.parquet``, columns in :data:`costcorrect.simulator.metrics.RECORD_COLUMNS`)
carry arrival, first-token and finish times but not every token's time. The export
writes ``ttfts`` and ``latencies`` exactly and splits each request's decode time
evenly into ``output − 1`` ``itls``, so Σ ITL, TPOT and the SLO decision are exact
while the ITL *distribution* is not (it is flat per request). ``duration`` is the
simulator's: last finish − first arrival. Files say they were made this way
(``costcorrect_export``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from costcorrect.errors import InputError

NEEDED = ("arrival_s", "first_token_s", "finish_s", "prompt_tokens", "output_tokens")


def read_records(path: str | Path) -> dict[str, np.ndarray]:
    """Columns of a simulator records Parquet file as NumPy arrays."""
    import pyarrow.parquet as pq

    p = Path(path)
    if not p.is_file():
        raise InputError("records", str(p), "an existing records.parquet from costcorrect simulate --out")
    table = pq.read_table(p)
    missing = [c for c in NEEDED if c not in table.column_names]
    if missing:
        raise InputError(f"{p.name}: column {missing[0]}", table.column_names, "simulator record columns")
    return {c: table.column(c).to_numpy() for c in table.column_names}


def records_to_vllm(records: dict[str, np.ndarray], *, itls: bool = True, label: str = "costcorrect-sim") -> dict:
    """A vLLM ``--save-result``-shaped dict from simulator records (times in s)."""
    order = np.argsort(records["arrival_s"], kind="stable")
    arr = np.asarray(records["arrival_s"], dtype=float)[order]
    first = np.asarray(records["first_token_s"], dtype=float)[order]
    fin = np.asarray(records["finish_s"], dtype=float)[order]
    prompt = np.asarray(records["prompt_tokens"], dtype=np.int64)[order]
    out = np.asarray(records["output_tokens"], dtype=np.int64)[order]
    t0 = float(arr.min())
    duration = float(fin.max() - t0)
    ttfts = first - arr
    latencies = fin - arr
    decode = fin - first
    n = len(arr)
    doc = {
        "date": None,
        "backend": label,
        "duration": duration,
        "completed": n,
        "failed": 0,
        "total_input_tokens": int(prompt.sum()),
        "total_output_tokens": int(out.sum()),
        "request_throughput": n / duration if duration > 0 else None,
        "output_throughput": float(out.sum()) / duration if duration > 0 else None,
        "input_lens": prompt.tolist(),
        "output_lens": out.tolist(),
        "ttfts": ttfts.tolist(),
        "itls": [[float(decode[i]) / (int(out[i]) - 1)] * (int(out[i]) - 1) if itls and out[i] > 1 else []
                 for i in range(n)],
        "latencies": latencies.tolist(),
        "start_times": (arr - t0).tolist(),
        "errors": [""] * n,
        "costcorrect_export": ("written by costcorrect from simulator records: ttfts, latencies and start_times "
                               "exact; itls split each request's decode time evenly (the simulator does not "
                               "record per-token times)"),
    }
    return doc
