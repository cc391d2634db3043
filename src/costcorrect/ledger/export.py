"""Evidence bundle: events, checkpoints, public key, an auditor's README and a stdlib verifier.

``export_bundle(db, out)`` writes a folder, or a ``.zip`` when ``out`` ends in ``.zip``.
Files are written atomically (:mod:`costcorrect.io`); the bundle's ``SHA256SUMS`` lists the
SHA-256 of every other file.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

from costcorrect.io import atomic_write_bytes
from costcorrect.ledger.store import utc_now
from costcorrect.ledger.verify import read_ledger

README = """# Ledger evidence bundle

Exported {exported_at} from ledger `{ledger_id}` ({format}): {n_events} events, head seq
{head_seq}, head hash `{head_hash}`; {n_checkpoints} signed checkpoints, the latest at seq
{last_cp_seq}.{uncovered}

## Check it (needs only Python 3.10+, no packages)

    python3 verify_bundle.py .                      # this folder (or: verify_bundle.py bundle.zip)
    python3 verify_bundle.py . --checkpoint MY.json # also against a checkpoint you kept earlier

Exit 0 = intact; 1 = not intact, with the first bad sequence number and what is wrong
(edited payload, broken link, missing/reordered rows, truncation behind a checkpoint, a
rewritten history that no longer matches a signed head); 2 = the bundle cannot be read.
`sha256sum -c SHA256SUMS` checks that the files arrived as exported.

## What the files are

- `events.jsonl` — one event per line: `seq`, `prev_hash`, `entry_hash` and `payload`,
  the RFC 8785 canonical JSON text of `{{seq, ts, kind, data}}` exactly as hashed.
  `entry_hash = SHA-256(bytes.fromhex(prev_hash) || UTF-8(payload))`; seq 1's prev_hash is
  64 zeros.
- `checkpoints.jsonl` — Ed25519 signatures over the canonical JSON of
  `{{"domain": "{domain}", ledger_id, seq, head_hash, signed_at}}`.
- `ledger.json` — ledger id, format and the raw Ed25519 public key (hex);
  `public_key.pem` — the same key as SubjectPublicKeyInfo PEM.
- `latest_checkpoint.json` — the newest signed checkpoint with the public key: keep a copy
  somewhere the operator cannot write; later bundles must still match it.
- `verify_bundle.py` — the verifier (stdlib only; Ed25519 per RFC 8032 in pure Python).

## What it proves and what it does not

- Any edit, deletion, insertion or reordering of events at or before a signed checkpoint is
  detected, provided the public key is the operator's real key. Get the key (or a
  checkpoint) through a channel other than this bundle — e.g. from a vendor's or your own
  earlier copy — because someone who controls both the database and the signing key can
  re-sign a rewritten history; that is exactly what an independently kept checkpoint
  catches.
- Events after the latest checkpoint are protected by the hash chain only: they can be
  truncated away without trace unless you hold a later checkpoint or a receipt
  (`seq`, `entry_hash`) the service returned for a submission.
- Event kinds in a procurement round: `round.created` (items, label commitment, rule,
  payment constants, invited vendors), `commitment.posted`, `round.commitments_closed`,
  `reveal.accepted` (salt and report, checked against the commitment), `labels.revealed`
  (checked against the label commitment), `round.scored` (scores, payments, selection).
  A commitment is the hex SHA-256 of the salt (UTF-8) followed by the RFC 8785 JSON of the
  revealed list; you can recompute every one from the events.
"""


def _bundle_files(db_path: str | Path) -> tuple[dict[str, bytes], dict]:
    from costcorrect.ledger.verify_bundle import CHECKPOINT_DOMAIN

    meta, rows, cps = read_ledger(db_path)
    if not meta:
        from costcorrect.errors import InputError

        raise InputError("db", str(db_path), "a costcorrect ledger database")
    events = "".join(json.dumps({"seq": s, "prev_hash": p, "entry_hash": h, "payload": pl},
                                ensure_ascii=False) + "\n" for s, pl, p, h in rows)
    checkpoints = "".join(json.dumps(c) + "\n" for c in cps)
    head_seq, head_hash = (rows[-1][0], rows[-1][3]) if rows else (0, "0" * 64)
    exported_at = utc_now()
    info = {"format": meta.get("format"), "ledger_id": meta.get("ledger_id"),
            "created_at": meta.get("created_at"), "public_key_hex": meta.get("public_key_hex"),
            "exported_at": exported_at, "head_seq": head_seq, "head_hash": head_hash,
            "events": len(rows), "checkpoints": len(cps)}
    last = dict(cps[-1], public_key_hex=meta.get("public_key_hex")) if cps else None
    uncovered = ""
    if last is None or last["seq"] < head_seq:
        n = head_seq - (last["seq"] if last else 0)
        uncovered = (f"\n\n**Note:** the last {n} event(s) come after the latest checkpoint and are "
                     f"covered by the hash chain only (see below).")
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    pem = Ed25519PublicKey.from_public_bytes(bytes.fromhex(meta["public_key_hex"])).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    script = (Path(__file__).with_name("verify_bundle.py")).read_bytes()
    readme = README.format(exported_at=exported_at, ledger_id=meta.get("ledger_id"), format=meta.get("format"),
                           n_events=len(rows), head_seq=head_seq, head_hash=head_hash, n_checkpoints=len(cps),
                           last_cp_seq=last["seq"] if last else "—", uncovered=uncovered,
                           domain=CHECKPOINT_DOMAIN)
    files = {
        "README.md": readme.encode(),
        "events.jsonl": events.encode("utf-8"),
        "checkpoints.jsonl": checkpoints.encode(),
        "ledger.json": (json.dumps(info, indent=2) + "\n").encode(),
        "public_key.pem": pem,
        "verify_bundle.py": script,
    }
    if last is not None:
        files["latest_checkpoint.json"] = (json.dumps(last, indent=2) + "\n").encode()
    files["SHA256SUMS"] = "".join(f"{hashlib.sha256(b).hexdigest()}  {n}\n"
                                  for n, b in sorted(files.items())).encode()
    return files, info


def export_bundle(db_path: str | Path, out: str | Path) -> dict:
    """Write the evidence bundle to folder ``out`` (or zip file when it ends in ``.zip``)."""
    files, info = _bundle_files(db_path)
    out = Path(out)
    if out.suffix.lower() == ".zip":
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, data in files.items():
                zf.writestr(f"evidence/{name}", data)
        atomic_write_bytes(out, buf.getvalue())
    else:
        for name, data in files.items():
            atomic_write_bytes(out / name, data)
    return {**info, "out": str(out), "files": sorted(files)}
