"""Browser fixtures: the real app on a free port, Debian's Chromium through Playwright.

The app runs as `python -m streamlit run app.py` in its own process group, training into a fresh
temporary NN_PLAYGROUND_RUNS, so the tests see what a student's browser sees. Waits are
Playwright `expect(...)` waits on what is on the page, never fixed sleeps. Screenshots go to
artifacts/screenshots/ (git-ignored); `--screenshots-to DIR` also writes the README's images.
"""

from __future__ import annotations

import contextlib
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.e2e.e2e_support import (
    ARTIFACTS,
    EXPECT_TIMEOUT_MS,
    LATENCIES,
    ROOT,
    SCREENSHOTS,
    VIEWPORT,
    App,
    serve_app,
)

# expect(...) waits up to this long unless a test gives its own bound (a loaded 2-core machine
# can take seconds to render a page; a test that bounds latency passes timeout= itself).
expect.set_options(timeout=EXPECT_TIMEOUT_MS)

def pytest_addoption(parser: pytest.Parser) -> None:
    """--screenshots-to DIR: also write the README's screenshots there (docs/screenshots)."""
    parser.addoption(
        "--screenshots-to",
        metavar="DIR",
        default=None,
        help="also save the README's screenshots (tests marked 'screenshots') to DIR",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Declare the marker of the tests that take the README's screenshots (`make screenshots`)."""
    config.addinivalue_line("markers", "screenshots: browser tests that take README screenshots")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the latencies the browser tests measured (they bound them with expect timeouts)."""
    if LATENCIES:
        terminalreporter.section("browser latencies")
        for line in LATENCIES:
            terminalreporter.write_line(line)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> object:
    """Keep each phase's report on the item, so the page fixture can screenshot a failure."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def runs_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clean NN_PLAYGROUND_RUNS for the app under test (trained models land here)."""
    return tmp_path_factory.mktemp("runs")


@pytest.fixture(scope="session")
def app_url(runs_dir: Path) -> Iterator[str]:
    """The app, started once for the whole browser suite (log: artifacts/e2e-server.log)."""
    with serve_app(runs_dir, ARTIFACTS / "e2e-server.log") as url:
        yield url


@pytest.fixture
def new_context(
    browser: Browser, request: pytest.FixtureRequest
) -> Iterator[Callable[[], BrowserContext]]:
    """Make fresh browser contexts (one per simulated student); all closed after the test.

    A failed test leaves a screenshot of each of its pages: artifacts/screenshots/FAILED-*.png.
    """
    contexts: list[BrowserContext] = []

    def make() -> BrowserContext:
        context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
        context.set_default_timeout(30_000)
        contexts.append(context)
        return context

    yield make
    report = getattr(request.node, "rep_call", None)
    failed = report is not None and report.failed
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name)
    pages = [page for context in contexts for page in context.pages]
    for i, page in enumerate(pages):
        if failed and not page.is_closed():
            suffix = f"-{i}" if len(pages) > 1 else ""
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(Exception):
                page.screenshot(path=str(SCREENSHOTS / f"FAILED-{name}{suffix}.png"))
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_context: Callable[[], BrowserContext]) -> Page:
    """A page in a fresh context (closed, and screenshot if the test failed, by new_context)."""
    return new_context().new_page()


@pytest.fixture(scope="session")
def app(app_url: str, browser: Browser, pytestconfig: pytest.Config) -> App:
    """The running app and the helpers the tests use on it.

    The home page is opened once first, so that the server's first script run (imports, caches)
    is not charged to whichever test happens to come first; test_e2e_pages.py checks a deep link
    as the very first session of a fresh server of its own.
    """
    target = pytestconfig.getoption("--screenshots-to")
    app = App(app_url, (ROOT / target).resolve() if target else None)
    context = browser.new_context(viewport=VIEWPORT)
    try:
        warm_up = context.new_page()
        warm_up.goto(app_url)
        app.wait_idle(warm_up)
    finally:
        context.close()
    return app


@pytest.fixture(scope="session", autouse=True)
def _fresh_screenshot_dir() -> None:
    """Start each session with an empty artifacts/screenshots (stale images mislead)."""
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
