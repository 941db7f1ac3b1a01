"""The training backend shared by several app servers (replicas): a job registry on Ray.

Streamlit runs every session of one server in one process, so a large class needs several
replicas behind a load balancer, and a ``JobRegistry`` per process would give each replica its
own queue, limits and job list. Here the registry lives in ONE named, detached Ray actor
(namespace ``nn_playground``, name ``job_registry-<hash of the runs folder>``) that every replica
finds with ``get_if_exists``: identical requests from any replica share one job, the queue,
the owner counts and the limits are global, and the actor outlives the replica that created
it (a replica restart loses nothing). The actor owns a ``RayJobRegistry``: the very same
``JobRegistry`` logic (queue, sharing, limits, journal, retention), with the worker launched as
a Ray task (``num_cpus=1``, no retries, one training per worker process) on any node instead of
a local process. The task reports its progress to the actor; cancel is
``ray.cancel(force=True)``; a worker process that dies fails its task and the job is reported
failed with the node and Ray's reason. If the actor itself dies, Ray restarts it and the
journal (``<runs>/jobs.json``) shows its queued and running jobs as interrupted, as after a
server restart today. Runs are written to the runs folder (env ``NN_PLAYGROUND_RUNS``), which
must be one folder every node and replica reads and writes (a shared volume).

Which backend (``open_registry``): env ``NN_PLAYGROUND_BACKEND`` = ``local`` (the default: one
``JobRegistry`` per server process, nothing else to run) or ``ray``; unset, ``ray`` is chosen
when ``RAY_ADDRESS`` is set (a Ray cluster to join). ``ray`` without ``RAY_ADDRESS`` runs a
local Ray head (``ray start --head --block``, port env ``NN_PLAYGROUND_RAY_PORT``, default
6380, CPUs env ``NN_PLAYGROUND_RAY_CPUS``, default all): the first replica starts it under a
file lock, the others on the machine join it, and it keeps running when replicas stop
(``ray stop`` ends it).

The limits (``NN_PLAYGROUND_MAX_JOBS`` ...) are read by the replica that creates the actor;
later replicas join it with the limits in force. ``ray`` is imported only when this backend is
used, and never TensorFlow: that is imported only by the task, in a Ray worker process.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import logging
import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from nn_core.course import SEED
from nn_core.training.jobs import JobRegistry, JobStatus
from nn_core.training.runs import REPO, default_runs_dir
from nn_core.training.worker import train_model

NAMESPACE = "nn_playground"
ACTOR_PREFIX = "job_registry"
BACKEND_ENV = "NN_PLAYGROUND_BACKEND"
BACKENDS = ("local", "ray")
HEAD_PORT = 6380  # env NN_PLAYGROUND_RAY_PORT: the local head's GCS port (Ray's own default + 1)
HEAD_START_S = 90.0  # how long a replica waits for the local head it started
OBJECT_STORE_BYTES = 100 * 1024**2  # the local head's object store: only small messages pass
# The registry's settings, as JobRegistry's arguments and their environment variables.
SETTINGS = {"max_concurrent": "NN_PLAYGROUND_MAX_JOBS", "max_queue": "NN_PLAYGROUND_MAX_QUEUE",
            "job_timeout_s": "NN_PLAYGROUND_JOB_TIMEOUT_S",
            "max_params": "NN_PLAYGROUND_MAX_PARAMS", "max_runs": "NN_PLAYGROUND_MAX_RUNS"}
PUBLIC = ("check_limits", "start", "resume", "status", "jobs", "owner_job", "cancel", "protect",
          "prune_runs")
log = logging.getLogger(__name__)


def backend_name() -> str:
    """'local' or 'ray' from env NN_PLAYGROUND_BACKEND (unset: 'ray' when RAY_ADDRESS is set);
    ValueError naming the variable for anything else."""
    raw = os.environ.get(BACKEND_ENV, "").strip().lower()
    if not raw:
        return "ray" if os.environ.get("RAY_ADDRESS", "").strip() else "local"
    if raw not in BACKENDS:
        raise ValueError(f"{BACKEND_ENV} must be 'local' or 'ray', got {raw!r}")
    return raw


def open_registry(runs_dir: str | Path | None = None) -> JobRegistry | RayRegistry:
    """The registry of the backend ``backend_name`` chooses, for ``runs_dir``."""
    if backend_name() == "ray":
        return RayRegistry(runs_dir)
    return JobRegistry(runs_dir)


# ---------------------------------------------------------------------------------------------
# Joining Ray: a cluster (RAY_ADDRESS), or the local head the first replica starts
# ---------------------------------------------------------------------------------------------
def _listening(port: int) -> bool:
    """True when something accepts TCP connections on 127.0.0.1:port."""
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _ray_command() -> str:
    """The ``ray`` command line tool of this interpreter's environment."""
    beside = Path(sys.executable).with_name("ray")
    return str(beside) if beside.exists() else (shutil.which("ray") or "ray")


def _whole(env: str, default: int) -> int:
    """A whole number >= 1 from env ``env``, else ``default``; ValueError naming the variable."""
    raw = os.environ.get(env, "").strip() or str(default)
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"{env} must be a whole number >= 1, got {raw!r}")
    return int(raw)


def _free_ports(count: int) -> list[int]:
    """``count`` distinct TCP ports that were free a moment ago (below Ray's worker ports)."""
    ports: list[int] = []
    while len(ports) < count:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port not in ports and not 10_000 <= port < 20_000:
            ports.append(port)
    return ports


def stop_local_head(head: subprocess.Popen, grace_s: float = 5.0) -> None:
    """End a head ``start_local_head`` started, with every Ray process of its session (tests;
    otherwise ``ray stop``)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(head.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            head.wait(grace_s)
            return


def ensure_auth_token() -> None:
    """Make this user's Ray token if there is none yet.

    In token mode, Ray 2.60's ``ray start --head`` reads a token but will not make one; on a
    machine where no Ray program ran before, the head exits with "no authentication token was
    found". So the token is made first, by Ray's own ``ray get-auth-token --generate``, which
    saves a new random token in ~/.ray/auth_token; this then makes the file readable only by
    this user (Ray leaves it readable by all). A token that is given (RAY_AUTH_TOKEN, or the
    file at RAY_AUTH_TOKEN_PATH) is used as it is."""
    if os.environ.get("RAY_AUTH_TOKEN", "").strip():
        return
    given = os.environ.get("RAY_AUTH_TOKEN_PATH", "").strip()
    path = Path(given).expanduser() if given else Path.home() / ".ray" / "auth_token"
    if path.is_file():
        return
    if given:
        raise RuntimeError(f"RAY_AUTH_TOKEN_PATH names no file: {given}")
    made = subprocess.run([_ray_command(), "get-auth-token", "--generate"], capture_output=True,
                          text=True, timeout=120, check=False, stdin=subprocess.DEVNULL,
                          env={**os.environ, "RAY_AUTH_MODE": "token"})
    if made.returncode != 0:
        raise RuntimeError(f"could not make a Ray token: {made.stderr.strip()[-500:]}")
    path.chmod(0o600)


def start_local_head(port: int, cpus: int, log_path: Path) -> subprocess.Popen:
    """Start ``ray start --head --block`` in its own session (so it outlives this process),
    logging to ``log_path``; returns once its GCS accepts connections. RuntimeError with the
    log's tail when it exits or is not up within ``HEAD_START_S``."""
    client, dashboard, agent = _free_ports(3)  # Ray's fixed defaults would clash between heads
    command = [_ray_command(), "start", "--head", "--block", f"--port={port}",
               f"--num-cpus={cpus}", "--include-dashboard=false", "--disable-usage-stats",
               f"--object-store-memory={OBJECT_STORE_BYTES}", f"--ray-client-server-port={client}",
               f"--dashboard-port={dashboard}", f"--dashboard-agent-listen-port={agent}"]
    ensure_auth_token()
    env = {**os.environ, "RAY_AUTH_MODE": "token"}  # a token in ~/.ray: only this user joins
    with open(log_path, "ab") as out:
        head = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                start_new_session=True, env=env)
    deadline = time.monotonic() + HEAD_START_S
    while not _listening(port):
        if head.poll() is not None or time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(head.pid, signal.SIGKILL)
            tail = log_path.read_text(errors="replace")[-1500:]
            raise RuntimeError(f"the local Ray head (port {port}) did not start: {tail}")
        time.sleep(0.2)
    return head


def ensure_local_head() -> tuple[str, subprocess.Popen | None]:
    """(address, the head process if this call started it, else None) of the local Ray head.

    A file lock in the temp folder makes replicas started together start one head between them.
    """
    port = _whole("NN_PLAYGROUND_RAY_PORT", HEAD_PORT)
    cpus = _whole("NN_PLAYGROUND_RAY_CPUS", os.cpu_count() or 1)
    folder = Path(tempfile.gettempdir())
    head = None
    with open(folder / f"nn-playground-ray-{port}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _listening(port):
            head = start_local_head(port, cpus, folder / f"nn-playground-ray-{port}.log")
    return f"127.0.0.1:{port}", head


def connect() -> None:
    """Join Ray once per process: ``RAY_ADDRESS`` if set, else the local head."""
    address = os.environ.get("RAY_ADDRESS", "").strip()
    if not address:
        address = ensure_local_head()[0]
        # the local head's token mode (see above); Ray reads it when it is first imported
        os.environ.setdefault("RAY_AUTH_MODE", "token")
    import ray

    if ray.is_initialized():
        return
    # Ray's workers import this package by name (the task, the actor): put the repository on
    # their path, in front of the cluster's own PYTHONPATH, as the driver has it on its own.
    path = {"PYTHONPATH": f"{REPO}{os.pathsep}${{PYTHONPATH}}"}
    ray.init(address=address, namespace=NAMESPACE, log_to_driver=False,
             logging_level=logging.WARNING, runtime_env={"env_vars": path})


# ---------------------------------------------------------------------------------------------
# The worker side: a Ray task that runs train_model and reports to the registry actor
# ---------------------------------------------------------------------------------------------
class _Channel:
    """What ``train_model`` puts its messages into: each one goes to the actor, in order (a
    caller's calls to one actor run in the order they were made)."""

    def __init__(self, actor: Any, token: str) -> None:
        self.actor, self.token, self.last = actor, token, None

    def put(self, msg: dict[str, Any]) -> None:
        if msg.get("type") == "started":
            msg = {**msg, "node": socket.gethostname()}
        self.last = self.actor.report.remote(self.token, msg)

    def flush(self) -> None:
        """Wait until the actor has taken every message (before the task ends)."""
        import ray

        if self.last is not None:
            with contextlib.suppress(Exception):
                ray.get(self.last, timeout=30)


def train_task(actor: Any, token: str, spec: dict[str, Any], run_dir: str,
               train_limit: int | None, seed: int, data_path: str | None,
               initial_epoch: int) -> None:
    """Ray task: ``train_model`` with its messages sent to ``actor``. Cancel is
    ``ray.cancel(force=True)``, so the cancel event is never set here."""
    channel = _Channel(actor, token)
    try:
        train_model(spec, run_dir, channel, threading.Event(), train_limit, seed, data_path,
                    initial_epoch)
    except SystemExit:  # train_model sent "failed" already
        pass
    finally:
        channel.flush()


class _RayWorker:
    """The handle ``JobRegistry`` keeps for a worker process, for one Ray task."""

    def __init__(self, ref: Any) -> None:
        self.ref, self.pid, self.node, self._ended = ref, None, None, False

    def is_alive(self) -> bool:
        import ray

        if not self._ended:
            self._ended = bool(ray.wait([self.ref], timeout=0)[0])
        return not self._ended

    def join(self, timeout: float | None = None) -> None:
        import ray

        ray.wait([self.ref], timeout=timeout)

    def terminate(self) -> None:
        """Stop the task now: Ray kills its worker process (a no-op once it ended)."""
        import ray

        with contextlib.suppress(Exception):
            ray.cancel(self.ref, force=True)

    kill = terminate

    def failure(self) -> str:
        """Why the task ended without a final message, for the page."""
        import ray

        where = f" (pid {self.pid} on {self.node})" if self.pid else ""
        try:
            ray.get(self.ref, timeout=5)
        except Exception as exc:  # WorkerCrashedError, TaskCancelledError, ...
            text = " ".join(str(exc).split())[:300]
            return f"the training worker{where} died without a result: {type(exc).__name__}: {text}"
        return f"the training worker{where} ended without a result"


class _Inbox(queue.Queue):
    """A job's messages as the actor received them; ``close`` forgets the job's token."""

    def __init__(self, worker: _RayWorker, inboxes: dict[str, _Inbox], token: str) -> None:
        super().__init__()
        self.worker, self.inboxes, self.token = worker, inboxes, token

    def close(self) -> None:
        self.inboxes.pop(self.token, None)


class _ForceCancel:
    """The cancel event of a Ray job: setting it kills the task (no grace: nothing to save)."""

    def __init__(self, worker: _RayWorker) -> None:
        self.worker = worker

    def set(self) -> None:
        self.worker.terminate()


class RayJobRegistry(JobRegistry):
    """``JobRegistry`` whose workers are Ray tasks reporting to ``actor`` (lives in the actor)."""

    def __init__(self, runs_dir: str | Path | None, actor: Any, task: Any, **kwargs: Any) -> None:
        self._actor, self._task = actor, task
        self._inboxes: dict[str, _Inbox] = {}  # token of the task -> its messages
        super().__init__(runs_dir, **kwargs)

    def report(self, token: str, msg: dict[str, Any]) -> None:
        """A message from a task; tokens of reaped tasks (late messages) are ignored."""
        inbox = self._inboxes.get(token)
        if inbox is None:
            return
        if msg.get("type") == "started":
            inbox.worker.pid, inbox.worker.node = msg.get("pid"), msg.get("node")
        inbox.put(msg)

    def _launch(self, job: Any) -> None:
        v, token = job.view, uuid.uuid4().hex
        ref = self._task.options(name=f"train-{v.job_id}").remote(
            self._actor, token, v.spec.to_dict(), str(v.run_dir), v.train_limit, SEED,
            None if self.data_path is None else str(self.data_path), v.initial_epoch)
        worker = _RayWorker(ref)
        job.messages = self._inboxes[token] = _Inbox(worker, self._inboxes, token)
        job.process, job.cancel_event = worker, _ForceCancel(worker)

    def _exit_text(self, process: Any) -> str:
        return process.failure()

    def _wait_exit(self, processes: list[Any], timeout: float) -> None:
        import ray

        ray.wait([p.ref for p in processes], num_returns=len(processes), timeout=timeout)


class RegistryActor:
    """The Ray actor holding the one ``RayJobRegistry`` of a runs folder."""

    def __init__(self, runs_dir: str, data_path: str | None, settings: dict[str, Any]) -> None:
        import ray

        me = ray.get_runtime_context().current_actor
        self.registry = RayJobRegistry(runs_dir, me, _remote()[1], data_path=data_path,
                                       **settings)

    def settings(self) -> dict[str, Any]:
        r = self.registry
        return {"runs_dir": str(r.runs_dir), "data_path": r.data_path,
                **{name: getattr(r, name) for name in SETTINGS}}

    def call(self, method: str, *args: Any) -> tuple[bool, Any]:
        """(True, result) or (False, the exception) of a public registry method: the caller
        re-raises the registry's own exception (RegistryBusy, KeyError ...)."""
        if method not in PUBLIC:
            return False, ValueError(f"unknown registry method {method!r}")
        try:
            return True, getattr(self.registry, method)(*args)
        except Exception as exc:
            return False, exc

    def report(self, token: str, msg: dict[str, Any]) -> None:
        self.registry.report(token, msg)

    def shutdown(self, timeout: float, interrupt: bool) -> None:
        self.registry.shutdown(timeout, interrupt)


@functools.cache
def _remote() -> tuple[Any, Any]:
    """(the actor class, the training task) as Ray remotes, made on first use."""
    import ray

    task = ray.remote(num_cpus=1, max_retries=0, max_calls=1)(train_task)
    return ray.remote(RegistryActor), task


def actor_name(runs_dir: Path) -> str:
    """The registry actor's name for a runs folder: one registry per folder, as locally."""
    digest = hashlib.sha256(str(runs_dir.resolve()).encode()).hexdigest()[:12]
    return f"{ACTOR_PREFIX}-{digest}"


# ---------------------------------------------------------------------------------------------
# The client every replica holds (what ``registry()`` returns with the Ray backend)
# ---------------------------------------------------------------------------------------------
class RayRegistry:
    """A client of the shared registry actor with ``JobRegistry``'s public methods.

    Creating one joins Ray (``connect``) and creates the actor for ``runs_dir`` unless a
    replica did already; its limits are then the actor's (``max_concurrent`` ... attributes).
    Arguments as ``JobRegistry``'s: argument, else env variable, else module default.
    """

    def __init__(self, runs_dir: str | Path | None = None, max_concurrent: int | None = None,
                 data_path: str | Path | None = None, *, max_queue: int | None = None,
                 job_timeout_s: float | None = None, max_params: int | None = None,
                 max_runs: int | None = None) -> None:
        connect()  # before ray's first import (see connect)
        import ray

        folder = Path(runs_dir) if runs_dir else default_runs_dir()
        given = {"max_concurrent": max_concurrent, "max_queue": max_queue,
                 "job_timeout_s": job_timeout_s, "max_params": max_params, "max_runs": max_runs}
        settings = {name: value if value is not None else os.environ.get(SETTINGS[name])
                    for name, value in given.items()}
        self.actor = _remote()[0].options(
            name=actor_name(folder), namespace=NAMESPACE, lifetime="detached",
            get_if_exists=True, max_restarts=-1, max_task_retries=3, num_cpus=0,
            max_concurrency=1,
        ).remote(str(folder.resolve()), None if data_path is None else str(data_path), settings)
        try:
            info = ray.get(self.actor.settings.remote())
        except ray.exceptions.RayActorError as exc:  # e.g. a limit that is not a number
            raise ValueError(f"the shared training registry could not start: "
                             f"{' '.join(str(exc).split())[-400:]}") from exc
        self.runs_dir, self.data_path = Path(info["runs_dir"]), info["data_path"]
        self.max_concurrent, self.max_queue = info["max_concurrent"], info["max_queue"]
        self.job_timeout_s, self.max_params = info["job_timeout_s"], info["max_params"]
        self.max_runs = info["max_runs"]

    def _call(self, method: str, *args: Any) -> Any:
        import ray

        ok, value = ray.get(self.actor.call.remote(method, *args))
        if not ok:
            raise value
        return value

    def check_limits(self, spec: Any, train_limit: int | None = None) -> float:
        """As ``JobRegistry.check_limits``, with the shared registry's limits."""
        return self._call("check_limits", spec, train_limit)

    def start(self, spec: Any, train_limit: int | None = None, owner: str | None = None) -> str:
        """As ``JobRegistry.start``: identical requests from every replica share one job."""
        return self._call("start", spec, train_limit, owner)

    def resume(self, job_id: str, owner: str | None = None) -> str:
        """As ``JobRegistry.resume``."""
        return self._call("resume", job_id, owner)

    def status(self, job_id: str) -> JobStatus:
        """As ``JobRegistry.status``; ``pid`` is the worker's on its node."""
        return self._call("status", job_id)

    def jobs(self) -> list[JobStatus]:
        """Every job of every replica, in start order."""
        return self._call("jobs")

    def owner_job(self, owner: str) -> str | None:
        """As ``JobRegistry.owner_job``: a session routed to another replica finds its job."""
        return self._call("owner_job", owner)

    def cancel(self, job_id: str, owner: str | None = None) -> bool:
        """As ``JobRegistry.cancel`` (owners counted over all replicas)."""
        return self._call("cancel", job_id, owner)

    def protect(self, run_dir: str | Path) -> None:
        """As ``JobRegistry.protect``."""
        self._call("protect", str(run_dir))

    def prune_runs(self) -> list[Path]:
        """As ``JobRegistry.prune_runs``."""
        return self._call("prune_runs")

    def shutdown(self, timeout: float = 5.0, interrupt: bool = False) -> None:
        """Stop the shared registry for every replica and remove its actor (tests, scripts);
        ``interrupt`` as ``JobRegistry.shutdown`` (a new actor offers the jobs for resume)."""
        import ray

        with contextlib.suppress(ray.exceptions.RayActorError):
            ray.get(self.actor.shutdown.remote(timeout, interrupt))
        ray.kill(self.actor, no_restart=True)
