"""The training worker: fits a model on MNIST in a spawned process and reports its progress.

``start_worker`` spawns ``train_model`` (the only code here that imports Keras) without
re-running the parent's ``__main__``; the worker writes the run directory of
nn_core.training.runs and sends messages: started, begin, batch (at most ~5 a second), epoch,
then done / cancelled / failed.

A worker never outlives the server that spawned it: it asks Linux for SIGKILL when its parent
goes (``PR_SET_PDEATHSIG``) and a daemon thread also checks once a second that its parent pid is
unchanged (the portable fallback, and a guard for the race before prctl). Linux sends the
parent-death signal when the *thread* that spawned the worker ends, so the registry spawns
workers only from its long-lived pump thread.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing.spawn
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from nn_core.cnn.specs import ModelSpec, fit_images
from nn_core.course import SEED
from nn_core.training.failures import failure
from nn_core.training.runs import (
    load_weights_npz,
    prepare_run_dir,
    read_history,
    score_predictions,
    write_json,
)

BATCH_MESSAGE_INTERVAL_S = 0.2  # at most ~5 batch messages per second
PARENT_CHECK_S = 1.0  # how often a worker checks that its server is still there
ORPHAN_EXIT_CODE = 3  # a worker whose server died exits with this (nobody is left to read it)
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
_SPAWN_LOCK = threading.Lock()


@contextlib.contextmanager
def without_main_module() -> Iterator[None]:
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
                 data_path: str | Path | None = None, initial_epoch: int = 0) -> Any:
    """Spawn and start a daemon process running ``train_model``; ``ctx`` is a spawn context.

    The worker dies with this process (see the module docstring); call it from a thread that
    lives as long as the worker should. ``initial_epoch`` > 0 resumes from that checkpoint.
    """
    process = ctx.Process(
        target=train_model, name=name, daemon=True,
        args=(spec.to_dict(), str(run_dir), messages, cancel_event, train_limit, SEED,
              None if data_path is None else str(data_path), initial_epoch, os.getpid()))
    with without_main_module():
        process.start()
    return process


def _watch_parent(parent_pid: int) -> None:
    """Daemon thread: exit at once (no cleanup, TensorFlow may be mid-step) when the parent
    pid changes, i.e. the server died and this process was handed to init or a subreaper."""
    while True:
        if os.getppid() != parent_pid:
            os._exit(ORPHAN_EXIT_CODE)
        time.sleep(PARENT_CHECK_S)


def die_with_parent(parent_pid: int, pdeathsig: bool = True) -> None:
    """Make this process end when ``parent_pid`` (the server) ends, however it ends.

    PR_SET_PDEATHSIG (Linux) has the kernel send SIGKILL when the spawning thread ends; the
    polling thread covers other systems, a parent that died before prctl ran, and the case
    where something sits between. Exits now if the parent is already gone. ``pdeathsig``
    False: the polling thread alone, for a process spawned from a thread that may end before
    the server does (a Streamlit script thread ends with its run).
    """
    if pdeathsig and sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):  # no libc/prctl: the polling thread still works
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0,
                                                    0)
    if os.getppid() != parent_pid:
        os._exit(ORPHAN_EXIT_CODE)
    threading.Thread(target=_watch_parent, args=(parent_pid,), name="watch-parent",
                     daemon=True).start()


def _error_line(exc: BaseException) -> str:
    """One readable line for the page: out-of-memory named as such, else 'Type: message'."""
    text = " ".join(str(exc).split())[:300]
    if isinstance(exc, MemoryError) or type(exc).__name__ == "ResourceExhaustedError":
        return failure("memory", detail=f"{type(exc).__name__}: {text}")
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def train_model(spec_dict: dict[str, Any], run_dir: str | Path, progress_queue: Any,
                cancel_event: Any, train_limit: int | None = None, seed: int = SEED,
                data_path: str | Path | None = None, initial_epoch: int = 0,
                parent_pid: int | None = None) -> None:
    """Process target: fit ``spec_dict`` on MNIST, reporting over ``progress_queue``.

    Validation holds out the last 10% of the first ``train_limit`` training images (all 60,000
    when None); the test set (10,000) is used only for the final evaluation. Sends batch, epoch
    and one final done / cancelled / failed message; a failure exits with code 1.

    ``initial_epoch`` = N > 0 resumes an interrupted run: the weights of
    checkpoints/epoch_N.npz and the first N epochs of history.json are kept and
    ``model.fit(..., initial_epoch=N)`` trains epochs N+1..; the optimizer's state (Adam's
    moments, momentum) is not saved in checkpoints and restarts from zero (a learning-rate
    schedule warms up again, see ``learning_rate_schedule``), and the shuffling differs from an
    uninterrupted run. ``parent_pid`` (set by ``start_worker``) makes this
    process die with the server; None when called in-process (tests).
    """
    if parent_pid is not None:
        die_with_parent(parent_pid)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    progress_queue.put({"type": "started", "pid": os.getpid()})
    try:
        _train(ModelSpec.from_dict(spec_dict), Path(run_dir), progress_queue, cancel_event,
               train_limit, seed, data_path, int(initial_epoch))
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
    n_fit = fit_images(len(x))
    if not spec.recipe.loss.startswith("sparse"):  # other losses want one-hot targets
        y = np.eye(10, dtype=np.float32)[y]
    y_test_fit = y_test if y.ndim == 1 else np.eye(10, dtype=np.float32)[y_test]
    return (x[:n_fit], y[:n_fit], x[n_fit:], y[n_fit:], x_test.astype(np.float32)[..., None] / 255,
            y_test_fit, y_test)


def _save_weights_atomically(path: Path, weights: list[np.ndarray]) -> None:
    """np.savez through a hidden temporary file: a kill mid-write never leaves half a file
    under the final name (a resume would otherwise find a truncated checkpoint)."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as f:
        np.savez(f, *weights)
    os.replace(tmp, path)


def _train(spec: ModelSpec, run_dir: Path, out: Any, cancel: Any, train_limit: int | None,
           seed: int, data_path: str | Path | None, initial_epoch: int = 0) -> None:
    """The body of ``train_model``; raises on any failure. Data first: it fails fastest."""
    started = time.perf_counter()
    if initial_epoch < 0:
        raise ValueError(f"initial_epoch must be >= 0, got {initial_epoch}")
    prepare_run_dir(run_dir, spec, keep_epochs=initial_epoch)
    earlier: dict[str, list[float]] = {}
    resume_weights = None
    if initial_epoch:
        checkpoint = run_dir / "checkpoints" / f"epoch_{initial_epoch:02d}.npz"
        resume_weights = load_weights_npz(checkpoint, spec)
        earlier = read_history(run_dir / "history.json")
    x_fit, y_fit, x_val, y_val, x_test, y_test_fit, y_test = _load_data(spec, train_limit,
                                                                        data_path)
    if cancel.is_set():
        out.put({"type": "cancelled", "epochs_run": 0})
        return
    import keras

    from nn_core.cnn.keras_model import build_keras_model

    keras.utils.set_random_seed(seed)
    n_fit, n_val = len(x_fit), len(x_val)
    # the learning-rate schedule (if the recipe has one) spans the steps this run will take
    model = build_keras_model(spec, train_images=n_fit, initial_epoch=initial_epoch)
    if resume_weights is not None:
        model.set_weights(resume_weights)
    batch_size, epochs = spec.recipe.batch_size, spec.recipe.epochs
    batches = -(-n_fit // batch_size)

    class Progress(keras.callbacks.Callback):
        """Batch/epoch messages, per-epoch checkpoints, and cancellation between batches."""

        def __init__(self) -> None:
            super().__init__()
            self.last_sent, self.epoch = 0.0, initial_epoch
            self.history = {k: list(v) for k, v in earlier.items()}

        def on_train_begin(self, logs: dict | None = None) -> None:
            out.put({"type": "begin", "epochs": epochs, "batches": batches,
                     "train_images": n_fit, "val_images": n_val,
                     "initial_epoch": initial_epoch})

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
            logs = {k: float(v) for k, v in (logs or {}).items()}
            _save_weights_atomically(run_dir / "checkpoints" / f"epoch_{epoch + 1:02d}.npz",
                                     self.model.get_weights())
            for k, v in logs.items():  # after the checkpoint: a resume needs both
                self.history.setdefault(k, []).append(v)
            write_json(run_dir / "history.json", self.history)
            out.put({"type": "epoch", "epoch": epoch + 1, "epochs": epochs, "logs": logs})

    fit_start, cpu_start = time.perf_counter(), time.process_time()
    fit = model.fit(x_fit, y_fit, validation_data=(x_val, y_val), batch_size=batch_size,
                    epochs=epochs, initial_epoch=initial_epoch, verbose=0,
                    callbacks=[Progress()])
    fit_seconds, cpu_seconds = time.perf_counter() - fit_start, time.process_time() - cpu_start
    new = {k: [float(v) for v in values] for k, values in fit.history.items()}
    history = {k: [*earlier.get(k, []), *new.get(k, [])] for k in {*earlier, *new}}
    history = dict(sorted(history.items()))
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
              "images_per_second": n_fit * len(new.get("loss", [])) / fit_seconds,
              "initial_epoch": initial_epoch,
              "total_seconds": round(time.perf_counter() - started, 3)}
    model.save(run_dir / "model.keras")
    _save_weights_atomically(run_dir / "weights.npz", model.get_weights())
    write_json(run_dir / "history.json", history)
    write_json(run_dir / "result.json", result)  # last: marks the run finished
    out.put({"type": "done", "run_dir": str(run_dir), "history": history,
             **{k: result[k] for k in ("test_accuracy", "test_loss", "epochs_run", "seconds",
                                       "images_per_second")}})
