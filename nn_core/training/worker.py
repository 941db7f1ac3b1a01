"""The training worker: fits a model on MNIST in a spawned process and reports its progress.

``start_worker`` spawns ``train_model`` (the only code here that imports Keras) without
re-running the parent's ``__main__``; the worker writes the run directory of
nn_core.training.runs and sends messages: started, begin, batch (at most ~5 a second), epoch,
then done / cancelled / failed.
"""

from __future__ import annotations

import contextlib
import multiprocessing.spawn
import os
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from nn_core.cnn.specs import ModelSpec
from nn_core.course import SEED
from nn_core.training.runs import prepare_run_dir, score_predictions, write_json

VALIDATION_FRACTION = 0.1  # the last 10% of the (possibly limited) training images
BATCH_MESSAGE_INTERVAL_S = 0.2  # at most ~5 batch messages per second
_SPAWN_LOCK = threading.Lock()


@contextlib.contextmanager
def _without_main_module() -> Iterator[None]:
    """Spawn children without re-running ``__main__`` (under Streamlit that is the page script)."""
    original = multiprocessing.spawn.get_preparation_data

    def preparation_data(name: str) -> dict[str, Any]:
        data = original(name)
        data.pop("init_main_from_path", None)
        data.pop("init_main_from_name", None)
        return data

    with _SPAWN_LOCK:
        multiprocessing.spawn.get_preparation_data = preparation_data
        try:
            yield
        finally:
            multiprocessing.spawn.get_preparation_data = original


def start_worker(ctx: Any, name: str, spec: ModelSpec, run_dir: Path, messages: Any,
                 cancel_event: Any, train_limit: int | None,
                 data_path: str | Path | None = None) -> Any:
    """Spawn and start a daemon process running ``train_model``; ``ctx`` is a spawn context."""
    process = ctx.Process(
        target=train_model, name=name, daemon=True,
        args=(spec.to_dict(), str(run_dir), messages, cancel_event, train_limit, SEED,
              None if data_path is None else str(data_path)))
    with _without_main_module():
        process.start()
    return process


def _error_line(exc: BaseException) -> str:
    """One readable line for the page: out-of-memory named as such, else 'Type: message'."""
    text = " ".join(str(exc).split())[:300]
    if isinstance(exc, MemoryError) or type(exc).__name__ == "ResourceExhaustedError":
        return f"out of memory while training ({type(exc).__name__}: {text})"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def train_model(spec_dict: dict[str, Any], run_dir: str | Path, progress_queue: Any,
                cancel_event: Any, train_limit: int | None = None, seed: int = SEED,
                data_path: str | Path | None = None) -> None:
    """Process target: fit ``spec_dict`` on MNIST, reporting over ``progress_queue``.

    Validation holds out the last 10% of the first ``train_limit`` training images (all 60,000
    when None); the test set (10,000) is used only for the final evaluation. Sends batch, epoch
    and one final done / cancelled / failed message; a failure exits with code 1.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    progress_queue.put({"type": "started", "pid": os.getpid()})
    try:
        _train(ModelSpec.from_dict(spec_dict), Path(run_dir), progress_queue, cancel_event,
               train_limit, seed, data_path)
    except BaseException as exc:  # every failure must reach the page as one line
        traceback.print_exc(file=sys.stderr)  # the full story for the server's log
        progress_queue.put({"type": "failed", "error": _error_line(exc)})
        raise SystemExit(1) from exc


def _load_data(spec: ModelSpec, train_limit: int | None, data_path: str | Path | None) -> tuple:
    """(x_fit, y_fit, x_val, y_val, x_test, y_test_fit, y_test): images (N, 28, 28, 1) in [0, 1]."""
    from nn_core.cnn.digits import MNIST_ASSET, MnistUnavailable, load_mnist

    try:
        (x_train, y_train), (x_test, y_test) = load_mnist(*([data_path] if data_path else []))
    except MnistUnavailable:
        raise
    except Exception as exc:  # a damaged file: say which one
        raise MnistUnavailable(f"MNIST could not be read from {data_path or MNIST_ASSET} "
                               f"({type(exc).__name__}: {exc})") from exc
    x = x_train[:train_limit].astype(np.float32)[..., None] / 255
    y = y_train[:train_limit].astype(np.int64)
    n_fit = len(x) - max(1, round(len(x) * VALIDATION_FRACTION))
    if n_fit < 1:
        raise ValueError(f"train_limit={train_limit} leaves no training images")
    if not spec.recipe.loss.startswith("sparse"):  # other losses want one-hot targets
        y = np.eye(10, dtype=np.float32)[y]
    y_test_fit = y_test if y.ndim == 1 else np.eye(10, dtype=np.float32)[y_test]
    return (x[:n_fit], y[:n_fit], x[n_fit:], y[n_fit:], x_test.astype(np.float32)[..., None] / 255,
            y_test_fit, y_test)


def _train(spec: ModelSpec, run_dir: Path, out: Any, cancel: Any, train_limit: int | None,
           seed: int, data_path: str | Path | None) -> None:
    """The body of ``train_model``; raises on any failure. Data first: it fails fastest."""
    started = time.perf_counter()
    prepare_run_dir(run_dir, spec)
    x_fit, y_fit, x_val, y_val, x_test, y_test_fit, y_test = _load_data(spec, train_limit,
                                                                        data_path)
    if cancel.is_set():
        out.put({"type": "cancelled", "epochs_run": 0})
        return
    import keras

    from nn_core.cnn.keras_model import build_keras_model

    keras.utils.set_random_seed(seed)
    model = build_keras_model(spec)
    batch_size, epochs = spec.recipe.batch_size, spec.recipe.epochs
    n_fit, n_val = len(x_fit), len(x_val)
    batches = -(-n_fit // batch_size)

    class Progress(keras.callbacks.Callback):
        """Batch/epoch messages, per-epoch checkpoints, and cancellation between batches."""

        def __init__(self) -> None:
            super().__init__()
            self.last_sent, self.epoch = 0.0, 0

        def on_train_begin(self, logs: dict | None = None) -> None:
            out.put({"type": "begin", "epochs": epochs, "batches": batches,
                     "train_images": n_fit, "val_images": n_val})

        def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
            self.epoch = epoch + 1

        def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
            if cancel.is_set():
                self.model.stop_training = True
            now = time.monotonic()
            if now - self.last_sent >= BATCH_MESSAGE_INTERVAL_S:
                self.last_sent = now
                logs = logs or {}
                out.put({"type": "batch", "epoch": self.epoch, "epochs": epochs,
                         "batch": batch + 1, "batches": batches, "loss": float(logs["loss"]),
                         "accuracy": float(logs.get("accuracy", float("nan")))})

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            np.savez(run_dir / "checkpoints" / f"epoch_{epoch + 1:02d}.npz",
                     *self.model.get_weights())
            out.put({"type": "epoch", "epoch": epoch + 1, "epochs": epochs,
                     "logs": {k: float(v) for k, v in (logs or {}).items()}})

    fit_start, cpu_start = time.perf_counter(), time.process_time()
    fit = model.fit(x_fit, y_fit, validation_data=(x_val, y_val),
                    batch_size=batch_size, epochs=epochs, verbose=0, callbacks=[Progress()])
    fit_seconds, cpu_seconds = time.perf_counter() - fit_start, time.process_time() - cpu_start
    history = {k: [float(v) for v in values] for k, values in fit.history.items()}
    epochs_run = len(history.get("loss", []))
    if cancel.is_set():
        out.put({"type": "cancelled", "epochs_run": epochs_run})
        return
    test_loss = float(model.evaluate(x_test, y_test_fit, batch_size=1000, verbose=0)[0])
    result = {**score_predictions(model.predict(x_test, batch_size=1000, verbose=0), y_test),
              "test_loss": test_loss, "train_limit": train_limit, "train_images": n_fit,
              "val_images": n_val, "validation": "last 10% of the training images",
              "epochs": epochs, "epochs_run": epochs_run, "batch_size": batch_size, "seed": seed,
              "seconds": round(fit_seconds, 3), "cpu_seconds": round(cpu_seconds, 3),
              "images_per_second": n_fit * epochs_run / fit_seconds,
              "total_seconds": round(time.perf_counter() - started, 3)}
    model.save(run_dir / "model.keras")
    np.savez(run_dir / "weights.npz", *model.get_weights())
    write_json(run_dir / "history.json", history)
    write_json(run_dir / "result.json", result)  # last: marks the run finished
    out.put({"type": "done", "run_dir": str(run_dir), "history": history,
             **{k: result[k] for k in ("test_accuracy", "test_loss", "epochs_run", "seconds",
                                       "images_per_second")}})
