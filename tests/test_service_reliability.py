"""Concurrent vendors lose and duplicate nothing; SIGKILL mid-round loses nothing committed.

Real uvicorn subprocess, real SQLite file, real HTTP on 127.0.0.1. The full-size load figure
(50 vendors x 1,000-item reports) and its p99 latency are measured by
``benchmarks/bench_service.py`` and reported in ``docs/benchmarks.md``; this test runs the
same shape at 50 x 1,000 and asserts correctness (not speed).
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np
from typer.testing import CliRunner

from costcorrect.cli import app
from test_service_support import Server, auth, make_identities, reveal_for, round_body

N_VENDORS = 50
N_ITEMS = 1000


def _verify(db) -> int:
    return CliRunner().invoke(app, ["ledger", "verify", "--db", str(db)]).exit_code


def test_concurrent_vendors_no_lost_or_duplicate_submissions(tmp_path):
    db = tmp_path / "load.db"
    vendors = [f"vendor-{k:02d}" for k in range(N_VENDORS)]
    t = make_identities(db, buyers=["buyer"], vendors=vendors)
    items = [f"q{i:04d}" for i in range(N_ITEMS)]
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 2, N_ITEMS).tolist()
    body, label_reveal = round_body(items, labels, vendors)
    reveals = {v: reveal_for(items, rng.uniform(0, 1, N_ITEMS).round(6).tolist()) for v in vendors}
    srv = Server(db).start()
    try:
        with httpx.Client(base_url=srv.url, timeout=60,
                          limits=httpx.Limits(max_connections=2 * N_VENDORS)) as client:
            rid = client.post("/v1/rounds", json=body, headers=auth(t["buyer"])).json()["round_id"]

            def commit(v):  # every vendor sends its commitment twice at once
                return client.post(f"/v1/rounds/{rid}/commitments", json={"commitment": reveals[v][0]},
                                   headers=auth(t[v])).status_code

            with ThreadPoolExecutor(2 * N_VENDORS) as pool:
                codes = list(pool.map(commit, vendors + vendors))
            assert sorted(codes) == [201] * N_VENDORS + [403] * N_VENDORS
            closed = client.post(f"/v1/rounds/{rid}/close-commitments", headers=auth(t["buyer"])).json()
            assert closed["committed"] == vendors

            def reveal(v):
                t0 = time.perf_counter()
                r = client.post(f"/v1/rounds/{rid}/reveals", json=reveals[v][1], headers=auth(t[v]))
                return r.status_code, time.perf_counter() - t0

            with ThreadPoolExecutor(N_VENDORS) as pool:
                out = list(pool.map(reveal, vendors))
            assert [c for c, _ in out] == [201] * N_VENDORS
            res = client.post(f"/v1/rounds/{rid}/labels", json=label_reveal, headers=auth(t["buyer"])).json()
            assert [r["revealed"] for r in res["vendors"]] == [True] * N_VENDORS
            for v in vendors[:3]:  # what was stored is what was sent
                got = client.get(f"/v1/rounds/{rid}/reveals/{v}", headers=auth(t[v])).json()
                assert got["reports"] == reveals[v][1]["reports"]
            head = client.get("/healthz").json()["ledger_head_seq"]
    finally:
        srv.stop()
    # genesis + 51 identities + round + 50 commitments + close + 50 reveals + labels + scored
    assert head == 1 + (N_VENDORS + 1) + 1 + N_VENDORS + 1 + N_VENDORS + 2
    assert _verify(db) == 0


def test_sigkill_mid_round_then_restart(tmp_path):
    db = tmp_path / "kill.db"
    vendors = ["kv-1", "kv-2"]
    t = make_identities(db, buyers=["kb"], vendors=vendors)
    items = [f"k{i}" for i in range(20)]
    body, label_reveal = round_body(items, [i % 2 for i in range(20)], vendors)
    revs = {v: reveal_for(items, [0.3 + 0.02 * k] * 20) for k, v in enumerate(vendors)}
    srv = Server(db, checkpoint_every=3).start()
    try:
        c = httpx.Client(base_url=srv.url, timeout=30)
        rid = c.post("/v1/rounds", json=body, headers=auth(t["kb"])).json()["round_id"]
        for v in vendors:
            assert c.post(f"/v1/rounds/{rid}/commitments", json={"commitment": revs[v][0]},
                          headers=auth(t[v])).status_code == 201
        assert c.post(f"/v1/rounds/{rid}/close-commitments", headers=auth(t["kb"])).status_code == 200
        assert c.post(f"/v1/rounds/{rid}/reveals", json=revs["kv-1"][1], headers=auth(t["kv-1"])).status_code == 201

        # kill while a second reveal is in flight: it is either fully in or fully out
        def late():
            try:
                return c.post(f"/v1/rounds/{rid}/reveals", json=revs["kv-2"][1], headers=auth(t["kv-2"])).status_code
            except httpx.TransportError:
                return None

        with ThreadPoolExecutor(1) as pool:
            fut = pool.submit(late)
            srv.kill()
            fut.result()
        c.close()
    finally:
        srv.kill()
    assert _verify(db) == 0  # the file left by SIGKILL verifies as it is
    srv = Server(db, checkpoint_every=3).start()
    try:
        with httpx.Client(base_url=srv.url, timeout=30) as c:
            state = c.get(f"/v1/rounds/{rid}", headers=auth(t["kb"])).json()
            assert state["phase"] == "reveal"
            assert [s["committed"] for s in state["status"]] == [True, True]
            if not state["status"][1]["revealed"]:
                assert c.post(f"/v1/rounds/{rid}/reveals", json=revs["kv-2"][1],
                              headers=auth(t["kv-2"])).status_code == 201
            r = c.post(f"/v1/rounds/{rid}/labels", json=label_reveal, headers=auth(t["kb"]))
            assert r.status_code == 200 and [v["revealed"] for v in r.json()["vendors"]] == [True, True]
    finally:
        srv.stop()
    assert _verify(db) == 0
