"""Resumable results: a Parquet dataset of atomic part files, one per finished task.

Layout of ``--out DIR`` (readable as one table by ``pandas.read_parquet(DIR)`` or
``pyarrow.dataset``; files starting with ``_`` or ``.`` are ignored by both):

- ``part-<task_id>.parquet`` — the rows of one finished task (one deployment at one
  request count: one row per SLO bin), written to a temporary file and renamed, so a
  part is either whole or absent. The task id is a hash of the configuration, so a
  rerun never writes a second copy: no lost and no duplicated rows after a SIGKILL.
- ``_run.json`` — what the rows were computed from (scenario, space, settings); a rerun
  with different inputs into the same folder is refused instead of mixing results.
- ``_lock`` — held (``flock``) while a run writes; the kernel drops it if the process dies.
- ``_summary.json``, ``_pareto.svg``/``.png`` — written at the end of a run.
"""

from __future__ import annotations

import fcntl
import io
import json
from pathlib import Path

from costcorrect.errors import InputError
from costcorrect.io import atomic_write_bytes, atomic_write_text, dumps

PART_PREFIX = "part-"


class ResultStore:
    def __init__(self, root: str | Path, manifest: dict, schema):
        self.root = Path(root)
        self.manifest = json.loads(dumps(manifest))
        self.schema = schema
        self._lock_fh = None

    # -- lifecycle
    def open(self) -> ResultStore:
        if self.root.exists() and not self.root.is_dir():
            raise InputError("--out", str(self.root), "a folder for the Parquet dataset (a file is in the way)")
        self.root.mkdir(parents=True, exist_ok=True)
        fh = (self.root / "_lock").open("a+")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.close()
            raise InputError("--out", str(self.root), "a folder no other running tune is writing to") from None
        self._lock_fh = fh
        man = self.root / "_run.json"
        if man.exists():
            try:
                old = json.loads(man.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError):
                old = None
            if old != self.manifest:
                self.close()
                diff = sorted(k for k in set(old or {}) | set(self.manifest)
                              if (old or {}).get(k) != self.manifest.get(k))
                raise InputError("--out", str(self.root),
                                 f"a folder of the same run (its _run.json differs in: {', '.join(diff) or 'format'});"
                                 " use a new --out or delete the folder")
        else:
            atomic_write_text(man, dumps(self.manifest) + "\n")
        for stale in self.root.glob(f".{PART_PREFIX}*.tmp"):  # left by a killed run
            stale.unlink(missing_ok=True)
        return self

    def close(self) -> None:
        if self._lock_fh is not None:
            fcntl.flock(self._lock_fh, fcntl.LOCK_UN)
            self._lock_fh.close()
            self._lock_fh = None

    def __enter__(self):
        return self.open()

    def __exit__(self, *exc):
        self.close()

    # -- parts
    def part_path(self, task_id: str) -> Path:
        return self.root / f"{PART_PREFIX}{task_id}.parquet"

    def done(self) -> set[str]:
        n = len(PART_PREFIX)
        return {p.name[n:-len(".parquet")] for p in self.root.glob(f"{PART_PREFIX}*.parquet")}

    def write(self, task_id: str, rows: list[dict]) -> Path:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pylist(rows, schema=self.schema)
        buf = io.BytesIO()
        pq.write_table(table, buf)
        return atomic_write_bytes(self.part_path(task_id), buf.getvalue())

    def read(self, task_ids=None) -> list[dict]:
        import pyarrow.parquet as pq

        ids = sorted(self.done() if task_ids is None else task_ids)
        rows: list[dict] = []
        for tid in ids:
            p = self.part_path(tid)
            if p.exists():
                rows.extend(pq.read_table(p, schema=self.schema).to_pylist())
        return rows

    def write_extra(self, name: str, data: bytes | str) -> Path:
        path = self.root / name
        if isinstance(data, str):
            data = data.encode("utf-8")
        return atomic_write_bytes(path, data)

