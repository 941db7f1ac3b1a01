"""The CNN's layer kinds in one table: Keras class, output shape, parameters and NumPy forward.

Every other module that cares about a layer's kind (shapes and counts in ``specs``, the NumPy
pass in ``numpy_forward``, the Keras builder and the Keras script) looks it up here, so a kind
is described once. Shapes are without the batch axis: (h, w, c) before Flatten, (units,) after.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from nn_core.basics.activations import activate

if TYPE_CHECKING:
    from nn_core.cnn.specs import LayerSpec

Shape = tuple[int, ...]


def conv2d(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """'valid' Conv2D by im2col: x (N, H, W, C), kernel (k, k, C, F) -> (N, H-k+1, W-k+1, F)."""
    k, _, c, f = kernel.shape
    windows = sliding_window_view(x, (k, k), axis=(1, 2))  # (N, Ho, Wo, C, k, k)
    n, ho, wo = windows.shape[:3]
    cols = windows.reshape(n * ho * wo, c * k * k)
    out = cols @ kernel.transpose(2, 0, 1, 3).reshape(c * k * k, f)
    return (out + bias).reshape(n, ho, wo, f)


def pool2d(x: np.ndarray, size: int, kind: str) -> np.ndarray:
    """Max/avg pooling, pool = stride = ``size``, 'valid': (N, H, W, C) -> (N, H//s, W//s, C)."""
    n, h, w, c = x.shape
    ho, wo = h // size, w // size
    blocks = x[:, : ho * size, : wo * size].reshape(n, ho, size, wo, size, c)
    return blocks.max(axis=(2, 4)) if kind == "maxpool" else blocks.mean(axis=(2, 4))


def _image(shape: Shape, kind: str) -> Shape:
    if len(shape) != 3:
        raise ValueError(f"a {kind} layer must come before flatten")
    return shape


BN_EPSILON = 1e-3  # keras.layers.BatchNormalization's default epsilon (the builder keeps it)


def batch_norm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, mean: np.ndarray,
               variance: np.ndarray) -> np.ndarray:
    """BatchNormalization at inference, per channel (last axis), in tf.nn.batch_normalization's
    order of operations so float32 agrees with Keras to the last bits: inv = gamma /
    sqrt(variance + eps), then x·inv + (beta − mean·inv).

    At inference the layer is a fixed affine map with the moving statistics the training
    tracked, not the batch's own; this is what the trained network computes on one drawing.
    """
    inv = (1 / np.sqrt(variance + BN_EPSILON)) * gamma
    return x * inv + (beta - mean * inv)


def _conv_shape(layer: LayerSpec, shape: Shape) -> Shape:
    h, w, _ = _image(shape, "conv")
    return (h - layer.kernel + 1, w - layer.kernel + 1, layer.size)


def _pool_shape(layer: LayerSpec, shape: Shape) -> Shape:
    h, w, c = _image(shape, "pooling")
    return (h // layer.kernel, w // layer.kernel, c)


def _dense_shape(layer: LayerSpec, shape: Shape) -> Shape:
    if len(shape) != 1:
        raise ValueError("a dense layer must come after flatten")
    return (layer.size,)


def _flatten_shape(layer: LayerSpec, shape: Shape) -> Shape:
    return (int(np.prod(shape)),)


def _same_shape(layer: LayerSpec, shape: Shape) -> Shape:
    return shape


def _no_weights(layer: LayerSpec, shape: Shape) -> tuple[Shape, ...]:
    return ()


def _conv_weights(layer: LayerSpec, shape: Shape) -> tuple[Shape, ...]:
    """Kernel (k, k, C, F) and one bias per filter: 3·3·1·32 + 32 = 320 for the course's first
    conv."""
    return (layer.kernel, layer.kernel, shape[-1], layer.size), (layer.size,)


def _dense_weights(layer: LayerSpec, shape: Shape) -> tuple[Shape, ...]:
    """Kernel (inputs, units) and one bias per unit: 1600·10 + 10 = 16,010 for the 34,826
    network's output."""
    return (shape[0], layer.size), (layer.size,)


def _batchnorm_weights(layer: LayerSpec, shape: Shape) -> tuple[Shape, ...]:
    """gamma, beta (trained), moving mean, moving variance (tracked): four per channel, all
    counted by Keras's ``count_params`` (2·C trainable, 2·C not)."""
    return ((shape[-1],),) * 4


def _square(n: int) -> tuple[int, int]:
    return (n, n)


@dataclass(frozen=True)
class LayerKind:
    """One kind of layer: its Keras class and how it changes the shape, counts and computes.

    ``weight_shapes(layer, input_shape)`` gives the shapes of the layer's arrays in
    ``model.get_weights()`` order (none for kinds without weights); ``keras_args(layer)`` the
    class's positional and keyword arguments (the builder and the generated script both use
    them); ``forward(layer, x, *arrays)`` computes the layer on a batch in NumPy at inference,
    given those arrays.
    """

    keras_class: str
    keras_name: str  # base of Keras's automatic layer names: conv2d_1, max_pooling2d_1, ...
    output_shape: Callable[[LayerSpec, Shape], Shape]
    weight_shapes: Callable[[LayerSpec, Shape], tuple[Shape, ...]]
    keras_args: Callable[[LayerSpec], tuple[tuple[Any, ...], dict[str, Any]]]
    forward: Callable[..., np.ndarray]
    tracked: int = 0  # how many of the last arrays are statistics tracked in training, untrained

    def params(self, layer: LayerSpec, shape: Shape) -> int:
        """Numbers in the layer's arrays, as Keras's ``layer.count_params()`` counts them
        (trained and tracked alike), for input ``shape``."""
        return sum(int(np.prod(s)) for s in self.weight_shapes(layer, shape))

    def trainable_params(self, layer: LayerSpec, shape: Shape) -> int:
        """The numbers gradient descent changes: ``params`` less the tracked statistics (a batch
        norm's moving mean and variance), as Keras's ``layer.trainable_weights`` hold them."""
        shapes = self.weight_shapes(layer, shape)
        return sum(int(np.prod(s)) for s in shapes[:len(shapes) - self.tracked])

    @property
    def has_weights(self) -> bool:
        """True for the kinds with arrays in ``model.get_weights()`` (conv, dense, batchnorm)."""
        return self.weight_shapes is not _no_weights


def _act(layer: LayerSpec, x: np.ndarray) -> np.ndarray:
    """The layer's activation from the one table (nn_core.basics.activations), in x's dtype."""
    return activate(layer.activation, x).astype(x.dtype, copy=False)


LAYER_KINDS: dict[str, LayerKind] = {
    "conv": LayerKind(
        "Conv2D", "conv2d", _conv_shape, _conv_weights,
        lambda ly: ((ly.size, _square(ly.kernel)), {"activation": ly.activation}),
        lambda ly, x, k, b: _act(ly, conv2d(x, k, b))),
    "maxpool": LayerKind(
        "MaxPooling2D", "max_pooling2d", _pool_shape, _no_weights,
        lambda ly: ((_square(ly.kernel),), {}),
        lambda ly, x: pool2d(x, ly.kernel, "maxpool")),
    "avgpool": LayerKind(
        "AveragePooling2D", "average_pooling2d", _pool_shape, _no_weights,
        lambda ly: ((_square(ly.kernel),), {}),
        lambda ly, x: pool2d(x, ly.kernel, "avgpool")),
    "dropout": LayerKind(
        "Dropout", "dropout", _same_shape, _no_weights,
        lambda ly: ((ly.rate,), {}),
        lambda ly, x: x),  # the identity at inference
    "flatten": LayerKind(
        "Flatten", "flatten", _flatten_shape, _no_weights,
        lambda ly: ((), {}),
        lambda ly, x: x.reshape(len(x), -1)),  # NHWC order, as keras.layers.Flatten
    "dense": LayerKind(
        "Dense", "dense", _dense_shape, _dense_weights,
        lambda ly: ((ly.size,), {"activation": ly.activation}),
        lambda ly, x, k, b: _act(ly, x @ k + b)),
    "batchnorm": LayerKind(  # Keras's defaults: momentum 0.99, epsilon BN_EPSILON, last axis
        "BatchNormalization", "batch_normalization", _same_shape, _batchnorm_weights,
        lambda ly: ((), {}),
        lambda ly, x, gamma, beta, mean, var: batch_norm(x, gamma, beta, mean, var),
        tracked=2),
    "activation": LayerKind(  # an activation on its own, e.g. relu after a batch norm
        "Activation", "activation", _same_shape, _no_weights,
        lambda ly: ((ly.activation,), {}),
        lambda ly, x: _act(ly, x)),
}
