import pytest
pytestmark = pytest.mark.e2e
def test_home(app, page):
    app.open(page, "")
    app.shot(page, "home")
    print(page.locator("body").inner_text())
