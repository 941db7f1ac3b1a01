"""The convolution page's plotly builders: what each figure holds and where the marks sit."""

from __future__ import annotations

import numpy as np
import pytest

from nn_core.cnn.convolution import COLOR_KERNEL, channel_products, color_image, patch
from tests.support import assert_valid_spec
from ui.convolution import figures


def test_image_figure_outlines_the_kernel_window() -> None:
    image = np.random.default_rng(0).random((28, 28))
    fig = figures.image_figure(image, 4, 7, 3, title="digit")
    (rect,) = fig.layout.shapes
    assert (rect.x0, rect.x1, rect.y0, rect.y1) == (6.5, 9.5, 3.5, 6.5)
    assert fig.layout.title.text == "digit" and fig.layout.yaxis.autorange == "reversed"
    np.testing.assert_array_equal(fig.data[0].z, image)
    with pytest.raises(ValueError, match="grey image"):
        figures.image_figure(np.zeros((4, 4, 3)), 0, 0)


def test_step_figure_writes_every_number() -> None:
    pixels = np.array([[0.0, 0.5, 1.0]] * 3)
    kernel = np.array([[1.0, 0.0, -1.0]] * 3)
    fig = figures.step_figure(pixels, kernel, pixels * kernel)
    assert len(fig.data) == 3
    assert [list(r) for r in fig.data[2].text] == [["0", "0", "-1"]] * 3
    assert fig.layout.yaxis2.scaleanchor == "x2"  # square pixels in every panel
    with pytest.raises(ValueError, match="one shape"):
        figures.step_figure(pixels, np.ones((2, 2)), pixels)


def test_map_figure_keeps_nan_blank_and_a_symmetric_scale() -> None:
    values = np.full((26, 26), np.nan)
    values[0, :3] = [-2.0, 1.0, 0.5]
    fig = figures.map_figure(values, "so far", mark=(0, 2))
    assert fig.data[0].zmin == -2.0 and fig.data[0].zmax == 2.0
    assert fig.data[0].hoverongaps is False
    frame, mark = fig.layout.shapes  # the whole map's outline, then the mark
    assert (frame.x0, frame.x1) == (-0.5, 25.5) and mark.x0 == 1.5
    blank = figures.map_figure(np.zeros((3, 3)), "zero")  # all zero: a range of ±1, no error
    assert blank.data[0].zmax == 1.0


def test_block_figure_outlines_the_winner() -> None:
    fig = figures.block_figure(np.array([[1.0, 3.0], [2.0, -1.0]]), (0, 1), "window")
    (rect,) = fig.layout.shapes
    assert (rect.x0, rect.y0) == (0.5, -0.5) and rect.line.color == figures.WINNER
    assert not figures.block_figure(np.ones((2, 2)), None, "avg").layout.shapes


def test_colour_figures() -> None:
    image = color_image()
    fig = figures.rgb_figure(image, 9, 2)
    assert np.asarray(fig.data[0].z).shape == (16, 16, 3)
    prods = channel_products(image, COLOR_KERNEL, 9, 2)
    channels = figures.channels_figure(np.moveaxis(patch(image, 9, 2), -1, 0),
                                       np.moveaxis(COLOR_KERNEL, -1, 0), prods)
    assert len(channels.data) == 9  # 3 channels × (patch, weights, products)
    titles = [a.text for a in channels.layout.annotations]
    assert titles[:3] == ["red: patch", "red: weights", "red: products"]
    assert len(figures.channel_figure([image[..., i] for i in range(3)], "rgb").data) == 3


def test_filters_figure_numbers_each_filter() -> None:
    kernel = np.random.default_rng(1).normal(size=(3, 3, 1, 32))
    fig = figures.filters_figure(kernel, "learned")
    assert [a.text for a in fig.layout.annotations] == [str(i) for i in range(32)]
    assert np.asarray(fig.data[0].z).shape == (4 * 4 - 1, 8 * 4 - 1)  # 4 rows of 8 tiles
    scaled = figures.filters_figure(kernel, "each", per_filter=True)
    z = np.asarray(scaled.data[0].z, np.float64)
    assert np.nanmax(np.abs(z)) == pytest.approx(1.0) and scaled.data[0].showscale is False
    raw = np.asarray(scaled.data[0].customdata, np.float64)[..., 1]
    np.testing.assert_allclose(raw[:3, :3], kernel[:, :, 0, 0])  # the hover's real weights
    with pytest.raises(ValueError, match="k, k, 1, f"):
        figures.filters_figure(np.zeros((3, 3, 32)), "bad")


def _every_figure() -> dict[str, object]:
    """One figure of each builder, with the page's kinds of input (NaN cells, marks, grids)."""
    rng = np.random.default_rng(2)
    image = color_image()
    partial = np.full((26, 26), np.nan)
    partial[0, :3] = [-2.0, 1.0, 0.5]
    return {
        "image": figures.image_figure(rng.random((28, 28)), 4, 7, 3),
        "step": figures.step_figure(rng.random((3, 3)), rng.normal(size=(3, 3)),
                                    rng.normal(size=(3, 3)), hover=".4~f"),
        "map": figures.map_figure(partial, "so far", mark=(0, 2)),
        "map limit": figures.map_figure(rng.normal(size=(13, 13)), "pooled", limit=0.0),
        "block": figures.block_figure(np.array([[1.0, 3.0], [2.0, -1.0]]), (0, 1), "max"),
        "rgb": figures.rgb_figure(image, 9, 2),
        "channels": figures.channels_figure(np.moveaxis(patch(image, 9, 2), -1, 0),
                                            np.moveaxis(COLOR_KERNEL, -1, 0),
                                            channel_products(image, COLOR_KERNEL, 9, 2)),
        "channel": figures.channel_figure([image[..., i] for i in range(3)], "rgb"),
        "filters": figures.filters_figure(rng.normal(size=(3, 3, 1, 10)), "ten", columns=4,
                                          per_filter=True),
    }


@pytest.mark.parametrize("name", list(_every_figure()))
def test_every_builder_sends_a_valid_spec(name: str) -> None:
    """The builders skip plotly's validation: plotly must accept each spec as it is sent, and
    validating it must not change it (tests.support.assert_valid_spec)."""
    assert_valid_spec(_every_figure()[name])
