"""A convolution step by step, and pooling with numbers, against keras.layers (float32 and 64)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from nn_core.cnn.convolution import (
    COLOR_KERNEL,
    KERNELS,
    channel_products,
    color_image,
    feature_map,
    get_kernel,
    output_shape,
    patch,
    pool_windows,
    position_value,
    products,
    weights_per_filter,
)
from nn_core.cnn.digits import load_mnist
from nn_core.cnn.numpy_forward import forward_layers
from nn_core.training.runs import DEFAULT_MODEL_DIR, load_run

TOL = {"float32": {"rtol": 1e-5, "atol": 1e-5}, "float64": {"rtol": 1e-12, "atol": 1e-12}}


@pytest.fixture(scope="module")
def digits() -> np.ndarray:
    """Four real MNIST test digits, (4, 28, 28) float64 in [0, 1]."""
    _, (x_test, _) = load_mnist()
    return x_test[:4].astype(np.float64) / 255


@pytest.fixture
def keras_dtype(request: pytest.FixtureRequest) -> Any:
    """keras32 or keras64, by the test's ``dtype`` parameter."""
    return request.getfixturevalue("keras32" if request.param == "float32" else "keras64")


def conv_layer(keras: Any, kernel: np.ndarray, bias: np.ndarray, channels: int) -> Any:
    """keras.layers.Conv2D(F, k) built for ``channels`` inputs, with the given weights."""
    k, f = kernel.shape[0], kernel.shape[-1]
    layer = keras.layers.Conv2D(f, (k, k))
    layer.build((None, None, None, channels))
    layer.set_weights([kernel, bias])
    return layer


def test_kernel_table() -> None:
    assert list(KERNELS) == ["vertical_edge", "horizontal_edge", "sobel_x", "sobel_y", "blur",
                             "gaussian_blur", "sharpen", "identity"]
    for name, kernel in KERNELS.items():
        assert kernel.weights.shape == (3, 3) and not kernel.weights.flags.writeable
        assert kernel.title and kernel.description and "\n" not in kernel.description
        assert np.array_equal(get_kernel(name), kernel.weights) and get_kernel(name).flags.writeable
    for name in ("vertical_edge", "horizontal_edge", "sobel_x", "sobel_y"):
        assert KERNELS[name].weights.sum() == 0  # flat regions give 0
    for name in ("blur", "gaussian_blur", "sharpen", "identity"):
        assert np.isclose(KERNELS[name].weights.sum(), 1)  # flat regions keep their value
    np.testing.assert_array_equal(KERNELS["sobel_y"].weights, KERNELS["sobel_x"].weights.T)
    image = np.arange(30.0).reshape(5, 6)
    np.testing.assert_array_equal(feature_map(image, get_kernel("identity")), image[1:-1, 1:-1])
    with pytest.raises(ValueError, match="unknown kernel 'emboss'"):
        get_kernel("emboss")


def test_one_position_by_hand() -> None:
    image = np.array([[1, 2, 0, 1], [0, 1, 3, 1], [2, 1, 0, 0], [1, 0, 1, 2]], dtype=float)
    kernel = get_kernel("vertical_edge")
    np.testing.assert_array_equal(patch(image, 0, 1), [[2, 0, 1], [1, 3, 1], [1, 0, 0]])
    np.testing.assert_array_equal(products(image, kernel, 0, 1),
                                  [[2, 0, -1], [1, 0, -1], [1, 0, -0]])
    assert position_value(image, kernel, 0, 1) == 2.0
    assert position_value(image, kernel, 0, 1, bias=0.5) == 2.5
    assert output_shape(image.shape, 3) == (2, 2) and output_shape((28, 28, 1), 5) == (24, 24)
    fm = feature_map(image, kernel, bias=0.5)
    assert fm.shape == (2, 2) and fm[0, 1] == 2.5


def test_map_equals_every_position_value_and_builds_up_in_raster_order() -> None:
    rng = np.random.default_rng(3)
    image, kernel = rng.normal(size=(7, 9, 3)), rng.normal(size=(3, 3, 3))
    fm = feature_map(image, kernel, bias=-0.3)
    assert fm.shape == (5, 7) and fm.dtype == np.float64
    expected = [[position_value(image, kernel, r, c, -0.3) for c in range(7)] for r in range(5)]
    np.testing.assert_allclose(fm, expected, rtol=1e-13, atol=1e-13)
    for upto, filled in (((0, 0), 1), ((1, 3), 11), ((4, 6), 35)):
        part = feature_map(image, kernel, bias=-0.3, upto=upto)
        flat = part.reshape(-1)
        assert np.all(np.isfinite(flat[:filled])) and np.all(np.isnan(flat[filled:]))
        np.testing.assert_array_equal(flat[:filled], fm.reshape(-1)[:filled])
    relu = feature_map(image, kernel, bias=-0.3, activation="relu")
    np.testing.assert_array_equal(relu, np.maximum(fm, 0))


@pytest.mark.parametrize("keras_dtype", ["float32", "float64"], indirect=True)
@pytest.mark.parametrize(("source", "channels", "k", "filters"), [
    ("mnist", 1, 3, 1), ("mnist", 1, 3, 4), ("mnist", 1, 5, 3),
    ("random", 1, 3, 2), ("random", 3, 3, 1), ("random", 3, 5, 4),
])
def test_feature_maps_equal_keras_conv2d(keras_dtype: Any, digits: np.ndarray, source: str,
                                         channels: int, k: int, filters: int) -> None:
    keras = keras_dtype
    dtype = keras.config.floatx()
    rng = np.random.default_rng(k * 10 + filters + channels)
    if source == "mnist":
        images = digits[..., None]
    else:
        images = rng.uniform(-1, 1, size=(3, 17, 20, channels))
    images = images.astype(dtype)
    kernel = rng.normal(0, 0.5, size=(k, k, channels, filters)).astype(dtype)
    bias = rng.normal(0, 0.2, size=filters).astype(dtype)
    out = np.asarray(conv_layer(keras, kernel, bias, channels)(images))
    assert out.dtype == dtype
    for n, image in enumerate(images):
        grey = image[..., 0] if channels == 1 else image  # (H, W) for one channel
        for f in range(filters):
            ker = kernel[..., 0, f] if channels == 1 else kernel[..., f]
            fm = feature_map(grey, ker, bias[f])
            assert fm.dtype == dtype and fm.shape == out.shape[1:3]
            np.testing.assert_allclose(fm, out[n, ..., f], **TOL[dtype])
            # the same map for (H, W, 1) with (k, k, 1), and one pixel from its products
            np.testing.assert_allclose(feature_map(image, kernel[..., f], bias[f]), fm,
                                       **TOL[dtype])
            r, c = out.shape[1] // 2, out.shape[2] // 3
            np.testing.assert_allclose(position_value(grey, ker, r, c, bias[f]), out[n, r, c, f],
                                       **TOL[dtype])


@pytest.mark.parametrize("keras_dtype", ["float32", "float64"], indirect=True)
@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("size", [2, 3])
def test_pooling_equals_keras(keras_dtype: Any, digits: np.ndarray, kind: str, size: int) -> None:
    keras = keras_dtype
    dtype = keras.config.floatx()
    rng = np.random.default_rng(size)
    relu_maps = np.stack([feature_map(d.astype(dtype), get_kernel("sobel_x").astype(dtype),
                                      activation="relu") for d in digits])  # (4, 26, 26)
    random_maps = rng.normal(size=(2, 27, 27)).astype(dtype)  # odd: the last row/col is dropped
    layer_class = keras.layers.MaxPooling2D if kind == "max" else keras.layers.AveragePooling2D
    layer = layer_class((size, size))
    for maps in (relu_maps, random_maps):
        out = np.asarray(layer(maps[..., None]))[..., 0]
        for fm, expected in zip(maps, out, strict=True):
            h, w = expected.shape
            assert (h, w) == (fm.shape[0] // size, fm.shape[1] // size)
            for row, col in ((0, 0), (h // 2, w - 1), (h - 1, w // 3)):
                result = pool_windows(fm, size, kind, (row, col))
                assert result.pooled.dtype == dtype
                np.testing.assert_allclose(result.pooled, expected, **TOL[dtype])
                block = fm[row * size: row * size + size, col * size: col * size + size]
                np.testing.assert_array_equal(result.block, block)
                assert result.value == result.pooled[row, col]
                if kind == "max":
                    assert result.block[result.winner] == result.value == block.max()
                    assert result.winner == np.unravel_index(np.argmax(block), block.shape)
                else:
                    assert result.winner is None
                    np.testing.assert_allclose(result.value, block.mean(), **TOL[dtype])


def test_pool_windows_of_a_small_map_by_hand() -> None:
    fm = np.array([[1, 3, 2, 0], [5, 4, 1, 1], [0, 0, 7, 2], [1, 2, 2, 9]], dtype=float)
    result = pool_windows(fm, 2, "max", (0, 0))
    np.testing.assert_array_equal(result.pooled, [[5, 2], [2, 9]])
    assert result.winner == (1, 0) and result.value == 5 and result.block.tolist() == [[1, 3],
                                                                                       [5, 4]]
    avg = pool_windows(fm, 2, "avg", (1, 1))
    np.testing.assert_array_equal(avg.pooled, [[3.25, 1], [0.75, 5]])
    assert avg.value == 5 and avg.winner is None and (avg.row, avg.col) == (1, 1)


def test_colour_example_is_27_products_and_equals_keras(keras64: Any) -> None:
    image = color_image()
    assert image.shape == (16, 16, 3) and image.min() >= 0 and image.max() <= 1
    assert len({tuple(px) for px in image.reshape(-1, 3)}) >= 4  # background and three shapes
    assert COLOR_KERNEL.shape == (3, 3, 3) and not COLOR_KERNEL.flags.writeable
    assert weights_per_filter(3, 3) == (27, 28)
    prods = channel_products(image, COLOR_KERNEL, 5, 6)
    assert prods.shape == (3, 3, 3)
    for ch in range(3):
        np.testing.assert_array_equal(prods[ch], image[5:8, 6:9, ch] * COLOR_KERNEL[..., ch])
    assert np.isclose(prods.sum() + 0.1, position_value(image, COLOR_KERNEL, 5, 6, 0.1),
                      rtol=0, atol=1e-14)
    assert channel_products(image[..., 0], COLOR_KERNEL[..., 0], 5, 6).shape == (1, 3, 3)
    layer = conv_layer(keras64, COLOR_KERNEL[..., None], np.array([0.1]), 3)
    assert layer.count_params() == 28
    out = np.asarray(layer(image[None]))[0, ..., 0]
    np.testing.assert_allclose(feature_map(image, COLOR_KERNEL, 0.1), out, **TOL["float64"])
    np.testing.assert_allclose(position_value(image, COLOR_KERNEL, 5, 6, 0.1), out[5, 6],
                               **TOL["float64"])
    assert color_image(32).shape == (32, 32, 3)


def test_shipped_model_first_layer_maps(digits: np.ndarray) -> None:
    run = load_run(DEFAULT_MODEL_DIR)
    kernel, bias = run.weights[0], run.weights[1]  # (3, 3, 1, 32) float32, (32,)
    first = forward_layers(run.spec, run.weights, digits.astype(np.float32))[0]
    assert first.kind == "conv" and first.values.shape == (4, 26, 26, kernel.shape[-1])
    for n, digit in enumerate(digits.astype(np.float32)):
        for f in range(kernel.shape[-1]):
            fm = feature_map(digit, kernel[..., 0, f], bias[f], activation="relu")
            np.testing.assert_allclose(fm, first.values[n, ..., f], **TOL["float32"])


def test_bad_input_is_a_clear_value_error() -> None:
    image = np.zeros((6, 6))
    with pytest.raises(ValueError, match=r"must be \(k, k\)"):
        feature_map(image, np.zeros((3, 3, 3)))
    with pytest.raises(ValueError, match=r"must be \(k, k, 3\)"):
        feature_map(np.zeros((6, 6, 3)), np.zeros((3, 3, 1)))
    with pytest.raises(ValueError, match="does not fit"):
        feature_map(image, np.zeros((7, 7)))
    with pytest.raises(ValueError, match=r"outside the 4×4 feature map"):
        position_value(image, np.zeros((3, 3)), 4, 0)
    with pytest.raises(ValueError, match="outside"):
        feature_map(image, np.zeros((3, 3)), upto=(0, 4))
    with pytest.raises(ValueError, match="whole numbers"):
        patch(image, 1.5, 0)
    with pytest.raises(ValueError, match="finite"):
        feature_map(np.full((6, 6), np.nan), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="image must be"):
        patch(np.zeros(6), 0, 0)
    with pytest.raises(ValueError, match="pooling kind"):
        pool_windows(image, 2, "maxpool")
    with pytest.raises(ValueError, match=r"must be \(H, W\)"):
        pool_windows(np.zeros((4, 4, 2)))
    with pytest.raises(ValueError, match="pool size"):
        pool_windows(image, 7)
    with pytest.raises(ValueError, match="outside the 3×3 pooled map"):
        pool_windows(image, 2, "avg", (3, 0))
    with pytest.raises(ValueError, match="size"):
        color_image(4)
