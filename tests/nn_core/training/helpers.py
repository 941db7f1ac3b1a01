"""Shared by the training tests and tests/faults: tiny specs, polling, fabricated run folders.

Fabricated runs are written with NumPy only (weights of the right shapes, no training), so the
readers can be tested on hundreds of damaged folders in milliseconds.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from nn_core.cnn.presets import custom_spec
from nn_core.cnn.specs import ModelSpec
from nn_core.training.jobs import JobRegistry, JobStatus
from nn_core.training.runs import weight_shapes

TINY = custom_spec(conv_filters=(4,), dense_units=16, dropout_rate=0.0, epochs=2, batch_size=32)
DEADLINE_S = 120.0


def slow_spec(epochs: int = 30) -> ModelSpec:
    """A tiny CNN that trains long enough (many epochs) to be caught mid-training."""
    return custom_spec(conv_filters=(4,), dense_units=16, dropout_rate=0.0, epochs=epochs,
                       batch_size=32)


def wait_for(registry: JobRegistry, job_id: str, ok: Callable[[JobStatus], bool],
             deadline_s: float = DEADLINE_S) -> JobStatus:
    """Poll until ``ok(status)``; fail with the last status after the deadline."""
    deadline = time.monotonic() + deadline_s
    while True:
        status = registry.status(job_id)
        if ok(status):
            return status
        assert time.monotonic() < deadline, f"gave up waiting: {status}"
        time.sleep(0.05)


def finished(status: JobStatus) -> bool:
    """The job reached a final state."""
    return status.state not in ("queued", "running")


def pid_gone(pid: int) -> bool:
    """True when the process no longer runs (absent, or a zombie nobody has reaped yet)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return True
    return state in ("Z", "X")


def wait_pid_gone(pid: int, within_s: float) -> bool:
    """Poll ``pid_gone`` for up to ``within_s`` seconds."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if pid_gone(pid):
            return True
        time.sleep(0.1)
    return pid_gone(pid)


def fake_run(run_dir: Path, spec: ModelSpec = TINY, accuracy: float = 0.5,
             mtime: float | None = None, epochs: int = 2) -> Path:
    """A finished run folder as the worker writes it, weights random with the spec's shapes
    (arrays in ``model.get_weights()`` order), without training; ``mtime`` dates result.json."""
    rng = np.random.default_rng(0)
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "checkpoints").mkdir(exist_ok=True)
    weights = [rng.normal(size=shape).astype(np.float32) for shape in weight_shapes(spec)]
    np.savez(run_dir / "weights.npz", *weights)
    for epoch in range(1, epochs + 1):
        np.savez(run_dir / "checkpoints" / f"epoch_{epoch:02d}.npz", *weights)
    (run_dir / "spec.json").write_text(json.dumps(spec.to_dict()))
    history = {"loss": [1.0, 0.5][:epochs] + [0.4] * max(0, epochs - 2)}
    history["accuracy"] = [0.5] * epochs
    (run_dir / "history.json").write_text(json.dumps(history))
    result = {"test_accuracy": accuracy, "confusion": np.eye(10, dtype=int).tolist(),
              "mistakes": [3], "mistakes_predicted": [5], "mistakes_total": 1,
              "train_images": 270, "epochs_run": epochs, "train_limit": 300}
    (run_dir / "result.json").write_text(json.dumps(result))
    if mtime is not None:
        os.utime(run_dir / "result.json", (mtime, mtime))
    return run_dir
