"""Gradient descent over the 3D error surface of lesson 002's two-weight model.

One neuron, ``Dense(1, use_bias=False)``: y = x1*w1 + x2*w2. Every surface value, path and step
count comes from ``nn_core.basics.descent``, which copies Keras's optimizers update for update.
Settings and cached computations live in ``ui.descent.state``, controls and texts in
``ui.descent.panels``, figures in ``ui.descent.figures``.
"""

from __future__ import annotations

import streamlit as st

from nn_core.basics import descent
from nn_core.basics.keras_code import descent_script
from nn_core.basics.optimizers import OPTIMIZERS
from ui.common import charts, downloads, lesson, widgets
from ui.common.i18n import _, current_language
from ui.descent import figures, panels, state

st.title(_("Gradient descent over the error surface"))
st.write(_(
    "Lesson 002's single neuron has two weights, so its loss over every pair (w1, w2) is a "
    "surface you can look at. Training starts at the red point and each optimizer takes steps "
    "downhill; the learning rate decides whether it crawls, arrives, oscillates or flies off."
))

lesson.open_from_url(state.STATE, state.TASKS)
lesson.lesson_note(state.STATE)
state.clean_tables()
panels.scenario_buttons()
runs_df, data_df, scale, loss_name, start, steps = panels.controls()

try:
    data = state.read_data(data_df)
    inputs = state.scaled_inputs(data, scale)
    runs = state.read_runs(runs_df)
    key = (state.as_tuple(inputs), state.as_tuple(data[1]), loss_name)
    w1_axis, w2_axis, surface = state.cached_surface(*key)
    paths = state.cached_paths(tuple(runs), tuple(start), *key, steps) if runs else []
    minimum = descent.mse_minimum(inputs, data[1])
    min_loss = descent.loss_and_gradient(minimum, inputs, data[1], loss_name)[0]
    start_loss = descent.loss_and_gradient(start, inputs, data[1], loss_name)[0]
    one, two = descent.lr_thresholds(inputs)
    reached = state.reached_steps(paths, minimum)
    needed = state.steps_for_course(runs, reached, tuple(start), *key,
                                    tuple(minimum.tolist()))
except ValueError as exc:
    st.error(f"{exc}")
    st.stop()

st.info(panels.course_text(needed, minimum, start))
if loss_name != "mse" and min_loss > 1e-12:
    st.caption(_("The star marks mse's minimum {minimum}; with {loss} and data no weights fit "
                 "exactly, the lowest point can sit elsewhere.").format(
        minimum=panels.minimum_text(minimum), loss=loss_name))

lesson.task_panel(state.STATE, state.TASKS, {"runs": runs, "paths": paths, "minimum": minimum})
labels = state.path_labels(runs)
traces = [figures.PathTrace(label, p.weights, p.losses, p.diverged_at)
          for label, p in zip(labels, paths, strict=True)]
panels.path_warnings(labels, paths, two, loss_name)
if not runs:
    st.info(_("Tick at least one optimizer in the table to draw its path."))
log_y = widgets.persistent(st.toggle, _("Logarithmic loss axis"), state.P + "log_y")
scene = figures.SurfaceScene(  # the step slider moves its balls
    w1_axis, w2_axis, surface, traces, start=(*start, start_loss), minimum=(*minimum, min_loss),
    legend_rows=2 if charts.on_touch_device() else 1)  # a phone's narrow legend wraps


@st.fragment
def walk() -> None:
    """The step slider, the surface, the walk and the table: a step reruns only this part."""
    step = panels.step_slider(steps)
    state.STATE.write_url(drawn=("step",))  # the step travels in the link (this part alone)
    left, right = st.columns(2)
    charts.show(scene.at(step), "descent-surface", where=left, key=state.P + "surface",
                surface=True)
    charts.show(
        state.cached_walk(key, tuple(runs), tuple(start), steps, log_y, current_language()),
        "descent-walk", where=right, key=state.P + "walk",
    )
    right.caption("▶ " + _("Play walks every path's ball in your browser; drag its slider to "
                           "scrub."))
    if runs:
        st.dataframe(panels.results_table(labels, paths, reached, step, steps),
                     hide_index=True, width="stretch", key=state.P + "results")
        st.caption(_("Summaries:") + " " + " ".join(
            f"**{OPTIMIZERS[name].label}**: {panels.optimizer_summary(name)}"
            for name in dict.fromkeys(run[0] for run in runs)))


walk()
st.markdown(panels.regimes_text(one, two, loss_name, len(data[1])))

code_box = widgets.lazy_expander(_("Keras code that draws the same paths"), state.P + "code_open")
if code_box.open:
    with code_box:
        if runs:
            code = descent_script(inputs, data[1], loss_name, start, steps, paths, labels,
                                  gettext=_)
            downloads.show_code(code, "gradient_descent",
                                 _("Gradient descent over the error surface"),
                                 key=state.P + "code")
            st.caption(_("Each epoch is one full-batch step, so the weights after `steps` "
                         "epochs are the end of the path above (diverged runs end in inf or nan "
                         "in Keras)."))
        else:
            st.write(_("Tick an optimizer to get its Keras code."))

lesson.teacher_panel(state.STATE, state.TASKS)
