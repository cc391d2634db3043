"""Storage behind one small interface: :class:`Store` runs a function in a read or a write
transaction and hands it a :class:`Tx` with the few operations the service needs.

:class:`SQLiteStore` is the embedded default (the ledger tables and the round tables share one
SQLite file, so a state change and its ledger event commit atomically). A PostgreSQL store
implements the same two classes: ``write`` = a SERIALIZABLE transaction (or one holding an
advisory lock on the ledger head) retried on serialization failure.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Protocol, TypeVar

from costcorrect.ledger.keys import Signer
from costcorrect.ledger.store import Ledger, Receipt, connect, utc_now, write_transaction

T = TypeVar("T")

SCHEMA = """
CREATE TABLE IF NOT EXISTS identities (
    token_id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('buyer', 'vendor')),
    token_hash TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS rounds (
    round_id TEXT PRIMARY KEY,
    buyer TEXT NOT NULL,
    phase TEXT NOT NULL CHECK (phase IN ('commit', 'reveal', 'scored')),
    spec TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS commitments (
    round_id TEXT NOT NULL REFERENCES rounds(round_id),
    vendor TEXT NOT NULL,
    commitment TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (round_id, vendor)
);
CREATE TABLE IF NOT EXISTS reveals (
    round_id TEXT NOT NULL REFERENCES rounds(round_id),
    vendor TEXT NOT NULL,
    salt TEXT NOT NULL,
    reports TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (round_id, vendor)
);
CREATE TABLE IF NOT EXISTS labels (
    round_id TEXT PRIMARY KEY REFERENCES rounds(round_id),
    salt TEXT NOT NULL,
    labels TEXT NOT NULL,
    seq INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS results (
    round_id TEXT PRIMARY KEY REFERENCES rounds(round_id),
    result TEXT NOT NULL,
    seq INTEGER NOT NULL
);
"""


class Tx(Protocol):
    """Operations inside one transaction (all parameters bound; no SQL built from strings)."""

    def identity(self, token_id: str) -> dict | None: ...
    def identity_by_name(self, name: str) -> dict | None: ...
    def add_identity(self, token_id: str, name: str, role: str, token_hash: str) -> None: ...
    def add_round(self, round_id: str, buyer: str, spec: dict) -> None: ...
    def round(self, round_id: str) -> dict | None: ...
    def set_phase(self, round_id: str, phase: str) -> None: ...
    def add_commitment(self, round_id: str, vendor: str, commitment: str, seq: int) -> None: ...
    def commitments(self, round_id: str) -> dict[str, dict]: ...
    def add_reveal(self, round_id: str, vendor: str, salt: str, reports: list, seq: int) -> None: ...
    def reveals(self, round_id: str) -> dict[str, dict]: ...
    def reveal(self, round_id: str, vendor: str) -> dict | None: ...
    def revealed_vendors(self, round_id: str) -> set[str]: ...
    def set_labels(self, round_id: str, salt: str, labels: list, seq: int) -> None: ...
    def set_result(self, round_id: str, result: dict, seq: int) -> None: ...
    def result(self, round_id: str) -> dict | None: ...
    def append(self, kind: str, data: dict) -> Receipt: ...
    def checkpoint(self) -> dict | None: ...
    def head(self) -> tuple[int, str]: ...


class Store(Protocol):
    def read(self, fn: Callable[[Tx], T]) -> T: ...
    def write(self, fn: Callable[[Tx], T]) -> T: ...
    def close(self) -> None: ...


class SQLiteTx:
    def __init__(self, conn: sqlite3.Connection, ledger: Ledger, spec_cache: dict | None = None):
        self.c = conn
        self.ledger = ledger
        self.spec_cache = {} if spec_cache is None else spec_cache  # specs never change after creation

    def identity(self, token_id):
        r = self.c.execute("SELECT token_id, name, role, token_hash FROM identities WHERE token_id = ?",
                           (token_id,)).fetchone()
        return None if r is None else dict(zip(("token_id", "name", "role", "token_hash"), r, strict=True))

    def identity_by_name(self, name):
        r = self.c.execute("SELECT token_id, name, role FROM identities WHERE name = ?", (name,)).fetchone()
        return None if r is None else dict(zip(("token_id", "name", "role"), r, strict=True))

    def add_identity(self, token_id, name, role, token_hash):
        self.c.execute("INSERT INTO identities(token_id, name, role, token_hash, created_at) VALUES (?,?,?,?,?)",
                       (token_id, name, role, token_hash, utc_now()))

    def add_round(self, round_id, buyer, spec):
        self.c.execute("INSERT INTO rounds(round_id, buyer, phase, spec, created_at) VALUES (?,?,?,?,?)",
                       (round_id, buyer, "commit", json.dumps(spec), utc_now()))

    def round(self, round_id):
        r = self.c.execute("SELECT round_id, buyer, phase FROM rounds WHERE round_id = ?", (round_id,)).fetchone()
        if r is None:
            return None
        spec = self.spec_cache.get(round_id)
        if spec is None:
            row = self.c.execute("SELECT spec FROM rounds WHERE round_id = ?", (round_id,)).fetchone()
            spec = self.spec_cache[round_id] = json.loads(row[0])
        return {"round_id": r[0], "buyer": r[1], "phase": r[2], "spec": spec}

    def set_phase(self, round_id, phase):
        self.c.execute("UPDATE rounds SET phase = ? WHERE round_id = ?", (phase, round_id))

    def add_commitment(self, round_id, vendor, commitment, seq):
        self.c.execute("INSERT INTO commitments(round_id, vendor, commitment, seq) VALUES (?,?,?,?)",
                       (round_id, vendor, commitment, seq))

    def commitments(self, round_id):
        cur = self.c.execute("SELECT vendor, commitment, seq FROM commitments WHERE round_id = ?", (round_id,))
        return {v: {"commitment": c, "seq": s} for v, c, s in cur.fetchall()}

    def add_reveal(self, round_id, vendor, salt, reports, seq):
        self.c.execute("INSERT INTO reveals(round_id, vendor, salt, reports, seq) VALUES (?,?,?,?,?)",
                       (round_id, vendor, salt, json.dumps(reports), seq))

    def reveals(self, round_id):
        cur = self.c.execute("SELECT vendor, salt, reports, seq FROM reveals WHERE round_id = ?", (round_id,))
        return {v: {"salt": s, "reports": json.loads(r), "seq": q} for v, s, r, q in cur.fetchall()}

    def reveal(self, round_id, vendor):
        r = self.c.execute("SELECT salt, reports, seq FROM reveals WHERE round_id = ? AND vendor = ?",
                           (round_id, vendor)).fetchone()
        return None if r is None else {"salt": r[0], "reports": json.loads(r[1]), "seq": r[2]}

    def revealed_vendors(self, round_id):
        return {v for (v,) in self.c.execute("SELECT vendor FROM reveals WHERE round_id = ?", (round_id,))}

    def set_labels(self, round_id, salt, labels, seq):
        self.c.execute("INSERT INTO labels(round_id, salt, labels, seq) VALUES (?,?,?,?)",
                       (round_id, salt, json.dumps(labels), seq))

    def set_result(self, round_id, result, seq):
        self.c.execute("INSERT INTO results(round_id, result, seq) VALUES (?,?,?)",
                       (round_id, json.dumps(result), seq))

    def result(self, round_id):
        r = self.c.execute("SELECT result FROM results WHERE round_id = ?", (round_id,)).fetchone()
        return None if r is None else json.loads(r[0])

    def append(self, kind, data):
        return self.ledger.append(self.c, kind, data)

    def checkpoint(self):
        return self.ledger.checkpoint(self.c)

    def head(self):
        r = self.c.execute("SELECT seq, entry_hash FROM ledger_events ORDER BY seq DESC LIMIT 1").fetchone()
        return (r[0], r[1]) if r else (0, "0" * 64)


class SQLiteStore:
    """One SQLite file (WAL); one connection per thread; writes in ``BEGIN IMMEDIATE`` with retries."""

    def __init__(self, db_path: str | Path, signer: Signer, *, checkpoint_every: int = 100):
        self.db_path = str(db_path)
        self.ledger = Ledger(signer, checkpoint_every=checkpoint_every)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._specs: dict[str, dict] = {}
        conn = self._conn()
        self.meta = self.ledger.init(conn)
        conn.executescript(SCHEMA)

    def _conn(self) -> sqlite3.Connection:
        c = getattr(self._local, "conn", None)
        if c is None:
            c = connect(self.db_path)
            self._local.conn = c
            with self._lock:
                self._all.append(c)
        return c

    def read(self, fn):
        c = self._conn()
        c.execute("BEGIN")
        try:
            return fn(SQLiteTx(c, self.ledger, self._specs))
        finally:
            c.execute("COMMIT")

    def write(self, fn):
        c = self._conn()
        return write_transaction(c, lambda conn: fn(SQLiteTx(conn, self.ledger, self._specs)))

    def close(self) -> None:
        with self._lock:
            for c in self._all:
                try:
                    c.close()
                except sqlite3.ProgrammingError:  # pragma: no cover - closed from another thread
                    pass
            self._all.clear()
        self._local = threading.local()
