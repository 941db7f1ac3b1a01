"""Inference for a ``ModelSpec`` in NumPy: one forward pass that keeps every layer's output.

The web server never imports TensorFlow, so predictions and feature maps come from here, from
the weights a worker exported (``model.get_weights()`` order). Tests hold it equal to Keras.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from nn_core.cnn.specs import INPUT_SHAPE, ModelSpec, layer_names, layer_shapes

if TYPE_CHECKING:
    from collections.abc import Sequence


@dataclass(frozen=True)
class LayerOutput:
    """One layer's output: ``values`` (N, h, w, c) for conv/pool layers, (N, units) after it."""

    name: str
    kind: str
    values: np.ndarray


def _as_batch(images: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """(N, 28, 28), (N, 28, 28, 1) or one (28, 28) image -> (N, 28, 28, 1) of ``dtype``."""
    x = np.asarray(images)
    if x.ndim == 2:
        x = x[None]
    if x.ndim == 4 and x.shape[-1] == 1:
        x = x[..., 0]
    if x.ndim != 3 or x.shape[1:] != (28, 28):
        raise ValueError(f"images must have shape (N, 28, 28), got {np.shape(images)}")
    if not np.issubdtype(x.dtype, np.floating):
        raise ValueError(f"images must be floats in [0, 1] (pixels / 255), got {x.dtype}")
    return x.astype(dtype, copy=False)[..., None]


def forward_layers(spec: ModelSpec, weights: Sequence[np.ndarray],
                   images: np.ndarray) -> list[LayerOutput]:
    """Run images (N, 28, 28) in [0, 1] through ``spec``; one LayerOutput per layer, in order.

    ``weights`` are in ``model.get_weights()`` order (kernel, bias per conv/dense layer; gamma,
    beta, moving mean, moving variance per batch norm: each kind's ``weight_shapes``); the
    arithmetic runs in their dtype (float32 for trained models). This is inference: dropout is
    the identity and a batch norm uses its moving statistics.
    """
    shapes = layer_shapes(spec)
    wanted = [layer.kind_info.weight_shapes(layer, shape_in)
              for layer, shape_in in zip(spec.layers, [INPUT_SHAPE, *shapes[:-1]], strict=True)]
    count = sum(map(len, wanted))
    if len(weights) != count:
        raise ValueError(f"{spec.name} needs {count} weight arrays, got {len(weights)}")
    dtype = np.result_type(*weights, np.float32)
    x = _as_batch(images, dtype)
    outputs: list[LayerOutput] = []
    arrays = iter(np.asarray(w, dtype) for w in weights)
    for layer, name, shape, shapes_in in zip(spec.layers, layer_names(spec), shapes, wanted,
                                             strict=True):
        own = [next(arrays) for _ in shapes_in]
        if [a.shape for a in own] != list(shapes_in):
            raise ValueError(f"{name}: weights {' / '.join(str(a.shape) for a in own)} do not "
                             f"fit {' / '.join(map(str, shapes_in))}")
        x = layer.kind_info.forward(layer, x, *own)
        assert x.shape[1:] == shape
        outputs.append(LayerOutput(name=name, kind=layer.kind, values=x))
    return outputs


def predict_proba(spec: ModelSpec, weights: Sequence[np.ndarray], images: np.ndarray,
                  batch_size: int = 1000) -> np.ndarray:
    """Class probabilities (N, 10) for images (N, 28, 28) in [0, 1], in batches to bound memory."""
    x = np.asarray(images)
    if x.ndim == 2:
        x = x[None]
    chunks = [forward_layers(spec, weights, x[i: i + batch_size])[-1].values
              for i in range(0, len(x), batch_size)]
    return np.concatenate(chunks) if chunks else np.zeros((0, 10), np.float32)
