"""Bearer tokens: ``cc_<token_id>_<secret>``; only SHA-256(secret) is stored.

The token id selects the row; the secret's hash is compared with :func:`hmac.compare_digest`
(constant time). Secrets carry 256 bits of entropy, so a plain SHA-256 (no slow KDF) is the
right storage hash.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from costcorrect.errors import InputError

_TOKEN = re.compile(r"^cc_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$")
_DUMMY_HASH = hashlib.sha256(b"no such token").hexdigest()


@dataclass(frozen=True)
class Identity:
    name: str
    role: str  # "buyer" | "vendor"


def new_token() -> tuple[str, str, str]:
    """``(token, token_id, secret_hash)`` for a new identity."""
    token_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)  # 43 characters
    return f"cc_{token_id}_{secret}", token_id, hashlib.sha256(secret.encode()).hexdigest()


def parse_token(token: str) -> tuple[str, str] | None:
    m = _TOKEN.match(token or "")
    return (m.group(1), m.group(2)) if m else None


def check_token(token: str, lookup) -> Identity | None:
    """Identity for ``token`` or None; ``lookup(token_id)`` returns the stored row or None."""
    parsed = parse_token(token)
    token_id, secret = parsed if parsed else ("", "")
    row = lookup(token_id) if parsed else None
    stored = row["token_hash"] if row else _DUMMY_HASH
    ok = hmac.compare_digest(hashlib.sha256(secret.encode()).hexdigest(), stored)
    return Identity(row["name"], row["role"]) if (ok and row) else None


def create_identity(store, name: str, role: str) -> tuple[str, dict]:
    """Register ``name`` as ``role``; returns the token (shown once) and the ledger receipt."""
    if role not in ("buyer", "vendor"):
        raise InputError("role", role, "buyer or vendor")
    if not re.match(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,99}$", name or ""):
        raise InputError("name", name, "1-100 characters: letters, digits, . _ @ + - (not first)")
    token, token_id, secret_hash = new_token()

    def _tx(tx):
        if tx.identity_by_name(name) is not None:
            raise InputError("name", name, "a name not already registered")
        tx.add_identity(token_id, name, role, secret_hash)
        return tx.append("identity.created", {"name": name, "role": role, "token_id": token_id})

    receipt = store.write(_tx)
    return token, receipt.as_dict()
