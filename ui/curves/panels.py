"""The curves page's controls and sections: activations and losses with their derivatives.

Every value comes from ``nn_core.basics.activations`` and ``nn_core.basics.losses``, figures
from ``ui.curves.figures``; settings from ``ui.curves.state.STATE``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from nn_core.basics.activations import (
    ACTIVATIONS,
    ELEMENTWISE_ACTIVATIONS,
    activate,
    activation_derivative,
)
from nn_core.basics.classification import (
    ClassificationView,
    activation_latex,
    loss_latex,
)
from nn_core.basics.losses import (
    BINARY_LOSSES,
    LOSSES,
    REGRESSION_LOSSES,
    elementwise_loss,
)
from ui.common import charts, widgets
from ui.common.figures import robust_range
from ui.common.format import short
from ui.common.i18n import _, current_language
from ui.curves.figures import CurveMarker, curves_figure
from ui.curves.state import (
    CLASSES,
    CONFIDENT_LOGIT,
    LOGIT_COLUMNS,
    POINTS,
    P,
    exact_shown,
    num32,
    num64,
    on_confident,
    on_logits_reset,
    writer32,
    writer64,
)


def activation_controls() -> tuple[list[str], tuple[float, float], tuple[float, float], bool]:
    """The activations to draw, the x and y ranges, and whether to mark the forward page."""
    c1, c2, c3 = st.columns([3, 2, 2])
    with c1:
        chosen = widgets.persistent(st.multiselect, _("Activations"), P + "activations",
                                    options=ELEMENTWISE_ACTIVATIONS)
    with c2:
        x_range = widgets.persistent(st.slider, _("x range"), P + "x_range", min_value=-20.0,
                                     max_value=20.0, step=0.5)
    with c3:
        y_range = widgets.persistent(st.slider, _("y range of f(x)"), P + "y_range",
                                     min_value=-20.0, max_value=20.0, step=0.5)
    show_marks = widgets.persistent(
        st.toggle, _("Mark the forward-pass page's neurons (N1, N2 and Y before activation)"),
        P + "markers",
    )
    return chosen, x_range, y_range, show_marks


# Built once per server for each set of inputs (the language and the exact toggle included: the
# texts are in the figures), and shared by every session and rerun: a student who changes one
# section of the page reuses the others' figures (each figure also keeps its encoded spec,
# ui.common.figures.PlainFigure).
@st.cache_resource(max_entries=64, show_spinner=False)
def activation_figures(chosen: tuple[str, ...], x_range: tuple[float, float],
                       y_range: tuple[float, float], marks: tuple[tuple[str, float], ...],
                       language: str, exact: bool) -> tuple[go.Figure, go.Figure]:
    """f(x) and f'(x) of each chosen activation over ``POINTS`` x values, the forward page's
    neurons (``marks``: (name, x) pairs) marked where they fall inside the x range."""
    xs = np.linspace(*x_range, POINTS)
    values = {name: activate(name, xs) for name in chosen}
    slopes = {name: activation_derivative(name, xs) for name in chosen}
    shown = {k: v for k, v in marks if x_range[0] <= v <= x_range[1]}
    write = writer32(exact)
    guides = {f"{k} = {write(v)}": v for k, v in shown.items()}
    fx_marks = [CurveMarker(n, k, v, float(activate(n, [v])[0]))
                for n in chosen for k, v in shown.items()]
    dfx_marks = [CurveMarker(n, k, v, float(activation_derivative(n, [v])[0]))
                 for n in chosen for k, v in shown.items()]
    return (curves_figure(xs, values, markers=fx_marks, guides=guides, title="f(x)",
                          y_title="f(x)", y_range=y_range, fmt=write),
            curves_figure(xs, slopes, markers=dfx_marks, guides=guides,
                          title=_("derivative f'(x)"), y_title="f'(x)",
                          y_range=robust_range(slopes, 0.0, 100.0), fmt=write))


def activation_section(chosen: list[str], x_range: tuple[float, float],
                       y_range: tuple[float, float], marks: dict[str, float],
                       hidden: str, output: str) -> None:
    """f(x) and f'(x) of each chosen activation, the forward page's neurons marked (``marks``
    empty: none), their values in a table, and what each activation is good for."""
    left, right = st.columns(2)
    fx, dfx = activation_figures(tuple(chosen), tuple(x_range), tuple(y_range),
                                 tuple(marks.items()), current_language(), exact_shown())
    charts.show(fx, "activations", where=left, key=P + "activations_figure")
    charts.show(dfx, "activation-derivatives", where=right, key=P + "derivatives_figure")
    formulas(chosen, activation_latex)
    outside = [f"{k} = {num32(v)}" for k, v in marks.items()
               if not x_range[0] <= v <= x_range[1]]
    if outside:
        st.caption(_("Outside the x range, so not marked: {values}.").format(
            values=", ".join(outside)))
    if marks:
        st.caption(_(
            "On the forward-pass page N1 and N2 go through **{hidden}** and Y through "
            "**{output}**. Where a curve is flat its derivative is near 0 and almost no "
            "error flows back through that neuron: it saturates."
        ).format(hidden=hidden, output=output))
        st.dataframe(activation_table(chosen, marks), hide_index=True, width="stretch",
                     key=P + "activation_table")
    st.markdown("\n".join(f"- **{n}**: {_(ACTIVATIONS[n].summary)}" for n in chosen))


def formulas(names: list[str], latex_of: Callable[[str], str], per_row: int = 2) -> None:
    """The LaTeX formula of each named activation or loss, labelled with its Keras name,
    ``per_row`` side by side; a name without a formula is left out."""
    shown = []
    for name in names:
        try:
            formula = latex_of(name)
        except ValueError:
            continue
        label = name.replace("_", r"\_")
        shown.append(rf"\textsf{{{label}}}\!:\quad {formula}")
    for start in range(0, len(shown), per_row):
        for column, formula in zip(st.columns(per_row), shown[start:start + per_row],
                                   strict=False):
            column.latex(formula)


def activation_table(names: list[str], marks: dict[str, float]) -> pd.DataFrame:
    """f and f' of each activation at each marked value, at the lesson's precision (or as
    Keras prints float32, ``num32``)."""
    return pd.DataFrame(
        [[n] + [num32(float(activate(n, [v])[0])) for v in marks.values()]
         + [num32(float(activation_derivative(n, [v])[0])) for v in marks.values()]
         for n in names],
        columns=[_("activation"), *(f"f({k})" for k in marks), *(f"f'({k})" for k in marks)],
    )


def regression_controls() -> tuple[list[str], float, tuple[float, float], float]:
    """Regression losses to draw, the target, the prediction range and the compared prediction."""
    r1, r2, r3, r4 = st.columns([3, 1, 2, 1])
    with r1:
        names = widgets.persistent(st.multiselect, _("Regression losses"), P + "reg_losses",
                                   options=REGRESSION_LOSSES)
    with r2:
        target = widgets.persistent(st.number_input, _("Target"), P + "reg_target", step=0.1,
                                    format="%.6g")
    with r3:
        x_range = widgets.persistent(st.slider, _("Prediction range"), P + "reg_range",
                                     min_value=-10.0, max_value=10.0, step=0.5)
    with r4:
        prediction = widgets.persistent(
            st.number_input, _("At prediction"), P + "reg_prediction", step=0.1, format="%.6g",
            help=_("The table below compares the losses here; it starts at the forward-pass "
                   "page's output Y."))
    return names, float(target), x_range, float(prediction)


def binary_controls() -> tuple[list[str], float, tuple[float, float], float]:
    """Binary losses to draw, the 0/1 target, the prediction range and the compared prediction."""
    b1, b2, b3, b4 = st.columns([3, 1, 2, 1])
    with b1:
        names = widgets.persistent(st.multiselect, _("Binary losses"), P + "bin_losses",
                                   options=BINARY_LOSSES)
    with b2:
        target = widgets.persistent(st.radio, _("Target"), P + "bin_target", options=[0, 1],
                                    horizontal=True)
    with b3:
        x_range = widgets.persistent(st.slider, _("Prediction range"), P + "bin_range",
                                     min_value=-2.0, max_value=3.0, step=0.05)
    with b4:
        prediction = widgets.persistent(st.number_input, _("At prediction"), P + "bin_prediction",
                                        step=0.05, format="%.6g")
    return names, float(target), x_range, float(prediction)


def loss_curves(names: list[str], target: float, predictions: np.ndarray
                ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Loss of one sample and its derivative d loss / d prediction, for each prediction (n,).

    All predictions at once through each loss's elementwise (value, gradient) pair
    (``elementwise_loss``): for a batch of one sample with one output, Keras's mean and its
    gradient are that pair itself, so the numbers equal ``LOSSES[name].fn`` and
    ``loss_gradient`` called per prediction, bit for bit (tests/ui/curves), 270 times faster
    than the per-prediction loop it replaced (401 points, 10 losses: 72 ms -> 0.3 ms).
    """
    values, grads = {}, {}
    column = np.asarray(predictions, float)[:, None]  # one sample per prediction
    for name in names:
        value, grad = elementwise_loss(name)(np.full_like(column, target), column)
        values[name], grads[name] = value[:, 0], grad[:, 0]
    return values, grads


def loss_table(names: list[str], target: float, prediction: float) -> pd.DataFrame:
    """Each loss and its gradient at one prediction (``num64``), with what it is good for."""
    values, grads = loss_curves(names, target, np.array([prediction]))
    return pd.DataFrame({
        _("loss"): names,
        _("value"): [num64(float(values[n][0])) for n in names],
        _("d loss / d prediction"): [num64(float(grads[n][0])) for n in names],
        _("good for"): [_(LOSSES[n].summary) for n in names],
    })


@st.cache_resource(max_entries=64, show_spinner=False)
def loss_figures(kind: str, names: tuple[str, ...], target: float,
                 x_range: tuple[float, float], prediction: float, language: str,
                 exact: bool) -> tuple[go.Figure, go.Figure]:
    """The losses and their derivatives over ``POINTS`` predictions, the chosen prediction
    marked (cached like ``activation_figures``)."""
    xs = np.linspace(*x_range, POINTS)
    values, grads = loss_curves(list(names), target, xs)
    at_values, at_grads = loss_curves(list(names), target, np.array([prediction]))
    write = writer64(exact)
    guides = ({_("target {value}").format(value=write(target)): target}
              if kind == "regression" else {})
    guides[_("prediction {value}").format(value=write(prediction))] = prediction
    out = []
    for curves, at, what in ((values, at_values, _("loss")),
                             (grads, at_grads, _("d loss / d prediction"))):
        markers = [CurveMarker(n, "", prediction, float(at[n][0])) for n in names]
        out.append(curves_figure(xs, curves, markers=markers, guides=guides,
                                 title=_("{what}, target {value}").format(
                                     what=what, value=write(target)),
                                 x_title=_("prediction"), y_title=what,
                                 y_range=robust_range(curves), fmt=write))
    return out[0], out[1]


def loss_section(kind: str, names: list[str], target: float, x_range: tuple[float, float],
                 prediction: float) -> None:
    """Loss curves, their gradients and the table at one prediction."""
    if x_range[0] >= x_range[1]:
        st.error(_("The prediction range needs a lower end below its upper end."))
        return
    if not names:
        st.info(_("Pick at least one loss to draw."))
        return
    left, right = st.columns(2)
    figures = loss_figures(kind, tuple(names), float(target), tuple(x_range), float(prediction),
                           current_language(), exact_shown())
    for column, figure, key in zip((left, right), figures, ("loss", "d loss / d prediction"),
                                   strict=True):
        charts.show(figure, f"{kind}-{'loss' if key == 'loss' else 'loss-derivative'}",
                    where=column, key=f"{P}{kind}_{key}")
    formulas(names, loss_latex, per_row=1)  # the losses' formulas are long: one a line
    st.dataframe(loss_table(names, target, prediction), hide_index=True, width="stretch",
                 key=f"{P}{kind}_table")


# ---------------------------------------------------------------------------------------------
# Ten outputs: softmax, one-hot and the categorical losses
# ---------------------------------------------------------------------------------------------
def softmax_controls() -> tuple[pd.DataFrame, int]:
    """The ten logits (an editable table), the true digit, and the reset/confident buttons."""
    table = widgets.persistent_editor(
        P + "logits", num_rows="fixed", hide_index=True, width="stretch",
        column_config={
            LOGIT_COLUMNS[0]: st.column_config.NumberColumn(_(LOGIT_COLUMNS[0]), disabled=True),
            LOGIT_COLUMNS[1]: st.column_config.NumberColumn(_(LOGIT_COLUMNS[1]), format="%.6g"),
        })
    label = widgets.persistent(st.selectbox, _("True digit (the label)"), P + "label",
                               options=list(range(CLASSES)))
    st.button(_("Reset the logits"), key=P + "logits_reset", on_click=on_logits_reset,
              width="stretch")
    st.button(_("Very sure: z = {z} for the true digit").format(z=f"{CONFIDENT_LOGIT:g}"),
              key=P + "logits_confident", on_click=on_confident, width="stretch",
              help=_("p rounds to 1 within 1e-7: see how Keras clips the probabilities."))
    return table, int(label)


def probability_chart_data(view: ClassificationView) -> pd.DataFrame:
    """Probabilities p (10,) and the one-hot target (10,) per digit, for a grouped bar chart."""
    return pd.DataFrame({_("probability p"): view.probabilities,
                         _("one-hot target y"): view.onehot},
                        index=pd.Index([str(d) for d in range(view.logits.size)],
                                       name=_("digit")))


def digit_table(view: ClassificationView) -> pd.DataFrame:
    """Per digit: logit z, probability p = softmax(z), one-hot y and the gradient p − y."""
    return pd.DataFrame({
        _("digit"): list(range(view.logits.size)),
        _("logit z"): [short(float(v), 8) for v in view.logits],
        "p = softmax(z)": [num64(float(v)) for v in view.probabilities],
        _("one-hot y"): [int(v) for v in view.onehot],
        "∂L/∂z = p − y": [num64(float(v)) for v in view.gradient],
    })


def categorical_loss_table(view: ClassificationView) -> pd.DataFrame:
    """The three Keras losses for these probabilities, and the value from the logits."""
    return pd.DataFrame({
        _("Keras loss"): ["categorical_crossentropy", "sparse_categorical_crossentropy",
                          "kl_divergence", "categorical_crossentropy(from_logits=True)"],
        _("target"): [_("one-hot y"), _("the digit {label}").format(label=view.label),
                      _("one-hot y"), _("one-hot y")],
        _("value"): [num64(view.categorical_crossentropy),
                     num64(view.sparse_categorical_crossentropy), num64(view.kl_divergence),
                     num64(view.logits_crossentropy)],
    })


def softmax_charts(view: ClassificationView) -> None:
    """Bar charts: the logits (10,), then the probabilities (10,) beside the one-hot target."""
    st.markdown(_("**Logits z** (the last Dense layer's outputs, before softmax)"))
    logit_chart(view.logits)
    st.markdown(_("**Probabilities p = softmax(z)** and the one-hot target y of the digit "
                  "{label}").format(label=view.label))
    probability_chart(probability_chart_data(view))


def logit_chart(logits: np.ndarray) -> None:
    """Bars of the logits (10,). A Vega-Lite spec, not st.bar_chart: that one builds an Altair
    chart and validates it against the JSON schema on every run (8% of the page's server time
    under load, py-spy)."""
    digit, logit = _("digit"), _("logit z")
    data = pd.DataFrame({digit: [str(d) for d in range(logits.size)], logit: logits})
    st.vega_lite_chart(data, {
        "mark": {"type": "bar"},
        "encoding": {
            "x": {"field": digit, "type": "ordinal", "title": digit,
                  "axis": {"labelAngle": 0, "grid": False}},
            "y": {"field": logit, "type": "quantitative", "title": logit},
            "tooltip": [{"field": digit, "type": "nominal"},
                        {"field": logit, "type": "quantitative", "format": ".4f"}]},
    }, height=220, width="stretch")


def probability_chart(data: pd.DataFrame) -> None:
    """Grouped bars of ``probability_chart_data`` (10 digits × 2 series). A Vega-Lite spec, not
    st.bar_chart: its hover names the melted columns "value" and "color" in English."""
    digit, value, series = _("digit"), _("probability"), _("series")
    long = data.reset_index().melt(id_vars=digit, var_name=series, value_name=value)
    st.vega_lite_chart(long, {
        "mark": {"type": "bar"},
        "encoding": {
            "x": {"field": digit, "type": "ordinal", "title": digit,
                  "axis": {"labelAngle": 0, "grid": False}},
            "xOffset": {"field": series},
            "y": {"field": value, "type": "quantitative", "title": value},
            "color": {"field": series, "type": "nominal", "title": None,
                      "scale": {"domain": list(data.columns), "range": ["#1f77b4", "#f76707"]},
                      "legend": {"orient": "bottom"}},
            "tooltip": [{"field": digit, "type": "nominal"}, {"field": series, "type": "nominal"},
                        {"field": value, "type": "quantitative", "format": ".4f"}]},
    }, height=220, width="stretch")


def softmax_numbers(view: ClassificationView) -> None:
    """Per digit z, p, y and p − y; the losses; a note when Keras clips; the formulas."""
    p_true = num64(float(view.probabilities[view.label]))
    verdict = (_("the true digit") if view.predicted == view.label
               else _("but the true digit is {label}").format(label=view.label))
    st.markdown(_("The network's answer is the digit with the largest probability: "
                  "**{predicted}**, {verdict}. The losses only look at the true digit's "
                  "probability, p[{label}] = {p}: the crossentropy is −log p[{label}].").format(
        predicted=view.predicted, verdict=verdict, label=view.label, p=p_true))
    st.dataframe(digit_table(view), hide_index=True, width="stretch", key=P + "softmax_table")
    st.dataframe(categorical_loss_table(view), hide_index=True, width="stretch",
                 key=P + "categorical_losses")
    if view.clipped:
        st.warning(_(
            "A probability is within 1e-7 of 0 or 1, so Keras clips it to [1e-7, 1 − 1e-7] "
            "before taking the log: computed from the probabilities, the crossentropy is "
            "{from_p}, while from the logits it is {from_z}. In model.fit, with Dense(10, "
            "activation=\"softmax\"), Keras uses the logits' value.").format(
            from_p=num64(view.categorical_crossentropy), from_z=num64(view.logits_crossentropy)))
    st.caption(_("kl_divergence is a little below the crossentropy (in the last decimals: "
                 "switch on “Exact numbers” to see it): Keras clips the one-hot's zeros to "
                 "1e-7 too. The gradient of the crossentropy with respect to the "
                 "logits is simply p − y: push the true digit's logit up, every other one "
                 "down, each in proportion to its probability."))
    formulas(["softmax"], activation_latex, per_row=1)
    formulas(["categorical_crossentropy", "sparse_categorical_crossentropy", "kl_divergence"],
             loss_latex, per_row=3)
