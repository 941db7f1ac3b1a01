"""Lesson 002's 2-2-1 network: set every weight and input, follow each neuron's value, the loss,
its gradient, and one step of training. Every number is what Keras computes in float32
(``nn_core.basics.network.Network``), written as Keras prints it.
"""

from __future__ import annotations

import streamlit as st

from nn_core.basics.keras_code import forward_script, training_step_script
from ui.common import charts, downloads, lesson, widgets
from ui.common.i18n import _
from ui.forward import figures, panels, state

st.title(_("Forward pass of a 2-2-1 network"))
st.write(_(
    "Two inputs, two hidden neurons, one output and no bias, as in lesson 002: each neuron adds "
    "up its inputs times their weights, then applies its activation. Change any weight or input "
    "and follow the numbers through the network to the loss, then let one step of gradient "
    "descent nudge every weight against its gradient."
))

lesson.open_from_url(state.STATE, state.TASKS)
lesson.lesson_note(state.STATE)


# Everything below the lesson note is one fragment: moving a weight reruns the page's numbers,
# figures and link, not the title, the sidebar and the navigation around them
# (benchmarks/loadtest.py: the server's CPU per move).
@st.fragment
def lesson_page() -> None:
    """Controls, numbers, figures, Keras code and the teacher's panel."""
    panels.controls()
    s = state.current()
    state.STATE.write_url(drawn=state.STATE.settings)  # this fragment draws every setting
    st.caption("🔗 " + _("The address bar always holds these settings: copy it to share this exact "
                        "network."))

    try:
        net = state.network(s)
        f, exact = net.forward(), state.network(s, "float64").forward()
        loss, grads = net.loss_and_gradients()
        stepped = net.training_step(float(s["lr"]))
        state.check_finite(f, loss, grads)
    except ValueError as exc:
        st.error(_("These settings cannot be computed: {reason}").format(reason=exc))
        st.button(_("Reset to the lesson's example"), on_click=state.on_reset,
                  key=state.P + "reset_error")
        st.stop()

    st.divider()
    widgets.persistent(st.toggle, _("Exact numbers (as Keras prints float32)"), state.P + "exact",
                       help=_("Off: numbers at the lesson's precision (1.8263). On: every digit "
                              "Keras prints (1.8262999)."))
    panels.metrics(s, f, exact, loss)
    lesson.task_panel(state.STATE, state.TASKS, {
        "y": f.y, "target": float(s["target"]), "loss": loss, "lr": float(s["lr"]),
        "loss_after": state.loss_after(net, stepped)})
    charts.show(
        figures.network_diagram(
            state.rounded(state.weights_of(s)), state.rounded([s["x1"], s["x2"]]),
            (f.n1_in, f.n2_in, f.y_in), (f.n1, f.n2, f.y), hidden=s["hidden"], output=s["output"],
            target=float(s["target"]), loss=loss, loss_name=s["loss"], fmt=state.num,
        ),
        "forward-diagram", key=state.P + "diagram",
    )
    st.caption(_("Blue edges are positive weights, orange negative; thicker means larger |w|. "
                 "Hover over a node or a weight for its numbers."))
    st.markdown("**" + _("The arithmetic, as the lesson writes it") + "**")
    st.latex(panels.latex_forward(s, f, loss))

    st.subheader(_("Backpropagation: which way each weight should move"))
    st.write(_(
        "The gradient ∂L/∂w says how fast the loss grows when a weight grows. A step of gradient "
        "descent moves every weight against its gradient, w ← w − lr·∂L/∂w: down where the "
        "gradient is positive, up where it is negative."
    ))
    panels.step_panel(s)
    # A plain table on every screen: six rows of text that wrap to a phone, and cheaper to
    # draw than st.dataframe's canvas grid, which was ~20 ms of every slider move in Chromium
    # (benchmarks/bench_browser.py --parts slider)
    st.table(panels.gradient_table(s, grads, stepped), hide_index=True)
    st.markdown(_("**The chain rule, for w5 and w1** (every factor computed as Keras does, the "
                  "result from backpropagation)"))
    st.latex(panels.latex_chain(s, f, grads))

    params = widgets.lazy_expander(_("Parameters and the Keras weight layout"),
                                   state.P + "params_open")
    if params.open:
        with params:
            panels.parameters_section(s)

    code_box = widgets.lazy_expander(_("Keras code that reproduces these numbers"),
                                     state.P + "code_open")
    if code_box.open:
        with code_box:
            code = (forward_script(net, gettext=_)
                    + training_step_script(s["loss"], s["target"], s["lr"], gettext=_))
            downloads.show_code(code, "forward_pass", _("Forward pass of a 2-2-1 network"),
                                 key=state.P + "code")
            st.caption(_("Runs as is with the playground's requirements, at Keras's default "
                         "float32; it prints the Y and loss shown above and the weights after one "
                         "training step."))

    lesson.teacher_panel(state.STATE, state.TASKS)


lesson_page()
