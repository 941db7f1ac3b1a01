"""The forward-pass page's controls, numbers, tables and formulas (lessons/forward_pass.py).

Values come from the settings table (``ui.forward.state.STATE``) and from ``Network``; every
number is written as Keras prints it in float32 (``state.num``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import streamlit as st

from nn_core.basics.activations import ACTIVATIONS, ELEMENTWISE_ACTIVATIONS, activation_derivative
from nn_core.basics.losses import LOSSES, ONE_OUTPUT_LOSSES, loss_gradient
from nn_core.basics.network import WEIGHT_NAMES, ForwardResult
from nn_core.cnn.summary import (
    WeightMatrix,
    keras_weight_layout,
    network_summary_rows,
    summary_records,
    total_params,
)
from ui.common import charts, widgets
from ui.common import figures as common_figures
from ui.common.format import short, tex
from ui.common.i18n import _, catalog, ngettext
from ui.forward.state import (
    DTYPE,
    INPUT_RANGE,
    WEIGHT_RANGE,
    P,
    num,
    on_reset,
    on_train_step,
    rounded,
    signature,
    weights_of,
)


def tx(value: float, factor: bool = True) -> str:
    """A number for LaTeX, written as ``num`` does; a negative factor in parentheses."""
    return tex(value, factor=factor, fmt=num)


def controls() -> None:
    """Three columns: inputs, target and loss; the hidden layer; the output layer."""
    col_in, col_hidden, col_out = st.columns(3, gap="large")
    with col_in:
        st.subheader(_("Inputs and target"))
        widgets.slider_number("x1", P + "x1", *INPUT_RANGE, 0.1)
        widgets.slider_number("x2", P + "x2", *INPUT_RANGE, 0.1)
        widgets.slider_number(_("target"), P + "target", *INPUT_RANGE, 0.01,
                              help=_("The value the network should output (y_real in the "
                                     "lesson)."))
        loss_name = widgets.persistent(st.selectbox, _("Loss function"), P + "loss",
                                       options=ONE_OUTPUT_LOSSES)
        st.caption(_(LOSSES[loss_name].summary))
    with col_hidden:
        st.subheader(_("Hidden layer: N1, N2"))
        hidden = widgets.persistent(st.selectbox, _("Hidden activation"), P + "hidden",
                                    options=ELEMENTWISE_ACTIVATIONS)
        st.caption(_(ACTIVATIONS[hidden].summary))
        for name in WEIGHT_NAMES[:4]:
            widgets.slider_number(name, P + name, *WEIGHT_RANGE, 0.01)
    with col_out:
        st.subheader(_("Output layer: Y"))
        output = widgets.persistent(st.selectbox, _("Output activation"), P + "output",
                                    options=ELEMENTWISE_ACTIVATIONS)
        st.caption(_(ACTIVATIONS[output].summary))
        for name in WEIGHT_NAMES[4:]:
            widgets.slider_number(name, P + name, *WEIGHT_RANGE, 0.01)


def metrics(s: dict[str, Any], f: ForwardResult, exact: ForwardResult, loss: float) -> None:
    """N1, N2, Y, target and loss as Keras prints them, and the lesson's exact numbers."""
    row = st.container(horizontal=True, gap="medium")  # not st.columns: 5 messages fewer a run

    def label(name: str, activation: str) -> str:
        return name if activation == "linear" else _("{neuron} after {activation}").format(
            neuron=name, activation=activation)

    before = _("before the activation: {value}")
    row.metric(label("N1", s["hidden"]), num(f.n1), help=before.format(value=num(f.n1_in)))
    row.metric(label("N2", s["hidden"]), num(f.n2), help=before.format(value=num(f.n2_in)))
    row.metric(label("Y", s["output"]), num(f.y), help=before.format(value=num(f.y_in)))
    row.metric(_("target"), num(float(s["target"])))
    row.metric(_("loss ({name})").format(name=s["loss"]), num(loss))
    st.caption(_(
        "Values are {dtype}, exactly as Keras computes with its default precision, written as "
        "it prints them. In exact arithmetic (to 7 digits), as the lesson works it by hand, the "
        "same network gives N1 = {n1}, N2 = {n2}, Y = {y}."
    ).format(dtype=DTYPE, n1=short(exact.n1, 7), n2=short(exact.n2, 7), y=short(exact.y, 7)))
    if LOSSES[s["loss"]].kind == "binary" and s["output"] not in ("sigmoid", "hard_sigmoid"):
        st.info(_("{loss} expects a probability in (0, 1) and a 0/1 target: try the sigmoid "
                  "output activation.").format(loss=s["loss"]))


def step_panel(s: dict[str, Any]) -> None:
    """Learning rate, step and reset buttons; the last step's losses and the loss history."""
    # a horizontal container rather than st.columns: fewer messages on every run; the buttons
    # as wide as their labels, the rate taking the rest (they wrap on a phone)
    row = st.container(horizontal=True, vertical_alignment="bottom")
    with row:
        widgets.persistent(st.number_input, _("Learning rate lr"), P + "lr", min_value=0.0,
                           step=0.001, format="%.6g")
    row.button(_("One training step"), type="primary", on_click=on_train_step, key=P + "step",
               width="content")
    row.button(_("Reset to the lesson's example"), on_click=on_reset, key=P + "reset",
               width="content")
    if st.session_state[P + "step_error"]:
        st.error(st.session_state[P + "step_error"])
    last = st.session_state[P + "last_step"]
    history = st.session_state[P + "history"]
    if last is None or not history or st.session_state.get(P + "history_of") != signature(s):
        return
    a, b, c = st.columns([1, 1, 2])
    a.metric(_("loss before the step"), num(last["before"]))
    b.metric(_("loss after the step"), num(last["after"]),
             delta=num(last["after"] - last["before"]), delta_color="inverse")
    if last["after"] > last["before"]:
        st.warning(_(
            "The loss went up: with lr = {lr} the step overshot the minimum along the steepest "
            "weights. Try a smaller learning rate, say a tenth of it."
        ).format(lr=short(last["lr"])))
    charts.show(
        common_figures.loss_step_figure({_("loss"): np.array(history)}, log_y=False, height=220,
                                 title=ngettext("{n} training step", "{n} training steps",
                                                len(history) - 1).format(n=len(history) - 1)),
        "forward-training-steps", where=c, key=P + "history_chart",
    )


def direction(gradient: float) -> str:
    """Which way a gradient step moves a weight: against the gradient's sign."""
    if gradient > 0:
        return "↓ " + _("decrease")
    if gradient < 0:
        return "↑ " + _("increase")
    return "· " + _("stays")


def gradient_table(s: dict[str, Any], grads: np.ndarray, stepped: np.ndarray) -> pa.Table:
    """Each weight, its gradient dL/dw (6,), the way a step moves it and its value after it.

    An Arrow table of strings: Streamlit sends Arrow, and building it from a pandas frame cost
    ten times as much on every move of a slider (0.47 against 0.05 ms, measured)."""
    return pa.table({
        _("weight"): list(WEIGHT_NAMES),
        _("value"): [num(v) for v in weights_of(s)],
        "∂L/∂w": [num(float(g)) for g in grads],
        _("a step moves it"): [direction(float(g)) for g in grads],
        _("after one step (lr {lr})").format(lr=short(float(s["lr"]))):
            [num(float(v)) for v in stepped],
    })


def latex_forward(s: dict[str, Any], f: ForwardResult, loss: float) -> str:
    """The lesson's arithmetic with the live numbers, as one aligned LaTeX block."""
    w = rounded(weights_of(s))
    x1, x2, hid, out = *rounded([s["x1"], s["x2"]]), s["hidden"], s["output"]
    rows = [
        rf"N_1 &= x_1 w_1 + x_2 w_2 = {tx(x1)} \cdot {tx(w[0])} + {tx(x2)} \cdot {tx(w[1])}"
        rf" = {tx(f.n1_in, False)}",
        rf"N_2 &= x_1 w_3 + x_2 w_4 = {tx(x1)} \cdot {tx(w[2])} + {tx(x2)} \cdot {tx(w[3])}"
        rf" = {tx(f.n2_in, False)}",
    ]
    h1, h2 = "N_1", "N_2"
    if hid != "linear":
        op = rf"\operatorname{{{hid}}}"
        rows += [rf"{op}(N_1) &= {op}({tx(f.n1_in, False)}) = {tx(f.n1, False)}",
                 rf"{op}(N_2) &= {op}({tx(f.n2_in, False)}) = {tx(f.n2, False)}"]
        h1, h2 = rf"{op}(N_1)", rf"{op}(N_2)"
    rows.append(rf"Y &= {h1}\, w_5 + {h2}\, w_6 = {tx(f.n1)} \cdot {tx(w[4])} + {tx(f.n2)} "
                rf"\cdot {tx(w[5])} = {tx(f.y_in, False)}")
    if out != "linear":
        op = rf"\operatorname{{{out}}}"
        rows.append(rf"{op}(Y) &= {op}({tx(f.y_in, False)}) = {tx(f.y, False)}")
    t, y = rounded([s["target"]])[0], f.y
    formula = {"mse": rf"(t - Y)^2 = ({tx(t)} - {tx(y)})^2",
               "mae": rf"|t - Y| = |{tx(t)} - {tx(y)}|"}.get(s["loss"], "")
    name = s["loss"].replace("_", r"\_")
    rows.append(rf"L &= \operatorname{{{name}}}(t, Y) = {formula + ' = ' if formula else ''}"
                rf"{tx(loss, False)}")
    return r"\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}"


def latex_chain(s: dict[str, Any], f: ForwardResult, grads: np.ndarray) -> str:
    """The chain rule for w5 and w1: every factor, and the result of backpropagation."""
    t = np.array([rounded([s["target"]])])
    dl_dy = float(np.asarray(loss_gradient(s["loss"], t, np.array([[f.y]]))).ravel()[0])
    d_out = float(activation_derivative(s["output"], np.array([f.y_in]))[0])
    d_hid = float(activation_derivative(s["hidden"], np.array([f.n1_in]))[0])
    w5, x1 = rounded([s["w5"], s["x1"]])
    h1 = "N_1" if s["hidden"] == "linear" else rf"\operatorname{{{s['hidden']}}}(N_1)"
    return (
        r"\begin{aligned}"
        rf"\frac{{\partial L}}{{\partial w_5}} &= \frac{{\partial L}}{{\partial Y}} \cdot "
        rf"f_{{out}}'(Y) \cdot {h1} = {tx(dl_dy)} \cdot {tx(d_out)} \cdot {tx(f.n1)} "
        rf"= {tx(grads[4], False)} \\"
        rf"\frac{{\partial L}}{{\partial w_1}} &= \frac{{\partial L}}{{\partial Y}} \cdot "
        rf"f_{{out}}'(Y) \cdot w_5 \cdot f_{{hid}}'(N_1) \cdot x_1 = {tx(dl_dy)} \cdot "
        rf"{tx(d_out)} \cdot {tx(w5)} \cdot {tx(d_hid)} \cdot {tx(x1)} "
        rf"= {tx(grads[0], False)}"
        r"\end{aligned}"
    )


def weight_matrix_table(matrix: WeightMatrix, values: dict[str, float]) -> pd.DataFrame:
    """One Keras kernel (inputs, units) as a table: rows its inputs, columns its units, each
    cell the weight's name and current value ("w3 = -0.56")."""
    return pd.DataFrame([[f"{name} = {num(values[name])}" for name in row]
                         for row in matrix.labels],
                        index=[_("from {neuron}").format(neuron=r) for r in matrix.rows],
                        columns=[_("to {neuron}").format(neuron=c) for c in matrix.columns])


def get_weights_text(s: dict[str, Any]) -> str:
    """What ``model.get_weights()`` prints for these weights: the (2, 2) and (2, 1) kernels."""
    values = dict(zip(WEIGHT_NAMES, rounded(weights_of(s)), strict=True))
    arrays = [np.array([[values[n] for n in row] for row in m.labels], dtype=DTYPE)
              for m in keras_weight_layout()]
    return "[" + ",\n ".join(repr(a).replace("\n", "\n ") for a in arrays) + "]"


def parameters_section(s: dict[str, Any]) -> None:
    """model.summary() of the 2-2-1 network (4 + 2 = 6 weights) and where w1..w6 sit in
    Keras's weight arrays, with their current values."""
    rows = network_summary_rows(s["hidden"], s["output"], catalog())
    st.dataframe(pd.DataFrame(summary_records(rows, catalog())), hide_index=True, width="stretch",
                 key=P + "summary")
    st.markdown(_("**Total params: {total}** ({terms}), no biases: the lesson's layers are "
                  "Dense(..., use_bias=False).").format(
        total=total_params(rows), terms=" + ".join(str(r.params) for r in rows)))
    st.write(_("Keras keeps each Dense layer's weights as one kernel of shape (inputs, units): a "
               "row per input, a column per unit. w1 and w2 both feed N1, so they form N1's "
               "column, not a row: Keras computes x @ kernel."))
    values = dict(zip(WEIGHT_NAMES, rounded(weights_of(s)), strict=True))
    columns = st.columns([3, 2])
    for column, matrix in zip(columns, keras_weight_layout(catalog()), strict=True):
        with column:
            st.markdown(f"**{matrix.layer}**")
            st.dataframe(weight_matrix_table(matrix, values), width="stretch",
                         key=P + "layout_" + "_".join(matrix.columns).lower())
    # Markdown, not st.code: the page's one st.code block is its Keras script, at the end.
    st.markdown(_("`model.get_weights()` prints them in that layout:") + "\n\n```python\n"
                + get_weights_text(s) + "\n```")
