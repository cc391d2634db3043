"""``costcorrect ledger verify|export|checkpoint``, ``costcorrect admin create-buyer|create-vendor``
and ``costcorrect serve`` (issue 10: procurement service and its tamper-evident ledger)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from costcorrect.cli.common import JsonOpt, _emit_json, app, err_console, guarded, out_console
from costcorrect.errors import InputError

ledger_app = typer.Typer(help="Tamper-evident audit ledger: verify, export an evidence bundle, checkpoint.",
                         no_args_is_help=True)
admin_app = typer.Typer(help="Identities of the procurement service (bearer tokens).", no_args_is_help=True)
app.add_typer(ledger_app, name="ledger")
app.add_typer(admin_app, name="admin")

DbOpt = Annotated[Path, typer.Option("--db", help="SQLite file of the service/ledger.")]
KeyOpt = Annotated[Path | None, typer.Option(
    "--key", help="Ed25519 checkpoint key (PEM); default <db>.ed25519.pem, created for a new ledger.")]


def _signer(db: Path, key: Path | None, *, create: bool):
    from costcorrect.ledger.keys import default_key_path, load_or_create_signer

    return load_or_create_signer(key or default_key_path(db), create=create)


# ----------------------------------------------------------------------------- ledger
@ledger_app.command("verify")
@guarded
def ledger_verify(
    db: DbOpt,
    checkpoint: Annotated[Path | None, typer.Option(
        "--checkpoint", help="A checkpoint JSON kept outside the database (catches full rewrites and "
                             "truncation after the database's own checkpoints).")] = None,
    public_key: Annotated[str | None, typer.Option(
        "--public-key", help="Pin the signing key: 64 hex digits, or a file holding them / a PEM.")] = None,
    json_: JsonOpt = False,
):
    """Recompute the hash chain, check canonical payloads and every checkpoint signature.

    Exit 0 when intact, 1 when not (naming the first bad sequence number and what is wrong)."""
    from costcorrect.ledger.verify import verify_db
    from costcorrect.ledger.verify_bundle import describe

    ext = None
    if checkpoint is not None:
        try:
            ext = json.loads(checkpoint.read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise InputError("checkpoint", str(checkpoint), f"a readable checkpoint JSON file ({exc})") from None
        if not isinstance(ext, dict):
            raise InputError("checkpoint", str(checkpoint), "a JSON object")
    rep = verify_db(db, ext, _public_key_hex(public_key))
    if json_:
        _emit_json({"db": str(db), **rep.as_dict()})
    else:
        line = describe(rep)
        (out_console if rep.ok else err_console).print(escape(line), highlight=False)
        first = rep.first()
        for p in rep.problems:
            if p is not first:
                err_console.print(escape(f"  also: seq {p.seq}: {p.kind}: {p.detail}"), highlight=False)
    raise typer.Exit(0 if rep.ok else 1)


def _public_key_hex(value: str | None) -> str | None:
    if value is None:
        return None
    import re

    if re.fullmatch(r"[0-9a-fA-F]{64}", value.strip()):
        return value.strip().lower()
    path = Path(value)
    if not path.is_file():
        raise InputError("public_key", value, "64 hex digits or a file holding them or a PEM public key")
    text = path.read_text("utf-8").strip()
    if re.fullmatch(r"[0-9a-fA-F]{64}", text):
        return text.lower()
    from cryptography.hazmat.primitives import serialization

    try:
        key = serialization.load_pem_public_key(text.encode())
        raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    except (ValueError, TypeError) as exc:
        raise InputError("public_key", value, f"an Ed25519 public key ({exc})") from None
    return raw.hex()


@ledger_app.command("export")
@guarded
def ledger_export(
    db: DbOpt,
    out: Annotated[Path, typer.Option("--out", help="Folder, or a path ending in .zip.")],
    json_: JsonOpt = False,
):
    """Write the evidence bundle: events, checkpoints, public key, README, stdlib verifier."""
    from costcorrect.ledger.export import export_bundle
    from costcorrect.ledger.verify import verify_db

    rep = verify_db(db)
    if not rep.ok:
        err_console.print(escape(f"note: the ledger does not verify ({rep.first().kind} at seq {rep.first().seq}); "
                                 "exporting it as it is"), highlight=False)
    info = export_bundle(db, out)
    if json_:
        _emit_json(info)
        return
    out_console.print(f"wrote {escape(str(out))}: {info['events']} events, head seq {info['head_seq']}, "
                      f"{info['checkpoints']} checkpoints; check with: python3 verify_bundle.py")


@ledger_app.command("checkpoint")
@guarded
def ledger_checkpoint(
    db: DbOpt,
    out: Annotated[Path | None, typer.Option("--out", help="Also write the signed checkpoint JSON here.")] = None,
    key: KeyOpt = None,
    json_: JsonOpt = False,
):
    """Sign the current head now and print (or write) the checkpoint to keep elsewhere."""
    from costcorrect.io import atomic_write_text, dumps
    from costcorrect.ledger.store import Ledger, connect, latest_checkpoint, write_transaction

    if not db.is_file():
        raise InputError("db", str(db), "an existing ledger database file")
    conn = connect(db)
    try:
        led = Ledger(_signer(db, key, create=False))
        led.init(conn)
        write_transaction(conn, led.checkpoint)
        cp = latest_checkpoint(conn)
    finally:
        conn.close()
    if out is not None:
        atomic_write_text(out, dumps(cp) + "\n")
        err_console.print(f"wrote {escape(str(out))}")
    if json_ or out is None:
        _emit_json(cp)


# ----------------------------------------------------------------------------- admin
def _create(role: str, name: str, db: Path, key: Path | None, json_: bool):
    from costcorrect.service.auth import create_identity
    from costcorrect.service.store import SQLiteStore

    store = SQLiteStore(db, _signer(db, key, create=True))
    try:
        token, receipt = create_identity(store, name, role)
    finally:
        store.close()
    if json_:
        _emit_json({"name": name, "role": role, "token": token, "receipt": receipt})
        return
    err_console.print(f"created {role} {escape(name)} (ledger seq {receipt['seq']}); the token is shown once, "
                      "only its hash is stored:")
    out_console.print(token, highlight=False)


@admin_app.command("create-buyer")
@guarded
def admin_create_buyer(name: Annotated[str, typer.Argument(help="Buyer name.")], db: DbOpt,
                       key: KeyOpt = None, json_: JsonOpt = False):
    """Register a buyer and print its bearer token once."""
    _create("buyer", name, db, key, json_)


@admin_app.command("create-vendor")
@guarded
def admin_create_vendor(name: Annotated[str, typer.Argument(help="Vendor name.")], db: DbOpt,
                        key: KeyOpt = None, json_: JsonOpt = False):
    """Register a vendor and print its bearer token once."""
    _create("vendor", name, db, key, json_)


# ----------------------------------------------------------------------------- serve
@app.command("serve")
@guarded
def serve(
    db: DbOpt,
    host: Annotated[str, typer.Option("--host", help="Bind address.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port.")] = 8000,
    key: KeyOpt = None,
    max_body_mib: Annotated[float, typer.Option("--max-body-mib", help="Request body limit [MiB].")] = 16.0,
    checkpoint_every: Annotated[int, typer.Option(
        "--checkpoint-every", help="Sign a checkpoint every N ledger events (also after each scored round).")] = 100,
):
    """Run the procurement service (FastAPI + uvicorn) on an embedded SQLite file."""
    import uvicorn

    from costcorrect.errors import check_range
    from costcorrect.service.app import create_app

    check_range("port", port, 1, 65535)
    check_range("max_body_mib", max_body_mib, 0, None, lo_open=True)
    check_range("checkpoint_every", checkpoint_every, 1, None)
    application = create_app(db, key_path=key, max_body_bytes=int(max_body_mib * 1024 * 1024),
                             checkpoint_every=checkpoint_every)
    err_console.print(f"serving {escape(str(db))} on http://{host}:{port}  (docs: /docs)")
    uvicorn.run(application, host=host, port=port, log_level="warning")

