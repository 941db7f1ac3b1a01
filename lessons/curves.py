"""Activation functions and losses side by side, with their derivatives, as Keras computes them.

The markers show where the forward-pass page's current neurons sit on each activation curve.
Settings live in ``ui.curves.state``, controls and sections in ``ui.curves.panels``.
"""

from __future__ import annotations

import streamlit as st

from nn_core.basics.classification import classification_view
from nn_core.basics.keras_code import curves_script
from ui.common import downloads, lesson, widgets
from ui.common.i18n import _
from ui.curves import panels, state

st.title(_("Activation and loss curves"))
st.write(_(
    "An activation bends a neuron's sum into its output; its derivative decides how much of the "
    "error flows back through the neuron during training. A loss turns the distance between "
    "prediction and target into one number to minimise, and its derivative is where "
    "backpropagation starts."
))

try:
    marks, fwd_hidden, fwd_output, fwd_target, fwd_y = state.forward_values()
except ValueError:
    marks, fwd_hidden, fwd_output, fwd_target, fwd_y = {}, "linear", "linear", 0.0, 0.0
lesson.open_from_url(state.STATE, state.TASKS, reg_target=fwd_target, reg_prediction=fwd_y)
lesson.lesson_note(state.STATE)
widgets.persistent(st.toggle, _("Exact numbers (as the Keras code prints them)"),
                   state.P + "exact",
                   help=_("Off: numbers at the lesson's precision (1.8263). On: every digit "
                          "the Keras code below prints: float32 for the activations "
                          "(1.8262999), 7 decimals of float64 for the losses and softmax."))

st.header(_("Activation functions"))


def activation_part() -> None:
    """The activation controls and curves; the link follows their settings."""
    chosen, x_range, y_range, show_marks = panels.activation_controls()
    state.STATE.write_url(drawn=("activations", "x_range", "y_range", "markers"))
    if x_range[0] >= x_range[1] or y_range[0] >= y_range[1]:
        st.error(_("Each range needs a lower end below its upper end."))
    elif not chosen:
        st.info(_("Pick at least one activation to draw."))
    else:
        panels.activation_section(chosen, x_range, y_range, marks if show_marks else {},
                                  fwd_hidden, fwd_output)


# The activation part is a fragment: a new activation or range (what students move most here)
# reruns its curves and the link, not the loss and softmax sections (benchmarks/loadtest.py).
# While the Keras code at the bottom is open it prints the chosen activations too, so then the
# part runs with the page.
if st.session_state.get(state.P + "code_open"):
    activation_part()
else:
    st.fragment(activation_part)()

st.header(_("Losses"))
st.subheader(_("Regression: a real-valued target"))
reg_names, reg_target, reg_range, reg_pred = panels.regression_controls()
panels.loss_section("regression", reg_names, reg_target, reg_range, reg_pred)

st.subheader(_("Binary: a 0/1 target and a probability"))
bin_names, bin_target, bin_range, bin_pred = panels.binary_controls()
st.caption(_("binary_crossentropy clips the probability to [1e-7, 1 − 1e-7], as Keras does; "
             "hinge losses read a 0/1 target as −1/+1 and take any real score."))
panels.loss_section("binary", bin_names, bin_target, bin_range, bin_pred)

st.header(_("Ten outputs: softmax, one-hot and categorical losses"))
st.write(_(
    "Lessons 000-001's 784-800-400-10 network ends in Dense(10, activation=\"softmax\"): ten "
    "outputs z, the logits, one per digit. Softmax turns them into ten probabilities that add "
    "up to 1; the target is the true digit, written one-hot (a 1 at its place, 0 elsewhere) "
    "for categorical_crossentropy or as the digit itself for sparse_categorical_crossentropy. "
    "Edit the logits and the true digit, and follow the numbers."
))
controls_col, charts_col = st.columns([1, 2], gap="large")
with controls_col:
    logits_table, label = panels.softmax_controls()
try:
    view = classification_view(state.read_logits(logits_table), label)
except ValueError as exc:
    view = None
    st.error(_("These logits cannot be used. {reason}").format(reason=exc))
if view is not None:
    with charts_col:
        panels.softmax_charts(view)
    panels.softmax_numbers(view)
state.STATE.write_url()
lesson.task_panel(state.STATE, state.TASKS, {
    "reg_target": reg_target, "reg_prediction": reg_pred, "label": label,
    "probabilities": None if view is None else view.probabilities})

code_box = widgets.lazy_expander(_("Keras code that prints these numbers"), state.P + "code_open")
if code_box.open:
    with code_box:
        code = curves_script(state.STATE["activations"], marks, (reg_target, reg_pred, reg_names),
                             (bin_target, bin_pred, bin_names), gettext=_)
        downloads.show_code(code, "activations_and_losses", _("Activation and loss curves"),
                             key=state.P + "code")
        st.caption(_("float64, so with “Exact numbers” on the loss tables match to the last "
                     "digit (the activation table rounds to float32, as Keras prints by default); "
                     "derivatives by TensorFlow's GradientTape."))
        if view is not None:
            st.markdown(_("**The ten outputs**: softmax and the categorical losses."))
            softmax_code = state.softmax_script(view.logits, view.label)
            downloads.show_code(softmax_code, "softmax_and_categorical_losses",
                                 _("Softmax and the categorical losses"),
                                 key=state.P + "softmax_code")

lesson.teacher_panel(state.STATE, state.TASKS)
