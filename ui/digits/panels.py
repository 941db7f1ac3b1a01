"""The digit page's panels: network chooser, canvas + prediction + feature maps, evaluation.

Each panel draws Streamlit widgets for one section of ``lessons/draw_digit.py``; figures come from
``ui.digits.figures``, numbers from one NumPy forward pass (``nn_core.cnn.numpy_forward``).
Container and widget keys (``digit_*``) are what the browser tests select: keep them stable.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st
from streamlit_drawable_canvas import st_canvas

from nn_core.cnn.digits import preprocess_canvas
from nn_core.cnn.numpy_forward import LayerOutput, forward_layers
from nn_core.cnn.presets import TRAINING_OPTIMIZERS
from nn_core.cnn.specs import LayerSpec, ModelSpec, count_params, layer_shapes, trainable_params
from nn_core.cnn.summary import summary_records, summary_rows, total_params
from nn_core.training.runs import RunSummary, TrainedModel, list_runs
from ui.common import charts, lesson, widgets
from ui.common.i18n import N_, _, catalog, ngettext
from ui.digits import figures as figs
from ui.digits.canvas import new_drawing, use_fast_canvas
from ui.digits.state import (
    CANVAS_SIZE,
    INKS,
    LESSON_DIGIT,
    MISTAKES_SHOWN,
    STATE,
    STROKE_WIDTH,
    TASKS,
    TEST_DIGITS,
    P,
    checkpoint,
    clear_drawing,
    current_input,
    ink_colours,
    lesson_digit,
    load_model,
    mnist_test,
    random_digit,
    recolour_drawing,
    registry,
    run_summary,
    show_drawing,
    show_test_index,
    spec_title,
)

log = logging.getLogger(__name__)
READING_PX = 200  # beside the prediction: what it reads; narrower screens wrap it below
LAYER_HELP = MappingProxyType({
    "conv": N_("each filter slides a {k}×{k} window over its input and writes one map"),
    "maxpool": N_("keeps the largest value of every {k}×{k} block: half the size, same "
                  "channels"),
    "avgpool": N_("averages every {k}×{k} block: half the size, same channels"),
})


# ---------------------------------------------------------------------------------------------
# Texts
# ---------------------------------------------------------------------------------------------
def recipe_text(spec: ModelSpec) -> str:
    """'Adam (learning rate 0.001), batch 128, 10 epochs'."""
    r = spec.recipe
    rate = (_("learning rate {rate}") if r.schedule == "constant" else
            _("learning rate warming up to {rate}, then a cosine decay to 0")).format(
                rate=f"{r.learning_rate:g}")
    return ngettext("{optimizer} ({rate}), batch {batch}, {epochs} epoch",
                    "{optimizer} ({rate}), batch {batch}, {epochs} epochs", r.epochs).format(
        optimizer=TRAINING_OPTIMIZERS.get(r.optimizer, r.optimizer), rate=rate,
        batch=r.batch_size, epochs=r.epochs)


def train_images(result: dict[str, Any]) -> int | None:
    """Training images of a run's result.json (the shipped model's has its own layout)."""
    images = result.get("train_images") or (result.get("training") or {}).get("train_digits")
    return int(images) if images else None


def epochs_run(model: TrainedModel) -> int:
    """Epochs the network was trained for."""
    result = model.result
    return int(result.get("epochs_run") or result.get("epochs") or model.spec.recipe.epochs)


def shape_text(shape: tuple[int, ...]) -> str:
    """(26, 26, 32) -> '26×26×32'."""
    return "×".join(str(n) for n in shape)


def model_label(path: str, default_dir: Path) -> str:
    """Selectbox label of a model: title, training images, test accuracy; a damaged run reads
    '<folder> · unreadable: <what is wrong>' (``describe_run``, cached: never raises)."""
    summary = run_summary(path)
    if not summary.readable:
        return _("{folder} · unreadable: {reason}").format(folder=Path(path).name,
                                                            reason=short_reason(summary))
    acc = summary.test_accuracy
    acc_text = (" · " + _("{accuracy} test accuracy").format(accuracy=f"{acc:.2%}")
                if acc is not None else "")
    if Path(path) == default_dir:
        return _("Shipped default model: {title}").format(title=spec_title(summary.spec)) \
            + acc_text
    images = summary.train_images
    image_text = (" · " + ngettext("{n} training image", "{n} training images", images).format(
        n=f"{images:,}") if images else "")
    return f"{spec_title(summary.spec)}{image_text}{acc_text}"


def short_reason(summary: RunSummary) -> str:
    """Why a run is unreadable, its folder left out of the file names (one line)."""
    return (summary.error or _("unknown error")).replace(f"{summary.run_dir}{os.sep}", "")


# ---------------------------------------------------------------------------------------------
# 1. Model choice
# ---------------------------------------------------------------------------------------------
def model_choices(runs_dir: Path, default_dir: Path) -> list[str]:
    """Paths of every model that can predict: the shipped one, then finished runs, newest first."""
    choices = []
    if (default_dir / "weights.npz").exists() and (default_dir / "spec.json").exists():
        choices.append(str(default_dir))
    choices += [str(path) for path in reversed(list_runs(runs_dir))]
    return choices


def protect_run(runs_dir: Path, path: str) -> None:
    """Keep the run a student is viewing from the registry's disk retention (every rerun)."""
    try:
        registry(str(runs_dir)).protect(path)
    except Exception:  # the training section reports a broken registry itself
        log.debug("could not protect %s", path, exc_info=True)


def chosen_model(path: str, default_dir: Path, choices: list[str]) -> TrainedModel | None:
    """The chosen network, read; a damaged run falls back to the shipped model with a warning,
    and None (with an error) only when nothing readable is left."""
    summary = run_summary(path)
    problem = None if summary.readable else short_reason(summary)
    if problem is None:
        try:
            return load_model(path)
        except (ValueError, OSError) as exc:  # changed on disk since it was described
            problem = str(exc)
    if path != str(default_dir) and str(default_dir) in choices:
        st.warning(_("This network cannot be read, so the shipped model reads your drawing "
                     "instead. What is wrong: {problem}. Choose another network or train this "
                     "one again.").format(problem=problem))
        try:
            return load_model(default_dir)
        except (ValueError, OSError) as exc:
            problem = str(exc)
    st.error(_("This network could not be loaded: {problem}").format(problem=problem))
    return None


def model_panel(runs_dir: Path, default_dir: Path) -> TrainedModel | None:
    """Choose the network that reads the drawing; None when there is none (with a message)."""
    choices = model_choices(runs_dir, default_dir)
    if str(default_dir) not in choices:
        st.warning(_("The shipped model is missing ({path}). Train a network below (section "
                     "5), or rebuild the shipped one with `make default-model`.").format(
                         path=default_dir))
    if not choices:
        st.info(_("No trained network yet: once a training job below finishes, it appears "
                  "here."))
        return None
    state = st.session_state
    pending = state.pop(P + "model_pending", None)
    if pending in choices:
        state[P + "model"] = pending
    elif state.get(P + "model") not in choices:  # from a link: the run folder's name
        state[P + "model"] = next((c for c in choices if Path(c).name == state.get(P + "model")),
                                  None)
    path = widgets.persistent(st.selectbox, _("Network that reads your drawing"), P + "model",
                              default=choices[0], options=choices,
                              format_func=lambda p: model_label(p, default_dir))
    if path != str(default_dir):
        protect_run(runs_dir, path)
    model = chosen_model(path, default_dir, choices)
    if model is None:
        return None
    spec = model.spec
    cols = st.columns(4)
    cols[0].metric(_("Parameters"), f"{count_params(spec):,}")
    acc = model.result.get("test_accuracy")
    cols[1].metric(_("Test accuracy"), f"{acc:.2%}" if acc is not None else "–")
    images = train_images(model.result)
    cols[2].metric(_("Training images"), f"{images:,}" if images else "–")
    cols[3].metric(_("Epochs trained"), str(epochs_run(model)))
    lesson = " " + _("(lesson {lesson})").format(lesson=spec.lesson) if spec.lesson else ""
    training = model.result.get("training") or {}
    extra = ""
    if training.get("augmentation"):
        extra = " " + _("Trained with light augmentation (shifted, rotated, thicker and thinner "
                        "digits) so that it copes with how people draw.")
    st.caption(_("**{title}**{lesson}. Recipe: {recipe}.").format(
        title=spec_title(spec), lesson=lesson, recipe=recipe_text(spec)) + extra + " "
               + _("Layers:") + " "
               + " → ".join(f"{layer.kind} {shape_text(shape)}"
                            for layer, shape in zip(spec.layers, layer_shapes(spec), strict=True)))
    with st.expander(_("Layers and parameters (as model.summary() prints them)")):
        summary_table(spec)
    return model


def summary_table(spec: ModelSpec) -> None:
    """Keras's ``model.summary()`` of ``spec`` as a table, each count worked out, and the total."""
    try:
        rows = summary_rows(spec, catalog())
    except ValueError as exc:
        st.warning(_("The layers of this network do not fit together: {reason}").format(
            reason=exc))
        return
    st.dataframe(pd.DataFrame(summary_records(rows, catalog())), hide_index=True,
                 width="stretch", key=P + "summary")
    trainable = trainable_params(spec)
    which = (_("all trainable") if trainable == total_params(rows) else
             _("{n} trainable (a batch norm's moving mean and variance are not)").format(
                 n=f"{trainable:,}"))
    st.markdown(_("**Total params: {total}**, {which}. A Conv2D layer has k·k·(input "
                  "channels)·filters weights plus one bias per filter; a Dense layer "
                  "inputs·units weights plus one bias per unit; pooling, dropout and flatten "
                  "have none.").format(total=f"{total_params(rows):,}", which=which))


# ---------------------------------------------------------------------------------------------
# 2-3. Drawing, prediction and feature maps (a fragment: a stroke reruns only this part)
# ---------------------------------------------------------------------------------------------
def canvas_controls() -> None:
    """The drawing's controls, above the drawing section: ink and stroke width, and the buttons
    that put a digit on the canvas. Outside the section's fragment, so a stroke does not draw
    them again: seven widgets were ~6 ms of a stroke's ~33 ms of server CPU (cProfile under
    the load test); a change to one of them reruns the whole page, as it did. The drawing's
    instructions are here too, above the controls, for the same reason."""
    st.caption(_("Draw one digit with the mouse (or a finger), as large as the box. The "
                 "network answers when you lift the mouse. The canvas toolbar has Undo and "
                 "Reset."))
    ink_col, stroke_col = st.columns(2, vertical_alignment="bottom")
    with ink_col:
        widgets.persistent(st.radio, _("Ink"), P + "ink", default=INKS[0][0],
                           options=[label for label, _ink, _bg in INKS], horizontal=True,
                           format_func={label: _(label) for label, _ink, _bg in INKS}.get,
                           on_change=recolour_drawing)
    low, high, default = STROKE_WIDTH
    with stroke_col:
        widgets.persistent(st.slider, _("Stroke width"), P + "stroke", default=default,
                           min_value=low, max_value=high)
    clear_col, random_col, index_col, lesson_col = st.columns(4, vertical_alignment="bottom")
    clear_col.button(_("Clear drawing"), key=P + "clear", on_click=clear_drawing,
                     width="stretch", icon=":material/delete:")
    random_col.button(_("Random test digit"), key=P + "random", on_click=random_digit,
                      width="stretch", icon=":material/casino:",
                      help=_("Show the network a random digit from MNIST's 10,000 test images."))
    with index_col:
        widgets.persistent(st.number_input, _("Test digit by index"), P + "test_index",
                           min_value=0, max_value=TEST_DIGITS - 1, step=1,
                           on_change=show_test_index,
                           help=_("Show the network one of MNIST's 10,000 test digits by its "
                                  "index in x_test (0 to 9,999)."))
    lesson_col.button(_("Lesson 002's #{index}").format(index=LESSON_DIGIT),
                      key=P + "lesson_digit", on_click=lesson_digit, width="stretch",
                      help=_("x_test[{index}], the test digit lesson 002 shows its "
                             "network.").format(index=LESSON_DIGIT))


def canvas_panel() -> None:
    """The drawing canvas (with the ink and stroke ``canvas_controls`` set); stores the
    drawing's 28×28 image in session state."""
    state = st.session_state
    ink, background = ink_colours(STATE["ink"])
    stroke = STATE["stroke"]
    canvas_key = f"{P}canvas_{state['digit_canvas_version']}"
    saved = state[P + "drawing"]
    if canvas_key not in state:  # a fresh canvas (first visit, page switch, ink change)
        state[P + "seed"] = saved["json"] if saved else {"objects": []}
    use_fast_canvas()
    result = st_canvas(stroke_width=stroke, stroke_color=ink, background_color=background,
                       height=CANVAS_SIZE, width=CANVAS_SIZE,
                       drawing_mode="freedraw", initial_drawing=state[P + "seed"],
                       update_streamlit=True, return_image_data=True, key=canvas_key)
    try:
        rgba = new_drawing(result.image_bytes, result.json_data, saved)
    except Exception as exc:  # a garbled image must not break the page
        st.error(_("The drawing could not be read: {reason}").format(reason=exc))
        rgba = None
    if rgba is not None:
        try:
            image = preprocess_canvas(np.ascontiguousarray(rgba, np.uint8))
        except ValueError as exc:
            st.error(_("The drawing could not be read: {reason}").format(reason=exc))
            image = None
        state[P + "drawing"] = {"json": result.json_data, "image": image,
                                  "rgba_shape": rgba.shape}
        state[P + "source"] = "canvas"


def earlier_epochs(model: TrainedModel) -> dict[int, Path]:
    """The network's checkpoints before its final epoch, {epoch: path}."""
    final = epochs_run(model)
    earlier = {}
    for path in model.checkpoints:
        try:
            epoch = int(path.stem.split("_")[-1])
        except ValueError:
            continue
        if epoch < final:
            earlier[epoch] = path
    return earlier


def chosen_epoch(model: TrainedModel) -> int:
    """The epoch whose weights read the drawing: the one on the 'Weights after epoch' slider,
    or the final one (a new network, no checkpoints, or a value from a link it does not have).
    Called by the page before the slider is drawn, and by the slider: the same answer."""
    final = epochs_run(model)
    earlier = earlier_epochs(model)
    if not earlier:  # no slider: the setting stays as it is (a link's value does not count)
        return final
    options = [*sorted(earlier), final]
    state = st.session_state
    if (state.get(P + "epoch_model") not in (None, str(model.run_dir))  # None: from a link
            or state.get(P + "epoch") not in options):
        state[P + "epoch"] = final
    state[P + "epoch_model"] = str(model.run_dir)
    return state[P + "epoch"]


def weights_after(model: TrainedModel, epoch: int) -> list[np.ndarray]:
    """The weights after ``epoch`` (the final ones for the final epoch, or when its checkpoint
    cannot be read: ``epoch_weights`` says so on the page)."""
    path = earlier_epochs(model).get(epoch)
    if path is None:
        return model.weights
    try:
        return checkpoint(str(path))
    except (ValueError, OSError):
        return model.weights


def epoch_weights(model: TrainedModel) -> tuple[list[np.ndarray], str, int]:
    """The weights to read with, what they are, and their epoch: final, or after an earlier
    epoch chosen on a slider (drawn only when the network has checkpoints)."""
    final = epochs_run(model)
    earlier = earlier_epochs(model)
    if not earlier:
        return model.weights, ngettext("after its {n} epoch of training",
                                       "after its {n} epochs of training", final).format(
                                           n=final), final
    chosen_epoch(model)
    epoch = widgets.persistent(st.select_slider, _("Weights after epoch"), P + "epoch",
                               default=final, options=[*sorted(earlier), final],
                 help=_("Slide back to see what the network made of this drawing earlier in "
                        "its training: the prediction and every feature map below follow."))
    if epoch == final:
        return model.weights, _("after epoch {epoch} (final)").format(epoch=final), epoch
    try:
        return checkpoint(str(earlier[epoch])), _("after epoch {epoch} of {epochs}").format(
            epoch=epoch, epochs=final), epoch
    except (ValueError, OSError) as exc:
        st.warning(_("Checkpoint of epoch {epoch} could not be read ({reason}); showing the "
                     "final weights.").format(epoch=epoch, reason=exc))
        return model.weights, _("after epoch {epoch} (final)").format(epoch=final), epoch


def prediction_panel(model: TrainedModel, weights: list[np.ndarray], when: str,
                     image: np.ndarray | None, source: str,
                     label: int | None) -> list[LayerOutput] | None:
    """Prediction, confidence and probabilities; returns the forward pass's layer outputs.

    Everything sits in one keyed container at a fixed place, so the browser swaps the prompt
    for the prediction in place (browser tests: .st-key-digit_prediction).
    """
    with st.container(key=P + "prediction"):
        if image is None:
            st.info(_("Draw a digit on the canvas (or pick a random MNIST test digit) and "
                      "the network will tell you which one it sees."))
            return None
        try:
            outputs = forward_layers(model.spec, weights, image[None])
        except ValueError as exc:
            st.error(_("The network could not read this drawing: {reason}").format(reason=exc))
            return None
        probs = outputs[-1].values[0]
        digit = int(np.argmax(probs))
        # One flex row rather than st.columns([1, 1, 1.3]): a row of three columns is four
        # blocks, three messages more on every stroke (25 -> 22). A narrow screen wraps it.
        with st.container(horizontal=True, gap="large", vertical_alignment="center"):
            st.metric(_("Prediction"), str(digit), width="content")
            st.metric(_("Confidence"), f"{probs[digit]:.1%}", width="content")
            reading = _("Reading {source}, weights {when}.").format(source=source, when=when)
            if label is None:
                st.caption(reading, width=READING_PX)
            else:  # a test digit: its label and the way back, stacked beside the metrics
                with st.container(width=READING_PX):
                    st.caption(reading)
                    if label == digit:
                        st.success(_("True label: {label}. Correct!").format(label=label))
                    else:
                        st.error(_("True label: {label}. The network got it wrong.").format(
                            label=label))
                    st.button(_("Back to my drawing"), key=P + "back", on_click=show_drawing)
        charts.show(figs.probability_figure(probs), "digits-probabilities")
    return outputs


def network_inside(model: TrainedModel, weights: list[np.ndarray]) -> bool:
    """Section 3's heading, the colour-scale toggle and the first conv layer's filters (of
    ``weights``); returns the toggle's value. Drawn by the page, not by the drawing's fragment:
    none of it changes with a stroke, and every element a stroke redraws is one more message
    to build, hash and send (27 -> 25 messages a stroke: the fragment re-sends the
    container it writes the maps into). The maps follow (``feature_maps``)."""
    st.subheader(_("3. Inside the network: what each layer sees"))
    per_channel = widgets.persistent(st.toggle, _("Scale each map on its own"),
                                     P + "per_channel", default=False,
                       help=_("Off: all maps of a layer share one colour scale, so you see which "
                              "channels respond most. On: each map is stretched to its own "
                              "range, so weak patterns show too."))
    params = [layer.kind for layer in model.spec.layers if layer.kind in ("conv", "dense")]
    if "conv" in params:
        kernel = weights[2 * params.index("conv")]
        k, f = kernel.shape[0], kernel.shape[-1]
        charts.show(figs.filter_figure(
            kernel, ngettext("First layer's {f} learned {k}×{k} filter (blue −, red +)",
                             "First layer's {f} learned {k}×{k} filters (blue −, red +)",
                             f).format(f=f, k=k)),
            "digits-first-layer-filters", key=P + "filters", width="content")
    else:
        st.caption(_("This network has no convolutional layer: it looks at all 784 pixels "
                     "at once, so there are no feature maps, only neuron activations."))
    return per_channel


def feature_maps(model: TrainedModel, outputs: list[LayerOutput] | None,
                 per_channel: bool) -> None:
    """Every conv/pool layer's maps and the dense layers' activations of one forward pass.

    Redrawn on every stroke, and every element is one more message to build, hash and send
    (~0.5 ms each): so the charts carry their own key (the browser tests find
    .st-key-digit_filters, .st-key-digit_fmaps) instead of a keyed container around them
    (46 -> 36 messages a stroke), and all conv/pool layers share one figure and one caption
    (36 -> 27; ``figs.feature_maps_figure``).
    """
    if outputs is None:
        st.info(_("The feature maps of every layer appear here once the network reads a "
                  "digit."))
        return
    spec = model.spec
    # Layers are titled for students ('Conv 1: 32 filters 3×3'); Keras's own name
    # (conv2d_1) is in the caption, for matching model.summary() and the Keras code.
    titles = {row.name: row.layer for row in summary_rows(spec, catalog())}
    dense_outputs = [out for out in outputs[:-1] if out.kind == "dense"]
    layers = [(layer, out) for layer, out in zip(spec.layers, outputs, strict=True)
              if out.kind in ("conv", "maxpool", "avgpool")]
    if layers:
        charts.show(figs.feature_maps_figure(
            [(out.values[0], f"{titles[out.name]} → {shape_text(out.values[0].shape)}")
             for _layer, out in layers], per_channel=per_channel),
            "digits-feature-maps", key=P + "fmaps")
        st.caption("  \n".join(layer_caption(titles[out.name], layer, out)
                               for layer, out in layers))
    for out in dense_outputs:
        values = out.values[0]
        active = int((values > 0).sum())
        charts.show(figs.dense_figure(
            values, f"{titles[out.name]} → " + ngettext(
                "{n} neuron ({active} active)", "{n} neurons ({active} active)",
                values.size).format(n=values.size, active=active)),
            f"digits-{out.name}", key=f"{P}dense_{out.name}")
        st.caption(_("Keras layer: {name}.").format(name=out.name))


def layer_caption(title: str, layer: LayerSpec, out: LayerOutput) -> str:
    """One line of the feature maps' caption: '**Conv 1: 32 filters 3×3** — 32 maps of 26×26:
    each filter slides a 3×3 window over its input and writes one map. Keras layer: conv2d_1.'"""
    maps = out.values[0]
    return (f"**{title}** — " + ngettext("{n} map of {h}×{w}", "{n} maps of {h}×{w}",
                                        maps.shape[-1]).format(n=maps.shape[-1], h=maps.shape[0],
                                                               w=maps.shape[1]) + ": "
            + _(LAYER_HELP[out.kind]).format(k=layer.kernel) + ". "
            + _("Keras layer: {name}.").format(name=out.name))


def drawing_and_maps(model: TrainedModel | None) -> None:
    """Sections 2-3 below ``canvas_controls``: canvas | prediction, then what each layer sees.

    The canvas, the prediction and the feature maps are one fragment (``drawing_section``), so
    a stroke reruns only them; section 3's heading, toggle and filters sit between the
    prediction and the maps but are drawn here, by the page (``network_inside``), and the
    fragment writes the maps into a container below them."""
    drawing_box = st.container()
    if model is None:
        with drawing_box:
            drawing_section(None, None, False, None)
        return
    epoch = chosen_epoch(model)
    per_channel = network_inside(model, weights_after(model, epoch))
    maps_box = st.container()
    with drawing_box:
        drawing_section(model, epoch, per_channel, maps_box)


@st.fragment
def drawing_section(model: TrainedModel | None, filters_epoch: int | None, per_channel: bool,
                    maps_box: Any) -> None:
    """The canvas | the prediction, and the feature maps in ``maps_box`` (below the filters
    of ``filters_epoch``); reruns alone on every stroke. A new epoch on the slider reruns the
    whole page instead, so that the filters above the maps follow it too."""
    left, right = st.columns([1, 1.4], gap="large")
    with left:
        canvas_panel()
    image, source, label = current_input()
    with right:
        with st.container(key=P + "input_image"):  # always there: the layout does not jump
            if image is not None:
                charts.show(figs.input_image_figure(image), "digits-input-28x28",
                                width="content")
                st.caption(_("What the network sees: your drawing cropped, scaled to 20 px "
                             "and centred in 28×28 pixels, exactly as MNIST's digits were "
                             "made."))
        if model is None:
            with st.container(key=P + "prediction"):
                st.warning(_("No network to read the drawing: choose or train one."))
            return
        weights, when, epoch = epoch_weights(model)
        if epoch != filters_epoch and widgets.fragment_run():  # the slider moved: the page follows
            st.rerun()
        outputs = prediction_panel(model, weights, when, image, source, label)
        lesson.task_panel(STATE, TASKS, {
            "probabilities": None if outputs is None else outputs[-1].values[0]})
    with maps_box:
        feature_maps(model, outputs, per_channel)


# ---------------------------------------------------------------------------------------------
# 4. How good is the chosen network
# ---------------------------------------------------------------------------------------------
def evaluation_panel(model: TrainedModel) -> None:
    """Training curves, test accuracy, confusion matrix and a gallery of mistakes."""
    result = model.result
    if model.history:
        charts.show(figs.training_curves_figure(model.history), "digits-training-curves",
                        key=P + "model_curves")
    if not result or "confusion" not in result:
        st.info(_("This network has no test result (result.json) to show."))
        return
    total = result.get("mistakes_total", len(result.get("mistakes", [])))
    st.write(ngettext(
        "On MNIST's 10,000 test digits, which it never saw while training, it is right "
        "**{accuracy}** of the time: **{n}** mistake.",
        "On MNIST's 10,000 test digits, which it never saw while training, it is right "
        "**{accuracy}** of the time: **{n}** mistakes.", int(total)).format(
            accuracy=f"{result['test_accuracy']:.2%}", n=total))
    cols = st.columns([1, 1.3], gap="large")
    with cols[0]:
        try:
            charts.show(figs.confusion_figure(result["confusion"]), "digits-confusion-matrix")
        except ValueError as exc:
            st.warning(_("The confusion matrix could not be drawn: {reason}").format(
                reason=exc))
    with cols[1]:
        indices = [int(i) for i in result.get("mistakes", [])][:MISTAKES_SHOWN]
        if not indices:
            st.success(_("No mistakes on the test set."))
            return
        test = mnist_test()
        if test is None:
            return
        x_test, y_test = test
        images = x_test[indices]
        predicted = result.get("mistakes_predicted", [])[:len(indices)]
        if len(predicted) != len(indices):
            probs = forward_layers(model.spec, model.weights, images.astype(np.float32) / 255)
            predicted = np.argmax(probs[-1].values, axis=1).tolist()
        charts.show(figs.mistakes_figure(images, y_test[indices], predicted), "digits-mistakes")
