"""Process-wide registry of background training jobs: dedup, a FIFO queue, progress, cancel.

Each job trains in a process from ``multiprocessing.get_context("spawn")`` running
``nn_core.training.worker.train_model``, so TensorFlow never enters the web server's process.
A daemon thread drains the progress queues, starts queued jobs when a slot frees and notices
dead workers.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import queue
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from nn_core.cnn.specs import ModelSpec
from nn_core.training.runs import check_train_limit, default_runs_dir, finished_run, run_dir_name
from nn_core.training.worker import start_worker

ACTIVE_STATES = ("queued", "running")  # a job's other states (done, failed, cancelled) are final
CANCEL_GRACE_S = 5.0  # after this, a worker that ignored the cancel event is terminated
log = logging.getLogger(__name__)


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
        """The snapshot after one worker message; the registry sets the states."""
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


@dataclass
class _Job:
    """The registry's mutable record of a job (guarded by its lock); ``view`` is the snapshot."""

    view: JobStatus
    process: Any = None
    messages: Any = None
    cancel_event: Any = None
    launched: float | None = None
    fit_started: float | None = None
    finished: float | None = None
    dead_since: float | None = None
    cancel_at: float | None = None

    def set(self, **changes: Any) -> None:
        """Replace fields of the snapshot."""
        self.view = replace(self.view, **changes)


class JobRegistry:
    """Thread-safe registry of training jobs; hold one per server (``st.cache_resource``)."""

    def __init__(self, runs_dir: str | Path | None = None, max_concurrent: int | None = None,
                 data_path: str | Path | None = None, poll_s: float = 0.1) -> None:
        self.runs_dir = Path(runs_dir) if runs_dir else default_runs_dir()
        raw = max_concurrent if max_concurrent is not None else os.environ.get(
            "NN_PLAYGROUND_MAX_JOBS", "1")
        if not str(raw).strip().isdigit() or int(raw) < 1:
            raise ValueError(f"max_concurrent (NN_PLAYGROUND_MAX_JOBS) must be a whole number "
                             f">= 1, got {raw!r}")
        self.max_concurrent = int(raw)
        self.data_path = data_path  # MNIST file for the workers (None: the shipped asset)
        self._ctx = multiprocessing.get_context("spawn")
        self._lock = threading.RLock()
        self._jobs: dict[str, _Job] = {}  # in start order
        self._latest: dict[tuple[str, int | None], str] = {}  # (spec key, limit) -> job id
        self._queued: list[str] = []  # FIFO
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._pump_forever, args=(poll_s,),
                                        name="nn-playground-jobs", daemon=True)
        self._thread.start()

    def start(self, spec: ModelSpec, train_limit: int | None = None) -> str:
        """Queue a job on the first train_limit images (None: all), or share an identical one."""
        train_limit = check_train_limit(train_limit)
        key = (spec.key(), train_limit)
        with self._lock:
            known = self._latest.get(key)
            if known is not None and self._jobs[known].view.state in ("done", *ACTIVE_STATES):
                return known
            run_dir = self.runs_dir / run_dir_name(spec, train_limit)
            attempt = 1 + sum(job.view.run_dir == run_dir for job in self._jobs.values())
            job = _Job(JobStatus(f"{run_dir.name}.{attempt}", spec, train_limit, run_dir,
                                 spec.recipe.epochs))
            self._jobs[job.view.job_id] = job
            self._latest[key] = job.view.job_id
            if known is not None or not self._load_finished(job):
                self._queued.append(job.view.job_id)
                self._pump()
            return job.view.job_id

    def status(self, job_id: str) -> JobStatus:
        """Snapshot of one job; KeyError for an unknown id."""
        with self._lock:
            job, now = self._get(job_id), time.monotonic()
            v = job.view
            done, eta = (v.epoch - 1) * v.batches + v.batch, None
            if v.state == "running" and job.fit_started and done > 0:
                eta = (now - job.fit_started) * max(v.batches * v.epochs - done, 0) / done
            return replace(
                v, history={k: list(values) for k, values in v.history.items()}, eta_s=eta,
                queue_position=self._queued.index(job_id) + 1 if v.state == "queued" else None,
                elapsed_s=(job.finished or now) - job.launched if job.launched else 0.0,
                pid=job.process.pid if job.process is not None else None)

    def jobs(self) -> list[JobStatus]:
        """Every job's status, in start order."""
        with self._lock:
            return [self.status(job_id) for job_id in self._jobs]

    def cancel(self, job_id: str) -> None:
        """Cancel a queued or running job now; a running worker stops at its next batch."""
        with self._lock:
            job = self._get(job_id)
            if job.view.state == "queued":
                self._queued.remove(job_id)
            elif job.view.state == "running" and job.cancel_event is not None:
                job.cancel_event.set()
                job.cancel_at = time.monotonic()  # terminate() after CANCEL_GRACE_S
            self._finish(job, "cancelled")

    def shutdown(self, timeout: float = CANCEL_GRACE_S) -> None:
        """Stop the pump thread and every worker (tests; daemon workers also die with us)."""
        self._stop.set()
        self._thread.join()
        with self._lock:
            for job_id in self._jobs:
                self.cancel(job_id)
            deadline = time.monotonic() + timeout
            for job in self._jobs.values():
                if job.process is not None:
                    job.process.join(max(0.0, deadline - time.monotonic()))
                    if job.process.is_alive():
                        job.process.terminate()
                    self._reap(job)

    def _get(self, job_id: str) -> _Job:
        """The job record; KeyError naming the id when unknown."""
        try:
            return self._jobs[job_id]
        except KeyError:
            raise KeyError(f"unknown training job id {job_id!r}") from None

    def _finish(self, job: _Job, state: str, error: str | None = None) -> None:
        """Move a queued/running job to a final state (the first final state wins)."""
        if job.view.state in ACTIVE_STATES:
            job.set(state=state, error=error)
            job.finished = time.monotonic()

    def _load_finished(self, job: _Job) -> bool:
        """Show a run already on disk (e.g. from an earlier server) as done; False if none."""
        run = finished_run(job.view.run_dir, job.view.spec)
        if run is None:
            return False
        epochs = len(run.history.get("loss", [])) or job.view.epochs
        job.set(state="done", history=run.history, test_accuracy=run.result["test_accuracy"],
                epoch=epochs, epochs=epochs)
        return True

    def _launch(self, job: _Job) -> None:
        """Spawn the worker process of a queued job."""
        job.messages, job.cancel_event = self._ctx.Queue(), self._ctx.Event()
        v = job.view
        v.run_dir.mkdir(parents=True, exist_ok=True)
        job.set(state="running")
        job.launched = time.monotonic()
        try:
            job.process = start_worker(self._ctx, f"train-{v.job_id}", v.spec, v.run_dir,
                                       job.messages, job.cancel_event, v.train_limit,
                                       self.data_path)
        except Exception as exc:  # e.g. out of memory or of processes
            job.process = None
            self._finish(job, "failed", f"could not start the training process: {exc}")

    def _apply(self, job: _Job, msg: dict[str, Any]) -> None:
        """Update a job from one worker message."""
        if msg["type"] == "begin":
            job.fit_started = time.monotonic()
        job.view = job.view.updated(msg)
        if msg["type"] in ("done", "failed", "cancelled"):
            self._finish(job, msg["type"], msg.get("error"))

    def _reap(self, job: _Job) -> None:
        """Collect an exited worker; without a final message its job failed."""
        job.process.join()
        job.messages.close()
        self._finish(job, "failed", f"the training process exited with code "
                     f"{job.process.exitcode} without a result")
        job.process = None

    def _pump(self) -> None:
        """Drain messages, reap workers, terminate stuck cancels, start queued jobs (FIFO)."""
        now, busy = time.monotonic(), set()
        for job in self._jobs.values():
            if job.process is None:
                continue
            with contextlib.suppress(queue.Empty, EOFError, OSError):
                while True:
                    self._apply(job, job.messages.get_nowait())
            alive = job.process.is_alive()
            if not alive and (job.view.state != "running" or now - (job.dead_since or now) > 0.5):
                self._reap(job)
                continue
            busy.add(job.view.run_dir)  # alive, or dead with its last messages maybe in the pipe
            if not alive:
                job.dead_since = job.dead_since or now
            elif job.cancel_at is not None and now - job.cancel_at > CANCEL_GRACE_S:
                job.process.terminate()
        for job_id in list(self._queued):
            job = self._jobs[job_id]
            if len(busy) < self.max_concurrent and job.view.run_dir not in busy:
                self._queued.remove(job_id)
                self._launch(job)
                busy.add(job.view.run_dir)

    def _pump_forever(self, poll_s: float) -> None:
        """Daemon thread: pump until shutdown; one bad round never stops the registry."""
        while not self._stop.wait(poll_s):
            try:
                with self._lock:
                    self._pump()
            except Exception:  # logged; the next round tries again
                log.exception("training job pump failed")
