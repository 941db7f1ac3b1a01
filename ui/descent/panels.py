"""The descent page's controls, warnings, tables and texts (lessons/gradient_descent.py).

Settings come from ``ui.descent.state.STATE``; numbers from ``nn_core.basics.descent``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyarrow as pa
import streamlit as st

from nn_core import course
from nn_core.basics.descent import Trajectory
from nn_core.basics.losses import LOSSES, REGRESSION_LOSSES
from nn_core.basics.optimizers import OPTIMIZERS
from ui.common import widgets
from ui.common.format import approx, short
from ui.common.i18n import N_, _, ngettext
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

# Each optimizer's summary (nn_core.basics.optimizers), marked for the catalog: Babel cannot pick
# the summary out of an Optimizer(...) row. tests/ui/common/test_i18n.py holds them equal.
OPTIMIZER_SUMMARIES = {
    "sgd": N_("Plain steps down the slope, w -= lr * grad: zig-zags and crawls in ravines."),
    "momentum": N_("Keeps a velocity: rolls through flat parts, damps the zig-zag in ravines."),
    "nesterov": N_("Momentum that looks one step ahead: overshoots less."),
    "rmsprop": N_("Divides each step by a running RMS of the gradient: one pace for every "
                  "weight."),
    "adagrad": N_("Divides by the root of all past squared gradients: steps shrink over time."),
    "adadelta": N_("Step from running RMS of past steps over past gradients: tiny at Keras's lr "
                   "0.001."),
    "adam": N_("Momentum plus RMSprop with bias correction: the course's Adam(0.001)."),
}


def optimizer_summary(name: str) -> str:
    """What the optimizer ``name`` is good for, in the session's language."""
    return _(OPTIMIZER_SUMMARIES.get(name, OPTIMIZERS[name].summary))


def scenario_buttons() -> None:
    """One-click scenarios: the course's settings, the learning-rate regimes, the ravine."""
    b1, b2, b3, _spare = st.columns([1, 1, 1, 1])
    b1.button(_("Course settings: Adam(0.001)"), on_click=on_course, key=P + "course",
              type="primary", width="stretch")
    b2.button(_("Show the learning-rate regimes"), on_click=on_regimes, key=P + "regimes",
              width="stretch", help=_("Plain SGD below, at, between and above the thresholds."))
    b3.button(_("Ravine: SGD vs momentum vs Adam"), on_click=on_ravine, key=P + "ravine",
              width="stretch", help=_("Input 1 scaled by 3: a long narrow valley."))


def controls() -> tuple[pd.DataFrame, pd.DataFrame, float, str, tuple[float, float], int]:
    """The optimizer and data tables, conditioning, loss, start point and steps, as drawn."""
    c_runs, c_data, c_more = st.columns([5, 4, 3], gap="large")
    with c_runs:
        st.markdown(_("**Optimizers**: tick the ones to run, each with its learning rate; add "
                      "rows to compare learning rates."))
        runs_df = widgets.persistent_editor(
            P + "runs", num_rows="dynamic", hide_index=True, width="stretch",
            column_config={
                "show": st.column_config.CheckboxColumn(_("show"), default=True, width=50),
                "optimizer": st.column_config.SelectboxColumn(
                    _("optimizer"), options=list(OPTIMIZERS), required=True,
                    format_func=lambda k: OPTIMIZERS[k].label, default="sgd", width=140),
                "learning rate": st.column_config.NumberColumn(
                    _("learning rate"), format="%.6g", default=0.01, width=100),
            },
        )
    with c_data:
        st.markdown(_("**Data points**: each row is one sample (x1, x2) → target."))
        data_df = widgets.persistent_editor(
            P + "data", num_rows="dynamic", hide_index=True, width="stretch",
            column_config={c: st.column_config.NumberColumn(_(c), format="%.6g")
                           for c in DATA_COLUMNS},
        )
        scale = widgets.persistent(
            st.slider, _("Conditioning: multiply input 1 by"), P + "scale", min_value=0.25,
            max_value=5.0, step=0.25,
            help=_("At 3 the data become [[3, 0], [0, 1]]: the round bowl turns into a ravine."),
        )
    with c_more:
        loss_name = widgets.persistent(st.selectbox, _("Loss function"), P + "loss",
                                       options=REGRESSION_LOSSES)
        st.caption(_(LOSSES[loss_name].summary))
        st.markdown(_("**Start point** (the red point)"))
        start = (widgets.slider_number("w1", P + "start_w1", *course.DESCENT_RANGE, 0.05),
                 widgets.slider_number("w2", P + "start_w2", *course.DESCENT_RANGE, 0.05))
        steps = int(widgets.persistent(st.number_input, _("Steps"), P + "steps", min_value=1,
                                       max_value=MAX_STEPS, step=100))
    return runs_df, data_df, scale, loss_name, start, steps


def step_slider(steps: int) -> int:
    """The scrubber along the paths, kept within 0..``steps``."""
    st.session_state[P + "step"] = min(int(st.session_state[P + "step"]), steps)
    return widgets.persistent(st.slider, _("Step (drag to walk along the paths)"), P + "step",
                              min_value=0, max_value=steps)


def course_text(needed: int | None, minimum: np.ndarray, start: tuple[float, float]) -> str:
    """How many steps the course's Adam(0.001) needs from ``start`` to the minimum (2,)."""
    reached = ("**" + ngettext("{n} step", "{n} steps", needed).format(n=needed) + "**"
               if needed is not None else
               _("more than {n} steps").format(n=COURSE_SEARCH_STEPS))
    return _("The course's Adam(0.001) needs {reached} to get within {tol} of the minimum "
             "{minimum} from the start ({w1}, {w2}) on these data.").format(
        reached=reached, tol=TOLERANCE, minimum=minimum_text(minimum), w1=short(start[0]),
        w2=short(start[1]))


def minimum_text(minimum: np.ndarray) -> str:
    """The minimum (2,) as '(w1, w2)' to 4 significant digits."""
    return f"({short(minimum[0], 4)}, {short(minimum[1], 4)})"


def path_warnings(labels: list[str], paths: list[Trajectory], two: float, loss: str) -> None:
    """A warning for each path that diverged or ends outside the plotted square."""
    for label, p in zip(labels, paths, strict=True):
        if p.diverged:
            left_at = inside_count(p.weights, course.DESCENT_RANGE)
            where = (_("it leaves the plot at step {n}").format(n=left_at)
                     if left_at < len(p.weights) else _("it never left the plot"))
            advice = (_("Lower its learning rate below {lr}, mse's divergence threshold on "
                        "these inputs.").format(lr=short(two)) if loss == "mse"
                      else _("Try a smaller learning rate."))
            st.warning(_("{label} diverged at step {n}: its weights ran past ±10⁶ or its loss "
                         "stopped being a finite number ({where}). {advice}").format(
                label=label, n=p.diverged_at, where=where, advice=advice))
        elif inside_count(p.weights[-1:], course.DESCENT_RANGE) == 0:
            text = (_("{label} ends outside the plot at ({w1}, {w2}) and its loss is growing.")
                    if p.losses[-1] > p.losses[0] else
                    _("{label} ends outside the plot at ({w1}, {w2}) for now."))
            st.warning(text.format(label=label, w1=short(p.weights[-1, 0], 4),
                                   w2=short(p.weights[-1, 1], 4)))


def results_table(labels: list[str], paths: list[Trajectory], reached: list[int | None],
                  step: int, steps: int) -> pa.Table:
    """One row per path: weights and loss at ``step``, final weights, and ``reached``, the steps
    to the minimum (``state.reached_steps``). Arrow, all strings: what Streamlit sends, without
    a pandas frame to convert on every step of the walk."""
    rows = []
    for label, p, arrived in zip(labels, paths, reached, strict=True):
        gone = step >= len(p.weights)  # a diverged path has no weights from its last step on
        k = min(step, len(p.weights) - 1)
        diverged = _("diverged")
        rows.append({
            _("optimizer"): label,
            _("w1 at step {n}").format(n=step):
                diverged if gone else approx(float(p.weights[k, 0])),
            _("w2 at step {n}").format(n=step):
                diverged if gone else approx(float(p.weights[k, 1])),
            _("loss at step {n}").format(n=step): diverged if gone else approx(float(p.losses[k])),
            _("final (w1, w2) after {n}").format(n=steps): (
                _("diverged at step {n}").format(n=p.diverged_at) if p.diverged
                else f"({approx(float(p.weights[-1, 0]))}, {approx(float(p.weights[-1, 1]))})"),
            _("steps to within {tol}").format(tol=TOLERANCE):
                _("never") if arrived is None else str(arrived),
            _("settings"): ", ".join(f"{k}={short(v)}" for k, v in p.settings.items()),
        })
    return pa.Table.from_pylist(rows)


def regimes_text(one: float, two: float, loss: str, n: int) -> str:
    """The learning-rate regimes of plain SGD on mse for n samples (nn_core.lr_thresholds)."""
    if not math.isfinite(one):
        return _("Every input is 0, so the loss is flat and no step moves the weights.")
    text = _(
        "**Learning-rate regimes of plain SGD** (mse on these inputs, Keras averages over the "
        "{n} samples): lr < {one} rolls smoothly down; lr = {one} jumps to the bottom of the "
        "steepest direction in one step (to the minimum itself when the bowl is round); "
        "{one} < lr < {two} overshoots and oscillates but still converges; lr > {two} "
        "oscillates ever wider and diverges."
    ).format(n=n, one=short(one), two=short(two))
    if loss != "mse":
        text += " " + _("These thresholds are for mse; {loss} bends differently.").format(
            loss=loss)
    return text
