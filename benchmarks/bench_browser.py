"""What one student feels in Chromium, timed: page loads, a slider to new numbers, a stroke to a
prediction, and a step of the descent animation (issue 9's browser goals).

    .venv/bin/python benchmarks/bench_browser.py [--repeats 7]

Starts the real app (`streamlit run app.py` on a free localhost port, as the browser tests do),
drives Debian's Chromium with Playwright and prints medians and maxima. A benchmark: it prints
figures and asserts nothing about time. Goals (issue 9): every page settled within 2 s of
navigation; slider -> new forward-pass numbers <= 150 ms; mouse-up -> prediction <= 250 ms
(the canvas sends 30 ms after mouse-up: ui/digits/canvas.py); a step of the walk animation
<= 100 ms. `--parts stroke` (or settled, slider, walk, comma-separated) times only those.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402

from tests.e2e.e2e_support import PAGE_CHARTS, PAGES, App, launch_chromium, serve_app  # noqa: E402

# "Settled" waits for all the charts a page draws (PAGE_CHARTS): a check for
# "every chart on the page is drawn" holds at once while none is mounted yet (the script's
# elements arrive before the charts' code has loaded), which made earlier figures too small.
ALL_DRAWN = """([heading, n]) => {
    const h1 = document.querySelector('h1');
    const charts = [...document.querySelectorAll('[data-testid="stPlotlyChart"]')];
    return h1 && h1.innerText.trim() === heading && charts.length >= n
        && charts.every(c => c.querySelector('.main-svg'));
}"""


def settled_ms(app: App, page: Page, path: str, *, reload: bool) -> float:
    """From navigation to the page's heading and every one of its charts drawn.

    ``reload``: a new document and session (a link opened, a reload), the browser loading the
    app's code again; otherwise the student's click on the page in the sidebar (the session
    and the loaded code kept), from the home page."""
    if not reload:
        app.navigate(page, "")
    start = time.perf_counter()
    if reload:
        page.goto(f"{app.url}/{path}")
    else:
        page.locator('[data-testid="stSidebarNav"] a').filter(has_text=PAGES[path][0]).click()
    page.wait_for_function(ALL_DRAWN, arg=[PAGES[path][1], PAGE_CHARTS[path]],
                           timeout=60_000, polling="raf")
    elapsed = (time.perf_counter() - start) * 1000
    app.wait_idle(page)
    return elapsed


# Playwright's expect() polls at 100, 250, 500 ms intervals, so a time read through it is rounded
# up to the next poll. The page itself records when the awaited text appears: a MutationObserver
# in the page stamps the wall clock (performance.timeOrigin + now, the same clock as time.time()
# on this machine) at the first DOM change after which the condition holds.
WATCH = """([label, before]) => {
    window.__shownAt = null;
    const value = () => {
        for (const m of document.querySelectorAll('[data-testid="stMetric"]')) {
            const l = m.querySelector('[data-testid="stMetricLabel"]');
            if (l && l.innerText.trim() === label) {
                const v = m.querySelector('[data-testid="stMetricValue"]');
                return v ? v.innerText.trim() : null;
            }
        }
        return null;
    };
    const check = () => {
        const v = value();
        if (window.__shownAt === null && v !== null && v !== before) {
            window.__shownAt = performance.timeOrigin + performance.now();
            observer.disconnect();
        }
    };
    const observer = new MutationObserver(check);
    observer.observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


def shown_after(page: Page, start_s: float) -> float:
    """Milliseconds from ``start_s`` (time.time()) to the page's stamp of the awaited text."""
    page.wait_for_function("window.__shownAt !== null", timeout=30_000)
    return page.evaluate("window.__shownAt") - start_s * 1000


def slider_ms(app: App, page: Page, repeats: int) -> list[float]:
    """w1's slider moved by one key press -> the Y metric shows the new number."""
    app.open(page, "forward")
    slider = page.get_by_role("slider", name="w1")
    y = app.metric(page, "Y")
    times = []
    for i in range(repeats):
        before = y.inner_text().strip()
        slider.focus()
        page.evaluate(WATCH, ["Y", before])
        start = time.time()
        page.keyboard.press("ArrowRight" if i % 2 == 0 else "ArrowLeft")
        times.append(shown_after(page, start))
        expect(y).not_to_have_text(before)
        app.wait_idle(page)
    return times


def stroke_ms(app: App, page: Page, repeats: int) -> list[float]:
    """A digit drawn with the mouse: from the last mouse-up to the prediction on the page."""
    app.open(page, "digits")
    times = []
    for _ in range(repeats):
        page.get_by_role("button", name="Clear drawing").click()
        app.wait_idle(page)
        expect(app.asks_for_drawing(page)).to_be_visible()
        expect(app.canvas(page)).to_be_visible()  # the cleared canvas is a new one
        page.wait_for_timeout(300)
        page.evaluate(WATCH, ["Prediction", None])
        app.draw(page, "1")  # ends with the mouse-up
        start = time.time()
        times.append(shown_after(page, start))
        expect(app.prediction(page)).to_be_visible()
        app.wait_idle(page)
    return times


def walk_step_ms(app: App, page: Page) -> list[float]:
    """One frame of the descent walk (contour and loss balls), in the browser."""
    app.open(page, "descent")
    walk = page.locator('[data-testid="stPlotlyChart"] .js-plotly-plot').nth(1)
    names = walk.evaluate("el => el._transitionData._frames.map(f => f.name)")
    return [walk.evaluate("""async (el, name) => {
        const t0 = performance.now();
        await Plotly.animate(el, [name], {mode: "immediate",
            frame: {duration: 0, redraw: false}, transition: {duration: 0}});
        await new Promise(r => requestAnimationFrame(() => r()));
        return performance.now() - t0; }""", name) for name in names[::5]]


def show(name: str, values: list[float], goal: str) -> None:
    print(f"{name:<42} median {statistics.median(values):7.0f} ms   max {max(values):7.0f} ms"
          f"   n={len(values):<3} goal {goal}")
    if len(values) <= 5:  # the page visits, in order (the first is the server's first)
        print(f"{'':<42} each: {', '.join(f'{v:.0f}' for v in values)} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--parts", default="settled,slider,stroke,walk",
                        help="comma-separated: settled, slider, stroke, walk")
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    if not parts <= {"settled", "slider", "stroke", "walk"}:
        parser.error(f"unknown parts: {sorted(parts - {'settled', 'slider', 'stroke', 'walk'})}")
    with tempfile.TemporaryDirectory() as runs, serve_app(
            Path(runs), ROOT / "artifacts" / "bench-browser-server.log") as url, \
            sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        app = App(url, None)
        app.open(page, "")  # the server's first session warms its caches
        load = Path("/proc/loadavg").read_text().split()[0]
        print(f"Chromium against {url}, one idle session (load average {load})")
        for path in [p for p in PAGES if p and "settled" in parts]:
            show(f"/{path}: opened (new document) -> settled",
                 [settled_ms(app, page, path, reload=True) for _ in range(3)], "<= 2000 ms")
            show(f"/{path}: sidebar click -> settled",
                 [settled_ms(app, page, path, reload=False) for _ in range(3)], "<= 2000 ms")
        if "slider" in parts:
            show("/forward: slider -> new numbers", slider_ms(app, page, args.repeats),
                 "<= 150 ms")
        if "stroke" in parts:
            show("/digits: mouse-up -> prediction", stroke_ms(app, page, args.repeats),
                 "<= 250 ms")
        if "walk" in parts:
            show("/descent: one step of the walk animation", walk_step_ms(app, page),
                 "<= 100 ms")
        browser.close()


if __name__ == "__main__":
    main()
