"""The forward-pass page's settings, callbacks, controls and text (lessons/forward_pass.py).

Every setting lives in Session State under ``fwd_<name>`` (``ui.widgets``); every number comes
from ``nn_core.basics.network`` in DTYPE and is written as NumPy prints it (``num``).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from nn_core import course
from nn_core.basics.activations import ACTIVATIONS, ELEMENTWISE_ACTIVATIONS, activation_derivative
from nn_core.basics.losses import BINARY_LOSSES, LOSSES, REGRESSION_LOSSES, loss_gradient
from nn_core.basics.network import (
    WEIGHT_NAMES,
    ForwardResult,
    format_keras,
    loss_and_gradients,
    training_step,
)
from ui import figures, widgets
from ui.figures import short, tex

P = "fwd_"  # Session State prefix of this page
DTYPE = course.FORWARD_DTYPE
LOSS_CHOICES: tuple[str, ...] = REGRESSION_LOSSES + BINARY_LOSSES
SETTINGS: tuple[str, ...] = (*WEIGHT_NAMES, "x1", "x2", "target", "hidden", "output", "loss", "lr")
# what each setting may be when it arrives in the URL (?w1=0.5&hidden=relu ...)
URL_SPEC: Mapping[str, Any] = MappingProxyType({
    **{name: float for name in (*WEIGHT_NAMES, "x1", "x2", "target", "lr")},
    "hidden": ELEMENTWISE_ACTIVATIONS, "output": ELEMENTWISE_ACTIVATIONS, "loss": LOSS_CHOICES,
})


def page_defaults() -> dict[str, Any]:
    """The lesson's worked example (nn_core.course), under this page's keys."""
    values = dict(zip(WEIGHT_NAMES, course.FORWARD_WEIGHTS, strict=True))
    values |= {
        "x1": course.FORWARD_INPUTS[0], "x2": course.FORWARD_INPUTS[1],
        "target": course.FORWARD_TARGET, "hidden": course.FORWARD_HIDDEN_ACTIVATION,
        "output": course.FORWARD_OUTPUT_ACTIVATION, "loss": course.FORWARD_LOSS,
        "lr": course.FORWARD_LEARNING_RATE,
    }
    state = {P + k: v for k, v in values.items()}
    return state | {P + "history": [], P + "last_step": None, P + "step_error": None}


def num(value: float) -> str:
    """A number as Keras/NumPy print it in DTYPE (shortest digits that round-trip)."""
    return format_keras(value, DTYPE)


def tx(value: float, factor: bool = True) -> str:
    """A number for LaTeX, written as ``num`` does; a negative factor in parentheses."""
    return tex(value, factor=factor, fmt=num)


def rounded(values: list[float]) -> list[float]:
    """The values as Keras stores them in DTYPE (it casts weights and inputs so)."""
    return np.asarray(values, dtype=np.float64).astype(DTYPE).astype(np.float64).tolist()


def current() -> dict[str, Any]:
    """The page's settings as stored in Session State, without the prefix."""
    return {k: st.session_state[P + k] for k in SETTINGS}


def weights_of(s: dict[str, Any]) -> list[float]:
    """w1..w6 (6,) from the settings."""
    return [float(s[name]) for name in WEIGHT_NAMES]


def net_args(s: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments of nn_core.basics.network's loss functions for these settings."""
    return {"weights": weights_of(s), "inputs": [s["x1"], s["x2"]], "target": s["target"],
            "hidden": s["hidden"], "output": s["output"], "loss": s["loss"], "dtype": DTYPE}


def signature(s: dict[str, Any]) -> tuple:
    """What the training history depends on (not the learning rate)."""
    return tuple(s[k] for k in SETTINGS if k != "lr")


def on_train_step() -> None:
    """Button callback: one step w <- w - lr * dL/dw, with the loss before and after."""
    s = current()
    state = st.session_state
    state[P + "step_error"] = None
    try:
        with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported below
            before, _ = loss_and_gradients(**net_args(s))
            new = training_step(**net_args(s), learning_rate=float(s["lr"]))
            finite = bool(np.all(np.isfinite(new)))
            after = (loss_and_gradients(**(net_args(s) | {"weights": new.tolist()}))[0]
                     if finite else np.inf)
    except (ValueError, FloatingPointError) as exc:
        state[P + "step_error"] = f"The step could not be taken: {exc}"
        return
    if not (finite and np.isfinite(after)):
        state[P + "step_error"] = (
            f"With learning rate {short(s['lr'])} the step overflows (the weights would become "
            "infinite): lower the learning rate."
        )
        return
    history = state[P + "history"]
    if not history or state.get(P + "history_of") != signature(s):
        history = [before]
    for name, value in zip(WEIGHT_NAMES, new, strict=True):
        state[P + name] = float(value)
    state[P + "history"] = [*history, after]
    state[P + "history_of"] = signature(current())
    state[P + "last_step"] = {"before": before, "after": after, "lr": float(s["lr"])}


def on_reset() -> None:
    """Button callback: back to the lesson's worked example."""
    widgets.reset_state(page_defaults())


def apply_url() -> list[str]:
    """On a session's first visit, settings in the URL override the defaults; returns problems."""
    values, problems = widgets.decode_params(st.query_params.to_dict(), URL_SPEC)
    for name, value in values.items():
        st.session_state[P + name] = value
    return problems


def controls() -> None:
    """Three columns: inputs, target and loss; the hidden layer; the output layer."""
    col_in, col_hidden, col_out = st.columns(3, gap="large")
    with col_in:
        st.subheader("Inputs and target")
        widgets.slider_number("x1", P + "x1", *course.INPUT_RANGE, 0.1)
        widgets.slider_number("x2", P + "x2", *course.INPUT_RANGE, 0.1)
        widgets.slider_number("target", P + "target", *course.INPUT_RANGE, 0.01,
                              help="The value the network should output (y_real in the lesson).")
        loss_name = widgets.persistent(st.selectbox, "Loss", P + "loss", options=LOSS_CHOICES)
        st.caption(LOSSES[loss_name].summary)
    with col_hidden:
        st.subheader("Hidden layer: N1, N2")
        hidden = widgets.persistent(st.selectbox, "Hidden activation", P + "hidden",
                                    options=ELEMENTWISE_ACTIVATIONS)
        st.caption(ACTIVATIONS[hidden].summary)
        for name in WEIGHT_NAMES[:4]:
            widgets.slider_number(name, P + name, *course.WEIGHT_RANGE, 0.01)
    with col_out:
        st.subheader("Output layer: Y")
        output = widgets.persistent(st.selectbox, "Output activation", P + "output",
                                    options=ELEMENTWISE_ACTIVATIONS)
        st.caption(ACTIVATIONS[output].summary)
        for name in WEIGHT_NAMES[4:]:
            widgets.slider_number(name, P + name, *course.WEIGHT_RANGE, 0.01)


def metrics(s: dict[str, Any], f: ForwardResult, exact: ForwardResult, loss: float) -> None:
    """N1, N2, Y, target and loss as Keras prints them, and the lesson's exact numbers."""
    m = st.columns(5)
    hid_note = "" if s["hidden"] == "linear" else f" after {s['hidden']}"
    m[0].metric(f"N1{hid_note}", num(f.n1), help=f"before the activation: {num(f.n1_in)}")
    m[1].metric(f"N2{hid_note}", num(f.n2), help=f"before the activation: {num(f.n2_in)}")
    out_note = "" if s["output"] == "linear" else f" after {s['output']}"
    m[2].metric(f"Y{out_note}", num(f.y), help=f"before the activation: {num(f.y_in)}")
    m[3].metric("target", num(float(s["target"])))
    m[4].metric(f"loss ({s['loss']})", num(loss))
    st.caption(
        f"Values are {DTYPE}, exactly as Keras computes with its default precision, written as "
        f"it prints them. In exact arithmetic (to 7 digits), as the lesson works it by hand, the "
        f"same network gives N1 = {short(exact.n1, 7)}, N2 = {short(exact.n2, 7)}, "
        f"Y = {short(exact.y, 7)}."
    )
    if LOSSES[s["loss"]].kind == "binary" and s["output"] not in ("sigmoid", "hard_sigmoid"):
        st.info(f"{s['loss']} expects a probability in (0, 1) and a 0/1 target: try the sigmoid "
                "output activation.")


def step_panel(s: dict[str, Any]) -> None:
    """Learning rate, step and reset buttons; the last step's losses and the loss history."""
    lr_col, step_col, reset_col = st.columns([2, 1, 1], vertical_alignment="bottom")
    with lr_col:
        widgets.persistent(st.number_input, "Learning rate lr", P + "lr", min_value=0.0,
                           step=0.001, format="%.6g")
    step_col.button("One training step", type="primary", on_click=on_train_step, key=P + "step",
                    width="stretch")
    reset_col.button("Reset to the lesson's example", on_click=on_reset, key=P + "reset",
                     width="stretch")
    if st.session_state[P + "step_error"]:
        st.error(st.session_state[P + "step_error"])
    last = st.session_state[P + "last_step"]
    history = st.session_state[P + "history"]
    if last is None or not history or st.session_state.get(P + "history_of") != signature(s):
        return
    a, b, c = st.columns([1, 1, 2])
    a.metric("loss before the step", num(last["before"]))
    b.metric("loss after the step", num(last["after"]),
             delta=num(last["after"] - last["before"]), delta_color="inverse")
    if last["after"] > last["before"]:
        st.warning(
            f"The loss went up: with lr = {short(last['lr'])} the step overshot the minimum "
            "along the steepest weights. Try a smaller learning rate, say a tenth of it."
        )
    c.plotly_chart(
        figures.loss_step_figure({"loss": np.array(history)}, log_y=False, height=220,
                                 title=f"{len(history) - 1} training step(s)"),
        key=P + "history_chart", config={"displayModeBar": False},
    )


def direction(gradient: float) -> str:
    """Which way a gradient step moves a weight: against the gradient's sign."""
    if gradient > 0:
        return "↓ decrease"
    if gradient < 0:
        return "↑ increase"
    return "· stays"


def gradient_table(s: dict[str, Any], grads: np.ndarray, stepped: np.ndarray) -> pd.DataFrame:
    """Each weight, its gradient dL/dw (6,), the way a step moves it and its value after it."""
    return pd.DataFrame({
        "weight": list(WEIGHT_NAMES),
        "value": [num(v) for v in weights_of(s)],
        "∂L/∂w": [num(float(g)) for g in grads],
        "a step moves it": [direction(float(g)) for g in grads],
        f"after one step (lr {short(float(s['lr']))})": [num(float(v)) for v in stepped],
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
    """The chain rule for w5 and w1 with every factor from nn_core and the result of backprop."""
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
