"""Training runs as plain data: the run-directory layout, its NumPy readers, and job snapshots.

A run directory (``RUNS_DIR/<run_dir_name>``, or the shipped assets/models/default/) holds
spec.json, model.keras, weights.npz (``model.get_weights()`` as arr_0..), history.json,
result.json (written last: its presence marks a finished run) and checkpoints/epoch_XX.npz.
Everything here is NumPy/JSON only; the worker that writes runs is nn_core.training.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from nn_core.models import ModelSpec, load_weights_npz


def default_runs_dir() -> Path:
    """Where runs live: env NN_PLAYGROUND_RUNS, else <repo>/runs (git-ignored)."""
    return Path(os.environ.get("NN_PLAYGROUND_RUNS") or Path(__file__).parents[1] / "runs")


RUNS_DIR = default_runs_dir()  # at import time; the registry and list_runs re-read the env
MAX_MISTAKES = 200  # misclassified test indices kept in result.json
RUN_FILES = ("result.json", "model.keras", "weights.npz", "history.json")  # removal order
ACTIVE_STATES = ("queued", "running")  # a job's other states (done, failed, cancelled) are final
MAX_TRAIN_LIMIT = 60_000
MIN_TRAIN_LIMIT = 20  # leaves 18 training and 2 validation images


@dataclass(frozen=True)
class TrainedModel:
    """A finished run as NumPy/JSON: weights in ``model.get_weights()`` order, history, result."""

    spec: ModelSpec
    weights: list[np.ndarray]
    history: dict[str, list[float]]
    result: dict[str, Any]
    checkpoints: list[Path]
    run_dir: Path


@dataclass(frozen=True)
class JobStatus:
    """A snapshot of one job for the page; ``history`` holds per-epoch lists (loss, val_loss..)."""

    job_id: str
    spec: ModelSpec
    train_limit: int | None
    run_dir: Path
    epochs: int
    state: str = "queued"  # queued | running | done | failed | cancelled
    queue_position: int | None = None  # 1-based while queued
    epoch: int = 0  # the epoch in progress (1-based), or the last one finished
    batch: int = 0  # batches finished in ``epoch``
    batches: int = 0  # batches per epoch (0 until the worker has loaded TensorFlow and data)
    history: dict[str, list[float]] = field(default_factory=dict)
    loss: float | None = None  # running mean over the current epoch, as Keras's progress bar
    accuracy: float | None = None
    elapsed_s: float = 0.0  # since the worker started
    eta_s: float | None = None  # from the measured batch rate
    error: str | None = None
    test_accuracy: float | None = None
    pid: int | None = None  # the worker process, while it has one

    @property
    def name(self) -> str:
        """The spec's short name, e.g. 'cnn_34826' or 'custom'."""
        return self.spec.name

    @property
    def title(self) -> str:
        """The spec's readable title."""
        return self.spec.title

    @property
    def progress(self) -> float:
        """Fraction of all batches of all epochs done, in [0, 1]."""
        if self.state == "done":
            return 1.0
        if not self.batches:
            return 0.0
        done = (self.epoch - 1) * self.batches + self.batch
        return min(1.0, done / (self.epochs * self.batches))

    def updated(self, msg: dict[str, Any]) -> JobStatus:
        """The snapshot after one worker message (nn_core.training); the registry sets states."""
        kind = msg["type"]
        if kind == "begin":
            return replace(self, batches=msg["batches"], epoch=1)
        if kind == "batch":
            return replace(self, epoch=msg["epoch"], batch=msg["batch"], loss=msg["loss"],
                           accuracy=msg["accuracy"])
        if kind == "epoch":
            history = {k: [*self.history.get(k, []), v] for k, v in msg["logs"].items()}
            return replace(self, epoch=msg["epoch"], batch=self.batches, history=history)
        if kind == "done":
            return replace(self, test_accuracy=msg["test_accuracy"])
        return self


def check_train_limit(train_limit: int | None) -> int | None:
    """A run's limit on training images: None (all) or 20..59,999; ValueError otherwise."""
    if train_limit is None:
        return None
    if not hasattr(train_limit, "__index__") or not (
            MIN_TRAIN_LIMIT <= train_limit <= MAX_TRAIN_LIMIT):
        raise ValueError(f"train_limit must be None or a whole number between "
                         f"{MIN_TRAIN_LIMIT} and {MAX_TRAIN_LIMIT}, got {train_limit!r}")
    return None if train_limit == MAX_TRAIN_LIMIT else int(train_limit)  # 60,000 is all


def run_dir_name(spec: ModelSpec, train_limit: int | None) -> str:
    """Directory of a spec + limit under the runs dir, e.g. 'cnn_34826-1a2b3c4d-all'."""
    return f"{spec.name}-{spec.key()[:8]}-{train_limit or 'all'}"


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically (readers never see half a file)."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1) + "\n")
    os.replace(tmp, path)


def _read_json(path: Path, default: Any = None) -> Any:
    """JSON file contents, or ``default`` when the file is missing."""
    return json.loads(path.read_text()) if path.exists() else default


def prepare_run_dir(run_dir: Path, spec: ModelSpec) -> None:
    """Empty a previous attempt's files and write spec.json first."""
    shutil.rmtree(run_dir / "checkpoints", ignore_errors=True)
    for name in RUN_FILES:
        (run_dir / name).unlink(missing_ok=True)
    (run_dir / "checkpoints").mkdir(parents=True, exist_ok=True)
    write_json(run_dir / "spec.json", spec.to_dict())


def load_run(run_dir: str | Path) -> TrainedModel:
    """Read a finished run directory (or assets/models/default/) without TensorFlow."""
    run_dir = Path(run_dir)
    for name in ("spec.json", "weights.npz"):
        if not (run_dir / name).exists():
            raise ValueError(f"{run_dir} is not a finished training run: {name} is missing")
    return TrainedModel(spec=ModelSpec.from_dict(_read_json(run_dir / "spec.json")),
                        weights=load_weights_npz(run_dir / "weights.npz"),
                        history=_read_json(run_dir / "history.json", {}),
                        result=_read_json(run_dir / "result.json", {}),
                        checkpoints=sorted((run_dir / "checkpoints").glob("epoch_*.npz")),
                        run_dir=run_dir)


def finished_run(run_dir: Path, spec: ModelSpec) -> TrainedModel | None:
    """The run of ``spec`` in ``run_dir`` if it finished (has a test accuracy), else None."""
    try:
        run = load_run(run_dir)
    except (OSError, ValueError):
        return None
    if "test_accuracy" not in run.result or run.spec.key() != spec.key():
        return None
    return run


def load_checkpoint(path: str | Path) -> list[np.ndarray]:
    """Weights saved after one epoch (checkpoints/epoch_XX.npz), in get_weights() order."""
    return load_weights_npz(path)


def list_runs(runs_dir: str | Path | None = None) -> list[Path]:
    """Finished run directories under ``runs_dir`` (result.json present), oldest first."""
    runs_dir = Path(runs_dir) if runs_dir else default_runs_dir()
    if not runs_dir.is_dir():
        return []
    done = [p.parent for p in runs_dir.glob("*/result.json") if (p.parent / "weights.npz").exists()]
    return sorted(done, key=lambda d: (d / "result.json").stat().st_mtime)


def score_predictions(probs: np.ndarray, labels: np.ndarray) -> dict[str, Any]:
    """Accuracy, 10x10 confusion (rows true, columns predicted) and mistakes from probs (N, 10)."""
    predicted = np.asarray(probs).argmax(axis=1)
    labels = np.asarray(labels).astype(int)
    confusion = np.zeros((10, 10), int)
    np.add.at(confusion, (labels, predicted), 1)
    wrong = np.nonzero(predicted != labels)[0]
    return {"test_accuracy": float((predicted == labels).mean()), "confusion": confusion.tolist(),
            "mistakes": wrong[:MAX_MISTAKES].tolist(),
            "mistakes_predicted": predicted[wrong[:MAX_MISTAKES]].tolist(),
            "mistakes_total": int(wrong.size)}
