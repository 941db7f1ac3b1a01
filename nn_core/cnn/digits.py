"""MNIST for the digit page: the shipped asset, and turning a canvas drawing into MNIST form.

MNIST digits were size-normalised to fit a 20×20 box (keeping the aspect ratio, anti-aliased) and
centred by centre of mass in a 28×28 field; ``preprocess_canvas`` does the same to a drawing so
the network sees what it was trained on.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

MNIST_ASSET: Path = Path(__file__).resolve().parents[2] / "assets" / "mnist.npz"
DIGIT_BOX = 20  # MNIST's size-normalisation box, in pixels
CENTRE = 14.0  # where MNIST's centres of mass lie (row, column), measured on the test set
INK_THRESHOLD = 24  # ink: differs from the background by more than this (0-255, of the strongest)

MnistArrays = tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


class MnistUnavailable(RuntimeError):  # noqa: N818 (the name the design note fixes)
    """Neither the shipped asset nor Keras's download could provide MNIST."""


def _keras_mnist() -> MnistArrays:
    """Keras's own loader (downloads to ~/.keras/datasets when that is allowed)."""
    import keras

    return keras.datasets.mnist.load_data()


def load_mnist(path: Path = MNIST_ASSET) -> MnistArrays:
    """((x_train (60000,28,28) uint8, y_train), (x_test (10000,28,28) uint8, y_test)).

    Reads the shipped asset; only when it is missing falls back to keras.datasets.mnist.
    """
    path = Path(path)
    if path.exists():
        with np.load(path) as data:
            return (data["x_train"], data["y_train"]), (data["x_test"], data["y_test"])
    try:
        return _keras_mnist()
    except Exception as exc:  # no network, no keras: say what to do
        raise MnistUnavailable(
            f"MNIST is not available: the asset {path} is missing and "
            f"keras.datasets.mnist.load_data() failed ({type(exc).__name__}: {exc}). "
            "Copy mnist.npz into assets/ (see the README) or allow the download."
        ) from exc


def ink_mask(rgba: np.ndarray) -> np.ndarray:
    """Ink strength (H, W) float in [0, 1]: how far each pixel is from the background.

    Transparent backgrounds (most border pixels with alpha 0): ink is alpha. Opaque ones: the
    background is the border's median colour and ink is the largest channel difference from it.
    """
    if not isinstance(rgba, np.ndarray) or rgba.ndim != 3 or rgba.shape[2] != 4:
        raise ValueError(f"expected an (H, W, 4) RGBA array, got shape {np.shape(rgba)}")
    if rgba.dtype != np.uint8:
        raise ValueError(f"expected dtype uint8, got {rgba.dtype}")
    if min(rgba.shape[:2]) < 2:
        raise ValueError(f"the canvas is too small: {rgba.shape[:2]}")
    border = np.concatenate([rgba[0], rgba[-1], rgba[:, 0], rgba[:, -1]]).astype(np.float32)
    if np.median(border[:, 3]) < 128:
        return rgba[..., 3].astype(np.float32) / 255
    background = np.rint(np.median(border[:, :3], axis=0)).astype(np.int16)
    diffs = [np.abs(rgba[..., i].astype(np.int16) - background[i]) for i in range(3)]
    return np.maximum.reduce(diffs).astype(np.float32) / 255


def preprocess_canvas(rgba: np.ndarray) -> np.ndarray | None:
    """Canvas RGBA (H, W, 4) uint8 -> MNIST-like (28, 28) float32 in [0, 1]; None when blank.

    Crops to the ink's bounding box, scales its longer side to 20 px keeping the aspect ratio
    (area-averaging, like MNIST's anti-aliasing), then centres it by centre of mass in 28×28.
    """
    ink = ink_mask(rgba)
    strongest = ink.max()
    if strongest * 255 <= INK_THRESHOLD:
        return None
    ink /= strongest  # the ink colour's full strength = 1, whatever the colours
    ink[ink * 255 <= INK_THRESHOLD] = 0  # faint anti-aliasing fringes and noise are background
    rows, cols = np.nonzero(ink.any(axis=1))[0], np.nonzero(ink.any(axis=0))[0]
    crop = ink[rows[0]: rows[-1] + 1, cols[0]: cols[-1] + 1]
    h, w = crop.shape
    scale = DIGIT_BOX / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))  # PIL: (width, height)
    resample = Image.Resampling.BOX if scale < 1 else Image.Resampling.BILINEAR
    small = np.asarray(Image.fromarray(crop.astype(np.float32), mode="F").resize(size, resample))
    small = np.clip(small / max(small.max(), 1e-6), 0, 1)  # strongest stroke = full ink, as MNIST
    out = np.zeros((28, 28), np.float32)
    top, left = (28 - small.shape[0]) // 2, (28 - small.shape[1]) // 2
    out[top: top + small.shape[0], left: left + small.shape[1]] = small
    return _centre_by_mass(out)


def _centre_by_mass(image: np.ndarray) -> np.ndarray:
    """Shift (28, 28) by whole pixels so its centre of mass lands on (14, 14), as MNIST did."""
    total = image.sum()
    grid = np.arange(28, dtype=np.float64)
    cy, cx = (image.sum(axis=1) @ grid) / total, (image.sum(axis=0) @ grid) / total
    rows, cols = np.nonzero(image.any(axis=1))[0], np.nonzero(image.any(axis=0))[0]
    dy = int(np.clip(round(CENTRE - cy), -rows[0], 27 - rows[-1]))  # never push ink off the field
    dx = int(np.clip(round(CENTRE - cx), -cols[0], 27 - cols[-1]))
    return np.roll(image, (dy, dx), axis=(0, 1))


def render_on_canvas(image28: np.ndarray, size: int = 280,
                     ink: tuple[int, int, int] = (255, 255, 255),
                     background: tuple[int, int, int, int] = (0, 0, 0, 255),
                     box: tuple[int, int, int, int] | None = None, pen: int = 0) -> np.ndarray:
    """Draw a 28×28 digit (uint8 or [0, 1]) as a (size, size, 4) uint8 canvas (tests, benchmarks).

    ``box`` = (top, left, height, width) places the digit's 28×28 field in the canvas (default:
    the whole canvas; it may reach past the edges). ``pen`` > 0 thickens the strokes by ``pen``
    canvas pixels on each side (< 0 thins them). Blends ``ink`` over ``background``; a background
    with alpha 0 gives a transparent canvas whose alpha is the ink.
    """
    img = np.asarray(image28, np.float32)
    if img.shape != (28, 28):
        raise ValueError(f"expected a (28, 28) image, got {img.shape}")
    strength = img / 255 if img.max() > 1 else img
    top, left, height, width = box or (0, 0, size, size)
    big = np.asarray(Image.fromarray(strength, mode="F")
                     .resize((width, height), Image.Resampling.BILINEAR))
    a = np.zeros((size, size), np.float32)  # paste, clipped where the box leaves the canvas
    y0, x0 = max(top, 0), max(left, 0)
    y1, x1 = min(top + height, size), min(left + width, size)
    a[y0:y1, x0:x1] = np.clip(big, 0, 1)[y0 - top: y1 - top, x0 - left: x1 - left]
    if pen:
        a = _max_filter(a, abs(pen)) if pen > 0 else -_max_filter(-a, -pen)
    start = np.asarray(background if background[3] else (*ink, 0), np.float32)  # colour at a = 0
    end = np.asarray((*ink, 255), np.float32)  # colour at a = 1 (transparent canvas: alpha = a)
    out = np.empty((size, size, 4), np.uint8)
    for channel in range(4):
        out[..., channel] = np.rint(start[channel] + (end[channel] - start[channel]) * a)
    return out


def _max_filter(a: np.ndarray, radius: int) -> np.ndarray:
    """Grey dilation of (H, W) by a (2r+1)² square, separably, edges padded with the minimum."""
    h, w = a.shape
    padded = np.pad(a, radius, constant_values=a.min())
    rows = padded[: h].copy()
    for k in range(1, 2 * radius + 1):
        np.maximum(rows, padded[k: k + h], out=rows)
    out = rows[:, : w].copy()
    for k in range(1, 2 * radius + 1):
        np.maximum(out, rows[:, k: k + w], out=out)
    return out
