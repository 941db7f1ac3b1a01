"""Every page opens in Chromium with no exception, no error box and its plotly charts drawn."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.e2e_support import PAGE_CHARTS, PAGES, App, serve_app

pytestmark = pytest.mark.e2e

NAMES = {"": "home", "forward": "forward", "curves": "curves", "descent": "descent-default",
         "digits": "digits-blank", "convolution": "convolution"}  # fmt: skip
README = ("forward", "curves")  # the README's other pictures come from the descent and digit tests


@pytest.mark.screenshots
@pytest.mark.parametrize("path", list(PAGES), ids=[NAMES[p] for p in PAGES])
def test_page_opens_without_errors(app: App, page: Page, path: str) -> None:
    app.open(page, path)
    charts = page.locator('[data-testid="stPlotlyChart"] .js-plotly-plot')
    expect(charts).to_have_count(PAGE_CHARTS[path])
    for chart in charts.all():  # each one drawn
        expect(chart.locator(".main-svg").first).to_be_attached()
    app.assert_no_errors(page)
    app.shot(page, NAMES[path], readme=path in README)


def test_home_links_every_page(app: App, page: Page) -> None:
    app.open(page, "")
    main = page.locator('[data-testid="stMain"]')
    for title, _ in list(PAGES.values())[1:]:
        expect(main.get_by_role("link", name=title)).to_be_visible()
    app.navigate(page, "curves")
    app.navigate(page, "")


def test_deep_link_on_a_freshly_started_server(
    tmp_path: Path, new_context: Callable[[], BrowserContext]
) -> None:
    """The first student of a class may arrive through a link to a page, not the home page.

    Streamlit runs a server's first session in its old pages-directory mode when a folder named
    ``pages/`` sits next to app.py, and a deep link then shows 'Page not found' over an inert
    page; that is why the page scripts live in ``lessons/``.
    """
    with serve_app(tmp_path / "runs", tmp_path / "server.log") as url:
        page = new_context().new_page()
        page.goto(f"{url}/forward")
        App.wait_idle(page)
        expect(page.locator("h1").first).to_have_text(PAGES["forward"][1])
        dialog = page.locator('[role="dialog"]').filter(has_text="Page not found")
        expect(dialog).to_have_count(0, timeout=5_000)  # the run is over: no waiting needed


@pytest.mark.parametrize("path", [p for p in PAGES if PAGE_CHARTS[p]])
def test_every_chart_fits_its_margins_in_one_pass(app: App, page: Page, path: str) -> None:
    """Plotly grows a margin too small for what it places there (ticks, titles, a legend, a
    colour bar), then draws the whole chart a second time (the walk's drawing took 270 instead
    of 100 ms in Chromium here). Every chart declares margins that already hold it: drawn,
    every margin is still the declared one."""
    app.open(page, path)
    expect(page.locator('[data-testid="stPlotlyChart"] .js-plotly-plot')).to_have_count(
        PAGE_CHARTS[path])
    assert app.margins_grown(page) == []  # (index, declared, drawn) of each that grew
