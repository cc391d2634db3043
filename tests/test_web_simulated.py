"""The frontier page's simulator toggle: the same engine as `frontier --engine simulate`, smaller runs."""

from __future__ import annotations

import pytest

pytest.importorskip("fastapi")



@pytest.fixture(scope="module")
def client(web_client):
    return web_client


def test_simulated_frontier_view_adds_sweeps_and_capacities(client):
    r = client.get("/api/frontier/view", params={"simulated": "on", "model": "llama-2-70b", "gpu": "h100-sxm"})
    assert r.status_code == 200, r.text
    body = r.json()
    sim = body["result"]["simulated"]
    assert body["result"]["engine"] == "simulate"
    assert set(sim["architectures"]) >= {"colocated", "chunked", "disaggregated"}
    assert any(t["name"] == "simulator at the contract" for t in body["tables"])
    assert "Simulator (rate sweep)" in str(body["spec"])


def test_simulated_flag_is_checked(client):
    r = client.get("/api/frontier/view", params={"simulated": "maybe"})
    assert r.status_code == 422
    assert "simulated" in r.text


def test_frontier_page_offers_the_toggle(client):
    assert 'data-control="simulated"' in client.get("/frontier").text
