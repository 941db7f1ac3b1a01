"""Helpers of the browser tests: start the app, launch Debian's Chromium, drive the pages.

Imported by tests/e2e/conftest.py (fixtures) and by the tests (constants, App, STROKES).
"""

from __future__ import annotations

import contextlib
import math
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, Playwright, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from benchmarks.streamlit_client import Server
from tests.support import ROOT

ARTIFACTS = ROOT / "artifacts"  # git-ignored
SCREENSHOTS = ARTIFACTS / "screenshots"

CHROMIUM = Path(os.environ.get("NN_PLAYGROUND_CHROMIUM", "/usr/bin/chromium"))
# Playwright already adds --headless, --no-sandbox (chromiumSandbox is off by default),
# --disable-background-networking and --disable-component-update; they are repeated so that the
# launch does not depend on Playwright's defaults. --disable-gpu and --disable-sync are ours.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
INSTALL_HINT = (
    f"Chromium is missing at {CHROMIUM}; the browser tests need Debian's chromium package. "
    "Install it with `apt-get install chromium` (`make chromium` does, and `make test` runs it), "
    "or point NN_PLAYGROUND_CHROMIUM at a Chromium binary."
)

VIEWPORT = {"width": 1400, "height": 1000}
STARTUP_TIMEOUT_S = 90
EXPECT_TIMEOUT_MS = 30_000
RUN_TIMEOUT_MS = 60_000  # one script run; the digit page's first run loads the model
ERRORS = '[data-testid="stException"], [data-testid="stAlertContentError"]'
CANVAS = "[data-testid='stBidiComponentIsolated'] canvas.upper-canvas"  # in a shadow root
INK = "[data-testid='stBidiComponentIsolated'] canvas.dc-canvas.lower-canvas"  # the strokes
# Latencies the tests measure, printed in pytest's terminal summary (never asserted on).
LATENCIES: list[str] = []
ASK_FOR_DRAWING = "Draw a digit on the canvas"
ANSI = re.compile(r"\x1b\[[0-9;]*m")

# Each page's URL path (url_path in app.py), its title in the navigation, and its <h1>.
PAGES = {
    "": ("Home", "Neural-network playground"),
    "forward": ("Forward pass", "Forward pass of a 2-2-1 network"),
    "curves": ("Activations and losses", "Activation and loss curves"),
    "descent": ("Gradient descent", "Gradient descent over the error surface"),
    "digits": ("Draw a digit", "Draw a digit"),
    "convolution": ("Convolution", "How a convolution computes"),
}
# The plotly charts each page draws with its default settings (tests/e2e/test_e2e_pages.py
# checks them; benchmarks/bench_browser.py waits for all of them before a page is settled).
PAGE_CHARTS = {"": 0, "forward": 1, "curves": 6, "descent": 2, "digits": 4, "convolution": 13}


def _ellipse(cx: float, cy: float, rx: float, ry: float, n: int = 36) -> list[tuple[float, float]]:
    """Points around an ellipse from the top, clockwise, a little past the start (closed)."""
    return [(cx + rx * math.sin(2 * math.pi * i / n), cy - ry * math.cos(2 * math.pi * i / n))
            for i in range(n + 3)]  # fmt: skip


# Digits as a person draws them: strokes of (x, y) points in fractions of the canvas.
STROKES: dict[str, list[list[tuple[float, float]]]] = {
    "1": [[(0.52, 0.15), (0.48, 0.85)]],
    "0": [_ellipse(0.5, 0.5, 0.2, 0.32)],
    "7": [[(0.28, 0.2), (0.72, 0.2), (0.42, 0.85)]],  # across, then down to the left
    "4": [[(0.55, 0.15), (0.28, 0.6), (0.75, 0.6)], [(0.62, 0.35), (0.62, 0.88)]],
    "3": [[(0.3, 0.2), (0.55, 0.14), (0.7, 0.25), (0.65, 0.4), (0.45, 0.48), (0.68, 0.58),
           (0.72, 0.75), (0.55, 0.86), (0.3, 0.8)]],
    "2": [[(0.3, 0.3), (0.45, 0.15), (0.65, 0.2), (0.68, 0.38), (0.3, 0.85), (0.75, 0.85)]],
}  # fmt: skip


# ------------------------------------------------------------------------------ the server
def log_tail(log: Path, lines: int = 40) -> str:
    """The end of a server log, without colour codes, for failure messages."""
    text = log.read_text(errors="replace") if log.exists() else ""
    return "\n".join(ANSI.sub("", text).splitlines()[-lines:])


@contextlib.contextmanager
def serve_app(runs_dir: Path, log: Path) -> Iterator[str]:
    """`streamlit run app.py` on a free localhost port until the block ends; yields its URL.

    The server is the load test's (``benchmarks.streamlit_client.Server``): the same command,
    environment and shutdown (SIGTERM, then the whole process group with its workers)."""
    server = Server(ROOT, runs_dir, log)
    try:
        try:
            server.wait_healthy(STARTUP_TIMEOUT_S)
        except RuntimeError as exc:
            pytest.fail(str(exc))
        yield server.url
    finally:
        server.stop(timeout=15)


# ------------------------------------------------------------------------------ the browser
def launch_chromium(playwright: Playwright) -> Browser:
    """Debian's Chromium, headless; a missing binary fails the test with how to install it."""
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(INSTALL_HINT, pytrace=False)
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


# ------------------------------------------------------------------------------ helpers
class App:
    """What a test does with the running app: open pages, wait for runs, check, draw, shoot."""

    def __init__(self, url: str, readme_dir: Path | None) -> None:
        self.url = url
        self.readme_dir = readme_dir
        self.log = ARTIFACTS / "e2e-server.log"

    # -- pages
    def open(self, page: Page, path: str = "") -> None:
        """Go to a page by its URL (a new session), wait for its run, check it shows no error."""
        page.goto(f"{self.url}/{path}")
        self.wait_idle(page)
        expect(page.locator("h1").first).to_have_text(PAGES[path][1])
        self.assert_no_errors(page)

    def navigate(self, page: Page, path: str) -> None:
        """Switch pages through the sidebar as a student does (the session is kept)."""
        title, heading = PAGES[path]
        page.locator('[data-testid="stSidebarNav"] a').filter(has_text=title).click()
        expect(page.locator("h1").first).to_have_text(heading)
        self.wait_idle(page)
        self.assert_no_errors(page)

    @staticmethod
    def wait_idle(page: Page, timeout: float = RUN_TIMEOUT_MS) -> None:
        """Wait until Streamlit has finished running the script (the app is idle)."""
        expect(page.locator('[data-testid="stApp"]')).to_have_attribute(
            "data-test-script-state", "notRunning", timeout=timeout
        )

    def assert_no_errors(self, page: Page) -> None:
        """No exception box, no error alert and no 'Page not found' dialog on the page."""
        texts = page.locator(ERRORS).all_inner_texts()
        texts += page.locator('[role="dialog"]').filter(has_text="Page not found").all_inner_texts()
        assert not texts, f"error on {page.url}: {texts}\n--- app log ---\n{log_tail(self.log)}"

    # -- widgets
    @staticmethod
    def number_input(page: Page, label: str) -> Locator:
        """The <input> of the number entry labelled exactly `label` (hidden labels too)."""
        return page.get_by_label(label, exact=True)

    @staticmethod
    def metric(page: Page, label: str | re.Pattern[str]) -> Locator:
        """The value of the st.metric whose label matches (a string is matched exactly)."""
        pattern = label if isinstance(label, re.Pattern) else re.compile(f"^{re.escape(label)}$")
        metric = page.locator('[data-testid="stMetric"]').filter(
            has=page.locator('[data-testid="stMetricLabel"]', has_text=pattern)
        )
        return metric.locator('[data-testid="stMetricValue"]')

    @staticmethod
    def choose(page: Page, label: str, option: str, attempts: int = 3) -> None:
        """Pick `option` in the st.selectbox labelled `label`.

        A rerun that lands between opening the list and clicking closes the list again, so the
        pick is retried (at most `attempts` times) until the box shows the option.
        """
        box = page.get_by_role("combobox", name=label)
        item = page.get_by_role("option").filter(has_text=re.compile(f"^{re.escape(option)}$"))
        for attempt in range(attempts):
            box.click()
            try:
                item.click(timeout=5_000)
                expect(box).to_have_value(option, timeout=5_000)
                return
            except (PlaywrightTimeoutError, AssertionError):
                if attempt == attempts - 1:
                    raise
                page.keyboard.press("Escape")

    @staticmethod
    def margins_grown(page: Page) -> list[tuple[int, dict, dict]]:
        """The page's charts whose drawn margins differ from their declared ones: (index,
        declared, drawn). Plotly grows a margin too small for what it places there (ticks,
        titles, a legend, a colour bar) and then draws the whole chart a second time; the
        playground's charts declare margins that already hold it (one drawing pass)."""
        grown = []
        charts = page.locator('[data-testid="stPlotlyChart"] .js-plotly-plot')
        for index, chart in enumerate(charts.all()):
            expect(chart.locator(".main-svg").first).to_be_attached()
            declared, size = chart.evaluate("el => [el.layout.margin, el._fullLayout._size]")
            drawn = {side: size[side] for side in "lrtb"}
            if drawn != declared:
                grown.append((index, declared, drawn))
        return grown

    @staticmethod
    def plotly_traces(chart: Locator) -> list[dict]:
        """Type, name and coordinates of every trace plotly drew in this chart (its _fullData)."""
        return chart.evaluate(
            """el => (el._fullData || []).map(t => ({type: t.type, name: t.name,
                 x: t.x ? Array.from(t.x) : null, y: t.y ? Array.from(t.y) : null}))"""
        )

    # -- the digit page's canvas
    @staticmethod
    def canvas(page: Page) -> Locator:
        """The drawing surface of streamlit-drawable-canvas (inside its shadow root)."""
        return page.locator(CANVAS)

    def draw(self, page: Page, digit: str, steps: int = 10) -> None:
        """Draw `digit` with real mouse strokes: down, moves of `steps` events each, up."""
        canvas = self.canvas(page)
        canvas.scroll_into_view_if_needed()
        box = canvas.bounding_box()
        assert box is not None, "the canvas is not displayed"
        for points in STROKES[digit]:
            xy = [(box["x"] + fx * box["width"], box["y"] + fy * box["height"])
                  for fx, fy in points]  # fmt: skip
            page.mouse.move(*xy[0])
            page.mouse.down()
            for x, y in xy[1:]:
                page.mouse.move(x, y, steps=steps)
            page.mouse.up()

    @staticmethod
    def prediction(page: Page) -> Locator:
        """The digit the page predicts (its 'Prediction' metric; absent without a drawing)."""
        return App.metric(page, "Prediction")

    @staticmethod
    def asks_for_drawing(page: Page) -> Locator:
        """The message the page shows in place of a prediction while the canvas is empty."""
        return page.locator(".st-key-digit_prediction").last.get_by_text(ASK_FOR_DRAWING)

    @staticmethod
    def ink_pixels(page: Page) -> int:
        """How many canvas pixels differ from its background colour (the corner pixel's)."""
        return page.locator(INK).evaluate(
            """c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                      let n = 0;
                      for (let i = 0; i < d.length; i += 4) {
                        if (Math.abs(d[i] - d[0]) + Math.abs(d[i + 1] - d[1])
                            + Math.abs(d[i + 2] - d[2]) + Math.abs(d[i + 3] - d[3]) > 96) n++;
                      }
                      return n; }"""
        )

    # -- screenshots
    def shot(self, page: Page, name: str, *, readme: bool = False) -> Path:
        """Save artifacts/screenshots/<name>.png (whole page) and, for the README, the screen.

        With `readme`, the visible screen also goes to --screenshots-to: the README shows what a
        student sees in the window, not the whole scrolled page.
        """
        if readme and self.readme_dir is not None:
            page.mouse.move(0, 0)  # no hover tooltip in the picture
            self.readme_dir.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(self.readme_dir / f"{name}.png"), animations="disabled")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        # Streamlit scrolls inside <main>, not the document: grow the viewport to show it all.
        size = page.viewport_size or VIEWPORT
        height = page.locator('[data-testid="stMain"]').evaluate("el => el.scrollHeight")
        page.set_viewport_size({"width": size["width"], "height": min(max(height, 200), 12_000)})
        try:
            page.screenshot(path=str(path), animations="disabled")
        finally:
            page.set_viewport_size(size)
        return path
