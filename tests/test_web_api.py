"""The explorer's HTTP face: pages, JSON API = CLI --json, 422 on bad input, offline assets."""

import json
import re
import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

fastapi = pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from costcorrect.web import costcorrect_calc as calc  # noqa: E402
from costcorrect.web import (  # noqa: E402
    params,
    router,
)

PAGES = ["/frontier", "/breakeven", "/hardware", "/cost-correct", "/procurement"]
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def client(web_client):
    return web_client




# ----------------------------------------------------------------------------- pages


def test_index_links_every_page(client):
    r = client.get("/")
    assert r.status_code == 200
    for page in PAGES:
        assert f'href="{page}"' in r.text


@pytest.mark.parametrize("page", PAGES)
def test_page_has_controls_chart_and_strict_csp(client, page):
    r = client.get(page)
    assert r.status_code == 200
    assert 'id="chart"' in r.text and 'id="controls"' in r.text
    csp = r.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "connect-src 'self'" in csp and "unsafe-eval" not in csp
    # every number control has an error slot the page fills from a 422
    for name in re.findall(r'data-control="([^"]+)"', r.text):
        assert f'data-error-for="{name}"' in r.text


_URL = re.compile(r"""(?:https?:)?//([A-Za-z0-9.-]+\.[A-Za-z]{2,})""")
#: Inert strings inside the vendored bundles: XML namespaces, a schema id, an error-message
#: link and vega-embed's editor link (turned off with actions.editor = false). None is fetched.
_INERT = {"www.w3.org", "vega.github.io", "github.com"}


def _served_assets(client):
    html = {p: client.get(p).text for p in ["/", *PAGES]}
    srcs = set()
    for text in html.values():
        # what a page loads (scripts, styles); VENDORED.md is a linked document, not loaded
        srcs |= set(re.findall(r'(?:src|href)="(/static/[^"]+\.(?:js|css))"', text))
    return html, {s: client.get(s) for s in srcs}


def test_pages_reference_only_this_server(client):
    html, assets = _served_assets(client)
    for page, text in html.items():
        assert not re.findall(r'(?:src|href|action)="(?:https?:)?//', text), page
        assert _URL.findall(text) == [], page
    assert any("vega-embed" in s for s in assets) and all(r.status_code == 200 for r in assets.values())
    for path, r in assets.items():
        hosts = set(_URL.findall(r.text))
        if "/vendor/" in path:
            assert hosts <= _INERT, (path, hosts - _INERT)
        else:  # our own script and style: no URL at all
            assert hosts == set(), (path, hosts)


def test_charts_turn_off_the_editor_link(client):
    js = client.get("/static/app.js").text
    assert "editor: false" in js and "ast: true" in js


def test_static_files_stay_inside_the_package(client):
    assert client.get("/static/../app.py").status_code == 404
    assert client.get("/static/%2e%2e/app.py").status_code == 404
    assert client.get("/static/nope.js").status_code == 404


def test_package_data_ships_every_static_file():
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())
    globs = cfg["tool"]["setuptools"]["package-data"]["costcorrect"]
    web = ROOT / "src" / "costcorrect" / "web"
    pkg = ROOT / "src" / "costcorrect"
    for f in [*(web / "static").rglob("*"), *(web / "templates").rglob("*")]:
        if f.is_file():
            rel = f.relative_to(pkg)
            assert any(rel.match(g) for g in globs), rel


def test_vendored_files_match_vendored_md():
    import hashlib

    static = ROOT / "src" / "costcorrect" / "web" / "static"
    doc = (static / "VENDORED.md").read_text()
    for js in (static / "vendor").glob("*.js"):
        assert f"`vendor/{js.name}`" in doc
        assert hashlib.sha256(js.read_bytes()).hexdigest() in doc, js.name
    assert len(list((static / "vendor").glob("LICENSE-*.txt"))) == 3


def test_router_mounts_in_another_app():
    other = fastapi.FastAPI()
    other.include_router(router)
    with TestClient(other) as c:
        assert c.get("/frontier").status_code == 200
        assert c.get("/static/app.js").status_code == 200
        r = c.get("/api/frontier", params={"eta": "7"})
        assert r.status_code == 422 and r.json()["field"] == "eta"


# ----------------------------------------------------------------------------- API = CLI


@pytest.mark.parametrize("query", [
    {},
    {"gpu": "h200-sxm", "tpot_p99_ms": "80", "eta": "0.3"},
    {"model": "llama-3.1-70b", "ttft_p99_ms": "1000", "price_usd_per_gpu_hour": "2.5",
     "prompt_tokens": "4000", "output_tokens": "300", "tensor_parallel": "8"},
])
def test_frontier_api_equalscli_json(client, tmp_path, query, cli_json):
    r = client.get("/api/frontier", params=query)
    assert r.status_code == 200, r.text
    values = {k: params.NUMBERS[k].parse(v) if k in params.NUMBERS else v for k, v in query.items()}
    out = cli_json("frontier", "--json", "--no-figures", "--out", str(tmp_path),
                    *params.cli_set_args(values))
    assert out.pop("figures") == []
    assert r.json() == out


def test_breakeven_api_equalscli_json(client, cli_json):
    q = {"gpu": "a100-sxm-80gb", "alpha_steps": "6", "bandwidth_steps": "5", "eta": "0.8"}
    r = client.get("/api/breakeven", params=q)
    assert r.status_code == 200, r.text
    out = cli_json("breakeven", "--json", "--gpu", "a100-sxm-80gb", "--alpha-steps", "6",
                    "--bandwidth-steps", "5", "--set", "overlap_eta=0.8")
    web = r.json()
    web.pop("elapsed_s"), out.pop("elapsed_s")
    assert web == out
    assert len(web["cells"]) == 3 * 6 * 5


@pytest.mark.parametrize("answer", [None, "500"])
def test_cost_correct_api_equalscli_json(client, answer, cli_json):
    q = {"price_in_usd_per_mtok": "3", "price_out_usd_per_mtok": "15", "reasoning_multiplier": "4",
         "rollout_ratio": "3", "accept_rate": "0.6"}
    args = ["cost-correct", "--price-in-usd-per-mtok", "3", "--price-out-usd-per-mtok", "15",
            "--reasoning-multiplier", "4", "--rollout-ratio", "3", "--accept-rate", "0.6", "--json"]
    if answer:
        q["answer_tokens"], args = answer, [*args, "--answer-tokens", answer]
    r = client.get("/api/cost-correct", params=q)
    assert r.status_code == 200, r.text
    assert r.json() == cli_json(*args)


@pytest.mark.parametrize("path", ["/api/frontier/view", "/api/breakeven/view", "/api/hardware/view",
                                  "/api/cost-correct/view"])
def test_views_carry_a_titled_chart_and_tables(client, path):
    body = client.get(path).json()
    spec = body["spec"]
    assert spec["$schema"].endswith(".json") and spec.get("title")
    text = json.dumps(spec)
    assert '"title"' in text and "[" in text  # axis titles carry units in brackets
    assert body["tables"] and all(t["columns"] and "rows" in t for t in body["tables"])


def test_breakeven_view_hover_and_marker_carry_both_costs(client):
    body = client.get("/api/breakeven/view", params={"slo_bin": "all", "link": "nvlink4"}).json()
    text = json.dumps(body["spec"])
    assert "CPM_co (chunked colocation) [$/MTok]" in text and "CPM_P/D (disaggregated) [$/MTok]" in text
    marker = body["result"]["marker"]
    assert len(marker) == 3 and all(m["bandwidth_gb_s"] == 900 for m in marker)
    # hand check of the marker's α: P / (P + D) at the default 1155 / 211 tokens
    assert marker[0]["alpha"] == pytest.approx(1155 / (1155 + 211))


def test_breakeven_marker_matches_the_surface(client, cli_json):
    """The marker's two costs equal the CLI surface's cell at the same α and B."""
    body = client.get("/api/breakeven/view", params={"slo_bin": "1", "bandwidth_gb_s": "900",
                                                     "prompt_tokens": "800", "output_tokens": "200"}).json()
    m = body["result"]["marker"][0]  # α = 800/1000 = 0.8, B = 900: a corner of a 2x2 α∈{0.2, 0.8} grid
    assert m["alpha"] == pytest.approx(0.8) and m["cpm_colocated_usd_per_mtok"] is not None
    out = cli_json("breakeven", "--json", "--alpha-steps", "2", "--bandwidth-steps", "2",
                    "--set", "breakeven.alpha_max=0.8", "--set", "workload.output_tokens=200")
    cell = next(c for c in out["cells"] if c["ttft_p99_ms"] == 500 and c["alpha"] == pytest.approx(0.8)
                and c["bandwidth_gb_s"] == 900)
    assert m["cpm_colocated_usd_per_mtok"] == pytest.approx(cell["cpm_colocated_usd_per_mtok"], rel=1e-9)
    assert m["cpm_disaggregated_usd_per_mtok"] == pytest.approx(cell["cpm_disaggregated_usd_per_mtok"], rel=1e-9)


def test_control_changes_reach_the_chart(client):
    a = client.get("/api/frontier/view", params={"tpot_p99_ms": "50"}).json()
    b = client.get("/api/frontier/view", params={"tpot_p99_ms": "80"}).json()
    assert a["spec"]["datasets"] != b["spec"]["datasets"]
    assert "TPOT p99 = 80 ms" in json.dumps(b["spec"]["title"])


# ----------------------------------------------------------------------------- bad input → 422


@pytest.mark.parametrize("path,query,field,needle", [
    ("/api/frontier", {"eta": "1.5"}, "eta", "[0, 1]"),
    ("/api/frontier", {"eta": "nan"}, "eta", "[0, 1]"),
    ("/api/frontier", {"tpot_p99_ms": "0"}, "tpot_p99_ms", "[1, 60000]"),
    ("/api/frontier", {"tpot_p99_ms": "fast"}, "tpot_p99_ms", "a number"),
    ("/api/frontier", {"price_usd_per_gpu_hour": "0"}, "price_usd_per_gpu_hour", "(0, 1000]"),
    ("/api/frontier", {"tensor_parallel": "2.5"}, "tensor_parallel", "an integer"),
    ("/api/frontier", {"gpu": "tpu-v9"}, "gpu", "h100-sxm"),
    ("/api/frontier", {"model": "gpt-9"}, "model", "llama-2-70b"),
    ("/api/frontier", {"colour": "red"}, "colour", "tpot_p99_ms"),
    ("/api/frontier/view", {"ttft_p99_ms": "-5"}, "ttft_p99_ms", "[10, 600000]"),
    ("/api/hardware/view", {"prompt_tokens": "1e9"}, "prompt_tokens", "[1, 1e+06]"),
    ("/api/breakeven", {"alpha_steps": "1"}, "alpha_steps", "[2, 400]"),
    ("/api/breakeven/view", {"slo_bin": "7"}, "slo_bin", "index"),
    ("/api/breakeven/view", {"link": "carrier-pigeon"}, "link", "nvlink4"),
    ("/api/breakeven/view", {"bandwidth_gb_s": "0"}, "bandwidth_gb_s", "(0, 100000]"),
    ("/api/cost-correct/view", {"accept_rate": "0"}, "accept_rate", "(0, 1]"),
    ("/api/cost-correct", {"reasoning_multiplier": "0.5"}, "reasoning_multiplier", "[1, 1000]"),
    ("/api/cost-correct", {"price_in_usd_per_mtok": "-1"}, "price_in_usd_per_mtok", "[0, 10000]"),
])
def test_bad_input_is_422_naming_field_and_range(client, path, query, field, needle):
    r = client.get(path, params=query)
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["field"] == field and needle in body["allowed"] and field in body["detail"]


def test_model_that_does_not_fit_says_so(client):
    """405B in BF16 on one 80 GB GPU: every point infeasible, and the page says so in words."""
    r = client.get("/api/frontier/view", params={"model": "llama-3.1-405b", "tensor_parallel": "1"})
    assert r.status_code == 200
    body = r.json()
    assert all(p["cpm_served_usd_per_mtok"] is None for p in body["result"]["points"])
    assert any("infeasible" in n for n in body["notes"])


# ----------------------------------------------------------------------------- cost-correct calculator


def test_cost_correct_hand_calculation(client):
    # 02 §4: CPM_1:1 = (3 + 15) / 2 = 9; C = 9 * 4 * (1 + 3) / 0.6 = 240 $/MTok;
    # per correct 500-token answer: 240 * 500 / 1e6 = $0.12; ε_ρ̄ = 3 / 4
    body = client.get("/api/cost-correct/view", params={"answer_tokens": "500"}).json()
    u = body["result"]
    assert u["cpm_1to1_usd_per_mtok"] == 9
    assert u["cost_correct_usd_per_mtok"] == pytest.approx(240)
    assert u["cost_per_correct_answer_usd"] == pytest.approx(0.12)
    assert u["elasticities"] == {"p": 1.0, "R": 1.0, "rho": 0.75, "alpha": -1.0}
    # ±25 %: α 0.45..0.75 → C 320..192, the largest swing (128) of the four levers
    top = u["tornado"][0]
    assert top["lever"] == "accept_rate" and top["swing_usd_per_mtok"] == pytest.approx(128)


@settings(max_examples=40, deadline=None)
@given(r=st.floats(1, 50), rho=st.floats(0, 30), a=st.floats(0.01, 1), spread=st.floats(0.01, 0.9))
def test_lever_ranges_stay_in_domain_and_bracket_base(r, rho, a, spread):
    base = {"cpm_1to1_usd_per_mtok": 9.0, "reasoning_multiplier": r, "rollout_ratio": rho, "accept_rate": a}
    ranges = calc.lever_ranges(base, spread)
    assert ranges["reasoning_multiplier"][0] >= 1 and ranges["accept_rate"][1] <= 1
    for key, (lo, hi) in ranges.items():
        assert lo <= base[key] <= hi
