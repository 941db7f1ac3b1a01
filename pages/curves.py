"""Activation functions and losses side by side, with their derivatives, as Keras computes them.

Every value comes from ``nn_core.activations`` and ``nn_core.losses``; the markers show where
the forward-pass page's current neurons sit on each activation curve.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from nn_core import defaults
from nn_core.activations import (
    ACTIVATIONS,
    ELEMENTWISE_ACTIVATIONS,
    activate,
    activation_derivative,
)
from nn_core.losses import BINARY_LOSSES, LOSSES, REGRESSION_LOSSES, loss_gradient
from nn_core.network import WEIGHT_NAMES, format_keras, forward_pass
from ui import figures, widgets
from ui.figures import CurveMarker, fixed, short

P = "curves_"  # Session State prefix of this page
FWD = "fwd_"  # the forward-pass page's prefix: its settings are read, never written
POINTS = 401  # samples per curve


def forward_values() -> tuple[dict[str, float], str, str, float, float]:
    """The forward page's pre-activation values (N1, N2, Y), its activations, target and Y."""
    state = st.session_state
    weights = [state.get(FWD + n, d) for n, d in zip(WEIGHT_NAMES, defaults.FORWARD_WEIGHTS,
                                                      strict=True)]
    inputs = [state.get(FWD + "x1", defaults.FORWARD_INPUTS[0]),
              state.get(FWD + "x2", defaults.FORWARD_INPUTS[1])]
    hidden = state.get(FWD + "hidden", defaults.FORWARD_HIDDEN_ACTIVATION)
    output = state.get(FWD + "output", defaults.FORWARD_OUTPUT_ACTIVATION)
    target = float(state.get(FWD + "target", defaults.FORWARD_TARGET))
    f = forward_pass(weights, inputs, hidden, output)
    return {"N1": f.n1_in, "N2": f.n2_in, "Y": f.y_in}, hidden, output, target, f.y


def page_defaults(target: float, prediction: float) -> dict[str, Any]:
    """This page's settings on a first visit (losses start at the forward page's target and Y)."""
    return {P + k: v for k, v in {
        "activations": ["linear", "sigmoid", "relu", "tanh"],  # the lesson's four
        "x_range": (-10.0, 10.0), "y_range": (-1.5, 3.0), "markers": True,
        "reg_losses": ["mse", "mae", "huber", "log_cosh"], "reg_target": target,
        "reg_range": (-3.0, 3.0), "reg_prediction": prediction,
        "bin_losses": list(BINARY_LOSSES), "bin_target": 1, "bin_range": (0.0, 1.0),
        "bin_prediction": 0.8,
    }.items()}


def loss_curves(names: list[str], target: float, predictions: np.ndarray
                ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Loss of one sample and its derivative d loss / d prediction, for each prediction (n,)."""
    values, grads = {}, {}
    t = np.array([[target]])
    column = np.asarray(predictions, float)[:, None]  # one sample per prediction
    for name in names:
        values[name] = np.asarray(LOSSES[name].fn(np.full_like(column, target), column))
        grads[name] = np.array(
            [np.asarray(loss_gradient(name, t, np.array([[p]]))).ravel()[0] for p in predictions]
        )
    return values, grads


def loss_table(names: list[str], target: float, prediction: float) -> pd.DataFrame:
    """Each loss and its gradient at one prediction, with what it is good for."""
    values, grads = loss_curves(names, target, np.array([prediction]))
    return pd.DataFrame({
        "loss": names,
        "value": [fixed(float(values[n][0])) for n in names],
        "d loss / d prediction": [fixed(float(grads[n][0])) for n in names],
        "good for": [LOSSES[n].summary for n in names],
    })


def loss_section(kind: str, names: list[str], target: float, x_range: tuple[float, float],
                 prediction: float) -> None:
    """Loss curves, their gradients and the table at one prediction."""
    if not names:
        st.info("Pick at least one loss to draw.")
        return
    xs = np.linspace(*x_range, POINTS)
    values, grads = loss_curves(names, target, xs)
    at_values, at_grads = loss_curves(names, target, np.array([prediction]))
    guides = {f"target {short(target)}": target} if kind == "regression" else {}
    guides[f"prediction {short(prediction)}"] = prediction
    left, right = st.columns(2)
    for column, curves, at, what in ((left, values, at_values, "loss"),
                                     (right, grads, at_grads, "d loss / d prediction")):
        markers = [CurveMarker(n, "", prediction, float(at[n][0])) for n in names]
        column.plotly_chart(
            figures.curves_figure(xs, curves, markers=markers, guides=guides,
                                  title=f"{what}, target {short(target)}", x_title="prediction",
                                  y_title=what, y_range=figures.robust_range(curves)),
            key=f"{P}{kind}_{what}",
        )
    st.dataframe(loss_table(names, target, prediction), hide_index=True, width="stretch",
                 key=f"{P}{kind}_table")


def keras_snippet(activations: list[str], marks: dict[str, float], reg: tuple, binary: tuple
                  ) -> str:
    """A Keras script that prints the numbers of this page's tables (float64, GradientTape)."""
    xs = [float(v) for v in marks.values()]
    return f'''import numpy as np
import tensorflow as tf
import keras

keras.config.set_floatx("float64")
np.set_printoptions(precision=7, suppress=True)


def value_and_derivative(fn, x):
    """fn(x) and d fn / d x elementwise, by TensorFlow's autodiff."""
    x = tf.constant(x, tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = fn(x)
    return y.numpy(), tape.gradient(y, x).numpy()


x = np.array({xs!r})  # the forward page's {", ".join(marks)} before activation
for name in {activations!r}:
    f, df = value_and_derivative(keras.activations.get(name), x)
    print(name, "f:", f, "f':", df)

for name, target, prediction in [
{"".join(f"    ({n!r}, {reg[0]!r}, {reg[1]!r}),{chr(10)}" for n in reg[2])}\
{"".join(f"    ({n!r}, {binary[0]!r}, {binary[1]!r}),{chr(10)}" for n in binary[2])}]:
    fn = keras.losses.get(name)
    value, grad = value_and_derivative(lambda p: fn(np.array([[target]]), p), [[prediction]])
    print(name, "loss:", value[0], "d loss / d prediction:", grad[0, 0])
'''


# ---------------------------------------------------------------- the page
st.title("Activation and loss curves")
st.write(
    "An activation bends a neuron's sum into its output; its derivative decides how much of the "
    "error flows back through the neuron during training. A loss turns the distance between "
    "prediction and target into one number to minimise, and its derivative is where "
    "backpropagation starts."
)

try:
    marks, fwd_hidden, fwd_output, fwd_target, fwd_y = forward_values()
except ValueError:
    marks, fwd_hidden, fwd_output, fwd_target, fwd_y = {}, "linear", "linear", 0.0, 0.0
widgets.init_state(page_defaults(fwd_target, fwd_y))

st.header("Activation functions")
c1, c2, c3 = st.columns([3, 2, 2])
with c1:
    chosen = widgets.persistent(st.multiselect, "Activations", P + "activations",
                                options=ELEMENTWISE_ACTIVATIONS)
with c2:
    x_range = widgets.persistent(st.slider, "x range", P + "x_range", min_value=-20.0,
                                 max_value=20.0, step=0.5)
with c3:
    y_range = widgets.persistent(st.slider, "y range of f(x)", P + "y_range", min_value=-20.0,
                                 max_value=20.0, step=0.5)
show_marks = widgets.persistent(
    st.toggle, "Mark the forward-pass page's neurons (N1, N2 and Y before activation)",
    P + "markers",
)
if x_range[0] >= x_range[1] or y_range[0] >= y_range[1]:
    st.error("Each range needs a lower end below its upper end.")
    st.stop()
if not chosen:
    st.info("Pick at least one activation to draw.")
else:
    xs = np.linspace(*x_range, POINTS)
    values = {name: activate(name, xs) for name in chosen}
    slopes = {name: activation_derivative(name, xs) for name in chosen}
    shown = {k: v for k, v in marks.items() if show_marks and x_range[0] <= v <= x_range[1]}
    guides = {f"{k} = {short(v, 4)}": v for k, v in shown.items()}
    fx_marks = [CurveMarker(n, k, v, float(activate(n, [v])[0]))
                for n in chosen for k, v in shown.items()]
    dfx_marks = [CurveMarker(n, k, v, float(activation_derivative(n, [v])[0]))
                 for n in chosen for k, v in shown.items()]
    left, right = st.columns(2)
    left.plotly_chart(
        figures.curves_figure(xs, values, markers=fx_marks, guides=guides, title="f(x)",
                              y_title="f(x)", y_range=y_range),
        key=P + "activations_figure",
    )
    right.plotly_chart(
        figures.curves_figure(xs, slopes, markers=dfx_marks, guides=guides,
                              title="derivative f'(x)", y_title="f'(x)",
                              y_range=figures.robust_range(slopes, 0.0, 100.0)),
        key=P + "derivatives_figure",
    )
    outside = [f"{k} = {short(v)}" for k, v in marks.items()
               if show_marks and not x_range[0] <= v <= x_range[1]]
    if outside:
        st.caption(f"Outside the x range, so not marked: {', '.join(outside)}.")
    if show_marks and marks:
        st.caption(
            f"On the forward-pass page N1 and N2 go through **{fwd_hidden}** and Y through "
            f"**{fwd_output}**. Where a curve is flat its derivative is near 0 and almost no "
            "error flows back through that neuron: it saturates."
        )
        st.dataframe(
            pd.DataFrame(
                [[n] + [format_keras(float(activate(n, [v])[0])) for v in marks.values()]
                 + [format_keras(float(activation_derivative(n, [v])[0])) for v in marks.values()]
                 for n in chosen],
                columns=["activation", *(f"f({k})" for k in marks),
                         *(f"f'({k})" for k in marks)],
            ),
            hide_index=True, width="stretch", key=P + "activation_table",
        )
    st.markdown("\n".join(f"- **{n}**: {ACTIVATIONS[n].summary}" for n in chosen))

st.header("Losses")
st.subheader("Regression: a real-valued target")
r1, r2, r3, r4 = st.columns([3, 1, 2, 1])
with r1:
    reg_names = widgets.persistent(st.multiselect, "Regression losses", P + "reg_losses",
                                   options=REGRESSION_LOSSES)
with r2:
    reg_target = widgets.persistent(st.number_input, "Target", P + "reg_target", step=0.1,
                                    format="%.6g")
with r3:
    reg_range = widgets.persistent(st.slider, "Prediction range", P + "reg_range",
                                   min_value=-10.0, max_value=10.0, step=0.5)
with r4:
    reg_pred = widgets.persistent(st.number_input, "At prediction", P + "reg_prediction",
                                  step=0.1, format="%.6g",
                                  help="The table below compares the losses here; it starts at the "
                                  "forward-pass page's output Y.")
if reg_range[0] >= reg_range[1]:
    st.error("The prediction range needs a lower end below its upper end.")
else:
    loss_section("regression", reg_names, float(reg_target), reg_range, float(reg_pred))

st.subheader("Binary: a 0/1 target and a probability")
b1, b2, b3, b4 = st.columns([3, 1, 2, 1])
with b1:
    bin_names = widgets.persistent(st.multiselect, "Binary losses", P + "bin_losses",
                                   options=BINARY_LOSSES)
with b2:
    bin_target = widgets.persistent(st.radio, "Target", P + "bin_target", options=[0, 1],
                                    horizontal=True)
with b3:
    bin_range = widgets.persistent(st.slider, "Prediction range", P + "bin_range",
                                   min_value=-2.0, max_value=3.0, step=0.05)
with b4:
    bin_pred = widgets.persistent(st.number_input, "At prediction", P + "bin_prediction",
                                  step=0.05, format="%.6g")
st.caption("binary_crossentropy clips the probability to [1e-7, 1 − 1e-7], as Keras does; "
           "hinge losses read a 0/1 target as −1/+1 and take any real score.")
if bin_range[0] >= bin_range[1]:
    st.error("The prediction range needs a lower end below its upper end.")
else:
    loss_section("binary", bin_names, float(bin_target), bin_range, float(bin_pred))

with st.expander("Keras code that prints these numbers"):
    st.code(
        keras_snippet(
            list(chosen), marks, (float(reg_target), float(reg_pred), list(reg_names)),
            (float(bin_target), float(bin_pred), list(bin_names)),
        ),
        language="python",
    )
    st.caption("float64, so the loss tables match to the last digit (the activation table rounds "
               "to float32, as Keras prints by default); derivatives by TensorFlow's "
               "GradientTape.")
