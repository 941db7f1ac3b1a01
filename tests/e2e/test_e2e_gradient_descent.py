"""Gradient descent page in Chromium: plotly's 3D surface and path are drawn, and the course's
Adam(0.001) walks from the red point (1, 1) to the minimum (1, -1)."""

from __future__ import annotations

import math
import re

import pytest
from playwright.sync_api import Page, expect

from nn_core import course
from nn_core.basics.descent import steps_to_reach, trajectory
from tests.e2e.e2e_support import App

pytestmark = pytest.mark.e2e

ADAM = "Adam (lr 0.001)"


def course_steps() -> int:
    """Steps the course's Adam(0.001) needs to get within 0.01 of (1, -1), by nn_core."""
    path = trajectory("adam", course.DESCENT_START, course.DESCENT_INPUTS,
                      course.DESCENT_TARGETS, "mse", 20_000, 0.001)  # fmt: skip
    steps = steps_to_reach(path, course.DESCENT_MINIMUM, 0.01)
    assert steps is not None
    return steps


def test_surface_and_path_render(app: App, page: Page) -> None:
    app.open(page, "descent")
    charts = page.locator('[data-testid="stPlotlyChart"] .js-plotly-plot')
    expect(charts).to_have_count(3)
    surface = charts.first
    expect(surface.locator(".gl-container")).to_be_attached()  # plotly's WebGL 3D scene
    expect(surface.locator(".gl-container canvas").first).to_be_visible()
    traces = app.plotly_traces(surface)
    kinds = {t["type"] for t in traces}
    assert {"surface", "scatter3d"} <= kinds, kinds
    paths = [t for t in traces if t["type"] == "scatter3d" and t["name"] == ADAM]
    assert paths and len(paths[0]["x"]) == course.DESCENT_STEPS + 1
    assert (paths[0]["x"][0], paths[0]["y"][0]) == course.DESCENT_START
    expect(charts.nth(1).locator(".contour").first).to_be_attached()  # the contour map


@pytest.mark.screenshots
def test_course_preset_reaches_the_minimum(app: App, page: Page) -> None:
    app.open(page, "descent")
    page.get_by_role("button", name="Course settings: Adam(0.001)").click()
    needed = course_steps()
    expect(page.get_by_text("The course's Adam(0.001) needs")).to_contain_text(
        f"needs {needed} steps to get within 0.01 of the minimum (1, -1) from the start (1, 1)"
    )
    app.wait_idle(page)

    # Walk far enough for the course's optimizer to arrive, and scrub to the last step.
    total = math.ceil(needed / 1000) * 1000
    steps = app.number_input(page, "Steps")
    steps.fill(str(total))
    steps.press("Enter")
    scrubber = page.get_by_role("slider", name="Step (drag to walk along the paths)")
    expect(scrubber).to_have_attribute("max", str(total))
    app.wait_idle(page)
    scrubber.focus()
    scrubber.press("End")
    expect(scrubber).to_have_value(str(total))
    app.wait_idle(page)
    app.assert_no_errors(page)

    row = page.locator('[data-testid="stDataFrame"] [role="row"]').filter(has_text=ADAM)
    expect(row).to_contain_text(str(needed))  # steps to within 0.01
    final = re.search(r"\((-?\d\.\d+), (-?\d\.\d+)\)", row.inner_text())
    assert final, row.inner_text()
    assert math.dist((float(final[1]), float(final[2])), course.DESCENT_MINIMUM) < 0.01

    # The path plotly drew ends at the minimum, and the step marker sits on its end.
    traces = app.plotly_traces(page.locator(".js-plotly-plot").first)
    path = next(t for t in traces if t["name"] == ADAM)
    assert len(path["x"]) == total + 1
    assert math.dist((path["x"][-1], path["y"][-1]), course.DESCENT_MINIMUM) < 0.01
    minimum = next(t for t in traces if t["name"] == "minimum")
    assert (minimum["x"][0], minimum["y"][0]) == course.DESCENT_MINIMUM
    # The README's picture: the step count, the scrubber, the 3D surface and the contour map.
    page.get_by_text("The course's Adam(0.001) needs").evaluate(
        "el => el.scrollIntoView({block: 'start'})"
    )
    app.shot(page, "descent", readme=True)
