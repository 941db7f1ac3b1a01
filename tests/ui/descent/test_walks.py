"""The descent page's walks: shared by key, kept by the memory they hold, computed in a worker
process that is replaced when it dies, bit for bit nn_core.basics.descent's."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest

from nn_core import course
from nn_core.basics.descent import Trajectory, steps_needed, trajectories
from nn_core.basics.optimizers import Run
from ui.descent import state, walks

RUNS = (("adam", 0.001), ("sgd", 0.01))
START = tuple(course.DESCENT_START)


def data(scale: float) -> tuple[tuple, tuple, str]:
    inputs = ((scale, 0.0), (0.0, 1.0))
    return inputs, (1.0, 1.0), "mse"


def expected(scale: float, steps: int) -> list:
    inputs, targets, loss = data(scale)
    return trajectories([Run(n, lr) for n, lr in RUNS], START, np.array(inputs),
                        np.array(targets), loss, steps)


def assert_same_paths(got: list, want: list) -> None:
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_array_equal(g.weights, w.weights)
        np.testing.assert_array_equal(g.losses, w.losses)
        assert (g.diverged, g.diverged_at, g.settings) == (w.diverged, w.diverged_at, w.settings)


def test_walks_are_shared_by_key_and_kept_within_their_memory_budget() -> None:
    store = walks.WalkStore()
    first = store.paths(RUNS, START, *data(1.0), 1000)
    walk = store.walk(RUNS, START, *data(1.0))
    assert store.walk(RUNS, START, *data(1.0)) is walk and walk.computed == 1000
    assert_same_paths(first, expected(1.0, 1000))

    # room for two walks of 1,000 steps: a third pushes out the one used longest ago
    store.budget = 2 * walk.nbytes + walk.nbytes // 2
    store.paths(RUNS, START, *data(2.0), 1000)
    store.paths(RUNS, START, *data(1.0), 1000)  # used again: now the newest
    store.paths(RUNS, START, *data(3.0), 1000)
    assert [key[2][0][0] for key in store.kept()] == [1.0, 3.0]
    assert store.nbytes <= store.budget

    # one walk larger than the whole budget is still kept (the page is drawing it)
    store.paths(RUNS, START, *data(4.0), 5000)
    assert [key[2][0][0] for key in store.kept()] == [4.0]


def test_the_page_computes_its_walks_in_a_worker_process_bit_for_bit() -> None:
    pids = walks.POOL.worker_pids()
    assert os.getpid() not in pids and len(set(pids)) == walks.WALK_WORKERS
    assert_same_paths(state.cached_paths(RUNS, START, *data(1.5), 800), expected(1.5, 800))
    assert_same_paths(state.cached_paths(RUNS, START, *data(1.5), 300), expected(1.5, 300))
    inputs, targets, loss = data(1.5)
    minimum = (1.0 / 1.5, 1.0)
    want = steps_needed(Run(course.DESCENT_OPTIMIZER, course.DESCENT_LEARNING_RATE), START,
                        np.array(inputs), np.array(targets), minimum, loss,
                        state.COURSE_SEARCH_STEPS, state.TOLERANCE)
    assert want is not None
    assert state.course_steps(START, inputs, targets, loss, minimum) == want


def test_the_course_steps_are_read_off_the_pages_own_path_when_it_got_there() -> None:
    inputs, targets, loss = data(2.0)
    minimum = (0.5, 1.0)
    searched = state.course_steps(START, inputs, targets, loss, minimum)
    assert searched is not None
    long = state.cached_paths(RUNS, START, inputs, targets, loss, searched + 10)
    short = state.cached_paths(RUNS, START, inputs, targets, loss, searched - 1)
    args = (START, inputs, targets, loss, minimum)

    def course(paths: list, runs: tuple = RUNS) -> int | None:
        return state.steps_for_course(list(runs), state.reached_steps(paths, minimum), *args)

    # the course's Adam(0.001) is shown and got there: the page's path says the same number
    assert state.reached_steps(long, minimum)[0] == course(long) == searched
    # not there within the steps drawn, or not shown at all: searched
    assert state.reached_steps(short, minimum)[0] is None and course(short) == searched
    assert course(long[1:], RUNS[1:]) == searched
    # the count is the path's own: a path that arrives at step 2 says 2
    arrived = Trajectory("adam", np.array([START, (0.7, 1.0), minimum]), np.zeros(3), False, None)
    assert course([arrived], RUNS[:1]) == 2


def test_a_bad_walk_raises_its_error_in_the_server() -> None:
    with pytest.raises(ValueError, match="steps must be an integer"):
        walks.POOL.paths(RUNS, START, *data(1.0), -1)


def test_a_killed_worker_is_replaced_and_the_walk_still_comes() -> None:
    pool = walks.WalkPool(2)
    killed = pool.worker_pids()
    for pid in killed:
        os.kill(pid, signal.SIGKILL)
    for scale in (2.5, 3.5, 4.5):  # walks go to either worker, by their key
        assert_same_paths(pool.paths(RUNS, START, *data(scale), 400), expected(scale, 400))
    assert not set(pool.worker_pids()) & {*killed, os.getpid()}


def test_a_walk_always_goes_to_the_worker_that_keeps_it() -> None:
    pool = walks.WalkPool(2)
    slots = {pool._slot((RUNS, START, *data(scale))) for scale in np.linspace(1, 3, 9)}
    assert slots == {0, 1}  # both workers get walks
    key = (RUNS, START, *data(1.25))
    assert len({walks.WalkPool(2)._slot(key) for _ in range(3)}) == 1
    with pytest.raises(ValueError, match="at least one worker"):
        walks.WalkPool(0)


@pytest.mark.parametrize(("text", "workers"), [("", 2), ("3", 3), ("0", 1), ("99", 8),
                                               ("two", 2)])
def test_the_number_of_walk_workers_comes_from_the_environment(monkeypatch, text, workers):
    monkeypatch.setenv("NN_PLAYGROUND_WALK_WORKERS", text)
    assert walks._workers_from_env() == workers
