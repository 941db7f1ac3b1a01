"""The descent page's figures: valid plotly specs, decimated paths, and the browser animation."""

from __future__ import annotations

import base64
import json

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest

from nn_core import course
from nn_core.basics.descent import error_surface, trajectories
from nn_core.basics.optimizers import Run
from tests.support import assert_valid_spec
from ui.descent import figures

X, Y = np.array(course.DESCENT_INPUTS), np.array(course.DESCENT_TARGETS)


@pytest.fixture(scope="module")
def setup() -> tuple:
    """The lesson's surface and three paths: Adam(0.001), SGD(0.01) and a diverging SGD(2.5)."""
    w1, w2, z = error_surface(X, Y, "mse", course.DESCENT_RANGE, 61)
    runs = [Run("adam", 0.001), Run("sgd", 0.01), Run("sgd", 2.5)]
    paths = trajectories(runs, course.DESCENT_START, X, Y, "mse", course.DESCENT_STEPS)
    traces = [figures.PathTrace(f"p{i}", p.weights, p.losses, p.diverged_at)
              for i, p in enumerate(paths)]
    return w1, w2, z, traces


def _validated(fig: go.Figure) -> dict:
    """The spec as the browser gets it, after checking plotly accepts every property of it."""
    assert_valid_spec(fig)  # the validation skipped at run time, frames included
    return fig.to_dict()  # arrays stay NumPy here (typed arrays on the wire)


def _arr(value: object) -> np.ndarray:
    """An array of a spec: plotly writes NumPy arrays as typed arrays {"dtype", "bdata"}."""
    if isinstance(value, dict) and "bdata" in value:
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
    return np.asarray(value)


def _bowl() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    axis = np.linspace(-1.5, 1.5, 7)
    w1, w2 = np.meshgrid(axis, axis)
    return axis, axis, ((w1 - 1) ** 2 + (w2 + 1) ** 2) / 2


def test_paths_are_drawn_inside_the_plot_and_divergence_is_labelled() -> None:
    w1, w2, z = _bowl()
    good = figures.PathTrace("Adam", np.array([[1, 1], [1, 0], [1, -1]]), np.array([2., .5, 0.]))
    bad = figures.PathTrace("SGD", np.array([[1, 1], [1, -4], [1, 3.5]]), np.array([2, 4.5, 3]),
                            diverged_at=3)
    surface = _validated(figures.surface_figure(w1, w2, z, [good, bad], step=1,
                                                start=(1, 1, 2), minimum=(1, -1, 0)))
    assert surface["data"][0]["type"] == "surface"
    lines = [t for t in surface["data"] if t["type"] == "scatter3d" and t["mode"] == "lines"]
    assert [t["name"] for t in lines] == ["SGD", "Adam"]  # the first path drawn last, on top
    assert len(_arr(lines[0]["x"])) == 1  # SGD: its point inside the box
    assert len(_arr(lines[1]["x"])) == 3
    assert any(t.get("text") == ["diverged"] for t in surface["data"])
    adam_ball = [t for t in surface["data"] if t.get("mode") == "markers+text"][-1]
    assert (adam_ball["x"], adam_ball["y"]) == ([1.0], [0.0])  # step 1 of Adam
    walk = _validated(figures.walk_figure(w1, w2, z, [good, bad], steps=2, start=(1, 1),
                                          minimum=(1, -1)))
    assert walk["data"][0]["type"] == "contour"
    maps = {t["name"]: len(_arr(t["x"])) for t in walk["data"]
            if t.get("mode") == "lines" and t.get("xaxis") in (None, "x")}
    assert maps == {"Adam": 3, "SGD": 2}  # SGD up to the plot's edge
    assert any("SGD: diverged" in a["text"] for a in walk["layout"]["annotations"])


def test_a_converging_path_that_leaves_the_plot_keeps_its_ball_on_the_path() -> None:
    w1, w2, z = _bowl()
    out_and_back = figures.PathTrace("momentum", np.array([[1, 1], [1, -2], [1, -1]]),
                                     np.ones(3))
    walk = _validated(figures.walk_figure(w1, w2, z, [out_and_back], steps=2))
    last = next(f for f in walk["frames"] if f["name"] == "2")
    assert (list(last["data"][0]["x"]), list(last["data"][0]["y"])) == ([1.0], [-1.0])


def test_display_indices_keep_the_ends_and_at_most_the_limit() -> None:
    assert figures.display_indices(5).tolist() == [0, 1, 2, 3, 4]
    keep = figures.display_indices(5001)
    assert keep[0] == 0 and keep[-1] == 5000 and len(keep) <= figures.MAX_PATH_POINTS
    assert np.all(np.diff(keep) > 0)
    at = figures.frame_steps(5000)
    assert at[0] == 0 and at[-1] == 5000 and len(at) <= figures.MAX_FRAMES + 1
    assert figures.frame_steps(3) == [0, 1, 2, 3]


def test_surface_figure_is_valid_and_its_ball_sits_at_the_step(setup) -> None:
    w1, w2, z, traces = setup
    spec = _validated(figures.surface_figure(w1, w2, z, traces, step=10,
                                             start=(1.0, 1.0, 2.0), minimum=(1.0, -1.0, 0.0)))
    adam_line = next(t for t in spec["data"] if t.get("name") == "p0")
    assert len(_arr(adam_line["x"])) <= figures.MAX_PATH_POINTS  # decimated
    assert adam_line["x"]["dtype"] == "f4"  # float32 on the wire
    balls = [t for t in spec["data"] if t.get("mode") == "markers+text"]
    adam_ball = balls[-1]  # paths are drawn in reverse, so the first path's ball comes last
    assert adam_ball["x"] == [pytest.approx(float(traces[0].weights[10, 0]))]
    assert adam_ball["y"] == [pytest.approx(float(traces[0].weights[10, 1]))]


def test_walk_figure_frames_move_each_ball_along_its_path(setup) -> None:
    w1, w2, z, traces = setup
    fig = figures.walk_figure(w1, w2, z, traces, steps=course.DESCENT_STEPS,
                              start=course.DESCENT_START, minimum=course.DESCENT_MINIMUM)
    spec = _validated(fig)
    frames = spec["frames"]
    assert [f["name"] for f in frames] == [str(s) for s in figures.frame_steps(5000)]
    slider = spec["layout"]["sliders"][0]
    assert [list(s["args"][0]) for s in slider["steps"]] == [[f["name"]] for f in frames]
    assert {b["label"] for b in spec["layout"]["updatemenus"][0]["buttons"]} == {
        "▶ Play", "⏸ Pause"}
    frame = next(f for f in frames if f["name"] == "2500")
    assert len(frame["traces"]) == 2 * len(traces) == len(frame["data"])
    map_ball, loss_ball = (spec["data"][i] for i in frame["traces"][:2])  # Adam's two balls
    assert map_ball["mode"] == loss_ball["mode"] == "markers"
    adam = traces[0]
    assert frame["data"][0]["x"][0] == pytest.approx(adam.weights[2500, 0], rel=1e-5)
    assert frame["data"][0]["y"][0] == pytest.approx(adam.weights[2500, 1], rel=1e-5)
    assert list(frame["data"][1]["x"]) == [2500]
    assert frame["data"][1]["y"][0] == pytest.approx(adam.losses[2500], rel=1e-5)
    diverged = traces[2]  # its balls stop at the last point inside the plot
    last = next(f for f in frames if f["name"] == "5000")["data"][4]["x"][0]
    inside = figures.inside_count(diverged.weights, course.DESCENT_RANGE)
    assert last == pytest.approx(diverged.weights[inside - 1, 0], rel=1e-5)
    assert any("diverged" in a["text"] for a in spec["layout"]["annotations"])


@pytest.mark.parametrize("log_y", [True, False])
def test_frame_balls_sit_on_the_path_at_each_step(setup, log_y: bool) -> None:
    # every step of every path, the diverging one too, and a path whose loss hits 0 (drawn at
    # the log axis's floor), then inf and nan (gaps): each frame's balls are the path's point
    # and loss at that step, to 6 significant digits
    _, _, _, traces = setup
    odd = figures.PathTrace("odd", np.array([[1.0, 1.0], [1.0, -1.0], [3e5, -2e5], [7e5, 9e5]]),
                            np.array([2.0, 0.0, np.inf, np.nan]), diverged_at=3)

    def six(v: float) -> float:
        return float(f"{float(v):.6g}")

    for path in [*traces, odd]:
        ks = np.arange(len(path.losses))
        expected = []
        for k in ks:
            loss = float(path.losses[k]) if np.isfinite(path.losses[k]) else float("nan")
            y = max(loss, 1e-16) if log_y and loss == loss else loss
            expected.append([
                {"x": [six(path.weights[k, 0])], "y": [six(path.weights[k, 1])]},
                {"x": [int(k)], "y": [six(y)]}])
        moves = figures._ball_moves(path, ks, log_y)
        assert json.dumps(moves) == json.dumps(expected)  # as sent (NaN equals NaN there)
    assert list(figures._ball_moves(odd, np.array([1]), True)[0][1]["y"]) == [1e-16]
    assert json.dumps(figures._ball_moves(odd, np.array([2, 3]), True)[0][1]["y"]) == "[NaN]"


def test_walk_figure_is_small_enough_for_a_classroom(setup) -> None:
    w1, w2, z, traces = setup
    fig = figures.walk_figure(w1, w2, z, traces, steps=course.DESCENT_STEPS,
                              start=course.DESCENT_START, minimum=course.DESCENT_MINIMUM)
    assert len(pio.to_json(fig, validate=False)) < 150_000  # issue 9: <= 150 KB a rerun


def test_a_scene_moved_to_a_step_sends_what_a_new_figure_at_that_step_sends(setup) -> None:
    w1, w2, z, traces = setup
    ends = {"start": (1.0, 1.0, 2.0), "minimum": (1.0, -1.0, 0.0)}
    scene = figures.SurfaceScene(w1, w2, z, traces, **ends)
    for step in (None, 0, 10, 4999, 10**6):
        fresh = figures.surface_figure(w1, w2, z, traces, step=step, **ends).to_dict()
        assert repr(scene.at(step).to_dict()) == repr(fresh)


def test_a_scene_holds_its_legend_rows_in_its_bottom_margin(setup) -> None:
    w1, w2, z, traces = setup
    one = figures.SurfaceScene(w1, w2, z, traces).at(None).to_dict()["layout"]["margin"]
    two = figures.SurfaceScene(w1, w2, z, traces, legend_rows=2).at(None).to_dict()
    assert two["layout"]["margin"]["b"] == one["b"] + figures.LEGEND_ROW  # a phone's legend
    with pytest.raises(ValueError, match="legend_rows"):
        figures.SurfaceScene(w1, w2, z, traces, legend_rows=0)
