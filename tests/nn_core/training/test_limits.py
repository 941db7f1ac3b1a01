"""The registry's limits, owners and retention without training: jobs are kept queued by a
registry with no free slot (``max_concurrent = 0``), so no worker is spawned."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from nn_core.cnn.presets import PRESETS, custom_spec
from nn_core.cnn.specs import count_params, with_recipe
from nn_core.training import jobs
from nn_core.training.jobs import (
    JobRegistry,
    NetworkTooLarge,
    RegistryBusy,
    TrainingRefused,
    TrainingTooLong,
    estimate_seconds,
    multiply_accumulates,
)
from nn_core.training.runs import list_runs, prune_runs
from tests.nn_core.training.helpers import TINY, fake_run

ENV = ("NN_PLAYGROUND_MAX_JOBS", "NN_PLAYGROUND_MAX_QUEUE", "NN_PLAYGROUND_JOB_TIMEOUT_S",
       "NN_PLAYGROUND_MAX_PARAMS", "NN_PLAYGROUND_MAX_RUNS")


def tiny(epochs: int) -> object:
    """Distinct tiny specs (one per epoch count): distinct jobs."""
    return with_recipe(TINY, epochs=epochs)


@pytest.fixture
def idle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[JobRegistry]:
    """A registry whose jobs all stay queued (no slot), max_queue 3."""
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    reg = JobRegistry(runs_dir=tmp_path / "runs", max_queue=3)
    reg.max_concurrent = 0
    yield reg
    reg.shutdown()


def test_defaults_environment_and_arguments(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    reg = JobRegistry(runs_dir=tmp_path)
    reg.shutdown()
    assert (reg.max_concurrent, reg.max_queue, reg.job_timeout_s, reg.max_params,
            reg.max_runs) == (1, 8, 1200.0, 1_500_000, 30)
    assert (jobs.MAX_QUEUE, jobs.JOB_TIMEOUT_S, jobs.MAX_PARAMS, jobs.MAX_RUNS) == (
        8, 1200.0, 1_500_000, 30)
    monkeypatch.setenv("NN_PLAYGROUND_MAX_QUEUE", "3")
    monkeypatch.setenv("NN_PLAYGROUND_JOB_TIMEOUT_S", "120.5")
    monkeypatch.setenv("NN_PLAYGROUND_MAX_PARAMS", "2_000_000")
    monkeypatch.setenv("NN_PLAYGROUND_MAX_RUNS", " 5 ")
    reg = JobRegistry(runs_dir=tmp_path)
    reg.shutdown()
    assert (reg.max_queue, reg.job_timeout_s, reg.max_params, reg.max_runs) == (
        3, 120.5, 2_000_000, 5)
    reg = JobRegistry(runs_dir=tmp_path, max_queue=4, job_timeout_s=60, max_params=10,
                      max_runs=1)  # arguments win over the environment
    reg.shutdown()
    assert (reg.max_queue, reg.job_timeout_s, reg.max_params, reg.max_runs) == (4, 60.0, 10, 1)

    for env, bad, says in [("NN_PLAYGROUND_MAX_QUEUE", "0", "whole number >= 1, got '0'"),
                           ("NN_PLAYGROUND_MAX_RUNS", "many", "whole number >= 1"),
                           ("NN_PLAYGROUND_MAX_PARAMS", "1.5", "whole number >= 1"),
                           ("NN_PLAYGROUND_JOB_TIMEOUT_S", "-1", "number of seconds > 0"),
                           ("NN_PLAYGROUND_JOB_TIMEOUT_S", "inf", "number of seconds > 0")]:
        monkeypatch.setenv(env, bad)
        with pytest.raises(ValueError, match=f"\\({env}\\) must be a {says}"):
            JobRegistry(runs_dir=tmp_path)
        monkeypatch.delenv(env)
    with pytest.raises(ValueError, match=r"max_queue \(NN_PLAYGROUND_MAX_QUEUE\)"):
        JobRegistry(runs_dir=tmp_path, max_queue=True)


def test_estimate_follows_the_layer_shapes() -> None:
    mnist_cnn = PRESETS["mnist_cnn"]
    # conv 26·26·32·9 + conv 24·24·64·9·32 + dense 9216·128 + dense 128·10
    assert multiply_accumulates(mnist_cnn) == 194_688 + 10_616_832 + 1_179_648 + 1_280
    assert count_params(mnist_cnn) == 1_199_882
    assert multiply_accumulates(PRESETS["dense_800_400"]) == 784 * 800 + 800 * 400 + 400 * 10
    small = estimate_seconds(TINY, 300)
    assert jobs.STARTUP_S < small < jobs.STARTUP_S + 1
    assert estimate_seconds(TINY) > estimate_seconds(TINY, 30_000) > small
    assert estimate_seconds(with_recipe(TINY, epochs=4), 300) > small
    assert estimate_seconds(TINY, 60_000) == estimate_seconds(TINY, None)
    full = estimate_seconds(mnist_cnn)  # the course's biggest network, all images, 12 epochs
    assert 800 < full < 1000
    with pytest.raises(ValueError, match="whole number between 20 and 60000"):
        estimate_seconds(TINY, 5)


def test_too_large_and_too_long_networks_are_refused(idle: JobRegistry) -> None:
    huge = custom_spec(conv_filters=(64, 64), pooling="none", dense_units=512)
    with pytest.raises(NetworkTooLarge) as raised:
        idle.start(huge, 300)
    params = count_params(huge)
    assert str(raised.value) == (f"This network has {params:,} parameters; this server trains "
                                 "networks of up to 1,500,000 parameters. Use fewer filters or "
                                 "dense neurons.")
    assert isinstance(raised.value, TrainingRefused) and isinstance(raised.value, ValueError)
    assert idle.check_limits(with_recipe(PRESETS["mnist_cnn"], epochs=1), 10_000) > 0

    idle.job_timeout_s = 60.0
    long = with_recipe(PRESETS["cnn_34826"], epochs=10)
    with pytest.raises(TrainingTooLong, match=r"^This training would take about 2\.\d minutes "
                       r"on this server \(estimated\), more than its limit of 1 minute per "
                       r"training\. Use fewer epochs"):
        idle.start(long)
    assert idle.start(long, 3_000)  # fewer images fit
    assert [s.state for s in idle.jobs()] == ["queued"]


def test_a_full_queue_refuses_new_work_but_shares_identical_jobs(idle: JobRegistry) -> None:
    ids = [idle.start(tiny(e)) for e in (1, 2, 3)]
    with pytest.raises(RegistryBusy) as raised:
        idle.start(tiny(4))
    assert str(raised.value) == ("The server is busy: 3 trainings are waiting. "
                                 "Try again in a few minutes.")
    assert raised.value.waiting == 3 and isinstance(raised.value, ValueError)
    assert idle.start(tiny(2)) == ids[1]  # identical settings: shared, no new work
    assert len(idle.jobs()) == 3
    idle.cancel(ids[0])
    assert idle.start(tiny(4), owner="a")  # a place was freed
    # a session replacing its own queued job does not need a free place
    assert idle.status(idle.start(tiny(5), owner="a")).queue_position == 3
    assert [s.state for s in idle.jobs()] == ["cancelled", "queued", "queued", "cancelled",
                                              "queued"]
    assert str(RegistryBusy(1)).startswith("The server is busy: 1 training is waiting.")


def test_owners_share_replace_and_leave_jobs(idle: JobRegistry) -> None:
    shared = idle.start(tiny(1), owner="a")
    assert idle.start(tiny(1), owner="b") == shared
    assert idle.status(shared).owners == 2
    mine = idle.start(tiny(2), owner="a")  # a presses Train again with other settings
    assert idle.status(shared).state == "queued" and idle.status(shared).owners == 1
    assert idle.owner_job("a") == mine and idle.owner_job("b") == shared
    alone = idle.start(tiny(3), owner="b")  # b leaves the shared job: nobody waits, it stops
    assert idle.status(shared).state == "cancelled"
    assert idle.cancel(mine, owner="b") is False  # not b's job: nothing happens
    assert idle.status(mine).state == "queued"
    assert idle.cancel(mine, owner="a") is True and idle.status(mine).state == "cancelled"
    assert idle.owner_job("a") is None

    pinned = idle.start(tiny(4))  # owner=None (a script): it runs until cancelled for all
    assert idle.start(tiny(4), owner="c") == pinned and idle.status(pinned).owners == 1
    assert idle.cancel(pinned, owner="c") is False and idle.status(pinned).state == "queued"
    assert idle.cancel(pinned) is True and idle.status(pinned).state == "cancelled"
    retry = idle.start(tiny(4), owner="c")
    assert retry != pinned and retry.endswith(".2")  # a cancelled job is never shared
    assert idle.status(alone).state == "queued"
    with pytest.raises(ValueError, match="owner must be None or a non-empty session id"):
        idle.start(TINY, owner="")
    with pytest.raises(KeyError, match="unknown training job id"):
        idle.resume("nope")


def test_prune_keeps_the_newest_protected_and_active_runs(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    runs = tmp_path / "runs"
    old = [fake_run(runs / f"r{i}", mtime=1_000_000 + i) for i in range(5)]
    assert prune_runs(runs, 5) == [] and list_runs(runs) == old
    assert prune_runs(runs, 3, protected=[old[0]]) == [old[1], old[2]]
    assert list_runs(runs) == [old[0], old[3], old[4]]
    assert prune_runs(runs, 0, protected=old) == []
    with pytest.raises(ValueError, match="keep must be a whole number"):
        prune_runs(runs, -1)

    reg = JobRegistry(runs_dir=runs, max_runs=1)
    try:
        reg.max_concurrent = 0
        active = reg.status(reg.start(TINY, 300))  # queued; its folder holds a finished run
        fake_run(active.run_dir, mtime=900_000)  # (older than every other run)
        reg.protect(old[0])
        reg.protect(old[3])
        assert reg.prune_runs() == [old[4]]
        assert list_runs(runs) == [active.run_dir, old[0], old[3]]
        monkeypatch.setattr(jobs, "PROTECT_TTL_S", 0.0)  # the student left an hour ago
        time.sleep(0.01)
        assert reg.prune_runs() == [old[0], old[3]]
        assert list_runs(runs) == [active.run_dir]
    finally:
        reg.shutdown()
