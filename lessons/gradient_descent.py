"""Gradient descent over the 3D error surface of lesson 002's two-weight model.

One neuron, ``Dense(1, use_bias=False)``: y = x1*w1 + x2*w2. Every surface value, path and step
count comes from ``nn_core.basics.descent``, which copies Keras's optimizers update for update.
Settings, scenario buttons, tables and text live in ``ui.descent_state``, figures in
``ui.figures``.
"""

from __future__ import annotations

import streamlit as st

from nn_core.basics.descent import loss_and_gradient, lr_thresholds, mse_minimum
from nn_core.basics.keras_code import descent_script
from nn_core.basics.optimizers import OPTIMIZERS
from ui import figures, widgets
from ui.descent_state import (
    P,
    as_tuple,
    cached_paths,
    cached_surface,
    controls,
    course_steps,
    course_text,
    minimum_text,
    page_defaults,
    path_labels,
    path_warnings,
    read_data,
    read_runs,
    regimes_text,
    results_table,
    scaled_inputs,
    scenario_buttons,
    step_slider,
)
from ui.figures import PathTrace

st.title("Gradient descent over the error surface")
st.write(
    "Lesson 002's single neuron has two weights, so its loss over every pair (w1, w2) is a "
    "surface you can look at. Training starts at the red point and each optimizer takes steps "
    "downhill; the learning rate decides whether it crawls, arrives, oscillates or flies off."
)

widgets.init_state(page_defaults())
scenario_buttons()
runs_df, data_df, scale, loss_name, start, steps = controls()

try:
    data = read_data(data_df)
    inputs = scaled_inputs(data, scale)
    runs = read_runs(runs_df)
    key = (as_tuple(inputs), as_tuple(data[1]), loss_name)
    w1_axis, w2_axis, surface = cached_surface(*key)
    paths = cached_paths(tuple(runs), tuple(start), *key, steps) if runs else []
    minimum = mse_minimum(inputs, data[1])
    min_loss, _ = loss_and_gradient(minimum, inputs, data[1], loss_name)
    start_loss, _ = loss_and_gradient(start, inputs, data[1], loss_name)
    one, two = lr_thresholds(inputs)
    course = course_steps(tuple(start), *key, tuple(minimum.tolist()))
except ValueError as exc:
    st.error(f"{exc}")
    st.stop()

st.info(course_text(course, minimum, start))
if loss_name != "mse" and min_loss > 1e-12:
    st.caption(f"The star marks mse's minimum {minimum_text(minimum)}; with {loss_name} and data "
               "no weights fit exactly, the lowest point can sit elsewhere.")

labels = path_labels(runs)
traces = [PathTrace(label, p.weights, p.losses, p.diverged_at)
          for label, p in zip(labels, paths, strict=True)]
step = step_slider(steps)
path_warnings(labels, paths, two, loss_name)
if not runs:
    st.info("Tick at least one optimizer in the table to draw its path.")

left, right = st.columns(2)
left.plotly_chart(
    figures.surface_figure(w1_axis, w2_axis, surface, traces, step=step,
                           start=(*start, start_loss), minimum=(*minimum, min_loss)),
    key=P + "surface",
)
right.plotly_chart(
    figures.contour_figure(w1_axis, w2_axis, surface, traces, step=step, start=start,
                           minimum=tuple(minimum)),
    key=P + "contour",
)
log_y = widgets.persistent(st.toggle, "Logarithmic loss axis", P + "log_y")
st.plotly_chart(
    figures.loss_step_figure({t.label: t.losses for t in traces}, step=step, log_y=log_y,
                             diverged_at={t.label: t.diverged_at for t in traces},
                             title="Loss at every step"),
    key=P + "loss_chart",
)

if runs:
    st.dataframe(results_table(labels, paths, step, steps, minimum), hide_index=True,
                 width="stretch", key=P + "results")
    st.caption("Summaries: " + " ".join(
        f"**{OPTIMIZERS[name].label}**: {OPTIMIZERS[name].summary}"
        for name in dict.fromkeys(name for name, _ in runs)))
st.markdown(regimes_text(one, two, loss_name, len(data[1])))

with st.expander("Keras code that draws the same paths"):
    if runs:
        st.code(descent_script(inputs, data[1], loss_name, start, steps, paths, labels),
                language="python")
        st.caption("Each epoch is one full-batch step, so the weights after `steps` epochs are "
                   "the end of the path above (diverged runs end in inf or nan in Keras).")
    else:
        st.write("Tick an optimizer to get its Keras code.")
