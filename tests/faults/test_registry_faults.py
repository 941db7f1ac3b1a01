"""Faults injected into the job registry with real spawned workers training tiny models: a runs
folder that cannot be created, a worker killed mid-epoch, a job past the wall-clock limit, a
session leaving a shared job, and disk retention after a job finishes."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from nn_core.training import jobs
from nn_core.training.jobs import JobRegistry
from nn_core.training.runs import list_runs
from tests.nn_core.training.helpers import (
    TINY,
    fake_run,
    finished,
    slow_spec,
    wait_for,
    wait_pid_gone,
)


def test_a_run_folder_that_cannot_be_created_fails_only_that_job(tmp_path: Path) -> None:
    afile = tmp_path / "afile"  # runs_dir under a regular file: mkdir fails, even as root
    afile.write_text("not a folder")
    runs = afile / "runs"
    reg = JobRegistry(runs_dir=runs, max_concurrent=1)
    try:
        first = reg.start(TINY, 300)
        failed = reg.status(first)  # the launch failed inside start(): no waiting needed
        assert failed.state == "failed" and failed.pid is None and failed.queue_position is None
        assert failed.error == (f"could not create the run folder {runs / failed.run_dir.name}: "
                                "Not a directory")
        second = reg.start(TINY, 200)
        assert reg.status(second).state == "failed"
        assert [s.state for s in reg.jobs()] == ["failed", "failed"]  # nothing raises
        assert reg.start(TINY, 300) not in (first, second)  # a failed job is never shared

        afile.unlink()  # the volume is back
        retry = reg.start(TINY, 300)
        assert retry.endswith(".3")  # attempts .1 and .2 failed
        done = wait_for(reg, retry, finished)
        assert (done.state, done.error, done.epoch) == ("done", None, 2)
        assert sorted(p.name for p in runs.iterdir()) == [done.run_dir.name]  # no journal left
        assert [s.state for s in reg.jobs()] == ["failed", "failed", "failed", "done"]
    finally:
        reg.shutdown()


def test_a_worker_killed_mid_epoch_fails_its_job_and_not_the_others(tmp_path: Path) -> None:
    reg = JobRegistry(runs_dir=tmp_path / "runs", max_concurrent=2)
    try:
        victim = reg.start(slow_spec(), 2000)
        other = reg.start(TINY, 300)
        running = wait_for(reg, victim, lambda s: s.batch > 0)
        os.kill(running.pid, signal.SIGKILL)  # the out-of-memory killer, mid-epoch
        killed = wait_for(reg, victim, finished)
        assert killed.state == "failed" and killed.pid is None
        assert killed.error == "the training process exited with code -9 without a result"
        done = wait_for(reg, other, finished)
        assert done.state == "done" and [len(v) for v in done.history.values()] == [2, 2, 2, 2]
        assert reg.status(victim).state == "failed"  # the first final state stays
    finally:
        reg.shutdown()


def test_a_job_past_the_wall_clock_limit_is_stopped(registry: JobRegistry) -> None:
    job = registry.start(slow_spec(), 2000)
    running = wait_for(registry, job, lambda s: s.batch > 0)
    registry.job_timeout_s = 1.0  # read by the pump on every round; the job is past it now
    stopped = wait_for(registry, job, lambda s: finished(s) and s.pid is None)
    assert stopped.state == "failed"
    assert stopped.error == "stopped: it ran longer than the server's limit of 1 second"
    assert wait_pid_gone(running.pid, 10)
    assert not (stopped.run_dir / "result.json").exists()

    registry.job_timeout_s = jobs.JOB_TIMEOUT_S
    assert jobs.duration_text(jobs.JOB_TIMEOUT_S) == "20 minutes"
    assert registry.start(slow_spec(), 2000) != job  # a new attempt, not the failed job


def test_a_session_leaving_a_shared_job_does_not_stop_it_for_the_other(
        registry: JobRegistry) -> None:
    spec = slow_spec()
    job = registry.start(spec, 2000, owner="alice")
    assert registry.start(spec, 2000, owner="bob") == job
    running = wait_for(registry, job, lambda s: s.batch > 0)
    assert running.owners == 2

    assert registry.cancel(job, owner="alice") is False  # bob still waits for it
    time.sleep(1.0)
    still = registry.status(job)
    assert (still.state, still.owners, still.pid) == ("running", 1, running.pid)
    assert registry.owner_job("alice") is None and registry.owner_job("bob") == job

    assert registry.cancel(job, owner="bob") is True  # the last session leaves: it stops
    assert registry.status(job).state == "cancelled"
    assert wait_pid_gone(running.pid, 15)
    assert registry.cancel(job, owner="bob") is False  # nothing left to stop


def test_old_runs_are_deleted_after_a_job_finishes_except_protected_ones(
        tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    old = [fake_run(runs / f"old{i}", mtime=1_000_000 + i) for i in range(5)]
    reg = JobRegistry(runs_dir=runs, max_concurrent=1, max_runs=3)
    try:
        reg.protect(old[0])  # a student is looking at the oldest one
        assert list_runs(runs) == old  # nothing is deleted before a job finishes
        done = wait_for(reg, reg.start(TINY, 300), finished)
        assert done.state == "done"
        deadline = time.monotonic() + 10
        while len(list_runs(runs)) > 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert list_runs(runs) == [old[0], old[4], done.run_dir]
        assert not any(p.exists() for p in old[1:4])
    finally:
        reg.shutdown()
