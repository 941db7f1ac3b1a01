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
from nn_core.cnn.specs import ModelSpec, count_params, layer_shapes, trainable_params
from nn_core.cnn.summary import summary_records, summary_rows, total_params
from nn_core.training.runs import RunSummary, TrainedModel, list_runs
from ui.common import widgets
from ui.digits import figures as figs
from ui.digits.state import (
    CANVAS_SIZE,
    INKS,
    LESSON_DIGIT,
    MISTAKES_SHOWN,
    STROKE_WIDTH,
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
)

log = logging.getLogger(__name__)
LAYER_HELP = MappingProxyType({
    "conv": "each filter slides a {k}×{k} window over its input and writes one map",
    "maxpool": "keeps the largest value of every {k}×{k} block: half the size, same channels",
    "avgpool": "averages every {k}×{k} block: half the size, same channels",
})


# ---------------------------------------------------------------------------------------------
# Texts
# ---------------------------------------------------------------------------------------------
def recipe_text(spec: ModelSpec) -> str:
    """'Adam (learning rate 0.001), batch 128, 10 epochs'."""
    r = spec.recipe
    rate = (f"learning rate {r.learning_rate:g}" if r.schedule == "constant" else
            f"learning rate warming up to {r.learning_rate:g}, then a cosine decay to 0")
    return (f"{TRAINING_OPTIMIZERS.get(r.optimizer, r.optimizer)} ({rate}), batch "
            f"{r.batch_size}, {r.epochs} epoch{'s' if r.epochs != 1 else ''}")


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
        return f"{Path(path).name} · unreadable: {short_reason(summary)}"
    acc = summary.test_accuracy
    acc_text = f" · {acc:.2%} test accuracy" if acc is not None else ""
    if Path(path) == default_dir:
        return f"Shipped default model: {summary.spec.title}{acc_text}"
    images = summary.train_images
    image_text = f" · {images:,} training images" if images else ""
    return f"{summary.spec.title}{image_text}{acc_text}"


def short_reason(summary: RunSummary) -> str:
    """Why a run is unreadable, its folder left out of the file names (one line)."""
    return (summary.error or "unknown error").replace(f"{summary.run_dir}{os.sep}", "")


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
        st.warning(f"This network cannot be read, so the shipped model reads your drawing "
                   f"instead. What is wrong: {problem}. Choose another network or train this "
                   "one again.")
        try:
            return load_model(default_dir)
        except (ValueError, OSError) as exc:
            problem = str(exc)
    st.error(f"This network could not be loaded: {problem}")
    return None


def model_panel(runs_dir: Path, default_dir: Path) -> TrainedModel | None:
    """Choose the network that reads the drawing; None when there is none (with a message)."""
    choices = model_choices(runs_dir, default_dir)
    if str(default_dir) not in choices:
        st.warning(f"The shipped model is missing ({default_dir}). Train a network below "
                   "(section 5), or rebuild the shipped one with `make default-model`.")
    if not choices:
        st.info("No trained network yet: once a training job below finishes, it appears here.")
        return None
    state = st.session_state
    pending = state.pop(P + "model_pending", None)
    if pending in choices:
        state[P + "model"] = pending
    path = widgets.persistent(st.selectbox, "Network that reads your drawing", P + "model",
                              default=choices[0], options=choices,
                              format_func=lambda p: model_label(p, default_dir))
    if path != str(default_dir):
        protect_run(runs_dir, path)
    model = chosen_model(path, default_dir, choices)
    if model is None:
        return None
    spec = model.spec
    cols = st.columns(4)
    cols[0].metric("Parameters", f"{count_params(spec):,}")
    acc = model.result.get("test_accuracy")
    cols[1].metric("Test accuracy", f"{acc:.2%}" if acc is not None else "–")
    images = train_images(model.result)
    cols[2].metric("Training images", f"{images:,}" if images else "–")
    cols[3].metric("Epochs trained", str(epochs_run(model)))
    lesson = f" (lesson {spec.lesson})" if spec.lesson else ""
    training = model.result.get("training") or {}
    extra = ""
    if training.get("augmentation"):
        extra = (" Trained with light augmentation (shifted, rotated, thicker and thinner "
                 "digits) so that it copes with how people draw.")
    st.caption(f"**{spec.title}**{lesson}. Recipe: {recipe_text(spec)}.{extra} Layers: "
               + " → ".join(f"{layer.kind} {shape_text(shape)}"
                            for layer, shape in zip(spec.layers, layer_shapes(spec), strict=True)))
    with st.expander("Layers and parameters (as model.summary() prints them)"):
        summary_table(spec)
    return model


def summary_table(spec: ModelSpec) -> None:
    """Keras's ``model.summary()`` of ``spec`` as a table, each count worked out, and the total."""
    try:
        rows = summary_rows(spec)
    except ValueError as exc:
        st.warning(f"The layers of this network do not fit together: {exc}")
        return
    st.dataframe(pd.DataFrame(summary_records(rows)), hide_index=True, width="stretch",
                 key=P + "summary")
    trainable = trainable_params(spec)
    which = ("all trainable" if trainable == total_params(rows) else
             f"{trainable:,} trainable (a batch norm's moving mean and variance are not)")
    st.markdown(f"**Total params: {total_params(rows):,}**, {which}. A Conv2D layer has "
                "k·k·(input channels)·filters weights plus one bias per filter; a Dense layer "
                "inputs·units weights plus one bias per unit; pooling, dropout and flatten "
                "have none.")


# ---------------------------------------------------------------------------------------------
# 2-3. Drawing, prediction and feature maps (a fragment: a stroke reruns only this part)
# ---------------------------------------------------------------------------------------------
def canvas_panel() -> None:
    """The drawing canvas and its controls; stores the drawing's 28×28 image in session state."""
    state = st.session_state
    ink_name = widgets.persistent(st.radio, "Ink", P + "ink", default=INKS[0][0],
                    options=[label for label, _, _ in INKS], horizontal=True,
                    on_change=recolour_drawing)
    ink, background = ink_colours(ink_name)
    low, high, default = STROKE_WIDTH
    stroke = widgets.persistent(st.slider, "Stroke width", P + "stroke", default=default,
                                min_value=low,
                  max_value=high)
    canvas_key = f"{P}canvas_{state['digit_canvas_version']}"
    saved = state[P + "drawing"]
    if canvas_key not in state:  # a fresh canvas (first visit, page switch, ink change)
        state[P + "seed"] = saved["json"] if saved else {"objects": []}
    with st.container(key=P + "canvas_box"):
        result = st_canvas(stroke_width=stroke, stroke_color=ink, background_color=background,
                           height=CANVAS_SIZE, width=CANVAS_SIZE,
                           drawing_mode="freedraw", initial_drawing=state[P + "seed"],
                           update_streamlit=True, return_image_data=True, key=canvas_key)
    try:
        rgba = result.image_data  # None until the canvas sends a drawing (on mouse-up)
    except Exception as exc:  # a garbled image must not break the page
        st.error(f"The drawing could not be read: {exc}")
        rgba = None
    if rgba is not None and (saved is None or result.json_data != saved["json"]
                             or saved.get("rgba_shape") != rgba.shape):
        try:
            image = preprocess_canvas(np.ascontiguousarray(rgba, np.uint8))
        except ValueError as exc:
            st.error(f"The drawing could not be read: {exc}")
            image = None
        state[P + "drawing"] = {"json": result.json_data, "image": image,
                                  "rgba_shape": rgba.shape}
        state[P + "source"] = "canvas"
    cols = st.columns(2)
    cols[0].button("Clear drawing", key=P + "clear", on_click=clear_drawing,
                   width="stretch", icon=":material/delete:")
    cols[1].button("Random test digit", key=P + "random", on_click=random_digit,
                   width="stretch", icon=":material/casino:",
                   help="Show the network a random digit from MNIST's 10,000 test images.")
    index_col, lesson_col = st.columns([1.2, 1], vertical_alignment="bottom")
    with index_col:
        widgets.persistent(st.number_input, "Test digit by index", P + "test_index",
                           min_value=0, max_value=TEST_DIGITS - 1, step=1,
                           on_change=show_test_index,
                           help="Show the network one of MNIST's 10,000 test digits by its "
                                "index in x_test (0 to 9,999).")
    lesson_col.button(f"Lesson 002's #{LESSON_DIGIT}", key=P + "lesson_digit",
                      on_click=lesson_digit, width="stretch",
                      help=f"x_test[{LESSON_DIGIT}], the test digit lesson 002 shows its "
                           "network.")
    st.caption("Draw one digit with the mouse (or a finger), as large as the box. The network "
               "answers when you lift the mouse. The canvas toolbar has Undo and Reset.")


def epoch_weights(model: TrainedModel) -> tuple[list[np.ndarray], str]:
    """The weights to read with: final, or after an earlier epoch chosen on a slider."""
    final = epochs_run(model)
    earlier = {}
    for path in model.checkpoints:
        try:
            epoch = int(path.stem.split("_")[-1])
        except ValueError:
            continue
        if epoch < final:
            earlier[epoch] = path
    if not earlier:
        return model.weights, f"after its {final} epoch{'s' if final != 1 else ''} of training"
    options = [*sorted(earlier), final]
    state = st.session_state
    if (state.get(P + "epoch_model") != str(model.run_dir)
            or state.get(P + "epoch") not in options):
        st.session_state[P + "epoch"] = final
        state[P + "epoch_model"] = str(model.run_dir)
    epoch = widgets.persistent(st.select_slider, "Weights after epoch", P + "epoch", default=final,
                               options=options,
                 help="Slide back to see what the network made of this drawing earlier in its "
                      "training: the prediction and every feature map below follow.")
    if epoch == final:
        return model.weights, f"after epoch {final} (final)"
    try:
        return checkpoint(str(earlier[epoch])), f"after epoch {epoch} of {final}"
    except (ValueError, OSError) as exc:
        st.warning(f"Checkpoint of epoch {epoch} could not be read ({exc}); showing the final "
                   "weights.")
        return model.weights, f"after epoch {final} (final)"


def prediction_panel(model: TrainedModel, weights: list[np.ndarray], when: str,
                     image: np.ndarray | None, source: str,
                     label: int | None) -> list[LayerOutput] | None:
    """Prediction, confidence and probabilities; returns the forward pass's layer outputs.

    Everything sits in one keyed container at a fixed place, so the browser swaps the prompt
    for the prediction in place (browser tests: .st-key-digit_prediction).
    """
    with st.container(key=P + "prediction"):
        if image is None:
            st.info("Draw a digit on the canvas (or pick a random MNIST test digit) and the "
                    "network will tell you which one it sees.")
            return None
        try:
            outputs = forward_layers(model.spec, weights, image[None])
        except ValueError as exc:
            st.error(f"The network could not read this drawing: {exc}")
            return None
        probs = outputs[-1].values[0]
        digit = int(np.argmax(probs))
        cols = st.columns([1, 1, 1.3])
        with cols[0], st.container(key=P + "predicted_digit"):
            st.metric("Prediction", str(digit))
        cols[1].metric("Confidence", f"{probs[digit]:.1%}")
        with cols[2]:
            st.caption(f"Reading {source}, weights {when}.")
            if label is not None:
                if label == digit:
                    st.success(f"True label: {label}. Correct!")
                else:
                    st.error(f"True label: {label}. The network got it wrong.")
                st.button("Back to my drawing", key=P + "back", on_click=show_drawing)
        with st.container(key=P + "probabilities"):
            st.plotly_chart(figs.probability_figure(probs), config=figs.plot_config())
    return outputs


def feature_maps_panel(model: TrainedModel, weights: list[np.ndarray],
                       outputs: list[LayerOutput] | None) -> None:
    """Filters of the first conv layer, every conv/pool layer's maps, dense activations."""
    st.subheader("3. Inside the network: what each layer sees")
    spec = model.spec
    per_channel = widgets.persistent(st.toggle, "Scale each map on its own", P + "per_channel",
                                     default=False,
                       help="Off: all maps of a layer share one colour scale, so you see which "
                            "channels respond most. On: each map is stretched to its own range, "
                            "so weak patterns show too.")
    with st.container(key=P + "feature_maps"):
        params = [layer.kind for layer in spec.layers if layer.kind in ("conv", "dense")]
        if "conv" in params:
            kernel = weights[2 * params.index("conv")]
            k, f = kernel.shape[0], kernel.shape[-1]
            with st.container(key=P + "filters"):
                st.plotly_chart(figs.filter_figure(
                    kernel, f"First layer's {f} learned {k}×{k} filters (blue −, red +)"),
                    config=figs.plot_config(), width="content")
        else:
            st.caption("This network has no convolutional layer: it looks at all 784 pixels at "
                       "once, so there are no feature maps, only neuron activations.")
        if outputs is None:
            st.info("The feature maps of every layer appear here once the network reads a "
                    "digit.")
            return
        dense_outputs = [out for out in outputs[:-1] if out.kind == "dense"]
        for layer, out in zip(spec.layers, outputs, strict=True):
            if out.kind not in ("conv", "maxpool", "avgpool"):
                continue
            maps = out.values[0]
            title = f"{out.name} → {shape_text(maps.shape)}"
            with st.container(key=f"{P}fmap_{out.name}"):
                st.plotly_chart(figs.feature_map_figure(maps, title, per_channel=per_channel),
                                config=figs.plot_config())
                st.caption(f"{maps.shape[-1]} maps of {maps.shape[0]}×{maps.shape[1]}: "
                           + LAYER_HELP[out.kind].format(k=layer.kernel) + ".")
        for out in dense_outputs:
            values = out.values[0]
            active = int((values > 0).sum())
            with st.container(key=f"{P}dense_{out.name}"):
                st.plotly_chart(figs.dense_figure(
                    values, f"{out.name} → {values.size} neurons ({active} active)"),
                    config=figs.plot_config())


@st.fragment
def drawing_section(model: TrainedModel | None) -> None:
    """Sections 2-3: canvas | prediction, then the feature maps; reruns alone on every stroke."""
    st.subheader("2. Draw a digit")
    left, right = st.columns([1, 1.4], gap="large")
    with left:
        canvas_panel()
    image, source, label = current_input()
    with right:
        with st.container(key=P + "input_image"):  # always there: the layout does not jump
            if image is not None:
                st.plotly_chart(figs.input_image_figure(image), config=figs.plot_config(),
                                width="content")
                st.caption("What the network sees: your drawing cropped, scaled to 20 px and "
                           "centred in 28×28 pixels, exactly as MNIST's digits were made.")
        if model is None:
            with st.container(key=P + "prediction"):
                st.warning("No network to read the drawing: choose or train one.")
            return
        weights, when = epoch_weights(model)
        outputs = prediction_panel(model, weights, when, image, source, label)
    feature_maps_panel(model, weights, outputs)


# ---------------------------------------------------------------------------------------------
# 4. How good is the chosen network
# ---------------------------------------------------------------------------------------------
def evaluation_panel(model: TrainedModel) -> None:
    """Training curves, test accuracy, confusion matrix and a gallery of mistakes."""
    result = model.result
    if model.history:
        st.plotly_chart(figs.training_curves_figure(model.history), config=figs.plot_config(),
                        key=P + "model_curves")
    if not result or "confusion" not in result:
        st.info("This network has no test result (result.json) to show.")
        return
    total = result.get("mistakes_total", len(result.get("mistakes", [])))
    st.write(f"On MNIST's 10,000 test digits, which it never saw while training, it is right "
             f"**{result['test_accuracy']:.2%}** of the time: **{total}** mistakes.")
    cols = st.columns([1, 1.3], gap="large")
    with cols[0]:
        try:
            st.plotly_chart(figs.confusion_figure(result["confusion"]), config=figs.plot_config())
        except ValueError as exc:
            st.warning(f"The confusion matrix could not be drawn: {exc}")
    with cols[1]:
        indices = [int(i) for i in result.get("mistakes", [])][:MISTAKES_SHOWN]
        if not indices:
            st.success("No mistakes on the test set.")
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
        st.plotly_chart(figs.mistakes_figure(images, y_test[indices], predicted),
                        config=figs.plot_config())
