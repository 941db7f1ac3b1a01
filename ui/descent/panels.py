"""The descent page's controls, warnings, tables and texts (lessons/gradient_descent.py).

Settings come from ``ui.descent.state.STATE``; numbers from ``nn_core.basics.descent``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import streamlit as st

from nn_core import course
from nn_core.basics.descent import Trajectory, steps_to_reach
from nn_core.basics.losses import LOSSES, REGRESSION_LOSSES
from nn_core.basics.optimizers import OPTIMIZERS
from ui.common import widgets
from ui.common.format import fixed, short
from ui.descent.figures import inside_count
from ui.descent.state import (
    COURSE_SEARCH_STEPS,
    DATA_COLUMNS,
    MAX_STEPS,
    TOLERANCE,
    P,
    on_course,
    on_ravine,
    on_regimes,
)


def scenario_buttons() -> None:
    """One-click scenarios: the course's settings, the learning-rate regimes, the ravine."""
    b1, b2, b3, _ = st.columns([1, 1, 1, 1])
    b1.button("Course settings: Adam(0.001)", on_click=on_course, key=P + "course",
              type="primary", width="stretch")
    b2.button("Show the learning-rate regimes", on_click=on_regimes, key=P + "regimes",
              width="stretch", help="Plain SGD below, at, between and above the thresholds.")
    b3.button("Ravine: SGD vs momentum vs Adam", on_click=on_ravine, key=P + "ravine",
              width="stretch", help="Input 1 scaled by 3: a long narrow valley.")


def controls() -> tuple[pd.DataFrame, pd.DataFrame, float, str, tuple[float, float], int]:
    """The optimizer and data tables, conditioning, loss, start point and steps, as drawn."""
    c_runs, c_data, c_more = st.columns([5, 4, 3], gap="large")
    with c_runs:
        st.markdown("**Optimizers**: tick the ones to run, each with its learning rate; add rows "
                    "to compare learning rates.")
        runs_df = widgets.persistent_editor(
            P + "runs", num_rows="dynamic", hide_index=True, width="stretch",
            column_config={
                "show": st.column_config.CheckboxColumn("show", default=True, width=50),
                "optimizer": st.column_config.SelectboxColumn(
                    "optimizer", options=list(OPTIMIZERS), required=True,
                    format_func=lambda k: OPTIMIZERS[k].label, default="sgd", width=140),
                "learning rate": st.column_config.NumberColumn(
                    "learning rate", format="%.6g", default=0.01, width=100),
            },
        )
    with c_data:
        st.markdown("**Data points**: each row is one sample (x1, x2) → target.")
        data_df = widgets.persistent_editor(
            P + "data", num_rows="dynamic", hide_index=True, width="stretch",
            column_config={c: st.column_config.NumberColumn(c, format="%.6g")
                           for c in DATA_COLUMNS},
        )
        scale = widgets.persistent(
            st.slider, "Conditioning: multiply input 1 by", P + "scale", min_value=0.25,
            max_value=5.0, step=0.25,
            help="At 3 the data become [[3, 0], [0, 1]]: the round bowl turns into a ravine.",
        )
    with c_more:
        loss_name = widgets.persistent(st.selectbox, "Loss", P + "loss",
                                       options=REGRESSION_LOSSES)
        st.caption(LOSSES[loss_name].summary)
        st.markdown("**Start point** (the red point)")
        start = (widgets.slider_number("w1", P + "start_w1", *course.DESCENT_RANGE, 0.05),
                 widgets.slider_number("w2", P + "start_w2", *course.DESCENT_RANGE, 0.05))
        steps = int(widgets.persistent(st.number_input, "Steps", P + "steps", min_value=1,
                                       max_value=MAX_STEPS, step=100))
    return runs_df, data_df, scale, loss_name, start, steps


def step_slider(steps: int) -> int:
    """The scrubber along the paths, kept within 0..``steps``."""
    st.session_state[P + "step"] = min(int(st.session_state[P + "step"]), steps)
    return widgets.persistent(st.slider, "Step (drag to walk along the paths)", P + "step",
                              min_value=0, max_value=steps)


def course_text(needed: int | None, minimum: np.ndarray, start: tuple[float, float]) -> str:
    """How many steps the course's Adam(0.001) needs from ``start`` to the minimum (2,)."""
    reached = (f"**{needed} steps**" if needed is not None
               else f"more than {COURSE_SEARCH_STEPS} steps")
    return (f"The course's Adam(0.001) needs {reached} to get within {TOLERANCE} of the minimum "
            f"{minimum_text(minimum)} from the start ({short(start[0])}, {short(start[1])}) on "
            "these data.")


def minimum_text(minimum: np.ndarray) -> str:
    """The minimum (2,) as '(w1, w2)' to 4 significant digits."""
    return f"({short(minimum[0], 4)}, {short(minimum[1], 4)})"


def path_warnings(labels: list[str], paths: list[Trajectory], two: float, loss: str) -> None:
    """A warning for each path that diverged or ends outside the plotted square."""
    for label, p in zip(labels, paths, strict=True):
        if p.diverged:
            left_at = inside_count(p.weights, course.DESCENT_RANGE)
            where = (f"it leaves the plot at step {left_at}" if left_at < len(p.weights)
                     else "it never left the plot")
            advice = (f"Lower its learning rate below {short(two)}, mse's divergence threshold "
                      "on these inputs." if loss == "mse" else "Try a smaller learning rate.")
            st.warning(f"{label} diverged at step {p.diverged_at}: its weights ran past ±10⁶ or "
                       f"its loss stopped being a finite number ({where}). {advice}")
        elif inside_count(p.weights[-1:], course.DESCENT_RANGE) == 0:
            growing = "and its loss is growing" if p.losses[-1] > p.losses[0] else "for now"
            st.warning(f"{label} ends outside the plot at ({short(p.weights[-1, 0], 4)}, "
                       f"{short(p.weights[-1, 1], 4)}) {growing}.")


def results_table(labels: list[str], paths: list[Trajectory], step: int, steps: int,
                  minimum: np.ndarray) -> pd.DataFrame:
    """One row per path: weights and loss at ``step``, final weights, steps to the minimum."""
    rows = []
    for label, p in zip(labels, paths, strict=True):
        gone = step >= len(p.weights)  # a diverged path has no weights from its last step on
        k = min(step, len(p.weights) - 1)
        arrived = steps_to_reach(p, minimum, TOLERANCE)
        rows.append({
            "optimizer": label,
            f"w1 at step {step}": "diverged" if gone else fixed(float(p.weights[k, 0]), 6),
            f"w2 at step {step}": "diverged" if gone else fixed(float(p.weights[k, 1]), 6),
            f"loss at step {step}": "diverged" if gone else fixed(float(p.losses[k]), 6),
            f"final (w1, w2) after {steps}": (f"diverged at step {p.diverged_at}" if p.diverged
                                              else f"({fixed(float(p.weights[-1, 0]), 6)}, "
                                              f"{fixed(float(p.weights[-1, 1]), 6)})"),
            f"steps to within {TOLERANCE}": "never" if arrived is None else str(arrived),
            "settings": ", ".join(f"{k}={short(v)}" for k, v in p.settings.items()),
        })
    return pd.DataFrame(rows)


def regimes_text(one: float, two: float, loss: str, n: int) -> str:
    """The learning-rate regimes of plain SGD on mse for n samples (nn_core.lr_thresholds)."""
    if not math.isfinite(one):
        return "Every input is 0, so the loss is flat and no step moves the weights."
    text = (
        f"**Learning-rate regimes of plain SGD** (mse on these inputs, Keras averages over the "
        f"{n} samples): lr < {short(one)} rolls smoothly down; lr = {short(one)} jumps to the "
        f"bottom of the steepest direction in one step (to the minimum itself when the bowl is "
        f"round); {short(one)} < lr < {short(two)} overshoots and oscillates but still "
        f"converges; lr > {short(two)} oscillates ever wider and diverges."
    )
    if loss != "mse":
        text += f" These thresholds are for mse; {loss} bends differently."
    return text
