"""The explorer's /procurement page on a real ledger: rounds run through the service's own
HTTP flow (``costcorrect serve --db FILE`` in a subprocess, SQLite file), then read back
through the page's API with the service's authorisation rules; no mocks."""

from __future__ import annotations

import io
import json
import sqlite3
import subprocess
import sys
import zipfile

import numpy as np
import pytest

pytest.importorskip("fastapi")
httpx = pytest.importorskip("httpx")
from fastapi.testclient import TestClient  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from costcorrect.cli import app as cli  # noqa: E402
from costcorrect.web import create_app as web_app  # noqa: E402
from costcorrect.web.procurement import NO_DATABASE  # noqa: E402
from test_service_support import auth, make_identities, reveal_for, round_body, running  # noqa: E402

VENDORS = ["v-alpha", "v-beta"]
ITEMS = [f"p{i}" for i in range(6)]
LABELS = [1, 0, 1, 1, 0, 0]


def _run_round(client, tokens, *, finish: bool, name: str = "rfp"):
    """A single-slot round through the service's HTTP API; returns (round_id, label reveal, reveals)."""
    body, label_reveal = round_body(ITEMS, LABELS, VENDORS)
    body["name"] = name
    r = client.post("/v1/rounds", json=body, headers=auth(tokens["buyer-1"]))
    assert r.status_code == 201, r.text
    rid = r.json()["round_id"]
    y = np.array(LABELS, dtype=float)
    probs = {"v-alpha": (y * 0.8 + 0.1).round(6).tolist(), "v-beta": [0.5] * len(ITEMS)}
    commits, reveals = {}, {}
    for v in VENDORS:
        commits[v], reveals[v] = reveal_for(ITEMS, probs[v])
        assert client.post(f"/v1/rounds/{rid}/commitments", json={"commitment": commits[v]},
                           headers=auth(tokens[v])).status_code == 201
    if finish:
        assert client.post(f"/v1/rounds/{rid}/close-commitments", headers=auth(tokens["buyer-1"])).status_code == 200
        for v in VENDORS:
            assert client.post(f"/v1/rounds/{rid}/reveals", json=reveals[v], headers=auth(tokens[v])).status_code == 201
        assert client.post(f"/v1/rounds/{rid}/labels", json=label_reveal,
                           headers=auth(tokens["buyer-1"])).status_code == 200
    return rid, label_reveal, reveals, commits


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """`costcorrect serve` on a fresh SQLite file with one scored and one open round."""
    db = tmp_path_factory.mktemp("procurement") / "service.db"
    tokens = make_identities(db, buyers=["buyer-1", "buyer-2"], vendors=[*VENDORS, "v-outsider"])
    with running(db) as srv, httpx.Client(base_url=srv.url, timeout=30) as client:
        done, _, _, _ = _run_round(client, tokens, finish=True, name="scored rfp")
        open_, labels, reveals, commits = _run_round(client, tokens, finish=False, name="open rfp")
        yield {"client": client, "tokens": tokens, "db": db, "done": done, "open": open_,
               "open_labels": labels, "open_reveals": reveals, "open_commits": commits}


def _view(client, token):
    return client.get("/api/procurement/view", headers=auth(token) if token else {})


def test_page_is_served_by_costcorrect_serve(served):
    r = served["client"].get("/procurement")
    assert r.status_code == 200
    assert 'data-control="token"' in r.text and 'type="password"' in r.text and "data-bundle=" in r.text
    assert NO_DATABASE not in r.text  # a database is attached here
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert 'href="/procurement"' in served["client"].get("/").text


@pytest.mark.parametrize("token", [None, "cc_0000000000000000_wrong", "Bearer"])
def test_page_api_needs_a_valid_token(served, token):
    r = _view(served["client"], token)
    assert r.status_code == 401 and "bearer token" in r.json()["detail"]
    assert served["client"].get("/api/procurement/ledger").status_code == 401


def test_token_in_query_string_is_refused(served):
    r = served["client"].get("/api/procurement/view", params={"token": served["tokens"]["buyer-1"]},
                             headers=auth(served["tokens"]["buyer-1"]))
    assert r.status_code == 422 and r.json()["field"] == "token"


def test_buyer_sees_rounds_scores_payments_and_ledger(served):
    client, tokens = served["client"], served["tokens"]
    r = _view(client, tokens["buyer-1"])
    assert r.status_code == 200, r.text
    body = r.json()
    rounds = {x["round_id"]: x for x in body["result"]["rounds"]}
    assert set(rounds) == {served["done"], served["open"]}
    assert rounds[served["open"]]["phase"] == "commit" and rounds[served["open"]]["result"] is None
    # the scored round's numbers are the service's own result
    res = client.get(f"/v1/rounds/{served['done']}/result", headers=auth(tokens["buyer-1"])).json()
    assert rounds[served["done"]]["result"] == res
    # hand check (Brier, a = b = 1): v-alpha is off by 0.1 on every item → score −0.01, paid 0.99
    alpha = next(v for v in res["vendors"] if v["vendor"] == "v-alpha")
    assert alpha["score"] == pytest.approx(-0.01) and alpha["payment_usd"] == pytest.approx(0.99)
    table = next(t for t in body["tables"] if t["name"] == "scores and payments")
    row = next(x for x in table["rows"] if x["round_id"] == served["done"] and x["vendor"] == "v-alpha")
    assert row["selected"] is True and row["payment_usd"] == pytest.approx(0.99)
    # ledger status = `costcorrect ledger verify --json`, and the head the service reports
    cli_out = json.loads(CliRunner().invoke(cli, ["ledger", "verify", "--db", str(served["db"]), "--json"]).stdout)
    cli_out.pop("db")
    assert body["result"]["ledger"] == cli_out and cli_out["ok"] is True
    assert body["result"]["ledger"]["head_seq"] == client.get("/healthz").json()["ledger_head_seq"]
    assert client.get("/api/procurement/ledger", headers=auth(tokens["v-beta"])).json() == cli_out
    # the chart: titled, axes with units, one bar per vendor of the scored round
    spec = json.dumps(body["spec"], ensure_ascii=False)
    assert "[USD]" in spec and "[–]" in spec and body["spec"]["title"]
    assert body["result"]["bundle_allowed"] is True


def test_no_secret_reaches_the_page(served):
    """Tokens, commitment digests of open rounds, reveals and labels never appear in the page's data."""
    client, tokens = served["client"], served["tokens"]
    secrets = [*tokens.values(), *served["open_commits"].values(), served["open_labels"]["salt"],
               *(rv["salt"] for rv in served["open_reveals"].values())]
    for who in ("buyer-1", "buyer-2", "v-alpha", "v-beta", "v-outsider"):
        text = _view(client, tokens[who]).text
        for s in secrets:
            assert s not in text, (who, s[:12])
        assert '"payload"' not in text and "label_reveal" not in text


def test_each_party_sees_what_the_service_allows(served):
    client, tokens = served["client"], served["tokens"]
    assert _view(client, tokens["buyer-2"]).json()["result"]["rounds"] == []  # another buyer's rounds
    assert _view(client, tokens["v-outsider"]).json()["result"]["rounds"] == []  # not invited
    beta = {x["round_id"]: x for x in _view(client, tokens["v-beta"]).json()["result"]["rounds"]}
    # open round: a vendor sees only its own flags (the service's GET /v1/rounds/{id} says the same)
    assert [s["vendor"] for s in beta[served["open"]]["status"]] == ["v-beta"]
    svc = client.get(f"/v1/rounds/{served['open']}", headers=auth(tokens["v-beta"])).json()
    assert {k: v for k, v in beta[served["open"]].items() if k != "result"} == svc
    assert [s["vendor"] for s in beta[served["done"]]["status"]] == VENDORS  # scored: everyone's
    assert _view(client, tokens["v-beta"]).json()["result"]["bundle_allowed"] is False


def test_bundle_download_rules_and_contents(served, tmp_path):
    client, tokens = served["client"], served["tokens"]
    assert client.get("/api/procurement/bundle.zip").status_code == 401
    r = client.get("/api/procurement/bundle.zip", headers=auth(tokens["v-alpha"]))
    assert r.status_code == 403
    r = client.get("/api/procurement/bundle.zip", headers=auth(tokens["buyer-1"]))
    assert r.status_code == 409 and "1 round(s) are still open" in r.json()["detail"]
    # finish the open round through the service, then the buyer may download
    rid = served["open"]
    assert client.post(f"/v1/rounds/{rid}/close-commitments", headers=auth(tokens["buyer-1"])).status_code == 200
    assert client.post(f"/v1/rounds/{rid}/labels", json=served["open_labels"],
                       headers=auth(tokens["buyer-1"])).status_code == 200
    r = client.get("/api/procurement/bundle.zip", headers=auth(tokens["buyer-1"]))
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    assert r.headers["content-disposition"].startswith('attachment; filename="costcorrect-evidence-')
    zf = zipfile.ZipFile(io.BytesIO(r.content))
    events = zf.read("evidence/events.jsonl").decode().splitlines()
    assert len(events) == client.get("/healthz").json()["ledger_head_seq"]
    out = tmp_path / "bundle.zip"
    out.write_bytes(r.content)
    script = tmp_path / "verify_bundle.py"
    script.write_bytes(zf.read("evidence/verify_bundle.py"))
    v = subprocess.run([sys.executable, "-I", "-S", str(script), str(out), "--json"], capture_output=True, text=True)
    assert v.returncode == 0, v.stdout + v.stderr


def test_tampered_ledger_shows_on_the_page(tmp_path):
    """Edit one event behind the service's back: the page's ledger status names the bad seq."""
    from costcorrect.service.app import create_app as service_app

    db = tmp_path / "svc.db"
    tokens = make_identities(db, buyers=["buyer-1"], vendors=VENDORS)
    app = service_app(db)
    with TestClient(app) as client:
        _run_round(client, tokens, finish=True)
        ok = _view(client, tokens["buyer-1"]).json()["result"]["ledger"]
        assert ok["ok"] is True
        c = sqlite3.connect(db, isolation_level=None)
        for (name,) in c.execute("SELECT name FROM sqlite_master WHERE type='trigger'").fetchall():
            c.execute(f'DROP TRIGGER "{name}"')
        payload = c.execute("SELECT payload FROM ledger_events WHERE seq = 3").fetchone()[0]
        c.execute("UPDATE ledger_events SET payload = ? WHERE seq = 3", (payload.replace('"', "'", 1),))
        c.close()
        body = _view(client, tokens["buyer-1"]).json()
    app.state.store.close()
    led = body["result"]["ledger"]
    assert led["ok"] is False and led["first_bad_seq"] == 3
    assert any(n.startswith("LEDGER NOT INTACT: seq 3") for n in body["notes"])


def test_explorer_without_database_says_how_to_get_one():
    with TestClient(web_app()) as client:
        page = client.get("/procurement")
        assert page.status_code == 200 and "costcorrect serve --db FILE" in page.text
        assert 'data-role="no-database"' in page.text
        for path in ("/api/procurement/view", "/api/procurement/ledger", "/api/procurement/bundle.zip"):
            r = client.get(path, headers=auth("cc_0_x"))
            assert r.status_code == 503 and "costcorrect serve --db FILE" in r.json()["detail"]
        assert client.get("/api/procurement/status").json()["database"] is False
