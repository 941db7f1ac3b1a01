"""The lesson pages' state modules: defaults, table reading and text, without running a page."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from nn_core import course
from nn_core.basics.activations import activate, activation_derivative
from nn_core.basics.losses import loss_gradient, loss_value
from nn_core.basics.network import WEIGHT_NAMES
from ui.common.format import approx
from ui.curves import panels as curves_panels
from ui.curves import state as curves_state
from ui.descent import panels as descent_panels
from ui.descent import state as descent_state
from ui.digits import state as digits_state
from ui.forward import panels as forward_panels
from ui.forward import state as forward_state


@pytest.mark.parametrize("module", [forward_state, curves_state, descent_state, digits_state])
def test_every_setting_lives_under_the_pages_prefix(module) -> None:
    defaults = module.STATE.defaults()
    assert defaults and all(key.startswith(module.P) for key in defaults)
    assert len({s.name for s in module.STATE.settings.values()}) == len(defaults)


def test_forward_defaults_are_the_lessons_and_steps_point_against_the_gradient() -> None:
    state = forward_state.STATE.defaults()
    assert [state["fwd_" + n] for n in WEIGHT_NAMES] == list(course.FORWARD_WEIGHTS)
    assert forward_state.rounded([0.1]) == [float(np.float32(0.1))]
    assert [forward_panels.direction(g) for g in (0.5, -0.5, 0.0)] == [
        "↓ decrease", "↑ increase", "· stays"]


def test_curves_tables_come_from_nn_core() -> None:
    names, marks = ["relu", "tanh"], {"N1": 2.154, "N2": -8.846}
    table = curves_panels.activation_table(names, marks).set_index("activation")
    assert list(table.columns) == ["f(N1)", "f(N2)", "f'(N1)", "f'(N2)"]
    # at the lesson's precision outside a page (the exact toggle: tests/lessons/test_curves.py)
    assert table.loc["tanh", "f(N2)"] == approx(float(activate("tanh", [-8.846])[0])) == "-1"
    assert table.loc["tanh", "f'(N1)"] == approx(
        float(activation_derivative("tanh", [2.154])[0])) == "0.05242"
    assert table.loc["relu", "f'(N2)"] == approx(
        float(activation_derivative("relu", [-8.846])[0]))
    values, grads = curves_panels.loss_curves(["mse", "huber"], 0.5, np.array([-1.0, 2.0]))
    for name in ("mse", "huber"):
        for i, p in enumerate((-1.0, 2.0)):
            assert values[name][i] == pytest.approx(loss_value(name, [[0.5]], [[p]]))
            assert grads[name][i] == pytest.approx(loss_gradient(name, [[0.5]], [[p]])[0, 0])


def test_descent_tables_are_read_or_rejected_with_the_bad_cell_named() -> None:
    inputs, targets = descent_state.read_data(descent_state.default_data())
    assert inputs.tolist() == [list(x) for x in course.DESCENT_INPUTS]
    assert targets.tolist() == list(course.DESCENT_TARGETS)
    assert descent_state.scaled_inputs((inputs, targets), 3.0).tolist() == [[3, 0], [0, 1]]
    bad = pd.DataFrame({"x1": [1.0, 2.0], "x2": [0.0, "a"], "target": [1.0, 2.0]})
    with pytest.raises(ValueError, match="Row 2, column x2"):
        descent_state.read_data(bad)
    with pytest.raises(ValueError, match="empty"):
        descent_state.read_data(bad.iloc[:0])
    runs = descent_state.runs_table([("adam", 0.001), ("sgd", 0.5)])
    assert list(runs["optimizer"])[:2] == ["adam", "sgd"] and runs["show"].sum() == 2
    assert descent_state.read_runs(runs) == [("adam", 0.001), ("sgd", 0.5)]
    runs.loc[1, "learning rate"] = 0.0
    with pytest.raises(ValueError, match=r"Optimizer row 2 .*above 0"):
        descent_state.read_runs(runs)


def test_descent_labels_and_text() -> None:
    assert descent_state.path_labels([("sgd", 0.01), ("adam", 0.001), ("sgd", 0.01)]) == [
        "SGD (lr 0.01)", "Adam (lr 0.001)", "SGD (lr 0.01) #2"]
    text = descent_panels.regimes_text(1.0, 2.0, "mae", 2)
    assert "averages over the 2 samples" in text and "mae bends differently" in text
    assert "flat" in descent_panels.regimes_text(math.inf, math.inf, "mse", 2)
    assert descent_panels.course_text(None, np.array([1.0, -1.0]), (1.0, 1.0)) == (
        "The course's Adam(0.001) needs more than 20000 steps to get within 0.01 of the minimum "
        "(1, -1) from the start (1, 1) on these data.")
