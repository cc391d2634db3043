"""Tampering with a real ledger file, as an attacker with write access would (a separate
sqlite3 connection, triggers dropped, raw bytes edited), must be caught by
``costcorrect ledger verify`` (exit 1, naming the first bad seq) and by the bundle's
stdlib-only ``verify_bundle.py``."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from costcorrect.cli import app
from costcorrect.ledger import open_ledger, write_transaction
from costcorrect.ledger.export import export_bundle
from costcorrect.ledger.keys import default_key_path, load_or_create_signer
from costcorrect.ledger.store import latest_checkpoint
from costcorrect.ledger.verify_bundle import GENESIS_PREV_HASH, entry_hash

N_EVENTS = 30  # + genesis = 31 rows; checkpoints every 10 events


def _build(tmp_path):
    db = tmp_path / "ledger.db"
    conn, led, _ = open_ledger(db, load_or_create_signer(default_key_path(db)), checkpoint_every=10)
    for i in range(N_EVENTS):
        write_transaction(conn, lambda c, i=i: led.append(c, "test.event", {"i": i, "marker": f"mk-{i:03d}-x",
                                                                             "prob": round(i / 31, 6)}))
    conn.close()  # last connection closed: the WAL is folded into the main file
    return db


def _attacker(db):
    """A plain connection with the append-only triggers dropped."""
    c = sqlite3.connect(db, isolation_level=None)
    for (name,) in c.execute("SELECT name FROM sqlite_master WHERE type='trigger'").fetchall():
        c.execute(f'DROP TRIGGER "{name}"')
    return c


def _verify_cli(db, *extra):
    """``costcorrect ledger verify --json`` (in-process: the CLI's own code path and exit code)."""
    r = CliRunner().invoke(app, ["ledger", "verify", "--db", str(db), "--json", *map(str, extra)])
    return r.exit_code, json.loads(r.stdout) if r.stdout.strip() else None, r.stderr


def _bundle_check(db, tmp_path, *extra):
    out = tmp_path / "bundle"
    export_bundle(db, out)
    r = subprocess.run([sys.executable, "-I", "-S", str(out / "verify_bundle.py"), str(out), *map(str, extra)],
                       capture_output=True, text=True)
    return r.returncode, r.stdout + r.stderr


@pytest.fixture
def db(tmp_path):
    return _build(tmp_path)


def test_intact_ledger_verifies_and_triggers_refuse_edits(db, tmp_path):
    rc, rep, _ = _verify_cli(db)
    assert rc == 0 and rep["ok"] and rep["events"] == N_EVENTS + 1 and rep["checkpoints_checked"] == 4
    assert _bundle_check(db, tmp_path)[0] == 0
    c = sqlite3.connect(db, isolation_level=None)
    for sql in ("UPDATE ledger_events SET payload = 'x' WHERE seq = 3", "DELETE FROM ledger_events WHERE seq = 3",
                "DELETE FROM ledger_checkpoints", "INSERT INTO ledger_events VALUES (99, '{}', '00', '00')"):
        with pytest.raises(sqlite3.DatabaseError, match=r"append-only|extend the head"):
            c.execute(sql)


def test_edited_payload_byte_in_the_file(db, tmp_path):
    raw = bytearray(db.read_bytes())
    needle = b"mk-007-x"
    assert raw.count(needle) == 1
    pos = raw.index(needle)
    raw[pos + 7] = ord("y")  # same length: the SQLite record stays well-formed
    db.write_bytes(bytes(raw))
    rc, rep, _ = _verify_cli(db)
    assert rc == 1 and rep["first_bad_seq"] == 9 and rep["first_problem"]["kind"] == "edited-payload"
    rc, out = _bundle_check(db, tmp_path)
    assert rc == 1 and "first bad seq 9" in out


def test_row_updated_with_triggers_dropped(db, tmp_path):
    c = _attacker(db)
    payload = c.execute("SELECT payload FROM ledger_events WHERE seq = 12").fetchone()[0]
    c.execute("UPDATE ledger_events SET payload = ? WHERE seq = 12", (payload.replace('"i":10', '"i":11'),))
    c.close()
    rc, rep, _ = _verify_cli(db)
    assert rc == 1 and rep["first_bad_seq"] == 12 and rep["first_problem"]["kind"] == "edited-payload"
    assert _bundle_check(db, tmp_path)[0] == 1


def test_deleted_row(db, tmp_path):
    c = _attacker(db)
    c.execute("DELETE FROM ledger_events WHERE seq = 17")
    c.close()
    rc, rep, _ = _verify_cli(db)
    assert rc == 1 and rep["first_bad_seq"] == 17 and rep["first_problem"]["kind"] == "missing-rows"
    assert _bundle_check(db, tmp_path)[0] == 1


def test_swapped_rows(db, tmp_path):
    c = _attacker(db)
    a = c.execute("SELECT payload, prev_hash, entry_hash FROM ledger_events WHERE seq = 5").fetchone()
    b = c.execute("SELECT payload, prev_hash, entry_hash FROM ledger_events WHERE seq = 6").fetchone()
    c.execute("UPDATE ledger_events SET payload=?, prev_hash=?, entry_hash=? WHERE seq = 5", b)
    c.execute("UPDATE ledger_events SET payload=?, prev_hash=?, entry_hash=? WHERE seq = 6", a)
    c.close()
    rc, rep, _ = _verify_cli(db)
    assert rc == 1 and rep["first_bad_seq"] == 5 and rep["first_problem"]["kind"] == "reordered-rows"
    assert _bundle_check(db, tmp_path)[0] == 1


def test_truncated_behind_a_checkpoint(db, tmp_path):
    c = _attacker(db)
    c.execute("DELETE FROM ledger_events WHERE seq > 25")  # checkpoint signed seq 30
    c.close()
    rc, rep, _ = _verify_cli(db)
    assert rc == 1 and rep["first_bad_seq"] == 26 and rep["first_problem"]["kind"] == "truncated"
    assert _bundle_check(db, tmp_path)[0] == 1


def _rewrite_from(c, seq_from: int):
    """Edit seq ``seq_from`` and re-hash every later row so the chain is consistent again."""
    rows = c.execute("SELECT seq, payload FROM ledger_events ORDER BY seq").fetchall()
    prev = GENESIS_PREV_HASH
    for seq, payload in rows:
        if seq == seq_from:
            payload = payload.replace(f'"i":{seq - 2}', f'"i":{seq + 500}')
            c.execute("UPDATE ledger_events SET payload = ? WHERE seq = ?", (payload, seq))
        h = entry_hash(prev, payload)
        c.execute("UPDATE ledger_events SET prev_hash = ?, entry_hash = ? WHERE seq = ?", (prev, h, seq))
        prev = h


def test_rehashed_rewrite_is_caught_by_signed_checkpoints(db, tmp_path):
    c = _attacker(db)
    _rewrite_from(c, 14)
    c.close()
    rc, rep, _ = _verify_cli(db)
    # the chain is self-consistent; the checkpoint signed at seq 20 no longer matches
    assert rc == 1 and rep["first_problem"]["kind"] == "rewritten"
    assert rep["first_bad_seq"] == 11  # narrowed to (last good checkpoint 10, 20]
    assert _bundle_check(db, tmp_path)[0] == 1


def test_rewrite_with_checkpoints_dropped_needs_an_external_checkpoint(db, tmp_path):
    conn = sqlite3.connect(db)
    kept = latest_checkpoint(conn)  # what an auditor or vendor kept earlier
    conn.close()
    (tmp_path / "kept.json").write_text(json.dumps(kept))
    c = _attacker(db)
    _rewrite_from(c, 14)
    c.execute("DELETE FROM ledger_checkpoints WHERE seq > 1")
    c.close()
    # without an outside anchor the rewritten ledger is self-consistent (documented limit)
    assert _verify_cli(db)[0] == 0
    rc, rep, _ = _verify_cli(db, "--checkpoint", tmp_path / "kept.json")
    assert rc == 1 and rep["first_problem"]["kind"] == "rewritten"
    assert _bundle_check(db, tmp_path, "--checkpoint", tmp_path / "kept.json")[0] == 1


def test_resigned_with_attacker_key_is_caught_by_a_pinned_key(db, tmp_path):
    from costcorrect.ledger.keys import load_or_create_signer as mk

    real_pub = load_or_create_signer(default_key_path(db)).public_key_hex
    evil = mk(tmp_path / "evil.pem")
    c = _attacker(db)
    c.execute("UPDATE ledger_meta SET value = ? WHERE key = 'public_key_hex'", (evil.public_key_hex,))
    # re-sign every checkpoint with the attacker's key
    from costcorrect.ledger.verify_bundle import checkpoint_message

    for seq, lid, head, at in c.execute("SELECT seq, ledger_id, head_hash, signed_at FROM ledger_checkpoints"
                                        ).fetchall():
        c.execute("UPDATE ledger_checkpoints SET signature = ? WHERE seq = ?",
                  (evil.sign(checkpoint_message(lid, seq, head, at)).hex(), seq))
    c.close()
    rc, rep, _ = _verify_cli(db)
    assert rc == 1 and rep["first_problem"]["kind"] == "meta-mismatch"  # genesis still names the real key
    rc, rep, _ = _verify_cli(db, "--public-key", real_pub)
    assert rc == 1 and {p["kind"] for p in rep["problems"]} >= {"key-changed", "bad-signature"}


def test_garbage_file_is_reported_not_a_traceback(tmp_path):
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"SQLite format 3\x00" + b"\xff" * 200)
    rc, rep, err = _verify_cli(bad)
    assert rc == 1 and rep["first_problem"]["kind"] in ("unreadable", "no-ledger") and "Traceback" not in err
    r = CliRunner().invoke(app, ["ledger", "verify", "--db", str(tmp_path / "no.db")])
    assert r.exit_code == 2 and "db" in r.stderr and "Traceback" not in r.stderr
