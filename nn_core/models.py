"""The course's MNIST networks (presets), user-made networks, and their Keras builder.

Specs are plain data (``nn_core.specs``); Keras is imported only inside ``build_keras_model``;
inference runs in NumPy (``nn_core.numpy_forward``). Both are re-exported here.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

import numpy as np

from nn_core.numpy_forward import LayerOutput, forward_layers, load_weights_npz, predict_proba
from nn_core.specs import (
    FLATTEN,
    INPUT_SHAPE,
    OUTPUT,
    LayerSpec,
    ModelSpec,
    Recipe,
    conv,
    count_params,
    dense,
    dropout,
    layer_names,
    layer_shapes,
    pool,
    with_recipe,
)

__all__ = [
    "PRESETS", "LayerOutput", "LayerSpec", "ModelSpec", "Recipe", "build_keras_model",
    "count_params", "custom_spec", "forward_layers", "keras_code", "layer_names", "layer_shapes",
    "load_weights_npz", "predict_proba", "with_recipe",
]


def _preset(name: str, title: str, lesson: str, layers: list[LayerSpec],
            recipe: Recipe) -> ModelSpec:
    return ModelSpec(name=name, title=title, layers=(*layers, OUTPUT), recipe=recipe, lesson=lesson)


# Learning rates are Keras's defaults except Adadelta: Keras 3 defaults it to 0.001, which barely
# moves in 12 epochs; the classic mnist_cnn example of lesson 001 used Adadelta(learning_rate=1.0).
PRESETS: dict[str, ModelSpec] = {spec.name: spec for spec in (
    _preset("lenet", "LeNet-style CNN (6-16 filters, average pooling, 120-84)", "000",
            [conv(6), pool("avgpool"), conv(16), pool("avgpool"), FLATTEN, dense(120), dense(84)],
            Recipe("adam", 0.001, 128, 10)),
    _preset("mnist_cnn", "Keras mnist_cnn (32-64 filters, dropout, dense 128)", "001",
            [conv(32), conv(64), pool(), dropout(0.25), FLATTEN, dense(128), dropout(0.5)],
            Recipe("adadelta", 1.0, 128, 12)),
    _preset("cnn_34826", "34,826-parameter CNN (32-64 filters, dropout)", "003",
            [conv(32), pool(), conv(64), pool(), FLATTEN, dropout(0.5)],
            Recipe("adam", 0.001, 1000, 10)),
    _preset("cnn_104202", "104,202-parameter CNN (32-64-128 filters)", "004",
            [conv(32), pool(), conv(64), pool(), conv(128), FLATTEN],
            Recipe("rmsprop", 0.001, 64, 5)),
    _preset("dense_800_400", "Dense network 784-800-400-10 (for comparison)", "002",
            [FLATTEN, dense(800), dense(400)],
            Recipe("adam", 0.001, 128, 15)),
)}

def build_keras_model(spec: ModelSpec, compile_model: bool = True) -> Any:
    """keras.Sequential for ``spec`` with input (28, 28, 1), compiled with the spec's recipe."""
    import keras

    layer_shapes(spec)  # validates the layer order and spatial sizes
    made = [keras.Input(shape=INPUT_SHAPE, name="image")]
    for layer, name in zip(spec.layers, layer_names(spec), strict=True):
        if layer.kind == "conv":
            made.append(keras.layers.Conv2D(layer.size, layer.kernel,
                                            activation=layer.activation, name=name))
        elif layer.kind in ("maxpool", "avgpool"):
            pooling = {"maxpool": keras.layers.MaxPooling2D,
                       "avgpool": keras.layers.AveragePooling2D}[layer.kind]
            made.append(pooling(layer.kernel, name=name))
        elif layer.kind == "dropout":
            made.append(keras.layers.Dropout(layer.rate, name=name))
        elif layer.kind == "flatten":
            made.append(keras.layers.Flatten(name=name))
        else:
            made.append(keras.layers.Dense(layer.size, activation=layer.activation, name=name))
    model = keras.Sequential(made, name=spec.name)
    if compile_model:
        optimizer_class = type(keras.optimizers.get(spec.recipe.optimizer))
        optimizer = optimizer_class(learning_rate=spec.recipe.learning_rate)
        model.compile(optimizer=optimizer, loss=spec.recipe.loss, metrics=["accuracy"])
    return model


OPTIMIZERS = ("adam", "sgd", "rmsprop", "adadelta", "adagrad", "adamax", "nadam")
KERAS_OPTIMIZERS = MappingProxyType({  # identifier -> class name in keras.optimizers
    "adam": "Adam", "sgd": "SGD", "rmsprop": "RMSprop", "adadelta": "Adadelta",
    "adagrad": "Adagrad", "adamax": "Adamax", "nadam": "Nadam"})
POOLINGS = ("max", "avg", "none")
_LIMITS: dict[str, tuple[float, float]] = {
    "filters": (1, 128), "dense_units": (0, 512), "dropout": (0.0, 0.8), "epochs": (1, 30),
    "batch_size": (8, 2048), "learning_rate": (1e-5, 2.0)}


_WHOLE = ("filters", "dense_units", "epochs", "batch_size")


def _check(field: str, value: object) -> None:
    """ValueError naming ``field`` unless value is a number (whole where needed) in its range."""
    low, high = _LIMITS[field]
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ValueError(f"{field} must be a number, got {value!r}")
    if field in _WHOLE and int(value) != value:
        raise ValueError(f"{field} must be a whole number, got {value:g}")
    if not low <= value <= high:
        raise ValueError(f"{field} must be between {low:g} and {high:g}, got {value:g}")


def custom_spec(conv_filters: tuple[int, ...] | list[int] = (32, 64), kernel_size: int = 3,
                pooling: str = "max", dense_units: int = 128, dropout_rate: float = 0.25,
                epochs: int = 5, batch_size: int = 128, optimizer: str = "adam",
                learning_rate: float = 0.001) -> ModelSpec:
    """A user's network: 1-2 conv blocks (conv + optional pooling), flatten, optional dense.

    Layers: [Conv(f, k) (+ pool)] × len(conv_filters) -> Flatten -> [Dense(units) ->] Dropout ->
    Dense(10, softmax). Every field is validated; ValueError names the field and its range.
    """
    filters = tuple(conv_filters)
    if not 1 <= len(filters) <= 2:
        raise ValueError(f"conv_filters must hold 1 or 2 conv blocks, got {len(filters)}")
    for f in filters:
        _check("filters", f)
    if kernel_size not in (3, 5):
        raise ValueError(f"kernel_size must be 3 or 5, got {kernel_size}")
    if pooling not in POOLINGS:
        raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {optimizer!r}")
    for field, value in (("dense_units", dense_units), ("dropout", dropout_rate),
                         ("epochs", epochs), ("batch_size", batch_size),
                         ("learning_rate", learning_rate)):
        _check(field, value)
    layers: list[LayerSpec] = []
    for f in filters:
        layers.append(conv(int(f), kernel_size))
        if pooling != "none":
            layers.append(pool(f"{pooling}pool"))
    layers.append(FLATTEN)
    if dense_units:
        layers.append(dense(int(dense_units)))
    if dropout_rate:
        layers.append(dropout(float(dropout_rate)))
    pooled = "no pooling" if pooling == "none" else f"{pooling} pooling"
    title = (f"Custom CNN: conv {'-'.join(map(str, filters))} ({kernel_size}×{kernel_size}, "
             f"{pooled}), dense {dense_units}, dropout {dropout_rate:g}")
    spec = _preset("custom", title, "", layers,
                   Recipe(optimizer, float(learning_rate), int(batch_size), int(epochs)))
    layer_shapes(spec)  # the spatial size must stay positive
    return spec


def _keras_layer_line(layer: LayerSpec) -> str:
    """One ``layers.X(...)`` line of the script's Sequential list."""
    if layer.kind == "conv":
        return (f"    layers.Conv2D({layer.size}, ({layer.kernel}, {layer.kernel}), "
                f"activation=\"{layer.activation}\"),")
    if layer.kind in ("maxpool", "avgpool"):
        name = "MaxPooling2D" if layer.kind == "maxpool" else "AveragePooling2D"
        return f"    layers.{name}(({layer.kernel}, {layer.kernel})),"
    if layer.kind == "dropout":
        return f"    layers.Dropout({layer.rate:g}),"
    if layer.kind == "flatten":
        return "    layers.Flatten(),"
    return f"    layers.Dense({layer.size}, activation=\"{layer.activation}\"),"


def keras_code(spec: ModelSpec) -> str:
    """A runnable Keras script that builds and trains ``spec``: text only, shown on the page."""
    r = spec.recipe
    lines = ["import keras", "from keras import layers", "",
             "# MNIST: 60,000 training and 10,000 test images of 28×28 grey pixels",
             "(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()",
             "x_train = x_train.reshape(-1, 28, 28, 1).astype(\"float32\") / 255",
             "x_test = x_test.reshape(-1, 28, 28, 1).astype(\"float32\") / 255"]
    if not r.loss.startswith("sparse"):
        lines += ["y_train = keras.utils.to_categorical(y_train, 10)",
                  "y_test = keras.utils.to_categorical(y_test, 10)"]
    lines += ["", "model = keras.Sequential([", "    keras.Input(shape=(28, 28, 1)),",
              *(_keras_layer_line(layer) for layer in spec.layers)]
    optimizer = KERAS_OPTIMIZERS.get(r.optimizer, r.optimizer)
    lr = float(r.learning_rate)  # written with repr: 1.0, not 1 (Keras 3 rejects an int)
    lines += ["])", f"model.summary()  # {count_params(spec):,} trainable parameters", "",
              f"model.compile(optimizer=keras.optimizers.{optimizer}(learning_rate={lr!r}),",
              f"              loss=\"{r.loss}\", metrics=[\"accuracy\"])",
              f"model.fit(x_train, y_train, batch_size={r.batch_size}, epochs={r.epochs},",
              "          validation_split=0.1)",
              "test_loss, test_accuracy = model.evaluate(x_test, y_test)",
              "print(f\"test accuracy: {test_accuracy:.4f}\")"]
    return "\n".join(lines) + "\n"
