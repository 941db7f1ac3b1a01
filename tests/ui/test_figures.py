"""Unit tests of ui.figures: number formatting, what gets drawn, and where diverged paths stop."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
import pytest

from tests.support import assert_valid_spec
from ui.common import figures as common_figures
from ui.common import format as fmt
from ui.common import style
from ui.curves import figures as curves_figures
from ui.curves.figures import CurveMarker
from ui.descent import figures as descent_figures
from ui.descent.figures import PathTrace
from ui.forward import figures as forward_figures

LESSON_W = (0.42, 0.15, -0.56, 0.83, 0.93, 0.02)


@pytest.mark.parametrize(("value", "text"), [
    (2.1539999999999995, "2.154"), (-8.846, "-8.846"), (1.8263000000000003, "1.8263"),
    (-0.0, "0"), (1e-9, "1e-09"), (math.inf, "inf"),
])
def test_short(value: float, text: str) -> None:
    assert fmt.short(value) == text


@pytest.mark.parametrize(("value", "text"), [  # issue 11: the lessons write 2.154 and 1.8263
    (np.float32(2.154), "2.154"), (np.float32(1.8263), "1.8263"), (-8.846, "-8.846"),
    (np.float32(0.00014393573), "1.44e-4"), (1.540744e-29, "1.54e-29"), (0.006969, "0.006969"),
    (9.0, "9"), (-6.0, "-6"), (-0.0, "0"), (0.99999994, "1"), (2.5e7, "2.5e7"),
    (math.inf, "inf"),
])
def test_approx(value: float, text: str) -> None:
    assert fmt.approx(value) == text


def test_fixed_keeps_seven_decimals_and_switches_to_e_notation() -> None:
    assert fmt.fixed(1.8263000000000003) == "1.8263000"
    assert fmt.fixed(2.7663008399999994) == "2.7663008"
    assert fmt.fixed(0.0) == "0.0000000"
    assert fmt.fixed(3.7e11) == "3.7000000e+11"
    assert fmt.fixed(1e-26) == "1.0000000e-26"
    assert fmt.fixed(math.nan) == "nan"


def test_tex_brackets_negative_factors_only() -> None:
    assert fmt.tex(-5.8) == "(-5.8)"
    assert fmt.tex(-5.8, factor=False) == "-5.8"
    assert fmt.tex(0.15) == "0.15"
    assert fmt.tex(2.5e-12) == r"2.5 \times 10^{-12}"


def test_robust_range_ignores_an_exploding_tail_and_keeps_zero() -> None:
    p = np.linspace(0.001, 1, 1000)
    lo, hi = common_figures.robust_range({"bce": -1 / p, "flat": np.zeros_like(p)})
    assert hi >= 0 > lo > -1 / 0.001  # the -1000 end is cut, zero stays in view
    assert common_figures.robust_range({"nan": np.array([np.nan])}) is None


def test_network_diagram_edges_follow_sign_and_size() -> None:
    fig = forward_figures.network_diagram(LESSON_W, (7.2, -5.8), (2.154, -8.846, 1.8263),
                                  (2.154, -8.846, 1.8263), hidden="linear", output="linear",
                                  target=0.34, loss=2.2090877, loss_name="mse")
    edges = fig.layout.shapes
    assert len(edges) == 6 and all(e.type == "line" and e.layer == "below" for e in edges)
    ends = [((e.x0, e.y0), (e.x1, e.y1)) for e in edges]
    # w1 from x1 to N1, w6 from N2 to Y
    assert ends[0] == ((0.0, 1.0), (1.0, 1.0)) and ends[5] == ((1.0, 0.0), (2.0, 0.5))
    colors = [e.line.color for e in edges]
    assert colors == [style.POSITIVE if w >= 0 else style.NEGATIVE for w in LESSON_W]
    widths = [e.line.width for e in edges]
    assert widths[4] == max(widths) and widths[5] == min(widths)  # |w5| = 0.93, |w6| = 0.02
    texts = [a.text for a in fig.layout.annotations]
    for i, w in enumerate(LESSON_W, start=1):
        assert f"w{i} = {fmt.short(w, 4)}" in texts
    assert any("N1</b> = 2.154" in t for t in texts)
    assert any("target = 0.34" in t and "mse = 2.20909" in t for t in texts)
    assert_valid_spec(fig)


def test_network_diagram_shows_before_and_after_activation() -> None:
    fig = forward_figures.network_diagram(LESSON_W, (7.2, -5.8), (2.154, -8.846, 2.00322),
                                  (2.154, 0.0, 2.00322), hidden="relu", output="relu")
    texts = [a.text for a in fig.layout.annotations]
    assert any("N2</b> = -8.846<br>→ relu → <b>0</b>" in t for t in texts)
    hover = next(t for t in fig.data if t.mode == "markers+text").hovertext
    assert any("relu(-8.846) = 0" in h for h in hover)
    assert_valid_spec(fig)


def test_curves_figure_gaps_and_skips_non_finite_values() -> None:
    x = np.linspace(-1, 1, 5)
    fig = curves_figures.curves_figure(
        x, {"a": np.array([0, 1, np.inf, 1, 0]), "b": x},
        markers=[CurveMarker("b", "N1", 0.5, 0.5), CurveMarker("a", "N2", 0.1, math.nan)],
        guides={"N1 = 0.5": 0.5, "N3 = 0.55": 0.55, "far": math.inf},
    )
    lines = [t for t in fig.data if t.mode == "lines"]
    assert [t.name for t in lines] == ["a", "b"]
    assert math.isnan(lines[0].y[2])  # NaN in a float array: plotly draws a gap
    markers = [t for t in fig.data if t.mode == "markers"]
    assert len(markers) == 1 and markers[0].marker.color == style.color_for(1)
    shifts = [a.yshift for a in fig.layout.annotations]
    assert sorted(shifts) == [2, 16]  # the two close guides are stacked, inf is dropped
    assert_valid_spec(fig)


def test_curves_figure_hovers_write_numbers_with_the_pages_format() -> None:
    """The page passes its lesson-precision (or exact) writer: every hovered value uses it."""
    x = np.array([0.0, 2.154])
    y = np.array([0.5, 0.8960419], np.float32)
    fig = curves_figures.curves_figure(x, {"sigmoid": y},
                                       markers=[CurveMarker("sigmoid", "N1", 2.154, y[1])],
                                       fmt=fmt.approx)
    line, marker = fig.data
    assert list(line.text) == ["0.5", "0.896"] and "%{text}" in line.hovertemplate
    assert marker.hovertemplate.startswith("N1 on sigmoid: x = 2.154, y = 0.896<")
    plain = curves_figures.curves_figure(x, {"sigmoid": y})  # no writer: 6 digits by plotly
    assert plain.data[0].text is None and "%{y:.6g}" in plain.data[0].hovertemplate
    assert_valid_spec(fig)


@pytest.mark.parametrize(("trace", "layout"), [
    ({"type": "bar", "marker": {"line_color": "red"}}, {}),  # nested: not expanded
    ({"type": "heatmap", "colorscale": "Viridis"}, {}),  # a name plotly.js may draw otherwise
    ({"type": "heatmap", "colorbar": {"len": None}}, {}),  # nested None: sent as null
    ({"type": "bar"}, {"xaxis": {"title": "digit"}}),  # a bare-string title
    ({"type": "bar"}, {"template": style.TEMPLATE}),  # plotly.js knows no template names
    ({"type": "bar", "colour": "red"}, {}),  # no such property
])
def test_assert_valid_spec_catches_what_validation_would_change(trace: dict,
                                                                 layout: dict) -> None:
    with pytest.raises((AssertionError, ValueError)):
        assert_valid_spec(common_figures.plain_figure([trace], layout))


def test_inside_and_drawn_count_stop_a_diverged_path_at_the_edge() -> None:
    w = np.array([[1, 1], [1, -4], [1, 3.5], [1, -7.75]])
    assert descent_figures.inside_count(w, (-1.5, 1.5)) == 1
    diverged = PathTrace("SGD", w, np.ones(4), diverged_at=4)
    # the start and the first point out
    assert descent_figures.drawn_count(diverged, (-1.5, 1.5)) == 2
    converging = PathTrace("SGD", w, np.ones(4))
    assert descent_figures.drawn_count(converging, (-1.5, 1.5)) == 4
    nan_path = PathTrace("x", np.array([[0, 0], [np.nan, 0]]), np.ones(2), diverged_at=1)
    assert descent_figures.drawn_count(nan_path, (-1.5, 1.5)) == 1


def _bowl() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    axis = np.linspace(-1.5, 1.5, 7)
    w1, w2 = np.meshgrid(axis, axis)
    return axis, axis, ((w1 - 1) ** 2 + (w2 + 1) ** 2) / 2


def test_loss_step_figure_floors_zero_on_a_log_axis() -> None:
    losses = {"SGD": np.array([2.0, 0.0]), "bad": np.array([1.0, 9.0])}
    fig = common_figures.loss_step_figure(losses, step=1, diverged_at={"bad": 1})
    assert fig.layout.yaxis.type == "log"
    assert fig.data[0].y[1] == 1e-16
    assert any("bad: diverged" in a.text for a in fig.layout.annotations)
    linear = common_figures.loss_step_figure({"loss": np.array([2.0, 1.0])}, log_y=False)
    assert linear.layout.yaxis.type == "linear" and list(linear.data[0].y) == [2.0, 1.0]
    assert_valid_spec(fig)
    assert_valid_spec(linear)


def test_loss_step_figure_gaps_non_finite_losses_and_keeps_the_floor() -> None:
    losses = {"a": np.array([1.0, np.inf, 0.0, -np.inf, np.nan]), "b": [3.0, 0.0]}
    fig = common_figures.loss_step_figure(losses, title="t", step=0)
    y = np.asarray(fig.data[0].y)
    assert y.dtype == np.float64 and np.isnan(y[[1, 4]]).all()  # gaps where there is no loss
    assert y[0] == 1.0 and y[2] == y[3] == 1e-16  # 0 and -inf at the log axis's floor
    assert list(fig.data[1].y) == [3.0, 1e-16]
    assert fig.layout.shapes[0].x0 == 0 and fig.layout.annotations[-1].text == "step 0"
    assert_valid_spec(fig)
    assert_valid_spec(common_figures.loss_step_figure({}))


def test_plain_figure_resolves_names_plotly_js_does_not_know() -> None:
    heat = go.Figure(go.Heatmap(colorscale="gray_r")).to_plotly_json()["data"][0]["colorscale"]
    assert common_figures.colorscale("gray_r") == [list(p) for p in heat]
    fig = common_figures.plain_figure([], {"template": style.TEMPLATE_SPEC})
    assert fig.to_dict()["layout"]["template"] == go.Figure(
        layout={"template": style.TEMPLATE}).to_dict()["layout"]["template"]
    assert_valid_spec(fig)


def test_encoded_converts_exactly_what_plotlys_walk_converts_and_leaves_the_spec() -> None:
    import pandas as pd
    from _plotly_utils.utils import convert_to_base64

    def spec() -> dict:
        return {
            "data": [{"type": "scatter", "x": np.arange(5), "y": np.linspace(0, 1, 5),
                      "z": np.ones((3, 4), np.float32), "customdata": pd.Series([1.5, 2.5]),
                      "text": ["a", "b"], "marker": {"color": np.array([1, 2], np.int64),
                                                     "size": np.float64(3.0)},
                      "items": [np.arange(3), {"deep": np.arange(2.0)}], "pair": (1, 2),
                      "range": np.array([0.0, 1.0]), "empty": np.array([]),
                      "column": np.arange(12, dtype=np.int32).reshape(3, 4)[:, 1],
                      "small": np.array([1, 2], np.uint8), "big": np.array([2**40], np.int64),
                      "flags": np.array([True, False]), "swapped": np.arange(3.0).astype(">f8"),
                      "surface": np.arange(6.0).reshape(2, 3).T}],
            "layout": {"xaxis": {"range": np.array([0, 1]), "tickvals": np.array([0.5])},
                       "layers": [{"x": np.arange(2)}], "title": {"text": "t"}},
        }

    given, plotlys = spec(), spec()
    ours = common_figures.encoded(given)
    convert_to_base64(plotlys)
    assert repr(ours) == repr(plotlys)
    assert ours["data"][0]["x"]["bdata"] and ours["layout"]["xaxis"]["tickvals"]["bdata"]
    assert repr(given) == repr(spec())  # the builder's spec is left as it was
    # what holds no array is shared, not copied; what does is a new container
    assert ours["layout"]["title"] is given["layout"]["title"]
    assert ours["data"][0]["text"] is given["data"][0]["text"]
    assert ours["data"][0]["pair"] is given["data"][0]["pair"]
    assert ours["data"][0]["items"] is not given["data"][0]["items"]
    unchanged = {"data": [{"type": "scatter", "x": [1.0, 2.0]}], "layout": {"sliders": [{}]}}
    assert common_figures.encoded(unchanged) is unchanged


def test_with_traces_sends_the_figure_with_those_traces_swapped_and_shares_the_rest() -> None:
    base = common_figures.plain_figure(
        [{"type": "scatter", "x": np.arange(4.0), "y": np.arange(4.0)},
         {"type": "scatter", "x": [0.0], "y": [0.0]}], {"template": style.TEMPLATE_SPEC})
    moved = base.with_traces({1: {"type": "scatter", "x": [2.0], "y": np.array([3.0])}})
    expected = common_figures.plain_figure(
        [{"type": "scatter", "x": np.arange(4.0), "y": np.arange(4.0)},
         {"type": "scatter", "x": [2.0], "y": np.array([3.0])}], {"template": style.TEMPLATE_SPEC})
    assert repr(moved.to_dict()) == repr(expected.to_dict())
    assert moved.to_dict()["data"][0] is base.to_dict()["data"][0]  # encoded once, shared
    assert base.to_dict()["data"][1]["x"] == [0.0]  # the base figure is left as it was
    assert_valid_spec(moved)
    assert moved.data[1].x == (2.0,)  # a normal plotly figure through plotly's API
