"""The descent page's process-wide walks: shared by key, kept by the memory they hold."""

from __future__ import annotations

import numpy as np

from nn_core import course
from nn_core.basics.descent import trajectories
from nn_core.basics.optimizers import Run
from ui.descent import state

RUNS = (("adam", 0.001), ("sgd", 0.01))
START = tuple(course.DESCENT_START)


def data(scale: float) -> tuple[tuple, tuple, str]:
    inputs = ((scale, 0.0), (0.0, 1.0))
    return inputs, (1.0, 1.0), "mse"


def test_walks_are_shared_by_key_and_kept_within_their_memory_budget(monkeypatch):
    monkeypatch.setattr(state, "_walks", type(state._walks)())
    first = state.cached_paths(RUNS, START, *data(1.0), 1000)
    walk = state.shared_walk(RUNS, START, *data(1.0))
    assert state.shared_walk(RUNS, START, *data(1.0)) is walk and walk.computed == 1000
    expected = trajectories([Run(n, lr) for n, lr in RUNS], START, *map(np.array, data(1.0)[:2]),
                            "mse", 1000)
    for got, want in zip(first, expected, strict=True):
        np.testing.assert_array_equal(got.weights, want.weights)

    # room for two walks of 1,000 steps: a third pushes out the one used longest ago
    monkeypatch.setattr(state, "WALK_CACHE_BYTES", 2 * walk.nbytes + walk.nbytes // 2)
    state.cached_paths(RUNS, START, *data(2.0), 1000)
    state.cached_paths(RUNS, START, *data(1.0), 1000)  # used again: now the newest
    state.cached_paths(RUNS, START, *data(3.0), 1000)
    kept = [key[2][0][0] for key in state._walks]
    assert kept == [1.0, 3.0]
    assert sum(w.nbytes for w in state._walks.values()) <= state.WALK_CACHE_BYTES

    # one walk larger than the whole budget is still kept (the page is drawing it)
    state.cached_paths(RUNS, START, *data(4.0), 5000)
    assert [key[2][0][0] for key in state._walks] == [4.0]
