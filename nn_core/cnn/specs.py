"""Networks as plain data: layer specs, training recipes, shapes and parameter counts (NumPy only).

A ``ModelSpec`` is JSON-serialisable so that a worker process can rebuild the same network, and
its ``key()`` lets the job registry share one training job between identical requests.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, replace
from typing import Any

from nn_core.cnn.layers import LAYER_KINDS, LayerKind

INPUT_SHAPE: tuple[int, int, int] = (28, 28, 1)
NUM_CLASSES = 10
MNIST_TRAIN_IMAGES = 60_000
VALIDATION_FRACTION = 0.1  # the last 10% of the (possibly limited) training images validate
FULL_FIT_IMAGES = 54_000  # all 60,000 training images less the last 10% that validate

# Learning-rate schedules a recipe can name. "warmup_cosine": the rate climbs linearly from
# WARMUP_START × learning_rate to learning_rate over the first WARMUP_FRACTION of the steps, then
# follows a half cosine down to 0 at the last step (keras.optimizers.schedules.CosineDecay with
# warmup_target). The warm-up keeps the first, large-gradient steps of a freshly initialised
# network (and Adam's still-noisy moment estimates) from overshooting at a rate that is safe
# later on; the decay anneals into a minimum, so the last epoch ends with a better model than a
# constant rate would leave.
SCHEDULES = ("constant", "warmup_cosine")
WARMUP_FRACTION = 0.2
WARMUP_START = 0.1


@dataclass(frozen=True)
class LayerSpec:
    """One layer: ``size`` = filters/units, ``kernel`` = conv kernel/pool size, ``rate`` dropout."""

    kind: str
    size: int = 0
    kernel: int = 3
    activation: str = "relu"
    rate: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in LAYER_KINDS:
            raise ValueError(f"layer kind must be one of {tuple(LAYER_KINDS)}, got {self.kind!r}")

    @property
    def kind_info(self) -> LayerKind:
        """This layer's entry of the one table of kinds (nn_core.cnn.layers)."""
        return LAYER_KINDS[self.kind]


@dataclass(frozen=True)
class Recipe:
    """How a spec is trained: optimizer, (peak) learning rate, batch size, epochs, loss and the
    learning-rate schedule (one of ``SCHEDULES``; "constant" keeps ``learning_rate`` throughout,
    as every course recipe does)."""

    optimizer: str
    learning_rate: float
    batch_size: int
    epochs: int
    loss: str = "sparse_categorical_crossentropy"
    schedule: str = "constant"

    def __post_init__(self) -> None:
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {SCHEDULES}, got {self.schedule!r}")


@dataclass(frozen=True)
class ModelSpec:
    """A whole network (input 28×28×1, softmax over 10 digits) with its training recipe."""

    name: str
    title: str
    layers: tuple[LayerSpec, ...]
    recipe: Recipe
    lesson: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (lists, not tuples)."""
        return {"name": self.name, "title": self.title, "lesson": self.lesson,
                "layers": [asdict(layer) for layer in self.layers],
                "recipe": asdict(self.recipe)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelSpec:
        """Inverse of ``to_dict``; ValueError on a malformed dict."""
        try:
            layers = tuple(LayerSpec(**layer) for layer in data["layers"])
            return cls(name=str(data["name"]), title=str(data.get("title", data["name"])),
                       layers=layers, recipe=Recipe(**data["recipe"]),
                       lesson=str(data.get("lesson", "")))
        except (KeyError, TypeError) as exc:
            raise ValueError(f"not a model spec: {exc}") from exc

    def key(self) -> str:
        """Stable 16-hex hash of the architecture and recipe (name and title excluded).

        A constant schedule is left out of the hash, so specs written before recipes had a
        schedule keep their key (and their finished runs are still found and shared).
        """
        data = self.to_dict()
        recipe = dict(data["recipe"])
        if recipe["schedule"] == "constant":
            del recipe["schedule"]
        payload = json.dumps({"layers": data["layers"], "recipe": recipe}, sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


def conv(filters: int, kernel: int = 3, activation: str = "relu") -> LayerSpec:
    """Conv2D(filters, kernel×kernel, activation), 'valid' padding as in the course; "linear"
    when a batch norm and then the activation follow."""
    return LayerSpec("conv", size=filters, kernel=kernel, activation=activation)


def pool(kind: str = "maxpool", size: int = 2) -> LayerSpec:
    """MaxPooling2D / AveragePooling2D with pool_size = strides = ``size``."""
    return LayerSpec(kind, kernel=size, activation="linear")


def dense(units: int, activation: str = "relu") -> LayerSpec:
    """Dense(units, activation)."""
    return LayerSpec("dense", size=units, kernel=0, activation=activation)


def dropout(rate: float) -> LayerSpec:
    """Dropout(rate): identity at inference."""
    return LayerSpec("dropout", kernel=0, activation="linear", rate=rate)


def batchnorm() -> LayerSpec:
    """BatchNormalization() over the last axis, a feature map's channels or a dense layer's
    units (Keras's defaults: momentum 0.99, epsilon 1e-3).

    In training it standardises each channel (unit) with the batch's own mean and variance,
    then scales and shifts it by the learned gamma and beta, so the next layer sees inputs of a
    steady scale however the earlier weights move: larger learning rates stay stable and the
    network reaches a given accuracy in fewer steps. At inference it uses the moving averages
    of those means and variances, tracked during training.
    """
    return LayerSpec("batchnorm", kernel=0, activation="linear")


def activation(name: str = "relu") -> LayerSpec:
    """Activation(name) as a layer of its own, for after a batch norm: the conv or dense layer
    before it is then linear and the batch norm normalises its output, before the nonlinearity
    (the placement of Ioffe and Szegedy's paper)."""
    return LayerSpec("activation", kernel=0, activation=name)


FLATTEN = LayerSpec("flatten", kernel=0, activation="linear")
OUTPUT = dense(NUM_CLASSES, "softmax")


def layer_shapes(spec: ModelSpec) -> list[tuple[int, ...]]:
    """Output shape of every layer without the batch axis, e.g. (26, 26, 32) or (10,)."""
    shape: tuple[int, ...] = INPUT_SHAPE
    shapes = []
    for layer in spec.layers:
        shape = layer.kind_info.output_shape(layer, shape)
        if min(shape) < 1:
            raise ValueError(f"{spec.name}: the image shrinks to nothing ({shape}) at {layer.kind}")
        shapes.append(shape)
    return shapes


def layer_params(spec: ModelSpec) -> list[int]:
    """Parameters of every layer (weights + biases; a batch norm's four per channel), as Keras's
    summary and ``layer.count_params()`` count them."""
    inputs = [INPUT_SHAPE, *layer_shapes(spec)[:-1]]
    return [layer.kind_info.params(layer, shape)
            for layer, shape in zip(spec.layers, inputs, strict=True)]


def count_params(spec: ModelSpec) -> int:
    """Parameters of the whole network as ``model.count_params()``: 34,826 for lesson 003's CNN
    (all trainable; a batch norm's moving mean and variance count too, untrained)."""
    return sum(layer_params(spec))


def trainable_params(spec: ModelSpec) -> int:
    """Parameters that training changes by gradient (Keras's "Trainable params"): all of
    ``count_params`` except the batch norms' moving means and variances."""
    inputs = [INPUT_SHAPE, *layer_shapes(spec)[:-1]]
    return sum(layer.kind_info.trainable_params(layer, shape)
               for layer, shape in zip(spec.layers, inputs, strict=True))


def layer_names(spec: ModelSpec) -> list[str]:
    """Readable unique Keras layer names: conv2d_1, max_pooling2d_1, flatten, dense_1, ..."""
    counts: dict[str, int] = {}
    names = []
    for layer in spec.layers:
        base = layer.kind_info.keras_name
        if layer.kind == "flatten":
            names.append(base)
            continue
        counts[base] = counts.get(base, 0) + 1
        names.append(f"{base}_{counts[base]}")
    return names


def fit_images(train_limit: int | None = None) -> int:
    """Images a network fits on when it trains on the first ``train_limit`` of MNIST's training
    images (all 60,000 when None): the last VALIDATION_FRACTION of them (at least one) validate.
    ValueError when none would be left to fit on."""
    n = MNIST_TRAIN_IMAGES if train_limit is None else min(int(train_limit), MNIST_TRAIN_IMAGES)
    fit = n - max(1, round(n * VALIDATION_FRACTION))
    if fit < 1:
        raise ValueError(f"train_limit={train_limit} leaves no training images")
    return fit


def schedule_steps(recipe: Recipe, train_images: int = FULL_FIT_IMAGES,
                   initial_epoch: int = 0) -> tuple[int, int]:
    """(warm-up steps, all steps) of the schedule for epochs ``initial_epoch``+1.. of
    ``recipe`` on ``train_images`` images: ceil(images / batch) steps per epoch; the warm-up
    is WARMUP_FRACTION of them (at least one) for "warmup_cosine", none for "constant"."""
    if train_images < 1:
        raise ValueError(f"train_images must be >= 1, got {train_images}")
    steps = -(-train_images // recipe.batch_size) * max(1, recipe.epochs - initial_epoch)
    if recipe.schedule == "constant":
        return 0, steps
    return min(steps - 1, max(1, round(steps * WARMUP_FRACTION))), steps


def learning_rate_at(recipe: Recipe, step: float, train_images: int = FULL_FIT_IMAGES,
                     peak: float | None = None, initial_epoch: int = 0) -> float:
    """The rate the optimizer uses at ``step`` (0 = the first batch), as Keras's CosineDecay
    computes it for ``learning_rate_schedule``'s arguments; ``peak`` (default: the recipe's
    learning rate) is the warm-up's target. Written out here so tests can hold Keras to it."""
    peak = recipe.learning_rate if peak is None else peak
    if recipe.schedule == "constant":
        return peak
    warmup, steps = schedule_steps(recipe, train_images, initial_epoch)
    step = min(step, steps)
    if step < warmup:
        return peak * WARMUP_START + (peak - peak * WARMUP_START) * step / warmup
    return peak * 0.5 * (1 + math.cos(math.pi * (step - warmup) / (steps - warmup)))


def with_recipe(spec: ModelSpec, **changes: Any) -> ModelSpec:
    """The same network with some recipe fields changed (e.g. epochs=1)."""
    return replace(spec, recipe=replace(spec.recipe, **changes))
