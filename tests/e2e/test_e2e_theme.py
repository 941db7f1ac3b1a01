"""Dark mode follows the system, figures follow the theme, and the downloads work: the forward
diagram's mode bar saves a PNG, the Keras code comes as a valid notebook of the page's script."""

from __future__ import annotations

from collections.abc import Callable

import nbformat
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.e2e.e2e_support import VIEWPORT, App

pytestmark = pytest.mark.e2e

LUMINANCE = """e => { const c = getComputedStyle(e).backgroundColor.match(/[\\d.]+/g).map(Number);
  return c.length > 3 && c[3] === 0 ? -1 : 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]; }"""


def page_in(browser: Browser, scheme: str, contexts: list[BrowserContext]) -> Page:
    context = browser.new_context(viewport=VIEWPORT, color_scheme=scheme, accept_downloads=True)
    contexts.append(context)
    return context.new_page()


@pytest.fixture
def pages(browser: Browser) -> Callable[[str], Page]:
    contexts: list[BrowserContext] = []
    yield lambda scheme: page_in(browser, scheme, contexts)
    for context in contexts:
        context.close()


@pytest.mark.parametrize("scheme", ["dark", "light"])
def test_the_page_and_its_figures_follow_the_system_theme(
        app: App, pages: Callable[[str], Page], scheme: str) -> None:
    page = pages(scheme)
    app.open(page, "forward")
    diagram = page.locator(".st-key-fwd_diagram .main-svg").first
    expect(diagram).to_be_attached()
    body = page.locator('[data-testid="stApp"]').evaluate(LUMINANCE)
    paper = diagram.evaluate(LUMINANCE)  # plotly paints layout.paper_bgcolor on its <svg>
    label = page.locator(".st-key-fwd_diagram .annotation-text").filter(has_text="target")
    text = label.first.evaluate(
        "e => { const c = getComputedStyle(e).fill.match(/[\\d.]+/g).map(Number);"
        " return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]; }")
    if scheme == "dark":
        assert body < 60 and paper < 60, (body, paper)
        assert text > 150, text  # the diagram's labels turn light
    else:
        assert body > 200 and paper > 200, (body, paper)
        assert text < 100, text
    app.assert_no_errors(page)


def test_the_forward_diagram_downloads_as_png(app: App, pages: Callable[[str], Page]) -> None:
    page = pages("light")
    app.open(page, "forward")
    chart = page.locator(".st-key-fwd_diagram")
    expect(chart.locator(".main-svg").first).to_be_attached()
    chart.hover()
    button = chart.locator('.modebar-btn[data-title="Download plot as a png"], '
                           '.modebar-btn[data-title="Download plot as a PNG"]').first
    with page.expect_download() as info:
        button.click()
    download = info.value
    assert download.suggested_filename == "forward-diagram.png"
    with open(download.path(), "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_the_keras_code_downloads_as_a_valid_notebook(app: App,
                                                      pages: Callable[[str], Page]) -> None:
    page = pages("light")
    app.open(page, "forward")
    expander = page.locator('[data-testid="stExpander"]').filter(
        has_text="Keras code that reproduces these numbers")
    expander.get_by_text("Keras code that reproduces these numbers").click()
    shown = expander.locator('[data-testid="stCode"] code').first
    expect(shown).to_be_visible()
    with page.expect_download() as info:
        page.get_by_role("button", name="Download as a Jupyter notebook (.ipynb)").click()
    download = info.value
    assert download.suggested_filename == "forward_pass.ipynb"
    nb = nbformat.read(download.path(), as_version=4)
    nbformat.validate(nb)
    assert nb.cells[-1].source.strip() == shown.inner_text().strip()
    with page.expect_download() as info:
        page.get_by_role("button", name="Download as a Python script (.py)").click()
    with open(info.value.path(), encoding="utf-8") as f:
        assert f.read() == nb.cells[-1].source
