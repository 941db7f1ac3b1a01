"""Process-wide registry of background training jobs: sharing, a bounded FIFO queue, limits,
progress, cancel, a journal that survives restarts, and disk retention.

Each job trains in a process from ``multiprocessing.get_context("spawn")`` running
``nn_core.training.worker.train_model``, so TensorFlow never enters the web server's process.
A daemon "pump" thread drains the progress queues, starts queued jobs when a slot frees, stops
workers past the wall-clock limit and notices dead workers. Workers are spawned only from that
thread: a worker asks Linux to kill it when the thread that spawned it ends (PR_SET_PDEATHSIG),
and the pump thread lives exactly as long as the registry.

Sessions and sharing. ``start(spec, limit, owner="<session id>")``: identical settings share one
job, which counts the sessions (owners) waiting for it. A session has one active job: starting
other settings detaches it from its previous job, and ``cancel(job_id, owner)`` detaches it too;
a job stops only when no owner waits for it any more. A job started with ``owner=None`` (tests,
benchmarks, scripts) is pinned: it runs until it ends or ``cancel(job_id)`` without an owner,
which stops a job for everyone.

Limits (module defaults below; an environment variable read when a registry is created
overrides each, and a constructor argument overrides both): ``NN_PLAYGROUND_MAX_QUEUE``
waiting jobs (``RegistryBusy`` beyond), ``NN_PLAYGROUND_JOB_TIMEOUT_S`` seconds per job (the
worker is terminated and the job failed), ``NN_PLAYGROUND_MAX_PARAMS`` parameters per network
(``NetworkTooLarge``) and an ``estimate_seconds`` above the time limit (``TrainingTooLong``);
``NN_PLAYGROUND_MAX_RUNS`` finished runs kept on disk, the oldest deleted after each job.

Journal. ``<runs_dir>/jobs.json`` lists the queued, running and interrupted jobs (spec, limit,
state, owners, last finished epoch), rewritten atomically on every state change and every
finished epoch, and removed when no job is left in those states. A registry created on the
same folder after a restart shows the jobs that were queued or running as "interrupted";
``resume(job_id)`` (or starting the same settings again) continues from the last epoch
checkpoint.
"""

from __future__ import annotations

import contextlib
import logging
import math
import multiprocessing
import os
import queue
import threading
import time
from dataclasses import dataclass, field, replace
from multiprocessing.connection import wait as wait_for_exit
from pathlib import Path
from typing import Any

from nn_core.cnn.specs import (
    INPUT_SHAPE,
    MNIST_TRAIN_IMAGES,
    ModelSpec,
    count_params,
    fit_images,
    layer_shapes,
)
from nn_core.training.failures import failure
from nn_core.training.runs import (
    check_train_limit,
    default_runs_dir,
    finished_run,
    prune_runs,
    read_json,
    resume_point,
    run_dir_name,
    write_json,
)
from nn_core.training.worker import start_worker

ACTIVE_STATES = ("queued", "running")
FINAL_STATES = ("done", "failed", "cancelled", "interrupted")  # interrupted: can be resumed
CANCEL_GRACE_S = 5.0  # after this, a worker that ignored the cancel event is terminated
KILL_GRACE_S = 5.0  # after this, a worker that ignored SIGTERM is killed

MAX_QUEUE = 8  # env NN_PLAYGROUND_MAX_QUEUE: jobs waiting for a slot (running ones not counted)
JOB_TIMEOUT_S = 1200.0  # env NN_PLAYGROUND_JOB_TIMEOUT_S: wall seconds per job, start-up incl.
MAX_PARAMS = 1_500_000  # env NN_PLAYGROUND_MAX_PARAMS: the biggest preset (mnist_cnn) has 1,199,882
MAX_RUNS = 30  # env NN_PLAYGROUND_MAX_RUNS: finished runs kept in the runs folder
PROTECT_TTL_S = 3600.0  # a run passed to ``protect`` is kept this long after the last call
JOURNAL_NAME = "jobs.json"
# The pump thread's wait while no worker is alive and nothing waits to start: start() and
# resume() wake it at once, so this is only a safety net. Polling every 0.1 s with no job at all
# cost a hosted server ~1.4 ms of CPU a second, idle or not (benchmarks/loadtest.py, /digits).
IDLE_WAIT_S = 5.0

# estimate_seconds's model, measured on the 2-core CI machine (shared, 2026-11) with the worker:
# fit seconds of 1-2 epochs of mnist_cnn (10,000 images), cnn_34826 (60,000), cnn_104202,
# dense_800_400 and a tiny CNN at batch sizes 8 and 32.
STARTUP_S = 5.0  # Python + TensorFlow import, MNIST load, model build and the first-step trace
MACS_PER_SECOND = 27e9  # mnist_cnn 28.6e9, cnn_34826 26.5e9, cnn_104202 25e9, dense 55e9
SECONDS_PER_BATCH = 0.002  # Keras's fixed cost per step (tiny CNN: 2.1 ms at batch size 8)
TRAIN_PASSES = 3  # a training step costs about three forward passes (forward, two backward)
TEST_IMAGES = 10_000  # evaluated twice at the end (evaluate and predict)
log = logging.getLogger(__name__)


class TrainingRefused(ValueError):  # noqa: N818 (reads as the page says it)
    """The registry will not take this job; the message is written for the student."""


class RegistryBusy(TrainingRefused):
    """The queue is full: ``waiting`` jobs wait for a slot already."""

    def __init__(self, waiting: int) -> None:
        self.waiting = waiting
        trainings = "training is" if waiting == 1 else "trainings are"
        super().__init__(f"The server is busy: {waiting} {trainings} waiting. "
                         "Try again in a few minutes.")

    def __reduce__(self) -> tuple:
        """Pickle by the constructor's argument (a Ray registry sends it to another process)."""
        return type(self), (self.waiting,)


class NetworkTooLarge(TrainingRefused):
    """The network has more parameters than the server's limit."""

    def __init__(self, params: int, limit: int) -> None:
        self.params, self.limit = params, limit
        super().__init__(f"This network has {params:,} parameters; this server trains networks "
                         f"of up to {limit:,} parameters. Use fewer filters or dense neurons.")

    def __reduce__(self) -> tuple:
        """Pickle by the constructor's arguments."""
        return type(self), (self.params, self.limit)


class TrainingTooLong(TrainingRefused):
    """The estimated training time exceeds the server's wall-clock limit per job."""

    def __init__(self, estimate_s: float, limit_s: float) -> None:
        self.estimate_s, self.limit_s = estimate_s, limit_s
        super().__init__(f"This training would take about {duration_text(estimate_s)} on this "
                         f"server (estimated), more than its limit of {duration_text(limit_s)} "
                         "per training. Use fewer epochs, fewer training images or a smaller "
                         "network.")

    def __reduce__(self) -> tuple:
        """Pickle by the constructor's arguments."""
        return type(self), (self.estimate_s, self.limit_s)


def duration_text(seconds: float) -> str:
    """900 -> '15 minutes', 60 -> '1 minute', 90 -> '1.5 minutes', 3 -> '3 seconds'."""
    if seconds < 60:
        value, unit = round(seconds, 1), "second"
    else:
        value, unit = round(seconds / 60, 1), "minute"
    text = f"{value:g}"
    return f"{text} {unit}" if text == "1" else f"{text} {unit}s"


def multiply_accumulates(spec: ModelSpec) -> int:
    """Multiply-accumulates of one forward pass of one image: Ho·Wo·F·k·k·C per conv layer
    (output (Ho, Wo, F), input channels C) plus inputs·units per dense layer; pooling, dropout
    and activations are memory-bound and left out. 11,992,448 for mnist_cnn."""
    inputs = [INPUT_SHAPE, *layer_shapes(spec)]
    total = 0
    for layer, shape_in, shape_out in zip(spec.layers, inputs[:-1], inputs[1:], strict=True):
        if layer.kind == "conv":
            total += math.prod(shape_out) * layer.kernel * layer.kernel * shape_in[-1]
        elif layer.kind == "dense":
            total += shape_in[0] * layer.size
    return total


def estimate_seconds(spec: ModelSpec, train_images: int | None = None) -> float:
    """Rough wall-clock seconds of a job on ``train_images`` MNIST training images (None: all).

    ``STARTUP_S`` + MACs/image × (3 × fit images × epochs + validation images × epochs
    + 2 × 10,000 test images) ÷ ``MACS_PER_SECOND`` + batches × ``SECONDS_PER_BATCH``, where
    10% of the images validate. Measured on the 2-core CI machine (see the constants): within
    ~10% of the measured time for conv networks, about 2× too high for dense-only ones (denser
    matrix products run faster), which errs on the side of refusing; a machine busy with
    other work is slower still, and the wall-clock limit stays the backstop. mnist_cnn on all
    60,000 images for its 12 epochs: about 919 s, just over the default 15-minute limit.
    """
    n = check_train_limit(train_images) or MNIST_TRAIN_IMAGES
    n_fit, epochs = fit_images(n), spec.recipe.epochs
    n_val = n - n_fit
    images = TRAIN_PASSES * n_fit * epochs + n_val * epochs + 2 * TEST_IMAGES
    batches = math.ceil(n_fit / spec.recipe.batch_size) * epochs
    return STARTUP_S + multiply_accumulates(spec) * images / MACS_PER_SECOND + (
        batches * SECONDS_PER_BATCH)


def _setting(value: Any, env: str, default: float, name: str, whole: bool) -> int | float:
    """A limit from the argument, else the environment variable, else the default; ValueError
    naming both when it is not a number >= 1 (whole numbers where ``whole``)."""
    raw = value if value is not None else (os.environ.get(env, "").strip() or default)
    text = str(raw).strip().replace("_", "")
    try:
        if isinstance(raw, bool):
            raise ValueError
        number = int(text) if whole else float(text)
        ok = number >= 1 if whole else math.isfinite(number) and number > 0
    except ValueError:
        ok = False
    if not ok:
        wanted = "a whole number >= 1" if whole else "a number of seconds > 0"
        raise ValueError(f"{name} ({env}) must be {wanted}, got {raw!r}")
    return number


def _check_owner(owner: str | None) -> str | None:
    """An owner is None or a non-empty string (a session id)."""
    if owner is not None and (not isinstance(owner, str) or not owner):
        raise ValueError(f"owner must be None or a non-empty session id string, got {owner!r}")
    return owner


def _interrupted_text(state: str, epoch: int, epochs: int, verb: str = "restarted") -> str:
    """The message of a job the server stopped: where it was."""
    if state == "queued":
        return f"The server {verb} while this network was waiting in the queue."
    where = f"after epoch {epoch} of {epochs}" if epoch else "before its first epoch finished"
    return f"The server {verb} while this network was training ({where})."


@dataclass(frozen=True)
class JobStatus:
    """A snapshot of one job for the page; ``history`` holds per-epoch lists (loss, val_loss..)."""

    job_id: str
    spec: ModelSpec
    train_limit: int | None
    run_dir: Path
    epochs: int
    state: str = "queued"  # queued | running | done | failed | cancelled | interrupted
    queue_position: int | None = None  # 1-based while queued
    epoch: int = 0  # the epoch in progress (1-based), or the last one finished
    batch: int = 0  # batches finished in ``epoch``
    batches: int = 0  # batches per epoch (0 until the worker has loaded TensorFlow and data)
    history: dict[str, list[float]] = field(default_factory=dict)
    loss: float | None = None  # running mean over the current epoch, as Keras's progress bar
    accuracy: float | None = None
    elapsed_s: float = 0.0  # since the worker started
    eta_s: float | None = None  # from the measured batch rate
    error: str | None = None  # failed: why; interrupted: where it stopped
    test_accuracy: float | None = None
    pid: int | None = None  # the worker process, while it has one
    owners: int = 0  # sessions waiting for this job (owner=None starts are not counted)
    initial_epoch: int = 0  # epochs done before this attempt (> 0 when resumed)
    estimate_s: float | None = None  # estimate_seconds at start

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
            return min(1.0, self.epoch / self.epochs) if self.state == "interrupted" else 0.0
        done = (self.epoch - 1) * self.batches + self.batch
        return min(1.0, done / (self.epochs * self.batches))

    def updated(self, msg: dict[str, Any]) -> JobStatus:
        """The snapshot after one worker message; the registry sets the states."""
        kind = msg["type"]
        if kind == "begin":
            return replace(self, batches=msg["batches"], epoch=msg.get("initial_epoch", 0) + 1)
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
    kill_at: float | None = None
    spawn_pending: bool = False  # running, waiting for the pump thread to spawn its worker
    owners: set[str] = field(default_factory=set)
    pinned: bool = False  # started with owner=None: only cancel(job_id) stops it
    epochs_done: int = 0  # last finished epoch (journal)

    def set(self, **changes: Any) -> None:
        """Replace fields of the snapshot."""
        self.view = replace(self.view, **changes)

    @property
    def key(self) -> tuple[str, int | None]:
        """What identical requests share: (spec key, train limit)."""
        return self.view.spec.key(), self.view.train_limit


class JobRegistry:
    """Thread-safe registry of training jobs; hold one per server (``st.cache_resource``).

    Every limit is ``argument if not None, else env variable if set, else module default``.
    """

    def __init__(self, runs_dir: str | Path | None = None, max_concurrent: int | None = None,
                 data_path: str | Path | None = None, poll_s: float = 0.1, *,
                 max_queue: int | None = None, job_timeout_s: float | None = None,
                 max_params: int | None = None, max_runs: int | None = None) -> None:
        self.runs_dir = Path(runs_dir) if runs_dir else default_runs_dir()
        self.max_concurrent = _setting(max_concurrent, "NN_PLAYGROUND_MAX_JOBS", 1,
                                       "max_concurrent", whole=True)
        self.max_queue = _setting(max_queue, "NN_PLAYGROUND_MAX_QUEUE", MAX_QUEUE, "max_queue",
                                  whole=True)
        self.job_timeout_s = float(_setting(job_timeout_s, "NN_PLAYGROUND_JOB_TIMEOUT_S",
                                            JOB_TIMEOUT_S, "job_timeout_s", whole=False))
        self.max_params = _setting(max_params, "NN_PLAYGROUND_MAX_PARAMS", MAX_PARAMS,
                                   "max_params", whole=True)
        self.max_runs = _setting(max_runs, "NN_PLAYGROUND_MAX_RUNS", MAX_RUNS, "max_runs",
                                 whole=True)
        self.data_path = data_path  # MNIST file for the workers (None: the shipped asset)
        self.journal_path = self.runs_dir / JOURNAL_NAME
        self._ctx = multiprocessing.get_context("spawn")
        self._lock = threading.RLock()
        self._jobs: dict[str, _Job] = {}  # in start order
        self._latest: dict[tuple[str, int | None], str] = {}  # (spec key, limit) -> job id
        self._queued: list[str] = []  # FIFO
        self._owner_job: dict[str, str] = {}  # owner -> the job it started or joined last
        self._protected: dict[Path, float] = {}  # run folder -> last protect() (monotonic)
        self._dirty = False  # the journal needs rewriting
        self._journal_frozen = False  # after shutdown: the journal keeps what it says
        self._journal_warned = False
        self._prune_due = False
        self._closed = False
        self._restore_journal()
        self._stop, self._wake = threading.Event(), threading.Event()
        self._thread = threading.Thread(target=self._pump_forever, args=(poll_s,),
                                        name="nn-playground-jobs", daemon=True)
        self._thread.start()

    # -- public API ---------------------------------------------------------------------------
    def check_limits(self, spec: ModelSpec, train_limit: int | None = None) -> float:
        """The job's ``estimate_seconds``; NetworkTooLarge / TrainingTooLong when it is refused."""
        if not isinstance(spec, ModelSpec):
            raise ValueError(f"spec must be a ModelSpec, got {type(spec).__name__}")
        params = count_params(spec)
        if params > self.max_params:
            raise NetworkTooLarge(params, self.max_params)
        estimate = estimate_seconds(spec, train_limit)
        if estimate > self.job_timeout_s:
            raise TrainingTooLong(estimate, self.job_timeout_s)
        return estimate

    def start(self, spec: ModelSpec, train_limit: int | None = None,
              owner: str | None = None) -> str:
        """Queue a job on the first train_limit images (None: all), or share an identical one.

        Returns the job id. An identical job that is queued, running or done (its run still on
        disk) is shared; a failed or cancelled one never is (a new attempt starts); an
        interrupted one is resumed. With ``owner``, the session's previous job is detached (and
        stops if nobody else waits for it). Raises ValueError for a bad spec/limit/owner,
        NetworkTooLarge or TrainingTooLong for a refused network, RegistryBusy when
        ``max_queue`` jobs wait already.
        """
        train_limit = check_train_limit(train_limit)
        owner = _check_owner(owner)
        estimate = self.check_limits(spec, train_limit)
        with self._lock:
            if self._closed:
                raise RuntimeError("this training registry has been shut down")
            try:
                known = self._jobs.get(self._latest.get((spec.key(), train_limit), ""))
                if known is not None and self._shareable(known):
                    self._attach(known, owner)
                    return known.view.job_id
                if known is not None and known.view.state == "interrupted":
                    return self._requeue(known, owner)
                run_dir = self.runs_dir / run_dir_name(spec, train_limit)
                finished = finished_run(run_dir, spec)
                if finished is None:
                    self._check_room(owner)
                attempt = 1 + sum(job.view.run_dir == run_dir for job in self._jobs.values())
                job = _Job(JobStatus(f"{run_dir.name}.{attempt}", spec, train_limit, run_dir,
                                     spec.recipe.epochs, estimate_s=estimate))
                self._jobs[job.view.job_id] = job
                self._latest[job.key] = job.view.job_id
                self._attach(job, owner)
                if finished is not None:
                    epochs = len(finished.history.get("loss", [])) or job.view.epochs
                    job.set(state="done", history=finished.history, epoch=epochs, epochs=epochs,
                            test_accuracy=finished.result["test_accuracy"])
                else:
                    self._queued.append(job.view.job_id)
                    self._schedule()
                self._dirty = True
                return job.view.job_id
            finally:
                self._save_journal()
                self._wake.set()  # the pump may be waiting IDLE_WAIT_S

    def resume(self, job_id: str, owner: str | None = None) -> str:
        """Continue an interrupted job from its last epoch checkpoint; returns the job id.

        The same job goes back to "queued" (history and epoch kept; from scratch when no
        readable checkpoint is left). If identical settings are already queued, running or done
        in another job, that job's id is returned instead (shared). ValueError when the job is
        not interrupted; RegistryBusy when the queue is full; KeyError for an unknown id.
        """
        owner = _check_owner(owner)
        with self._lock:
            job = self._get(job_id)
            if job.view.state != "interrupted":
                raise ValueError(f"only an interrupted training job can be resumed; {job_id} is "
                                 f"{job.view.state}")
            self.check_limits(job.view.spec, job.view.train_limit)
            try:
                other = self._jobs.get(self._latest.get(job.key, ""))
                if other is not None and other is not job and self._shareable(other):
                    self._attach(other, owner)
                    return other.view.job_id
                return self._requeue(job, owner)
            finally:
                self._save_journal()
                self._wake.set()

    def status(self, job_id: str) -> JobStatus:
        """Snapshot of one job; KeyError for an unknown id. Never raises for another job's state."""
        with self._lock:
            job, now = self._get(job_id), time.monotonic()
            v = job.view
            done, eta = (v.epoch - 1) * v.batches + v.batch, None
            fresh = done - job.view.initial_epoch * v.batches  # batches of this attempt
            if v.state == "running" and job.fit_started and fresh > 0:
                eta = (now - job.fit_started) * max(v.batches * v.epochs - done, 0) / fresh
            position = (self._queued.index(job_id) + 1
                        if v.state == "queued" and job_id in self._queued else None)
            return replace(
                v, history={k: list(values) for k, values in v.history.items()}, eta_s=eta,
                queue_position=position, owners=len(job.owners),
                elapsed_s=(job.finished or now) - job.launched if job.launched else 0.0,
                pid=job.process.pid if job.process is not None else None)

    def jobs(self) -> list[JobStatus]:
        """Every job's status, in start order."""
        with self._lock:
            return [self.status(job_id) for job_id in self._jobs]

    def owner_job(self, owner: str) -> str | None:
        """The id of the job ``owner`` started, joined or resumed last (whatever its state now),
        or None when it has none or left it with ``cancel(job_id, owner)``."""
        with self._lock:
            return self._owner_job.get(_check_owner(owner) or "")

    def cancel(self, job_id: str, owner: str | None = None) -> bool:
        """Stop waiting for a job; True when this call cancelled it, False when it goes on
        (other sessions wait for it) or had ended already.

        ``owner`` None stops a queued or running job for everyone (a running worker stops at
        its next batch). With an owner, only that session leaves: the job stops when no other
        session waits for it and nobody started it with owner=None. An interrupted job is
        dismissed (cancelled) by any caller. KeyError for an unknown id.
        """
        owner = _check_owner(owner)
        with self._lock:
            job = self._get(job_id)
            before = job.view.state
            if before == "interrupted":  # nobody runs it: dismiss it (the journal drops it)
                job.set(state="cancelled")
                self._dirty = True
            elif owner is None:
                self._stop_job(job)
            elif owner in job.owners:
                self._detach(job, owner)
            self._save_journal()
            return before != job.view.state == "cancelled"

    def protect(self, run_dir: str | Path) -> None:
        """Keep ``run_dir`` from being deleted by retention for ``PROTECT_TTL_S`` from now.

        The page calls this for the run a student is viewing, on every rerun."""
        with self._lock:
            self._protected[Path(run_dir).resolve()] = time.monotonic()

    def prune_runs(self) -> list[Path]:
        """Delete the oldest finished runs beyond ``max_runs`` (after every finished job too),
        sparing protected runs and those of queued, running and interrupted jobs."""
        with self._lock:
            now = time.monotonic()
            self._protected = {p: t for p, t in self._protected.items()
                               if now - t < PROTECT_TTL_S}
            keep = {*self._protected, *(job.view.run_dir for job in self._jobs.values()
                                        if job.view.state in (*ACTIVE_STATES, "interrupted")
                                        or job.process is not None)}
            deleted = prune_runs(self.runs_dir, self.max_runs, keep)
        for run in deleted:
            log.info("deleted the old training run %s (more than %d runs)", run, self.max_runs)
        return deleted

    def shutdown(self, timeout: float = CANCEL_GRACE_S, interrupt: bool = False) -> None:
        """Stop the pump thread and every worker (tests; daemon workers also die with us).

        ``interrupt=False`` cancels every job (the journal then lists none). ``interrupt=True``
        simulates the server stopping: the journal keeps saying queued/running, the jobs show
        "interrupted" here, and workers are killed at once; a new registry on the same folder
        offers them for ``resume``.
        """
        with self._lock:
            if self._closed:
                return
            self._closed = True
            now = time.monotonic()
            if interrupt:
                self._dirty = True
                self._save_journal()
                for job in self._jobs.values():
                    if job.view.state in ACTIVE_STATES:
                        job.set(state="interrupted", error=_interrupted_text(
                            job.view.state, job.epochs_done, job.view.epochs, "stopped"))
                        job.finished, job.spawn_pending = now, False
                self._queued.clear()
            else:
                for job in self._jobs.values():
                    self._stop_job(job)
                self._save_journal()
            self._journal_frozen = True
            processes = [job.process for job in self._jobs.values() if job.process is not None]
        if processes and not interrupt:  # the pump thread drains their last messages, reaps
            self._wait_exit(processes, timeout)
        self._stop.set()
        self._wake.set()
        self._thread.join()  # from here on PR_SET_PDEATHSIG kills any worker left
        with self._lock:
            for job in self._jobs.values():
                if job.process is not None:
                    if job.process.is_alive():
                        job.process.terminate()
                        job.process.join(KILL_GRACE_S)
                    if job.process.is_alive():
                        job.process.kill()
                    self._reap(job)

    # -- owners -------------------------------------------------------------------------------
    def _attach(self, job: _Job, owner: str | None) -> None:
        """Record that ``owner`` (or an anonymous caller) waits for ``job``."""
        if owner is None:
            job.pinned = True
            return
        previous = self._owner_job.get(owner)
        if previous is not None and previous != job.view.job_id:
            self._detach(self._jobs[previous], owner)
        job.owners.add(owner)
        self._owner_job[owner] = job.view.job_id
        self._dirty = True

    def _detach(self, job: _Job, owner: str) -> None:
        """``owner`` no longer waits for ``job``; an active job nobody waits for stops."""
        job.owners.discard(owner)
        if self._owner_job.get(owner) == job.view.job_id:
            del self._owner_job[owner]
        if job.view.state in ACTIVE_STATES and not job.owners and not job.pinned:
            self._stop_job(job)
        self._dirty = True

    def _check_room(self, owner: str | None) -> None:
        """RegistryBusy when a new job would exceed ``max_queue`` waiting jobs (a session's own
        queued job that its new start replaces does not count)."""
        waiting = len(self._queued)
        previous = self._jobs.get(self._owner_job.get(owner or "", ""))
        if (previous is not None and previous.view.state == "queued" and not previous.pinned
                and previous.owners == {owner}):
            waiting -= 1
        if waiting >= self.max_queue:
            raise RegistryBusy(waiting)

    # -- state transitions (all under the lock) -----------------------------------------------
    def _get(self, job_id: str) -> _Job:
        """The job record; KeyError naming the id when unknown."""
        try:
            return self._jobs[job_id]
        except (KeyError, TypeError):
            raise KeyError(f"unknown training job id {job_id!r}") from None

    def _shareable(self, job: _Job) -> bool:
        """A job a new identical request joins: active, or done with its run still on disk."""
        if job.view.state in ACTIVE_STATES:
            return True
        if job.view.state != "done":
            return False
        try:
            return (job.view.run_dir / "result.json").exists()
        except OSError:
            return False

    def _finish(self, job: _Job, state: str, error: str | None = None) -> None:
        """Move a queued/running job to a final state (the first final state wins)."""
        if job.view.state in ACTIVE_STATES:
            if job.view.job_id in self._queued:
                self._queued.remove(job.view.job_id)
            job.set(state=state, error=error)
            job.finished = time.monotonic()
            job.spawn_pending = False
            self._dirty = True

    def _stop_job(self, job: _Job) -> None:
        """Cancel a queued or running job; a running worker stops at its next batch."""
        if job.view.state == "running" and job.cancel_event is not None:
            job.cancel_event.set()
            job.cancel_at = time.monotonic()  # terminate() after CANCEL_GRACE_S
        self._finish(job, "cancelled")

    def _requeue(self, job: _Job, owner: str | None) -> str:
        """Put an interrupted job back in the queue from its last good checkpoint."""
        self._check_room(owner)
        epoch, history = resume_point(job.view.run_dir, job.view.spec)
        job.set(state="queued", error=None, epoch=epoch, batch=0, batches=0, history=history,
                loss=None, accuracy=None, test_accuracy=None, initial_epoch=epoch,
                estimate_s=estimate_seconds(job.view.spec, job.view.train_limit))
        job.epochs_done = epoch
        job.launched = job.fit_started = job.finished = job.dead_since = None
        job.cancel_at = job.kill_at = None
        self._latest[job.key] = job.view.job_id
        self._queued.append(job.view.job_id)
        self._attach(job, owner)
        self._dirty = True
        self._schedule()
        return job.view.job_id

    def _schedule(self) -> None:
        """Move queued jobs (FIFO) to running while slots are free: create the run folder now
        (a failure fails that job, not the registry) and leave the spawn to the pump thread."""
        busy = {job.view.run_dir for job in self._jobs.values()
                if job.view.state == "running" or job.process is not None}
        for job_id in list(self._queued):
            job = self._jobs[job_id]
            if len(busy) >= self.max_concurrent or job.view.run_dir in busy:
                continue
            self._queued.remove(job_id)
            try:
                job.view.run_dir.mkdir(parents=True, exist_ok=True)
                if not os.access(job.view.run_dir, os.W_OK):
                    raise PermissionError(13, "not writable")
            except OSError as exc:
                self._finish(job, "failed", failure("run_folder", folder=job.view.run_dir,
                                                    reason=exc.strerror or exc))
                continue
            job.set(state="running")
            job.launched, job.spawn_pending = time.monotonic(), True
            busy.add(job.view.run_dir)
            self._dirty = True
        if any(job.spawn_pending for job in self._jobs.values()):
            self._wake.set()

    def _spawn(self, job: _Job) -> None:
        """Pump thread only: start the worker of a running job (see the module docstring)."""
        job.spawn_pending = False
        try:
            self._launch(job)
        except Exception as exc:  # e.g. out of memory or of processes
            job.process = None
            if job.messages is not None:
                job.messages.close()
            self._finish(job, "failed", failure("start", reason=exc))

    # The three methods below are all that touches worker processes: a subclass that runs
    # workers elsewhere (nn_core.training.ray_backend) overrides them and keeps the rest.
    def _launch(self, job: _Job) -> None:
        """Start the worker of ``job``: set ``job.messages`` (``get_nowait``/``close``),
        ``job.cancel_event`` (``set``) and ``job.process`` (``is_alive``, ``join``,
        ``terminate``, ``kill``, ``pid``, ``exitcode``, ``sentinel``)."""
        v = job.view
        job.messages, job.cancel_event = self._ctx.Queue(), self._ctx.Event()
        job.process = start_worker(self._ctx, f"train-{v.job_id}", v.spec, v.run_dir,
                                   job.messages, job.cancel_event, v.train_limit,
                                   self.data_path, v.initial_epoch)

    def _exit_text(self, process: Any) -> str:
        """Why a job whose worker ended without a final message failed."""
        return failure("exit", code=process.exitcode)

    def _wait_exit(self, processes: list[Any], timeout: float) -> None:
        """Block until every worker of ``processes`` has exited, or ``timeout`` seconds."""
        wait_for_exit([p.sentinel for p in processes], timeout)

    def _apply(self, job: _Job, msg: dict[str, Any]) -> None:
        """Update a job from one worker message."""
        if msg["type"] == "begin":
            job.fit_started = time.monotonic()
        job.view = job.view.updated(msg)
        if msg["type"] == "epoch":
            job.epochs_done = msg["epoch"]
            self._dirty = True
        if msg["type"] in ("done", "failed", "cancelled"):
            if msg["type"] == "done" and job.view.state == "running":
                self._prune_due = True
                self._protected[job.view.run_dir.resolve()] = time.monotonic()  # just finished
            self._finish(job, msg["type"], msg.get("error"))

    def _reap(self, job: _Job) -> None:
        """Collect an exited worker; without a final message its job failed."""
        job.process.join()
        job.messages.close()
        self._finish(job, "failed", self._exit_text(job.process))
        job.process = None

    def _pump_job(self, job: _Job, now: float) -> None:
        """Drain one worker's messages, reap it, enforce the time limit and cancel's grace."""
        if job.process is None:
            return
        with contextlib.suppress(queue.Empty, EOFError, OSError):
            while True:
                msg = job.messages.get_nowait()
                try:
                    self._apply(job, msg)
                except (KeyError, TypeError, ValueError):  # a malformed message: skip it
                    log.exception("bad message from training job %s: %r", job.view.job_id, msg)
        alive = job.process.is_alive()
        if not alive and (job.view.state != "running" or now - (job.dead_since or now) > 0.5):
            self._reap(job)
            return
        if not alive:  # dead, with its last messages maybe still in the pipe
            job.dead_since = job.dead_since or now
            return
        if (job.view.state == "running" and job.launched is not None
                and now - job.launched > self.job_timeout_s):
            self._finish(job, "failed", failure("time_limit",
                                                limit=duration_text(self.job_timeout_s)))
            job.process.terminate()
            job.kill_at = now + KILL_GRACE_S
        elif (job.cancel_at is not None and job.kill_at is None
              and now - job.cancel_at > CANCEL_GRACE_S):
            job.process.terminate()
            job.kill_at = now + KILL_GRACE_S
        elif job.kill_at is not None and now > job.kill_at:
            job.process.kill()

    def _pump(self) -> None:
        """One round of the pump thread: every job, then the queue, spawns, retention, journal."""
        now = time.monotonic()
        for job in list(self._jobs.values()):
            try:
                self._pump_job(job, now)
            except Exception:  # one broken job never stops the others
                log.exception("training job %s could not be updated", job.view.job_id)
        self._schedule()
        for job in list(self._jobs.values()):
            if job.spawn_pending and job.view.state == "running" and not self._stop.is_set():
                self._spawn(job)
        if self._prune_due:
            self._prune_due = False
            self.prune_runs()
        self._save_journal()

    def _busy(self) -> bool:
        """Whether the next pump round has work: a worker to drain or reap, a job to spawn or
        schedule, runs to prune, a journal to write. Otherwise the pump waits IDLE_WAIT_S."""
        return (self._dirty or self._prune_due or bool(self._queued)
                or any(job.process is not None or job.spawn_pending
                       for job in self._jobs.values()))

    def _pump_forever(self, poll_s: float) -> None:
        """Daemon thread: pump until shutdown; one bad round never stops the registry."""
        while not self._stop.is_set():
            with self._lock:
                wait = poll_s if self._busy() else max(poll_s, IDLE_WAIT_S)
            self._wake.wait(wait)
            self._wake.clear()
            if self._stop.is_set():
                break
            try:
                with self._lock:
                    self._pump()
            except Exception:  # logged; the next round tries again
                log.exception("training job pump failed")

    # -- journal ------------------------------------------------------------------------------
    def _save_journal(self) -> None:
        """Rewrite jobs.json atomically if a job changed state, owners or finished an epoch.

        It lists queued, running and interrupted jobs, and is removed when there are none; a
        folder that cannot be written is logged once and never stops training.
        """
        if not self._dirty or self._journal_frozen:
            return
        self._dirty = False
        entries = [{"job_id": job.view.job_id, "spec": job.view.spec.to_dict(),
                    "train_limit": job.view.train_limit, "state": job.view.state,
                    "owners": len(job.owners), "epoch": job.epochs_done,
                    "epochs": job.view.epochs, "error": job.view.error}
                   for job in self._jobs.values()
                   if job.view.state in (*ACTIVE_STATES, "interrupted")]
        try:
            if not entries:  # nothing to recover: no file (the runs folder holds only runs)
                self.journal_path.unlink(missing_ok=True)
                return
            self.runs_dir.mkdir(parents=True, exist_ok=True)
            write_json(self.journal_path, {"version": 1, "jobs": entries})
        except OSError as exc:
            if not self._journal_warned:
                self._journal_warned = True
                log.warning("could not write the training journal %s: %s", self.journal_path,
                            exc)

    def _restore_journal(self) -> None:
        """Show the jobs a previous server left queued or running as "interrupted".

        The epoch shown is the last one whose checkpoint and history are readable on disk
        (``resume_point``), which is where ``resume`` continues; it can be one more than the
        journal's when the server died between an epoch's checkpoint and the journal write.
        """
        try:
            data = read_json(self.journal_path, {})
            entries = data.get("jobs", []) if isinstance(data, dict) else []
        except ValueError as exc:
            log.warning("ignoring the training journal: %s", exc)
            return
        for entry in entries if isinstance(entries, list) else []:
            try:
                spec = ModelSpec.from_dict(entry["spec"])
                limit = check_train_limit(entry["train_limit"])
                job_id, state = str(entry["job_id"]), str(entry["state"])
                epoch, epochs = int(entry.get("epoch", 0)), spec.recipe.epochs
                layer_shapes(spec)
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                log.warning("ignoring a damaged entry of %s: %s", self.journal_path, exc)
                continue
            if state not in (*ACTIVE_STATES, "interrupted") or job_id in self._jobs:
                continue
            run_dir = self.runs_dir / run_dir_name(spec, limit)
            job = _Job(JobStatus(job_id, spec, limit, run_dir, epochs), epochs_done=epoch)
            finished = finished_run(run_dir, spec)
            if finished is not None:  # it finished after the journal was last written
                job.set(state="done", history=finished.history, epoch=epochs,
                        test_accuracy=finished.result["test_accuracy"])
            else:  # the checkpoints on disk say where a resume starts: they win
                epoch, history = resume_point(run_dir, spec)
                job.epochs_done = epoch
                text = (_interrupted_text(state, epoch, epochs) if state != "interrupted"
                        else str(entry.get("error") or _interrupted_text("running", epoch, epochs)))
                job.set(state="interrupted", error=text, epoch=epoch, history=history)
            self._jobs[job_id] = job
            self._latest[job.key] = job_id
            self._dirty = True
