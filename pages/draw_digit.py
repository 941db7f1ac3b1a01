"""Draw a digit: a CNN trained on MNIST reads your drawing, layer by layer (lessons 000-004).

TensorFlow never runs in this process (see issue 4): predictions and feature maps come from one
NumPy forward pass (``nn_core.models.forward_layers``) over weights exported by a worker, and
training runs in spawned processes owned by one process-wide ``JobRegistry``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import streamlit as st
from streamlit_drawable_canvas import st_canvas

from nn_core.defaults import SEED
from nn_core.digits import MNIST_ASSET, load_mnist, preprocess_canvas
from nn_core.jobs import JobRegistry, JobStatus
from nn_core.models import (
    OPTIMIZERS,
    POOLINGS,
    PRESETS,
    ModelSpec,
    count_params,
    custom_spec,
    forward_layers,
    layer_shapes,
    with_recipe,
)
from nn_core.training import RUNS_DIR, TrainedModel, list_runs, load_checkpoint, load_run
from ui import digit_figures as figs

DEFAULT_MODEL_DIR = Path(__file__).resolve().parents[1] / "assets" / "models" / "default"
CANVAS_SIZE = 280  # px, square: 10× MNIST's 28×28
INKS = MappingProxyType({"White ink on black": ("#FFFFFF", "#000000"),  # (ink, background)
                         "Black ink on white": ("#000000", "#FFFFFF")})
STROKE_WIDTH = (6, 40, 20)  # min, max, default (px on the 280 px canvas)
TRAIN_IMAGES = (1_000, 10_000, 60_000)  # the "training images" choices; 60,000 = all
TRAIN_IMAGES_DEFAULT = 10_000
CUSTOM_DEFAULTS = MappingProxyType({
    "f1": 16, "f2": 32, "kernel": 3, "pooling": "max", "dense": 64, "dropout": 0.25,
    "epochs": 3, "batch_size": 128, "optimizer": "adam", "learning_rate": 0.001})
MISTAKES_SHOWN = 24
ACTIVE_STATES = ("queued", "running")  # a job's other states (done, failed, cancelled) are final
POLL_S = 1.0  # the training panel refreshes this often while a job is queued or running
KERAS_OPTIMIZERS = MappingProxyType({
    "adam": "Adam", "sgd": "SGD", "rmsprop": "RMSprop", "adadelta": "Adadelta",
    "adagrad": "Adagrad", "adamax": "Adamax", "nadam": "Nadam"})
LAYER_HELP = MappingProxyType({
    "conv": "each filter slides a {k}×{k} window over its input and writes one map",
    "maxpool": "keeps the largest value of every {k}×{k} block: half the size, same channels",
    "avgpool": "averages every {k}×{k} block: half the size, same channels",
})


def _plot_config() -> dict[str, Any]:
    """Plotly options of every chart here: no mode bar (the charts are read, not edited)."""
    return {"displayModeBar": False}


# ---------------------------------------------------------------------------------------------
# Session state: every key starts with digit_; settings survive page switches
# ---------------------------------------------------------------------------------------------
def _init_state() -> None:
    """Defaults of this page's session state (only missing keys are set)."""
    defaults: dict[str, Any] = {
        "digit_canvas_version": 0,  # bumped to give the canvas a fresh key (clear, ink change)
        "digit_seed": {"objects": []},  # the canvas's initial drawing when it (re)mounts
        "digit_drawing": None,  # {"json": fabric json, "image": (28, 28) or None}
        "digit_source": "canvas",  # what the network reads: "canvas" or "mnist"
        "digit_mnist_index": None,
        "digit_random_count": 0,
        "digit_job_id": None,
        "digit_job_seen": None,  # the job state the training panel showed last
        "digit_trace": None,  # running loss/accuracy samples of the current job (live curve)
    }
    for key, value in defaults.items():
        if key not in st.session_state:
            st.session_state[key] = value


def _kept(widget: Callable[..., Any], label: str, key: str, default: Any, **kwargs: Any) -> Any:
    """A widget whose value lives in ``key`` and survives page switches (widget key: key_w).

    Streamlit forgets the state of widgets on pages not shown; the value is copied to a plain
    session-state key after every run and handed back to the widget when it is recreated.
    """
    state = st.session_state
    if key not in state:
        state[key] = default
    widget_key = f"{key}_w"
    if widget_key not in state:
        state[widget_key] = state[key]
    value = widget(label, key=widget_key, **kwargs)
    state[key] = value
    return value


def _reset_kept(key: str, value: Any) -> None:
    """Set a kept widget's value before the widget is created in this run."""
    st.session_state[key] = value
    st.session_state[f"{key}_w"] = value


# ---------------------------------------------------------------------------------------------
# Heavy objects: once per process
# ---------------------------------------------------------------------------------------------
def _runs_dir() -> Path:
    """Where training runs are saved (env NN_PLAYGROUND_RUNS, read on every run for tests)."""
    return Path(os.environ.get("NN_PLAYGROUND_RUNS") or RUNS_DIR)


@st.cache_resource(show_spinner=False)
def _registry(runs_dir: str) -> JobRegistry:
    """The process-wide training-job registry (one per runs folder)."""
    return JobRegistry(runs_dir)


@st.cache_resource(show_spinner=False, max_entries=32)
def _load_model_cached(path: str, stamp: float) -> TrainedModel:
    """A finished run read once per process (``stamp``: weights.npz mtime, for retrained runs)."""
    return load_run(path)


def _load_model(path: str | Path) -> TrainedModel:
    """Cached ``load_run``; ValueError/OSError when the run is missing or broken."""
    path = Path(path)
    weights = path / "weights.npz"
    return _load_model_cached(str(path), weights.stat().st_mtime if weights.exists() else 0.0)


@st.cache_resource(show_spinner=False, max_entries=64)
def _checkpoint(path: str) -> list[np.ndarray]:
    """Weights after one epoch (checkpoints/epoch_XX.npz)."""
    return load_checkpoint(path)


@st.cache_resource(show_spinner="Loading the MNIST test set…")
def _mnist_test_cached(path: str) -> tuple[np.ndarray, np.ndarray]:
    """MNIST's 10,000 test images (N, 28, 28) uint8 and labels (N,)."""
    _, (x_test, y_test) = load_mnist(Path(path))
    return x_test, y_test


def _mnist_test() -> tuple[np.ndarray, np.ndarray] | None:
    """The test set, or None with a warning on the page when MNIST is not available.

    Only the shipped asset is read: load_mnist's Keras fallback would import TensorFlow here.
    """
    if not MNIST_ASSET.exists():
        st.warning(f"The MNIST data set is missing ({MNIST_ASSET}): copy mnist.npz into assets/ "
                   "(see the README). Drawing and prediction still work.")
        return None
    try:
        return _mnist_test_cached(str(MNIST_ASSET))
    except Exception as exc:  # a broken file must not break the page
        st.warning(f"The MNIST data set could not be read: {exc}")
        return None


# ---------------------------------------------------------------------------------------------
# Texts
# ---------------------------------------------------------------------------------------------
def _recipe_text(spec: ModelSpec) -> str:
    """'Adam (learning rate 0.001), batch 128, 10 epochs'."""
    r = spec.recipe
    return (f"{KERAS_OPTIMIZERS.get(r.optimizer, r.optimizer)} (learning rate "
            f"{r.learning_rate:g}), batch {r.batch_size}, {r.epochs} epoch"
            f"{'s' if r.epochs != 1 else ''}")


def _model_label(path: str) -> str:
    """Selectbox label of a trained model: title, training images, test accuracy."""
    try:
        model = _load_model(path)
    except (ValueError, OSError):
        return f"{Path(path).name} (unreadable)"
    acc = model.result.get("test_accuracy")
    acc_text = f" · {acc:.2%} test accuracy" if acc is not None else ""
    images = _train_images(model.result)
    image_text = f" · {images:,} training images" if images else ""
    if Path(path) == DEFAULT_MODEL_DIR:
        return f"Shipped default model: {model.spec.title}{acc_text}"
    return f"{model.spec.title}{image_text}{acc_text}"


def _train_images(result: dict[str, Any]) -> int | None:
    """Training images of a run's result.json (the shipped model's has its own layout)."""
    images = result.get("train_images") or (result.get("training") or {}).get("train_digits")
    return int(images) if images else None


def _epochs_run(model: TrainedModel) -> int:
    """Epochs the network was trained for."""
    result = model.result
    return int(result.get("epochs_run") or result.get("epochs") or model.spec.recipe.epochs)


def _shape_text(shape: tuple[int, ...]) -> str:
    """(26, 26, 32) -> '26×26×32'."""
    return "×".join(str(n) for n in shape)


def keras_code(spec: ModelSpec) -> str:
    """A runnable Keras script that builds and trains ``spec`` (shown, not run, on the page)."""
    sparse = spec.recipe.loss.startswith("sparse")
    lines = [
        "import keras",
        "from keras import layers",
        "",
        "# MNIST: 60,000 training and 10,000 test images of 28×28 grey pixels",
        "(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()",
        "x_train = x_train.reshape(-1, 28, 28, 1).astype(\"float32\") / 255",
        "x_test = x_test.reshape(-1, 28, 28, 1).astype(\"float32\") / 255",
    ]
    if not sparse:
        lines += ["y_train = keras.utils.to_categorical(y_train, 10)",
                  "y_test = keras.utils.to_categorical(y_test, 10)"]
    lines += ["", "model = keras.Sequential([", "    keras.Input(shape=(28, 28, 1)),"]
    for layer in spec.layers:
        if layer.kind == "conv":
            lines.append(f"    layers.Conv2D({layer.size}, ({layer.kernel}, {layer.kernel}), "
                         f"activation=\"{layer.activation}\"),")
        elif layer.kind in ("maxpool", "avgpool"):
            name = "MaxPooling2D" if layer.kind == "maxpool" else "AveragePooling2D"
            lines.append(f"    layers.{name}(({layer.kernel}, {layer.kernel})),")
        elif layer.kind == "dropout":
            lines.append(f"    layers.Dropout({layer.rate:g}),")
        elif layer.kind == "flatten":
            lines.append("    layers.Flatten(),")
        else:
            lines.append(f"    layers.Dense({layer.size}, activation=\"{layer.activation}\"),")
    r = spec.recipe
    optimizer = KERAS_OPTIMIZERS.get(r.optimizer, r.optimizer)
    lines += [
        "])",
        f"model.summary()  # {count_params(spec):,} trainable parameters",
        "",
        f"model.compile(optimizer=keras.optimizers.{optimizer}(learning_rate={r.learning_rate:g}),",
        f"              loss=\"{r.loss}\", metrics=[\"accuracy\"])",
        f"model.fit(x_train, y_train, batch_size={r.batch_size}, epochs={r.epochs},",
        "          validation_split=0.1)",
        "test_loss, test_accuracy = model.evaluate(x_test, y_test)",
        "print(f\"test accuracy: {test_accuracy:.4f}\")",
    ]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# 1. Model choice
# ---------------------------------------------------------------------------------------------
def _model_choices(runs_dir: Path) -> list[str]:
    """Paths of every model that can predict: the shipped one, then finished runs, newest first."""
    choices = []
    if (DEFAULT_MODEL_DIR / "weights.npz").exists() and (DEFAULT_MODEL_DIR / "spec.json").exists():
        choices.append(str(DEFAULT_MODEL_DIR))
    choices += [str(path) for path in reversed(list_runs(runs_dir))]
    return choices


def _model_section(runs_dir: Path) -> TrainedModel | None:
    """Choose the network that reads the drawing; None when there is none (with a message)."""
    st.subheader("1. Choose a network")
    choices = _model_choices(runs_dir)
    if str(DEFAULT_MODEL_DIR) not in choices:
        st.warning(f"The shipped model is missing ({DEFAULT_MODEL_DIR}). Train a network below "
                   "(section 5), or rebuild the shipped one with `make default-model`.")
    if not choices:
        st.info("No trained network yet: once a training job below finishes, it appears here.")
        return None
    state = st.session_state
    pending = state.pop("digit_model_pending", None)
    if pending in choices:
        _reset_kept("digit_model", pending)
    elif state.get("digit_model") not in choices or state.get("digit_model_w") not in choices:
        _reset_kept("digit_model", choices[0])
    path = _kept(st.selectbox, "Network that reads your drawing", "digit_model", choices[0],
                 options=choices, format_func=_model_label)
    try:
        model = _load_model(path)
    except (ValueError, OSError) as exc:
        st.error(f"This network could not be loaded: {exc}")
        return None
    spec = model.spec
    cols = st.columns(4)
    cols[0].metric("Parameters", f"{count_params(spec):,}")
    acc = model.result.get("test_accuracy")
    cols[1].metric("Test accuracy", f"{acc:.2%}" if acc is not None else "–")
    images = _train_images(model.result)
    cols[2].metric("Training images", f"{images:,}" if images else "–")
    cols[3].metric("Epochs trained", str(_epochs_run(model)))
    lesson = f" (lesson {spec.lesson})" if spec.lesson else ""
    training = model.result.get("training") or {}
    extra = ""
    if training.get("augmentation"):
        extra = (" Trained with light augmentation (shifted, rotated, thicker and thinner "
                 "digits) so that it copes with how people draw.")
    st.caption(f"**{spec.title}**{lesson}. Recipe: {_recipe_text(spec)}.{extra} Layers: "
               + " → ".join(f"{layer.kind} {_shape_text(shape)}"
                            for layer, shape in zip(spec.layers, layer_shapes(spec), strict=True)))
    return model


# ---------------------------------------------------------------------------------------------
# 2-3. Drawing, prediction and feature maps (a fragment: a stroke reruns only this part)
# ---------------------------------------------------------------------------------------------
def _clear_drawing() -> None:
    """Page 'Clear' button: a fresh, empty canvas (new key) and no drawing."""
    state = st.session_state
    state["digit_canvas_version"] += 1
    state["digit_seed"] = {"objects": []}
    state["digit_drawing"] = None
    state["digit_source"] = "canvas"


def _recolour_drawing() -> None:
    """Ink change: keep the drawing, repainted in the new ink (the canvas remounts with it)."""
    state = st.session_state
    ink, _ = INKS[state["digit_ink_w"]]
    drawing = state.get("digit_drawing")
    if drawing is not None and drawing.get("json"):
        objects = [{**obj, "stroke": ink} if "stroke" in obj else obj
                   for obj in drawing["json"].get("objects", [])]
        state["digit_drawing"] = {**drawing, "json": {**drawing["json"], "objects": objects}}
    state["digit_canvas_version"] += 1


def _random_digit() -> None:
    """'Random MNIST test digit' button: pick the next test digit of a seeded sequence."""
    state = st.session_state
    state["digit_random_count"] += 1
    rng = np.random.default_rng([SEED, state["digit_random_count"]])
    state["digit_mnist_index"] = int(rng.integers(10_000))
    state["digit_source"] = "mnist"


def _show_drawing() -> None:
    """'Back to my drawing' button."""
    st.session_state["digit_source"] = "canvas"


def _canvas() -> None:
    """The drawing canvas and its controls; stores the drawing's 28×28 image in session state."""
    state = st.session_state
    ink_name = _kept(st.radio, "Ink", "digit_ink", next(iter(INKS)), options=list(INKS),
                     horizontal=True, on_change=_recolour_drawing)
    ink, background = INKS[ink_name]
    low, high, default = STROKE_WIDTH
    stroke = _kept(st.slider, "Stroke width", "digit_stroke", default, min_value=low,
                   max_value=high)
    canvas_key = f"digit_canvas_{state['digit_canvas_version']}"
    saved = state["digit_drawing"]
    if canvas_key not in state:  # a fresh canvas (first visit, page switch, ink change)
        state["digit_seed"] = saved["json"] if saved else {"objects": []}
    with st.container(key="digit_canvas_box"):
        result = st_canvas(stroke_width=stroke, stroke_color=ink, background_color=background,
                           height=CANVAS_SIZE, width=CANVAS_SIZE, drawing_mode="freedraw",
                           initial_drawing=state["digit_seed"], update_streamlit=True,
                           return_image_data=True, key=canvas_key)
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
        state["digit_drawing"] = {"json": result.json_data, "image": image,
                                  "rgba_shape": rgba.shape}
        state["digit_source"] = "canvas"
    cols = st.columns(2)
    cols[0].button("Clear drawing", key="digit_clear", on_click=_clear_drawing,
                   width="stretch", icon=":material/delete:")
    cols[1].button("Random test digit", key="digit_random", on_click=_random_digit,
                   width="stretch", icon=":material/casino:",
                   help="Show the network a random digit from MNIST's 10,000 test images.")
    st.caption("Draw one digit with the mouse (or a finger), as large as the box. The network "
               "answers when you lift the mouse. The canvas toolbar has Undo and Reset.")


def _current_input() -> tuple[np.ndarray | None, str, int | None]:
    """(image (28, 28) in [0, 1] or None, where it comes from, true label or None)."""
    state = st.session_state
    if state["digit_source"] == "mnist" and state["digit_mnist_index"] is not None:
        test = _mnist_test()
        if test is not None:
            x_test, y_test = test
            index = state["digit_mnist_index"] % len(x_test)
            return (x_test[index].astype(np.float32) / 255,
                    f"MNIST test digit #{index}", int(y_test[index]))
    drawing = state["digit_drawing"]
    return (None if drawing is None else drawing["image"]), "your drawing", None


def _epoch_weights(model: TrainedModel) -> tuple[list[np.ndarray], str]:
    """The weights to read with: final, or after an earlier epoch chosen on a slider."""
    final = _epochs_run(model)
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
    if (state.get("digit_epoch_model") != str(model.run_dir)
            or state.get("digit_epoch") not in options):
        _reset_kept("digit_epoch", final)
        state["digit_epoch_model"] = str(model.run_dir)
    epoch = _kept(st.select_slider, "Weights after epoch", "digit_epoch", final, options=options,
                  help="Slide back to see what the network made of this drawing earlier in its "
                       "training: the prediction and every feature map below follow.")
    if epoch == final:
        return model.weights, f"after epoch {final} (final)"
    try:
        return _checkpoint(str(earlier[epoch])), f"after epoch {epoch} of {final}"
    except (ValueError, OSError) as exc:
        st.warning(f"Checkpoint of epoch {epoch} could not be read ({exc}); showing the final "
                   "weights.")
        return model.weights, f"after epoch {final} (final)"


def _prediction(model: TrainedModel, weights: list[np.ndarray], when: str,
                image: np.ndarray | None, source: str, label: int | None) -> list | None:
    """Prediction, confidence and probabilities; returns the forward pass's layer outputs.

    Everything sits in one keyed container at a fixed place, so the browser swaps the prompt
    for the prediction in place (browser tests: .st-key-digit_prediction).
    """
    with st.container(key="digit_prediction"):
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
        with cols[0], st.container(key="digit_predicted_digit"):
            st.metric("Prediction", str(digit))
        cols[1].metric("Confidence", f"{probs[digit]:.1%}")
        with cols[2]:
            st.caption(f"Reading {source}, weights {when}.")
            if label is not None:
                if label == digit:
                    st.success(f"True label: {label}. Correct!")
                else:
                    st.error(f"True label: {label}. The network got it wrong.")
                st.button("Back to my drawing", key="digit_back", on_click=_show_drawing)
        with st.container(key="digit_probabilities"):
            st.plotly_chart(figs.probability_figure(probs), config=_plot_config())
    return outputs


def _feature_maps(model: TrainedModel, weights: list[np.ndarray], outputs: list | None) -> None:
    """Filters of the first conv layer, every conv/pool layer's maps, dense activations."""
    st.subheader("3. Inside the network: what each layer sees")
    spec = model.spec
    per_channel = _kept(st.toggle, "Scale each map on its own", "digit_per_channel", False,
                        help="Off: all maps of a layer share one colour scale, so you see which "
                             "channels respond most. On: each map is stretched to its own range, "
                             "so weak patterns show too.")
    with st.container(key="digit_feature_maps"):
        params = [layer.kind for layer in spec.layers if layer.kind in ("conv", "dense")]
        if "conv" in params:
            kernel = weights[2 * params.index("conv")]
            k, f = kernel.shape[0], kernel.shape[-1]
            with st.container(key="digit_filters"):
                st.plotly_chart(figs.filter_figure(
                    kernel, f"First layer's {f} learned {k}×{k} filters (blue −, red +)"),
                    config=_plot_config(), width="content")
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
            title = f"{out.name} → {_shape_text(maps.shape)}"
            with st.container(key=f"digit_fmap_{out.name}"):
                st.plotly_chart(figs.feature_map_figure(maps, title, per_channel=per_channel),
                                config=_plot_config())
                st.caption(f"{maps.shape[-1]} maps of {maps.shape[0]}×{maps.shape[1]}: "
                           + LAYER_HELP[out.kind].format(k=layer.kernel) + ".")
        for out in dense_outputs:
            values = out.values[0]
            active = int((values > 0).sum())
            with st.container(key=f"digit_dense_{out.name}"):
                st.plotly_chart(figs.dense_figure(
                    values, f"{out.name} → {values.size} neurons ({active} active)"),
                    config=_plot_config())


@st.fragment
def _drawing_section(model: TrainedModel | None) -> None:
    """Canvas | prediction, then the feature maps; reruns alone on every stroke."""
    st.subheader("2. Draw a digit")
    left, right = st.columns([1, 1.4], gap="large")
    with left:
        _canvas()
    image, source, label = _current_input()
    with right:
        with st.container(key="digit_input_image"):  # always there: the layout does not jump
            if image is not None:
                st.plotly_chart(figs.input_image_figure(image), config=_plot_config(),
                                width="content")
                st.caption("What the network sees: your drawing cropped, scaled to 20 px and "
                           "centred in 28×28 pixels, exactly as MNIST's digits were made.")
        if model is None:
            with st.container(key="digit_prediction"):
                st.warning("No network to read the drawing: choose or train one.")
            return
        weights, when = _epoch_weights(model)
        outputs = _prediction(model, weights, when, image, source, label)
    _feature_maps(model, weights, outputs)


# ---------------------------------------------------------------------------------------------
# 4. How good is the chosen network
# ---------------------------------------------------------------------------------------------
def _evaluation_section(model: TrainedModel) -> None:
    """Training curves, test accuracy, confusion matrix and a gallery of mistakes."""
    st.subheader("4. How good is this network?")
    result = model.result
    if model.history:
        st.plotly_chart(figs.training_curves_figure(model.history), config=_plot_config(),
                        key="digit_model_curves")
    if not result or "confusion" not in result:
        st.info("This network has no test result (result.json) to show.")
        return
    total = result.get("mistakes_total", len(result.get("mistakes", [])))
    st.write(f"On MNIST's 10,000 test digits, which it never saw while training, it is right "
             f"**{result['test_accuracy']:.2%}** of the time: **{total}** mistakes.")
    cols = st.columns([1, 1.3], gap="large")
    with cols[0]:
        try:
            st.plotly_chart(figs.confusion_figure(result["confusion"]), config=_plot_config())
        except ValueError as exc:
            st.warning(f"The confusion matrix could not be drawn: {exc}")
    with cols[1]:
        indices = [int(i) for i in result.get("mistakes", [])][:MISTAKES_SHOWN]
        if not indices:
            st.success("No mistakes on the test set.")
            return
        test = _mnist_test()
        if test is None:
            return
        x_test, y_test = test
        images = x_test[indices]
        predicted = result.get("mistakes_predicted", [])[:len(indices)]
        if len(predicted) != len(indices):
            probs = forward_layers(model.spec, model.weights, images.astype(np.float32) / 255)
            predicted = np.argmax(probs[-1].values, axis=1).tolist()
        st.plotly_chart(figs.mistakes_figure(images, y_test[indices], predicted),
                        config=_plot_config())


# ---------------------------------------------------------------------------------------------
# 5. Training in the background
# ---------------------------------------------------------------------------------------------
def _presets_table() -> None:
    """The course's networks with their parameter counts and recipes."""
    rows = [{"network": spec.title, "lesson": spec.lesson, "parameters": count_params(spec),
             "optimizer": spec.recipe.optimizer, "learning rate": spec.recipe.learning_rate,
             "batch": spec.recipe.batch_size, "epochs": spec.recipe.epochs}
            for spec in PRESETS.values()]
    st.dataframe(rows, hide_index=True, width="stretch")


def _train_form(runs_dir: Path) -> None:
    """Choose a preset or a custom network and its recipe; 'Train' queues a job."""
    state = st.session_state
    names = [*PRESETS, "custom"]
    what = _kept(st.selectbox, "Network to train", "digit_train_kind", "cnn_34826", options=names,
                 format_func=lambda n: ("Custom CNN (choose its layers)" if n == "custom" else
                                        f"{PRESETS[n].title}: {count_params(PRESETS[n]):,} "
                                        "parameters"))
    recipe = (PRESETS[what].recipe if what != "custom" else None)
    d = CUSTOM_DEFAULTS
    with st.form("digit_train_form", border=True):
        arch: dict[str, Any] = {}
        if what == "custom":
            c = st.columns(3)
            with c[0]:
                arch["f1"] = _kept(st.number_input, "Filters, conv block 1", "digit_train_f1",
                                   d["f1"], min_value=0, step=1)
                arch["f2"] = _kept(st.number_input, "Filters, conv block 2 (0 = none)",
                                   "digit_train_f2", d["f2"], min_value=0, step=1)
            with c[1]:
                arch["kernel"] = _kept(st.selectbox, "Kernel size", "digit_train_kernel",
                                       d["kernel"], options=[3, 5],
                                       format_func=lambda k: f"{k}×{k}")
                arch["pooling"] = _kept(st.selectbox, "Pooling after each conv",
                                        "digit_train_pooling", d["pooling"], options=POOLINGS)
            with c[2]:
                arch["dense"] = _kept(st.number_input, "Dense neurons (0 = none)",
                                      "digit_train_dense", d["dense"], min_value=0, step=16)
                arch["dropout"] = _kept(st.number_input, "Dropout rate", "digit_train_dropout",
                                        d["dropout"], min_value=0.0, max_value=1.0, step=0.05)
        c = st.columns(5)
        suffix = what  # each network keeps its own recipe settings
        epochs = _kept(c[0].number_input, "Epochs", f"digit_train_epochs_{suffix}",
                       recipe.epochs if recipe else d["epochs"], min_value=1, step=1)
        batch = _kept(c[1].number_input, "Batch size", f"digit_train_batch_{suffix}",
                      recipe.batch_size if recipe else d["batch_size"], min_value=1, step=32)
        optimizer = _kept(c[2].selectbox, "Optimizer", f"digit_train_optimizer_{suffix}",
                          recipe.optimizer if recipe else d["optimizer"], options=OPTIMIZERS)
        lr = _kept(c[3].number_input, "Learning rate", f"digit_train_lr_{suffix}",
                   float(recipe.learning_rate if recipe else d["learning_rate"]),
                   min_value=0.0, step=0.0005, format="%.5f")
        images = _kept(c[4].selectbox, "Training images", "digit_train_images",
                       TRAIN_IMAGES_DEFAULT, options=TRAIN_IMAGES,
                       format_func=lambda n: "all 60,000" if n >= 60_000 else f"{n:,}",
                       help="Fewer images train in seconds (for a quick demo), at a lower "
                            "accuracy. 10% of them are held out for validation.")
        submitted = st.form_submit_button("Train", type="primary", key="digit_train_submit",
                                          icon=":material/model_training:")
    if not submitted:
        return
    try:
        recipe_check = custom_spec(epochs=int(epochs), batch_size=int(batch), optimizer=optimizer,
                                   learning_rate=float(lr))  # validates the recipe fields
        if what == "custom":
            filters = (int(arch["f1"]),) if int(arch["f2"]) == 0 else (int(arch["f1"]),
                                                                        int(arch["f2"]))
            spec = custom_spec(conv_filters=filters, kernel_size=int(arch["kernel"]),
                               pooling=arch["pooling"], dense_units=int(arch["dense"]),
                               dropout_rate=float(arch["dropout"]), epochs=int(epochs),
                               batch_size=int(batch), optimizer=optimizer,
                               learning_rate=float(lr))
        else:
            r = recipe_check.recipe
            spec = with_recipe(PRESETS[what], epochs=r.epochs, batch_size=r.batch_size,
                               optimizer=r.optimizer, learning_rate=r.learning_rate)
        limit = None if images >= 60_000 else int(images)
        job_id = _registry(str(runs_dir)).start(spec, train_limit=limit)
    except ValueError as exc:
        st.error(f"Cannot train this network: {exc}")
        return
    except Exception as exc:  # e.g. the runs folder is not writable
        st.error(f"The training job could not be started: {type(exc).__name__}: {exc}")
        return
    state["digit_job_id"] = job_id
    state["digit_job_seen"] = None
    state["digit_trace"] = None


def _duration(seconds: float | None) -> str:
    """75.2 -> '1 min 15 s'."""
    if seconds is None:
        return "–"
    seconds = max(0, round(seconds))
    minutes, secs = divmod(seconds, 60)
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


def _record_trace(status: JobStatus) -> dict[str, list[float]] | None:
    """Append the running (epoch-mean) loss/accuracy to this session's live curve of the job."""
    state = st.session_state
    trace = state.get("digit_trace")
    if trace is None or trace.get("job") != status.job_id:
        trace = {"job": status.job_id, "x": [], "loss": [], "accuracy": []}
    if status.state == "running" and status.batches and status.loss is not None:
        x = status.epoch - 1 + status.batch / status.batches
        if not trace["x"] or x > trace["x"][-1]:
            trace["x"].append(x)
            trace["loss"].append(float(status.loss))
            trace["accuracy"].append(float(status.accuracy or np.nan))
    state["digit_trace"] = trace
    return trace if trace["x"] else None


def _job_status(status: JobStatus, registry: JobRegistry) -> None:
    """Progress bar, times, curves and the buttons of one job."""
    limit = "all 60,000" if status.train_limit is None else f"{status.train_limit:,}"
    st.markdown(f"**{status.title}**, {limit} training images: **{status.state}**")
    if status.state == "queued":
        st.info(f"Waiting in the queue: position {status.queue_position} "
                f"(this server trains {registry.max_concurrent} network"
                f"{'s' if registry.max_concurrent != 1 else ''} at a time).")
    if status.state == "running" and not status.batches:
        progress_text = "Starting: the worker process loads TensorFlow and MNIST…"
    elif status.state == "queued":
        progress_text = f"Epoch 0/{status.epochs} (waiting)"
    else:
        batch_text = f" · batch {status.batch}/{status.batches}" if status.batches else ""
        progress_text = f"Epoch {max(status.epoch, 0)}/{status.epochs}{batch_text}"
    st.progress(status.progress, text=progress_text)
    parts = [f"Elapsed {_duration(status.elapsed_s)}"] if status.elapsed_s else []
    if status.state == "running":
        parts.append(f"about {_duration(status.eta_s)} left" if status.eta_s is not None
                     else "estimating the time left…")
        if status.loss is not None:
            parts.append(f"loss {status.loss:.4f}, accuracy {status.accuracy or 0:.2%} "
                         "(this epoch so far)")
    if parts:
        st.caption(" · ".join(parts))
    trace = _record_trace(status)
    if status.history or trace:
        st.plotly_chart(figs.training_curves_figure(status.history, live=trace),
                        config=_plot_config(), key="digit_job_curves")
    if status.state in ACTIVE_STATES:
        st.button("Cancel training", key="digit_cancel", on_click=registry.cancel,
                  args=(status.job_id,), icon=":material/cancel:")
    elif status.state == "done":
        acc = f"{status.test_accuracy:.2%}" if status.test_accuracy is not None else "–"
        st.success(f"Finished: test accuracy {acc}. The network is now in the list at the top "
                   "of the page.")
        if st.button("Use this network for prediction", key="digit_use_trained"):
            st.session_state["digit_model_pending"] = str(status.run_dir)
            st.rerun()
    elif status.state == "failed":
        st.error(f"Training failed: {status.error or 'unknown error'}")
    else:
        st.warning("Training was cancelled.")


def _training_panel(runs_dir: str) -> None:
    """The job of this session: live while it runs (fragment rerun every second)."""
    state = st.session_state
    registry = _registry(runs_dir)
    job_id = state.get("digit_job_id")
    with st.container(key="digit_training"):
        if job_id is None:
            st.caption("No training started from this browser session yet.")
            return
        try:
            status = registry.status(job_id)
        except KeyError:
            st.warning("The training job of this session is no longer known to the server (it "
                       "was restarted). Finished networks are still in the list at the top.")
            state["digit_job_id"] = None
            return
        _job_status(status, registry)
    was_active = state.get("digit_job_seen") in ACTIVE_STATES
    state["digit_job_seen"] = status.state
    if was_active and status.state not in ACTIVE_STATES:
        st.rerun()  # the whole page: the finished network joins the model list


def _queue_table(registry: JobRegistry) -> None:
    """Every job on this server (all sessions), for a class sharing one server."""
    jobs = registry.jobs()
    if not jobs:
        return
    with st.expander(f"All training jobs on this server ({len(jobs)})"):
        st.dataframe([{"network": j.title, "images": j.train_limit or 60_000, "state": j.state,
                       "queue": j.queue_position, "progress": f"{j.progress:.0%}",
                       "test accuracy": j.test_accuracy} for j in jobs],
                     hide_index=True, width="stretch")


def _training_section(runs_dir: Path) -> None:
    """Section 5: presets, the form, this session's job, the server's queue."""
    st.subheader("5. Train a network in the background")
    st.write("Training runs in its own process on the server, so this page (and everybody "
             "else's) stays responsive. You can switch pages and come back: the job keeps "
             "going. Identical settings share one job; jobs beyond the server's limit wait "
             "in a queue.")
    with st.expander("The course's networks"):
        _presets_table()
    _train_form(runs_dir)
    registry = _registry(str(runs_dir))
    job_id = st.session_state.get("digit_job_id")
    active = False
    if job_id is not None:
        try:
            active = registry.status(job_id).state in ACTIVE_STATES
        except KeyError:
            active = False
    st.fragment(run_every=POLL_S if active else None)(_training_panel)(str(runs_dir))
    _queue_table(registry)


# ---------------------------------------------------------------------------------------------
# The page
# ---------------------------------------------------------------------------------------------
def main() -> None:
    """Lay out the page: model, drawing + prediction + feature maps, evaluation, training, code."""
    _init_state()
    st.title("Draw a digit")
    st.write("Draw a digit and watch a convolutional network trained on MNIST read it: the "
             "28×28 image it sees, the probability of each digit, and what every layer makes "
             "of your drawing. Everything is computed by a NumPy copy of the Keras network.")
    runs_dir = _runs_dir()
    model = _model_section(runs_dir)
    _drawing_section(model)
    if model is not None:
        _evaluation_section(model)
    _training_section(runs_dir)
    if model is not None:
        with st.expander("Keras code of this network"):
            st.code(keras_code(model.spec), language="python")


main()
