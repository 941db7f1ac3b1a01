"""Reading the canvas's drawing (ui/digits/canvas.new_drawing)."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image, UnidentifiedImageError

from tests.support import canvas_state
from ui.digits.canvas import new_drawing


def png_of(rgba: np.ndarray) -> bytes:
    """The canvas's PNG, as the component sends it (tests.support.canvas_state)."""
    url = canvas_state(rgba)["drawing"]["data"]
    return base64.b64decode(url.split(";base64,", 1)[1])


def test_a_new_drawing_is_decoded_and_the_same_one_is_not() -> None:
    rng = np.random.default_rng(0)
    rgba = rng.integers(0, 256, (280, 280, 4), dtype=np.uint8)
    json_data = {"objects": [{"type": "path", "path": [["M", 1, 1]]}]}
    pixels = new_drawing(png_of(rgba), json_data, None)
    assert pixels is not None and pixels.dtype == np.uint8
    np.testing.assert_array_equal(pixels, rgba)  # what st_canvas's image_data would give
    saved = {"json": json_data, "image": None, "rgba_shape": pixels.shape}
    assert new_drawing(png_of(rgba), json_data, saved) is None  # the same drawing: not decoded
    other = {"objects": [{"type": "path", "path": [["M", 2, 1]]}]}
    np.testing.assert_array_equal(new_drawing(png_of(rgba), other, saved), rgba)
    # the same strokes on a canvas of another size are other pixels
    smaller = rgba[:200, :200]
    np.testing.assert_array_equal(new_drawing(png_of(smaller), json_data, saved), smaller)
    assert new_drawing(None, json_data, saved) is None  # nothing sent yet


def test_a_drawing_without_alpha_keeps_its_shape() -> None:
    rgb = np.zeros((50, 60, 3), np.uint8)
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG")
    assert new_drawing(buf.getvalue(), {}, None).shape == (50, 60, 3)
    saved = {"json": {}, "image": None, "rgba_shape": (50, 60, 3)}
    assert new_drawing(buf.getvalue(), {}, saved) is None


def test_a_garbled_png_raises() -> None:
    with pytest.raises(UnidentifiedImageError):
        new_drawing(b"not a png", {}, None)
    truncated = png_of(np.full((280, 280, 4), 7, np.uint8))[:60]
    with pytest.raises(OSError):
        new_drawing(truncated, {}, None)
