"""Full procurement rounds over real HTTP (uvicorn on 127.0.0.1, SQLite file), the
authorisation rules of issue 10 §3, and bad input (4xx naming the field, no partial write)."""

from __future__ import annotations

import json
import subprocess
import sys

import httpx
import numpy as np
import pytest

from test_service_support import auth, make_identities, reveal_for, round_body, running, salt

VENDORS = ["v-alpha", "v-beta", "v-gamma"]
OUTSIDER = "v-outsider"
ITEMS = [f"p{i:02d}" for i in range(12)]
LABELS = [1, 0, 1, 1, 0, 0, 1, 0, 1, 1, 0, 1]


@pytest.fixture(scope="module")
def svc(tmp_path_factory):
    db = tmp_path_factory.mktemp("svc") / "service.db"
    tokens = make_identities(db, buyers=["buyer-1", "buyer-2"], vendors=[*VENDORS, OUTSIDER])
    with running(db) as srv:
        with httpx.Client(base_url=srv.url, timeout=30) as client:
            yield client, tokens, db


def _head(client, tokens):
    return client.get("/healthz").json()["ledger_head_seq"]


def _new_round(client, tokens, *, mode="single", labels=None, vendors=VENDORS, a=1.0):
    body, label_reveal = round_body(ITEMS, labels or LABELS, vendors, mode=mode, a=a)
    r = client.post("/v1/rounds", json=body, headers=auth(tokens["buyer-1"]))
    assert r.status_code == 201, r.text
    return r.json()["round_id"], label_reveal


def test_single_round_end_to_end(svc, tmp_path):
    client, tokens, db = svc
    rid, label_reveal = _new_round(client, tokens)
    rng = np.random.default_rng(0)
    y = np.array(LABELS, dtype=float)
    probs = {"v-alpha": np.clip(y * 0.8 + 0.1, 0, 1),  # informative
             "v-beta": np.full(len(ITEMS), 0.5),  # uninformative
             "v-gamma": rng.uniform(0, 1, len(ITEMS))}
    # vendors see items without labels
    items = client.get(f"/v1/rounds/{rid}/items", headers=auth(tokens["v-alpha"])).json()["items"]
    assert [it["item_id"] for it in items] == ITEMS
    assert all(set(it) == {"item_id", "payload"} for it in items) and "label" not in json.dumps(items)
    reveals = {}
    for v in VENDORS:
        c, reveals[v] = reveal_for(ITEMS, probs[v].round(6).tolist())
        r = client.post(f"/v1/rounds/{rid}/commitments", json={"commitment": c}, headers=auth(tokens[v]))
        assert r.status_code == 201, r.text
        assert r.json()["receipt"]["seq"] > 0
    r = client.post(f"/v1/rounds/{rid}/close-commitments", headers=auth(tokens["buyer-1"]))
    assert r.status_code == 200 and r.json()["committed"] == VENDORS
    for v in VENDORS:
        r = client.post(f"/v1/rounds/{rid}/reveals", json=reveals[v], headers=auth(tokens[v]))
        assert r.status_code == 201, r.text
    r = client.post(f"/v1/rounds/{rid}/labels", json=label_reveal, headers=auth(tokens["buyer-1"]))
    assert r.status_code == 200, r.text
    res = client.get(f"/v1/rounds/{rid}/result", headers=auth(tokens["v-beta"])).json()
    # hand calculation: Brier of paper 06 §4, S = -(p - l)^2, t = a + b * mean S with a = b = 1
    for row in res["vendors"]:
        p = np.array([x["prob"] for x in reveals[row["vendor"]]["reports"]])
        expected = float(np.mean(-((p - y) ** 2)))
        assert row["score"] == pytest.approx(expected, abs=1e-12)
        assert row["payment"] == pytest.approx(1.0 + expected, abs=1e-12)
    assert res["selected"] == "v-alpha"
    assert res["vendors"][0]["score"] == pytest.approx(-0.01)  # every |p - l| = 0.1
    # after scoring, vendors may read each other's reveals and commitments
    r = client.get(f"/v1/rounds/{rid}/reveals/v-alpha", headers=auth(tokens["v-gamma"]))
    assert r.status_code == 200 and r.json()["reports"] == reveals["v-alpha"]["reports"]
    # the ledger verifies, and so does the exported bundle with the stdlib-only script
    cli = [sys.executable, "-m", "costcorrect.cli"]
    v = subprocess.run([*cli, "ledger", "verify", "--db", str(db), "--json"], capture_output=True, text=True)
    assert v.returncode == 0, v.stdout + v.stderr
    assert json.loads(v.stdout)["ok"] is True
    out = tmp_path / "bundle.zip"
    e = subprocess.run([*cli, "ledger", "export", "--db", str(db), "--out", str(out)], capture_output=True, text=True)
    assert e.returncode == 0, e.stderr
    script = tmp_path / "verify_bundle.py"
    import zipfile

    script.write_bytes(zipfile.ZipFile(out).read("evidence/verify_bundle.py"))
    b = subprocess.run([sys.executable, "-I", "-S", str(script), str(out), "--json"], capture_output=True, text=True)
    assert b.returncode == 0, b.stdout + b.stderr
    kinds = [json.loads(json.loads(line)["payload"])["kind"]
             for line in zipfile.ZipFile(out).read("evidence/events.jsonl").decode().splitlines()]
    for k in ("round.created", "commitment.posted", "round.commitments_closed", "reveal.accepted",
              "labels.revealed", "round.scored"):
        assert k in kinds


def test_joint_round_end_to_end(svc):
    client, tokens, _ = svc
    pairs = [[1, 1], [0, 1], [1, 0], [0, 0]] * 3
    # joint Brier ranges over [-2, 0], so ex post IR needs a >= 2b (07 Thm 3)
    rid, label_reveal = _new_round(client, tokens, mode="joint", labels=pairs, vendors=VENDORS[:2], a=2.0)
    # v-alpha knows the joint outcome well; v-beta reports the uniform joint distribution
    good = []
    for r1, r2 in pairs:
        q = np.full(4, 0.05)
        q[2 * r1 + r2] = 0.85
        good.append(q.round(6).tolist())
    uniform = [[0.25] * 4 for _ in pairs]
    c1, rev1 = reveal_for(ITEMS, good)
    c2, rev2 = reveal_for(ITEMS, uniform)
    assert client.post(f"/v1/rounds/{rid}/commitments", json={"commitment": c1},
                       headers=auth(tokens["v-alpha"])).status_code == 201
    assert client.post(f"/v1/rounds/{rid}/commitments", json={"commitment": c2},
                       headers=auth(tokens["v-beta"])).status_code == 201
    assert client.post(f"/v1/rounds/{rid}/close-commitments", headers=auth(tokens["buyer-1"])).status_code == 200
    assert client.post(f"/v1/rounds/{rid}/reveals", json=rev1, headers=auth(tokens["v-alpha"])).status_code == 201
    assert client.post(f"/v1/rounds/{rid}/reveals", json=rev2, headers=auth(tokens["v-beta"])).status_code == 201
    r = client.post(f"/v1/rounds/{rid}/labels", json=label_reveal, headers=auth(tokens["buyer-1"]))
    assert r.status_code == 200, r.text
    res = r.json()
    # joint Brier of paper 07 §5 by hand: -sum_ab (q_ab - 1[(r1,r2)=(a,b)])^2
    assert res["vendors"][0]["score"] == pytest.approx(-(0.15**2 + 3 * 0.05**2), abs=1e-12)
    assert res["vendors"][1]["score"] == pytest.approx(-(0.75**2 + 3 * 0.25**2), abs=1e-12)
    assert res["selected"] == "v-alpha" and res["mode"] == "joint"
    assert res["vendors"][0]["payment"] == pytest.approx(2.0 + res["vendors"][0]["score"])


ROUTES = [("post", "/v1/rounds"), ("get", "/v1/rounds/0123456789abcdef"),
          ("get", "/v1/rounds/0123456789abcdef/items"), ("post", "/v1/rounds/0123456789abcdef/commitments"),
          ("post", "/v1/rounds/0123456789abcdef/close-commitments"),
          ("post", "/v1/rounds/0123456789abcdef/reveals"), ("post", "/v1/rounds/0123456789abcdef/labels"),
          ("get", "/v1/rounds/0123456789abcdef/result"), ("get", "/v1/rounds/0123456789abcdef/reveals/x"),
          ("get", "/v1/rounds/0123456789abcdef/commitments/x"), ("get", "/v1/whoami")]


@pytest.mark.parametrize("method,path", ROUTES)
@pytest.mark.parametrize("header", [None, "Bearer nope", "Basic abc", "Bearer cc_0123456789abcdef_" + "A" * 43])
def test_every_route_needs_a_valid_token(svc, method, path, header):
    client, _, _ = svc
    headers = {"Authorization": header} if header else {}
    r = client.request(method.upper(), path, headers=headers, content=b"{not json")
    assert r.status_code == 401 and r.json()["detail"]


def test_authorisation_rules(svc):
    client, t, _ = svc
    rid, label_reveal = _new_round(client, t)
    ca, rev_a = reveal_for(ITEMS, [0.5] * len(ITEMS))
    cb, rev_b = reveal_for(ITEMS, [0.6] * len(ITEMS))

    def post(path, token, body=None):
        return client.post(f"/v1/rounds/{rid}{path}", json=body, headers=auth(t[token]))

    def get(path, token):
        return client.get(f"/v1/rounds/{rid}{path}", headers=auth(t[token]))

    # a vendor cannot create a round; another buyer cannot touch this one
    body, _ = round_body(ITEMS, LABELS, VENDORS)
    assert client.post("/v1/rounds", json=body, headers=auth(t["v-alpha"])).status_code == 403
    assert get("/items", "buyer-2").status_code == 403
    assert post("/close-commitments", "buyer-2").status_code == 403
    # an uninvited vendor cannot read items or commit
    assert get("/items", OUTSIDER).status_code == 403
    assert post("/commitments", OUTSIDER, {"commitment": ca}).status_code == 403
    # a vendor cannot act for another vendor: no field names the vendor, extra keys are refused
    r = post("/commitments", "v-alpha", {"commitment": ca, "vendor": "v-beta"})
    assert r.status_code == 422 and "vendor" in r.json()["detail"]
    assert post("/commitments", "v-alpha", {"commitment": ca}).status_code == 201
    assert post("/commitments", "v-beta", {"commitment": cb}).status_code == 201
    assert get("/commitments/v-gamma", "v-gamma").status_code == 404  # own and absent: not forbidden
    # a commitment cannot be changed
    assert post("/commitments", "v-alpha", {"commitment": cb}).status_code == 403
    # a vendor cannot read another vendor's commitment before the round closes; the buyer can
    assert get("/commitments/v-beta", "v-alpha").status_code == 403
    assert get("/commitments/v-beta", "buyer-1").status_code == 200
    # reveal before close, labels before close: refused
    assert post("/reveals", "v-alpha", rev_a).status_code == 403
    assert post("/labels", "buyer-1", label_reveal).status_code == 403
    # only the buyer closes
    assert post("/close-commitments", "v-alpha").status_code == 403
    assert post("/close-commitments", "buyer-1").status_code == 200
    # cannot commit after the commit phase
    assert post("/commitments", "v-gamma", {"commitment": ca}).status_code == 403
    # a reveal that does not match the commitment is refused and leaves nothing behind
    r = post("/reveals", "v-alpha", rev_b)
    assert r.status_code == 403 and "does not match" in r.json()["detail"]
    assert get("/reveals/v-alpha", "v-alpha").status_code == 404
    assert post("/reveals", "v-alpha", rev_a).status_code == 201
    # cannot reveal twice; a vendor with no commitment cannot reveal
    assert post("/reveals", "v-alpha", rev_a).status_code == 403
    assert post("/reveals", "v-gamma", rev_a).status_code == 403
    # another vendor's reveal is hidden before the round closes; own is visible
    assert get("/reveals/v-alpha", "v-beta").status_code == 403
    assert get("/reveals/v-alpha", "v-alpha").status_code == 200
    # the buyer cannot change items (no such route) nor post labels that do not match
    assert client.put(f"/v1/rounds/{rid}/items", json=[], headers=auth(t["buyer-1"])).status_code == 405
    bad = dict(label_reveal, labels=[dict(x, label=1 - x["label"]) for x in label_reveal["labels"]])
    r = post("/labels", "buyer-1", bad)
    assert r.status_code == 403 and "label commitment" in r.json()["detail"]
    assert get("/result", "buyer-1").status_code == 409
    assert post("/labels", "buyer-1", label_reveal).status_code == 200
    # labels cannot change after they are revealed; reveals are closed after scoring
    assert post("/labels", "buyer-1", label_reveal).status_code == 403
    assert post("/reveals", "v-beta", rev_b).status_code == 403
    res = get("/result", "v-beta").json()
    assert [v["revealed"] for v in res["vendors"]] == [True, False, False]
    assert res["vendors"][1]["payment"] == 0.0 and res["selected"] == "v-alpha"
    assert get("/result", OUTSIDER).status_code == 403


@pytest.mark.parametrize("mutate,status,field", [
    (lambda b: b.update(reports="nope"), 422, "reports"),
    (lambda b: b["reports"][3].update(prob=1.5), 422, "reports[3].prob"),
    (lambda b: b["reports"][2].update(prob=-0.1), 422, "reports[2].prob"),
    (lambda b: b["reports"][1].update(prob="0.5"), 422, "reports[1].prob"),
    (lambda b: b["reports"][0].update(item_id="nope"), 422, "reports[0].item_id"),
    (lambda b: b["reports"].pop(), 422, "reports"),
    (lambda b: b["reports"][1].update(item_id=b["reports"][0]["item_id"]), 422, "reports[1].item_id"),
    (lambda b: b.update(salt="short"), 422, "salt"),
    (lambda b: b["reports"][0].update(extra=1), 422, "reports[0].extra"),
])
def test_bad_reveal_is_422_naming_the_field_and_writes_nothing(svc, mutate, status, field):
    client, t, _ = svc
    rid, _ = _new_round(client, t, vendors=["v-alpha"])
    c, rev = reveal_for(ITEMS, [0.5] * len(ITEMS))
    client.post(f"/v1/rounds/{rid}/commitments", json={"commitment": c}, headers=auth(t["v-alpha"]))
    client.post(f"/v1/rounds/{rid}/close-commitments", headers=auth(t["buyer-1"]))
    mutate(rev)
    head = _head(client, t)
    r = client.post(f"/v1/rounds/{rid}/reveals", json=rev, headers=auth(t["v-alpha"]))
    assert r.status_code == status, r.text
    assert r.json()["field"] == field
    assert _head(client, t) == head  # no partial write: no ledger event, no reveal row
    assert client.get(f"/v1/rounds/{rid}/reveals/v-alpha", headers=auth(t["v-alpha"])).status_code == 404


@pytest.mark.parametrize("raw,field", [
    (b"{not json", "body"),
    (b'{"name": "x"}', "rule"),
    (json.dumps({"name": "x", "rule": "brier", "vendors": ["v-alpha"], "items": [{"item_id": "a", "payload": 1}],
                 "label_commitment": "0" * 64, "payment": {"a": 0.0, "b": 1.0}}).encode(), "payment.a"),
    (json.dumps({"name": "x", "rule": "brier", "vendors": ["nobody"], "items": [{"item_id": "a", "payload": 1}],
                 "label_commitment": "0" * 64, "payment": {"a": 1.0, "b": 1.0}}).encode(), "vendors[0]"),
    (json.dumps({"name": "x", "rule": "zero-one", "vendors": ["v-alpha"], "items": [{"item_id": "a", "payload": 1}],
                 "label_commitment": "0" * 64, "payment": {"a": 1.0, "b": 1.0}}).encode(), "rule"),
    (json.dumps({"name": "x", "rule": "brier", "vendors": ["v-alpha"],
                 "items": [{"item_id": "a", "payload": 1}, {"item_id": "a", "payload": 2}],
                 "label_commitment": "0" * 64, "payment": {"a": 1.0, "b": 1.0}}).encode(), "items[0].item_id"),
    (json.dumps({"name": "x", "rule": "brier", "vendors": ["v-alpha"], "items": [{"item_id": "a", "payload": 2**60}],
                 "label_commitment": "0" * 64, "payment": {"a": 1.0, "b": 1.0}}).encode(), "items[0].payload"),
])
def test_bad_round_is_422_naming_the_field(svc, raw, field):
    client, t, _ = svc
    head = _head(client, t)
    r = client.post("/v1/rounds", content=raw, headers={**auth(t["buyer-1"]), "content-type": "application/json"})
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field, r.json()
    assert _head(client, t) == head


def test_oversized_body_is_413(tmp_path):
    db = tmp_path / "small.db"
    t = make_identities(db, buyers=["b"])
    with running(db, max_body_mib=0.01) as srv, httpx.Client(base_url=srv.url) as client:
        big = {"salt": salt(), "reports": [{"item_id": f"i{i}", "prob": 0.5} for i in range(2000)]}
        r = client.post("/v1/rounds/0123456789abcdef/reveals", json=big, headers=auth(t["b"]))
        assert r.status_code == 413 and "limit" in r.json()["detail"]

        def chunks():  # no Content-Length: the limit holds for a chunked upload too
            for _ in range(100):
                yield b" " * 1024

        r = client.post("/v1/rounds", content=chunks(), headers=auth(t["b"]))
        assert r.status_code == 413
        assert client.get("/healthz").status_code == 200
