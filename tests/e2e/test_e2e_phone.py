"""A phone (390×844, touch, a phone's User-Agent): a swipe that starts on any chart scrolls the
page, the forward diagram fits the screen, the gradient table fits and nothing covers Reset.

Swipes are real touch events (CDP Input.dispatchTouchEvent: start on the chart, move up 250 px,
end); the page has scrolled when the scrolling element's scrollTop grew.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, CDPSession, Page, expect
from playwright.sync_api import Error as PlaywrightError

from tests.e2e.e2e_support import App

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
# Playwright's "iPhone 13" User-Agent: the server tells a phone by it (ui.common.charts).
IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 15_0 like Mac OS X) AppleWebKit/605.1.15 "
          "(KHTML, like Gecko) Version/15.0 Mobile/15E148 Safari/604.1")
PAGES = ("forward", "curves", "descent", "digits", "convolution")
# Everything that scrolls: the window and Streamlit's scrolling main section.
SCROLLED = "() => [window, ...document.querySelectorAll('*')].reduce((s, e) => " \
           "s + (e === window ? window.scrollY : e.scrollTop), 0)"


@pytest.fixture
def phone(browser: Browser) -> Iterator[Callable[[], Page]]:
    """Fresh phone contexts (Playwright's iPhone 13 in Chromium), closed after the test."""
    contexts: list[BrowserContext] = []

    def make() -> Page:
        context = browser.new_context(
            viewport=PHONE, device_scale_factor=1, has_touch=True, is_mobile=True,
            user_agent=IPHONE)
        context.set_default_timeout(30_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def swipe_up(cdp: CDPSession, x: float, y: float, distance: float = 250) -> None:
    """A finger put down at (x, y), moved up by ``distance`` px in 10 steps, lifted."""
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
    for k in range(1, 11):
        cdp.send("Input.dispatchTouchEvent",
                 {"type": "touchMove", "touchPoints": [{"x": x, "y": y - distance * k / 10}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


@pytest.mark.parametrize("path", PAGES)
def test_a_swipe_on_every_chart_scrolls_the_page(app: App, phone: Callable[[], Page],
                                                 path: str) -> None:
    page = phone()
    app.open(page, path)
    charts = page.locator('[data-testid="stPlotlyChart"]')
    expect(charts.first.locator(".main-svg").first).to_be_attached()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    cdp = page.context.new_cdp_session(page)
    count = charts.count()
    assert count >= 1
    for i in range(count):
        chart = charts.nth(i)
        chart.scroll_into_view_if_needed()
        box = chart.bounding_box()
        assert box is not None and box["height"] > 50, (path, i)
        # a point on the chart, low enough on the screen for the finger to move up 250 px
        x = box["x"] + box["width"] / 2
        y = min(max(box["y"] + box["height"] / 2, 300.0), PHONE["height"] - 40.0)
        if not box["y"] <= y <= box["y"] + box["height"]:
            chart.evaluate("e => e.scrollIntoView({block: 'end'})")
            box = chart.bounding_box()
            y = box["y"] + box["height"] - 20
        hit = page.evaluate("([x, y]) => !!document.elementFromPoint(x, y)"
                            ".closest('[data-testid=stPlotlyChart]')", [x, y])
        assert hit, f"{path}: chart {i} is not under the finger"
        before = page.evaluate(SCROLLED)
        swipe_up(cdp, x, y)
        page.wait_for_function(f"() => ({SCROLLED})() > {before}", timeout=5_000)
    # at a phone's width too, every chart drawn in one pass (its margins hold what plotly
    # places: the surface's legend wraps onto a second row)
    assert app.margins_grown(page) == []  # (index, declared, drawn) of each that grew
    app.assert_no_errors(page)


def test_the_forward_diagram_fits_and_the_table_leaves_reset_free(
        app: App, phone: Callable[[], Page]) -> None:
    page = phone()
    app.open(page, "forward")
    diagram = page.locator(".st-key-fwd_diagram")
    expect(diagram.locator(".main-svg").first).to_be_attached()
    diagram.scroll_into_view_if_needed()
    frame = diagram.locator(".main-svg").first.bounding_box()
    texts = diagram.locator(".annotation-text, .textpoint text")
    assert texts.count() >= 10  # 6 weights, 5 nodes' names, their values, target and loss
    for i in range(texts.count()):
        box = texts.nth(i).bounding_box()
        assert box is not None
        assert frame["x"] - 0.5 <= box["x"] and box["x"] + box["width"] <= \
            frame["x"] + frame["width"] + 0.5, texts.nth(i).text_content()
    # the gradient table is a plain table on a phone: all its columns on screen, no toolbar
    table = page.locator('[data-testid="stTable"]').first
    table.scroll_into_view_if_needed()
    box = table.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    inner = table.evaluate("e => [e.scrollWidth, e.clientWidth]")
    assert inner[0] <= inner[1] + 1, inner
    reset = page.get_by_role("button", name="Reset to the lesson's example")
    reset.tap()  # nothing lies over it: Playwright's tap checks the hit target
    app.wait_idle(page)
    app.assert_no_errors(page)


def test_the_surface_turns_by_finger_only_when_asked(app: App,
                                                     phone: Callable[[], Page]) -> None:
    page = phone()
    app.open(page, "descent")
    toggle = page.get_by_role("switch", name="Turn the surface with a finger")
    expect(toggle).not_to_be_checked()
    surface = page.locator(".st-key-gd_surface")
    surface.scroll_into_view_if_needed()
    box = surface.bounding_box()
    centre = [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2]
    on_canvas = ("([x, y]) => !!document.elementFromPoint(x, y).closest('.gl-container')")
    assert not page.evaluate(on_canvas, centre)  # a touch there reaches no WebGL canvas
    page.get_by_text("Turn the surface with a finger").tap()
    expect(toggle).to_be_checked()
    app.wait_idle(page)
    # The chart is mounted anew with its new config: wait for its WebGL canvas, then find it
    # again if Streamlit swaps the element while it scrolls (a rerun's final paint).
    expect(surface.locator(".gl-container").first).to_be_attached()
    for attempt in range(3):
        try:
            surface.scroll_into_view_if_needed(timeout=10_000)
            break
        except PlaywrightError:
            if attempt == 2:
                raise
            app.wait_idle(page)
    box = surface.bounding_box()
    centre = [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2]
    page.wait_for_function(f"() => ({on_canvas})({centre})")  # now the finger turns it
