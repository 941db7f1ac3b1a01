"""How a convolution computes, one output pixel at a time (lesson 003), in NumPy.

A Conv2D kernel (k, k) slides over a grey image (H, W), or a kernel (k, k, C) over a colour
image (H, W, C); at each output position (row, col) the k×k[×C] patch under it is multiplied
elementwise with the kernel and everything is summed, plus the bias: one pixel of the 'valid'
feature map (H-k+1, W-k+1). Like Keras (and every deep-learning library) this is a
cross-correlation: the kernel is not flipped. Pooling then keeps the max (or mean) of each
non-overlapping size×size block. The tests hold every number equal to keras.layers.Conv2D,
MaxPooling2D and AveragePooling2D.

Arithmetic runs in the inputs' float dtype (float32 if both image and kernel are float32,
as in Keras; float64 otherwise), so a page can show the same digits Keras computes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from nn_core.basics.activations import activate
from nn_core.cnn.layers import conv2d, pool2d
from nn_core.marker import N_


@dataclass(frozen=True, eq=False)  # arrays inside: compare fields, not instances
class Kernel:
    """A hand-set 3×3 kernel: its title, weights (3, 3) read-only, and what it detects."""

    title: str
    weights: np.ndarray
    description: str


def _kernel(title: str, rows: list[list[float]], description: str, scale: float = 1.0) -> Kernel:
    weights = np.array(rows, dtype=np.float64) * scale
    weights.setflags(write=False)
    return Kernel(title, weights, description)


KERNELS: dict[str, Kernel] = {
    "vertical_edge": _kernel(
        N_("Vertical edge"), [[1, 0, -1], [1, 0, -1], [1, 0, -1]],
        N_("left column minus right column: large where brightness changes from left to right")),
    "horizontal_edge": _kernel(
        N_("Horizontal edge"), [[1, 1, 1], [0, 0, 0], [-1, -1, -1]],
        N_("top row minus bottom row: large where brightness changes from top to bottom")),
    "sobel_x": _kernel(
        N_("Sobel x"), [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]],
        N_("horizontal gradient (right minus left), centre row weighted twice: vertical "
           "edges")),
    "sobel_y": _kernel(
        N_("Sobel y"), [[-1, -2, -1], [0, 0, 0], [1, 2, 1]],
        N_("vertical gradient (bottom minus top), centre column weighted twice: horizontal "
           "edges")),
    "blur": _kernel(
        N_("Blur (box)"), [[1, 1, 1], [1, 1, 1], [1, 1, 1]],
        N_("the mean of the 9 pixels: smooths noise and edges alike"), scale=1 / 9),
    "gaussian_blur": _kernel(
        N_("Gaussian blur"), [[1, 2, 1], [2, 4, 2], [1, 2, 1]],
        N_("a weighted mean, the centre counting most: a softer blur than the box"),
        scale=1 / 16),
    "sharpen": _kernel(
        N_("Sharpen"), [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
        N_("the pixel plus its difference from its 4 neighbours: edges stand out")),
    "identity": _kernel(
        N_("Identity"), [[0, 0, 0], [0, 1, 0], [0, 0, 0]],
        N_("only the centre pixel: the output is the input (cropped by one pixel each "
           "side)")),
}


def get_kernel(name: str) -> np.ndarray:
    """A writable copy of the named kernel's weights (3, 3); ValueError naming the choices."""
    if name not in KERNELS:
        raise ValueError(f"unknown kernel {name!r}; choose one of: {', '.join(KERNELS)}")
    return KERNELS[name].weights.copy()


def _float(x: ArrayLike, what: str) -> np.ndarray:
    """x as a finite float array (integers such as uint8 pixels become float64)."""
    arr = np.asarray(x)
    if arr.dtype.kind not in "fiub":
        raise ValueError(f"{what} must hold numbers, got dtype {arr.dtype}")
    if arr.dtype.kind != "f":
        arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{what} must hold finite numbers")
    return arr


def _check(image: ArrayLike, kernel: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Image (H, W) with kernel (k, k), or (H, W, C) with (k, k, C), in one float dtype."""
    img, ker = _float(image, "image"), _float(kernel, "kernel")
    if img.ndim not in (2, 3):
        raise ValueError(f"image must be (H, W) or (H, W, C), got shape {img.shape}")
    if ker.ndim != img.ndim or ker.shape[0] != ker.shape[1] or ker.shape[2:] != img.shape[2:]:
        want = "(k, k)" if img.ndim == 2 else f"(k, k, {img.shape[2]})"
        raise ValueError(f"a kernel for an image of shape {img.shape} must be {want}, "
                         f"got {ker.shape}")
    if not 1 <= ker.shape[0] <= min(img.shape[:2]):
        raise ValueError(f"kernel {ker.shape[0]}×{ker.shape[0]} does not fit in the image "
                         f"{img.shape[0]}×{img.shape[1]}")
    dtype = np.result_type(img, ker)
    return img.astype(dtype, copy=False), ker.astype(dtype, copy=False)


def output_shape(image_shape: tuple[int, ...], size: int = 3) -> tuple[int, int]:
    """The 'valid' feature map's shape (H-k+1, W-k+1): 28×28 and 3×3 give 26×26."""
    h, w = image_shape[:2]
    if not 1 <= size <= min(h, w):
        raise ValueError(f"kernel size must be between 1 and {min(h, w)}, got {size}")
    return h - size + 1, w - size + 1


def _check_position(image: np.ndarray, row: int, col: int, size: int) -> None:
    ho, wo = output_shape(image.shape, size)
    if not all(isinstance(v, int | np.integer) and not isinstance(v, bool) for v in (row, col)):
        raise ValueError(f"row and column must be whole numbers, got ({row!r}, {col!r})")
    if not (0 <= row < ho and 0 <= col < wo):
        raise ValueError(f"position ({row}, {col}) is outside the {ho}×{wo} feature map "
                         f"(rows 0..{ho - 1}, columns 0..{wo - 1})")


def patch(image: ArrayLike, row: int, col: int, size: int = 3) -> np.ndarray:
    """The size×size window (k, k) or (k, k, C) whose top-left pixel is (row, col).

    It is what the kernel covers for the output pixel (row, col) of the 'valid' map.
    """
    img = _float(image, "image")
    if img.ndim not in (2, 3):
        raise ValueError(f"image must be (H, W) or (H, W, C), got shape {img.shape}")
    _check_position(img, row, col, size)
    return img[row: row + size, col: col + size].copy()


def products(image: ArrayLike, kernel: ArrayLike, row: int, col: int) -> np.ndarray:
    """Patch × kernel elementwise, shaped like the kernel (k, k) or (k, k, C): the k·k[·C]
    multiplications behind one output pixel, before they are summed."""
    img, ker = _check(image, kernel)
    return patch(img, row, col, ker.shape[0]) * ker


def position_value(image: ArrayLike, kernel: ArrayLike, row: int, col: int,
                   bias: float = 0.0) -> float:
    """One output pixel: the sum of ``products`` plus the bias (before any activation)."""
    prods = products(image, kernel, row, col)
    return float(prods.sum(dtype=prods.dtype) + prods.dtype.type(bias))


def channel_products(image: ArrayLike, kernel: ArrayLike, row: int, col: int) -> np.ndarray:
    """The products per channel, channel first: (C, k, k); a grey image gives (1, k, k).

    For a colour image and a 3×3×3 kernel these are the 3×9 = 27 multiplications whose sum,
    plus the one bias, is the output pixel: each channel has its own 3×3 slice of weights.
    """
    prods = products(image, kernel, row, col)
    return prods[None] if prods.ndim == 2 else np.moveaxis(prods, -1, 0)


def feature_map(image: ArrayLike, kernel: ArrayLike, bias: float = 0.0,
                upto: tuple[int, int] | None = None, activation: str = "linear") -> np.ndarray:
    """The 'valid' feature map (H-k+1, W-k+1) of one kernel, as one Conv2D filter computes it.

    ``activation`` (a Keras name, e.g. "relu") is applied after the bias. With
    ``upto=(row, col)`` only the positions up to and including (row, col) in raster order
    (row by row, left to right) are filled and the rest are NaN, so a page can show the map
    building up as the kernel slides.
    """
    img, ker = _check(image, kernel)
    x = img[None] if img.ndim == 3 else img[None, ..., None]  # (1, H, W, C)
    w = ker[..., None] if ker.ndim == 3 else ker[..., None, None]  # (k, k, C, 1)
    out = conv2d(x, w, np.asarray([bias], dtype=img.dtype))[0, ..., 0]
    out = activate(activation, out).astype(img.dtype, copy=False)
    if upto is None:
        return out
    row, col = upto
    _check_position(img, row, col, ker.shape[0])
    filled = np.arange(out.size).reshape(out.shape) <= row * out.shape[1] + col
    return np.where(filled, out, np.nan).astype(img.dtype, copy=False)


@dataclass(frozen=True, eq=False)
class Pooling:
    """Pooling of a map with numbers: the pooled map and one output position's block.

    ``pooled`` (H//s, W//s); ``block`` (s, s) is the input block of output (row, col);
    ``value`` the block's max or mean; ``winner`` the (r, c) inside the block that holds the
    max (the first in raster order on ties), None for average pooling.
    """

    kind: str
    size: int
    pooled: np.ndarray
    row: int
    col: int
    block: np.ndarray
    value: float
    winner: tuple[int, int] | None


POOL_KINDS = {"max": "maxpool", "avg": "avgpool"}  # our kind -> nn_core.cnn.layers' kind


def pool_windows(feature_map: ArrayLike, size: int = 2, kind: str = "max",
                 position: tuple[int, int] = (0, 0)) -> Pooling:
    """Max or average pooling of a map (H, W), pool size = stride = ``size``, 'valid' as Keras.

    Rows and columns beyond the last whole block are dropped (27×27 pools to 13×13).
    """
    fm = _float(feature_map, "feature map")
    if kind not in POOL_KINDS:
        raise ValueError(f"pooling kind must be one of {tuple(POOL_KINDS)}, got {kind!r}")
    if fm.ndim != 2:
        raise ValueError(f"feature map must be (H, W), got shape {fm.shape}")
    if not isinstance(size, int | np.integer) or not 1 <= size <= min(fm.shape):
        raise ValueError(f"pool size must be a whole number between 1 and {min(fm.shape)}, "
                         f"got {size!r}")
    pooled = pool2d(fm[None, ..., None], int(size), POOL_KINDS[kind])[0, ..., 0]
    row, col = position
    if not all(isinstance(v, int | np.integer) and not isinstance(v, bool) for v in position):
        raise ValueError(f"position must be two whole numbers, got {position!r}")
    if not (0 <= row < pooled.shape[0] and 0 <= col < pooled.shape[1]):
        raise ValueError(f"position ({row}, {col}) is outside the {pooled.shape[0]}×"
                         f"{pooled.shape[1]} pooled map")
    block = fm[row * size: (row + 1) * size, col * size: (col + 1) * size].copy()
    winner = None
    if kind == "max":
        r, c = np.unravel_index(int(np.argmax(block)), block.shape)
        winner = (int(r), int(c))
    return Pooling(kind, int(size), pooled, int(row), int(col), block, float(pooled[row, col]),
                   winner)


def color_image(size: int = 16) -> np.ndarray:
    """A small RGB picture (size, size, 3) float64 in [0, 1], drawn procedurally.

    On a dark blue-grey background: a red square (top left), a green disc (top right) and a
    yellow bar (red + green, along the bottom), so each channel sees different shapes.
    """
    if not isinstance(size, int | np.integer) or size < 8:
        raise ValueError(f"size must be a whole number >= 8, got {size!r}")
    img = np.empty((size, size, 3))
    img[:] = (0.1, 0.1, 0.3)
    s = size / 16  # the drawing is laid out on a 16×16 grid and scaled
    img[round(2 * s): round(7 * s), round(2 * s): round(7 * s)] = (0.9, 0.1, 0.1)
    yy, xx = np.mgrid[0:size, 0:size] + 0.5
    disc = (yy - 4.5 * s) ** 2 + (xx - 11.5 * s) ** 2 <= (2.6 * s) ** 2
    img[disc] = (0.1, 0.8, 0.2)
    img[round(10 * s): round(13 * s), round(3 * s): round(13 * s)] = (0.95, 0.85, 0.1)
    return img


COLOR_KERNEL: np.ndarray = np.stack([
    KERNELS["vertical_edge"].weights,  # red channel: left-right changes of red
    KERNELS["horizontal_edge"].weights,  # green channel: top-bottom changes of green
    KERNELS["blur"].weights,  # blue channel: the local mean of blue
], axis=-1)  # (3, 3, 3): 27 weights, one 3×3 slice per channel, plus one bias per filter
COLOR_KERNEL.setflags(write=False)
COLOR_KERNEL_DESCRIPTION = N_("one 3×3×3 filter: vertical edges in red, horizontal edges in "
                              "green and the blur of blue, summed into one feature map")


def weights_per_filter(kernel_size: int, channels: int) -> tuple[int, int]:
    """(weights, weights + bias) of one Conv2D filter: 3×3 on RGB is 27 weights + 1 = 28."""
    if kernel_size < 1 or channels < 1:
        raise ValueError(f"kernel size and channels must be >= 1, got {kernel_size}, {channels}")
    weights = kernel_size * kernel_size * channels
    return weights, weights + 1
