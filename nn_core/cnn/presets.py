"""The course's MNIST networks (presets) and the networks a student makes in the form.

Specs are plain data (``nn_core.cnn.specs``); Keras builds them in ``nn_core.cnn.keras_model``
and NumPy runs them in ``nn_core.cnn.numpy_forward``.
"""

from __future__ import annotations

from types import MappingProxyType

import numpy as np

from nn_core.cnn.specs import (
    FLATTEN,
    OUTPUT,
    LayerSpec,
    ModelSpec,
    Recipe,
    activation,
    batchnorm,
    conv,
    dense,
    dropout,
    layer_shapes,
    pool,
)
from nn_core.marker import N_


def _preset(name: str, title: str, lesson: str, layers: list[LayerSpec],
            recipe: Recipe) -> ModelSpec:
    return ModelSpec(name=name, title=title, layers=(*layers, OUTPUT), recipe=recipe, lesson=lesson)


QUICK_TITLE = N_("Quick CNN: 99% accuracy in half a minute (batch norm, warm-up schedule)")
# quick_99 (issue 12), measured with benchmarks/bench_time_to_99.py on the 2-core machine: the
# warm-up + cosine schedule is what brings two epochs to 99% (99.21% here; at the same rate held
# constant 97.77%, at Adam's default 0.001 98.58%); on 2 CPU cores time per image follows the
# size of the feature maps, so the convolutions are small (16-32 filters: an epoch in about half
# the time of lesson 004's 32-64-128) and the capacity sits in a 128-unit dense layer, which is
# cheap; the batch norm goes on that dense layer (as in Ioffe and Szegedy's MNIST network) and
# lifts two epochs from 99.01% to 99.21% for about a second, while batch norms after the
# convolutions (Keras 3's batch norm is many small operations) cost more and reached 99.12%.
# Batch 128: 512 costs the same per image on this CPU and, with 4× fewer steps, ends at 98.88%.

# Learning rates are Keras's defaults except Adadelta: Keras 3 defaults it to 0.001, which barely
# moves in 12 epochs; the classic mnist_cnn example of lesson 001 used Adadelta(learning_rate=1.0).
# quick_99's 0.008 is the peak of its schedule (see above).
PRESETS: dict[str, ModelSpec] = {spec.name: spec for spec in (
    _preset("lenet", N_("LeNet-style CNN (6-16 filters, average pooling, 120-84)"), "000",
            [conv(6), pool("avgpool"), conv(16), pool("avgpool"), FLATTEN, dense(120), dense(84)],
            Recipe("adam", 0.001, 128, 10)),
    _preset("mnist_cnn", N_("Keras mnist_cnn (32-64 filters, dropout, dense 128)"), "001",
            [conv(32), conv(64), pool(), dropout(0.25), FLATTEN, dense(128), dropout(0.5)],
            Recipe("adadelta", 1.0, 128, 12)),
    _preset("cnn_34826", N_("34,826-parameter CNN (32-64 filters, dropout)"), "003",
            [conv(32), pool(), conv(64), pool(), FLATTEN, dropout(0.5)],
            Recipe("adam", 0.001, 1000, 10)),
    _preset("cnn_104202", N_("104,202-parameter CNN (32-64-128 filters)"), "004",
            [conv(32), pool(), conv(64), pool(), conv(128), FLATTEN],
            Recipe("rmsprop", 0.001, 64, 5)),
    _preset("dense_800_400", N_("Dense network 784-800-400-10 (for comparison)"), "002",
            [FLATTEN, dense(800), dense(400)],
            Recipe("adam", 0.001, 128, 15)),
    _preset("quick_99", QUICK_TITLE, "004",
            [conv(16), pool(), conv(32), pool(), FLATTEN, dense(128, "linear"), batchnorm(),
             activation("relu")],
            Recipe("adam", 0.008, 128, 2, schedule="warmup_cosine")),
)}

TRAINING_OPTIMIZERS = MappingProxyType({  # the form's choices: identifier -> keras.optimizers class
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
    if optimizer not in TRAINING_OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {tuple(TRAINING_OPTIMIZERS)}, got "
                         f"{optimizer!r}")
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
