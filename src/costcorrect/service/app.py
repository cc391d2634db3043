"""FastAPI app: procurement rounds with sealed-bid commit-reveal (papers 06 §4, 07 §5).

Round flow (``phase``): ``commit`` → buyer closes commitments → ``reveal`` → buyer reveals
the labels → ``scored``. Every state change appends exactly one ledger event in the same
SQLite transaction (scoring appends two and signs a checkpoint).

Status codes: 401 no/invalid bearer token; 403 the role, the round or the phase forbids it
(including a reveal that does not match its commitment); 404 no such round/record;
409 result asked before scoring; 413 body too large; 422 bad input (``detail`` names the field).
"""

from __future__ import annotations

import json
import re
import secrets
from pathlib import Path
from typing import Annotated

import numpy as np
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from costcorrect.errors import InputError
from costcorrect.ledger.canonical import canonical_bytes, commitment_hex
from costcorrect.ledger.keys import default_key_path, load_or_create_signer
from costcorrect.service import scoring
from costcorrect.service.auth import Identity, check_token
from costcorrect.service.models import CommitmentIn, LabelsIn, RevealIn, RoundIn
from costcorrect.service.store import SQLiteStore, Store

DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024
_ROUND_ID = re.compile(r"^[0-9a-f]{16}$")
_JOINT_SUM_TOL = 1e-6


# ----------------------------------------------------------------------------- ASGI guard
class _Guard:
    """Pure ASGI middleware: body-size limit (413) and bearer authentication for ``/v1`` (401).

    Runs before FastAPI reads or parses the body, so an unauthenticated or oversized request
    never reaches validation or the database.
    """

    def __init__(self, app, store: Store, max_body_bytes: int):
        self.app = app
        self.store = store
        self.max_body_bytes = int(max_body_bytes)

    @staticmethod
    async def _reply(send, status: int, detail: str, headers: list | None = None):
        body = json.dumps({"detail": detail}).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode()), *(headers or [])]})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        limit = self.max_body_bytes
        try:
            declared = int(headers.get(b"content-length", b"0") or 0)
        except ValueError:
            return await self._reply(send, 400, "Content-Length is not an integer")
        if declared > limit:
            return await self._reply(send, 413, f"request body of {declared} bytes exceeds the limit of "
                                                f"{limit} bytes")
        # buffer the body (bounded) so a chunked upload cannot exceed the limit either
        chunks, size, more = [], 0, True
        while more:
            msg = await receive()
            if msg["type"] == "http.disconnect":
                return None
            chunk = msg.get("body", b"")
            size += len(chunk)
            if size > limit:
                return await self._reply(send, 413, f"request body exceeds the limit of {limit} bytes")
            chunks.append(chunk)
            more = msg.get("more_body", False)
        body = b"".join(chunks)
        if scope["path"].startswith("/v1/"):
            auth = headers.get(b"authorization", b"").decode("latin-1")
            scheme, _, token = auth.partition(" ")
            ident = None
            if scheme.lower() == "bearer" and token:
                import anyio

                ident = await anyio.to_thread.run_sync(
                    lambda: self.store.read(lambda tx: check_token(token.strip(), tx.identity)))
            if ident is None:
                return await self._reply(send, 401, "missing or invalid bearer token",
                                         [(b"www-authenticate", b"Bearer")])
            scope.setdefault("state", {})["identity"] = ident
        sent = False

        async def replay():
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        return await self.app(scope, replay, send)


_bearer = HTTPBearer(auto_error=False, description="token printed by `costcorrect admin create-buyer/create-vendor`")


def _identity(request: Request,
              _creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Identity:
    ident = getattr(request.state, "identity", None)
    if ident is None:  # pragma: no cover - the guard answers 401 first
        raise HTTPException(401, "missing or invalid bearer token", headers={"WWW-Authenticate": "Bearer"})
    return ident


Who = Annotated[Identity, Depends(_identity)]


def _loc(loc) -> str:
    parts = [p for p in loc if p != "body"]
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        elif p in ("constrained-float", "list[constrained-float]", "constrained-int",
                   "list[constrained-int]", "float", "int", "list[float]", "list[int]"):
            continue
        else:
            out += ("." if out else "") + str(p)
    return out or "body"


# ----------------------------------------------------------------------------- helpers
def _round_or_404(tx, round_id: str) -> dict:
    if not _ROUND_ID.match(round_id):
        raise HTTPException(404, f"no round {round_id!r}")
    rnd = tx.round(round_id)
    if rnd is None:
        raise HTTPException(404, f"no round {round_id!r}")
    return rnd


def _party(rnd: dict, ident: Identity) -> str:
    """'buyer' (the round's owner) or 'vendor' (invited); 403 for anyone else."""
    if ident.role == "buyer":
        if rnd["buyer"] != ident.name:
            raise HTTPException(403, "this round belongs to another buyer")
        return "buyer"
    if ident.name not in rnd["spec"]["vendors"]:
        raise HTTPException(403, f"vendor {ident.name!r} is not invited to this round")
    return "vendor"


def _require(cond: bool, status: int, detail: str) -> None:
    if not cond:
        raise HTTPException(status, detail)


def _summary(rnd: dict) -> dict:
    s = rnd["spec"]
    return {"round_id": rnd["round_id"], "name": s["name"], "buyer": rnd["buyer"], "rule": s["rule"],
            "mode": s["mode"], "composition": s["composition"], "phase": rnd["phase"], "vendors": s["vendors"],
            "n_items": len(s["items"]), "label_commitment": s["label_commitment"], "payment": s["payment"]}


def _check_reports(spec: dict, reports: list) -> None:
    """Coverage (each item exactly once) and shape (joint: 4 probabilities summing to 1)."""
    ids = {it["item_id"] for it in spec["items"]}
    seen: set[str] = set()
    joint = spec["mode"] == "joint"
    for i, r in enumerate(reports):
        if r.item_id not in ids:
            raise InputError(f"reports[{i}].item_id", r.item_id, "an item_id of this round")
        if r.item_id in seen:
            raise InputError(f"reports[{i}].item_id", r.item_id, "each item_id once")
        seen.add(r.item_id)
        if joint:
            if not isinstance(r.prob, list):
                raise InputError(f"reports[{i}].prob", r.prob, "[q00, q01, q10, q11] in a joint round")
            if abs(sum(r.prob) - 1.0) > _JOINT_SUM_TOL:
                raise InputError(f"reports[{i}].prob", r.prob, "4 probabilities summing to 1 (±1e-6)")
        elif isinstance(r.prob, list):
            raise InputError(f"reports[{i}].prob", r.prob, "one probability P(label=1) in a single round")
    if len(seen) != len(ids):
        missing = next(iter(sorted(ids - seen)))
        raise InputError("reports", f"{len(seen)} of {len(ids)} items",
                         f"a report for every item (missing {missing!r})")


def _check_labels(spec: dict, labels: list) -> None:
    ids = {it["item_id"] for it in spec["items"]}
    seen: set[str] = set()
    joint = spec["mode"] == "joint"
    for i, lab in enumerate(labels):
        if lab.item_id not in ids:
            raise InputError(f"labels[{i}].item_id", lab.item_id, "an item_id of this round")
        if lab.item_id in seen:
            raise InputError(f"labels[{i}].item_id", lab.item_id, "each item_id once")
        seen.add(lab.item_id)
        if joint != isinstance(lab.label, list):
            raise InputError(f"labels[{i}].label", lab.label,
                             "[r1, r2] in a joint round" if joint else "0 or 1 in a single round")
    if len(seen) != len(ids):
        missing = next(iter(sorted(ids - seen)))
        raise InputError("labels", f"{len(seen)} of {len(ids)} items", f"a label for every item (missing {missing!r})")


def _score(spec: dict, reveals: dict, labels: list[dict]) -> dict:
    order = [it["item_id"] for it in spec["items"]]
    joint = spec["mode"] == "joint"
    lab = {x["item_id"]: x["label"] for x in labels}
    if joint:
        outcomes = scoring.joint_outcomes([lab[i] for i in order])
    else:
        outcomes = np.array([lab[i] for i in order], dtype=np.int64)
    revealed = [v for v in spec["vendors"] if v in reveals]
    rows = []
    if revealed:
        mat = []
        for v in revealed:
            by_id = {r["item_id"]: r["prob"] for r in reveals[v]["reports"]}
            mat.append([by_id[i] for i in order])
        pay = spec["payment"]
        sc = scoring.score_round(spec["rule"], np.asarray(mat, dtype=float), outcomes, joint=joint,
                                 a_usd=pay["a_usd"], b_usd=pay["b_usd"])
        for k, v in enumerate(revealed):
            rows.append({"vendor": v, "revealed": True, "score": sc["mean_scores"][k],
                         "payment": sc["payments_usd"][k], "payment_usd": sc["payments_usd"][k]})
        selected = revealed[sc["selected"]]
    else:
        selected = None
    for v in spec["vendors"]:
        if v not in reveals:
            rows.append({"vendor": v, "revealed": False, "score": None, "payment": 0.0, "payment_usd": 0.0})
    rows.sort(key=lambda r: spec["vendors"].index(r["vendor"]))
    return {"selected": selected, "vendors": rows, "rule": spec["rule"], "mode": spec["mode"],
            "n_items": len(order), "a_usd": spec["payment"]["a_usd"], "b_usd": spec["payment"]["b_usd"],
            "total_payment_usd": float(sum(r["payment_usd"] for r in rows)),
            "note": "score: mean strictly proper score over the probes (higher is better); payment [USD] "
                    "= a + b·score for vendors who revealed, 0 for those who did not"}


def round_status(tx, rnd: dict, ident: Identity) -> dict:
    """A round's summary and per-vendor committed/revealed flags as ``ident`` may see them.

    403 (``HTTPException``) when ``ident`` is neither the round's buyer nor invited; a vendor
    sees only its own flags until the round is scored. ``GET /v1/rounds/{id}`` and the web
    explorer's procurement page (issue 11) both use this, so they apply the same rules.
    """
    who = _party(rnd, ident)
    round_id = rnd["round_id"]
    com, rev = tx.commitments(round_id), tx.revealed_vendors(round_id)
    shown = rnd["spec"]["vendors"] if who == "buyer" or rnd["phase"] == "scored" else [ident.name]
    status = [{"vendor": v, "committed": v in com, "revealed": v in rev} for v in shown]
    return {**_summary(rnd), "status": status}


# ----------------------------------------------------------------------------- app
def create_app(db_path: str | Path, *, key_path: str | Path | None = None,
               max_body_bytes: int = DEFAULT_MAX_BODY_BYTES, checkpoint_every: int = 100,
               store: Store | None = None) -> FastAPI:
    """The procurement service on SQLite file ``db_path`` (created with its ledger when new).

    ``key_path``: Ed25519 checkpoint key (default ``<db>.ed25519.pem``, created when new).
    Includes ``costcorrect.web.router`` when that package is importable (one app, issue 11).
    """
    if store is None:
        signer = load_or_create_signer(key_path or default_key_path(db_path))
        store = SQLiteStore(db_path, signer, checkpoint_every=checkpoint_every)
    app = FastAPI(title="costcorrect procurement service",
                  description="Sealed-bid verifier procurement rounds (papers 06 and 07) with a "
                              "tamper-evident ledger. See docs/procurement-service.md.",
                  version="1")
    app.state.store = store

    @app.exception_handler(InputError)
    async def _input_error(_request, exc: InputError):
        return JSONResponse({"detail": str(exc), "field": exc.field}, status_code=422)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request, exc: RequestValidationError):
        errs = []
        for e in exc.errors():
            if e.get("type") == "json_invalid":  # loc is ("body", character offset)
                pos = e.get("loc", ("body", "?"))[-1]
                errs.append({"field": "body", "message": f"malformed JSON at character {pos}",
                             "type": "json_invalid"})
            else:
                errs.append({"field": _loc(e.get("loc", ())), "message": e.get("msg", ""),
                             "type": e.get("type", "")})
        first = errs[0] if errs else {"field": "body", "message": "invalid"}
        return JSONResponse({"detail": f"{first['field']}: {first['message']}", "field": first["field"],
                             "errors": errs}, status_code=422)

    @app.get("/healthz", tags=["meta"])
    def healthz():
        seq, head = store.read(lambda tx: tx.head())
        return {"status": "ok", "ledger_head_seq": seq, "ledger_head_hash": head}

    @app.get("/v1/whoami", tags=["identity"])
    def whoami(ident: Who):
        return {"name": ident.name, "role": ident.role}

    @app.post("/v1/rounds", status_code=201, tags=["rounds"])
    def create_round(body: RoundIn, ident: Who):
        _require(ident.role == "buyer", 403, "only a buyer can create a round")
        if len(set(body.vendors)) != len(body.vendors):
            dup = next(v for v in body.vendors if body.vendors.count(v) > 1)
            raise InputError("vendors", dup, "each vendor once")
        ids = [it.item_id for it in body.items]
        if len(set(ids)) != len(ids):
            k = next(i for i, x in enumerate(ids) if ids.count(x) > 1)
            raise InputError(f"items[{k}].item_id", ids[k], "unique item ids")
        for i, it in enumerate(body.items):
            canonical_bytes(it.payload, f"items[{i}].payload")
        joint = body.mode == "joint"
        pay_in = body.payment.model_dump(exclude_none=True)
        payment = scoring.resolve_payment(body.rule, pay_in, len(body.items), len(body.vendors), joint)
        round_id = secrets.token_hex(8)
        spec = {"name": body.name, "rule": body.rule, "mode": body.mode, "composition": body.composition,
                "vendors": list(body.vendors), "items": [it.model_dump() for it in body.items],
                "label_commitment": body.label_commitment, "payment": payment}

        def _tx(tx):
            for i, v in enumerate(body.vendors):
                who = tx.identity_by_name(v)
                if who is None or who["role"] != "vendor":
                    raise InputError(f"vendors[{i}]", v, "the name of a registered vendor")
            tx.add_round(round_id, ident.name, spec)
            return tx.append("round.created", {"round_id": round_id, "buyer": ident.name, **spec})

        receipt = store.write(_tx)
        return {"round_id": round_id, "phase": "commit", "receipt": receipt.as_dict()}

    @app.get("/v1/rounds/{round_id}", tags=["rounds"])
    def get_round(round_id: str, ident: Who):
        return store.read(lambda tx: round_status(tx, _round_or_404(tx, round_id), ident))

    @app.get("/v1/rounds/{round_id}/items", tags=["rounds"])
    def get_items(round_id: str, ident: Who):
        def _tx(tx):
            rnd = _round_or_404(tx, round_id)
            _party(rnd, ident)
            return {"round_id": round_id, "mode": rnd["spec"]["mode"], "items": rnd["spec"]["items"]}

        return store.read(_tx)

    @app.post("/v1/rounds/{round_id}/commitments", status_code=201, tags=["vendor"])
    def post_commitment(round_id: str, body: CommitmentIn, ident: Who):
        def _tx(tx):
            rnd = _round_or_404(tx, round_id)
            _require(_party(rnd, ident) == "vendor", 403, "only an invited vendor can commit")
            _require(rnd["phase"] == "commit", 403, "the commit phase is over for this round")
            _require(ident.name not in tx.commitments(round_id), 403,
                     "already committed; a commitment cannot be changed")
            rec = tx.append("commitment.posted", {"round_id": round_id, "vendor": ident.name,
                                                  "commitment": body.commitment})
            tx.add_commitment(round_id, ident.name, body.commitment, rec.seq)
            return rec

        rec = store.write(_tx)
        return {"round_id": round_id, "vendor": ident.name, "commitment": body.commitment,
                "receipt": rec.as_dict()}

    @app.get("/v1/rounds/{round_id}/commitments/{vendor}", tags=["rounds"])
    def get_commitment(round_id: str, vendor: str, ident: Who):
        def _tx(tx):
            rnd = _round_or_404(tx, round_id)
            who = _party(rnd, ident)
            _require(who == "buyer" or vendor == ident.name or rnd["phase"] == "scored", 403,
                     "another vendor's commitment is visible only after the round is scored")
            c = tx.commitments(round_id).get(vendor)
            if c is None:
                raise HTTPException(404, f"no commitment from {vendor!r}")
            return {"round_id": round_id, "vendor": vendor, **c}

        return store.read(_tx)

    @app.post("/v1/rounds/{round_id}/close-commitments", tags=["buyer"])
    def close_commitments(round_id: str, ident: Who):
        def _tx(tx):
            rnd = _round_or_404(tx, round_id)
            _require(_party(rnd, ident) == "buyer", 403, "only the round's buyer can close commitments")
            _require(rnd["phase"] == "commit", 403, "commitments are already closed")
            com = tx.commitments(round_id)
            committed = [v for v in rnd["spec"]["vendors"] if v in com]
            tx.set_phase(round_id, "reveal")
            rec = tx.append("round.commitments_closed", {"round_id": round_id, "committed": committed})
            return committed, rec

        committed, rec = store.write(_tx)
        return {"round_id": round_id, "phase": "reveal", "committed": committed, "receipt": rec.as_dict()}

    @app.post("/v1/rounds/{round_id}/reveals", status_code=201, tags=["vendor"])
    def post_reveal(round_id: str, body: RevealIn, ident: Who):
        reports = [{"item_id": r.item_id, "prob": r.prob} for r in body.reports]
        digest = commitment_hex(body.salt, reports)

        def _tx(tx):
            rnd = _round_or_404(tx, round_id)
            _require(_party(rnd, ident) == "vendor", 403, "only an invited vendor can reveal")
            _require(rnd["phase"] != "commit", 403, "commitments are not closed yet")
            _require(rnd["phase"] == "reveal", 403, "the round is scored; reveals are closed")
            com = tx.commitments(round_id).get(ident.name)
            _require(com is not None, 403, "no commitment from you in this round")
            _require(tx.reveal(round_id, ident.name) is None, 403, "already revealed")
            _check_reports(rnd["spec"], body.reports)
            _require(digest == com["commitment"], 403,
                     "reveal does not match your commitment: SHA-256(salt || RFC 8785 JSON of reports) = "
                     f"{digest}")
            rec = tx.append("reveal.accepted", {"round_id": round_id, "vendor": ident.name,
                                                "salt": body.salt, "reports": reports})
            tx.add_reveal(round_id, ident.name, body.salt, reports, rec.seq)
            return rec

        rec = store.write(_tx)
        return {"round_id": round_id, "vendor": ident.name, "n_reports": len(reports), "receipt": rec.as_dict()}

    @app.get("/v1/rounds/{round_id}/reveals/{vendor}", tags=["rounds"])
    def get_reveal(round_id: str, vendor: str, ident: Who):
        def _tx(tx):
            rnd = _round_or_404(tx, round_id)
            who = _party(rnd, ident)
            _require(who == "buyer" or vendor == ident.name or rnd["phase"] == "scored", 403,
                     "another vendor's reveal is visible only after the round is scored")
            r = tx.reveal(round_id, vendor)
            if r is None:
                raise HTTPException(404, f"no reveal from {vendor!r}")
            return {"round_id": round_id, "vendor": vendor, **r}

        return store.read(_tx)

    @app.post("/v1/rounds/{round_id}/labels", tags=["buyer"])
    def post_labels(round_id: str, body: LabelsIn, ident: Who):
        labels = [{"item_id": x.item_id, "label": x.label} for x in body.labels]
        digest = commitment_hex(body.salt, labels)

        def _tx(tx):
            rnd = _round_or_404(tx, round_id)
            _require(_party(rnd, ident) == "buyer", 403, "only the round's buyer can reveal labels")
            _require(rnd["phase"] != "commit", 403, "close commitments before revealing labels")
            _require(rnd["phase"] == "reveal", 403, "labels are already revealed; they cannot change")
            _check_labels(rnd["spec"], body.labels)
            _require(digest == rnd["spec"]["label_commitment"], 403,
                     f"labels do not match the round's label commitment (got {digest})")
            result = {"round_id": round_id, **_score(rnd["spec"], tx.reveals(round_id), labels)}
            rec_l = tx.append("labels.revealed", {"round_id": round_id, "salt": body.salt, "labels": labels})
            tx.set_labels(round_id, body.salt, labels, rec_l.seq)
            rec = tx.append("round.scored", result)
            tx.set_result(round_id, result, rec.seq)
            tx.set_phase(round_id, "scored")
            tx.checkpoint()
            return result, rec

        result, rec = store.write(_tx)
        return {**result, "receipt": rec.as_dict()}

    @app.get("/v1/rounds/{round_id}/result", tags=["rounds"])
    def get_result(round_id: str, ident: Who):
        def _tx(tx):
            rnd = _round_or_404(tx, round_id)
            _party(rnd, ident)
            res = tx.result(round_id)
            if res is None:
                raise HTTPException(409, f"round {round_id} is not scored yet (phase {rnd['phase']})")
            return res

        return store.read(_tx)

    try:  # one app with the web explorer when it is installed (issue 11)
        from costcorrect.web import router as web_router
    except ImportError:
        web_router = None
    if web_router is not None:
        app.include_router(web_router)

    app.add_middleware(_Guard, store=store, max_body_bytes=max_body_bytes)
    return app
