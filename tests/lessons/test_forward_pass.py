"""AppTests of the forward-pass page: real Streamlit, numbers checked against the network core.

The page computes in float32, as Keras does by default, and writes every number as NumPy prints
a float32 (``format_keras``): the strings on the page are the strings Keras prints.
"""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from nn_core import course
from nn_core.basics.keras_code import forward_script, training_step_script
from nn_core.basics.network import Network, format_keras
from nn_core.cnn.summary import network_summary_rows, summary_records, total_params
from tests.support import ROOT, open_sections
from ui.common.format import approx

PAGE = str(ROOT / "lessons" / "forward_pass.py")
TIMEOUT = 60
LESSON = dict(weights=list(course.FORWARD_WEIGHTS), inputs=list(course.FORWARD_INPUTS),
              target=course.FORWARD_TARGET)


def page_text(at: AppTest) -> str:
    """Everything a student can read on the page, as one string."""
    parts = [e.value for kind in ("title", "markdown", "caption", "latex", "info", "warning",
                                  "error", "code") for e in getattr(at, kind)]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    parts += [d.value.to_string() for d in [*at.dataframe, *at.table]]
    return "\n".join(str(p) for p in parts)


def shown(value: float) -> str:
    """How the page writes a number: float32, as Keras prints it."""
    return format_keras(value, "float32")


def metric(at: AppTest, label: str) -> str:
    """The value of the metric whose label starts with ``label``."""
    return next(m.value for m in at.metric if m.label.startswith(label))


@pytest.fixture
def at() -> AppTest:
    """The page with its "exact" toggle on: every number as Keras prints it in float32."""
    app = AppTest.from_file(PAGE, default_timeout=TIMEOUT).run()
    app.toggle(key="fwd_exact__w").set_value(True).run()
    open_sections(app)  # the Keras code and the parameter tables
    assert not app.exception
    return app


def test_numbers_are_at_the_lessons_precision_until_exact_is_asked_for() -> None:
    """Issue 11: the lesson writes 2.154 and 1.8263; Keras's 2.1539998 is a toggle away."""
    app = AppTest.from_file(PAGE, default_timeout=TIMEOUT).run()
    assert (metric(app, "N1"), metric(app, "N2"), metric(app, "Y")) == (
        "2.154", "-8.846", "1.8263")
    assert r"7.2 \cdot 0.42 + (-5.8) \cdot 0.15 = 2.154" in page_text(app)
    app.toggle(key="fwd_exact__w").set_value(True).run()
    assert (metric(app, "N1"), metric(app, "Y")) == ("2.1539998", "1.8262999")
    assert app.query_params["exact"] == "1"
    app.button(key="fwd_reset").click().run()  # the way of reading numbers survives a reset
    assert metric(app, "Y") == "1.8262999" and not app.exception


def test_opens_on_the_lessons_worked_example(at: AppTest) -> None:
    assert at.title[0].value == "Forward pass of a 2-2-1 network"
    # Keras's float32: 7.2*0.42 + (-5.8)*0.15 rounds to 2.1539998, and Y to 1.8262999
    f = Network(**{k: LESSON[k] for k in ("weights", "inputs")}).forward()
    assert (metric(at, "N1"), metric(at, "N2"), metric(at, "Y")) == (
        shown(f.n1), shown(f.n2), shown(f.y)) == ("2.1539998", "-8.846", "1.8262999")
    text = page_text(at)
    assert r"7.2 \cdot 0.42 + (-5.8) \cdot 0.15 = 2.1539998" in text  # the lesson's arithmetic
    assert r"= -8.846" in text and r"= 1.8262999" in text
    # ... and the lesson's own hand-worked numbers, in exact arithmetic
    assert "N1 = 2.154, N2 = -8.846, Y = 1.8263." in text and "float32" in text
    assert not at.error and not at.warning


def test_relu_on_both_layers_gives_the_lessons_numbers(at: AppTest) -> None:
    at.selectbox(key="fwd_hidden__w").set_value("relu").run()
    at.selectbox(key="fwd_output__w").set_value("relu").run()
    expected = Network(LESSON["weights"], LESSON["inputs"], hidden="relu", output="relu").forward()
    y = metric(at, "Y after relu")
    assert y == shown(expected.y) == "2.0032198"  # the lesson's Keras output, every digit
    assert metric(at, "loss (mse)") == "2.7663002"  # the lesson's MSE 2.7663
    at.selectbox(key="fwd_loss__w").set_value("mae").run()
    assert metric(at, "loss (mae)") == "1.6632198"  # the lesson's MAE
    assert r"\operatorname{relu}(N_2) &= \operatorname{relu}(-8.846) = 0" in page_text(at)
    assert r"|t - Y| = |0.34 - 2.0032198| = 1.6632198" in page_text(at)
    diagram = json.loads(at.get("plotly_chart")[0].proto.spec)
    labels = "\n".join(a["text"] for a in diagram["layout"]["annotations"])
    # two lines (before, then through the activation), so the label fits a phone's width
    assert "<b>Y</b> = 2.0032198<br>→ relu → <b>2.0032198</b>" in labels
    assert "mae = 1.6632198" in labels and "<b>N2</b> = -8.846<br>→ relu → <b>0.0</b>" in labels
    assert not at.exception


def test_changing_a_weight_changes_y_as_nn_core_says(at: AppTest) -> None:
    at.number_input(key="fwd_w5__number").set_value(0.5).run()
    weights = [*LESSON["weights"][:4], 0.5, LESSON["weights"][5]]
    assert metric(at, "Y") == shown(Network(weights, LESSON["inputs"]).forward().y)
    assert at.slider(key="fwd_w5__slider").value == 0.5
    at.slider(key="fwd_w6__slider").set_value(-0.3).run()
    weights[5] = -0.3
    assert at.number_input(key="fwd_w6__number").value == -0.3
    assert metric(at, "Y") == shown(Network(weights, LESSON["inputs"]).forward().y)
    at.number_input(key="fwd_x1__number").set_value(1.0).run()
    assert metric(at, "Y") == shown(Network(weights, [1.0, -5.8]).forward().y)
    assert not at.exception


def test_training_steps_lower_the_loss_and_reset_restores(at: AppTest) -> None:
    lr = course.FORWARD_LEARNING_RATE  # the page's default: no need to change it
    assert at.number_input(key="fwd_lr__w").value == lr
    start, _ = Network(**LESSON).loss_and_gradients()
    at.button(key="fwd_step").click().run()
    w1 = Network(**LESSON).training_step(lr)
    loss1, _ = Network(**LESSON | {"weights": w1}).loss_and_gradients()
    assert metric(at, "loss before the step") == shown(start)
    assert metric(at, "loss after the step") == shown(loss1) == metric(at, "loss (mse)")
    assert loss1 < start and not at.warning
    at.button(key="fwd_step").click().run()
    w2 = Network(**LESSON | {"weights": w1}).training_step(lr)
    loss2, _ = Network(**LESSON | {"weights": w2}).loss_and_gradients()
    assert loss2 < loss1 and metric(at, "loss (mse)") == shown(loss2)
    assert at.number_input(key="fwd_w1__number").value == w2[0]  # the float32 weight, exactly
    at.button(key="fwd_reset").click().run()
    assert metric(at, "loss (mse)") == shown(start) and metric(at, "Y") == "1.8262999"
    assert at.number_input(key="fwd_w1__number").value == course.FORWARD_WEIGHTS[0]
    assert at.number_input(key="fwd_lr__w").value == course.FORWARD_LEARNING_RATE
    assert not at.exception


def test_the_default_step_shows_what_nn_core_computes(at: AppTest) -> None:
    lr = course.FORWARD_LEARNING_RATE
    at.button(key="fwd_step").click().run()
    stepped = Network(**LESSON).training_step(lr)
    after, _ = Network(**LESSON | {"weights": stepped}).loss_and_gradients()
    assert metric(at, "loss after the step") == shown(after)
    start, _ = Network(**LESSON).loss_and_gradients()
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
    app.switch_page("lessons/forward_pass.py").run()
    app.number_input(key="fwd_w1__number").set_value(0.5).run()
    app.selectbox(key="fwd_hidden__w").set_value("tanh").run()
    app.number_input(key="fwd_lr__w").set_value(0.002).run()
    y = metric(app, "Y")
    app.switch_page("lessons/curves.py").run()
    assert app.title[0].value == "Activation and loss curves"
    app.switch_page("lessons/forward_pass.py").run()
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
    weights = [0.5, *course.FORWARD_WEIGHTS[1:]]
    assert metric(app, "Y") == approx(Network(weights, LESSON["inputs"], hidden="relu",
                                              output="relu").forward().y)
    assert "w2='abc'" in app.warning[0].value
    assert app.query_params["w1"] == "0.5" and app.query_params["w2"] == "0.15"  # the URL now
    app.number_input(key="fwd_w3__number").set_value(-1.0).run()
    assert app.query_params["w3"] == "-1.0"
    assert not app.exception


def test_keras_code_is_nn_cores_script_for_the_shown_settings(at: AppTest) -> None:
    """The page shows nn_core's script for its settings (tests/nn_core/test_keras_code.py runs
    it: it prints nn_core's numbers, which are the page's), weights as the table shows them."""
    at.selectbox(key="fwd_hidden__w").set_value("relu").run()
    at.number_input(key="fwd_w1__number").set_value(0.37).run()
    at.button(key="fwd_step").click().run()  # float32 weights, written with their own digits
    weights = [at.session_state[f"fwd_w{i}"] for i in range(1, 7)]
    args = dict(LESSON, weights=weights, hidden="relu", output="linear", loss="mse")
    lr = course.FORWARD_LEARNING_RATE
    code = at.code[0].value
    script = forward_script(Network(**args)) + training_step_script("mse", LESSON["target"], lr)
    assert code.strip() == script.strip()  # st.code drops the final newline
    table = at.table[0].value  # the gradient table, a plain table on every screen
    assert all(w in code for w in table["value"])
    column = next(c for c in table.columns if c.startswith("after one step"))
    assert list(table[column]) == [shown(v) for v in Network(**args).training_step(lr)]
    assert metric(at, "Y") == shown(Network(weights, LESSON["inputs"], hidden="relu").forward().y)
    assert not at.exception


def test_parameters_and_the_keras_weight_layout(at: AppTest) -> None:
    summary = next(d.value for d in at.dataframe if "Param #" in d.value.columns)
    rows = network_summary_rows("linear", "linear")
    assert summary.to_dict("records") == summary_records(rows)
    assert list(summary["Param #"]) == ["4", "2"] and total_params(rows) == 6
    assert "Total params: 6** (4 + 2)" in page_text(at)
    hidden = next(d.value for d in at.dataframe if list(d.value.columns) == ["to N1", "to N2"])
    assert hidden.loc["from x1"].tolist() == ["w1 = 0.42", "w3 = -0.56"]
    assert hidden.loc["from x2"].tolist() == ["w2 = 0.15", "w4 = 0.83"]
    output = next(d.value for d in at.dataframe if list(d.value.columns) == ["to Y"])
    assert output["to Y"].tolist() == ["w5 = 0.93", "w6 = 0.02"]
    assert "[array([[ 0.42, -0.56],\n        [ 0.15,  0.83]], dtype=float32)," in page_text(at)
    at.number_input(key="fwd_w3__number").set_value(-1.25).run()
    at.selectbox(key="fwd_hidden__w").set_value("relu").run()
    hidden = next(d.value for d in at.dataframe if list(d.value.columns) == ["to N1", "to N2"])
    assert hidden.loc["from x1"].tolist() == ["w1 = 0.42", "w3 = -1.25"]
    summary = next(d.value for d in at.dataframe if "Param #" in d.value.columns)
    assert summary["Layer"].iloc[0] == "Hidden: 2 units, relu"
    assert not at.exception


def test_an_overflowing_link_is_a_message_with_a_reset_not_a_crash() -> None:
    """Issue 10, case 7: an exponential output of a large sum overflows float32."""
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    for name, value in {"output": "exponential", "w1": "10", "x1": "10", "w5": "2"}.items():
        at.query_params[name] = value
    at.run()
    assert not at.exception
    assert "Y overflows float32" in at.error[0].value
    at.button(key="fwd_reset_error").click().run()
    assert not at.error and metric(at, "Y") == "1.8263"  # back to the lesson


def test_markdown_in_a_link_is_shown_as_plain_shortened_text() -> None:
    """Issue 10, case 9: no clickable link or outside image from a shared address."""
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    at.query_params["hidden"] = "[Click here to log in](https://evil.example/login)"
    at.query_params["loss"] = "![x](https://tracker.example/t.png)" + "x" * 100_000
    at.run()
    assert not at.exception and len(at.warning) == 2
    for warning in at.warning:
        assert "](" not in warning.value.replace("\\](", "").replace("\\]\\(", "")
        assert len(warning.value) < 400
