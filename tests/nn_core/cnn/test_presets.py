"""The course's networks: parameter counts, custom specs, NumPy forward == Keras, shipped model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from nn_core import course
from nn_core.cnn.digits import load_mnist
from nn_core.cnn.keras_code import model_script
from nn_core.cnn.keras_model import build_keras_model
from nn_core.cnn.numpy_forward import forward_layers, predict_proba
from nn_core.cnn.presets import PRESETS, TRAINING_OPTIMIZERS, custom_spec
from nn_core.cnn.specs import (
    LayerSpec,
    ModelSpec,
    count_params,
    layer_shapes,
    trainable_params,
    with_recipe,
)
from nn_core.training.runs import DEFAULT_MODEL_DIR, load_weights_npz

# 34,826 and 104,202 are the course's own figures (lessons 003 and 004); the others by hand:
# lenet 60 + 880 + 48,120 + 10,164 + 850; mnist_cnn 320 + 18,496 + 1,179,776 + 1,290;
# dense 628,000 + 320,400 + 4,010; quick_99 160 + 4,640 + 102,528 + 4·128 + 1,290 (of which the
# batch norm's moving means and variances, 2·128, are not trained).
PARAMS = {"lenet": 60_074, "mnist_cnn": 1_199_882, "cnn_34826": 34_826, "cnn_104202": 104_202,
          "dense_800_400": 952_410, "quick_99": 109_130}


QUICK_RECIPE = ("adam", 128, 2)  # issue 12's quick recipe (benchmarks/bench_time_to_99.py)


@pytest.fixture(scope="module")
def digits() -> np.ndarray:
    """Eight real MNIST test digits, (8, 28, 28) float32 in [0, 1]."""
    _, (x_test, _) = load_mnist()
    return x_test[:8].astype(np.float32) / 255


def random_weights(model: Any, dtype: str, seed: int = course.SEED) -> list[np.ndarray]:
    """He-scaled random kernels and non-zero biases, so every layer's arithmetic shows; a batch
    norm gets gamma around 1, beta around 0 and moving statistics far from the identity's
    (mean ±0.5, variance 0.2..3), so its normalisation shows too."""
    rng = np.random.default_rng(seed)
    arrays = []
    for layer in model.layers:
        if type(layer).__name__ == "BatchNormalization":
            c = layer.get_weights()[0].shape
            arrays += [rng.normal(1, 0.2, c), rng.normal(0, 0.1, c), rng.normal(0, 0.5, c),
                       rng.uniform(0.2, 3.0, c)]
            continue
        for w in layer.get_weights():
            fan_in = int(np.prod(w.shape[:-1])) if w.ndim > 1 else 1
            scale = np.sqrt(2 / fan_in) if w.ndim > 1 else 0.1
            arrays.append(rng.normal(0, scale, w.shape))
    return [a.astype(dtype) for a in arrays]


def test_presets_are_the_course_networks() -> None:
    kinds = {name: [(la.kind, la.size or la.rate or la.kernel) for la in spec.layers]
             for name, spec in PRESETS.items()}
    assert kinds["lenet"] == [("conv", 6), ("avgpool", 2), ("conv", 16), ("avgpool", 2),
                              ("flatten", 0), ("dense", 120), ("dense", 84), ("dense", 10)]
    assert kinds["mnist_cnn"] == [("conv", 32), ("conv", 64), ("maxpool", 2), ("dropout", 0.25),
                                  ("flatten", 0), ("dense", 128), ("dropout", 0.5), ("dense", 10)]
    assert kinds["cnn_34826"] == [("conv", 32), ("maxpool", 2), ("conv", 64), ("maxpool", 2),
                                  ("flatten", 0), ("dropout", 0.5), ("dense", 10)]
    assert kinds["cnn_104202"] == [("conv", 32), ("maxpool", 2), ("conv", 64), ("maxpool", 2),
                                   ("conv", 128), ("flatten", 0), ("dense", 10)]
    assert kinds["dense_800_400"] == [("flatten", 0), ("dense", 800), ("dense", 400), ("dense", 10)]
    assert [(la.kind, la.size, la.activation) for la in PRESETS["quick_99"].layers] == [
        ("conv", 16, "relu"), ("maxpool", 0, "linear"), ("conv", 32, "relu"),
        ("maxpool", 0, "linear"), ("flatten", 0, "linear"), ("dense", 128, "linear"),
        ("batchnorm", 0, "linear"), ("activation", 0, "relu"), ("dense", 10, "softmax")]
    recipes = {n: (s.recipe.optimizer, s.recipe.batch_size, s.recipe.epochs)
               for n, s in PRESETS.items()}
    assert recipes == {"lenet": ("adam", 128, 10), "mnist_cnn": ("adadelta", 128, 12),
                       "cnn_34826": ("adam", 1000, 10), "cnn_104202": ("rmsprop", 64, 5),
                       "dense_800_400": ("adam", 128, 15), "quick_99": QUICK_RECIPE}
    assert {n for n, s in PRESETS.items() if s.recipe.schedule != "constant"} == {"quick_99"}
    assert PRESETS["mnist_cnn"].recipe.learning_rate == 1.0  # the classic example's Adadelta
    assert all(s.layers[-1] == LayerSpec("dense", 10, 0, "softmax") for s in PRESETS.values())
    assert layer_shapes(PRESETS["lenet"])[:4] == [(26, 26, 6), (13, 13, 6), (11, 11, 16),
                                                  (5, 5, 16)]


@pytest.mark.parametrize("name", list(PARAMS))
def test_parameter_counts(name: str) -> None:
    spec = PRESETS[name]
    assert count_params(spec) == PARAMS[name]
    model = build_keras_model(spec)
    assert model.count_params() == PARAMS[name]
    trained = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert trainable_params(spec) == trained
    assert trained == PARAMS[name] - (2 * 128 if name == "quick_99" else 0)
    assert model.input_shape == (None, 28, 28, 1) and model.output_shape == (None, 10)
    assert model.layers[0].name in ("conv2d_1", "flatten")


def test_spec_json_round_trip_and_key() -> None:
    for spec in [*PRESETS.values(), custom_spec()]:
        again = ModelSpec.from_dict(json.loads(json.dumps(spec.to_dict())))
        assert again == spec and again.key() == spec.key()
    spec = PRESETS["cnn_34826"]
    assert replace(spec, name="x", title="y").key() == spec.key()  # settings, not labels
    assert with_recipe(spec, epochs=3).key() != spec.key()
    assert len({s.key() for s in PRESETS.values()}) == len(PRESETS)
    with pytest.raises(ValueError, match="not a model spec"):
        ModelSpec.from_dict({"name": "x"})
    with pytest.raises(ValueError, match="layer kind"):
        LayerSpec("lstm")


def test_custom_spec_builds_what_was_asked() -> None:
    spec = custom_spec((16,), kernel_size=5, pooling="avg", dense_units=0, dropout_rate=0.0,
                       epochs=2, batch_size=64, optimizer="sgd", learning_rate=0.05)
    assert [la.kind for la in spec.layers] == ["conv", "avgpool", "flatten", "dense"]
    assert layer_shapes(spec)[:2] == [(24, 24, 16), (12, 12, 16)]
    assert spec.recipe.optimizer == "sgd" and spec.recipe.learning_rate == 0.05
    assert count_params(spec) == 5 * 5 * 16 + 16 + 12 * 12 * 16 * 10 + 10
    big = custom_spec((128, 128), kernel_size=5, pooling="none", dense_units=512)
    assert layer_shapes(big)[1] == (20, 20, 128)
    assert build_keras_model(big).count_params() == count_params(big)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"conv_filters": ()}, "conv_filters must hold 1 or 2"),
    ({"conv_filters": (8, 8, 8)}, "conv_filters must hold 1 or 2"),
    ({"conv_filters": (0,)}, "filters must be between 1 and 128"),
    ({"conv_filters": (32, 256)}, "filters must be between 1 and 128"),
    ({"kernel_size": 4}, "kernel_size must be 3 or 5"),
    ({"pooling": "median"}, "pooling must be one of"),
    ({"dense_units": 513}, "dense_units must be between 0 and 512"),
    ({"dropout_rate": 0.9}, "dropout must be between 0 and 0.8"),
    ({"epochs": 0}, "epochs must be between 1 and 30"),
    ({"epochs": 2.5}, "epochs must be a whole number"),
    ({"dense_units": "64"}, "dense_units must be a number"),
    ({"batch_size": 4096}, "batch_size must be between 8 and 2048"),
    ({"optimizer": "lbfgs"}, "optimizer must be one of"),
    ({"learning_rate": 5.0}, "learning_rate must be between 1e-05 and 2"),
])
def test_custom_spec_rejects_out_of_range(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        custom_spec(**kwargs)


def test_layer_shapes_rejects_a_vanishing_image() -> None:
    layers = (LayerSpec("conv", 8, 5), LayerSpec("maxpool", kernel=2)) * 3
    spec = replace(custom_spec(), layers=(*layers, *custom_spec().layers[-2:]))
    with pytest.raises(ValueError, match="shrinks to nothing"):
        layer_shapes(spec)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", list(PRESETS))
def test_numpy_forward_equals_keras_layer_by_layer(name: str, dtype: str,
                                                   digits: np.ndarray) -> None:
    import keras

    old, old_policy = keras.config.floatx(), keras.config.dtype_policy()
    keras.config.set_floatx(dtype)
    keras.config.set_dtype_policy(dtype)
    try:
        model = build_keras_model(PRESETS[name], compile_model=False)
        weights = random_weights(model, dtype)
        model.set_weights(weights)
        every_layer = keras.Model(model.inputs, [layer.output for layer in model.layers])
        expected = [np.asarray(v) for v in every_layer([digits[..., None].astype(dtype)])]
    finally:
        keras.config.set_floatx(old)
        keras.config.set_dtype_policy(old_policy)
    outputs = forward_layers(PRESETS[name], weights, digits)
    tol = 1e-5 if dtype == "float32" else 1e-10
    assert [o.name for o in outputs] == [layer.name for layer in model.layers]
    for out, keras_out in zip(outputs, expected, strict=True):
        assert out.values.dtype == dtype and out.values.shape == keras_out.shape, out.name
        np.testing.assert_allclose(out.values, keras_out, rtol=tol, atol=tol, err_msg=out.name)
    probs = predict_proba(PRESETS[name], weights, digits, batch_size=3)
    np.testing.assert_allclose(probs, expected[-1], rtol=tol, atol=tol)


def test_forward_rejects_bad_input(digits: np.ndarray) -> None:
    spec = PRESETS["cnn_34826"]
    weights = [np.zeros((3, 3, 1, 32)), np.zeros(32), np.zeros((3, 3, 32, 64)), np.zeros(64),
               np.zeros((1600, 10)), np.zeros(10)]
    assert forward_layers(spec, weights, digits[0])[-1].values.shape == (1, 10)
    with pytest.raises(ValueError, match="shape"):
        forward_layers(spec, weights, np.zeros((2, 32, 32)))
    with pytest.raises(ValueError, match="floats in"):
        forward_layers(spec, weights, np.zeros((2, 28, 28), np.uint8))
    with pytest.raises(ValueError, match="needs 6 weight arrays"):
        forward_layers(spec, weights[:4], digits)
    with pytest.raises(ValueError, match="do not fit"):
        forward_layers(spec, [*weights[:4], np.zeros((1000, 10)), np.zeros(10)], digits)



@pytest.fixture(scope="module")
def shipped() -> tuple[ModelSpec, list[np.ndarray], dict]:
    """The default model in assets/models/default: spec, weights, result.json."""
    spec = ModelSpec.from_dict(json.loads((DEFAULT_MODEL_DIR / "spec.json").read_text()))
    weights = load_weights_npz(DEFAULT_MODEL_DIR / "weights.npz")
    return spec, weights, json.loads((DEFAULT_MODEL_DIR / "result.json").read_text())


def test_shipped_model_files(shipped: tuple[ModelSpec, list[np.ndarray], dict]) -> None:
    spec, weights, result = shipped
    assert spec.layers == PRESETS["cnn_104202"].layers  # the plain course network
    assert [w.shape for w in weights] == [(3, 3, 1, 32), (32,), (3, 3, 32, 64), (64,),
                                          (3, 3, 64, 128), (128,), (1152, 10), (10,)]
    assert sum(w.size for w in weights) == 104_202
    history = json.loads((DEFAULT_MODEL_DIR / "history.json").read_text())
    assert set(history) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(v) == result["epochs"] for v in history.values())
    confusion = np.array(result["confusion"])
    assert confusion.shape == (10, 10) and confusion.sum() == 10_000
    assert np.trace(confusion) / 10_000 == pytest.approx(result["test_accuracy"])
    assert len(result["mistakes"]) == 10_000 - np.trace(confusion)
    size = sum(p.stat().st_size for p in DEFAULT_MODEL_DIR.rglob("*") if p.is_file())
    assert size < 5_000_000
    checkpoints = sorted((DEFAULT_MODEL_DIR / "checkpoints").glob("epoch_*.npz"))
    assert checkpoints and checkpoints[-1].name == f"epoch_{result['epochs']:02d}.npz"
    for last, final in zip(load_weights_npz(checkpoints[-1]), weights, strict=True):
        np.testing.assert_array_equal(last, final)


def test_shipped_keras_file_holds_the_same_weights(
        shipped: tuple[ModelSpec, list[np.ndarray], dict]) -> None:
    import keras

    model = keras.saving.load_model(DEFAULT_MODEL_DIR / "model.keras")
    for a, b in zip(model.get_weights(), shipped[1], strict=True):
        np.testing.assert_array_equal(a, b)


def test_shipped_model_accuracy_in_numpy(
        shipped: tuple[ModelSpec, list[np.ndarray], dict]) -> None:
    spec, weights, result = shipped
    _, (x_test, y_test) = load_mnist()
    predicted = predict_proba(spec, weights, x_test.astype(np.float32) / 255).argmax(axis=1)
    accuracy = float((predicted == y_test).mean())
    assert accuracy >= 0.990
    assert accuracy == pytest.approx(result["test_accuracy"], abs=0.001)
    np.testing.assert_array_equal(np.nonzero(predicted != y_test)[0][:20], result["mistakes"][:20])


def _keras_build_part(code: str) -> str:
    """``model_script``'s script without the MNIST download, fit and evaluate (run at home)."""
    skipped = ("(x_train", "x_", "y_", "model.fit", "          validation_split", "test_loss",
               "print(")
    return "\n".join(line for line in code.splitlines() if not line.startswith(skipped))


def test_keras_code_builds_and_compiles_the_network_in_keras(tmp_path) -> None:
    # Real Keras in a fresh process (this one stays free of TensorFlow): every preset, the
    # shipped network and one custom network per optimizer are built and compiled by the script.
    shipped_spec = ModelSpec.from_dict(json.loads((DEFAULT_MODEL_DIR / "spec.json").read_text()))
    customs = [custom_spec(conv_filters=(4,), kernel_size=5, pooling="avg", dense_units=0,
                           dropout_rate=0.0, optimizer=name, learning_rate=0.0025)
               for name in ("adam", "sgd", "rmsprop", "adadelta", "adagrad", "adamax", "nadam")]
    specs = [*PRESETS.values(), shipped_spec, *customs]
    scripts = [_keras_build_part(model_script(spec)) for spec in specs]
    runner = tmp_path / "build.py"
    runner.write_text(
        "import json, sys\n"
        "for i, script in enumerate(json.loads(open(sys.argv[1]).read())):\n"
        "    scope = {}\n"
        "    exec(script, scope)\n"
        "    model = scope['model']\n"
        "    optimizer = type(model.optimizer).__name__\n"
        "    print('PARAMS', i, model.count_params(), optimizer, flush=True)\n")
    (tmp_path / "scripts.json").write_text(json.dumps(scripts))
    proc = subprocess.run([sys.executable, str(runner), str(tmp_path / "scripts.json")],
                          capture_output=True, text=True, timeout=600,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    for i, spec in enumerate(specs):
        optimizer = TRAINING_OPTIMIZERS[spec.recipe.optimizer]
        assert f"PARAMS {i} {count_params(spec)} {optimizer}\n" in proc.stdout, proc.stdout[-2000:]
    code = model_script(shipped_spec)
    recipe = shipped_spec.recipe
    assert f"Conv2D({shipped_spec.layers[0].size}, (3, 3)" in code
    assert f"learning_rate={recipe.learning_rate!r})" in code
    assert "Adadelta(learning_rate=1.0)" in model_script(PRESETS["mnist_cnn"])  # a float, not 1
    assert f"batch_size={recipe.batch_size}, epochs={recipe.epochs}" in code
    assert f"# {count_params(shipped_spec):,} trainable parameters" in code
    assert "AveragePooling2D((2, 2))" in model_script(customs[0])


def test_keras_code_one_hot_targets_for_a_categorical_loss() -> None:
    spec = PRESETS["lenet"]
    categorical = replace(spec, recipe=replace(spec.recipe, loss="categorical_crossentropy"))
    assert "to_categorical" not in model_script(spec)
    assert "y_train = keras.utils.to_categorical(y_train, 10)" in model_script(categorical)
