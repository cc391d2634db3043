"""Generic seed-vectorised sweep runner (used by the §7 simulation; reusable by paper 07
and by any other sweep that evaluates a grid of cells over many seeds).

Interface
---------
``run_grid(cell_fn, grid, seeds=..., ...) -> pandas.DataFrame``

* ``cell_fn(params: dict, seeds: np.ndarray) -> pandas.DataFrame | list[dict]``: a
  *module-level* (picklable) function that evaluates one grid cell for a whole block of
  seeds at once — vectorise across seeds inside it. Its result must not depend on how the
  seeds are blocked (draw each seed's randomness from ``np.random.default_rng(seed)``-style
  per-seed generators, as :mod:`costcorrect.verification.simulate` does), so that resumed,
  re-chunked and naive per-seed runs agree exactly.
* ``grid``: a dict ``{name: [values...]}`` (Cartesian product) or a list of param dicts.
* ``seeds``: an int (``range(seeds)``) or a sequence of ints. ``seed_chunk`` seeds go to one
  task (default: all seeds of a cell in one task).
* ``backend``: ``"local"`` (a process pool of ``workers`` processes; ``workers=1`` runs
  in-process) or ``"ray"`` (``ray.remote`` tasks; needs ``pip install 'costcorrect[ray]'``).
* ``out_dir``: when given, every finished task is written atomically to
  ``out_dir/parts/<key>.parquet`` (CSV when pyarrow is not installed) and skipped on the
  next run with the same cell and seeds — a sweep killed halfway resumes where it stopped.
* ``progress``: a Rich progress bar on stderr.

The returned frame has the cell's params as columns (unless ``cell_fn`` already set them).
"""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import numpy as np
import pandas as pd

from costcorrect.errors import InputError
from costcorrect.io import atomic_write_bytes

BACKENDS = ("local", "ray")


def expand_grid(grid: dict | Sequence[dict]) -> list[dict]:
    """Cells of a grid: a dict of lists becomes its Cartesian product, a list is kept."""
    if isinstance(grid, dict):
        names = list(grid)
        return [dict(zip(names, vals, strict=True)) for vals in itertools.product(*(grid[k] for k in names))]
    return [dict(c) for c in grid]


def parquet_available() -> bool:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


def _task_key(params: dict, seeds: np.ndarray, tag: str) -> str:
    blob = json.dumps({"p": params, "s": [int(seeds[0]), int(seeds[-1]), len(seeds)], "t": tag},
                      sort_keys=True, default=str)
    return hashlib.sha1(blob.encode()).hexdigest()[:16]


def _to_frame(res, params: dict) -> pd.DataFrame:
    df = res if isinstance(res, pd.DataFrame) else pd.DataFrame(list(res))
    for k, v in params.items():
        if k not in df.columns:
            df[k] = v
    return df


def _run_task(cell_fn: Callable, params: dict, seeds: np.ndarray) -> pd.DataFrame:
    return _to_frame(cell_fn(params, np.asarray(seeds)), params)


def _write_part(path: Path, df: pd.DataFrame, fmt: str) -> None:
    if fmt == "parquet":
        buf = io.BytesIO()
        df.to_parquet(buf, index=False)
        atomic_write_bytes(path, buf.getvalue())
    else:
        atomic_write_bytes(path, df.to_csv(index=False).encode())


def _read_part(path: Path) -> pd.DataFrame:
    return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)


def run_grid(cell_fn: Callable, grid: dict | Sequence[dict], *, seeds: int | Iterable[int] = 200,
             seed_chunk: int | None = None, backend: str = "local", workers: int | None = None,
             out_dir: str | Path | None = None, progress: bool = False, tag: str = "",
             fmt: str | None = None) -> pd.DataFrame:
    """Evaluate ``cell_fn`` on every cell of ``grid`` for every seed; see the module docstring."""
    if backend not in BACKENDS:
        raise InputError("backend", backend, "one of " + ", ".join(BACKENDS))
    seed_arr = np.arange(int(seeds)) if isinstance(seeds, int | np.integer) else np.asarray(list(seeds), dtype=np.int64)
    if seed_arr.size == 0:
        raise InputError("seeds", 0, "at least one seed")
    cells = expand_grid(grid)
    if not cells:
        raise InputError("grid", grid, "at least one cell")
    chunk = int(seed_chunk or seed_arr.size)
    if chunk < 1:
        raise InputError("seed_chunk", seed_chunk, "an integer >= 1")
    tasks = [(c, seed_arr[i:i + chunk]) for c in cells for i in range(0, seed_arr.size, chunk)]

    fmt = fmt or ("parquet" if parquet_available() else "csv")
    if fmt == "parquet" and not parquet_available():
        raise InputError("format", fmt, "csv, or install pyarrow ('costcorrect[parquet]') for parquet")
    parts_dir = Path(out_dir) / "parts" if out_dir is not None else None
    frames: dict[int, pd.DataFrame] = {}
    todo = []
    for i, (params, s) in enumerate(tasks):
        if parts_dir is not None:
            path = parts_dir / f"{_task_key(params, s, tag)}.{fmt}"
            if path.exists():
                frames[i] = _read_part(path)
                continue
        todo.append(i)

    def done(i: int, df: pd.DataFrame) -> None:
        frames[i] = df
        if parts_dir is not None:
            params, s = tasks[i]
            _write_part(parts_dir / f"{_task_key(params, s, tag)}.{fmt}", df, fmt)

    bar = None
    if progress:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

        from costcorrect.cli.common import err_console

        bar = Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                       TimeElapsedColumn(), console=err_console, transient=True)
        bar.start()
        tid = bar.add_task("sweep", total=len(tasks), completed=len(tasks) - len(todo))
    try:
        n_workers = int(workers or os.cpu_count() or 1)
        if backend == "ray":
            try:
                import ray
            except ImportError:
                raise InputError("backend", "ray", "installed ray: pip install 'costcorrect[ray]'") from None
            if not ray.is_initialized():
                ray.init(ignore_reinit_error=True, log_to_driver=False)
            remote = ray.remote(_run_task)
            refs = {remote.remote(cell_fn, tasks[i][0], tasks[i][1]): i for i in todo}
            pending = list(refs)
            while pending:
                ready, pending = ray.wait(pending, num_returns=1)
                done(refs[ready[0]], ray.get(ready[0]))
                if bar:
                    bar.advance(tid)
        elif n_workers <= 1 or len(todo) <= 1:
            for i in todo:
                done(i, _run_task(cell_fn, *tasks[i]))
                if bar:
                    bar.advance(tid)
        else:
            with ProcessPoolExecutor(max_workers=min(n_workers, len(todo))) as ex:
                futs = {ex.submit(_run_task, cell_fn, *tasks[i]): i for i in todo}
                for f in as_completed(futs):
                    done(futs[f], f.result())
                    if bar:
                        bar.advance(tid)
    finally:
        if bar:
            bar.stop()
    return pd.concat([frames[i] for i in range(len(tasks))], ignore_index=True)
