"""Students read layer titles, not Keras's generated names (conv2d_1, max_pooling2d_1)."""

from __future__ import annotations

from nn_core.cnn.specs import FLATTEN, ModelSpec, Recipe, conv, dense, layer_names, pool
from nn_core.cnn.summary import layer_title, summary_rows


def test_titles_of_the_lessons_network() -> None:
    spec = ModelSpec("t", "t", (conv(32, 3), pool("maxpool", 2), conv(64, 3),
                                pool("avgpool", 2), FLATTEN, dense(128), dense(10, "softmax")),
                     Recipe("adam", 0.001, 128, 1))
    rows = summary_rows(spec)
    assert [row.name for row in rows] == layer_names(spec)
    assert [row.layer for row in rows] == [
        "Conv 1: 32 filters 3×3", "Max pooling 1: 2×2", "Conv 2: 64 filters 3×3",
        "Average pooling 1: 2×2", "Flatten", "Dense 1: 128 units", "Output: 10 units, softmax"]
    assert not any(row.layer == row.name for row in rows)


def test_one_filter_is_singular() -> None:
    assert layer_title(conv(1, 5), "conv2d_3", (28, 28, 1)) == "Conv 3: 1 filter 5×5"
