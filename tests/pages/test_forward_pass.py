"""AppTests of the forward-pass page: real Streamlit, numbers checked against nn_core.network."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from nn_core import defaults
from nn_core.network import forward_pass, loss_and_gradients, training_step
from ui.figures import fixed

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "pages" / "forward_pass.py")
TIMEOUT = 60
LESSON = dict(weights=list(defaults.FORWARD_WEIGHTS), inputs=list(defaults.FORWARD_INPUTS),
              target=defaults.FORWARD_TARGET)


def page_text(at: AppTest) -> str:
    """Everything a student can read on the page, as one string."""
    parts = [e.value for kind in ("title", "markdown", "caption", "latex", "info", "warning",
                                  "error", "code") for e in getattr(at, kind)]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    parts += [d.value.to_string() for d in at.dataframe]
    return "\n".join(str(p) for p in parts)


def metric(at: AppTest, label: str) -> str:
    """The value of the metric whose label starts with ``label``."""
    return next(m.value for m in at.metric if m.label.startswith(label))


@pytest.fixture
def at() -> AppTest:
    app = AppTest.from_file(PAGE, default_timeout=TIMEOUT).run()
    assert not app.exception
    return app


def test_opens_on_the_lessons_worked_example(at: AppTest) -> None:
    assert at.title[0].value == "Forward pass of a 2-2-1 network"
    assert (metric(at, "N1"), metric(at, "N2"), metric(at, "Y")) == (
        "2.1540000", "-8.8460000", "1.8263000")
    text = page_text(at)
    assert "1.8263" in text
    assert r"7.2 \cdot 0.42 + (-5.8) \cdot 0.15 = 2.154" in text  # the lesson's arithmetic
    assert r"= -8.846" in text and r"= 1.8263" in text
    assert not at.error and not at.warning


def test_relu_on_both_layers_gives_the_lessons_numbers(at: AppTest) -> None:
    at.selectbox(key="fwd_hidden__w").set_value("relu").run()
    at.selectbox(key="fwd_output__w").set_value("relu").run()
    expected = forward_pass(LESSON["weights"], LESSON["inputs"], "relu", "relu")
    y = metric(at, "Y after relu")
    assert y == fixed(expected.y) and y.startswith("2.00322")  # the lesson: 2.0032198 (float32)
    assert metric(at, "loss (mse)").startswith("2.7663")  # the lesson's MSE 2.7663
    at.selectbox(key="fwd_loss__w").set_value("mae").run()
    assert metric(at, "loss (mae)").startswith("1.66322")  # the lesson's MAE 1.6632198
    assert r"\operatorname{relu}(N_2) &= \operatorname{relu}(-8.846) = 0" in page_text(at)
    assert not at.exception


def test_changing_a_weight_changes_y_as_nn_core_says(at: AppTest) -> None:
    at.number_input(key="fwd_w5__number").set_value(0.5).run()
    weights = [*LESSON["weights"][:4], 0.5, LESSON["weights"][5]]
    assert metric(at, "Y") == fixed(forward_pass(weights, LESSON["inputs"]).y)
    assert at.slider(key="fwd_w5__slider").value == 0.5
    at.slider(key="fwd_w6__slider").set_value(-0.3).run()
    weights[5] = -0.3
    assert at.number_input(key="fwd_w6__number").value == -0.3
    assert metric(at, "Y") == fixed(forward_pass(weights, LESSON["inputs"]).y)
    at.number_input(key="fwd_x1__number").set_value(1.0).run()
    assert metric(at, "Y") == fixed(forward_pass(weights, [1.0, -5.8]).y)
    assert not at.exception


def test_training_steps_lower_the_loss_and_reset_restores(at: AppTest) -> None:
    start, _ = loss_and_gradients(**LESSON)
    at.number_input(key="fwd_lr__w").set_value(0.001).run()
    at.button(key="fwd_step").click().run()
    w1 = training_step(**LESSON, learning_rate=0.001)
    loss1, _ = loss_and_gradients(**(LESSON | {"weights": w1}))
    assert metric(at, "loss before the step") == fixed(start)
    assert metric(at, "loss after the step") == fixed(loss1) == metric(at, "loss (mse)")
    assert loss1 < start
    at.button(key="fwd_step").click().run()
    w2 = training_step(**(LESSON | {"weights": w1}), learning_rate=0.001)
    loss2, _ = loss_and_gradients(**(LESSON | {"weights": w2}))
    assert loss2 < loss1 and metric(at, "loss (mse)") == fixed(loss2)
    assert at.number_input(key="fwd_w1__number").value == pytest.approx(w2[0], rel=1e-12)
    at.button(key="fwd_reset").click().run()
    assert metric(at, "loss (mse)") == fixed(start) and metric(at, "Y") == "1.8263000"
    assert at.number_input(key="fwd_w1__number").value == defaults.FORWARD_WEIGHTS[0]
    assert at.number_input(key="fwd_lr__w").value == defaults.FORWARD_LEARNING_RATE
    assert not at.exception


def test_the_default_step_shows_what_nn_core_computes(at: AppTest) -> None:
    lr = defaults.FORWARD_LEARNING_RATE
    at.button(key="fwd_step").click().run()
    after, _ = loss_and_gradients(**(LESSON | {"weights": training_step(**LESSON,
                                                                        learning_rate=lr)}))
    assert metric(at, "loss after the step") == fixed(after)
    start, _ = loss_and_gradients(**LESSON)
    assert bool(at.warning) == (after > start)  # an overshooting step is explained
    assert not at.exception


def test_a_huge_learning_rate_is_an_error_message_not_a_traceback(at: AppTest) -> None:
    at.number_input(key="fwd_lr__w").set_value(1e200).run()
    at.button(key="fwd_step").click().run()
    at.button(key="fwd_step").click().run()
    assert not at.exception
    assert at.error and "learning rate" in at.error[0].value


def test_settings_survive_a_page_switch() -> None:
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT).run()
    app.switch_page("pages/forward_pass.py").run()
    app.number_input(key="fwd_w1__number").set_value(0.5).run()
    app.selectbox(key="fwd_hidden__w").set_value("tanh").run()
    app.number_input(key="fwd_lr__w").set_value(0.002).run()
    y = metric(app, "Y")
    app.switch_page("pages/curves.py").run()
    assert app.title[0].value == "Activation and loss curves"
    app.switch_page("pages/forward_pass.py").run()
    assert app.number_input(key="fwd_w1__number").value == 0.5
    assert app.slider(key="fwd_w1__slider").value == 0.5
    assert app.selectbox(key="fwd_hidden__w").value == "tanh"
    assert app.number_input(key="fwd_lr__w").value == 0.002
    assert metric(app, "Y") == y
    assert not app.exception


def test_a_shared_link_opens_on_its_settings() -> None:
    app = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    app.query_params.update({"w1": "0.5", "hidden": "relu", "output": "relu", "w2": "abc"})
    app.run()
    weights = [0.5, *defaults.FORWARD_WEIGHTS[1:]]
    assert metric(app, "Y") == fixed(forward_pass(weights, LESSON["inputs"], "relu", "relu").y)
    assert "w2='abc'" in app.warning[0].value
    assert app.query_params["w1"] == "0.5" and app.query_params["w2"] == "0.15"  # the URL now
    app.number_input(key="fwd_w3__number").set_value(-1.0).run()
    assert app.query_params["w3"] == "-1.0"
    assert not app.exception


def test_keras_code_prints_the_numbers_on_the_page(at: AppTest) -> None:
    at.selectbox(key="fwd_hidden__w").set_value("sigmoid").run()
    code = at.code[0].value
    env = os.environ | {"TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300, env=env, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    printed = dict(re.findall(r"^(Y|loss) = (\S+)$", proc.stdout, re.M))
    assert printed["Y"] == metric(at, "Y")
    assert printed["loss"] == metric(at, "loss (mse)")
    after = re.findall(r"w\d = ([^,\s]+)", proc.stdout.split("after one step:")[1])
    table = at.dataframe[0].value
    column = next(c for c in table.columns if c.startswith("after one step"))
    assert after == list(table[column])
    assert np.isfinite(float(printed["Y"]))
