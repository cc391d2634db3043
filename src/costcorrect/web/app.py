"""The explorer's FastAPI router: HTML pages, their JSON API and the vendored static files.

``router`` carries every route, so another app (the procurement service) can serve the
explorer with ``app.include_router(router)``; :func:`create_app` wraps it in an app of its
own for ``costcorrect web``. Bad input never reaches the engine: each query parameter is
parsed in :mod:`costcorrect.web.params`, and any :class:`~costcorrect.errors.InputError`
becomes HTTP 422 with the field, the value and what is allowed (the page shows it next to
the control). Results are cached per distinct input, so a warm server answers repeats
without recomputing.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.routing import APIRoute

from costcorrect.catalog import Catalog
from costcorrect.errors import InputError
from costcorrect.io import dumps
from costcorrect.scenario import Scenario, load_scenario
from costcorrect.web import costcorrect_calc, params, procurement, views

#: Same-origin only: scripts, styles, data and images come from this server (data:/blob:
#: for the PNG/SVG downloads); Vega runs without eval (vega-embed's AST interpreter).
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; object-src 'none'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'self'")

STATIC_DIR = Path(str(resources.files("costcorrect.web") / "static"))
TEMPLATE_DIR = Path(str(resources.files("costcorrect.web") / "templates"))


def error_response(exc: InputError) -> JSONResponse:
    """HTTP 422 for bad input: ``{"detail", "field", "value", "allowed"}``."""
    value = exc.value if isinstance(exc.value, int | float | str | bool) or exc.value is None else str(exc.value)
    return JSONResponse(status_code=422, content={"detail": str(exc), "field": exc.field, "value": value,
                                                  "allowed": exc.allowed})


class _InputErrorRoute(APIRoute):
    """An APIRoute that turns InputError into 422 itself, so the router works inside any app."""

    def get_route_handler(self) -> Callable:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except InputError as exc:
                return error_response(exc)

        return guarded


router = APIRouter(route_class=_InputErrorRoute)


# ----------------------------------------------------------------------------- state


@lru_cache(maxsize=1)
def _base() -> tuple[Scenario, Catalog]:
    """The embedded default scenario and the shipped catalog (loaded once per process)."""
    sc = load_scenario()
    return sc, Catalog.load(sc.catalog_overlay)


def _json(obj: Any) -> Response:
    return Response(content=dumps(obj, indent=None), media_type="application/json")


def _q(request: Request) -> dict[str, str]:
    return {k: v for k, v in request.query_params.items()}


_SCENARIO_PARAMS = ("model", "gpu", "tensor_parallel", "price_usd_per_gpu_hour", "ttft_p99_ms",
                    "tpot_p99_ms", "eta", "prompt_tokens", "output_tokens")


def _scenario_key(q: dict[str, str], extra: tuple[str, ...] = ()) -> tuple:
    """Parse and check the scenario parameters of a request; a hashable cache key.

    ``extra`` names the endpoint's own parameters (checked by the endpoint)."""
    cat = _base()[1]
    known = (*_SCENARIO_PARAMS, *extra)
    unknown = sorted(set(q) - set(known))
    if unknown:
        raise InputError(unknown[0], q[unknown[0]], "one of the parameters " + ", ".join(known))
    out = []
    for name in _SCENARIO_PARAMS:
        if name in params.CHOICES:
            out.append((name, params.choice(cat, name, q.get(name))))
        elif name in params.NUMBERS and params.NUMBERS[name].path:
            out.append((name, params.number(name, q.get(name))))
    return tuple(out)


def _scenario(key: tuple) -> Scenario:
    sc, _ = _base()
    return params.scenario_with(sc, dict(key))


@lru_cache(maxsize=64)
def _frontier_view(key: tuple, simulated: bool = False) -> dict:
    return views.frontier_view(_base()[1], _scenario(key), simulated=simulated)


def _flag(q: dict[str, str], name: str) -> bool:
    raw = q.get(name, "off")
    if raw not in ("on", "off", "1", "0"):
        raise InputError(name, raw, "on or off")
    return raw in ("on", "1")


@lru_cache(maxsize=64)
def _frontier_result(key: tuple) -> dict:
    return views.frontier_result(_base()[1], _scenario(key))


@lru_cache(maxsize=64)
def _hardware_view(key: tuple) -> dict:
    return views.hardware_view(_base()[1], _scenario(key))


@lru_cache(maxsize=64)
def _breakeven_view(key: tuple, gpu_id: str, slo_bin: int | None, alpha: float, bw: float, link: str) -> dict:
    return views.breakeven_view(_base()[1], _scenario(key), gpu_id=gpu_id, slo_bin=slo_bin,
                                marker_alpha=alpha, marker_bandwidth_gb_s=bw, link_label=link)


# ----------------------------------------------------------------------------- API


@router.get("/api/scenario")
def api_scenario() -> Response:
    """The embedded default scenario and the catalog choices the pages offer."""
    sc, cat = _base()
    return _json({"scenario": sc.model_dump(), "choices": views.choices(cat, sc),
                  "controls": {n: {"allowed": c.allowed, "label": c.label} for n, c in params.NUMBERS.items()}})


@router.get("/api/frontier")
def api_frontier(request: Request) -> Response:
    """Same numbers as ``costcorrect frontier --json`` (no ``figures``) for the same inputs."""
    return _json(_frontier_result(_scenario_key(_q(request))))


@router.get("/api/frontier/view")
def api_frontier_view(request: Request) -> Response:
    q = _q(request)
    return _json(_frontier_view(_scenario_key(q, ("simulated",)), _flag(q, "simulated")))


@router.get("/api/hardware")
def api_hardware(request: Request) -> Response:
    return _json(_hardware_view(_scenario_key(_q(request)))["result"])


@router.get("/api/hardware/view")
def api_hardware_view(request: Request) -> Response:
    return _json(_hardware_view(_scenario_key(_q(request))))


@router.get("/api/breakeven")
def api_breakeven(request: Request) -> Response:
    """Same numbers as ``costcorrect breakeven --json`` for the same inputs (``elapsed_s`` aside)."""
    q = _q(request)
    key = _scenario_key(q, ("alpha_steps", "bandwidth_steps"))
    _, cat = _base()
    sc = _scenario(key)
    gpu_id = params.choice(cat, "gpu", q.get("gpu")) or sc.gpu
    return _json(views.breakeven_result(cat, sc, gpu_id, params.number("alpha_steps", q.get("alpha_steps")),
                                        params.number("bandwidth_steps", q.get("bandwidth_steps"))))


@router.get("/api/breakeven/view")
def api_breakeven_view(request: Request) -> Response:
    """Figure 2 for one SLO bin (``slo_bin`` = index) or all, with "my workload" (P, D, link)."""
    q = _q(request)
    key = _scenario_key(q, ("slo_bin", "link", "bandwidth_gb_s"))
    sc, cat = _scenario(key), _base()[1]
    raw_bin = (q.get("slo_bin") or default_slo_bin(_base()[0])).strip()
    if raw_bin == "all":
        slo_bin = None
    elif raw_bin.isdigit() and int(raw_bin) < len(sc.slo_bins):
        slo_bin = int(raw_bin)
    else:
        raise InputError("slo_bin", raw_bin, f"'all' or an index 0..{len(sc.slo_bins) - 1}")
    link = params.choice(cat, "link", q.get("link")) or "ib-ndr-400g"
    bw = params.number("bandwidth_gb_s", q.get("bandwidth_gb_s"))
    if bw is None:
        bw, label = float(cat.interconnect(link)["bandwidth_gb_s"]), link
    else:
        label = "custom"
    alpha = views.marker_alpha(sc.workload.prompt_tokens, sc.workload.output_tokens)
    return _json(_breakeven_view(key, sc.gpu, slo_bin, alpha, float(bw), label))


def default_slo_bin(sc: Scenario) -> str:
    """The bin equal to the scenario's contract (one panel fits a laptop screen), else all."""
    for i, b in enumerate(sc.slo_bins):
        if (b.ttft_p99_ms, b.tpot_p99_ms) == (sc.slo.ttft_p99_ms, sc.slo.tpot_p99_ms):
            return str(i)
    return "all"


def _cost_correct_inputs(q: dict[str, str]) -> tuple[dict, float]:
    defaults = DEFAULT_COST_CORRECT
    names = [*costcorrect_calc.INPUTS, "answer_tokens", "spread_pct"]
    unknown = sorted(set(q) - set(names))
    if unknown:
        raise InputError(unknown[0], q[unknown[0]], "one of the parameters " + ", ".join(names))
    inputs = {}
    for name in names:
        v = params.number(name, q.get(name))
        # answer_tokens is optional (as in the CLI); the page's control starts at the default
        inputs[name] = (None if name == "answer_tokens" else defaults[name]) if v is None else v
    spread = inputs.pop("spread_pct") / 100
    return inputs, spread


#: The calculator's starting point: paper 02's illustrative reasoning-model case
#: (CPM from a $3/$15 per MTok price pair, R = 4, ρ̄ = 3 i.e. best-of-4, α = 0.6).
DEFAULT_COST_CORRECT = {"price_in_usd_per_mtok": 3.0, "price_out_usd_per_mtok": 15.0,
                        "reasoning_multiplier": 4.0, "rollout_ratio": 3.0, "accept_rate": 0.6,
                        "answer_tokens": 500.0, "spread_pct": 25.0}


@router.get("/api/cost-correct")
def api_cost_correct(request: Request) -> Response:
    inputs, _ = _cost_correct_inputs(_q(request))
    return _json(costcorrect_calc.unit(inputs))


@lru_cache(maxsize=64)
def _cached_view(kind: str, items: tuple, spread: float | None = None) -> dict:
    """The calculator panels' views per distinct input (a warm server answers repeats at once)."""
    inputs = dict(items)
    if kind == "cost-correct":
        return costcorrect_calc.cost_correct_view(inputs, spread)
    if kind == "threshold":
        return costcorrect_calc.threshold_view(inputs)
    return costcorrect_calc.routing_view(inputs)


@router.get("/api/cost-correct/view")
def api_cost_correct_view(request: Request) -> Response:
    inputs, spread = _cost_correct_inputs(_q(request))
    return _json(_cached_view("cost-correct", tuple(sorted(inputs.items())), spread))


def _inputs(q: dict[str, str], defaults: dict[str, float]) -> dict[str, float]:
    """Each of ``defaults``' parameters parsed and range-checked; absent = default; unknown = 422."""
    unknown = sorted(set(q) - set(defaults))
    if unknown:
        raise InputError(unknown[0], q[unknown[0]], "one of the parameters " + ", ".join(defaults))
    out = {}
    for name, default in defaults.items():
        v = params.number(name, q.get(name))
        out[name] = default if v is None else v
    return out


@router.get("/api/threshold")
def api_threshold(request: Request) -> Response:
    """Same numbers as ``costcorrect threshold --eta-rho … --eta-t … --rho … --t-cost-usd …
    --i-cost-usd … --json`` (04 A.1) for the same inputs."""
    return _json(costcorrect_calc.threshold_result(_inputs(_q(request), costcorrect_calc.DEFAULT_THRESHOLD)))


@router.get("/api/threshold/view")
def api_threshold_view(request: Request) -> Response:
    """The (T, ρ) threshold plane of 04 §3.4 with the operating point."""
    inputs = _inputs(_q(request), costcorrect_calc.DEFAULT_THRESHOLD)
    return _json(_cached_view("threshold", tuple(sorted(inputs.items()))))


@router.get("/api/routing-premium")
def api_routing_premium(request: Request) -> Response:
    """Same numbers as ``costcorrect routing premium --kappa … --delta … --gamma … --json`` (05 eq. 7-9)."""
    return _json(costcorrect_calc.routing_result(_inputs(_q(request), costcorrect_calc.DEFAULT_ROUTING)))


@router.get("/api/routing-premium/view")
def api_routing_premium_view(request: Request) -> Response:
    """Π against κ for Δ/2, Δ, 2Δ with the break-even line and the chosen point (05 eq. 7-8)."""
    inputs = _inputs(_q(request), costcorrect_calc.DEFAULT_ROUTING)
    return _json(_cached_view("routing", tuple(sorted(inputs.items()))))


# ----------------------------------------------------------------------------- procurement (service only)


@router.get("/api/procurement/status")
def api_procurement_status(request: Request) -> Response:
    """Whether a procurement database is attached (no token needed; says nothing else)."""
    has = procurement.store_of(request) is not None
    return _json({"database": has, "detail": None if has else procurement.NO_DATABASE})


@router.get("/api/procurement/view")
def api_procurement_view(request: Request) -> Response:
    """Rounds the token's holder may see, scores, payments and the ledger check (bearer token)."""
    store = procurement.require_store(request)
    if request.query_params:
        name = next(iter(request.query_params))
        raise InputError(name, request.query_params[name], "no query parameters (the token goes in the "
                                                          "Authorization header)")
    return _json(procurement.procurement_view(store, procurement.authenticate(request, store)))


@router.get("/api/procurement/ledger")
def api_procurement_ledger(request: Request) -> Response:
    """``costcorrect ledger verify --json`` of the service's database (bearer token)."""
    store = procurement.require_store(request)
    procurement.authenticate(request, store)
    return _json(procurement.ledger_status(store))


@router.get("/api/procurement/bundle.zip")
def api_procurement_bundle(request: Request) -> Response:
    """The evidence bundle (``costcorrect ledger export --out X.zip``): buyers only, no round open."""
    store = procurement.require_store(request)
    ident = procurement.authenticate(request, store)
    if ident.role != "buyer":
        raise HTTPException(403, "only a buyer can download the evidence bundle (it holds every round's events)")
    n_open = procurement.open_round_count(store)
    if n_open:
        raise HTTPException(409, f"{n_open} round(s) are still open: the bundle would show their commitments and "
                                 "reveals before scoring; download it once every round is scored "
                                 "(the operator can still run `costcorrect ledger export`)")
    data, name = procurement.bundle_zip(store)
    return Response(content=data, media_type="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


# ----------------------------------------------------------------------------- pages

PAGES = {
    "frontier": ("Frontier", "CPM_served of the five published systems vs the TTFT contract."),
    "breakeven": ("Break-even", "Where disaggregation beats chunked colocation, over α × link bandwidth."),
    "hardware": ("Hardware", "The frontier on A100, H100, H200 and B200, side by side."),
    "cost-correct": ("Cost-correct", "Cost per correct answer, which lever moves it most, the training vs "
                                     "rollouts threshold (paper 04) and the routing premium (paper 05)."),
    "procurement": ("Procurement", "Sealed-bid verifier procurement rounds: scores, payments, ledger "
                                   "verification and the evidence bundle (with `costcorrect serve`)."),
}

#: Pages with more than one chart: (panel, heading, blurb, API route) after the page's own.
EXTRA_PANELS = {
    "cost-correct": [
        ("threshold", "Training or rollouts? (paper 04)",
         "Where the next dollar earns more accuracy, over training compute T and rollouts ρ "
         "(04 A.1; `costcorrect threshold`).", "/api/threshold/view"),
        ("routing", "Routing premium (paper 05)",
         "When a difficulty router pays: Π = κΔ − γ (05 eq. 7; `costcorrect routing premium`).",
         "/api/routing-premium/view"),
    ],
}


def _control(name: str, label: str, kind: str, value: Any, options: list[dict] | None = None,
             step: str | None = None, hint: str = "") -> str:
    """One labelled control and its error slot (the page writes a 422's message there)."""
    esc = html.escape
    attrs = f'id="c-{esc(name)}" name="{esc(name)}" data-control="{esc(name)}"'
    if kind == "select":
        opts = "".join(
            f'<option value="{esc(o["id"])}"{" selected" if str(o["id"]) == str(value) else ""}>'
            f'{esc(o["label"])}</option>' for o in options or [])
        widget = f"<select {attrs}>{opts}</select>"
    elif kind == "password":
        widget = (f'<input type="password" {attrs} data-auth autocomplete="off" spellcheck="false" '
                  f'placeholder="{esc(hint)}">')
    elif kind == "range":
        widget = (f'<input type="range" {attrs} min="0" max="1" step="{step or 0.05}" value="{esc(str(value))}">'
                  f'<output for="c-{esc(name)}" data-echo="{esc(name)}">{esc(str(value))}</output>')
    else:
        ctl = params.NUMBERS.get(name)
        rng = f' min="{ctl.lo:g}" max="{ctl.hi:g}"' if ctl else ""
        val = "" if value is None else f"{value:g}" if isinstance(value, float) else str(value)
        widget = (f'<input type="number" inputmode="decimal" {attrs}{rng} step="{step or "any"}" '
                  f'value="{esc(val)}" placeholder="{esc(hint)}">')
    allowed = params.NUMBERS[name].allowed if name in params.NUMBERS else ""
    return (f'<div class="control"><label for="c-{esc(name)}">{esc(label)}</label>{widget}'
            f'<span class="err" role="alert" data-error-for="{esc(name)}" title="{esc(allowed)}"></span></div>')


def _controls(page: str) -> str:
    sc, cat = _base()
    ch = views.choices(cat, sc)
    N = params.NUMBERS
    model = _control("model", "model", "select", sc.model, ch["models"])
    gpu = _control("gpu", "GPU", "select", sc.gpu, ch["gpus"])
    tp = _control("tensor_parallel", N["tensor_parallel"].label, "number", sc.tensor_parallel, step="1")
    tpot = _control("tpot_p99_ms", N["tpot_p99_ms"].label, "number", sc.slo.tpot_p99_ms, step="5")
    ttft = _control("ttft_p99_ms", N["ttft_p99_ms"].label, "number", sc.slo.ttft_p99_ms, step="50")
    eta = _control("eta", N["eta"].label + " (systems without a published η)", "range", sc.overlap_eta)
    price = _control("price_usd_per_gpu_hour", N["price_usd_per_gpu_hour"].label, "number",
                     sc.price_usd_per_gpu_hour, hint="catalog default")
    prompt = _control("prompt_tokens", N["prompt_tokens"].label, "number", sc.workload.prompt_tokens, step="1")
    output = _control("output_tokens", N["output_tokens"].label, "number", sc.workload.output_tokens, step="1")
    if page == "frontier":
        sim = _control("simulated", "simulator curves (adds ~10–30 s)", "select", "off",
                       [{"id": "off", "label": "off (closed form only)"},
                        {"id": "on", "label": "on (simulated sweeps + capacities)"}])
        return "".join([model, gpu, tp, tpot, ttft, eta, price, prompt, output, sim])
    if page == "hardware":
        return "".join([model, tp, tpot, ttft, eta, prompt, output])
    if page == "breakeven":
        bins = [{"id": "all", "label": "all bins"}, *ch["slo_bins"]]
        return "".join([
            _control("slo_bin", "SLO bin (p99)", "select", default_slo_bin(sc), bins), gpu,
            _control("eta", N["eta"].label, "range", sc.overlap_eta),
            '<fieldset><legend>my workload</legend>', prompt, output,
            _control("link", "KV link", "select", "ib-ndr-400g", ch["links"]),
            _control("bandwidth_gb_s", N["bandwidth_gb_s"].label + " (overrides the link)", "number", None,
                     hint="from the link"),
            "</fieldset>"])
    if page == "cost-correct":
        d = DEFAULT_COST_CORRECT
        return "".join(_control(n, N[n].label, "number", d[n], step=s) for n, s in (
            ("price_in_usd_per_mtok", "0.1"), ("price_out_usd_per_mtok", "0.1"),
            ("reasoning_multiplier", "0.5"), ("rollout_ratio", "1"), ("accept_rate", "0.05"),
            ("answer_tokens", "50"), ("spread_pct", "5")))
    if page == "threshold":
        d = costcorrect_calc.DEFAULT_THRESHOLD
        return "".join(_control(n, N[n].label, "number", d[n], step=s) for n, s in (
            ("eta_rho", "0.05"), ("eta_t", "0.05"), ("rho", "1"), ("t_cost_usd", "1"), ("i_cost_usd", "0.5")))
    if page == "routing":
        d = costcorrect_calc.DEFAULT_ROUTING
        return (_control("kappa", N["kappa"].label, "range", d["kappa"], step="0.01")
                + "".join(_control(n, N[n].label, "number", d[n], step="0.01") for n in ("delta", "gamma")))
    if page == "procurement":
        return _control("token", "bearer token (buyer or vendor; kept in this tab only)", "password", None,
                        hint="cc_…")
    raise KeyError(page)


@lru_cache(maxsize=8)
def _template(name: str) -> str:
    return (TEMPLATE_DIR / name).read_text(encoding="utf-8")


def _page(title: str, body: str, active: str = "") -> HTMLResponse:
    nav = "".join(f'<a href="/{p}"{" aria-current=page" if p == active else ""}>{html.escape(t)}</a>'
                  for p, (t, _) in PAGES.items())
    text = (_template("base.html").replace("{{title}}", html.escape(title)).replace("{{nav}}", nav)
            .replace("{{body}}", body))
    return HTMLResponse(text, headers={"Content-Security-Policy": CSP, "Cache-Control": "no-cache"})


def _panel(page: str, panel: str, heading: str, blurb: str, api: str, *, first: bool, controls: str,
           extra: str = "", form_attrs: str = "") -> str:
    """One chart panel: its own controls bound to ``api``, status, notes, chart, tables.

    The page's first panel keeps the plain ids (``#controls``, ``#chart`` …); others get
    ``-<panel>`` suffixes. app.js binds every ``[data-panel]`` on the page."""
    def ident(name: str) -> str:
        return f'id="{name}"' if first else f'id="{name}-{html.escape(panel)}"'

    return (_template("chart_page.html").replace("{{api}}", html.escape(api)).replace("{{page}}", page)
            .replace("{{panel}}", html.escape(panel)).replace("{{h}}", "h1" if first else "h2")
            .replace("{{heading}}", html.escape(heading)).replace("{{blurb}}", html.escape(blurb))
            .replace("{{form_attrs}}", form_attrs).replace("{{extra}}", extra)
            .replace("{{id:controls}}", ident("controls")).replace("{{id:status}}", ident("status"))
            .replace("{{id:notes}}", ident("notes")).replace("{{id:chart}}", ident("chart"))
            .replace("{{id:tables}}", ident("tables")).replace("{{controls}}", controls))


def _chart_page(page: str) -> HTMLResponse:
    title, blurb = PAGES[page]
    body = _panel(page, page, title, blurb, f"/api/{page}/view", first=True, controls=_controls(page))
    for panel, heading, pblurb, api in EXTRA_PANELS.get(page, []):
        body += _panel(page, panel, heading, pblurb, api, first=False, controls=_controls(panel))
    return _page(title, body, page)


@router.get("/", response_class=HTMLResponse)
def index() -> HTMLResponse:
    sc, _ = _base()
    cards = "".join(f'<li><a href="/{p}"><strong>{html.escape(t)}</strong></a> — {html.escape(b)}</li>'
                    for p, (t, b) in PAGES.items())
    body = _template("index.html").replace("{{cards}}", cards).replace(
        "{{scenario}}", html.escape(
            f"{sc.name}: {sc.model} on {sc.tensor_parallel}× {sc.gpu}, p99 TTFT {sc.slo.ttft_p99_ms:g} ms / "
            f"TPOT {sc.slo.tpot_p99_ms:g} ms, P = {sc.workload.prompt_tokens:g}, D = {sc.workload.output_tokens:g} "
            f"tokens ({sc.workload.name})"))
    return _page("costcorrect explorer", body)


@router.get("/frontier", response_class=HTMLResponse)
def page_frontier() -> HTMLResponse:
    return _chart_page("frontier")


@router.get("/breakeven", response_class=HTMLResponse)
def page_breakeven() -> HTMLResponse:
    return _chart_page("breakeven")


@router.get("/hardware", response_class=HTMLResponse)
def page_hardware() -> HTMLResponse:
    return _chart_page("hardware")


@router.get("/cost-correct", response_class=HTMLResponse)
def page_cost_correct() -> HTMLResponse:
    return _chart_page("cost-correct")


@router.get("/procurement", response_class=HTMLResponse)
def page_procurement(request: Request) -> HTMLResponse:
    title, blurb = PAGES["procurement"]
    has_db = procurement.store_of(request) is not None
    bundle = ('<div class="chart-tools"><button type="button" data-bundle="/api/procurement/bundle.zip" disabled>'
              'Download evidence bundle (.zip)</button></div>')
    if has_db:
        form_attrs = ' data-needs-token="Enter a buyer or vendor token (from `costcorrect admin create-buyer` / ' \
                     '`create-vendor`) and press Enter to see your rounds."'
    else:
        form_attrs = f' data-disabled="{html.escape(procurement.NO_DATABASE)}"'
        bundle = f'<p class="notice" data-role="no-database">{html.escape(procurement.NO_DATABASE)}</p>' + bundle
    body = _panel("procurement", "procurement", title, blurb, "/api/procurement/view", first=True,
                  controls=_controls("procurement"), extra=bundle, form_attrs=form_attrs)
    return _page(title, body, "procurement")


_MEDIA = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
          ".txt": "text/plain; charset=utf-8", ".md": "text/markdown; charset=utf-8"}


@router.get("/static/{path:path}")
def static(path: str) -> Response:
    """The package's static files (vendored Vega, the page script and style); nothing else."""
    root = STATIC_DIR.resolve()
    target = (root / path).resolve()
    if root not in target.parents or not target.is_file():
        return JSONResponse(status_code=404, content={"detail": f"no static file {path!r}"})
    cache = "public, max-age=604800, immutable" if "/vendor/" in f"/{path}" else "no-cache"
    return FileResponse(target, media_type=_MEDIA.get(target.suffix, "application/octet-stream"),
                        headers={"Cache-Control": cache})


@router.get("/healthz")
def healthz() -> Response:
    return _json({"ok": True})


def create_app() -> FastAPI:
    """A FastAPI app serving the explorer (``costcorrect web``); the service can instead
    ``include_router(costcorrect.web.router)`` in its own app."""
    # No Swagger/ReDoc pages: they load their JS from a CDN, and the explorer stays offline.
    app = FastAPI(title="costcorrect explorer", docs_url=None, redoc_url=None,
                  openapi_url="/api/openapi.json")
    app.include_router(router)

    @app.exception_handler(InputError)
    async def _input_error(request: Request, exc: InputError) -> JSONResponse:  # pragma: no cover - routes guard
        return error_response(exc)

    return app


def warm() -> None:
    """Compute the default views once so the first page load is as fast as the next."""
    key = _scenario_key({})
    _frontier_view(key)
    _hardware_view(key)
    sc, cat = _base()
    link = "ib-ndr-400g"
    slo_bin = default_slo_bin(sc)
    alpha = views.marker_alpha(sc.workload.prompt_tokens, sc.workload.output_tokens)
    _breakeven_view(key, sc.gpu, None if slo_bin == "all" else int(slo_bin), alpha,
                    float(cat.interconnect(link)["bandwidth_gb_s"]), link)
    cc_inputs, spread = _cost_correct_inputs({})
    _cached_view("cost-correct", tuple(sorted(cc_inputs.items())), spread)
    _cached_view("threshold", tuple(sorted(costcorrect_calc.DEFAULT_THRESHOLD.items())))
    _cached_view("routing", tuple(sorted(costcorrect_calc.DEFAULT_ROUTING.items())))


__all__ = ["create_app", "router", "warm"]
