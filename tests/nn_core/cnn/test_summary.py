"""model.summary() as rows with formulas, against Keras's layers; the 2-2-1 weight layout."""

from __future__ import annotations

import re
from typing import Any

import pytest

from nn_core.basics.network import WEIGHT_NAMES, build_keras_network, to_keras_weights
from nn_core.cnn.keras_model import build_keras_model
from nn_core.cnn.presets import PRESETS, custom_spec
from nn_core.cnn.specs import ModelSpec, count_params
from nn_core.cnn.summary import (
    COLUMNS,
    NO_PARAMS,
    SummaryRow,
    keras_shape,
    keras_weight_layout,
    network_summary_rows,
    summary_records,
    summary_rows,
    total_params,
)

SPECS: dict[str, ModelSpec] = {
    **PRESETS,
    "custom_default": custom_spec(),
    "custom_one_block_5x5_avg": custom_spec((8,), kernel_size=5, pooling="avg", dense_units=0,
                                            dropout_rate=0.0),
    "custom_no_pooling": custom_spec((1, 2), pooling="none", dense_units=16, dropout_rate=0.5),
}


def formula_value(formula: str) -> int:
    """Evaluate "3·3·1·32 + 32 = 320"'s left side and check it against its right side."""
    left, right = formula.split(" = ")
    terms = [eval_product(term) for term in left.split(" + ")]
    assert sum(terms) == int(right.replace(",", ""))
    return sum(terms)


def eval_product(term: str) -> int:
    assert re.fullmatch(r"\d+(·\d+)*", term), term
    value = 1
    for factor in term.split("·"):
        value *= int(factor)
    return value


def test_the_course_figures() -> None:
    rows = summary_rows(PRESETS["cnn_34826"])
    assert [r.params for r in rows] == [320, 0, 18_496, 0, 0, 0, 16_010]
    assert [r.formula for r in rows if r.params] == [
        "3·3·1·32 + 32 = 320", "3·3·32·64 + 64 = 18,496", "1600·10 + 10 = 16,010"]
    assert [r.layer for r in rows] == [
        "Conv 1: 32 filters 3×3", "Max pooling 1: 2×2", "Conv 2: 64 filters 3×3",
        "Max pooling 2: 2×2", "Flatten", "Dropout 0.5", "Output: 10 units, softmax"]
    assert rows[0].output_shape == "(None, 26, 26, 32)" and rows[-1].output_shape == "(None, 10)"
    assert total_params(rows) == 34_826
    assert total_params(summary_rows(PRESETS["cnn_104202"])) == 104_202
    mnist = summary_rows(PRESETS["mnist_cnn"])
    assert [r.layer for r in mnist][3:] == ["Dropout 0.25", "Flatten", "Dense 1: 128 units",
                                            "Dropout 0.5", "Output: 10 units, softmax"]
    assert summary_rows(PRESETS["lenet"])[1].layer == "Average pooling 1: 2×2"
    assert summary_rows(custom_spec((1,), dense_units=0))[0].layer == "Conv 1: 1 filter 3×3"


def test_records_are_keras_columns() -> None:
    records = summary_records(summary_rows(PRESETS["cnn_34826"]))
    assert list(records[2]) == list(COLUMNS)
    assert records[2] == {"Layer": "Conv 2: 64 filters 3×3", "Keras name": "conv2d_2",
                          "Output shape": "(None, 11, 11, 64)", "Param #": "18,496",
                          "Formula": "3·3·32·64 + 64 = 18,496"}
    assert keras_shape((1600,)) == "(None, 1600)"


@pytest.mark.parametrize("name", list(SPECS))
def test_rows_equal_keras_layers(keras32: Any, name: str) -> None:
    spec = SPECS[name]
    rows = summary_rows(spec)
    model = build_keras_model(spec, compile_model=False)
    assert len(rows) == len(model.layers) == len(spec.layers)
    for row, layer in zip(rows, model.layers, strict=True):
        assert isinstance(row, SummaryRow)
        assert row.name == layer.name
        assert row.params == layer.count_params()
        assert row.output_shape == str(tuple(layer.output.shape))
        if row.params:
            assert formula_value(row.formula) == row.params
        else:
            assert row.formula == NO_PARAMS
    assert total_params(rows) == model.count_params() == count_params(spec)


def test_network_rows_equal_keras(keras32: Any) -> None:
    rows = network_summary_rows("relu", "sigmoid")
    model = build_keras_network("relu", "sigmoid")
    assert [r.params for r in rows] == [layer.count_params() for layer in model.layers] == [4, 2]
    assert [r.output_shape for r in rows] == [str(tuple(la.output.shape)) for la in model.layers]
    # Automatic names: dense, dense_1 in a fresh session (clear_session would reset every
    # Keras global setting under the other tests, so only the pattern is checked here).
    assert [r.name for r in rows] == ["dense", "dense_1"]
    assert all(re.fullmatch(r"dense(_\d+)?", layer.name) for layer in model.layers)
    assert [r.formula for r in rows] == ["2·2 = 4", "2·1 = 2"]
    assert [formula_value(r.formula) for r in rows] == [4, 2]
    assert total_params(rows) == model.count_params() == 6
    assert rows[0].layer == "Hidden: 2 units, relu" and rows[1].layer == "Output: 1 unit, sigmoid"
    assert network_summary_rows()[0].layer == "Hidden: 2 units, linear"
    with pytest.raises(ValueError, match="hidden activation"):
        network_summary_rows("softmax")


def test_keras_weight_layout_is_to_keras_weights() -> None:
    hidden, output = keras_weight_layout()
    assert hidden.labels == (("w1", "w3"), ("w2", "w4"))
    assert output.labels == (("w5",), ("w6",))
    assert (hidden.rows, hidden.columns, hidden.shape) == (("x1", "x2"), ("N1", "N2"), (2, 2))
    assert (output.rows, output.columns, output.shape) == (("N1", "N2"), ("Y",), (2, 1))
    values = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]  # w_i = i, so each position shows its weight
    for matrix, kernel in zip((hidden, output), to_keras_weights(values), strict=True):
        assert kernel.shape == matrix.shape
        for i, row in enumerate(matrix.labels):
            for j, label in enumerate(row):
                assert kernel[i, j] == values[WEIGHT_NAMES.index(label)]


def test_bad_spec_is_a_value_error() -> None:
    spec = PRESETS["cnn_34826"]
    bad = ModelSpec("bad", "bad", spec.layers[4:5] + spec.layers[:1], spec.recipe)
    with pytest.raises(ValueError, match="before flatten"):
        summary_rows(bad)
