"""Browser fixtures: the real app on a free port, Debian's Chromium through Playwright, helpers.

The app runs as `python -m streamlit run app.py` in its own process group, training into a fresh
temporary NN_PLAYGROUND_RUNS, so the tests see what a student's browser sees. Every wait is a
Playwright `expect(...)` wait on what is on the page, never a fixed sleep.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts"  # git-ignored
SCREENSHOTS = ARTIFACTS / "screenshots"
SERVER_LOG = ARTIFACTS / "e2e-server.log"

CHROMIUM = Path(os.environ.get("NN_PLAYGROUND_CHROMIUM", "/usr/bin/chromium"))
# Playwright itself adds --headless, --no-sandbox (no chromiumSandbox), --disable-background-
# networking and --disable-component-update; they are repeated so the launch does not depend on
# Playwright's defaults. --disable-gpu and --disable-sync are ours alone.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
INSTALL_HINT = (
    f"Chromium is missing at {CHROMIUM}: the browser tests need Debian's chromium package. "
    "Install it with `apt-get install chromium` (or `make chromium`, which `make test` runs), "
    "or point NN_PLAYGROUND_CHROMIUM at a Chromium binary."
)

VIEWPORT = {"width": 1400, "height": 1000}
STARTUP_TIMEOUT_S = 90
RUN_TIMEOUT_MS = 60_000  # one script run of a page, first load of the digit page included
ERROR_SELECTORS = '[data-testid="stException"], [data-testid="stAlertContentError"]'

# Stable URLs of the pages (url_path in app.py) and their titles in the navigation.
PAGES = {
    "": "Home",
    "forward": "Forward pass",
    "curves": "Activations and losses",
    "descent": "Gradient descent",
    "digits": "Draw a digit",
}


def pytest_addoption(parser: pytest.Parser) -> None:
    """--screenshots-to DIR: also write the README's screenshots there (docs/screenshots)."""
    parser.addoption(
        "--screenshots-to",
        metavar="DIR",
        default=None,
        help="also save the README's screenshots (taken by tests marked 'screenshots') to DIR",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Declare the marker of the tests that take the README's screenshots (`make screenshots`)."""
    config.addinivalue_line(
        "markers", "screenshots: browser tests that take the README's screenshots"
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> object:
    """Keep each phase's report on the item, so the page fixture can screenshot a failure."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def _free_port() -> int:
    """A TCP port that is free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _healthy(url: str) -> bool:
    """True when Streamlit's health endpoint answers 200 ok."""
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop the server and its training workers: SIGTERM to the group, then SIGKILL."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=15)
    # Workers the server spawned live in its process group; none may outlive the tests.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def runs_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clean NN_PLAYGROUND_RUNS for the app under test (trained models land here)."""
    return tmp_path_factory.mktemp("runs")


@pytest.fixture(scope="session")
def app_url(runs_dir: Path) -> Iterator[str]:
    """Start `streamlit run app.py` on a free localhost port; yield its URL; stop it after."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "NN_PLAYGROUND_RUNS": str(runs_dir),
        "NN_PLAYGROUND_MAX_JOBS": "1",
        "PYTHONUNBUFFERED": "1",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "CUDA_VISIBLE_DEVICES": "",
    }
    command = [
        sys.executable, "-m", "streamlit", "run", "app.py",
        "--server.headless", "true",
        "--server.port", str(port),
        "--server.address", "127.0.0.1",
        "--server.fileWatcherType", "none",
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    ARTIFACTS.mkdir(exist_ok=True)
    with SERVER_LOG.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not _healthy(url):
            if process.poll() is not None:
                pytest.fail(f"the app exited with {process.returncode}:\n{_log_tail()}")
            if time.monotonic() > deadline:
                pytest.fail(f"the app was not healthy after {STARTUP_TIMEOUT_S} s:\n{_log_tail()}")
            time.sleep(0.2)  # polling a subprocess's health endpoint, not a page
        yield url
    finally:
        _stop(process)


def _log_tail(lines: int = 40) -> str:
    """The end of the app's log, for failure messages."""
    text = SERVER_LOG.read_text(errors="replace") if SERVER_LOG.exists() else ""
    return "\n".join(text.splitlines()[-lines:])


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless. Missing Chromium fails the tests (never a skip)."""
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(INSTALL_HINT, pytrace=False)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_context(browser: Browser) -> Iterator[Callable[[], BrowserContext]]:
    """Make fresh browser contexts (one per simulated student); all closed after the test."""
    contexts: list[BrowserContext] = []

    def make() -> BrowserContext:
        context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
        context.set_default_timeout(30_000)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(
    new_context: Callable[[], BrowserContext], request: pytest.FixtureRequest
) -> Iterator[Page]:
    """A page in a fresh context; a failed test leaves a screenshot in artifacts/screenshots."""
    page = new_context().new_page()
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed and not page.is_closed():
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        name = "".join(c if c.isalnum() else "-" for c in request.node.name)
        with contextlib.suppress(Exception):
            page.screenshot(path=str(SCREENSHOTS / f"FAILED-{name}.png"), full_page=True)


class App:
    """What a test does with the running app: open pages, wait for runs, check, screenshot."""

    def __init__(self, url: str, readme_dir: Path | None) -> None:
        self.url = url
        self.readme_dir = readme_dir

    def open(self, page: Page, path: str = "") -> None:
        """Go to a page by URL (a new Streamlit session), wait for its run, check for errors."""
        page.goto(f"{self.url}/{path}")
        self.wait_idle(page)
        self.assert_no_errors(page)

    def navigate(self, page: Page, title: str) -> None:
        """Switch pages through the sidebar, as a student does (the session is kept)."""
        page.locator('[data-testid="stSidebarNav"] a').filter(has_text=title).click()
        expect(page.locator("h1").first).to_be_visible()
        self.wait_idle(page)
        self.assert_no_errors(page)

    def wait_idle(self, page: Page, timeout: float = RUN_TIMEOUT_MS) -> None:
        """Wait until Streamlit has finished running the script (the app is idle)."""
        expect(page.locator('[data-testid="stApp"]')).to_have_attribute(
            "data-test-script-state", "notRunning", timeout=timeout
        )

    def assert_no_errors(self, page: Page) -> None:
        """No exception box and no error alert is on the page."""
        errors = page.locator(ERROR_SELECTORS)
        texts = errors.all_inner_texts()
        assert not texts, f"error on {page.url}: {texts}\n--- app log ---\n{_log_tail()}"

    def shot(self, page: Page, name: str, *, readme: bool = False, full_page: bool = True) -> Path:
        """Save a screenshot to artifacts/screenshots; with readme, also to --screenshots-to."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page, animations="disabled")
        if readme and self.readme_dir is not None:
            self.readme_dir.mkdir(parents=True, exist_ok=True)
            # The README shows the first screen a student sees, not the whole scrolled page.
            page.screenshot(path=str(self.readme_dir / f"{name}.png"), animations="disabled")
        return path

    @staticmethod
    def number_input(page: Page, label: str) -> Locator:
        """The <input> of the st.number_input whose label is exactly `label`."""
        widget = page.locator('[data-testid="stNumberInput"]').filter(
            has=page.get_by_text(label, exact=True)
        )
        return widget.locator("input")


@pytest.fixture(scope="session")
def app(app_url: str, pytestconfig: pytest.Config) -> App:
    """The running app and the helpers the tests use on it."""
    target = pytestconfig.getoption("--screenshots-to")
    readme_dir = (ROOT / target).resolve() if target else None
    return App(app_url, readme_dir)


@pytest.fixture(scope="session", autouse=True)
def _fresh_screenshot_dir() -> None:
    """Start each session with an empty artifacts/screenshots (stale images mislead)."""
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
