"""Shareable state and lesson links in Chromium (issue 11): a state changed on each page is in
its address, and that address opens the same state in a new browser context (another
student's browser); a lesson link hides and fixes controls and says when its task is solved."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlencode

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.e2e_support import App

pytestmark = pytest.mark.e2e


def _fill(app: App, page: Page, label: str, value: str) -> None:
    field = app.number_input(page, label).first
    field.fill(value)
    field.press("Enter")


# page: (change a control as a student does, the query text it leaves, check it in a new page)
CHANGES: dict[str, tuple[Callable[[App, Page], None], str, Callable[[App, Page], None]]] = {
    "forward": (lambda app, p: _fill(app, p, "w5 (exact)", "0.5"), "w5=0.5",
                lambda app, p: expect(app.number_input(p, "w5 (exact)")).to_have_value("0.5")),
    "descent": (lambda app, p: app.choose(p, "Loss", "mae"), "loss=mae",
                lambda app, p: expect(p.get_by_role("combobox", name="Loss")).to_have_value(
                    "mae")),
    "curves": (lambda app, p: _fill(app, p, "At prediction", "1.25"), "reg_prediction=1.25",
               lambda app, p: expect(app.number_input(p, "At prediction").first)
               .to_have_value("1.25")),
    "convolution": (lambda app, p: _fill(app, p, "Bias b", "0.5"), "bias=0.5",
                    lambda app, p: expect(app.number_input(p, "Bias b")).to_have_value("0.5")),
    "digits": (lambda app, p: _fill(app, p, "Test digit by index", "7"), "mnist_index=7",
               lambda app, p: expect(app.number_input(p, "Test digit by index"))
               .to_have_value("7")),
}


@pytest.mark.parametrize("path", list(CHANGES))
def test_a_changed_state_opens_from_its_address_in_another_browser(
        app: App, new_context: Callable[[], BrowserContext], path: str) -> None:
    change, query, check = CHANGES[path]
    page = new_context().new_page()
    app.open(page, path)
    change(app, page)
    page.wait_for_url(re.compile(re.escape(query)))
    app.wait_idle(page)
    address = page.url
    other = new_context().new_page()  # a new browser context: nothing shared but the address
    other.goto(address)
    app.wait_idle(other)
    check(app, other)
    app.assert_no_errors(other)
    expect(other).to_have_url(re.compile(re.escape(query)))


def test_a_lesson_link_hides_fixes_and_checks_its_task(app: App, page: Page) -> None:
    query = urlencode({"w6": "0", "lock": "w1,w2,w3,w4,x1,x2,target,w6", "hide": "lr,loss",
                       "task": "target"}, safe=",")
    page.goto(f"{app.url}/forward?{query}")
    app.wait_idle(page)
    expect(page.get_by_text("Your teacher prepared this page")).to_be_visible()
    expect(app.number_input(page, "w1 (exact)")).to_be_disabled()
    expect(app.number_input(page, "w5 (exact)")).to_be_enabled()
    expect(page.get_by_role("combobox", name="Loss")).to_have_count(0)  # hidden
    expect(app.number_input(page, "Learning rate lr")).to_have_count(0)
    expect(page.get_by_text("Prepare a lesson link")).to_have_count(0)  # no teacher tools
    task = page.locator(".st-key-fwd_task_box")
    expect(task).to_contain_text("Not yet")
    # N1 = 2.154 and w6 = 0 (fixed): Y = 2.154·w5 reaches the target 0.34 near w5 = 0.1578.
    _fill(app, page, "w5 (exact)", "0.1578")
    expect(task).to_contain_text("Solved!")
    app.wait_idle(page)
    app.assert_no_errors(page)
    expect(page).to_have_url(re.compile("task=target"))
    app.shot(page, "lesson-link", readme=False)


@pytest.mark.screenshots
def test_screenshot_of_a_teacher_preparing_a_lesson_link(app: App, page: Page) -> None:
    """README: the teacher tools on /descent, and what the link opens for the students."""
    app.open(page, "descent")
    page.get_by_text("Prepare a lesson link (teacher tools)").click()
    app.choose(page, "Task for the students", "Find a learning rate at which plain SGD diverges.")
    code = page.locator('[data-testid="stCode"]').last
    expect(code).to_contain_text("task=diverge")
    link = code.inner_text().strip()
    student = page.context.new_page()
    student.goto(link.replace("task=diverge", "lock=loss,data&hide=scale&task=diverge"))
    app.wait_idle(student)
    expect(student.get_by_text("Not yet")).to_be_visible()
    expect(student.locator(".js-plotly-plot").first).to_be_visible()
    app.wait_idle(student)
    student.locator(".st-key-gd_task_box").scroll_into_view_if_needed()
    app.shot(student, "lesson-link", readme=True)
