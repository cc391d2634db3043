"""RFC 8785 canonical JSON through the maintained ``rfc8785`` library.

The evidence bundle's verifier re-implements the same serialisation in the standard library
(:func:`costcorrect.ledger.verify_bundle.canonical_json`); a property test keeps them equal.
"""

from __future__ import annotations

import hashlib

import rfc8785

from costcorrect.errors import InputError


def canonical_bytes(obj, field: str = "payload") -> bytes:
    """RFC 8785 bytes of a JSON value; values JSON cannot carry raise :class:`InputError`.

    >>> canonical_bytes({"b": 1.0, "a": [0.5, None]})
    b'{"a":[0.5,null],"b":1}'
    """
    try:
        return rfc8785.dumps(obj)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise InputError(field, type(obj).__name__,
                         f"JSON values (finite numbers, integers within ±2^53, string keys): {exc}") from None


def canonical_text(obj, field: str = "payload") -> str:
    return canonical_bytes(obj, field).decode("utf-8")


def commitment_hex(salt: str, value) -> str:
    """Commit-reveal hash: hex SHA-256 of ``salt`` (UTF-8) followed by RFC 8785 JSON of ``value``.

    >>> commitment_hex("s", [{"item_id": "a", "prob": 0.5}]) == hashlib.sha256(
    ...     b's[{"item_id":"a","prob":0.5}]').hexdigest()
    True
    """
    return hashlib.sha256(salt.encode("utf-8") + canonical_bytes(value, "reports")).hexdigest()
