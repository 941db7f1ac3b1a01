"""Issue 12's ingredients against Keras: the batch-norm and activation layer kinds, the
warm-up + cosine learning-rate schedule, and spec keys that stay what they were before."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from nn_core.cnn.keras_code import model_script
from nn_core.cnn.keras_model import build_keras_model, learning_rate_schedule
from nn_core.cnn.layers import BN_EPSILON, LAYER_KINDS, batch_norm
from nn_core.cnn.numpy_forward import forward_layers
from nn_core.cnn.presets import PRESETS
from nn_core.cnn.specs import (
    FLATTEN,
    OUTPUT,
    SCHEDULES,
    WARMUP_FRACTION,
    WARMUP_START,
    ModelSpec,
    Recipe,
    activation,
    batchnorm,
    conv,
    count_params,
    dense,
    layer_params,
    learning_rate_at,
    pool,
    schedule_steps,
    trainable_params,
    with_recipe,
)
from nn_core.cnn.summary import summary_rows
from nn_core.training.runs import DEFAULT_MODEL_DIR

QUICK = PRESETS["quick_99"]
# BN after a conv (per channel of an image), and after a dense layer (per unit of a vector).
BN_BOTH_WAYS = ModelSpec(
    "bn_both", "bn_both",
    (conv(4, activation="linear"), batchnorm(), activation("relu"), pool(), conv(6, 5),
     batchnorm(), FLATTEN, dense(12, "linear"), batchnorm(), activation("tanh"), OUTPUT),
    Recipe("adam", 0.001, 32, 1))

# ModelSpec.key() of every spec that existed before recipes had a schedule (computed with that
# code): runs on disk and shared jobs are found by these keys, so they must never change.
KEYS_BEFORE_SCHEDULES = {"lenet": "ba9ef60efd50559d", "mnist_cnn": "235bdb6c52790e80",
                         "cnn_34826": "64b5a06da79c848a", "cnn_104202": "d6fa6e2cc493cad6",
                         "dense_800_400": "1e5c17709c9c7a9d"}
SHIPPED_KEY = "10f665d291960819"


def bn_weights(model: Any, dtype: str, seed: int = 7) -> list[np.ndarray]:
    """Random kernels; batch norms with gamma ≠ 1, beta ≠ 0 and moving statistics far from
    (0, 1), so the NumPy pass must normalise with the right mean, variance and epsilon."""
    rng = np.random.default_rng(seed)
    arrays: list[np.ndarray] = []
    for layer in model.layers:
        weights = layer.get_weights()
        if type(layer).__name__ == "BatchNormalization":
            c = weights[0].shape
            arrays += [rng.uniform(0.5, 2.0, c), rng.normal(0, 0.5, c), rng.normal(0, 1.0, c),
                       rng.uniform(0.001, 4.0, c)]  # variances down to epsilon's size
        else:
            arrays += [rng.normal(0, 0.3, w.shape) for w in weights]
    return [a.astype(dtype) for a in arrays]


@pytest.mark.parametrize(("keras_fixture", "tol", "bn_tol"),
                         [("keras32", 1e-5, 1e-6), ("keras64", 1e-10, 1e-13)])
def test_batchnorm_forward_equals_keras_layer_by_layer(keras_fixture: str, tol: float,
                                                       bn_tol: float,
                                                       request: pytest.FixtureRequest) -> None:
    keras = request.getfixturevalue(keras_fixture)
    dtype = keras.config.floatx()
    model = build_keras_model(BN_BOTH_WAYS, compile_model=False)
    weights = bn_weights(model, dtype)
    model.set_weights(weights)
    images = np.random.default_rng(1).random((5, 28, 28)).astype(dtype)
    every_layer = keras.Model(model.inputs, [layer.output for layer in model.layers])
    expected = [np.asarray(v) for v in every_layer([images[..., None]])]  # inference mode
    outputs = forward_layers(BN_BOTH_WAYS, weights, images)
    assert [o.name for o in outputs] == [layer.name for layer in model.layers]
    assert [o.name for o in outputs][1:3] == ["batch_normalization_1", "activation_1"]
    for out, keras_out in zip(outputs, expected, strict=True):
        assert out.values.dtype == dtype and out.values.shape == keras_out.shape, out.name
        scale = max(1.0, float(np.abs(keras_out).max()))  # float32 rounding grows with it
        np.testing.assert_allclose(out.values, keras_out, rtol=tol, atol=tol * scale,
                                   err_msg=out.name)
    # Each batch norm alone, on Keras's own input to it: the same arithmetic, to the last bits.
    for i, layer in enumerate(model.layers):
        if type(layer).__name__ == "BatchNormalization":
            mine = batch_norm(expected[i - 1], *layer.get_weights())
            scale = float(np.abs(expected[i]).max())
            np.testing.assert_allclose(mine, expected[i], rtol=bn_tol, atol=bn_tol * scale,
                                       err_msg=layer.name)


def test_batch_norm_is_the_textbook_formula() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2, 3, 3, 4))
    gamma, beta, mean = rng.normal(size=4), rng.normal(size=4), rng.normal(size=4)
    var = rng.uniform(0.01, 2, 4)
    expected = gamma * (x - mean) / np.sqrt(var + 1e-3) + beta
    np.testing.assert_allclose(batch_norm(x, gamma, beta, mean, var), expected, rtol=1e-12)
    assert BN_EPSILON == 1e-3
    x32 = x.astype(np.float32)
    assert batch_norm(x32, *(a.astype(np.float32) for a in (gamma, beta, mean, var))).dtype \
        == np.float32


def test_batchnorm_parameters_are_what_keras_counts(keras32: Any) -> None:
    model = build_keras_model(BN_BOTH_WAYS, compile_model=False)
    assert layer_params(BN_BOTH_WAYS) == [layer.count_params() for layer in model.layers]
    assert layer_params(BN_BOTH_WAYS)[1] == 4 * 4  # gamma, beta, mean, variance per channel
    assert count_params(BN_BOTH_WAYS) == model.count_params()
    trained = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert trainable_params(BN_BOTH_WAYS) == trained == count_params(BN_BOTH_WAYS) - 2 * (
        4 + 6 + 12)
    shapes = [tuple(w.shape) for w in model.get_weights()]
    assert shapes[2:6] == [(4,)] * 4  # gamma, beta, moving mean, moving variance
    kind = LAYER_KINDS["batchnorm"]
    assert kind.has_weights and kind.tracked == 2 and not LAYER_KINDS["activation"].has_weights


def test_forward_checks_batchnorm_arrays() -> None:
    model_shapes = [(3, 3, 1, 4), (4,), (4,), (4,), (4,), (4,)]
    weights = [np.zeros(s, np.float32) for s in model_shapes]
    spec = ModelSpec("x", "x", (conv(4), batchnorm(), FLATTEN, OUTPUT), QUICK.recipe)
    weights += [np.zeros((2704, 10), np.float32), np.zeros(10, np.float32)]
    images = np.zeros((1, 28, 28), np.float32)
    assert forward_layers(spec, weights, images)[1].values.shape == (1, 26, 26, 4)
    with pytest.raises(ValueError, match="needs 8 weight arrays"):
        forward_layers(spec, weights[:7], images)
    bad = [*weights[:5], np.ones(5, np.float32), *weights[6:]]
    with pytest.raises(ValueError, match=r"batch_normalization_1: weights .* do not fit"):
        forward_layers(spec, bad, images)


def test_summary_rows_of_the_quick_network() -> None:
    rows = summary_rows(QUICK)
    assert [r.layer for r in rows][5:] == ["Dense 1: 128 units", "Batch norm 1: 128 units",
                                           "Activation 1: relu", "Output: 10 units, softmax"]
    assert rows[6].formula == "2·128 + 2·128 = 512"
    assert summary_rows(BN_BOTH_WAYS)[1].layer == "Batch norm 1: 4 channels"
    assert summary_rows(BN_BOTH_WAYS)[1].formula == "2·4 + 2·4 = 16"


# --------------------------------------------------------------------------------------------
# Spec keys and JSON
# --------------------------------------------------------------------------------------------
def test_keys_of_specs_without_a_schedule_did_not_change() -> None:
    assert {n: PRESETS[n].key() for n in KEYS_BEFORE_SCHEDULES} == KEYS_BEFORE_SCHEDULES
    data = json.loads((DEFAULT_MODEL_DIR / "spec.json").read_text())
    assert "schedule" not in data["recipe"]  # written before schedules existed
    shipped = ModelSpec.from_dict(data)
    assert shipped.recipe.schedule == "constant" and shipped.key() == SHIPPED_KEY
    assert shipped.to_dict()["recipe"]["schedule"] == "constant"


def test_schedule_round_trips_and_is_part_of_the_key() -> None:
    again = ModelSpec.from_dict(json.loads(json.dumps(QUICK.to_dict())))
    assert again == QUICK and again.recipe.schedule == "warmup_cosine"
    constant = with_recipe(QUICK, schedule="constant")
    assert constant.key() != QUICK.key()
    assert with_recipe(constant, schedule="warmup_cosine").key() == QUICK.key()
    with pytest.raises(ValueError, match="schedule must be one of"):
        Recipe("adam", 0.001, 32, 1, schedule="one_cycle")
    data = QUICK.to_dict()
    data["recipe"]["schedule"] = "bogus"
    with pytest.raises(ValueError, match="schedule must be one of"):
        ModelSpec.from_dict(data)
    assert SCHEDULES == ("constant", "warmup_cosine")


# --------------------------------------------------------------------------------------------
# The learning-rate schedule
# --------------------------------------------------------------------------------------------
def test_schedule_steps() -> None:
    recipe = QUICK.recipe
    batches = math.ceil(54_000 / recipe.batch_size)
    assert schedule_steps(recipe) == (round(batches * recipe.epochs * WARMUP_FRACTION),
                                      batches * recipe.epochs)
    assert schedule_steps(recipe, 900) == (round(8 * recipe.epochs * WARMUP_FRACTION),
                                           8 * recipe.epochs)
    assert schedule_steps(replace(recipe, epochs=1), 10) == (0, 1)  # one step: no warm-up
    assert schedule_steps(replace(recipe, schedule="constant"), 900) == (0, 8 * recipe.epochs)
    assert schedule_steps(replace(recipe, epochs=3), 900, initial_epoch=2) == (2, 8)
    with pytest.raises(ValueError, match="train_images"):
        schedule_steps(recipe, 0)


def test_learning_rate_at_follows_the_formula() -> None:
    recipe = replace(QUICK.recipe, learning_rate=0.004, batch_size=100, epochs=2)
    warmup, steps = schedule_steps(recipe, 1000)  # 10 batches × 2 epochs, 4 warm-up steps
    assert (warmup, steps) == (4, 20)
    peak = 0.004
    assert learning_rate_at(recipe, 0, 1000) == pytest.approx(peak * WARMUP_START)
    assert learning_rate_at(recipe, 2, 1000) == pytest.approx(
        peak * WARMUP_START + (peak - peak * WARMUP_START) / 2)
    assert learning_rate_at(recipe, warmup, 1000) == pytest.approx(peak)
    assert learning_rate_at(recipe, (warmup + steps) / 2, 1000) == pytest.approx(peak / 2)
    assert learning_rate_at(recipe, steps, 1000) == pytest.approx(0, abs=1e-12)
    assert learning_rate_at(recipe, steps + 50, 1000) == pytest.approx(0, abs=1e-12)
    assert learning_rate_at(replace(recipe, schedule="constant"), 7, 1000) == peak


@pytest.mark.parametrize("initial_epoch", [0, 1])
def test_keras_optimizer_follows_learning_rate_at(keras32: Any, initial_epoch: int) -> None:
    recipe = replace(QUICK.recipe, learning_rate=0.004, batch_size=100, epochs=3)
    model = build_keras_model(replace(QUICK, recipe=recipe), train_images=1000,
                              initial_epoch=initial_epoch)
    warmup, steps = schedule_steps(recipe, 1000, initial_epoch)
    peak = recipe.learning_rate
    if initial_epoch:  # a resumed run warms up to where the first run's schedule stood
        peak = learning_rate_at(recipe, 10 * initial_epoch, 1000)
        assert 0 < peak < recipe.learning_rate
    optimizer = model.optimizer
    for step in (0, 1, warmup - 1, warmup, (warmup + steps) // 2, steps - 1, steps, steps + 5):
        optimizer.iterations.assign(step)
        assert float(optimizer.learning_rate) == pytest.approx(
            learning_rate_at(recipe, step, 1000, peak=peak, initial_epoch=initial_epoch),
            rel=1e-5, abs=1e-9), step
    optimizer.iterations.assign(0)
    assert float(optimizer.learning_rate) == pytest.approx(peak * WARMUP_START, rel=1e-6)


def test_constant_schedule_is_a_plain_float(keras32: Any) -> None:
    spec = PRESETS["cnn_104202"]
    assert learning_rate_schedule(spec.recipe) == 0.001
    optimizer = build_keras_model(spec).optimizer
    optimizer.iterations.assign(1234)
    assert float(optimizer.learning_rate) == pytest.approx(0.001)
    assert type(optimizer).__name__ == "RMSprop"


def test_the_script_shows_the_schedule_the_worker_builds(keras32: Any) -> None:
    code = model_script(QUICK)
    assert "layers.BatchNormalization()," in code and 'layers.Activation("relu"),' in code
    assert 'layers.Dense(128, activation="linear"),' in code
    assert "optimizer=keras.optimizers.Adam(learning_rate=learning_rate)" in code
    assert f"# {count_params(QUICK):,} parameters, {trainable_params(QUICK):,} trainable" in code
    start = code.index("learning_rate = keras")
    scope: dict[str, Any] = {"keras": keras32}
    exec(code[start: code.index("model.compile")], scope)  # the script's own schedule lines
    shown = scope["learning_rate"].get_config()
    built = learning_rate_schedule(QUICK.recipe).get_config()  # the worker, on 54,000 images
    for key in ("decay_steps", "warmup_steps", "alpha"):
        assert shown[key] == built[key], key
    for key in ("initial_learning_rate", "warmup_target"):
        assert shown[key] == pytest.approx(built[key], rel=1e-12), key
    assert "learning_rate = keras" not in model_script(PRESETS["cnn_104202"])
