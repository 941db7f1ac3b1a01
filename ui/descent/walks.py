"""The descent page's walks, kept for the whole server and computed in worker processes.

Why a process: a new walk is up to 10,000 optimizer steps of small NumPy operations (~26 µs
a step, 0.26 s for two paths), and the course's step count for a new data set is ~4,000 more.
Streamlit runs every session's script in one process under one interpreter lock, so while one
session's walk was computed every other session's rerun waited: with 30 sessions on /descent
the walks and the step counts were 29% of the server's py-spy samples, and the slowest reruns
(p95 over 1 s). In worker processes they run beside the server, and the server's threads only
wait for the answer (the lock is free while they wait).

Each worker keeps its walks (``WalkStore``): a student who moves "Steps" from 5,000 to 7,500
costs 2,500 updates, and back to 5,000 none (``nn_core.basics.descent.Walk``). The workers
(``POOL``: WALK_WORKERS of them, 2 by default) serve the whole server and a walk always goes
to the same one, so a class shares its walks. A worker that dies (killed, out of memory) is
replaced at the next call; if none can be started the walks are computed in the server's own
process, as before, so the page keeps working either way. A worker never outlives its server
(``die_with_parent``: it checks its parent once a second). The results are bit for bit those
of ``nn_core.basics.descent``.

This module imports no Streamlit: a spawned worker imports it, NumPy and ``nn_core`` only.
"""

from __future__ import annotations

import collections
import logging
import multiprocessing
import os
import threading
import zlib
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import numpy as np

from nn_core.basics.descent import Trajectory, Walk, steps_needed
from nn_core.basics.optimizers import Run
from nn_core.training.worker import die_with_parent, without_main_module

WALK_CACHE_BYTES = 32 * 2**20  # the walks each worker keeps (~65 typical ones)

log = logging.getLogger(__name__)


class WalkStore:
    """Walks by their inputs, kept by the memory they hold, the least recently used forgotten
    first; thread-safe.

    Kept by memory, not by count: a typical walk (2 paths, 10,000 steps) holds 0.5 MB and the
    largest (12 paths, 20,000 steps) 5.8 MB, so a count that bounded memory kept 16 walks, fewer
    than the conditioning slider's 20 positions, and a class moving it recomputed walks of
    10,000 steps. The walk being drawn is kept even when it alone is over the budget.
    """

    def __init__(self, budget: int = WALK_CACHE_BYTES) -> None:
        self.budget = budget
        self._walks: collections.OrderedDict[tuple, Walk] = collections.OrderedDict()
        self._lock = threading.Lock()

    def walk(self, runs: tuple, start: tuple, inputs: tuple, targets: tuple, loss: str) -> Walk:
        """The walk of ``runs`` ((name, lr), …) from ``start`` on this data set, made once."""
        key = (runs, start, inputs, targets, loss)
        with self._lock:
            walk = self._walks.get(key)
            if walk is None:
                walk = self._walks[key] = Walk([Run(name, lr) for name, lr in runs], start,
                                               np.array(inputs), np.array(targets), loss)
            self._walks.move_to_end(key)
            return walk

    def paths(self, runs: tuple, start: tuple, inputs: tuple, targets: tuple, loss: str,
              steps: int) -> list[Trajectory]:
        """``nn_core.basics.descent.trajectories`` of the runs, from the kept walk: only steps
        never computed cost updates."""
        paths = self.walk(runs, start, inputs, targets, loss).trajectories(steps)
        self._trim()  # the walk may have grown
        return paths

    def kept(self) -> list[tuple]:
        """The kept walks' keys, the least recently used first."""
        with self._lock:
            return list(self._walks)

    @property
    def nbytes(self) -> int:
        with self._lock:
            return sum(w.nbytes for w in self._walks.values())

    def _trim(self) -> None:
        with self._lock:
            total = sum(w.nbytes for w in self._walks.values())
            while total > self.budget and len(self._walks) > 1:
                total -= self._walks.popitem(last=False)[1].nbytes


_STORE = WalkStore()  # the walks of the process this runs in: the worker's (or the fallback's)


def _paths(runs: tuple, start: tuple, inputs: tuple, targets: tuple, loss: str,
           steps: int) -> list[Trajectory]:
    return _STORE.paths(runs, start, inputs, targets, loss, steps)


def _course_steps(run: tuple[str, float], start: tuple, inputs: tuple, targets: tuple,
                  point: tuple, loss: str, max_steps: int, tol: float) -> int | None:
    return steps_needed(Run(*run), start, np.array(inputs), np.array(targets), point, loss,
                        max_steps, tol)


def _pid() -> int:
    return os.getpid()


class WalkPool:
    """``workers`` worker processes for the walks, each started at its first call (``spawn``: a
    fresh interpreter, not a copy of the server and its threads); thread-safe. A walk always
    goes to the same worker (by its key), which keeps it. A call whose worker died is retried
    once with a new worker, then run in this process."""

    def __init__(self, workers: int = 1) -> None:
        if workers < 1:
            raise ValueError(f"a walk pool needs at least one worker, got {workers}")
        self._executors: list[ProcessPoolExecutor | None] = [None] * workers
        self._lock = threading.Lock()

    def _worker(self, slot: int) -> ProcessPoolExecutor:
        with self._lock:
            started = any(self._executors)
            executor = self._executors[slot]
            if executor is None:
                executor = self._executors[slot] = self._new_executor()
            if not started:  # the first call starts every worker: a class's first walks
                for other in range(len(self._executors)):  # do not each wait for a spawn
                    if self._executors[other] is None:
                        self._executors[other] = self._new_executor()
                        with without_main_module():
                            self._executors[other].submit(_pid)
            return executor

    @staticmethod
    def _new_executor() -> ProcessPoolExecutor:
        # a worker ends when the server does, even killed (its parent-pid check): not by
        # PR_SET_PDEATHSIG, as the spawning thread is a script run's
        return ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=die_with_parent, initargs=(os.getpid(), False))

    def _replace(self, slot: int, broken: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._executors[slot] is broken:
                self._executors[slot] = None
        broken.shutdown(wait=False, cancel_futures=True)

    def _slot(self, key: Any) -> int:
        """The worker of a walk: the same for the same key (crc32, not Python's salted hash)."""
        return zlib.crc32(repr(key).encode()) % len(self._executors)

    def _call(self, key: Any, fn: Callable[..., Any], *args: Any) -> Any:
        return self._call_slot(self._slot(key), fn, *args)

    def _call_slot(self, slot: int, fn: Callable[..., Any], *args: Any) -> Any:
        for _attempt in range(2):
            executor = self._worker(slot)
            try:
                # the first submit spawns the worker, from this thread: a spawned child would
                # re-run the parent's __main__, which under Streamlit is the page script
                with without_main_module():
                    future = executor.submit(fn, *args)
                return future.result()  # an error of fn itself (ValueError) is raised here
            except (BrokenProcessPool, OSError) as exc:  # the worker died, or could not start
                log.warning("the walk worker failed (%s); starting a new one", exc)
                self._replace(slot, executor)
        log.warning("no walk worker could run; computing the walk in the server's process")
        return fn(*args)

    def paths(self, runs: tuple, start: tuple, inputs: tuple, targets: tuple, loss: str,
              steps: int) -> list[Trajectory]:
        """Every run's trajectory for ``steps`` steps (``WalkStore.paths``, in the worker)."""
        key = (runs, start, inputs, targets, loss)
        return self._call(key, _paths, *key, steps)

    def course_steps(self, run: tuple[str, float], start: tuple, inputs: tuple,
                     targets: tuple, point: tuple, loss: str, max_steps: int,
                     tol: float) -> int | None:
        """``nn_core.basics.descent.steps_needed`` of ``run`` ((name, lr)), in a worker."""
        key = (run, start, inputs, targets, point, loss, max_steps, tol)
        return self._call(key, _course_steps, *key)

    def worker_pids(self) -> list[int]:
        """Each worker's process id (starting them if needed): for tests and diagnostics."""
        return [self._call_slot(slot, _pid) for slot in range(len(self._executors))]


def _workers_from_env(default: int = 2) -> int:
    """NN_PLAYGROUND_WALK_WORKERS, 1 to 8 (the default on a bad value: the page must load)."""
    text = os.environ.get("NN_PLAYGROUND_WALK_WORKERS", "")
    try:
        value = int(text)
    except ValueError:
        if text:
            log.warning("NN_PLAYGROUND_WALK_WORKERS=%r is not a number; using %d", text,
                        default)
        return default
    return min(max(value, 1), 8)


# Two by default: the 2-core server this was measured on runs walks on its second core, and a
# walk asked while another is computed does not wait for it (benchmarks/loadtest.py, /descent).
WALK_WORKERS = _workers_from_env()
POOL = WalkPool(WALK_WORKERS)  # the server's walk workers
