"""The cost-correct page's extra panels: paper 04's threshold plane and paper 05's routing
premium; their APIs equal the CLI's --json for the same inputs; bad input is a 422."""


import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("fastapi")

from costcorrect.web import costcorrect_calc as calc


@pytest.fixture(scope="module")
def client(web_client):
    return web_client




THRESHOLD_CASES = [
    {"eta_rho": "0.9", "eta_t": "0.2", "rho": "4", "t_cost_usd": "10", "i_cost_usd": "1"},
    {"eta_rho": "0.3", "eta_t": "1.5", "rho": "64", "t_cost_usd": "2.5", "i_cost_usd": "7"},  # robust: η_ρ < ρ/(1+ρ)
    {"eta_rho": "-0.2", "eta_t": "0.05", "rho": "0.5", "t_cost_usd": "1", "i_cost_usd": "0.1"},
]


@pytest.mark.parametrize("q", THRESHOLD_CASES)
def test_threshold_api_equalscli_json(client, q, cli_json):
    r = client.get("/api/threshold", params=q)
    assert r.status_code == 200, r.text
    args = [a for k, v in q.items() for a in (f"--{k.replace('_', '-')}", v)]
    assert r.json() == cli_json("threshold", *args, "--json")


ROUTING_CASES = [
    {"kappa": "0.5", "delta": "0.4", "gamma": "0.1"},
    {"kappa": "0.25", "delta": "0.4", "gamma": "0.1"},  # κΔ = γ: elasticities diverge → null
    {"kappa": "0", "delta": "3", "gamma": "0"},  # κΔ = 0: flip_drop null
    {"kappa": "0.9", "delta": "0.05", "gamma": "0.2"},  # routing does not pay
]


@pytest.mark.parametrize("q", ROUTING_CASES)
def test_routing_api_equalscli_json(client, q, cli_json):
    r = client.get("/api/routing-premium", params=q)
    assert r.status_code == 200, r.text
    args = [a for k, v in q.items() for a in (f"--{k}", v)]
    assert r.json() == cli_json("routing", "premium", *args, "--json")


def test_routing_hand_calculation(client):
    # 05 eq. 7-9 by hand: Π = 0.5·0.4 − 0.1 = 0.1; ε_κ = κΔ/(κΔ − γ) = 0.2/0.1 = 2; ε_γ = −0.1/0.1 = −1
    u = client.get("/api/routing-premium/view").json()["result"]
    assert u["premium"] == pytest.approx(0.1) and u["routing_pays"] is True
    assert u["elasticity_kappa"] == pytest.approx(2) and u["elasticity_gamma"] == pytest.approx(-1)
    at = client.get("/api/routing-premium/view", params={"kappa": "0.25"}).json()
    assert at["result"]["elasticity_kappa"] is None and any("diverge" in n for n in at["notes"])


def test_threshold_hand_calculation(client):
    # 04 A.1 by hand at docs/cost-correct.md's example: ρ/(1+ρ) = 0.8; lhs = (0.9 − 0.8)/0.2 = 0.5;
    # rhs = ρc_I/(Tc_T) = 1/10 = 0.1 → the next dollar goes to inference
    u = client.get("/api/threshold/view").json()["result"]
    assert u["lhs"] == pytest.approx(0.5) and u["rhs"] == pytest.approx(0.1) and u["inference_dominates"] is True


@pytest.mark.parametrize("path", ["/api/threshold/view", "/api/routing-premium/view"])
def test_panel_views_carry_titled_charts_with_units(client, path):
    body = client.get(path).json()
    spec = body["spec"]
    assert spec["$schema"].endswith(".json") and spec.get("title")
    # every layer's x/y carries the same titled axis with a unit (Vega-Lite joins differing layer titles)
    titles = [layer["encoding"][ch].get("title") for layer in spec["layer"] for ch in ("x", "y")
              if ch in layer.get("encoding", {})]
    assert titles and all(t and "[" in t for t in titles), titles
    assert body["tables"] and all(t["columns"] for t in body["tables"])


def test_threshold_plane_marks_the_operating_point(client):
    a = client.get("/api/threshold/view", params={"rho": "4"}).json()["spec"]
    b = client.get("/api/threshold/view", params={"rho": "32"}).json()["spec"]
    assert a["datasets"] != b["datasets"]
    assert {"t": 1.0, "rho": 32.0, "label": "operating point"} in b["layer"][-1]["data"]["values"]


@pytest.mark.parametrize("path,query,field,needle", [
    ("/api/threshold", {"eta_t": "0"}, "eta_t", "(0, 1000]"),
    ("/api/threshold", {"rho": "-1"}, "rho", "(0, 1e+06]"),
    ("/api/threshold/view", {"i_cost_usd": "abc"}, "i_cost_usd", "a number"),
    ("/api/threshold", {"case": "rstar-math"}, "case", "eta_rho"),
    ("/api/routing-premium", {"kappa": "1.2"}, "kappa", "[0, 1]"),
    ("/api/routing-premium/view", {"gamma": "-0.1"}, "gamma", "[0, 100]"),
    ("/api/routing-premium", {"delta": "inf"}, "delta", "[0, 100]"),
])
def test_bad_panel_input_is_422(client, path, query, field, needle):
    r = client.get(path, params=query)
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["field"] == field and needle in body["allowed"]


def test_cost_correct_page_has_three_bound_panels(client):
    text = client.get("/cost-correct").text
    for panel, api in (("cost-correct", "/api/cost-correct/view"), ("threshold", "/api/threshold/view"),
                       ("routing", "/api/routing-premium/view")):
        assert f'data-panel="{panel}"' in text and f'data-api="{api}"' in text
    for ident in ("chart", "chart-threshold", "chart-routing"):
        assert f'id="{ident}"' in text
    assert text.count('data-download="svg"') == 3 and text.count('data-download="png"') == 3


@settings(max_examples=30, deadline=None)
@given(k=st.floats(0, 1), d=st.floats(0, 100), g=st.floats(0, 100))
def test_routing_result_sign_and_identity(k, d, g):
    u = calc.routing_result({"kappa": k, "delta": d, "gamma": g})
    assert u["routing_pays"] == (u["premium"] > 0)
    if u["elasticity_kappa"] is not None and u["elasticity_gamma"] is not None:
        # 05 eq. 9: ε_κ + ε_γ = 1 wherever both are finite
        tol = 1e-6 * (1 + abs(u["elasticity_kappa"]))
        assert u["elasticity_kappa"] + u["elasticity_gamma"] == pytest.approx(1, abs=tol)
