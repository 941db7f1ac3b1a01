"""The lesson pages' Keras scripts, run in a fresh interpreter against the real Keras: each
prints what nn_core computes (one case per script; each starts TensorFlow, so a few seconds)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from nn_core import course
from nn_core.basics.activations import activate, activation_derivative
from nn_core.basics.descent import trajectories
from nn_core.basics.keras_code import (
    curves_script,
    descent_script,
    forward_script,
    training_step_script,
)
from nn_core.basics.losses import loss_gradient, loss_value
from nn_core.basics.network import Network, format_keras
from nn_core.basics.optimizers import Run
from tests.support import run_script


def numbers(text: str) -> np.ndarray:
    """The numbers of a printed NumPy array ``[ 1.  -0.5]``."""
    return np.array([float(v) for v in text.strip("[] ").split()])



def test_descent_script_needs_one_label_per_path() -> None:
    paths = trajectories([Run("sgd", 0.1)], (1.0, 1.0), [[1.0, 0.0]], [1.0], "mse", 2)
    assert 'print("sgd:", train(keras.optimizers.SGD(learning_rate=0.1)))' in descent_script(
        [[1.0, 0.0]], [1.0], "mse", (1.0, 1.0), 2, paths)
    with pytest.raises(ValueError, match="one label per path"):
        descent_script([[1.0, 0.0]], [1.0], "mse", (1.0, 1.0), 2, paths, ["a", "b"])


def test_forward_script_prints_y_loss_and_the_step_as_nn_core() -> None:
    """Character for character at Keras's float32 (relu hidden layer, where TensorFlow's float32
    kernels round exactly; its sigmoid can be an ulp away), weights that are float32 values."""
    lesson = dict(inputs=list(course.FORWARD_INPUTS), target=course.FORWARD_TARGET,
                  hidden="relu", output="linear", loss="mse")
    start = [0.37, *course.FORWARD_WEIGHTS[1:]]
    lr = course.FORWARD_LEARNING_RATE
    weights = Network(start, **lesson).training_step(lr).tolist()  # as after a click
    code = forward_script(Network(weights, **lesson)) + training_step_script("mse",
                                                                             lesson["target"], lr)
    assert "set_floatx" not in code  # Keras's defaults
    out = run_script(code)
    printed = dict(re.findall(r"^(Y|loss) = (\S+)$", out, re.M))
    assert printed["Y"] == format_keras(Network(weights, lesson["inputs"],
                                                hidden="relu").forward().y)
    assert printed["loss"] == format_keras(Network(weights, **lesson).loss_and_gradients()[0])
    after = re.findall(r"w\d = ([^,\s]+)", out.split("after one step:")[1])
    assert after == [format_keras(v) for v in Network(weights, **lesson).training_step(lr)]


def test_curves_script_prints_nn_cores_activations_and_losses() -> None:
    f = Network(course.FORWARD_WEIGHTS, course.FORWARD_INPUTS).forward()
    marks = {"N1": f.n1_in, "N2": f.n2_in, "Y": f.y_in}
    names = ["linear", "relu", "tanh", "elu"]
    regression = (course.FORWARD_TARGET, f.y, ["mse", "huber"])
    binary = (1.0, 0.8, ["binary_crossentropy", "hinge"])
    out = run_script(curves_script(names, marks, regression, binary))
    x = np.array(list(marks.values()))
    rows = re.findall(r"^(\w+) f: (\[.*?\]) f': (\[.*?\])$", out, re.M)
    assert [r[0] for r in rows] == names
    for name, values, slopes in rows:  # NumPy prints 7 decimals
        np.testing.assert_allclose(numbers(values), activate(name, x), rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(numbers(slopes), activation_derivative(name, x), rtol=1e-6,
                                   atol=1e-7)
    losses = re.findall(r"^(\w+) loss: (\S+) d loss / d prediction: (\S+)$", out, re.M)
    assert [r[0] for r in losses] == [*regression[2], *binary[2]]
    for name, value, grad in losses:
        target, prediction = regression[:2] if name in regression[2] else binary[:2]
        t, p = [[target]], [[prediction]]
        assert float(value) == pytest.approx(loss_value(name, t, p), rel=1e-9, abs=1e-12)
        assert float(grad) == pytest.approx(float(loss_gradient(name, t, p)[0, 0]), rel=1e-9,
                                            abs=1e-12)


def test_descent_script_ends_where_nn_cores_paths_end() -> None:
    inputs, targets, start, steps = [[3.0, 0.0], [0.0, 1.0]], [1.0, -1.0], (1.0, 1.0), 25
    runs = [Run("sgd", 0.2), Run("nesterov", 0.02), Run("adam", 0.05)]  # the ravine, + nesterov
    paths = trajectories(runs, start, inputs, targets, "mse", steps)
    labels = ["SGD (lr 0.2)", "Nesterov (lr 0.02)", "Adam (lr 0.05)"]
    out = run_script(descent_script(inputs, targets, "mse", start, steps, paths, labels))
    printed = dict(re.findall(r"^(.+): (\[.*\])$", out, re.M))
    assert list(printed) == labels
    for label, path in zip(labels, paths, strict=True):
        assert not path.diverged
        np.testing.assert_allclose(numbers(printed[label]), path.weights[-1], rtol=1e-7,
                                   atol=1e-8)
