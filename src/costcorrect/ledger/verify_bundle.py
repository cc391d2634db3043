#!/usr/bin/env python3
"""Verify a costcorrect ledger evidence bundle with nothing but the Python standard library.

This file is copied verbatim into every evidence bundle as ``verify_bundle.py``; the
``costcorrect ledger verify`` command runs the very same :func:`check_chain` on the rows it
reads from the SQLite file, so the auditor's script and the operator's check cannot drift.

What it checks (``python3 verify_bundle.py BUNDLE_DIR_OR_ZIP [--checkpoint FILE]``):

1. every event payload is RFC 8785 canonical JSON (re-serialised here in pure Python);
2. sequence numbers run 1, 2, 3, ... with no gap, duplicate or swap (the payload carries its
   own ``seq``, so swapping two rows' contents is caught too);
3. the chain: ``entry_hash = SHA-256(bytes.fromhex(prev_hash) || payload_utf8)`` and each
   ``prev_hash`` equals the previous row's ``entry_hash`` (the first row's is 64 zeros);
4. every checkpoint (those in the bundle and an optional one kept by the auditor) carries a
   valid Ed25519 signature (RFC 8032, verified by the pure-Python code below) over the
   canonical JSON of ``{domain, ledger_id, seq, head_hash, signed_at}``, and the ledger's
   entry at that ``seq`` has exactly that ``head_hash`` — so rewriting history and
   re-hashing, or truncating rows behind a checkpoint, is detected.

Exit status 0 when intact, 1 when not (the first bad sequence number and what is wrong are
printed), 2 when the bundle cannot be read.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

GENESIS_PREV_HASH = "0" * 64
CHECKPOINT_DOMAIN = "costcorrect-ledger-checkpoint/v1"
_MAX_SAFE_INT = 2**53 - 1


# ----------------------------------------------------------------------------- RFC 8785
class CanonicalError(ValueError):
    """A value that RFC 8785 cannot represent (NaN, inf, unsafe integer, non-string key)."""


def _es_number(x: float) -> str:
    """ECMAScript Number::toString of a finite double (RFC 8785 §3.2.2.3)."""
    if x == 0:
        return "0"
    sign = "-" if x < 0 else ""
    s = repr(abs(x))  # shortest round-trip digits, the same digits ES uses
    mant, _, exp = s.partition("e")
    int_part, _, frac = mant.partition(".")
    all_digits = int_part + frac
    point = len(int_part) + (int(exp) if exp else 0)
    stripped = all_digits.lstrip("0")
    n = point - (len(all_digits) - len(stripped))  # value = 0.DIGITS x 10^n
    digits = stripped.rstrip("0")
    k = len(digits)
    if k <= n <= 21:
        out = digits + "0" * (n - k)
    elif 0 < n <= 21:
        out = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        out = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        mant_s = digits if k == 1 else digits[0] + "." + digits[1:]
        out = f"{mant_s}e{'+' if e >= 0 else '-'}{abs(e)}"
    return sign + out


def canonical_json(obj) -> str:
    """RFC 8785 (JCS) serialisation of JSON values built from dict/list/str/int/float/bool/None.

    >>> canonical_json({"b": [1.0, 1e-7, 1e21, 0.1], "a": "é"})
    '{"a":"é","b":[1,1e-7,1e+21,0.1]}'
    """
    if obj is None:
        return "null"
    if obj is True:
        return "true"
    if obj is False:
        return "false"
    if isinstance(obj, int):
        if abs(obj) > _MAX_SAFE_INT:
            raise CanonicalError(f"integer {obj} outside the IEEE-754 safe range")
        return str(obj)
    if isinstance(obj, float):
        if not math.isfinite(obj):
            raise CanonicalError(f"{obj} is not a JSON number")
        return _es_number(obj)
    if isinstance(obj, str):
        return json.dumps(obj, ensure_ascii=False)
    if isinstance(obj, list | tuple):
        return "[" + ",".join(canonical_json(v) for v in obj) + "]"
    if isinstance(obj, dict):
        for k in obj:
            if not isinstance(k, str):
                raise CanonicalError(f"object key {k!r} is not a string")
        keys = sorted(obj, key=lambda k: k.encode("utf-16-be"))
        return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + canonical_json(obj[k])
                              for k in keys) + "}"
    raise CanonicalError(f"{type(obj).__name__} is not a JSON type")


# ----------------------------------------------------------------------------- Ed25519
# RFC 8032 §6 reference verification, transcribed; slow (~10 ms a signature) but exact.
_P = 2**255 - 19
_L = 2**252 + 27742317777372353535851937790883648493
_D = -121665 * pow(121666, _P - 2, _P) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)


def _padd(P, Q):
    A = (P[1] - P[0]) * (Q[1] - Q[0]) % _P
    B = (P[1] + P[0]) * (Q[1] + Q[0]) % _P
    C = 2 * P[3] * Q[3] * _D % _P
    D = 2 * P[2] * Q[2] % _P
    E, F, G, H = B - A, D - C, D + C, B + A
    return (E * F, G * H, F * G, E * H)


def _pmul(s, P):
    Q = (0, 1, 1, 0)
    while s > 0:
        if s & 1:
            Q = _padd(Q, P)
        P = _padd(P, P)
        s >>= 1
    return Q


def _pequal(P, Q):
    return (P[0] * Q[2] - Q[0] * P[2]) % _P == 0 and (P[1] * Q[2] - Q[1] * P[2]) % _P == 0


def _recover_x(y, sign):
    if y >= _P:
        return None
    x2 = (y * y - 1) * pow(_D * y * y + 1, _P - 2, _P)
    if x2 % _P == 0:
        return None if sign else 0
    x = pow(x2, (_P + 3) // 8, _P)
    if (x * x - x2) % _P != 0:
        x = x * _SQRT_M1 % _P
    if (x * x - x2) % _P != 0:
        return None
    if (x & 1) != sign:
        x = _P - x
    return x


def _decompress(s: bytes):
    if len(s) != 32:
        return None
    y = int.from_bytes(s, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    x = _recover_x(y, sign)
    return None if x is None else (x, y, 1, x * y % _P)


_GY = 4 * pow(5, _P - 2, _P) % _P
_GX = _recover_x(_GY, 0)
_G = (_GX, _GY, 1, _GX * _GY % _P)


def ed25519_verify(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """True when ``signature`` is a valid Ed25519 signature of ``message`` (RFC 8032 §5.1.7)."""
    if len(public_key) != 32 or len(signature) != 64:
        return False
    A = _decompress(public_key)
    R = _decompress(signature[:32])
    if A is None or R is None:
        return False
    s = int.from_bytes(signature[32:], "little")
    if s >= _L:
        return False
    h = int.from_bytes(hashlib.sha512(signature[:32] + public_key + message).digest(), "little") % _L
    return _pequal(_pmul(s, _G), _padd(R, _pmul(h, A)))


# ----------------------------------------------------------------------------- chain check
def entry_hash(prev_hash_hex: str, payload: str) -> str:
    """``SHA-256(bytes.fromhex(prev_hash) || payload_utf8)`` as 64 lower-case hex digits."""
    return hashlib.sha256(bytes.fromhex(prev_hash_hex) + payload.encode("utf-8")).hexdigest()


def checkpoint_message(ledger_id: str, seq: int, head_hash: str, signed_at: str) -> bytes:
    """The exact bytes an Ed25519 checkpoint signature covers."""
    return canonical_json({"domain": CHECKPOINT_DOMAIN, "ledger_id": ledger_id, "seq": seq,
                           "head_hash": head_hash, "signed_at": signed_at}).encode("utf-8")


@dataclass(frozen=True)
class Problem:
    seq: int | None  # first sequence number affected (None: not tied to one row)
    kind: str  # edited-payload, broken-link, missing-rows, reordered-rows, truncated, ...
    detail: str

    def as_dict(self) -> dict:
        return {"seq": self.seq, "kind": self.kind, "detail": self.detail}


@dataclass
class Report:
    events: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS_PREV_HASH
    checkpoints_checked: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def first(self) -> Problem | None:
        if not self.problems:
            return None
        return min(self.problems, key=lambda p: (p.seq is None, p.seq or 0))

    def as_dict(self) -> dict:
        first = self.first()
        return {"ok": self.ok, "events": self.events, "head_seq": self.head_seq,
                "head_hash": self.head_hash, "checkpoints_checked": self.checkpoints_checked,
                "first_bad_seq": None if first is None else first.seq,
                "first_problem": None if first is None else first.as_dict(),
                "problems": [p.as_dict() for p in self.problems]}


def _is_canonical(payload: str, canonicalize) -> tuple[bool, dict | None]:
    try:
        obj = json.loads(payload)
        return canonicalize(obj) == payload, obj
    except (ValueError, CanonicalError, TypeError):
        return False, None


def check_chain(rows, checkpoints, public_key: bytes | None, ledger_id: str | None, *,
                canonicalize=canonical_json, verify_signature=ed25519_verify) -> Report:
    """Check a ledger given as rows ``(seq, payload, prev_hash, entry_hash)`` in storage order
    and checkpoint dicts ``{ledger_id, seq, head_hash, signed_at, signature}`` (hex signature).

    ``public_key`` (32 raw bytes) checks the signatures; ``ledger_id`` binds checkpoints to
    this ledger. Returns a :class:`Report`; its ``first()`` names the first bad sequence.
    """
    rep = Report()
    hashes: dict[int, str] = {}
    prev = GENESIS_PREV_HASH
    expected = 1
    for pos, (seq, payload, prev_hash, ehash) in enumerate(rows):
        rep.events += 1
        if not isinstance(seq, int) or not isinstance(payload, str):
            rep.problems.append(Problem(expected, "malformed-row", f"row {pos + 1} has no integer seq "
                                                                  f"or no text payload"))
            break
        if seq > expected:
            rep.problems.append(Problem(expected, "missing-rows",
                                        f"rows {expected}..{seq - 1} are missing (next row is seq {seq})"))
        elif seq < expected:
            rep.problems.append(Problem(seq, "reordered-rows",
                                        f"seq {seq} appears after seq {expected - 1} (duplicate or "
                                        f"out of order)"))
        canonical, obj = _is_canonical(payload, canonicalize)
        if not canonical:
            rep.problems.append(Problem(seq, "edited-payload",
                                        f"payload of seq {seq} is not canonical JSON (edited bytes)"))
        elif not isinstance(obj, dict) or obj.get("seq") != seq:
            rep.problems.append(Problem(seq, "reordered-rows",
                                        f"row seq {seq} carries the payload of seq "
                                        f"{obj.get('seq') if isinstance(obj, dict) else '?'}"))
        if prev_hash != prev:
            rep.problems.append(Problem(seq, "broken-link",
                                        f"prev_hash of seq {seq} is {str(prev_hash)[:16]}..., the previous "
                                        f"entry's hash is {prev[:16]}..."))
        try:
            recomputed = entry_hash(str(prev_hash), payload)
        except ValueError:
            recomputed = None
        if recomputed != ehash:
            rep.problems.append(Problem(seq, "edited-payload",
                                        f"entry_hash of seq {seq} does not match SHA-256(prev_hash || payload)"
                                        f" (payload or hash edited)"))
        hashes[seq] = ehash
        prev = ehash
        expected = max(expected, seq) + 1
        rep.head_seq, rep.head_hash = seq, ehash
    # checkpoints: signed (seq, head_hash) anchors
    good_below = 0
    for cp in sorted(checkpoints, key=lambda c: c.get("seq", 0) if isinstance(c.get("seq"), int) else 0):
        rep.checkpoints_checked += 1
        cseq, chead = cp.get("seq"), cp.get("head_hash")
        src = cp.get("_source", "ledger")
        if not isinstance(cseq, int) or not isinstance(chead, str):
            rep.problems.append(Problem(None, "bad-checkpoint", f"{src} checkpoint has no seq/head_hash"))
            continue
        if ledger_id is not None and cp.get("ledger_id") != ledger_id:
            rep.problems.append(Problem(cseq, "bad-checkpoint",
                                        f"{src} checkpoint at seq {cseq} belongs to ledger "
                                        f"{cp.get('ledger_id')!r}, not {ledger_id!r}"))
            continue
        if public_key is None:
            rep.problems.append(Problem(cseq, "bad-checkpoint", "no public key to check checkpoint signatures"))
        else:
            try:
                sig = bytes.fromhex(cp.get("signature", ""))
                msg = checkpoint_message(cp.get("ledger_id"), cseq, chead, cp.get("signed_at"))
                valid = verify_signature(public_key, msg, sig)
            except (ValueError, TypeError, CanonicalError):
                valid = False
            if not valid:
                rep.problems.append(Problem(cseq, "bad-signature",
                                            f"{src} checkpoint at seq {cseq}: Ed25519 signature invalid"))
                continue
        if cseq > rep.head_seq:
            rep.problems.append(Problem(rep.head_seq + 1, "truncated",
                                        f"{src} checkpoint signed seq {cseq} but the ledger ends at seq "
                                        f"{rep.head_seq}: rows {rep.head_seq + 1}..{cseq} were removed"))
        elif cseq in hashes and hashes[cseq] != chead:
            rep.problems.append(Problem(good_below + 1, "rewritten",
                                        f"entry hash at seq {cseq} differs from the {src} checkpoint's signed "
                                        f"head hash: history in seq {good_below + 1}..{cseq} was rewritten"))
        elif cseq in hashes:
            good_below = max(good_below, cseq)
    return rep


# ----------------------------------------------------------------------------- bundle
def _read_bundle(path: Path) -> dict[str, bytes]:
    names = ("events.jsonl", "checkpoints.jsonl", "ledger.json")
    if path.is_dir():
        return {n: (path / n).read_bytes() for n in names if (path / n).exists()}
    with zipfile.ZipFile(path) as zf:
        out = {}
        for info in zf.infolist():
            base = info.filename.rsplit("/", 1)[-1]
            if base in names:
                out[base] = zf.read(info)
        return out


def _jsonl(data: bytes) -> list[dict]:
    return [json.loads(line) for line in io.TextIOWrapper(io.BytesIO(data), encoding="utf-8") if line.strip()]


def verify_bundle(path: str | Path, external_checkpoint: dict | None = None) -> Report:
    """Check an exported bundle (folder or .zip) and, optionally, a checkpoint kept elsewhere."""
    files = _read_bundle(Path(path))
    for need in ("events.jsonl", "ledger.json"):
        if need not in files:
            raise FileNotFoundError(f"{need} not found in {path}")
    meta = json.loads(files["ledger.json"])
    rows = [(r.get("seq"), r.get("payload"), r.get("prev_hash"), r.get("entry_hash"))
            for r in _jsonl(files["events.jsonl"])]
    cps = _jsonl(files.get("checkpoints.jsonl", b""))
    pub = bytes.fromhex(meta["public_key_hex"])
    problems_extra = []
    if external_checkpoint is not None:
        ext = dict(external_checkpoint, _source="external")
        if ext.get("public_key_hex") not in (None, meta["public_key_hex"]):
            problems_extra.append(Problem(None, "key-changed", "the bundle's public key differs from the one in "
                                                               "the external checkpoint"))
            pub = bytes.fromhex(ext["public_key_hex"])
        cps.append(ext)
    rep = check_chain(rows, cps, pub, meta.get("ledger_id"))
    rep.problems.extend(problems_extra)
    return rep


def describe(rep: Report) -> str:
    if rep.ok:
        return (f"ledger intact: {rep.events} events, head seq {rep.head_seq} "
                f"({rep.head_hash[:16]}...), {rep.checkpoints_checked} signed checkpoints verified")
    first = rep.first()
    where = f"first bad seq {first.seq}" if first.seq is not None else "ledger"
    return f"ledger NOT intact: {where}: {first.kind}: {first.detail} ({len(rep.problems)} problem(s) in all)"


def main(argv: list[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(description="Verify a costcorrect ledger evidence bundle (stdlib only).")
    ap.add_argument("bundle", nargs="?", default=str(Path(__file__).resolve().parent),
                    help="bundle folder or .zip (default: the folder holding this script)")
    ap.add_argument("--checkpoint", help="a checkpoint JSON file you obtained earlier, independently")
    ap.add_argument("--json", action="store_true", help="print the full report as JSON")
    args = ap.parse_args(argv)
    try:
        ext = json.loads(Path(args.checkpoint).read_text("utf-8")) if args.checkpoint else None
        rep = verify_bundle(args.bundle, ext)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        print(f"error: cannot read bundle: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(rep.as_dict(), indent=2) if args.json else describe(rep))
    first = rep.first()
    for p in [] if args.json else [q for q in rep.problems if q is not first]:
        print(f"  also: seq {p.seq}: {p.kind}: {p.detail}", file=sys.stderr)
    return 0 if rep.ok else 1


if __name__ == "__main__":
    sys.exit(main())
