"""Tamper-evident audit ledger (issue 10): append-only SQLite events, SHA-256 chain, RFC 8785
canonical payloads, Ed25519-signed checkpoints, and an evidence-bundle export whose verifier
needs only the Python standard library. See ``docs/ledger.md``."""

from __future__ import annotations

from costcorrect.ledger.store import Ledger, Receipt, connect, open_ledger, write_transaction

__all__ = ["Ledger", "Receipt", "connect", "open_ledger", "write_transaction"]
