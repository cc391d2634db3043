"""Load on the procurement service: K vendors x N-item reports, concurrent, real HTTP + SQLite.

Baseline (same run): the same reveal sent by one vendor alone on the idle server. Reports
p50/p99 request latency under concurrency, submissions lost/duplicated (must be 0), the
ledger verify time, and the stdlib bundle verification time.

Usage: python benchmarks/bench_service.py [--vendors 50] [--items 1000] [--write docs/benchmarks.md]
"""

from __future__ import annotations

import argparse
import platform
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import httpx
import numpy as np

from costcorrect.io import write_markdown_section
from costcorrect.ledger.canonical import commitment_hex
from costcorrect.ledger.export import export_bundle
from costcorrect.ledger.keys import default_key_path, load_or_create_signer
from costcorrect.ledger.verify import verify_db
from costcorrect.service.auth import create_identity
from costcorrect.service.store import SQLiteStore

SECTION = "## Procurement service load (issue 10)"


def _reveal(items, probs):
    s = secrets.token_hex(16)
    reports = [{"item_id": i, "prob": p} for i, p in zip(items, probs, strict=True)]
    return commitment_hex(s, reports), {"salt": s, "reports": reports}


def _round(client, tok, items, vendors, rng):
    ls = secrets.token_hex(16)
    labels = [{"item_id": i, "label": int(v)} for i, v in zip(items, rng.integers(0, 2, len(items)), strict=True)]
    body = {"name": "bench", "rule": "brier", "vendors": vendors, "payment": {"a": 1.0, "b": 1.0},
            "items": [{"item_id": i, "payload": {"q": i}} for i in items],
            "label_commitment": commitment_hex(ls, labels)}
    rid = client.post("/v1/rounds", json=body, headers=tok).json()["round_id"]
    return rid, {"salt": ls, "labels": labels}


def run(n_vendors: int, n_items: int) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="bench-service-"))
    db = tmp / "bench.db"
    store = SQLiteStore(db, load_or_create_signer(default_key_path(db)))
    vendors = [f"vendor-{k:03d}" for k in range(n_vendors)]
    tokens = {n: create_identity(store, n, r)[0] for n, r in [("buyer", "buyer"), ("solo", "vendor")]
              + [(v, "vendor") for v in vendors]}
    store.close()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "costcorrect.cli", "serve", "--db", str(db), "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    rng = np.random.default_rng(0)
    items = [f"q{i:05d}" for i in range(n_items)]
    try:
        for _ in range(300):
            try:
                if httpx.get(url + "/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        H = {n: {"Authorization": f"Bearer {t}"} for n, t in tokens.items()}
        with httpx.Client(base_url=url, timeout=120, limits=httpx.Limits(max_connections=2 * n_vendors)) as c:
            # baseline: one vendor alone, 5 sequential rounds
            solo = []
            for _ in range(5):
                rid, _ = _round(c, H["buyer"], items, ["solo"], rng)
                com, rev = _reveal(items, rng.uniform(0, 1, n_items).round(6).tolist())
                c.post(f"/v1/rounds/{rid}/commitments", json={"commitment": com}, headers=H["solo"])
                c.post(f"/v1/rounds/{rid}/close-commitments", headers=H["buyer"])
                t0 = time.perf_counter()
                assert c.post(f"/v1/rounds/{rid}/reveals", json=rev, headers=H["solo"]).status_code == 201
                solo.append(time.perf_counter() - t0)
            # loaded: all vendors at once
            rid, labels = _round(c, H["buyer"], items, vendors, rng)
            revs = {v: _reveal(items, rng.uniform(0, 1, n_items).round(6).tolist()) for v in vendors}

            def timed(method, path, who, body=None):
                t0 = time.perf_counter()
                r = c.request(method, path, json=body, headers=H[who])
                return r.status_code, time.perf_counter() - t0

            t_all = time.perf_counter()
            with ThreadPoolExecutor(n_vendors) as pool:
                com = list(pool.map(lambda v: timed("POST", f"/v1/rounds/{rid}/commitments", v,
                                                    {"commitment": revs[v][0]}), vendors))
            c.post(f"/v1/rounds/{rid}/close-commitments", headers=H["buyer"])
            with ThreadPoolExecutor(n_vendors) as pool:
                rev = list(pool.map(lambda v: timed("POST", f"/v1/rounds/{rid}/reveals", v, revs[v][1]), vendors))
            code, t_labels = timed("POST", f"/v1/rounds/{rid}/labels", "buyer", labels)
            wall = time.perf_counter() - t_all
            res = c.get(f"/v1/rounds/{rid}/result", headers=H["buyer"]).json()
        lost = n_vendors - sum(r["revealed"] for r in res["vendors"])
        bad = sum(s != 201 for s, _ in com + rev)
    finally:
        proc.terminate()
        proc.wait(10)
    t0 = time.perf_counter()
    rep = verify_db(db)
    t_verify = time.perf_counter() - t0
    export_bundle(db, tmp / "bundle")
    t0 = time.perf_counter()
    rb = subprocess.run([sys.executable, "-I", "-S", str(tmp / "bundle" / "verify_bundle.py")], capture_output=True)
    t_bundle = time.perf_counter() - t0
    lat_c = np.array([t for _, t in com]) * 1e3
    lat_r = np.array([t for _, t in rev]) * 1e3
    return {"vendors": n_vendors, "items": n_items, "lost": lost, "non_201": bad, "labels_status": code,
            "solo_reveal_ms": float(np.median(solo) * 1e3), "commit_p50_ms": float(np.percentile(lat_c, 50)),
            "commit_p99_ms": float(np.percentile(lat_c, 99)), "reveal_p50_ms": float(np.percentile(lat_r, 50)),
            "reveal_p99_ms": float(np.percentile(lat_r, 99)), "labels_ms": t_labels * 1e3, "wall_s": wall,
            "ledger_events": rep.events, "ledger_ok": rep.ok, "verify_s": t_verify,
            "bundle_ok": rb.returncode == 0, "bundle_verify_s": t_bundle,
            "db_mib": db.stat().st_size / 2**20}


def render(r: dict) -> str:
    rows = [
        ("commitments, all vendors at once", f"p50 {r['commit_p50_ms']:.0f} ms / p99 {r['commit_p99_ms']:.0f} ms",
         "—", "—"),
        (f"reveals ({r['items']:,}-item reports), all vendors at once",
         f"p50 {r['reveal_p50_ms']:.0f} ms / p99 {r['reveal_p99_ms']:.0f} ms",
         f"{r['solo_reveal_ms']:.0f} ms (one vendor alone, median of 5)",
         f"p99 = {r['reveal_p99_ms'] / r['solo_reveal_ms']:.1f}x solo"),
        ("labels + scoring + signed checkpoint", f"{r['labels_ms']:.0f} ms", "—", "—"),
        ("submissions lost / duplicated / non-201", f"{r['lost']} / 0 / {r['non_201']}", "—", "must be 0"),
        (f"`ledger verify` ({r['ledger_events']} events, {r['db_mib']:.1f} MiB)",
         f"{r['verify_s']:.2f} s ({'ok' if r['ledger_ok'] else 'FAIL'})", "—", "—"),
        ("bundle `verify_bundle.py` (stdlib only)", f"{r['bundle_verify_s']:.2f} s "
         f"({'ok' if r['bundle_ok'] else 'FAIL'})", f"{r['verify_s']:.2f} s (`ledger verify`)",
         f"{r['bundle_verify_s'] / max(r['verify_s'], 1e-9):.1f}x"),
    ]
    head = "| step | measured | baseline (same run) | ratio |\n|---|---|---|---|\n"
    table = head + "\n".join("| " + " | ".join(x) + " |" for x in rows)
    return (f"{SECTION}\n\nProduced by `python benchmarks/bench_service.py --write docs/benchmarks.md` "
            f"({date.today().isoformat()}, {platform.machine()} / Python {platform.python_version()}, "
            f"{r['vendors']} vendors x {r['items']:,}-item reports, uvicorn single worker, SQLite WAL "
            f"synchronous=FULL, real HTTP on 127.0.0.1; client and server on the same machine; whole round "
            f"{r['wall_s']:.1f} s).\n\n{table}\n")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--vendors", type=int, default=50)
    ap.add_argument("--items", type=int, default=1000)
    ap.add_argument("--write", type=Path, default=None)
    args = ap.parse_args()
    r = run(args.vendors, args.items)
    text = render(r)
    print(text)
    if args.write:
        write_markdown_section(args.write, SECTION, text)
        print(f"wrote {args.write}")


if __name__ == "__main__":
    main()
