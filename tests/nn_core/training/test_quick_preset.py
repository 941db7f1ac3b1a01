"""Issue 12's quick preset through the real worker (in this process): one short epoch with batch
norms and the warm-up + cosine schedule, then its files, schedule and NumPy pass against Keras."""

from __future__ import annotations

import queue
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from nn_core.cnn.digits import load_mnist
from nn_core.cnn.numpy_forward import forward_layers, predict_proba
from nn_core.cnn.presets import PRESETS
from nn_core.cnn.specs import WARMUP_START, schedule_steps, with_recipe
from nn_core.training.runs import load_run, load_weights_npz
from nn_core.training.worker import train_model

QUICK_SHORT = with_recipe(PRESETS["quick_99"], epochs=1)
IMAGES = 1_000  # 900 fitted (8 batches of 128), 100 validate


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict]]:
    """One finished 1-epoch run of quick_99 on the first 1,000 training images."""
    run_dir = tmp_path_factory.mktemp("runs") / "quick"
    q: queue.Queue = queue.Queue()
    train_model(QUICK_SHORT.to_dict(), run_dir, q, threading.Event(), train_limit=IMAGES,
                seed=42)
    messages = []
    while not q.empty():
        messages.append(q.get_nowait())
    return run_dir, messages


def test_quick_preset_trains(quick_run: tuple[Path, list[dict]]) -> None:
    _, messages = quick_run
    assert [m["type"] for m in messages][:2] == ["started", "begin"]
    assert messages[-1]["type"] == "done", messages[-1]
    assert (messages[1]["train_images"], messages[1]["batches"]) == (900, 8)
    assert 0.1 < messages[-1]["test_accuracy"] <= 1.0  # 8 steps: far from 99%, but learning


def test_the_schedule_spans_the_run(quick_run: tuple[Path, list[dict]], keras32: Any) -> None:
    run_dir, _ = quick_run
    model = keras32.saving.load_model(run_dir / "model.keras")
    optimizer = model.optimizer
    warmup, steps = schedule_steps(QUICK_SHORT.recipe, 900)
    assert (warmup, steps) == (2, 8)
    assert int(optimizer.iterations) == steps
    config = optimizer._learning_rate.get_config()  # the CosineDecay the worker built
    assert (config["warmup_steps"], config["decay_steps"]) == (warmup, steps - warmup)
    assert config["warmup_target"] == pytest.approx(QUICK_SHORT.recipe.learning_rate)
    assert config["initial_learning_rate"] == pytest.approx(
        QUICK_SHORT.recipe.learning_rate * WARMUP_START)
    assert float(optimizer.learning_rate) == pytest.approx(0.0, abs=1e-9)  # annealed to 0


def test_trained_batch_norms_in_numpy_equal_keras(quick_run: tuple[Path, list[dict]],
                                                  keras32: Any) -> None:
    run_dir, _ = quick_run
    model = keras32.saving.load_model(run_dir / "model.keras")
    weights = load_weights_npz(run_dir / "weights.npz")
    for saved, kept in zip(weights, model.get_weights(), strict=True):
        np.testing.assert_array_equal(saved, kept)
    # kernel and bias of conv 1, conv 2 and dense 1, then the batch norm's gamma, beta, mean, var
    moving_mean, moving_variance = weights[8], weights[9]
    assert moving_mean.shape == moving_variance.shape == (128,)
    assert np.abs(moving_mean).max() > 1e-3 and np.abs(moving_variance - 1).max() > 1e-3
    _, (x_test, y_test) = load_mnist()
    digits = x_test[:16].astype(np.float32) / 255
    every_layer = keras32.Model(model.inputs, [layer.output for layer in model.layers])
    expected = [np.asarray(v) for v in every_layer([digits[..., None]])]
    outputs = forward_layers(QUICK_SHORT, weights, digits)
    for out, keras_out in zip(outputs, expected, strict=True):
        np.testing.assert_allclose(out.values, keras_out, rtol=1e-5, atol=1e-5, err_msg=out.name)
    result_accuracy = next(m for m in quick_run[1] if m["type"] == "done")["test_accuracy"]
    predicted = predict_proba(QUICK_SHORT, weights, x_test.astype(np.float32) / 255)
    accuracy = float((predicted.argmax(axis=1) == y_test).mean())
    assert accuracy == pytest.approx(result_accuracy, abs=2e-3)  # float32 ties only


def test_the_page_can_open_a_batchnorm_run(quick_run: tuple[Path, list[dict]]) -> None:
    run = load_run(quick_run[0])
    assert run.spec == QUICK_SHORT and len(run.weights) == 12
