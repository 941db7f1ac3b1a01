"""The training worker, called in this process (no spawn), and the readers of run folders."""

from __future__ import annotations

import json
import queue
import threading
from pathlib import Path

import numpy as np
import pytest

from nn_core.cnn.digits import MNIST_ASSET, load_mnist
from nn_core.cnn.numpy_forward import predict_proba
from nn_core.cnn.presets import custom_spec
from nn_core.cnn.specs import with_recipe
from nn_core.training import worker
from nn_core.training.runs import (
    DEFAULT_MODEL_DIR,
    list_runs,
    load_run,
    load_weights_npz,
    prepare_run_dir,
    resume_point,
    score_predictions,
)
from nn_core.training.worker import train_model
from tests.nn_core.training.helpers import fake_run

TINY = custom_spec(conv_filters=(4,), dense_units=16, dropout_rate=0.0, epochs=2, batch_size=32)


class CancelAfterFirstBatch(queue.Queue):
    """A progress queue that presses Cancel as soon as the first batch message arrives."""

    def __init__(self, event: threading.Event) -> None:
        super().__init__()
        self.event = event

    def put(self, item: dict, block: bool = True, timeout: float | None = None) -> None:
        super().put(item, block, timeout)
        if item["type"] == "batch":
            self.event.set()


def drain(q: queue.Queue) -> list[dict]:
    """Every message the worker sent, in order."""
    out = []
    while not q.empty():
        out.append(q.get_nowait())
    return out


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict]]:
    """One finished 2-epoch run of the tiny CNN on 300 images."""
    run_dir = tmp_path_factory.mktemp("runs") / "tiny"
    q: queue.Queue = queue.Queue()
    train_model(TINY.to_dict(), run_dir, q, threading.Event(), train_limit=300, seed=42)
    return run_dir, drain(q)


def test_worker_reports_progress_in_order(tiny_run: tuple[Path, list[dict]]) -> None:
    _, messages = tiny_run
    kinds = [m["type"] for m in messages]
    assert kinds[:2] == ["started", "begin"] and kinds[-1] == "done"
    begin = messages[1]
    assert (begin["train_images"], begin["val_images"], begin["batches"]) == (270, 30, 9)
    batches = [m for m in messages if m["type"] == "batch"]
    assert batches and all(1 <= m["batch"] <= 9 and m["epochs"] == 2 for m in batches)
    assert all(np.isfinite(m["loss"]) and 0 <= m["accuracy"] <= 1 for m in batches)
    epochs = [m for m in messages if m["type"] == "epoch"]
    assert [m["epoch"] for m in epochs] == [1, 2]
    assert set(epochs[0]["logs"]) == {"loss", "accuracy", "val_loss", "val_accuracy"}


def test_run_dir_is_loadable_and_numpy_matches_its_accuracy(
        tiny_run: tuple[Path, list[dict]]) -> None:
    run_dir, messages = tiny_run
    for name in ("spec.json", "model.keras", "weights.npz", "history.json", "result.json"):
        assert (run_dir / name).exists(), name
    run = load_run(run_dir)
    assert run.spec == TINY and run.run_dir == run_dir
    assert [len(v) for v in run.history.values()] == [2, 2, 2, 2]
    assert [p.name for p in run.checkpoints] == ["epoch_01.npz", "epoch_02.npz"]
    for saved, final in zip(load_weights_npz(run.checkpoints[-1]), run.weights, strict=True):
        np.testing.assert_array_equal(saved, final)
    result = run.result
    assert (result["train_limit"], result["train_images"], result["epochs_run"]) == (300, 270, 2)
    assert result["images_per_second"] > 0
    assert messages[-1]["test_accuracy"] == result["test_accuracy"]
    confusion = np.array(result["confusion"])
    assert confusion.shape == (10, 10) and confusion.sum() == 10_000
    assert np.trace(confusion) / 10_000 == pytest.approx(result["test_accuracy"])
    assert len(result["mistakes"]) == len(result["mistakes_predicted"]) == min(
        200, result["mistakes_total"])
    (_, _), (x_test, y_test) = load_mnist()
    probs = predict_proba(run.spec, run.weights, x_test / 255.0)
    accuracy = float((probs.argmax(axis=1) == y_test).mean())
    assert accuracy == pytest.approx(result["test_accuracy"], abs=2e-3)  # float32 ties only
    assert accuracy > 0.2  # better than chance (0.1) after 540 images
    i = result["mistakes"][0]
    assert probs[i].argmax() == result["mistakes_predicted"][0] != y_test[i]
    assert list_runs(run_dir.parent) == [run_dir]


def test_numpy_forward_equals_the_saved_keras_model(tiny_run: tuple[Path, list[dict]]) -> None:
    import keras

    run_dir, _ = tiny_run
    run = load_run(run_dir)
    (_, _), (x_test, _) = load_mnist()
    x = x_test[:64].astype(np.float32) / 255
    expected = keras.saving.load_model(run_dir / "model.keras").predict(x[..., None], verbose=0)
    np.testing.assert_allclose(predict_proba(run.spec, run.weights, x), expected, atol=1e-5)


def test_cancel_stops_between_batches_and_keeps_checkpoints(tmp_path: Path) -> None:
    event = threading.Event()
    q = CancelAfterFirstBatch(event)
    train_model(with_recipe(TINY, epochs=5).to_dict(), tmp_path, q, event, train_limit=300)
    messages = drain(q)
    assert messages[-1] == {"type": "cancelled", "epochs_run": 1}
    assert [m["epoch"] for m in messages if m["type"] == "epoch"] == [1]
    assert [p.name for p in (tmp_path / "checkpoints").iterdir()] == ["epoch_01.npz"]
    assert not (tmp_path / "result.json").exists() and not (tmp_path / "model.keras").exists()
    assert list_runs(tmp_path.parent) == []


def test_cancel_before_training_sends_cancelled(tmp_path: Path) -> None:
    event = threading.Event()
    event.set()
    q: queue.Queue = queue.Queue()
    train_model(TINY.to_dict(), tmp_path, q, event, train_limit=300)
    assert [m["type"] for m in drain(q)] == ["started", "cancelled"]
    assert json.loads((tmp_path / "spec.json").read_text()) == TINY.to_dict()


def test_bad_optimizer_fails_with_one_readable_line(tmp_path: Path) -> None:
    q: queue.Queue = queue.Queue()
    bad = with_recipe(TINY, optimizer="no_such_optimizer")
    with pytest.raises(SystemExit) as exit_info:
        train_model(bad.to_dict(), tmp_path, q, threading.Event(), train_limit=300)
    assert exit_info.value.code == 1
    last = drain(q)[-1]
    assert last["type"] == "failed" and "no_such_optimizer" in last["error"]
    assert "\n" not in last["error"] and len(last["error"]) < 400


def test_damaged_mnist_file_fails_naming_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "mnist.npz"
    broken.write_bytes(b"not a numpy file")
    q: queue.Queue = queue.Queue()
    with pytest.raises(SystemExit):
        train_model(TINY.to_dict(), tmp_path / "run", q, threading.Event(), 300, 42, broken)
    last = drain(q)[-1]
    assert last["type"] == "failed"
    assert last["error"].startswith("MnistUnavailable: MNIST could not be read from")
    assert str(broken) in last["error"]


def test_out_of_memory_is_named() -> None:
    assert worker._error_line(MemoryError()).startswith("out of memory while training")
    assert worker._error_line(ValueError("bad\n  value")) == "ValueError: bad value"


def test_score_predictions_counts_confusion_and_mistakes() -> None:
    probs = np.eye(10)[[1, 2, 3, 3]]
    report = score_predictions(probs, np.array([1, 2, 3, 4]))
    assert report["test_accuracy"] == 0.75 and report["mistakes"] == [3]
    assert report["mistakes_predicted"] == [3] and report["confusion"][4][3] == 1


def test_load_run_rejects_an_unfinished_dir(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"spec\.json is missing"):
        load_run(tmp_path)
    assert list_runs(tmp_path / "nowhere") == []


@pytest.mark.skipif(not (DEFAULT_MODEL_DIR / "result.json").exists(),
                    reason="the shipped default model is not trained yet")
def test_shipped_default_model_loads_with_load_run() -> None:
    run = load_run(DEFAULT_MODEL_DIR)
    (_, _), (x_test, y_test) = load_mnist(MNIST_ASSET)
    probs = predict_proba(run.spec, run.weights, x_test[:500] / 255.0)
    assert (probs.argmax(axis=1) == y_test[:500]).mean() > 0.97


def test_resume_continues_from_a_checkpoint_with_the_earlier_history(tmp_path: Path) -> None:
    spec = with_recipe(TINY, epochs=3)
    event = threading.Event()
    train_model(spec.to_dict(), tmp_path, CancelAfterFirstBatch(event), event, train_limit=300)
    assert resume_point(tmp_path, spec)[0] == 1  # epoch 1's checkpoint and history entry
    (tmp_path / "checkpoints" / "epoch_02.npz").write_bytes(b"half a file")  # killed mid-write
    epoch, earlier = resume_point(tmp_path, spec)
    assert epoch == 1 and [len(v) for v in earlier.values()] == [1, 1, 1, 1]
    start = load_weights_npz(tmp_path / "checkpoints" / "epoch_01.npz", spec)

    q: queue.Queue = queue.Queue()
    train_model(spec.to_dict(), tmp_path, q, threading.Event(), 300, 42, None, initial_epoch=1)
    messages = drain(q)
    assert messages[1]["type"] == "begin" and messages[1]["initial_epoch"] == 1
    assert [m["epoch"] for m in messages if m["type"] == "epoch"] == [2, 3]
    run = load_run(tmp_path)
    assert [len(v) for v in run.history.values()] == [3, 3, 3, 3]
    assert run.history["loss"][0] == earlier["loss"][0]
    assert (run.result["epochs_run"], run.result["initial_epoch"]) == (3, 1)
    assert [p.name for p in run.checkpoints] == ["epoch_01.npz", "epoch_02.npz", "epoch_03.npz"]
    for kept, saved in zip(start, load_weights_npz(run.checkpoints[0], spec), strict=True):
        np.testing.assert_array_equal(kept, saved)  # the resumed-from checkpoint is untouched
    assert not np.array_equal(start[0], run.weights[0])  # and training went on from it


def test_resume_point_needs_a_matching_spec_and_history(tmp_path: Path) -> None:
    run = fake_run(tmp_path / "run", epochs=3)
    assert resume_point(run, TINY)[0] == 3
    assert resume_point(run, with_recipe(TINY, epochs=5)) == (0, {})  # another network
    (run / "history.json").write_text('{"loss": [1.0, 0.5], "accuracy": [0.5, 0.6]}')
    assert resume_point(run, TINY) == (2, {"loss": [1.0, 0.5], "accuracy": [0.5, 0.6]})
    (run / "history.json").write_text("[")
    assert resume_point(run, TINY) == (0, {})
    assert resume_point(tmp_path / "nowhere", TINY) == (0, {})

    (run / "history.json").write_text('{"loss": [1.0, 0.5, 0.4]}')
    prepare_run_dir(run, TINY, keep_epochs=1)
    assert [p.name for p in (run / "checkpoints").iterdir()] == ["epoch_01.npz"]
    assert json.loads((run / "history.json").read_text()) == {"loss": [1.0]}
    assert not (run / "result.json").exists() and not (run / "weights.npz").exists()
