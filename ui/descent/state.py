"""The descent page's settings table, scenario callbacks, input readers and cached paths.

Settings live in Session State under ``gd_<name>`` (``STATE``); every surface value, path and
step count comes from ``nn_core.basics.descent``, cached per input with ``st.cache_data``; the
paths and step counts are computed in the walk worker (``ui.descent.walks``).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from nn_core import course
from nn_core.basics.descent import (
    Trajectory,
    error_surface,
    lr_thresholds,
    mse_minimum,
    steps_to_reach,
)
from nn_core.basics.losses import REGRESSION_LOSSES
from nn_core.basics.optimizers import OPTIMIZERS
from ui.common.format import short
from ui.common.i18n import N_, _
from ui.common.lesson import Task
from ui.common.state import Column, PageState, Setting, number_codec, table_codec
from ui.common.widgets import bump_editor
from ui.descent import walks
from ui.descent.figures import PathTrace, walk_figure

TOLERANCE = course.DESCENT_TOLERANCE
COURSE_SEARCH_STEPS = 20_000  # how far the course's Adam is followed to count its steps
MAX_STEPS = 20_000  # the steps input's upper end
RESOLUTION = 61  # grid points per axis of the error surface
# One-click scenarios: the ravine races (optimizer, learning rate) rows with input 1 scaled.
RAVINE_RUNS: tuple[tuple[str, float], ...] = (("sgd", 0.2), ("momentum", 0.02), ("adam", 0.05))
RAVINE_SCALE = 3.0
RAVINE_STEPS = 100
REGIME_STEPS = 40  # enough for lr > 2 to pass the divergence limit
# Limits that keep one student's table from slowing the server for the class (issue 10):
# 12 paths of 20,000 steps compute in about a second; 300 rows took 32 s a rerun.
MAX_DATA_ROWS = 50
MAX_SHOWN_PATHS = 12
MAX_TABLE_ROWS = 40  # rows of the optimizer table, shown or not
MAX_MAGNITUDE = 1e6  # |cell| of the data table: beyond it the loss overflows float64
DATA_COLUMNS = ("x1", "x2", "target")
RUN_COLUMNS = ("show", "optimizer", "learning rate")


def _course_runs() -> pd.DataFrame:
    """The course's Adam(0.001) plus plain SGD at Keras's default lr to compare."""
    return runs_table([(course.DESCENT_OPTIMIZER, course.DESCENT_LEARNING_RATE),
                       ("sgd", OPTIMIZERS["sgd"].defaults["learning_rate"])])


def _shown_runs(table: pd.DataFrame) -> list[tuple[str, float]]:
    """The ticked rows of the optimizer table that make a run, as (optimizer, lr): the part of
    the table a link carries (the unticked rows come back at their defaults)."""
    rows = []
    for show, name, lr in table[list(RUN_COLUMNS)].itertuples(index=False):
        lr = pd.to_numeric(lr, errors="coerce")
        if isinstance(show, bool | np.bool_) and show and name in OPTIMIZERS \
                and np.isfinite(lr) and lr > 0:
            rows.append((str(name), float(lr)))
    return rows[:MAX_SHOWN_PATHS]


# How the tables travel in a link: runs=adam:0.001,sgd:0.01 (the ticked rows) and
# data=1;0;1|0;1;1 (every row x1;x2;target), within the page's own limits.
RUNS_CODEC = table_codec(
    [Column("optimizer", tuple(OPTIMIZERS)), Column("learning rate", float, 1e-12, 1e6)],
    max_rows=MAX_SHOWN_PATHS, row_sep=",", cell_sep=":", dump=_shown_runs,
    load=lambda rows: runs_table(rows))
DATA_CODEC = table_codec(
    [Column(c, float, -MAX_MAGNITUDE, MAX_MAGNITUDE) for c in DATA_COLUMNS],
    max_rows=MAX_DATA_ROWS, min_rows=1, dump=lambda t: np.column_stack(read_data(t)).tolist(),
    load=lambda rows: pd.DataFrame(rows, columns=list(DATA_COLUMNS), dtype=float))
START_CODEC = number_codec(-MAX_MAGNITUDE, MAX_MAGNITUDE)
STATE = PageState("gd_", [
    Setting("data", lambda: default_data(), DATA_CODEC, N_("Training data")),
    Setting("runs", lambda: _course_runs(), RUNS_CODEC, N_("Optimizers and learning rates")),
    Setting("loss", course.DESCENT_LOSS, REGRESSION_LOSSES, N_("Loss function")),
    # conditioning: input 1 multiplied by this
    Setting("scale", 1.0, number_codec(0.25, 5.0), N_("Conditioning: multiply input 1 by")),
    Setting("start_w1", course.DESCENT_START[0], START_CODEC, N_("Start w1")),
    Setting("start_w2", course.DESCENT_START[1], START_CODEC, N_("Start w2")),
    Setting("steps", course.DESCENT_STEPS, number_codec(1, MAX_STEPS, integer=True),
            N_("Steps")),
    Setting("step", course.DESCENT_STEPS, number_codec(0, MAX_STEPS, integer=True),
            N_("Step (drag to walk along the paths)")),
    Setting("log_y", True, bool, N_("Logarithmic loss axis")),
])
P = STATE.prefix


def default_data() -> pd.DataFrame:
    """Lesson 002's two data points: inputs (n, 2) and targets (n,) as one editable table."""
    return pd.DataFrame(
        [[*x, t] for x, t in zip(course.DESCENT_INPUTS, course.DESCENT_TARGETS, strict=True)],
        columns=list(DATA_COLUMNS), dtype=float,
    )


def runs_table(rows: list[tuple[str, float]], others: bool = True) -> pd.DataFrame:
    """The optimizer table: the given (optimizer, lr) rows shown, then every other one hidden."""
    table = [[True, name, float(lr)] for name, lr in rows]
    if others:
        used = {name for name, _ in rows}
        table += [[False, name, float(o.defaults["learning_rate"])]
                  for name, o in OPTIMIZERS.items() if name not in used]
    return pd.DataFrame(table, columns=list(RUN_COLUMNS))


def on_course() -> None:
    """Button: exactly the lesson, Adam(0.001) alone on the default data, mse, start (1, 1)."""
    STATE.reset(runs=runs_table([(course.DESCENT_OPTIMIZER, course.DESCENT_LEARNING_RATE)]))


def on_ravine() -> None:
    """Button: input 1 scaled by 3 turns the bowl into a ravine; SGD, momentum and Adam race."""
    STATE.reset(scale=RAVINE_SCALE, runs=runs_table(list(RAVINE_RUNS)), steps=RAVINE_STEPS,
                step=RAVINE_STEPS)


def on_regimes() -> None:
    """Button: plain SGD at one learning rate from each regime of the current data's bowl."""
    try:
        one, two = lr_thresholds(scaled_inputs(read_data(STATE["data"]), STATE["scale"]))
    except ValueError:
        return  # the page shows what is wrong with the data
    if not math.isfinite(one):
        return
    rates = (0.5 * one, one, 0.5 * (one + two), 1.25 * two)
    STATE["runs"] = runs_table([("sgd", r) for r in rates], others=False)
    STATE["loss"] = "mse"
    STATE["steps"] = STATE["step"] = REGIME_STEPS
    bump_editor(STATE.key("runs"))


def clean_tables() -> None:
    """Give both stored tables the columns and types their editors show (numbers as floats,
    ticks as booleans), so nothing stored in a session (an old version's table, a value that
    is not a number) can break the editor; the readers below then report bad cells."""
    for name in ("data", "runs"):
        table = STATE[name]
        if is_clean(name, table):  # the common case, every rerun: nothing to convert
            continue
        table = cleaned(name, table)
        if not table.equals(STATE[name]) if isinstance(STATE[name], pd.DataFrame) else True:
            STATE[name] = table
            bump_editor(STATE.key(name))


def cleaned(name: str, table: object) -> pd.DataFrame:
    """The stored table ``name`` ("data" or "runs") with its editor's columns and types."""
    columns = list(DATA_COLUMNS if name == "data" else RUN_COLUMNS)
    if not isinstance(table, pd.DataFrame):
        table = pd.DataFrame(columns=columns)
    table = table.reindex(columns=columns)
    if name == "data":
        return table.apply(pd.to_numeric, errors="coerce").astype(float)
    return pd.DataFrame({
        "show": [bool(v) if isinstance(v, bool | np.bool_) else False for v in table["show"]],
        "optimizer": [v if v in OPTIMIZERS else None for v in table["optimizer"]],
        "learning rate": pd.to_numeric(table["learning rate"], errors="coerce"),
    }, columns=columns).astype({"show": bool, "optimizer": object, "learning rate": float})


def is_clean(name: str, table: object) -> bool:
    """True when ``cleaned(name, table)`` would equal ``table``: checked without building it
    (the conversion was 7% of /descent's server time under the load test, on every rerun)."""
    columns = DATA_COLUMNS if name == "data" else RUN_COLUMNS
    if not isinstance(table, pd.DataFrame) or tuple(table.columns) != columns:
        return False
    if name == "data":
        return all(dtype == np.float64 for dtype in table.dtypes)
    return (table["show"].dtype == np.bool_ and table["optimizer"].dtype == object
            and table["learning rate"].dtype == np.float64
            and all(v in OPTIMIZERS if isinstance(v, str) else v is None or v != v
                    for v in table["optimizer"]))  # an empty cell: None or NaN


def read_data(table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The edited table -> inputs (n, 2), targets (n,); ValueError saying which cell is wrong."""
    if table is None or len(table) == 0:
        raise ValueError(_("The data table is empty: add at least one row (x1, x2, target)."))
    missing = [c for c in DATA_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(_("The data table needs the columns x1, x2, target; missing "
                           "{missing}.").format(missing=", ".join(missing)))
    if len(table) > MAX_DATA_ROWS:
        raise ValueError(_("The data table has {n} rows; this page takes at most {limit}. "
                           "Delete some rows.").format(n=len(table), limit=MAX_DATA_ROWS))
    numbers = table[list(DATA_COLUMNS)].apply(pd.to_numeric, errors="coerce").to_numpy(float)
    bad = np.argwhere(~np.isfinite(numbers))
    if bad.size:
        row, col = bad[0]
        raise ValueError(_("Row {row}, column {column}: every cell must be a finite number "
                           "(fill in or delete the row).").format(row=row + 1,
                                                                   column=DATA_COLUMNS[col]))
    big = np.argwhere(np.abs(numbers) > MAX_MAGNITUDE)
    if big.size:
        row, col = big[0]
        raise ValueError(_("Row {row}, column {column}: keep every value within ±{limit} "
                           "(larger ones overflow the loss).").format(
            row=row + 1, column=DATA_COLUMNS[col], limit=f"{MAX_MAGNITUDE:,.0f}"))
    return numbers[:, :2], numbers[:, 2]


def scaled_inputs(data: tuple[np.ndarray, np.ndarray], scale: float) -> np.ndarray:
    """Inputs (n, 2) with input 1 multiplied by ``scale`` (the conditioning control)."""
    inputs = data[0].copy()
    inputs[:, 0] *= float(scale)
    return inputs


def read_runs(table: pd.DataFrame) -> list[tuple[str, float]]:
    """The shown rows of the optimizer table as (optimizer, lr); ValueError naming a bad row."""
    if len(table) > MAX_TABLE_ROWS:
        raise ValueError(_("The optimizer table has {n} rows; this page takes at most {limit}. "
                           "Delete some rows.").format(n=len(table), limit=MAX_TABLE_ROWS))
    runs = []
    for i, row in enumerate(table.itertuples(index=False), start=1):
        show, name, lr = row
        if not (isinstance(show, (bool, np.bool_)) and show):
            continue
        if name not in OPTIMIZERS:
            raise ValueError(_("Optimizer row {row}: choose an optimizer.").format(row=i))
        lr = pd.to_numeric(lr, errors="coerce")
        if not (np.isfinite(lr) and lr > 0):
            raise ValueError(_("Optimizer row {row} ({name}): the learning rate must be a "
                               "number above 0.").format(row=i, name=OPTIMIZERS[name].label))
        runs.append((str(name), float(lr)))
    if len(runs) > MAX_SHOWN_PATHS:
        raise ValueError(_("{n} optimizers are ticked; this page draws at most {limit} at "
                           "once. Untick some.").format(n=len(runs), limit=MAX_SHOWN_PATHS))
    return runs


def as_tuple(array: np.ndarray) -> tuple:
    """A hashable copy of an array for st.cache_data."""
    return tuple(map(tuple, array)) if np.ndim(array) == 2 else tuple(np.ravel(array).tolist())


@st.cache_data(max_entries=64, show_spinner=False)
def cached_surface(inputs: tuple, targets: tuple, loss: str) -> tuple[np.ndarray, ...]:
    """The error surface over the lesson's square: w1 (r,), w2 (r,), Z (r, r)."""
    return error_surface(np.array(inputs), np.array(targets), loss, course.DESCENT_RANGE,
                         RESOLUTION)


def cached_paths(runs: tuple, start: tuple, inputs: tuple, targets: tuple, loss: str,
                 steps: int) -> list[Trajectory]:
    """nn_core.basics.descent.trajectories for every shown optimizer, stepping together
    (equal bit for bit), from the server's walks, in the walk worker (``ui.descent.walks``):
    only steps never computed cost updates, and the server's other sessions do not wait."""
    return walks.POOL.paths(runs, start, inputs, targets, loss, steps)


# An int per data set: 256 of them cost nothing, and each miss is ~4,000 Adam steps (80 ms)
@st.cache_data(max_entries=256, show_spinner=False)
def course_steps(start: tuple, inputs: tuple, targets: tuple, loss: str,
                 minimum: tuple) -> int | None:
    """Steps the course's Adam(0.001) needs to get within TOLERANCE of ``minimum`` (in the walk
    worker)."""
    return walks.POOL.course_steps((course.DESCENT_OPTIMIZER, course.DESCENT_LEARNING_RATE),
                                   start, inputs, targets, minimum, loss, COURSE_SEARCH_STEPS,
                                   TOLERANCE)


def reached_steps(paths: list[Trajectory], minimum: np.ndarray) -> list[int | None]:
    """Each path's first step within TOLERANCE of ``minimum`` (2,), None if it never gets
    there: counted once per run of the page, not on every move of the step slider (the
    results table shows them, and ``steps_for_course`` reads the course's run there)."""
    return [steps_to_reach(p, minimum, TOLERANCE) for p in paths]


def steps_for_course(runs: list[tuple[str, float]], reached: list[int | None], start: tuple,
                     inputs: tuple, targets: tuple, loss: str, minimum: tuple) -> int | None:
    """The steps the course's Adam(0.001) needs from ``start`` to ``minimum`` (2,): read off the
    page's own path (``reached``: ``reached_steps`` of the runs' paths) when the table shows
    that run and it got there within the steps drawn, else searched (``course_steps``, in the
    walk worker).

    The page draws the course's run by default, and its results table already counts that
    path's steps ("steps to within 0.01"): reading the count there keeps the text and the
    table saying one number and spares the search, ~4,000 Adam steps (~75 ms of a worker) on
    every new data set, a move of the conditioning slider say."""
    for run, steps in zip(runs, reached, strict=True):
        if tuple(run) == (course.DESCENT_OPTIMIZER, course.DESCENT_LEARNING_RATE) \
                and steps is not None:
            return steps
    return course_steps(start, inputs, targets, loss, minimum)


def path_labels(runs: list[tuple[str, float]]) -> list[str]:
    """'Adam (lr 0.001)' for each run; repeats get '#2', '#3' so every label is unique."""
    labels: list[str] = []
    for name, lr in runs:
        label = f"{OPTIMIZERS[name].label} (lr {short(lr)})"
        n = sum(1 for existing in labels if existing.split(" #")[0] == label)
        labels.append(label if n == 0 else f"{label} #{n + 1}")
    return labels


@st.cache_resource(max_entries=32, show_spinner=False)
def cached_walk(key: tuple, runs: tuple, start: tuple, steps: int, log_y: bool,
                language: str) -> go.Figure:
    """The walk figure (contour, loss per step, browser animation) for these inputs, built once
    per server and ``language`` (its texts are in it): every session and rerun with the same
    settings sends the same figure."""
    w1, w2, z = cached_surface(*key)
    paths = cached_paths(runs, start, *key, steps) if runs else []
    labels = path_labels(list(runs))
    traces = [PathTrace(label, p.weights, p.losses, p.diverged_at)
              for label, p in zip(labels, paths, strict=True)]
    inputs, targets = np.array(key[0]), np.array(key[1])
    minimum = mse_minimum(inputs, targets)
    return walk_figure(w1, w2, z, traces, steps=steps, start=start, minimum=tuple(minimum),
                       log_y=log_y)


# ---------------------------------------------------------------------------------------------
# Tasks a lesson link can set (ui.common.lesson): checks of the paths the page computed
# ---------------------------------------------------------------------------------------------
REACH_STEPS = 50  # the "reach the minimum" task's step budget


def _sgd_diverges(v: dict) -> tuple[bool, str]:
    """values: runs [(optimizer, lr)], paths [Trajectory]."""
    sgd = [(lr, p) for (name, lr), p in zip(v["runs"], v["paths"], strict=True) if name == "sgd"]
    gone = [lr for lr, p in sgd if p.diverged]
    if gone:
        return True, _("SGD with lr {lr} diverges.").format(lr=short(min(gone)))
    if not sgd:
        return False, _("tick a plain SGD row in the optimizer table.")
    return False, _("every SGD run so far converges (largest lr {lr}).").format(
        lr=short(max(lr for lr, _p in sgd)))


def _reach_fast(v: dict) -> tuple[bool, str]:
    """values: runs, paths, minimum (2,)."""
    best = None
    for (name, lr), p in zip(v["runs"], v["paths"], strict=True):
        n = steps_to_reach(p, v["minimum"], TOLERANCE)
        if n is not None and (best is None or n < best[0]):
            best = (n, name, lr)
    if best is None:
        return False, _("no optimizer gets within {tol} of the minimum yet.").format(
            tol=TOLERANCE)
    text = _("{name} (lr {lr}) gets there in {n} steps.").format(
        name=OPTIMIZERS[best[1]].label, lr=short(best[2]), n=best[0])
    return best[0] <= REACH_STEPS, text


TASKS = (
    Task("diverge", N_("Find a learning rate at which plain SGD diverges."), _sgd_diverges),
    Task("reach", N_("Make one optimizer get within 0.01 of the minimum in at most 50 steps."),
         _reach_fast),
)
