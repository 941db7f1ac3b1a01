"""Lesson 003's convolution, one output pixel at a time: a 3×3 kernel on an MNIST digit (or
the student's drawing), its nine products and their sum, the feature map filling in, pooling,
a colour filter's 27 weights, and the shipped network's learned filters. Every number comes
from ``nn_core.cnn.convolution`` in float32, tested equal to keras.layers.Conv2D and pooling.
"""

from __future__ import annotations

import streamlit as st

from nn_core.cnn.convolution import pool_windows
from ui.common import downloads, lesson, widgets
from ui.common.i18n import _
from ui.convolution import panels, state

st.title(_("How a convolution computes"))
st.write(_(
    "A convolution layer slides a small grid of weights, the kernel, over the image. At each "
    "position it multiplies the 3×3 pixels under the kernel by the weights over them, adds up "
    "the nine products and the bias, and writes that one number into the feature map. Choose "
    "a digit and a kernel, move the kernel, and follow the arithmetic."
))
lesson.open_from_url(state.STATE, state.TASKS)
lesson.lesson_note(state.STATE)
widgets.persistent(st.toggle, _("Exact numbers (as the Keras code prints them)"),
                   state.P + "exact",
                   help=_("Off: numbers at the lesson's precision (0.8706). On: the {digits} "
                          "significant digits the Keras code below prints (0.870588).").format(
                       digits=state.DIGITS))
learned = state.learned_filters()

st.header(_("1. An image and a kernel"))
left, right = st.columns([1, 1], gap="large")
with left:
    image, index, source = panels.image_controls()
with right:
    table, bias, activation = panels.kernel_controls(learned)
if image is None:
    st.error(_("There is no image to convolve: the MNIST test set is missing and there is no "
               "drawing. Draw a digit on the **Draw a digit** page, then come back."))
    st.stop()
try:
    kernel = state.as_dtype(state.read_kernel(table))  # (3, 3) float32, as Keras stores it
except ValueError as exc:
    st.error(_("This kernel cannot be used. {reason}").format(reason=exc))
    st.button(_("Reload the chosen kernel"), key=state.P + "kernel_reset_error",
              on_click=state.on_kernel)
    st.stop()
bias32 = float(state.as_dtype(bias))

st.header(_("2. One position: nine products and their sum"))
row, col = panels.position_controls()
panels.position_section(image, kernel, bias32, activation, row, col, source)

st.header(_("3. Every position: the feature map"))
full = panels.map_section(image, kernel, bias32, activation, row, col)
lesson.task_panel(state.STATE, state.TASKS, {"kernel": kernel, "full": full, "row": row,
                                            "col": col})

st.header(_("4. Pooling: a smaller map that keeps the strongest responses"))
kind, position = panels.pooling_controls()
pooling = pool_windows(full, state.POOL, kind, position)
panels.pooling_section(full, pooling)

st.header(_("5. Colour images: one filter, three channels"))
panels.color_section()

st.header(_("6. Hand-set kernels and learned filters"))
panels.learned_section(learned)

code_box = widgets.lazy_expander(_("Keras code that reproduces these numbers"),
                                 state.P + "code_open")
if code_box.open:
    with code_box:
        code = state.keras_script(image, index, kernel, bias32, activation, (row, col), kind,
                                  position)
        downloads.show_code(code, "convolution", _("How a convolution computes"),
                             key=state.P + "code")
        st.caption(_("Runs as is with the playground's requirements, at Keras's default float32; "
                     "it prints the feature map's value at the kernel's position and the pooled "
                     "value shown above (digit for digit with “Exact numbers” on)."))

state.STATE.write_url()
lesson.teacher_panel(state.STATE, state.TASKS)
