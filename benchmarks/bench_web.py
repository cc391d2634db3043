"""Page load of the web explorer in headless Chromium, measured with the browser's own timing.

For each page: milliseconds from navigation start to the first chart drawn
(``performance.now()`` when vega-embed resolves, i.e. HTML + vendored JS + API call +
Vega render), and the navigation timing's ``loadEventEnd``. Baseline in the same run: the
first (cold) load of each page after the server starts, before its result cache is warm.

Usage: python benchmarks/bench_web.py [--write docs/benchmarks.md] [--screenshots docs/screenshots]
"""

from __future__ import annotations

import argparse
import platform
import statistics
from datetime import date
from pathlib import Path

from costcorrect.io import write_markdown_section
from costcorrect.web.testing import find_chromium, serve

PAGES = ["frontier", "breakeven", "hardware", "cost-correct"]
SECTION = "## Web explorer page load"
TARGET_MS = 1000.0


def measure(page, url: str) -> tuple[float, float]:
    page.goto(url)
    page.wait_for_selector('#chart[data-renders="1"] svg', timeout=30_000)
    chart_ms = float(page.evaluate("window.cc.firstChartMs"))
    load_ms = float(page.evaluate(
        "(() => { const n = performance.getEntriesByType('navigation')[0]; return n.loadEventEnd; })()"))
    return chart_ms, load_ms


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--write", type=Path, default=None, help="update this section of docs/benchmarks.md")
    ap.add_argument("--screenshots", type=Path, default=None, help="save one PNG per page here (1280 px)")
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()

    from playwright.sync_api import sync_playwright

    chromium = find_chromium()
    if chromium is None:
        raise SystemExit("no Chromium binary (apt-get install -y chromium, or set COSTCORRECT_CHROMIUM)")
    rows = []
    with serve() as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        ctx = browser.new_context(viewport={"width": 1280, "height": 900})
        page = ctx.new_page()
        for name in PAGES:
            cold, _ = measure(page, f"{base}/{name}")  # first load: empty result cache
            warm = [measure(page, f"{base}/{name}") for _ in range(args.repeat)]
            chart = statistics.median(w[0] for w in warm)
            load = statistics.median(w[1] for w in warm)
            rows.append((name, chart, load, cold))
            if args.screenshots:
                args.screenshots.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(args.screenshots / f"{name}.png"), full_page=True)
        if args.screenshots:
            page.goto(f"{base}/")
            page.screenshot(path=str(args.screenshots / "index.png"), full_page=True)
        browser.close()

    lines = ["| page | first chart drawn, warm (median) | load event, warm (median) | cold first load "
             "(baseline, same run) | cold / warm | target | result |", "|---|---|---|---|---|---|---|"]
    for name, chart, load, cold in rows:
        lines.append(f"| `/{name}` | {chart:.0f} ms | {load:.0f} ms | {cold:.0f} ms | {cold / chart:.1f}x | "
                     f"< {TARGET_MS:.0f} ms | {'pass' if chart < TARGET_MS else 'FAIL'} |")
    table = "\n".join(lines)
    print(table)
    if args.write:
        body = (f"{SECTION}\n\n"
                "Produced by `python benchmarks/bench_web.py --write docs/benchmarks.md`: headless Chromium "
                f"{'(' + chromium + ')'} at 1280 px against `costcorrect.web` on the default scenario, timed by "
                "the browser (`performance.now()` when the first chart is drawn: HTML, vendored Vega, API call "
                "and render; and the navigation entry's `loadEventEnd`). Warm = median of "
                f"{args.repeat} reloads with the server's result cache warm; the baseline is each page's "
                f"first load in the same run. Run {date.today().isoformat()} on {platform.machine()} / "
                f"Python {platform.python_version()}.\n\n{table}\n")
        write_markdown_section(args.write, SECTION, body)
        print(f"wrote {args.write}")


if __name__ == "__main__":
    main()
