"""The Russian interface in Chromium: ``?lang=ru`` opens a page in Russian, and the sidebar's
language switch changes the language and keeps it after a page switch."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.e2e_support import App

pytestmark = pytest.mark.e2e


def switch_to(page: Page, language: str) -> None:
    """Click a language in the sidebar's switch."""
    page.locator('[data-testid="stSidebar"] [data-testid="stButtonGroup"]').get_by_text(
        language, exact=True).click()


@pytest.mark.screenshots
def test_forward_page_opens_in_russian_from_the_link(app: App, page: Page) -> None:
    page.goto(f"{app.url}/forward?lang=ru")
    app.wait_idle(page)
    expect(page.locator("h1").first).to_have_text("Прямое распространение в сети 2-2-1")
    expect(page.get_by_role("button", name="Один шаг обучения")).to_be_visible()
    expect(page.get_by_text("Функция потерь", exact=True).first).to_be_visible()
    nav = page.locator('[data-testid="stSidebarNav"]')
    expect(nav.get_by_text("Градиентный спуск")).to_be_visible()
    app.assert_no_errors(page)
    app.shot(page, "russian_forward", readme=True)


def test_the_switch_changes_the_language_and_keeps_it_across_pages(app: App,
                                                                    page: Page) -> None:
    page.goto(f"{app.url}/forward")
    app.wait_idle(page)
    expect(page.locator("h1").first).to_have_text("Forward pass of a 2-2-1 network")
    switch_to(page, "Русский")
    expect(page.locator("h1").first).to_have_text("Прямое распространение в сети 2-2-1")
    app.wait_idle(page)
    page.locator('[data-testid="stSidebarNav"] a').filter(has_text="Градиентный спуск").click()
    expect(page.locator("h1").first).to_have_text("Градиентный спуск по поверхности ошибки")
    app.wait_idle(page)
    switch_to(page, "English")
    expect(page.locator("h1").first).to_have_text("Gradient descent over the error surface")
