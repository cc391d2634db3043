"""The explorer in real headless Chromium (Debian ``chromium`` driven by Playwright).

Skipped, with the reason shown, where Playwright or a Chromium binary is missing
(``apt-get install -y chromium``; or point ``COSTCORRECT_CHROMIUM`` at one). Screenshots
of every page at 1280 and 390 px go to the test's own ``tmp_path``.
"""

import json

import pytest

pytest.importorskip("fastapi")
sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed")

from costcorrect.web.testing import find_chromium, serve  # noqa: E402

CHROMIUM = find_chromium()
if CHROMIUM is None:
    pytest.skip("no Chromium binary (apt-get install -y chromium, or set COSTCORRECT_CHROMIUM)",
                allow_module_level=True)

#: page → (control, new value): moving it must change the chart's data.
MOVES = {
    "frontier": ("tpot_p99_ms", "80"),
    "breakeven": ("eta", "0.9"),
    "hardware": ("tpot_p99_ms", "80"),
    "cost-correct": ("accept_rate", "0.3"),
}
MARKS = "#chart svg path.mark-line, #chart svg path, #chart svg rect, #chart svg .mark-symbol path"


@pytest.fixture(scope="module")
def base_url():
    with serve() as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        try:
            b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        except Exception as exc:  # pragma: no cover - broken local Chromium
            pytest.skip(f"Chromium at {CHROMIUM} does not start: {exc}")
        yield b
        b.close()


class Watch:
    """Console errors, page errors and every request a page makes."""

    def __init__(self, page, base_url):
        self.errors, self.external = [], []
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("request", lambda r: None if r.url.startswith((base_url, "data:", "blob:"))
                else self.external.append(r.url))


def _open(browser, base_url, path, width):
    page = browser.new_page(viewport={"width": width, "height": 900}, accept_downloads=True)
    watch = Watch(page, base_url)
    page.goto(base_url + path)
    return page, watch


def _rendered(page, n=1, timeout=15_000):
    page.wait_for_selector(f'#chart[data-renders="{n}"] svg', timeout=timeout)


def _datasets(page) -> str:
    return page.evaluate("JSON.stringify(window.cc.spec.datasets || window.cc.spec)")


@pytest.mark.parametrize("name", list(MOVES))
def test_page_renders_reacts_fits_and_stays_offline(browser, base_url, tmp_path, name):
    page, watch = _open(browser, base_url, f"/{name}", 1280)
    _rendered(page)
    assert page.locator(MARKS).count() > 10
    assert page.locator("#chart.vega-embed > details").count() == 1  # vega-embed's PNG/SVG menu
    page.screenshot(path=tmp_path / f"{name}-1280.png", full_page=True)
    before = _datasets(page)

    control, value = MOVES[name]
    page.fill(f"[data-control={control}]", value)
    page.dispatch_event(f"[data-control={control}]", "change")
    _rendered(page, 2)
    assert _datasets(page) != before, f"moving {control} did not change the chart's data"
    assert page.locator(MARKS).count() > 10

    with page.expect_download() as dl:
        page.click("[data-download=svg]")
    assert dl.value.suggested_filename == f"costcorrect-{name}.svg"

    # a phone: the page never scrolls sideways; wide charts and tables scroll in their own box
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(50)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=tmp_path / f"{name}-390.png", full_page=True)
    page.close()

    assert watch.errors == []
    assert watch.external == [], "a page asked another host for something"
    assert (tmp_path / f"{name}-1280.png").stat().st_size > 10_000


def test_bad_value_shows_message_next_to_control(browser, base_url):
    page, watch = _open(browser, base_url, "/frontier", 1280)
    _rendered(page)
    before = _datasets(page)
    page.fill("[data-control=tpot_p99_ms]", "0")
    page.dispatch_event("[data-control=tpot_p99_ms]", "change")
    slot = page.locator('[data-error-for="tpot_p99_ms"]')
    slot.wait_for(state="visible", timeout=10_000)
    assert "[1, 60000]" in slot.inner_text()
    assert "tpot_p99_ms" in page.inner_text("#status")
    # the last valid chart stays, not a blank one
    assert page.locator(MARKS).count() > 10 and _datasets(page) == before
    page.close()
    # the 422 itself is logged by Chromium as a failed resource load; nothing else may be
    assert all("422" in e for e in watch.errors), watch.errors


def test_breakeven_hover_shows_both_costs(browser, base_url):
    page, _ = _open(browser, base_url, "/breakeven", 1280)
    _rendered(page)
    box = page.locator("#chart svg.marks").bounding_box()
    # the first panel sits left; aim into its plotting area
    page.mouse.move(box["x"] + 200, box["y"] + 250)
    page.mouse.move(box["x"] + 210, box["y"] + 255)
    tip = page.locator("#vg-tooltip-element")
    tip.wait_for(state="visible", timeout=5_000)
    text = tip.inner_text()
    assert "CPM_co" in text and "CPM_P/D" in text
    page.close()


def test_index_links_work(browser, base_url):
    page, watch = _open(browser, base_url, "/", 1280)
    page.click("text=Hardware")
    _rendered(page)
    assert json.loads(page.evaluate("JSON.stringify(window.cc.result.skipped)")) == []
    page.close()
    assert watch.errors == [] and watch.external == []


#: cost-correct's extra panels (papers 04 and 05): panel → (control, new value).
PANEL_MOVES = {"threshold": ("eta_rho", "0.3"), "routing": ("gamma", "0.3")}


@pytest.mark.parametrize("panel", list(PANEL_MOVES))
def test_cost_correct_extra_panels_render_and_react(browser, base_url, panel):
    page, watch = _open(browser, base_url, "/cost-correct", 1280)
    chart = f"#chart-{panel}"
    page.wait_for_selector(f'{chart}[data-renders="1"] svg', timeout=15_000)
    assert page.locator(f"{chart} svg path, {chart} svg rect").count() > 3
    assert page.locator(f"{chart}.vega-embed > details").count() == 1
    before = page.evaluate(f"JSON.stringify(window.ccPanels[{json.dumps(panel)}].spec)")
    control, value = PANEL_MOVES[panel]
    page.fill(f"[data-control={control}]", value)
    page.dispatch_event(f"[data-control={control}]", "change")
    page.wait_for_selector(f'{chart}[data-renders="2"] svg', timeout=15_000)
    assert page.evaluate(f"JSON.stringify(window.ccPanels[{json.dumps(panel)}].spec)") != before
    with page.expect_download() as dl:
        page.click(f'section[data-panel="{panel}"] [data-download=svg]')
    assert dl.value.suggested_filename == f"costcorrect-cost-correct-{panel}.svg"
    page.close()
    assert watch.errors == [] and watch.external == []


def test_procurement_page_with_a_real_ledger(browser, tmp_path):
    """The service app (explorer inside) on a SQLite file with a scored round, read in Chromium."""
    import httpx

    from costcorrect.service.app import create_app as service_app
    from test_service_support import auth, make_identities, reveal_for, round_body

    db = tmp_path / "svc.db"
    tokens = make_identities(db, buyers=["acme"], vendors=["vera", "vik"])
    items, labels = ["q1", "q2", "q3", "q4"], [1, 0, 1, 0]
    app = service_app(db)
    with serve(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        body, label_reveal = round_body(items, labels, ["vera", "vik"])
        rid = client.post("/v1/rounds", json=body, headers=auth(tokens["acme"])).json()["round_id"]
        reveals = {}
        for v, probs in (("vera", [0.9, 0.2, 0.8, 0.1]), ("vik", [0.5] * 4)):
            c, reveals[v] = reveal_for(items, probs)
            client.post(f"/v1/rounds/{rid}/commitments", json={"commitment": c}, headers=auth(tokens[v]))
        client.post(f"/v1/rounds/{rid}/close-commitments", headers=auth(tokens["acme"]))
        for v in reveals:
            client.post(f"/v1/rounds/{rid}/reveals", json=reveals[v], headers=auth(tokens[v]))
        assert client.post(f"/v1/rounds/{rid}/labels", json=label_reveal,
                           headers=auth(tokens["acme"])).status_code == 200

        page, watch = _open(browser, url, "/procurement", 1280)
        assert "token" in page.inner_text("#status").lower()  # asks for a token, fetches nothing yet
        page.fill("[data-control=token]", tokens["acme"])
        page.press("[data-control=token]", "Enter")
        _rendered(page)
        assert page.locator("#chart svg rect, #chart svg path").count() > 4
        assert "Ledger intact" in page.inner_text("#notes")
        assert "vera" in page.inner_text("#tables")
        with page.expect_download() as dl:
            page.click("[data-bundle]")
        assert dl.value.suggested_filename.startswith("costcorrect-evidence-")
        assert tokens["acme"] not in page.url
        page.screenshot(path=tmp_path / "procurement-1280.png", full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})
        page.wait_for_timeout(50)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.close()
    app.state.store.close()
    assert watch.errors == [] and watch.external == []


def test_procurement_page_without_database_explains(browser, base_url):
    page, watch = _open(browser, base_url, "/procurement", 1280)
    page.wait_for_function("document.getElementById('status').textContent.length > 0")
    assert "costcorrect serve --db FILE" in page.inner_text("#status")
    assert page.locator('[data-role="no-database"]').is_visible()
    page.close()
    assert watch.errors == [] and watch.external == []
