"""Draw a digit: a CNN trained on MNIST reads your drawing, layer by layer (lessons 000-004).

TensorFlow never runs in this process (see issue 4): predictions and feature maps come from one
NumPy forward pass (``nn_core.cnn.numpy_forward``) over weights exported by a worker, and
training runs in spawned processes owned by one process-wide ``JobRegistry``. The panels live in
``ui.digits.panels`` and ``ui.digits.training``, the settings table, callbacks and cached
loaders in ``ui.digits.state``, figures in ``ui.digits.figures``.
"""

from __future__ import annotations

import streamlit as st

from nn_core.cnn.keras_code import model_script
from nn_core.training import runs
from ui.common import downloads, lesson, widgets
from ui.common.i18n import _
from ui.digits import panels, state, training

lesson.open_from_url(state.STATE, state.TASKS)
lesson.lesson_note(state.STATE)
st.title(_("Draw a digit"))
st.write(_("Draw a digit and watch a convolutional network trained on MNIST read it: the "
           "28×28 image it sees, the probability of each digit, and what every layer makes "
           "of your drawing. Everything is computed by a NumPy copy of the Keras network."))
runs_dir = runs.default_runs_dir()

st.subheader(_("1. Choose a network"))
model = panels.model_panel(runs_dir, runs.DEFAULT_MODEL_DIR)
if model is not None:
    downloads.model_downloads(model.run_dir, key=state.P + "model_files")

st.subheader(_("2. Draw a digit"))
panels.canvas_controls()
# 2. The canvas and what the network reads, 3. Inside the network: a stroke reruns only the
# canvas, the prediction and the feature maps (a fragment).
panels.drawing_and_maps(model)

if model is not None:
    st.subheader(_("4. How good is this network?"))
    panels.evaluation_panel(model)

st.subheader(_("5. Train a network in the background"))
st.write(_("Training runs in its own process on the server, so this page (and everybody "
           "else's) stays responsive. You can switch pages and come back: the job keeps "
           "going. Each student has one training at a time; identical settings share one "
           "job, and jobs beyond the server's limit wait in a queue."))
training.training_panel(runs_dir)

if model is not None:
    code_box = widgets.lazy_expander(_("Keras code of this network"), state.P + "code_open")
    if code_box.open:
        with code_box:
            code = model_script(model.spec, gettext=_)
            downloads.show_code(code, "mnist_network", _("A convolutional network for MNIST"),
                                 key=state.P + "code")

state.STATE.write_url()
lesson.teacher_panel(state.STATE, state.TASKS)
