"""Verify a ledger database file: the chain, the canonical payloads and the signed checkpoints.

The checks are :func:`costcorrect.ledger.verify_bundle.check_chain` (the same code the
auditor's stdlib-only script runs), here fed from SQLite, with ``rfc8785`` for the
canonical-form check and ``cryptography`` for Ed25519.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from costcorrect.errors import InputError
from costcorrect.ledger.store import read_checkpoints, read_events, read_meta
from costcorrect.ledger.verify_bundle import Problem, Report, check_chain


def _canonical(obj) -> str:
    from costcorrect.ledger.canonical import canonical_text

    try:
        return canonical_text(obj)
    except InputError as exc:
        raise ValueError(str(exc)) from None


def open_readonly(db_path: str | Path) -> sqlite3.Connection:
    p = Path(db_path)
    if not p.is_file():
        raise InputError("db", str(db_path), "an existing ledger database file")
    return sqlite3.connect(f"{p.resolve().as_uri()}?mode=ro", uri=True)


def read_ledger(db_path: str | Path) -> tuple[dict, list[tuple], list[dict]]:
    """``(meta, events, checkpoints)`` of a ledger file, read in one read-only connection."""
    conn = open_readonly(db_path)
    try:
        return read_meta(conn), read_events(conn), read_checkpoints(conn)
    finally:
        conn.close()


def verify_db(db_path: str | Path, external_checkpoint: dict | None = None,
              public_key_hex: str | None = None) -> Report:
    """Recompute the chain of ``db_path`` and check every checkpoint's signature and head.

    ``external_checkpoint`` is a checkpoint kept outside the database (it catches a full
    rewrite or a truncation after the database's own last checkpoint); ``public_key_hex``
    pins the signing key instead of trusting the one stored in the database.
    """
    from costcorrect.ledger.keys import verify_signature

    try:
        meta, rows, cps = read_ledger(db_path)
    except sqlite3.DatabaseError as exc:
        rep = Report()
        rep.problems.append(Problem(None, "unreadable", f"SQLite cannot read the file: {exc}"))
        return rep
    extra: list[Problem] = []
    if not meta:
        rep = Report()
        rep.problems.append(Problem(None, "no-ledger", "the file holds no ledger_meta table/rows"))
        return rep
    key_hex = meta.get("public_key_hex", "")
    if public_key_hex and public_key_hex != key_hex:
        extra.append(Problem(None, "key-changed", "the database's public key differs from the pinned --public-key"))
        key_hex = public_key_hex
    if external_checkpoint is not None:
        ext_key = external_checkpoint.get("public_key_hex")
        if ext_key and ext_key != key_hex:
            extra.append(Problem(None, "key-changed",
                                 "the database's public key differs from the external checkpoint's"))
            key_hex = ext_key
        cps = [*cps, dict(external_checkpoint, _source="external")]
    try:
        key = bytes.fromhex(key_hex)
    except ValueError:
        key = None
    rep = check_chain(rows, cps, key, meta.get("ledger_id"), canonicalize=_canonical,
                      verify_signature=verify_signature)
    # the genesis event must name the same ledger id and key as the meta table
    if rows:
        import json

        try:
            g = json.loads(rows[0][1]).get("data", {})
        except (ValueError, AttributeError):
            g = {}
        if g.get("ledger_id") != meta.get("ledger_id") or g.get("public_key_hex") != meta.get("public_key_hex"):
            extra.append(Problem(1, "meta-mismatch", "ledger_meta (id/public key) differs from the genesis event"))
    rep.problems.extend(extra)
    return rep
