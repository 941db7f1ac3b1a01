"""Lesson 002's 2-2-1 network: set every weight and input, follow each neuron's value, the loss,
its gradient, and one step of training. Every number comes from ``nn_core.basics.network``,
in float32 as Keras computes by default, and is written as NumPy prints a float32.
Settings, callbacks, controls and text live in ``ui.forward_state``, figures in ``ui.figures``.
"""

from __future__ import annotations

import streamlit as st

from nn_core.basics.keras_code import forward_script, training_step_script
from nn_core.basics.network import forward_pass, loss_and_gradients, training_step
from ui import figures, widgets
from ui.forward_state import (
    DTYPE,
    P,
    apply_url,
    controls,
    current,
    gradient_table,
    latex_chain,
    latex_forward,
    metrics,
    net_args,
    num,
    on_reset,
    page_defaults,
    rounded,
    step_panel,
    weights_of,
)

st.title("Forward pass of a 2-2-1 network")
st.write(
    "Two inputs, two hidden neurons, one output and no bias, as in lesson 002: each neuron adds "
    "up its inputs times their weights, then applies its activation. Change any weight or input "
    "and follow the numbers through the network to the loss, then let one step of gradient "
    "descent nudge every weight against its gradient."
)

if widgets.init_state(page_defaults()):
    for problem in apply_url():
        st.warning(f"Ignored a setting in the link: {problem}.")
controls()
s = current()
widgets.sync_query_params(s)
st.caption("🔗 The address bar always holds these settings: copy it to share this exact network.")

try:
    f = forward_pass(weights_of(s), [s["x1"], s["x2"]], s["hidden"], s["output"], DTYPE)
    exact = forward_pass(weights_of(s), [s["x1"], s["x2"]], s["hidden"], s["output"], "float64")
    loss, grads = loss_and_gradients(**net_args(s))
    stepped = training_step(**net_args(s), learning_rate=float(s["lr"]))
except ValueError as exc:
    st.error(f"These settings cannot be computed: {exc}")
    st.button("Reset to the lesson's example", on_click=on_reset, key=P + "reset_error")
    st.stop()

st.divider()
metrics(s, f, exact, loss)
st.plotly_chart(
    figures.network_diagram(
        rounded(weights_of(s)), rounded([s["x1"], s["x2"]]), (f.n1_in, f.n2_in, f.y_in),
        (f.n1, f.n2, f.y), hidden=s["hidden"], output=s["output"], target=float(s["target"]),
        loss=loss, loss_name=s["loss"], fmt=num,
    ),
    key=P + "diagram", config={"displayModeBar": False},
)
st.caption("Blue edges are positive weights, orange negative; thicker means larger |w|. "
           "Hover over a node or a weight for its numbers.")
st.markdown("**The arithmetic, as the lesson writes it**")
st.latex(latex_forward(s, f, loss))

st.subheader("Backpropagation: which way each weight should move")
st.write(
    "The gradient ∂L/∂w says how fast the loss grows when a weight grows. A step of gradient "
    "descent moves every weight against its gradient, w ← w − lr·∂L/∂w: down where the "
    "gradient is positive, up where it is negative."
)
step_panel(s)
st.dataframe(gradient_table(s, grads, stepped), hide_index=True, width="stretch",
             key=P + "gradients")
st.markdown("**The chain rule, for w5 and w1** (every factor from nn_core, the result from its "
            "backpropagation)")
st.latex(latex_chain(s, f, grads))

with st.expander("Keras code that reproduces these numbers"):
    st.code(forward_script(**net_args(s)) + training_step_script(s["loss"], s["target"], s["lr"]),
            language="python")
    st.caption("Runs as is with the playground's requirements, at Keras's default float32; it "
               "prints the Y and loss shown above and the weights after one training step.")
