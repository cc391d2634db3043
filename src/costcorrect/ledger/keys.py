"""Ed25519 signing key for ledger checkpoints (``cryptography``), kept in a file beside the DB.

The private key never enters the database: someone who can write the SQLite file but not
the key file cannot forge a checkpoint. The public key is stored in the ledger (genesis
event and ``ledger_meta``) and exported with every evidence bundle.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from costcorrect.errors import InputError
from costcorrect.io import atomic_write_bytes


@dataclass(frozen=True)
class Signer:
    """An Ed25519 private key and its raw public key (hex)."""

    key: Ed25519PrivateKey

    @property
    def public_key_raw(self) -> bytes:
        return self.key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    @property
    def public_key_hex(self) -> str:
        return self.public_key_raw.hex()

    def public_key_pem(self) -> str:
        return self.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()

    def sign(self, message: bytes) -> bytes:
        return self.key.sign(message)


def default_key_path(db_path: str | Path) -> Path:
    """``<db>.ed25519.pem`` beside the database."""
    p = Path(db_path)
    return p.with_name(p.name + ".ed25519.pem")


def load_or_create_signer(path: str | Path, *, create: bool = True) -> Signer:
    """Read the PEM private key at ``path``; create one (mode 0600) when missing and allowed."""
    path = Path(path)
    if path.exists():
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except (ValueError, TypeError) as exc:
            raise InputError("key", str(path), f"an unencrypted Ed25519 PEM private key ({exc})") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise InputError("key", str(path), "an Ed25519 private key")
        return Signer(key)
    if not create:
        raise InputError("key", str(path), "an existing Ed25519 signing key file")
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    atomic_write_bytes(path, pem, private=True)
    return Signer(key)


def verify_signature(public_key_raw: bytes, message: bytes, signature: bytes) -> bool:
    """Ed25519 verification through ``cryptography`` (same contract as the stdlib verifier)."""
    try:
        Ed25519PublicKey.from_public_bytes(public_key_raw).verify(signature, message)
        return True
    except (InvalidSignature, ValueError):
        return False
