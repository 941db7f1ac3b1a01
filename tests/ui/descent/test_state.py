"""The descent page's stored tables: cleaned into the editors' columns and types, and the fast
check that skips the cleaning only when it would change nothing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ui.descent import state

CLEAN_DATA = pd.DataFrame({"x1": [1.0, 0.0], "x2": [0.0, 1.0], "target": [1.0, np.nan]})
CLEAN_RUNS = pd.DataFrame({"show": [True, False], "optimizer": ["adam", None],
                           "learning rate": [0.001, np.nan]}).astype({"optimizer": object})

DIRTY_DATA = [
    CLEAN_DATA.astype({"x1": object}).assign(x1=["1", 0.0]),  # a number as text
    CLEAN_DATA[["x2", "x1", "target"]],  # columns in another order
    CLEAN_DATA.drop(columns="target"),  # a column missing (an old version's table)
    CLEAN_DATA.assign(x1=[1, 0]),  # integers
    None,
]
DIRTY_RUNS = [
    CLEAN_RUNS.assign(optimizer=["adam", np.nan]),  # assigned as a list: pandas' string type
    CLEAN_RUNS.assign(optimizer=["adam", "lion"]),  # an optimizer this app does not have
    CLEAN_RUNS.assign(show=[1, 0]),  # ticks as numbers
    CLEAN_RUNS.astype({"optimizer": "string"}),  # pandas' string type, not the editor's
    CLEAN_RUNS.assign(**{"learning rate": ["0.01", None]}),
    "not a table",
]


@pytest.mark.parametrize(("name", "table"), [
    ("data", CLEAN_DATA), ("runs", CLEAN_RUNS), ("runs", CLEAN_RUNS.iloc[:0]),
    ("runs", CLEAN_RUNS.set_axis([3, 7])),  # rows left from a deletion keep their labels
    ("runs", CLEAN_RUNS.assign(optimizer=["adam", np.nan]).astype({"optimizer": object})),
])
def test_a_clean_table_is_recognised_and_cleaning_it_changes_nothing(name, table):
    assert state.is_clean(name, table)
    assert state.cleaned(name, table).equals(table)


@pytest.mark.parametrize(("name", "table"), [("data", t) for t in DIRTY_DATA]
                         + [("runs", t) for t in DIRTY_RUNS])
def test_a_dirty_table_is_cleaned_into_the_editors_types(name, table):
    assert not state.is_clean(name, table)
    clean = state.cleaned(name, table)
    assert state.is_clean(name, clean)  # cleaning once is enough
    columns = state.DATA_COLUMNS if name == "data" else state.RUN_COLUMNS
    assert tuple(clean.columns) == columns
