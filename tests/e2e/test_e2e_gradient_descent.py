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
from ui.descent.figures import MAX_PATH_POINTS

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
    expect(charts).to_have_count(2)  # the 3D surface, and the walk (map and loss per step)
    surface = charts.first
    expect(surface.locator(".gl-container")).to_be_attached()  # plotly's WebGL 3D scene
    expect(surface.locator(".gl-container canvas").first).to_be_visible()
    traces = app.plotly_traces(surface)
    kinds = {t["type"] for t in traces}
    assert {"surface", "scatter3d"} <= kinds, kinds
    paths = [t for t in traces if t["type"] == "scatter3d" and t["name"] == ADAM]
    # drawn with at most MAX_PATH_POINTS points, from the start to the last step
    assert paths and 2 <= len(paths[0]["x"]) <= MAX_PATH_POINTS
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
    final = re.search(r"\((-?\d+(?:\.\d+)?), (-?\d+(?:\.\d+)?)\)", row.inner_text())
    assert final, row.inner_text()
    assert math.dist((float(final[1]), float(final[2])), course.DESCENT_MINIMUM) < 0.01

    # The path plotly drew ends at the minimum, and the step marker sits on its end.
    traces = app.plotly_traces(page.locator(".js-plotly-plot").first)
    path = next(t for t in traces if t["name"] == ADAM)
    assert len(path["x"]) <= MAX_PATH_POINTS
    assert math.dist((path["x"][-1], path["y"][-1]), course.DESCENT_MINIMUM) < 0.01
    minimum = next(t for t in traces if t["name"] == "minimum")
    assert (minimum["x"][0], minimum["y"][0]) == course.DESCENT_MINIMUM
    # The README's picture: the step count, the scrubber, the 3D surface and the contour map.
    page.get_by_text("The course's Adam(0.001) needs").evaluate(
        "el => el.scrollIntoView({block: 'start'})"
    )
    app.shot(page, "descent", readme=True)


# The walk chart's own frames, ball positions and slider, read from plotly in the page.
WALK_STATE = """el => ({
    active: el._fullLayout.sliders[0].active,
    frames: el._transitionData._frames.map(f => f.name),
    balls: el._fullData.filter(t => t.mode === "markers" && t.showlegend === false)
        .map(t => [Array.from(t.x), Array.from(t.y), t.xaxis + t.yaxis, t.type]),
})"""

STEP_TO = """async (el, name) => {
    const t0 = performance.now();
    await Plotly.animate(el, [name], {mode: "immediate", frame: {duration: 0, redraw: false},
                                       transition: {duration: 0}});
    await new Promise(r => requestAnimationFrame(() => r()));
    return performance.now() - t0;
}"""


def test_play_and_scrub_walk_the_balls_in_the_browser(app: App, page: Page) -> None:
    """Issue 9: the walk plays, pauses and scrubs without the server (no rerun)."""
    app.open(page, "descent")
    walk = page.locator('[data-testid="stPlotlyChart"] .js-plotly-plot').nth(1)
    expect(walk.get_by_text("▶ Play")).to_be_visible()
    start = walk.evaluate(WALK_STATE)
    assert start["frames"][0] == "0" and start["frames"][-1] == str(course.DESCENT_STEPS)
    assert start["active"] == len(start["frames"]) - 1  # it opens at the last step
    adam = trajectory("adam", course.DESCENT_START, course.DESCENT_INPUTS,
                      course.DESCENT_TARGETS, "mse", course.DESCENT_STEPS, 0.001)

    # Scrub: a click at the slider's left end puts every ball back at the start.
    rail = walk.locator(".slider-rail-touch-rect").first
    rail.scroll_into_view_if_needed()
    box = rail.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + 3, box["y"] + box["height"] / 2)
    page.wait_for_function("el => el._fullLayout.sliders[0].active === 0",
                           arg=walk.element_handle(), timeout=10_000)
    balls = walk.evaluate(WALK_STATE)["balls"]
    assert balls[0][0][0] == pytest.approx(course.DESCENT_START[0], abs=1e-5)

    # Play: the balls roll forward frame by frame until the end (or Pause).
    app.shot(page, "descent-walk-start")
    walk.get_by_text("▶ Play").click()
    page.wait_for_function("el => el._fullLayout.sliders[0].active > 3",
                           arg=walk.element_handle(), timeout=30_000)
    walk.get_by_text("⏸ Pause").click()
    paused = walk.evaluate(WALK_STATE)
    step = int(paused["frames"][paused["active"]])
    page.wait_for_timeout(500)
    assert walk.evaluate(WALK_STATE)["active"] == paused["active"]  # paused stays put
    on_map, on_loss = paused["balls"][:2]  # Adam's two balls
    assert on_map[0][0] == pytest.approx(adam.weights[step, 0], abs=2e-3)
    assert on_map[2:] == ["xy", "scatter"]
    # The frames move only x and y: the loss chart's ball keeps its own axes and type.
    assert on_loss[0] == [step] and on_loss[2:] == ["x2y2", "scatter"]
    assert on_loss[1][0] == pytest.approx(adam.losses[step], rel=1e-4)

    # A step of the animation, timed in this machine's Chromium (printed, not asserted).
    times = [walk.evaluate(STEP_TO, name) for name in paused["frames"][::10]]
    times.sort()
    print(f"\nwalk animation step in Chromium: median {times[len(times) // 2]:.1f} ms, "
          f"max {times[-1]:.1f} ms over {len(times)} steps")
    app.assert_no_errors(page)
