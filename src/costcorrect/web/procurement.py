"""The procurement page's data: rounds, scores, payments, ledger status, evidence bundle.

Served only inside the procurement service's app (``costcorrect serve --db FILE``), whose
``app.state.store`` holds the SQLite store; under ``costcorrect web`` there is no database
and every route here answers 503 with a message saying how to start the service.

Same authorisation as the service (issue 10 §3): every call carries ``Authorization:
Bearer TOKEN`` (the page keeps the token in memory and sends it in the header, never in a
URL); a buyer sees its own rounds, a vendor the rounds it is invited to, and a vendor sees
only its own committed/revealed flags until a round is scored
(:func:`costcorrect.service.app.round_status`). Commitment digests, reveals, labels and
item payloads are never part of the page's data. The evidence bundle (the whole ledger, as
``costcorrect ledger export`` writes it) goes to buyers only, and only while no round is
still open, because it holds every commitment and reveal.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import altair as alt
import pandas as pd
from fastapi import HTTPException, Request

from costcorrect.io import jsonable

NO_DATABASE = ("No procurement database is attached: this explorer was started without one "
               "(`costcorrect web`). Start the procurement service, which serves this explorer too, "
               "with `costcorrect serve --db FILE`, then open /procurement there.")

_TOKEN_HINT = "a bearer token from `costcorrect admin create-buyer/create-vendor` in the token field"


def store_of(request: Request):
    """The service's store, or ``None`` when the app has no database (``costcorrect web``)."""
    return getattr(request.app.state, "store", None)


def require_store(request: Request):
    store = store_of(request)
    if store is None:
        raise HTTPException(503, NO_DATABASE)
    return store


def authenticate(request: Request, store):
    """The caller's :class:`~costcorrect.service.auth.Identity`; 401 without a valid token."""
    from costcorrect.service.auth import check_token

    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    ident = None
    if scheme.lower() == "bearer" and token.strip():
        ident = store.read(lambda tx: check_token(token.strip(), tx.identity))
    if ident is None:
        raise HTTPException(401, f"missing or invalid bearer token: enter {_TOKEN_HINT}",
                            headers={"WWW-Authenticate": "Bearer"})
    return ident


def _round_ids(tx) -> list[str]:
    """Every round id, oldest first (the Tx protocol has no listing; SQLite store's table)."""
    listing = getattr(tx, "round_ids", None)
    if listing is not None:
        return list(listing())
    return [r[0] for r in tx.c.execute("SELECT round_id FROM rounds ORDER BY created_at, round_id")]


def visible_rounds(store, ident) -> list[dict]:
    """Rounds ``ident`` may see, each the service's round status plus its result when scored."""
    from costcorrect.service.app import round_status

    def _tx(tx):
        out = []
        for rid in _round_ids(tx):
            rnd = tx.round(rid)
            try:
                view = round_status(tx, rnd, ident)
            except HTTPException:  # neither its buyer nor invited: not shown
                continue
            out.append({**view, "result": tx.result(rid) if rnd["phase"] == "scored" else None})
        return out

    return store.read(_tx)


def open_round_count(store) -> int:
    return store.read(lambda tx: sum(tx.round(r)["phase"] != "scored" for r in _round_ids(tx)))


def ledger_status(store) -> dict:
    """``costcorrect ledger verify --json`` for the service's database (read-only)."""
    from costcorrect.ledger.verify import verify_db

    return verify_db(store.db_path).as_dict()


def bundle_zip(store) -> tuple[bytes, str]:
    """The evidence bundle as ``costcorrect ledger export --out X.zip`` writes it; (bytes, name)."""
    from costcorrect.ledger.export import export_bundle

    with tempfile.TemporaryDirectory(prefix="costcorrect-bundle-") as tmp:
        path = Path(tmp) / "evidence.zip"
        info = export_bundle(store.db_path, path)
        data = path.read_bytes()
    return data, f"costcorrect-evidence-{str(info.get('ledger_id') or 'ledger')[:16]}-seq{info['head_seq']}.zip"


def _round_label(r: dict) -> str:
    return f"{r['name']} ({r['round_id'][:6]})"


def score_rows(rounds: list[dict]) -> list[dict]:
    """One row per vendor per round: flags, and score/payment once the round is scored."""
    rows = []
    for r in rounds:
        res = {v["vendor"]: v for v in (r["result"] or {}).get("vendors", [])}
        selected = (r["result"] or {}).get("selected")
        for st in r["status"]:
            v = res.get(st["vendor"], {})
            rows.append({"round": _round_label(r), "round_id": r["round_id"], "phase": r["phase"],
                         "vendor": st["vendor"], "committed": st["committed"], "revealed": st["revealed"],
                         "score": v.get("score"), "payment_usd": v.get("payment_usd"),
                         "selected": st["vendor"] == selected if r["result"] else None})
    return rows


def procurement_chart(rows: list[dict], who: str) -> alt.HConcatChart:
    """Mean score and payment per vendor in each scored round (selected vendor highlighted)."""
    scored = [{**r, "label": f"{r['round']} · {r['vendor']}",
               "pick": "selected" if r["selected"] else "not selected"}
              for r in rows if r["score"] is not None or r["payment_usd"] is not None]
    df = pd.DataFrame(scored, columns=["label", "round", "vendor", "score", "payment_usd", "pick"])
    y = alt.Y("label:N", title="round · vendor", sort=None)
    color = alt.Color("pick:N", title="selection", scale=alt.Scale(domain=["selected", "not selected"],
                                                                  range=["#f58518", "#4c78a8"]))
    tip = [alt.Tooltip("round:N"), alt.Tooltip("vendor:N"),
           alt.Tooltip("score:Q", title="mean score [–]", format=".4f"),
           alt.Tooltip("payment_usd:Q", title="payment [USD]", format=",.4f"), alt.Tooltip("pick:N")]
    height = max(60, 22 * len(df))
    score = alt.Chart(df).mark_bar().encode(
        y=y, x=alt.X("score:Q", title="mean proper score over the probes [–] (higher is better)"),
        color=color, tooltip=tip).properties(width=300, height=height, title="score")
    pay = alt.Chart(df).mark_bar().encode(
        y=alt.Y("label:N", title=None, sort=None, axis=alt.Axis(labels=False, ticks=False)),
        x=alt.X("payment_usd:Q", title="payment a + b·score [USD]"),
        color=color, tooltip=tip).properties(width=300, height=height, title="payment")
    return alt.hconcat(score, pay).properties(
        title=alt.Title(f"Scored procurement rounds visible to {who}: score and payment per vendor",
                        subtitle="papers 06 §4 and 07 §5; unrevealed vendors score nothing and are paid 0",
                        anchor="start"))


_ROUND_COLUMNS = [("name", "round"), ("round_id", "id"), ("buyer", "buyer"), ("rule", "rule"), ("mode", "mode"),
                  ("phase", "phase"), ("n_vendors", "vendors [count]"), ("n_items", "probe items [count]"),
                  ("committed", "committed [count]"), ("revealed", "revealed [count]"), ("selected", "selected"),
                  ("total_payment_usd", "total paid [USD]")]
_SCORE_COLUMNS = [("round", "round"), ("vendor", "vendor"), ("phase", "phase"), ("committed", "committed"),
                  ("revealed", "revealed"), ("score", "mean score [–]"), ("payment_usd", "payment [USD]"),
                  ("selected", "selected")]
_LEDGER_COLUMNS = [("ok", "intact"), ("events", "events [count]"), ("head_seq", "head seq"),
                   ("head_hash", "head hash (SHA-256)"), ("checkpoints_checked", "signed checkpoints checked [count]"),
                   ("first_bad_seq", "first bad seq"), ("first_problem", "first problem")]


def _table(name: str, columns: list[tuple[str, str]], rows: list[dict]) -> dict:
    return {"name": name, "columns": [{"key": k, "label": label} for k, label in columns], "rows": jsonable(rows)}


def procurement_view(store, ident) -> dict[str, Any]:
    rounds = visible_rounds(store, ident)
    ledger = ledger_status(store)
    rows = score_rows(rounds)
    round_rows = []
    for r in rounds:
        res = r["result"] or {}
        round_rows.append({"name": r["name"], "round_id": r["round_id"], "buyer": r["buyer"], "rule": r["rule"],
                           "mode": r["mode"], "phase": r["phase"], "n_vendors": len(r["vendors"]),
                           "n_items": r["n_items"], "committed": sum(s["committed"] for s in r["status"]),
                           "revealed": sum(s["revealed"] for s in r["status"]), "selected": res.get("selected"),
                           "total_payment_usd": res.get("total_payment_usd")})
    first = ledger.get("first_problem")
    ledger_row = {**ledger, "first_problem": None if not first else
                  f"seq {first.get('seq')}: {first.get('kind')}: {first.get('detail')}"}
    notes = []
    if not rounds:
        notes.append(f"No rounds are visible to {ident.name} ({ident.role}) yet.")
    elif not any(r["result"] for r in rounds):
        notes.append("No visible round is scored yet: scores and payments appear once the buyer reveals the labels.")
    if ident.role == "vendor":
        notes.append("As a vendor you see your own commit/reveal flags until a round is scored, then everyone's.")
    notes.append(("Ledger intact: " if ledger["ok"] else "LEDGER NOT INTACT: ")
                 + (f"{ledger['events']} events, head seq {ledger['head_seq']}, "
                    f"{ledger['checkpoints_checked']} signed checkpoints verified."
                    if ledger["ok"] else str(ledger_row["first_problem"])))
    result = {"identity": {"name": ident.name, "role": ident.role}, "rounds": rounds, "ledger": ledger,
              "bundle_allowed": ident.role == "buyer"}
    return {
        "result": jsonable(result),
        "spec": procurement_chart(rows, f"{ident.name} ({ident.role})").to_dict(),
        "notes": notes,
        "tables": [_table("rounds", _ROUND_COLUMNS, round_rows),
                   _table("scores and payments", _SCORE_COLUMNS, rows),
                   _table("ledger verification", _LEDGER_COLUMNS, [ledger_row])],
    }
