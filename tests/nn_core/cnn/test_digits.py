"""MNIST loading and canvas preprocessing: drawings become MNIST-like digits the model can read."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from nn_core import course
from nn_core.cnn import digits
from nn_core.cnn.digits import (
    MNIST_ASSET,
    MnistUnavailable,
    load_mnist,
    preprocess_canvas,
    render_on_canvas,
)
from nn_core.cnn.numpy_forward import predict_proba
from nn_core.cnn.specs import ModelSpec
from nn_core.training.runs import DEFAULT_MODEL_DIR, load_weights_npz

TRANSPARENT = (0, 0, 0, 0)
STYLES = {  # name -> render_on_canvas keyword arguments
    "white_on_black": {},
    "black_on_transparent": {"ink": (0, 0, 0), "background": TRANSPARENT},
    "blue_on_white": {"ink": (30, 60, 220), "background": (255, 255, 255, 255)},
    "tiny_off_centre": {"box": (200, 10, 56, 56)},
    "huge": {"box": (-40, -40, 360, 360)},  # ink from edge to edge
    "thick_pen": {"pen": 10},  # strokes ~20 canvas px wider, ~2 px after scaling to 20 px
    "thin_pen": {"pen": -6, "ink": (0, 0, 0), "background": TRANSPARENT},
}


@pytest.fixture(scope="module")
def mnist() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    return load_mnist()


def test_asset_is_the_published_mnist(mnist: tuple) -> None:
    assert hashlib.sha256(MNIST_ASSET.read_bytes()).hexdigest() == course.MNIST_SHA256
    (x_train, y_train), (x_test, y_test) = mnist
    assert x_train.shape == (60_000, 28, 28) and x_test.shape == (10_000, 28, 28)
    assert x_train.dtype == y_train.dtype == np.uint8 and y_test.shape == (10_000,)
    assert y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert y_test[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert np.bincount(y_test).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_missing_asset_falls_back_to_keras(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake = ((np.zeros((2, 28, 28), np.uint8), np.zeros(2, np.uint8)),) * 2
    monkeypatch.setattr(digits, "_keras_mnist", lambda: fake)  # nothing is downloaded
    assert load_mnist(tmp_path / "missing.npz") is fake


def test_neither_source_gives_a_clear_message(monkeypatch: pytest.MonkeyPatch,
                                              tmp_path: Path) -> None:
    def offline() -> None:
        raise OSError("no network")

    monkeypatch.setattr(digits, "_keras_mnist", offline)
    with pytest.raises(MnistUnavailable, match=r"missing\.npz is missing.*no network.*assets/"):
        load_mnist(tmp_path / "missing.npz")


def bbox(image: np.ndarray) -> tuple[int, int]:
    """(height, width) of the non-zero pixels."""
    rows, cols = np.nonzero(image.any(axis=1))[0], np.nonzero(image.any(axis=0))[0]
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


def centre_of_mass(image: np.ndarray) -> np.ndarray:
    grid = np.arange(28)
    return np.array([image.sum(1) @ grid, image.sum(0) @ grid]) / image.sum()


@pytest.mark.parametrize("blank", [
    np.zeros((280, 280, 4), np.uint8),  # transparent
    np.full((280, 280, 4), 255, np.uint8),  # opaque white
    np.tile(np.array([0, 0, 0, 255], np.uint8), (200, 300, 1)),  # opaque black, not square
])
def test_blank_canvas_gives_none(blank: np.ndarray) -> None:
    assert preprocess_canvas(blank) is None


@pytest.mark.parametrize("bad", [np.zeros((280, 280, 3), np.uint8), np.zeros((280, 280), np.uint8),
                                 np.zeros((280, 280, 4), np.float32), [[0, 0, 0, 0]]])
def test_wrong_arrays_are_rejected(bad: np.ndarray) -> None:
    with pytest.raises(ValueError, match=r"RGBA|uint8"):
        preprocess_canvas(bad)


def draw_bar(canvas_size: int, top: int, left: int, height: int, width: int,
             transparent: bool = False) -> np.ndarray:
    """A solid rectangle of ink: white on black, or black on a transparent canvas."""
    canvas = np.zeros((canvas_size, canvas_size, 4), np.uint8)
    if not transparent:
        canvas[..., 3] = 255
    ink = [0, 0, 0, 255] if transparent else [255, 255, 255, 255]
    canvas[top: top + height, left: left + width] = ink
    return canvas


@pytest.mark.parametrize(("shape", "transparent"), [
    ((3, 6, 2, 4), False),  # tiny: 2×4 px, scaled up
    ((0, 0, 30, 10), True),  # in the corner
    ((50, 240, 200, 40), False),  # off-centre, tall
    ((2, 0, 276, 270), True),  # huge: edge to edge
    ((100, 20, 60, 250), False),  # wide
])
def test_ink_is_scaled_to_20_px_and_centred(shape: tuple[int, int, int, int],
                                           transparent: bool) -> None:
    image = preprocess_canvas(draw_bar(280, *shape, transparent=transparent))
    assert image is not None and image.shape == (28, 28) and image.dtype == np.float32
    assert image.min() >= 0 and image.max() == pytest.approx(1.0)
    height, width = bbox(image)
    assert max(height, width) == 20
    assert min(height, width) / 20 == pytest.approx(min(shape[2:]) / max(shape[2:]), abs=0.06)
    assert np.abs(centre_of_mass(image) - 14).max() <= 1.0


def test_drawing_styles_give_the_same_digit(mnist: tuple) -> None:
    _, (x_test, _) = mnist
    correlations = []
    for digit in x_test[:20]:
        images = {name: preprocess_canvas(render_on_canvas(digit, **kw))
                  for name, kw in STYLES.items()}
        reference = images["white_on_black"]
        assert np.abs(reference - digit / 255).mean() < 0.05  # close to MNIST's own image
        for name, image in images.items():
            assert image.dtype == np.float32 and image.min() >= 0 and image.max() <= 1, name
            assert np.abs(centre_of_mass(image) - 14).max() <= 1.0, name
            assert max(bbox(image)) == 20, name
            if "box" in STYLES[name]:  # other size/place: resampled differently, ±1 px shifts
                correlations.append(np.corrcoef(image.ravel(), reference.ravel())[0, 1])
            elif "pen" not in STYLES[name]:  # only the colours differ (8-bit rounding)
                assert np.abs(image - reference).mean() < 0.01, name
    assert min(correlations) > 0.6 and np.mean(correlations) > 0.9


def test_render_on_canvas() -> None:
    digit = np.zeros((28, 28), np.uint8)
    digit[10:18, 12:14] = 255
    canvas = render_on_canvas(digit, size=140, ink=(0, 0, 0), background=TRANSPARENT)
    assert canvas.shape == (140, 140, 4) and canvas.dtype == np.uint8
    assert canvas[..., :3].max() == 0 and canvas[..., 3].max() == 255
    ink = canvas[..., 3].astype(int).sum()
    assert render_on_canvas(digit, 140, (0, 0, 0), TRANSPARENT, pen=3)[..., 3].sum() > ink
    assert render_on_canvas(digit, 140, (0, 0, 0), TRANSPARENT, pen=-3)[..., 3].sum() < ink
    with pytest.raises(ValueError, match="28, 28"):
        render_on_canvas(np.zeros((20, 20)))


@pytest.fixture(scope="module")
def shipped() -> tuple[ModelSpec, list[np.ndarray]]:
    spec = ModelSpec.from_dict(json.loads((DEFAULT_MODEL_DIR / "spec.json").read_text()))
    return spec, load_weights_npz(DEFAULT_MODEL_DIR / "weights.npz")


@pytest.mark.parametrize("style", list(STYLES))
def test_shipped_model_reads_drawn_digits(style: str, mnist: tuple, shipped: tuple) -> None:
    _, (x_test, y_test) = mnist
    picked = np.random.default_rng(course.SEED).choice(len(x_test), 1000, replace=False)
    images = np.stack([preprocess_canvas(render_on_canvas(x_test[i], **STYLES[style]))
                       for i in picked])
    accuracy = (predict_proba(*shipped, images).argmax(axis=1) == y_test[picked]).mean()
    assert accuracy >= 0.98, f"{style}: {accuracy:.3f}"
