"""AppTests of the activation and loss curves page: values checked against nn_core."""

from __future__ import annotations

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from nn_core import course
from nn_core.basics.activations import ACTIVATIONS, activate, activation_derivative
from nn_core.basics.keras_code import curves_script
from nn_core.basics.losses import LOSSES, loss_gradient, loss_value
from nn_core.basics.network import Network, format_keras
from tests.support import ROOT
from ui.common.format import fixed
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
    app = AppTest.from_file(PAGE, default_timeout=TIMEOUT).run()
    assert not app.exception
    return app


def test_defaults_mark_the_forward_pages_neurons(at: AppTest) -> None:
    f = Network(course.FORWARD_WEIGHTS, course.FORWARD_INPUTS).forward()
    values = table(at, "activation").set_index("activation")
    assert list(values.index) == ["linear", "sigmoid", "relu", "tanh"]
    for name in values.index:
        for label, x in (("N1", f.n1_in), ("N2", f.n2_in), ("Y", f.y_in)):
            assert values.loc[name, f"f({label})"] == format_keras(float(activate(name, [x])[0]))
            assert values.loc[name, f"f'({label})"] == format_keras(
                float(activation_derivative(name, [x])[0]))
    assert values.loc["linear", "f(N2)"] == "-8.846"  # float32, as Keras prints it
    summaries = "\n".join(m.value for m in at.markdown)
    for name in values.index:
        assert ACTIVATIONS[name].summary in summaries
    assert not at.error


def test_loss_tables_at_the_forward_pages_prediction(at: AppTest) -> None:
    regression, binary = loss_tables(at)
    t, y = np.array([[course.FORWARD_TARGET]]), Network(course.FORWARD_WEIGHTS,
                                                        course.FORWARD_INPUTS).forward().y
    for row in regression.itertuples(index=False):
        assert row[1] == fixed(loss_value(row[0], t, np.array([[y]])))
        assert row[2] == fixed(float(loss_gradient(row[0], t, np.array([[y]]))[0, 0]))
        assert row[3] == LOSSES[row[0]].summary
    assert regression.iloc[0, 1] == "2.2090874"  # mse(0.34, float32 Y), as the forward page shows
    assert list(binary["loss"]) == ["binary_crossentropy", "hinge", "squared_hinge"]
    assert binary.iloc[0, 1] == fixed(loss_value("binary_crossentropy", [[1.0]], [[0.8]]))


def test_controls_change_what_is_drawn(at: AppTest) -> None:
    at.multiselect(key="curves_activations__w").set_value(["elu", "softplus"]).run()
    assert list(table(at, "activation")["activation"]) == ["elu", "softplus"]
    at.number_input(key="curves_reg_target__w").set_value(2.0).run()
    at.number_input(key="curves_reg_prediction__w").set_value(-1.0).run()
    mse = loss_tables(at)[0].set_index("loss").loc["mse"]
    assert mse["value"] == fixed(9.0) and mse["d loss / d prediction"] == fixed(-6.0)
    at.radio(key="curves_bin_target__w").set_value(0).run()
    hinge = loss_tables(at)[1].set_index("loss").loc["hinge"]
    assert hinge["value"] == fixed(loss_value("hinge", [[0.0]], [[0.8]]))
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
    assert values.loc["linear", "f(N1)"] == format_keras(f.n1_in)
    assert values.loc["sigmoid", "f(N1)"] == format_keras(f.n1)
    assert values.loc["linear", "f(Y)"] == format_keras(f.y_in)
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
