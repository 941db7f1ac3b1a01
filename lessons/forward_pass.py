"""Lesson 002's 2-2-1 network: set every weight and input, follow each neuron's value, the loss,
its gradient, and one step of training. Every number is what Keras computes in float32
(``nn_core.basics.network.Network``), written as Keras prints it.
"""

from __future__ import annotations

import streamlit as st

from nn_core.basics.keras_code import forward_script, training_step_script
from ui.forward import figures, panels, state

st.title("Forward pass of a 2-2-1 network")
st.write(
    "Two inputs, two hidden neurons, one output and no bias, as in lesson 002: each neuron adds "
    "up its inputs times their weights, then applies its activation. Change any weight or input "
    "and follow the numbers through the network to the loss, then let one step of gradient "
    "descent nudge every weight against its gradient."
)

if state.STATE.init():
    for problem in state.STATE.read_url():
        st.warning(f"Ignored a setting in the link: {problem}.")
panels.controls()
s = state.current()
state.STATE.write_url()
st.caption("🔗 The address bar always holds these settings: copy it to share this exact network.")

try:
    net = state.network(s)
    f, exact = net.forward(), state.network(s, "float64").forward()
    loss, grads = net.loss_and_gradients()
    stepped = net.training_step(float(s["lr"]))
    state.check_finite(f, loss, grads)
except ValueError as exc:
    st.error(f"These settings cannot be computed: {exc}")
    st.button("Reset to the lesson's example", on_click=state.on_reset, key=state.P + "reset_error")
    st.stop()

st.divider()
panels.metrics(s, f, exact, loss)
st.plotly_chart(
    figures.network_diagram(
        state.rounded(state.weights_of(s)), state.rounded([s["x1"], s["x2"]]),
        (f.n1_in, f.n2_in, f.y_in), (f.n1, f.n2, f.y), hidden=s["hidden"], output=s["output"],
        target=float(s["target"]), loss=loss, loss_name=s["loss"], fmt=state.num,
    ),
    key=state.P + "diagram", config={"displayModeBar": False},
)
st.caption("Blue edges are positive weights, orange negative; thicker means larger |w|. "
           "Hover over a node or a weight for its numbers.")
st.markdown("**The arithmetic, as the lesson writes it**")
st.latex(panels.latex_forward(s, f, loss))

st.subheader("Backpropagation: which way each weight should move")
st.write(
    "The gradient ∂L/∂w says how fast the loss grows when a weight grows. A step of gradient "
    "descent moves every weight against its gradient, w ← w − lr·∂L/∂w: down where the "
    "gradient is positive, up where it is negative."
)
panels.step_panel(s)
st.dataframe(panels.gradient_table(s, grads, stepped), hide_index=True, width="stretch",
             key=state.P + "gradients")
st.markdown("**The chain rule, for w5 and w1** (every factor computed as Keras does, the result "
            "from backpropagation)")
st.latex(panels.latex_chain(s, f, grads))

with st.expander("Parameters and the Keras weight layout"):
    panels.parameters_section(s)

with st.expander("Keras code that reproduces these numbers"):
    st.code(forward_script(net) + training_step_script(s["loss"], s["target"], s["lr"]),
            language="python")
    st.caption("Runs as is with the playground's requirements, at Keras's default float32; it "
               "prints the Y and loss shown above and the weights after one training step.")
