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

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.routing import APIRoute

from costcorrect.catalog import Catalog
from costcorrect.errors import InputError
from costcorrect.io import dumps
from costcorrect.scenario import Scenario, load_scenario
from costcorrect.web import costcorrect_calc, params, views

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
def _frontier_view(key: tuple) -> dict:
    return views.frontier_view(_base()[1], _scenario(key))


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
    return _json(_frontier_view(_scenario_key(_q(request))))


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


@router.get("/api/cost-correct/view")
def api_cost_correct_view(request: Request) -> Response:
    inputs, spread = _cost_correct_inputs(_q(request))
    return _json(costcorrect_calc.cost_correct_view(inputs, spread))


# ----------------------------------------------------------------------------- pages

PAGES = {
    "frontier": ("Frontier", "CPM_served of the five published systems vs the TTFT contract."),
    "breakeven": ("Break-even", "Where disaggregation beats chunked colocation, over α × link bandwidth."),
    "hardware": ("Hardware", "The frontier on A100, H100, H200 and B200, side by side."),
    "cost-correct": ("Cost-correct", "Cost per correct answer and which lever moves it most."),
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
        return "".join([model, gpu, tp, tpot, ttft, eta, price, prompt, output])
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


def _chart_page(page: str) -> HTMLResponse:
    title, blurb = PAGES[page]
    body = (_template("chart_page.html").replace("{{api}}", f"/api/{page}/view")
            .replace("{{page}}", page).replace("{{heading}}", html.escape(title))
            .replace("{{blurb}}", html.escape(blurb)).replace("{{controls}}", _controls(page)))
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


__all__ = ["create_app", "router", "warm"]
