"""Networks as plain data: layer specs, training recipes, shapes and parameter counts (NumPy only).

A ``ModelSpec`` is JSON-serialisable so that a worker process can rebuild the same network, and
its ``key()`` lets the job registry share one training job between identical requests.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, replace
from typing import Any

from nn_core.cnn.layers import LAYER_KINDS, LayerKind

INPUT_SHAPE: tuple[int, int, int] = (28, 28, 1)
NUM_CLASSES = 10


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
    """How a spec is trained: optimizer, learning rate, batch size, epochs and loss."""

    optimizer: str
    learning_rate: float
    batch_size: int
    epochs: int
    loss: str = "sparse_categorical_crossentropy"


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
        """Stable 16-hex hash of the architecture and recipe (name and title excluded)."""
        data = self.to_dict()
        payload = json.dumps({"layers": data["layers"], "recipe": data["recipe"]}, sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


def conv(filters: int, kernel: int = 3) -> LayerSpec:
    """Conv2D(filters, kernel×kernel, relu), 'valid' padding as in the course."""
    return LayerSpec("conv", size=filters, kernel=kernel, activation="relu")


def pool(kind: str = "maxpool", size: int = 2) -> LayerSpec:
    """MaxPooling2D / AveragePooling2D with pool_size = strides = ``size``."""
    return LayerSpec(kind, kernel=size, activation="linear")


def dense(units: int, activation: str = "relu") -> LayerSpec:
    """Dense(units, activation)."""
    return LayerSpec("dense", size=units, kernel=0, activation=activation)


def dropout(rate: float) -> LayerSpec:
    """Dropout(rate): identity at inference."""
    return LayerSpec("dropout", kernel=0, activation="linear", rate=rate)


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
    """Trainable parameters of every layer (weights + biases), as Keras's summary counts them."""
    inputs = [INPUT_SHAPE, *layer_shapes(spec)[:-1]]
    return [layer.kind_info.params(layer, shape)
            for layer, shape in zip(spec.layers, inputs, strict=True)]


def count_params(spec: ModelSpec) -> int:
    """Trainable parameters of the whole network: 34,826 for lesson 003's CNN."""
    return sum(layer_params(spec))


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


def with_recipe(spec: ModelSpec, **changes: Any) -> ModelSpec:
    """The same network with some recipe fields changed (e.g. epochs=1)."""
    return replace(spec, recipe=replace(spec.recipe, **changes))
