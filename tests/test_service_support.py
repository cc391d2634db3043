"""Helpers for the service tests: a real uvicorn server in a subprocess on 127.0.0.1.

Imported by the other ``test_service_*`` files (pytest puts ``tests/`` on ``sys.path``); the
one test here checks the helpers themselves.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from costcorrect.ledger.canonical import commitment_hex
from costcorrect.ledger.keys import default_key_path, load_or_create_signer
from costcorrect.service.auth import create_identity
from costcorrect.service.store import SQLiteStore


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``costcorrect serve`` as a child process; ``kill()`` sends SIGKILL."""

    def __init__(self, db: Path, *, max_body_mib: float = 16.0, checkpoint_every: int = 100):
        self.db = Path(db)
        self.args = ["--max-body-mib", str(max_body_mib), "--checkpoint-every", str(checkpoint_every)]
        self.proc: subprocess.Popen | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Server:
        self.port = free_port()
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "costcorrect.cli", "serve", "--db", str(self.db), "--port", str(self.port),
             *self.args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.proc.stderr.read().decode()}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.05)
        raise RuntimeError("server did not start in 30 s")

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


@contextlib.contextmanager
def running(db: Path, **kw):
    srv = Server(db, **kw).start()
    try:
        yield srv
    finally:
        srv.stop()


def make_identities(db: Path, buyers=(), vendors=()) -> dict[str, str]:
    """Register names (in-process, same DB file) and return ``{name: token}``."""
    store = SQLiteStore(db, load_or_create_signer(default_key_path(db)))
    try:
        out = {}
        for role, names in (("buyer", buyers), ("vendor", vendors)):
            for n in names:
                out[n] = create_identity(store, n, role)[0]
        return out
    finally:
        store.close()


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def salt() -> str:
    return secrets.token_hex(16)


def round_body(items, labels, vendors, *, rule="brier", mode="single", a=1.0, b=1.0, label_salt=None):
    """A ``POST /v1/rounds`` body and the label reveal that matches its commitment."""
    label_salt = label_salt or salt()
    label_list = [{"item_id": i, "label": lab} for i, lab in zip(items, labels, strict=True)]
    body = {"name": "test round", "rule": rule, "mode": mode, "vendors": list(vendors),
            "items": [{"item_id": i, "payload": {"question": f"probe {i}"}} for i in items],
            "label_commitment": commitment_hex(label_salt, label_list), "payment": {"a": a, "b": b}}
    return body, {"salt": label_salt, "labels": label_list}


def reveal_for(items, probs) -> tuple[str, dict]:
    """``(commitment, reveal body)`` for a vendor's report."""
    s = salt()
    reports = [{"item_id": i, "prob": p} for i, p in zip(items, probs, strict=True)]
    return commitment_hex(s, reports), {"salt": s, "reports": reports}


def test_support_commitment_matches_spec():
    # the definition, by hand: hex SHA-256 of salt (UTF-8) + RFC 8785 JSON of the list
    import hashlib

    c, body = reveal_for(["x"], [0.25])
    raw = body["salt"].encode() + b'[{"item_id":"x","prob":0.25}]'
    assert c == hashlib.sha256(raw).hexdigest()
