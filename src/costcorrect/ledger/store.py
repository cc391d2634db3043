"""Append-only, hash-chained event ledger in SQLite (WAL) with Ed25519-signed checkpoints.

Each row stores the RFC 8785 canonical JSON of ``{seq, ts, kind, data}`` as ``payload``,
``prev_hash`` (the previous row's ``entry_hash``; 64 zeros for seq 1) and
``entry_hash = SHA-256(bytes.fromhex(prev_hash) || payload_utf8)``. SQL triggers refuse
UPDATE and DELETE on the ledger tables and refuse an INSERT that does not extend the head.
A checkpoint signs ``(ledger_id, seq, head_hash, signed_at)``; one is written every
``checkpoint_every`` events and whenever the application asks (e.g. a round is scored).

:meth:`Ledger.append` runs inside the caller's transaction, so a state change and the event
that records it commit together or not at all.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from costcorrect.ledger.canonical import canonical_text
from costcorrect.ledger.keys import Signer
from costcorrect.ledger.verify_bundle import GENESIS_PREV_HASH, checkpoint_message, entry_hash

FORMAT = "costcorrect-ledger/v1"

SCHEMA = """
CREATE TABLE IF NOT EXISTS ledger_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ledger_events (
    seq INTEGER PRIMARY KEY,
    payload TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    entry_hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS ledger_checkpoints (
    seq INTEGER PRIMARY KEY,
    ledger_id TEXT NOT NULL,
    head_hash TEXT NOT NULL,
    signed_at TEXT NOT NULL,
    signature TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS ledger_events_no_update BEFORE UPDATE ON ledger_events
BEGIN SELECT RAISE(ABORT, 'ledger_events is append-only: UPDATE refused'); END;
CREATE TRIGGER IF NOT EXISTS ledger_events_no_delete BEFORE DELETE ON ledger_events
BEGIN SELECT RAISE(ABORT, 'ledger_events is append-only: DELETE refused'); END;
CREATE TRIGGER IF NOT EXISTS ledger_events_extend_head BEFORE INSERT ON ledger_events
WHEN NEW.seq IS NOT (SELECT COALESCE(MAX(seq), 0) + 1 FROM ledger_events)
  OR NEW.prev_hash IS NOT COALESCE((SELECT entry_hash FROM ledger_events ORDER BY seq DESC LIMIT 1),
                                   '0000000000000000000000000000000000000000000000000000000000000000')
BEGIN SELECT RAISE(ABORT, 'ledger_events: an insert must extend the head'); END;
CREATE TRIGGER IF NOT EXISTS ledger_checkpoints_no_update BEFORE UPDATE ON ledger_checkpoints
BEGIN SELECT RAISE(ABORT, 'ledger_checkpoints is append-only: UPDATE refused'); END;
CREATE TRIGGER IF NOT EXISTS ledger_checkpoints_no_delete BEFORE DELETE ON ledger_checkpoints
BEGIN SELECT RAISE(ABORT, 'ledger_checkpoints is append-only: DELETE refused'); END;
CREATE TRIGGER IF NOT EXISTS ledger_meta_no_update BEFORE UPDATE ON ledger_meta
BEGIN SELECT RAISE(ABORT, 'ledger_meta is append-only: UPDATE refused'); END;
CREATE TRIGGER IF NOT EXISTS ledger_meta_no_delete BEFORE DELETE ON ledger_meta
BEGIN SELECT RAISE(ABORT, 'ledger_meta is append-only: DELETE refused'); END;
"""

T = TypeVar("T")


def utc_now() -> str:
    """ISO-8601 UTC timestamp with microseconds and a ``Z``."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def connect(path: str | Path, *, busy_timeout_ms: int = 10_000) -> sqlite3.Connection:
    """A connection in autocommit mode (we issue BEGIN/COMMIT), WAL, ``synchronous=FULL``."""
    conn = sqlite3.connect(str(path), isolation_level=None, timeout=busy_timeout_ms / 1000,
                           check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    msg = str(exc).lower()
    return "locked" in msg or "busy" in msg


def write_transaction(conn: sqlite3.Connection, fn: Callable[[sqlite3.Connection], T], *,
                      retries: int = 8, backoff_s: float = 0.02) -> T:
    """Run ``fn(conn)`` in ``BEGIN IMMEDIATE`` ... ``COMMIT``; retry when the DB is busy.

    Any exception rolls the whole transaction back (no partial write). Only a busy/locked
    error at BEGIN or COMMIT is retried; ``fn`` must therefore be safe to re-run.
    """
    for attempt in range(retries + 1):
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if _is_busy(exc) and attempt < retries:
                time.sleep(backoff_s * (2 ** attempt))
                continue
            raise
        try:
            result = fn(conn)
            conn.execute("COMMIT")
            return result
        except sqlite3.OperationalError as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if _is_busy(exc) and attempt < retries:
                time.sleep(backoff_s * (2 ** attempt))
                continue
            raise
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    raise RuntimeError("unreachable")  # pragma: no cover


@dataclass(frozen=True)
class Receipt:
    """What an appended event got: its sequence number and entry hash."""

    seq: int
    entry_hash: str

    def as_dict(self) -> dict:
        return {"seq": self.seq, "entry_hash": self.entry_hash}


class Ledger:
    """The ledger tables inside an SQLite database; the signer signs checkpoints."""

    def __init__(self, signer: Signer | None, *, checkpoint_every: int = 100):
        self.signer = signer
        self.checkpoint_every = int(checkpoint_every)

    # --- setup
    def init(self, conn: sqlite3.Connection) -> dict:
        """Create the tables and the genesis event if missing; check the key matches. Returns meta."""
        conn.executescript(SCHEMA)

        def _init(c: sqlite3.Connection) -> dict:
            meta = read_meta(c)
            if meta:
                return meta
            if self.signer is None:
                raise ValueError("a new ledger needs a signing key")
            meta = {"format": FORMAT, "ledger_id": str(uuid.uuid4()), "created_at": utc_now(),
                    "public_key_hex": self.signer.public_key_hex}
            c.executemany("INSERT INTO ledger_meta(key, value) VALUES (?, ?)", list(meta.items()))
            self.append(c, "ledger.genesis", dict(meta))
            self.checkpoint(c)
            return meta

        meta = write_transaction(conn, _init)
        if self.signer is not None and meta["public_key_hex"] != self.signer.public_key_hex:
            from costcorrect.errors import InputError

            raise InputError("key", self.signer.public_key_hex[:16] + "...",
                             f"the key this ledger was created with (public key "
                             f"{meta['public_key_hex'][:16]}...)")
        return meta

    # --- writes (inside the caller's transaction)
    def append(self, conn: sqlite3.Connection, kind: str, data: dict, ts: str | None = None) -> Receipt:
        row = conn.execute("SELECT seq, entry_hash FROM ledger_events ORDER BY seq DESC LIMIT 1").fetchone()
        seq, prev = (row[0] + 1, row[1]) if row else (1, GENESIS_PREV_HASH)
        payload = canonical_text({"seq": seq, "ts": ts or utc_now(), "kind": kind, "data": data}, "data")
        h = entry_hash(prev, payload)
        conn.execute("INSERT INTO ledger_events(seq, payload, prev_hash, entry_hash) VALUES (?, ?, ?, ?)",
                     (seq, payload, prev, h))
        if self.signer is not None and self.checkpoint_every > 0 and seq % self.checkpoint_every == 0:
            self.checkpoint(conn)
        return Receipt(seq, h)

    def checkpoint(self, conn: sqlite3.Connection) -> dict | None:
        """Sign the current head (no-op when the head is already checkpointed)."""
        if self.signer is None:
            raise ValueError("checkpoints need a signing key")
        row = conn.execute("SELECT seq, entry_hash FROM ledger_events ORDER BY seq DESC LIMIT 1").fetchone()
        if row is None:
            return None
        seq, head = row
        done = conn.execute("SELECT 1 FROM ledger_checkpoints WHERE seq = ?", (seq,)).fetchone()
        if done:
            return None
        ledger_id = conn.execute("SELECT value FROM ledger_meta WHERE key='ledger_id'").fetchone()[0]
        signed_at = utc_now()
        sig = self.signer.sign(checkpoint_message(ledger_id, seq, head, signed_at)).hex()
        conn.execute("INSERT INTO ledger_checkpoints(seq, ledger_id, head_hash, signed_at, signature) "
                     "VALUES (?, ?, ?, ?, ?)", (seq, ledger_id, head, signed_at, sig))
        return {"ledger_id": ledger_id, "seq": seq, "head_hash": head, "signed_at": signed_at, "signature": sig}


# ----------------------------------------------------------------------------- reads
def read_meta(conn: sqlite3.Connection) -> dict:
    try:
        return dict(conn.execute("SELECT key, value FROM ledger_meta").fetchall())
    except sqlite3.OperationalError:
        return {}


def read_events(conn: sqlite3.Connection) -> list[tuple]:
    """Rows ``(seq, payload, prev_hash, entry_hash)`` in storage (rowid) order."""
    return conn.execute("SELECT seq, payload, prev_hash, entry_hash FROM ledger_events ORDER BY rowid").fetchall()


def read_checkpoints(conn: sqlite3.Connection) -> list[dict]:
    cur = conn.execute("SELECT seq, ledger_id, head_hash, signed_at, signature FROM ledger_checkpoints "
                       "ORDER BY seq")
    return [dict(zip(("seq", "ledger_id", "head_hash", "signed_at", "signature"), r, strict=True))
            for r in cur.fetchall()]


def latest_checkpoint(conn: sqlite3.Connection) -> dict | None:
    cps = read_checkpoints(conn)
    if not cps:
        return None
    out = dict(cps[-1])
    out["public_key_hex"] = read_meta(conn).get("public_key_hex")
    return out


def open_ledger(db_path: str | Path, signer: Signer, *, checkpoint_every: int = 100
                ) -> tuple[sqlite3.Connection, Ledger, dict]:
    """Connect, create the ledger if new, and return ``(conn, ledger, meta)``."""
    conn = connect(db_path)
    led = Ledger(signer, checkpoint_every=checkpoint_every)
    meta = led.init(conn)
    return conn, led, meta
