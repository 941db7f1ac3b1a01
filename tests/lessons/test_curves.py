"""AppTests of the activation and loss curves page: values checked against nn_core."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from nn_core import course
from nn_core.basics.activations import ACTIVATIONS, activate, activation_derivative
from nn_core.basics.classification import activation_latex, classification_view, loss_latex
from nn_core.basics.keras_code import curves_script
from nn_core.basics.losses import LOSSES, loss_gradient, loss_value
from nn_core.basics.network import Network, format_keras
from tests.support import ROOT, open_sections
from ui.common.format import approx, fixed
from ui.curves import state as curves_state

PAGE = str(ROOT / "lessons" / "curves.py")
TIMEOUT = 60


def table(at: AppTest, first_column: str):
    """The dataframe whose first column is ``first_column``."""
    return next(d.value for d in at.dataframe if d.value.columns[0] == first_column)


def loss_tables(at: AppTest) -> list:
    return [d.value for d in at.dataframe if d.value.columns[0] == "loss"]


@pytest.fixture
def at() -> AppTest:
    app = open_sections(AppTest.from_file(PAGE, default_timeout=TIMEOUT).run())
    assert not app.exception
    return app


def exact(at: AppTest) -> AppTest:
    """The page with its "exact numbers" toggle on: the digits the Keras code prints."""
    at.toggle(key="curves_exact__w").set_value(True).run()
    assert at.query_params["exact"] == "1" and not at.exception
    return at


def test_defaults_mark_the_forward_pages_neurons(at: AppTest) -> None:
    """Issue 11: at the lesson's precision (2.154, 1.8263), Keras's float32 digits a toggle
    away."""
    f = Network(course.FORWARD_WEIGHTS, course.FORWARD_INPUTS).forward()
    values = table(at, "activation").set_index("activation")
    assert list(values.index) == ["linear", "sigmoid", "relu", "tanh"]
    for name in values.index:
        for label, x in (("N1", f.n1_in), ("N2", f.n2_in), ("Y", f.y_in)):
            assert values.loc[name, f"f({label})"] == approx(float(activate(name, [x])[0]))
            assert values.loc[name, f"f'({label})"] == approx(
                float(activation_derivative(name, [x])[0]))
    assert (values.loc["linear", "f(N1)"], values.loc["linear", "f(Y)"]) == ("2.154", "1.8263")
    assert values.loc["sigmoid", "f(N2)"] == "1.44e-4"
    guides = json.loads(at.get("plotly_chart")[0].proto.spec)["layout"]["annotations"]
    assert {g["text"] for g in guides} == {"N1 = 2.154", "N2 = -8.846", "Y = 1.8263"}
    values = table(exact(at), "activation").set_index("activation")
    for name in values.index:
        for label, x in (("N1", f.n1_in), ("N2", f.n2_in), ("Y", f.y_in)):
            assert values.loc[name, f"f({label})"] == format_keras(float(activate(name, [x])[0]))
            assert values.loc[name, f"f'({label})"] == format_keras(
                float(activation_derivative(name, [x])[0]))
    assert values.loc["linear", "f(N2)"] == "-8.846"  # float32, as Keras prints it
    assert (values.loc["linear", "f(N1)"], values.loc["sigmoid", "f(N2)"]) == (
        "2.1539998", "0.00014393573")
    summaries = "\n".join(m.value for m in at.markdown)
    for name in values.index:
        assert ACTIVATIONS[name].summary in summaries
    assert not at.error


@pytest.mark.parametrize("exact_on", [False, True])
def test_loss_tables_at_the_forward_pages_prediction(at: AppTest, exact_on: bool) -> None:
    write = fixed if exact_on else approx
    regression, binary = loss_tables(exact(at) if exact_on else at)
    t, y = np.array([[course.FORWARD_TARGET]]), Network(course.FORWARD_WEIGHTS,
                                                        course.FORWARD_INPUTS).forward().y
    for row in regression.itertuples(index=False):
        assert row[1] == write(loss_value(row[0], t, np.array([[y]])))
        assert row[2] == write(float(loss_gradient(row[0], t, np.array([[y]]))[0, 0]))
        assert row[3] == LOSSES[row[0]].summary
    # mse(0.34, float32 Y), as the forward page shows it
    assert regression.iloc[0, 1] == ("2.2090874" if exact_on else "2.2091")
    assert list(binary["loss"]) == ["binary_crossentropy", "hinge", "squared_hinge"]
    assert binary.iloc[0, 1] == write(loss_value("binary_crossentropy", [[1.0]], [[0.8]]))


def test_controls_change_what_is_drawn(at: AppTest) -> None:
    at.multiselect(key="curves_activations__w").set_value(["elu", "softplus"]).run()
    assert list(table(at, "activation")["activation"]) == ["elu", "softplus"]
    at.number_input(key="curves_reg_target__w").set_value(2.0).run()
    at.number_input(key="curves_reg_prediction__w").set_value(-1.0).run()
    mse = loss_tables(at)[0].set_index("loss").loc["mse"]
    assert (mse["value"], mse["d loss / d prediction"]) == ("9", "-6")
    at.radio(key="curves_bin_target__w").set_value(0).run()
    hinge = loss_tables(at)[1].set_index("loss").loc["hinge"]
    assert hinge["value"] == approx(loss_value("hinge", [[0.0]], [[0.8]]))
    at.toggle(key="curves_markers__w").set_value(False).run()
    assert all(d.value.columns[0] != "activation" for d in at.dataframe)
    assert not at.exception


def test_empty_choices_and_bad_ranges_are_messages(at: AppTest) -> None:
    at.multiselect(key="curves_activations__w").set_value([]).run()
    at.multiselect(key="curves_reg_losses__w").set_value([]).run()
    assert len(at.info) == 2 and not at.exception
    at.slider(key="curves_reg_range__w").set_value((1.0, 1.0)).run()
    assert "lower end" in at.error[0].value and not at.exception
    at.slider(key="curves_x_range__w").set_value((2.0, 2.0)).run()
    assert "lower end" in at.error[0].value and not at.exception


def test_follows_the_forward_page_after_a_switch() -> None:
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT).run()
    app.switch_page("lessons/forward_pass.py").run()
    app.number_input(key="fwd_w1__number").set_value(1.0).run()
    app.selectbox(key="fwd_hidden__w").set_value("sigmoid").run()
    app.switch_page("lessons/curves.py").run()
    weights = [1.0, *course.FORWARD_WEIGHTS[1:]]
    f = Network(weights, course.FORWARD_INPUTS, hidden="sigmoid").forward()
    values = table(app, "activation").set_index("activation")
    assert values.loc["linear", "f(N1)"] == approx(f.n1_in)
    assert values.loc["sigmoid", "f(N1)"] == approx(f.n1)
    assert values.loc["linear", "f(Y)"] == approx(f.y_in)
    assert "go through **sigmoid**" in "\n".join(c.value for c in app.caption)
    app.multiselect(key="curves_activations__w").set_value(["gelu"]).run()
    app.switch_page("lessons/forward_pass.py").run()
    app.switch_page("lessons/curves.py").run()
    assert app.multiselect(key="curves_activations__w").value == ["gelu"]
    assert not app.exception


def test_keras_code_is_nn_cores_script_for_the_shown_settings(at: AppTest) -> None:
    """tests/nn_core/test_keras_code.py runs ``curves_script``: it prints nn_core's numbers."""
    f = Network(course.FORWARD_WEIGHTS, course.FORWARD_INPUTS).forward()
    first = curves_state.STATE.defaults()  # the page's first-visit settings
    script = curves_script(
        first["curves_activations"], {"N1": f.n1_in, "N2": f.n2_in, "Y": f.y_in},
        (course.FORWARD_TARGET, f.y, first["curves_reg_losses"]),
        (float(first["curves_bin_target"]), first["curves_bin_prediction"],
         ["binary_crossentropy", "hinge", "squared_hinge"]),
    )
    assert at.code[0].value.strip() == script.strip()


def test_each_chosen_activation_and_loss_shows_its_formula(at: AppTest) -> None:
    formulas = [e.value for e in at.latex]
    for name in ("linear", "sigmoid", "relu", "tanh"):
        assert any(activation_latex(name) in f for f in formulas), name
    for name in ("mse", "mae", "huber", "log_cosh", "binary_crossentropy", "hinge"):
        assert any(loss_latex(name) in f for f in formulas), name
    at.multiselect(key="curves_activations__w").set_value(["gelu"]).run()
    formulas = [e.value for e in at.latex]
    assert any(activation_latex("gelu") in f for f in formulas)
    assert not any(activation_latex("sigmoid") in f for f in formulas)


def softmax_tables(at: AppTest):
    """The per-digit table and the categorical losses table of the ten-output section."""
    digits = next(d.value for d in at.dataframe if "p = softmax(z)" in d.value.columns)
    losses = next(d.value for d in at.dataframe if d.value.columns[0] == "Keras loss")
    return digits, losses.set_index("Keras loss")["value"]


def assert_shows(at: AppTest, view, write=approx) -> None:
    """The section's tables are ``view``'s numbers, as the page writes them (``write``: at
    the lesson's precision, or ``fixed`` 7 decimals with the exact toggle on)."""
    digits, losses = softmax_tables(at)
    assert list(digits["p = softmax(z)"]) == [write(float(p)) for p in view.probabilities]
    assert list(digits["one-hot y"]) == [int(v) for v in view.onehot]
    assert list(digits["∂L/∂z = p − y"]) == [write(float(g)) for g in view.gradient]
    assert losses["categorical_crossentropy"] == write(view.categorical_crossentropy)
    assert losses["sparse_categorical_crossentropy"] == write(
        view.sparse_categorical_crossentropy)
    assert losses["kl_divergence"] == write(view.kl_divergence)
    assert losses["categorical_crossentropy(from_logits=True)"] == write(
        view.logits_crossentropy)


def test_ten_outputs_are_classification_views_numbers(at: AppTest) -> None:
    view = classification_view(curves_state.DEFAULT_LOGITS, 4)
    assert_shows(at, view)
    assert view.predicted == 4 and not view.clipped and not at.warning
    at.selectbox(key="curves_label__w").set_value(9).run()
    assert_shows(at, classification_view(curves_state.DEFAULT_LOGITS, 9))
    assert "**4**, but the true digit is 9." in "\n".join(m.value for m in at.markdown)
    at.session_state["curves_logits__editor0"] = {
        "edited_rows": {2: {"logit z": 5.5}}, "added_rows": [], "deleted_rows": []}
    at.run()
    logits = list(curves_state.DEFAULT_LOGITS)
    logits[2] = 5.5
    assert_shows(at, classification_view(logits, 9))
    assert "**2**, but the true digit is 9." in "\n".join(m.value for m in at.markdown)
    assert_shows(exact(at), classification_view(logits, 9), fixed)
    assert not at.exception and not at.error


def test_a_very_sure_network_shows_keras_clipping(at: AppTest) -> None:
    at.button(key="curves_logits_confident").click().run()
    logits = list(curves_state.DEFAULT_LOGITS)
    logits[4] = curves_state.CONFIDENT_LOGIT
    view = classification_view(logits, 4)
    assert view.clipped
    assert_shows(at, view)
    assert "Keras clips it to [1e-7, 1 − 1e-7]" in at.warning[0].value
    assert "crossentropy is 1e-7, while from the logits it is 4.33e-8." in at.warning[0].value
    assert approx(view.logits_crossentropy) == "4.33e-8"
    assert_shows(exact(at), view, fixed)
    assert fixed(view.logits_crossentropy) in at.warning[0].value
    at.button(key="curves_logits_reset").click().run()  # the exact toggle stays on
    assert_shows(at, classification_view(curves_state.DEFAULT_LOGITS, 4), fixed)
    assert not at.warning


def test_a_bad_logit_is_a_clear_message(at: AppTest) -> None:
    at.session_state["curves_logits__editor0"] = {
        "edited_rows": {3: {"logit z": None}}, "added_rows": [], "deleted_rows": []}
    at.run()
    assert not at.exception
    assert "The logit of digit 3 is empty" in at.error[0].value
    assert at.code[0].value  # the rest of the page is still there


def test_the_softmax_script_prints_the_sections_numbers(at: AppTest) -> None:
    """Run by Keras (float64) in a fresh interpreter: the page's numbers to 7 decimals."""
    code = at.code[1].value
    assert code == curves_state.softmax_script(
        np.array(curves_state.DEFAULT_LOGITS), 4).rstrip("\n")
    env = os.environ | {"TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300, env=env, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    printed = dict(line.split(" = ", 1) for line in proc.stdout.splitlines())
    view = classification_view(curves_state.DEFAULT_LOGITS, 4)
    probabilities = np.array(printed["p"].strip("[]").split(", "), float)
    np.testing.assert_array_equal(probabilities, np.round(view.probabilities, 7))
    gradient = np.array(printed["p - onehot"].strip("[]").split(", "), float)
    np.testing.assert_array_equal(gradient, np.round(view.gradient, 7))
    digits, losses = softmax_tables(exact(at))  # the exact toggle: every printed digit
    assert list(digits["p = softmax(z)"]) == [f"{p:.7f}" for p in probabilities]
    for name in ("categorical_crossentropy", "sparse_categorical_crossentropy",
                 "kl_divergence"):
        assert fixed(float(printed[name])) == losses[name], name
    assert fixed(float(printed["from the logits"])) == losses[
        "categorical_crossentropy(from_logits=True)"]
