"""What one student feels in Chromium, timed: page loads, a slider to new numbers, a stroke to a
prediction, and a step of the descent animation (issue 9's browser goals).

    .venv/bin/python benchmarks/bench_browser.py [--repeats 7]

Starts the real app (`streamlit run app.py` on a free localhost port, as the browser tests do),
drives Debian's Chromium with Playwright and prints medians and maxima. A benchmark: it prints
figures and asserts nothing about time. Goals (issue 9): every page settled within 2 s of
navigation; slider -> new forward-pass numbers <= 150 ms; mouse-up -> prediction <= 250 ms
(the canvas sends 30 ms after mouse-up: ui/digits/canvas.py); a step of the walk animation
<= 100 ms. `--parts stroke` (or settled, slider, walk, comma-separated) times only those,
`--pages descent,curves` the settling of only those pages.

    .venv/bin/python benchmarks/bench_browser.py --parts settled --pages descent --visits 6 \
        --baseline HEAD

also measures a git ref (a temporary worktree, the same venv) on a second server, alternating
visit by visit (and in three rounds of presses or strokes) so that a change in the host's speed
falls on both alike, and prints its figures and the ratio of the medians.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402

from benchmarks.loadtest import baseline_tree  # noqa: E402
from benchmarks.streamlit_client import Server  # noqa: E402
from tests.e2e.e2e_support import PAGE_CHARTS, PAGES, App, launch_chromium  # noqa: E402

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


def show(name: str, values: list[float], goal: str, baseline: list[float] | None = None) -> None:
    """One line of figures; with a baseline measured alternately in the same run, its line and
    the ratio of the medians (baseline / new: above 1 is faster now)."""
    print(f"{name:<42} median {statistics.median(values):7.0f} ms   max {max(values):7.0f} ms"
          f"   n={len(values):<3} goal {goal}")
    if len(values) <= 8:  # the page visits, in order (the first is the server's first)
        print(f"{'':<42} each: {', '.join(f'{v:.0f}' for v in values)} ms")
    if baseline:
        ratio = statistics.median(baseline) / statistics.median(values)
        print(f"{'  baseline':<42} median {statistics.median(baseline):7.0f} ms   max "
              f"{max(baseline):7.0f} ms   n={len(baseline):<3} ratio x{ratio:.2f}")
        if len(baseline) <= 8:
            print(f"{'':<42} each: {', '.join(f'{v:.0f}' for v in baseline)} ms")


@dataclass
class Target:
    """One server under test (this tree, or the baseline's worktree) and its browser tab."""

    name: str
    app: App
    page: Page


def alternate(targets: list[Target], measure: Callable[[Target], list[float]],
              rounds: int) -> list[list[float]]:
    """``measure`` on each target in turn, ``rounds`` times (so that a change in the host's
    speed falls on both alike): every target's values, in the order of ``targets``."""
    values: list[list[float]] = [[] for _ in targets]
    for _ in range(rounds):
        for target, got in zip(targets, values, strict=True):
            got.extend(measure(target))
    return values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--parts", default="settled,slider,stroke,walk",
                        help="comma-separated: settled, slider, stroke, walk")
    parser.add_argument("--visits", type=int, default=3,
                        help="visits of each page for its settling, each way")
    parser.add_argument("--pages", default=",".join(p for p in PAGES if p),
                        help="the pages whose settling is timed (comma-separated)")
    parser.add_argument("--baseline", metavar="REF",
                        help="also measure this git ref (a temporary worktree, the same venv), "
                             "alternating with this tree, and print the ratios")
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    if not parts <= {"settled", "slider", "stroke", "walk"}:
        parser.error(f"unknown parts: {sorted(parts - {'settled', 'slider', 'stroke', 'walk'})}")
    pages = [p for p in args.pages.split(",") if p]
    if not set(pages) <= set(PAGES):
        parser.error(f"unknown pages: {sorted(set(pages) - set(PAGES))}")
    with sync_playwright() as playwright, contextlib.ExitStack() as stack:
        trees = [("new", ROOT)]
        if args.baseline:
            trees.append((f"baseline {args.baseline}",
                          stack.enter_context(baseline_tree(args.baseline))))
        browser = launch_chromium(playwright)
        stack.callback(browser.close)
        targets = []
        for name, tree in trees:
            runs = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            log = ROOT / "artifacts" / f"bench-browser-server{'' if name == 'new' else '-base'}.log"
            server = Server(tree, runs, log)
            stack.callback(server.stop, timeout=15)
            server.wait_healthy()
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            target = Target(name, App(server.url, None), context.new_page())
            target.app.open(target.page, "")  # the server's first session warms its caches
            targets.append(target)
        load = Path("/proc/loadavg").read_text().split()[0]
        print(f"Chromium against {', '.join(f'{t.name} {t.app.url}' for t in targets)}, one "
              f"idle session each (load average {load})")
        rounds = 3 if args.baseline else 1  # repeated presses and strokes: in rounds

        def report(name: str, values: list[list[float]], goal: str) -> None:
            show(name, values[0], goal, values[1] if len(values) > 1 else None)

        for path in [p for p in pages if "settled" in parts]:
            report(f"/{path}: opened (new document) -> settled",
                   alternate(targets, lambda t, path=path: [
                       settled_ms(t.app, t.page, path, reload=True)], args.visits), "<= 2000 ms")
            report(f"/{path}: sidebar click -> settled",
                   alternate(targets, lambda t, path=path: [
                       settled_ms(t.app, t.page, path, reload=False)], args.visits),
                   "<= 2000 ms")
        per_round = max(1, args.repeats // rounds)
        if "slider" in parts:
            report("/forward: slider -> new numbers", alternate(
                targets, lambda t: slider_ms(t.app, t.page, per_round), rounds), "<= 150 ms")
        if "stroke" in parts:
            report("/digits: mouse-up -> prediction", alternate(
                targets, lambda t: stroke_ms(t.app, t.page, per_round), rounds), "<= 250 ms")
        if "walk" in parts:
            report("/descent: one step of the walk animation", alternate(
                targets, lambda t: walk_step_ms(t.app, t.page), 1), "<= 100 ms")


if __name__ == "__main__":
    main()
