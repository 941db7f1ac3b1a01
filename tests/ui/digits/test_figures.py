"""The digit page's plotly builders: mosaic layout, scaling, and what each figure holds."""

from __future__ import annotations

import html

import numpy as np
import plotly.io as pio
import pytest

from tests.support import assert_valid_spec
from ui.common.i18n import translations
from ui.digits import figures as figs


@pytest.mark.parametrize(("channels", "columns"), [(1, 1), (6, 6), (16, 16), (32, 16),
                                                   (64, 16), (65, 32), (128, 32)])
def test_grid_columns(channels: int, columns: int) -> None:
    assert figs.grid_columns(channels) == columns


def test_grid_columns_rejects_no_channels() -> None:
    with pytest.raises(ValueError, match="channels"):
        figs.grid_columns(0)


def test_mosaic_places_every_channel_in_its_tile_with_nan_gaps() -> None:
    rng = np.random.default_rng(0)
    maps = rng.random((5, 4, 7)).astype(np.float32)  # h=5, w=4, 7 channels
    image, channel = figs.mosaic(maps, columns=3, gap=1)
    assert image.shape == (3 * 6 - 1, 3 * 5 - 1)  # 3 rows, 3 columns of 5×4 tiles + gaps
    for c in range(7):
        r, q = divmod(c, 3)
        np.testing.assert_array_equal(image[r * 6: r * 6 + 5, q * 5: q * 5 + 4], maps[:, :, c])
        assert (channel[r * 6: r * 6 + 5, q * 5: q * 5 + 4] == c).all()
    assert np.isnan(image[5, :]).all() and np.isnan(image[:, 4]).all()  # the gaps
    assert np.isnan(image[12:, 5:]).all()  # the two unused tiles of the last row
    assert (channel[np.isnan(image)] == -1).all()
    assert np.count_nonzero(channel >= 0) == maps.size


def test_mosaic_without_gaps_is_a_plain_tiling() -> None:
    maps = np.arange(2 * 2 * 4, dtype=np.float32).reshape(2, 2, 4)
    image, _ = figs.mosaic(maps, columns=2, gap=0)
    expected = np.block([[maps[:, :, 0], maps[:, :, 1]], [maps[:, :, 2], maps[:, :, 3]]])
    np.testing.assert_array_equal(image, expected)


@pytest.mark.parametrize("bad", [np.zeros((4, 4)), np.zeros((1, 4, 4, 2))])
def test_mosaic_rejects_wrong_shapes(bad: np.ndarray) -> None:
    with pytest.raises(ValueError, match="h, w, channels"):
        figs.mosaic(bad)


def test_normalize_channels_scales_each_channel_to_unit_range() -> None:
    maps = np.stack([np.array([[0.0, 2.0], [1.0, 4.0]]), np.full((2, 2), 3.0),
                     np.array([[-1.0, 1.0], [0.0, 0.0]])], axis=-1)
    out = figs.normalize_channels(maps)
    np.testing.assert_allclose(out[:, :, 0], [[0, 0.5], [0.25, 1]])
    np.testing.assert_array_equal(out[:, :, 1], 0)  # constant channel
    np.testing.assert_allclose(out[:, :, 2], [[0, 1], [0.5, 0.5]])


def test_feature_map_trace_keeps_raw_values_in_the_hover() -> None:
    rng = np.random.default_rng(1)
    maps = rng.random((26, 26, 32)).astype(np.float32) * 5
    trace, shape, width = figs.feature_map_trace(maps, per_channel=True)
    z = np.asarray(trace["z"], dtype=np.float64)
    assert z.shape == shape == (2 * 27 - 1, 16 * 27 - 1)  # 32 maps: 2 rows of 16
    assert width == figs.mosaic_width(16, 26)
    assert np.nanmax(z) == pytest.approx(1.0) and np.nanmin(z) == pytest.approx(0.0)
    custom = np.asarray(trace["customdata"], dtype=np.float64)
    assert custom.shape == (*z.shape, 2)
    assert custom[0, 0, 0] == 0 and custom[0, 27, 0] == 1  # channel index per tile
    assert custom[27, 0, 0] == 16
    assert custom[0, 0, 1] == pytest.approx(maps[0, 0, 0])  # the raw activation
    shared, _shape, _width = figs.feature_map_trace(maps, per_channel=False)
    shared_z = np.asarray(shared["z"], dtype=np.float64)
    assert np.nanmax(shared_z) == pytest.approx(maps.max())
    assert shared_z[27, 27] == pytest.approx(maps[0, 0, 17])  # z is the raw value itself
    # on the shared scale the hover reads the value from z and the channel from a small integer
    channels = np.asarray(shared["customdata"])
    assert channels.dtype == np.int8 and channels.shape == shared_z.shape
    assert channels[0, 0] == 0 and channels[0, 27] == 1 and channels[27, 0] == 16
    assert channels[26, 0] == -1  # the gap between tiles
    assert "%{z:.3f}" in shared["hovertemplate"] and "%{customdata}" in shared["hovertemplate"]
    wide, _shape, _width = figs.feature_map_trace(rng.random((3, 3, 200)).astype(np.float32))
    assert np.asarray(wide["customdata"]).dtype == np.int16  # more channels than int8 holds
    with pytest.raises(ValueError, match="maps must have shape"):
        figs.feature_map_trace(np.zeros((26, 26)))


def test_feature_maps_figure_stacks_every_layer_under_its_title() -> None:
    rng = np.random.default_rng(2)
    layers = [(rng.random((26, 26, 32)).astype(np.float32), "Conv 1 → 26×26×32"),
              (rng.random((13, 13, 32)).astype(np.float32), "Pool 1 → 13×13×32"),
              (rng.random((3, 3, 128)).astype(np.float32), "Conv 3 → 3×3×128")]
    for per_channel in (False, True):
        fig = figs.feature_maps_figure(layers, per_channel=per_channel)
        assert_valid_spec(fig)
        assert len(fig.data) == 3
        for trace, (maps, _title) in zip(fig.data, layers, strict=True):
            expected, _shape, _width = figs.feature_map_trace(maps, per_channel)
            np.testing.assert_array_equal(np.asarray(trace.z), expected["z"])  # NaN gaps too
        assert [t.xaxis for t in fig.data] == ["x", "x2", "x3"]
        assert [t.yaxis for t in fig.data] == ["y", "y2", "y3"]
        assert [t.coloraxis for t in fig.data] == ["coloraxis", "coloraxis2", "coloraxis3"]
        domains = [fig.layout.yaxis.domain, fig.layout.yaxis2.domain, fig.layout.yaxis3.domain]
        # top to bottom, in order, without overlapping, inside the plot area
        assert 1 >= domains[0][1] > domains[0][0] >= domains[1][1] > domains[1][0] \
            >= domains[2][1] > domains[2][0] >= 0
        # sent as ASCII (plotly.js reads '&#215;' as '×'): see test_feature_maps_are_sent_as_ascii
        titles = [(html.unescape(a.text), a.y) for a in fig.layout.annotations]
        assert titles == [(title, domain[1]) for (_maps, title), domain
                          in zip(layers, domains, strict=True)]  # each right above its maps
        axes = [fig.layout.coloraxis, fig.layout.coloraxis2, fig.layout.coloraxis3]
        # its own colour scale per layer; a colour bar beside each only on the shared scale
        assert all(axis.showscale is (not per_channel) for axis in axes)
        assert all((axis.cmin, axis.cmax) == ((0, 1) if per_channel else (None, None))
                   for axis in axes)
        assert axes[1].colorbar.y == pytest.approx(sum(domains[1]) / 2)
    with pytest.raises(ValueError, match="no layer"):
        figs.feature_maps_figure([])


def test_feature_maps_are_sent_as_ascii(monkeypatch) -> None:
    """Titles and hover in Russian or with '×' and '→' still make a JSON of ASCII only, each
    other character an HTML character reference that reads back as the text."""
    maps = np.random.default_rng(3).random((5, 5, 4)).astype(np.float32)
    assert figs.ascii_text("Свёртка 1: 32 фильтра 3×3 → 26×26×32") == (
        "&#1057;&#1074;&#1105;&#1088;&#1090;&#1082;&#1072; 1: 32 &#1092;&#1080;&#1083;&#1100;"
        "&#1090;&#1088;&#1072; 3&#215;3 &#8594; 26&#215;26&#215;32")
    for title in ("Conv 1 → 5×5×4", "Свёртка 1 → 5×5×4"):
        for per_channel in (False, True):
            fig = figs.feature_maps_figure([(maps, title)], per_channel=per_channel)
            sent = pio.to_json(fig.to_dict(), validate=False)
            assert sent.isascii()
            assert html.unescape(fig.layout.annotations[0].text) == title
    russian = translations("ru").gettext
    monkeypatch.setattr(figs, "_", russian)
    trace, _shape, _width = figs.feature_map_trace(maps)
    hover = russian("channel {channel}<br>value {value}")
    assert not hover.isascii()  # the catalog has it in Cyrillic
    assert trace["hovertemplate"].isascii()
    assert html.unescape(trace["hovertemplate"]) == hover.format(
        channel="%{customdata}", value="%{z:.3f}") + "<extra></extra>"


def test_mosaic_width_caps_tiles_and_the_page() -> None:
    assert figs.mosaic_width(6, 26) == int((6 * 27 - 1) * figs.MAX_TILE_PX / 26)  # LeNet: 6 maps
    assert figs.mosaic_width(16, 26) == figs.PAGE_WIDTH
    assert figs.mosaic_width(32, 3) == figs.PAGE_WIDTH


def test_filter_figure_uses_a_symmetric_scale() -> None:
    kernel = np.zeros((3, 3, 1, 6), np.float32)
    kernel[0, 0, 0, 2], kernel[1, 1, 0, 5] = 0.7, -0.3
    fig = figs.filter_figure(kernel)
    trace = fig.data[0]
    assert trace.zmin == pytest.approx(-0.7) and trace.zmax == pytest.approx(0.7)
    assert np.asarray(trace.z).shape == (3, 6 * 4 - 1)  # one row of 6 filters
    assert_valid_spec(fig)
    assert_valid_spec(figs.filter_figure(np.ones((5, 5, 3, 40), np.float32)))


def test_probability_figure_highlights_the_most_likely_digit() -> None:
    probs = np.full(10, 0.02)
    probs[7] = 0.82
    fig = figs.probability_figure(probs)
    bar = fig.data[0]
    colors = list(bar.marker.color)
    assert colors[7] != colors[0] and len(set(colors)) == 2
    assert list(bar.x) == [str(d) for d in range(10)]
    assert_valid_spec(fig)
    with pytest.raises(ValueError, match="10 probabilities"):
        figs.probability_figure(np.ones(9) / 9)


def test_input_image_figure_checks_the_shape() -> None:
    fig = figs.input_image_figure(np.zeros((28, 28)))
    assert np.asarray(fig.data[0].z).shape == (28, 28)
    assert_valid_spec(fig)
    with pytest.raises(ValueError, match="28, 28"):
        figs.input_image_figure(np.zeros((20, 20)))


def test_training_curves_figure_has_train_validation_and_live_traces() -> None:
    history = {"loss": [0.9, 0.4], "val_loss": [0.5, 0.3], "accuracy": [0.7, 0.9],
               "val_accuracy": [0.85, 0.92]}
    live = {"x": [0.5, 1.0, 1.5], "loss": [1.2, 0.9, 0.5], "accuracy": [0.5, 0.7, 0.85]}
    fig = figs.training_curves_figure(history, live=live)
    names = [t.name for t in fig.data]
    assert names.count("train") == 2 and names.count("validation") == 2
    assert names.count("train (running)") == 2
    loss = next(t for t in fig.data if t.name == "validation" and t.xaxis == "x")
    assert list(loss.y) == [0.5, 0.3] and list(loss.x) == [1, 2]
    assert len(figs.training_curves_figure({}).data) == 0  # nothing yet: an empty frame
    assert fig.layout.xaxis2.title.text == "epoch" and fig.layout.yaxis2.tickformat == ".1%"
    assert [a.text for a in fig.layout.annotations] == ["Loss", "Accuracy"]
    assert_valid_spec(fig)
    assert_valid_spec(figs.training_curves_figure({}))
    assert_valid_spec(figs.training_curves_figure({"loss": [np.float32(0.5)]},
                                                  live={"x": np.array([0.5]), "loss": [1.0],
                                                        "accuracy": [np.nan]}))


def test_confusion_figure_writes_counts_and_colours_only_mistakes() -> None:
    matrix = np.diag(np.full(10, 100))
    matrix[3, 5] = 7
    fig = figs.confusion_figure(matrix)
    assert_valid_spec(fig)
    trace = fig.data[0]
    z = np.asarray(trace.z, dtype=np.float64)
    assert z[3, 5] > 0 and np.count_nonzero(z) == 1  # the diagonal does not swamp the scale
    assert np.asarray(trace.text)[3, 5] == 7 and np.asarray(trace.text)[0, 0] == 100
    with pytest.raises(ValueError, match="10, 10"):
        figs.confusion_figure(np.zeros((9, 9)))


def test_mistakes_figure_captions_every_digit() -> None:
    images = np.zeros((10, 28, 28), np.uint8)
    images[:, 10:18, 12:16] = 255
    fig = figs.mistakes_figure(images, list(range(10)), [(d + 1) % 10 for d in range(10)],
                               columns=4)
    texts = [a.text for a in fig.layout.annotations]
    assert texts[0] == "0 → <b>1</b>" and texts[9] == "9 → <b>0</b>"
    z = np.asarray(fig.data[0].z, dtype=np.float64)
    assert np.nanmax(z) == pytest.approx(1.0)  # uint8 images scaled to [0, 1]
    assert_valid_spec(fig)
    with pytest.raises(ValueError, match="same length"):
        figs.mistakes_figure(images, [1, 2], [3])


def test_dense_figure_draws_one_bar_per_neuron() -> None:
    fig = figs.dense_figure(np.array([0.0, 1.5, -0.2], np.float32), "dense → 3")
    assert list(fig.data[0].x) == [0, 1, 2] and fig.data[0].marker.color == "#4c78a8"
    assert fig.layout.title.text == "dense → 3"
    assert_valid_spec(fig)
