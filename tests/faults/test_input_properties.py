"""Property-based tests (hypothesis): any URL value and any table a student can type gives a
page without an exception, and text from a link is never shown as Markdown."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from tests.support import ROOT
from ui.common.state import Codec, decode_params
from ui.convolution import state as convolution_state
from ui.curves import state as curves_state
from ui.descent import state as descent_state
from ui.forward import state as forward_state

FORWARD = str(ROOT / "lessons" / "forward_pass.py")
DESCENT = str(ROOT / "lessons" / "gradient_descent.py")
CURVES = str(ROOT / "lessons" / "curves.py")
CONVOLUTION = str(ROOT / "lessons" / "convolution.py")
PAGE_SETTINGS = settings(max_examples=20, deadline=None, derandomize=True,
                         suppress_health_check=[HealthCheck.too_slow,
                                                HealthCheck.function_scoped_fixture])

# What arrives in a query parameter: numbers of every size, words, Markdown, long junk.
url_values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(min_value=-10**40, max_value=10**40).map(str),
    st.sampled_from(["relu", "sigmoid", "exponential", "softmax", "mse", "hinge", "", " ",
                     "[x](https://evil.example)", "![x](https://a.example/t.png)", "<b>x</b>"]),
    st.text(max_size=300),
)
# What a table cell may hold after editing: numbers, huge and tiny ones, empty, text.
cells = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.none(),
                  st.integers(min_value=-10**30, max_value=10**30), st.text(max_size=8))


@given(st.dictionaries(st.sampled_from(sorted(forward_state.STATE.url_spec)), url_values,
                       max_size=6))
@settings(max_examples=200, deadline=None, derandomize=True)
def test_decoding_any_link_keeps_only_valid_settings(params: dict[str, str]) -> None:
    values, problems = decode_params(params, forward_state.STATE.url_spec)
    for name, value in values.items():
        kind = forward_state.STATE.url_spec[name]
        if kind is float:
            assert math.isfinite(value)
        elif kind is bool:
            assert isinstance(value, bool)
        elif isinstance(kind, Codec):  # a bounded value: it reads back as itself
            assert kind.decode(kind.encode(value)) == value
        else:
            assert value in kind
    assert len(values) + len(problems) == len(params)
    for problem in problems:  # plain, shortened text: no Markdown link or image survives
        assert "](" not in problem and len(problem) < 250


@given(st.dictionaries(st.sampled_from(sorted(forward_state.STATE.url_spec)), url_values,
                       min_size=1, max_size=6))
@PAGE_SETTINGS
def test_the_forward_page_opens_from_any_link(params: dict[str, str]) -> None:
    at = AppTest.from_file(FORWARD, default_timeout=60)
    for name, value in params.items():
        at.query_params[name] = value
    at.run()
    assert not at.exception, params
    assert at.title[0].value == "Forward pass of a 2-2-1 network"


@given(st.lists(st.tuples(cells, cells, cells), min_size=0, max_size=8))
@settings(max_examples=300, deadline=None, derandomize=True)
def test_reading_any_data_table_gives_arrays_or_a_message(rows: list[tuple]) -> None:
    table = pd.DataFrame(rows, columns=list(descent_state.DATA_COLUMNS))
    try:
        inputs, targets = descent_state.read_data(table)
    except ValueError as exc:
        assert str(exc)  # a message the page shows
    else:
        assert inputs.shape == (len(rows), 2) and targets.shape == (len(rows),)
        assert np.all(np.abs(inputs) <= descent_state.MAX_MAGNITUDE)


@given(st.lists(st.tuples(cells, cells, cells), min_size=1, max_size=4),
       st.lists(st.tuples(st.one_of(st.booleans(), st.none()),
                          st.one_of(st.sampled_from(["adam", "sgd", "momentum", "nope"]),
                                    st.none()), cells), max_size=4))
@PAGE_SETTINGS
def test_the_descent_page_survives_any_edited_tables(data: list[tuple], runs: list[tuple]) -> None:
    at = AppTest.from_file(DESCENT, default_timeout=60).run()
    at.session_state["gd_data"] = pd.DataFrame(data, columns=list(descent_state.DATA_COLUMNS))
    at.session_state["gd_runs"] = pd.DataFrame(runs, columns=list(descent_state.RUN_COLUMNS))
    at.session_state["gd_data__version"] = at.session_state["gd_runs__version"] = 1
    at.run()
    assert not at.exception, (data, runs)


# What a number cell of a fixed-size editor can hold: any float (huge, tiny, inf, NaN) or empty.
number_cells = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.none())


@given(st.lists(number_cells, min_size=10, max_size=10), st.integers(0, 9))
@PAGE_SETTINGS
def test_the_curves_page_survives_any_logits(logits: list, label: int) -> None:
    at = AppTest.from_file(CURVES, default_timeout=60).run()
    at.session_state["curves_logits"] = pd.DataFrame(
        {curves_state.LOGIT_COLUMNS[0]: list(range(10)), curves_state.LOGIT_COLUMNS[1]: logits})
    at.session_state["curves_label"] = label
    at.session_state["curves_logits__version"] = 1
    at.run()
    assert not at.exception, logits


@given(st.lists(number_cells, min_size=9, max_size=9), number_cells.filter(
    lambda b: b is not None))
@PAGE_SETTINGS
def test_the_convolution_page_survives_any_kernel(cells: list, bias: float) -> None:
    at = AppTest.from_file(CONVOLUTION, default_timeout=60).run()
    at.session_state["conv_weights"] = pd.DataFrame(
        np.array(cells, dtype=object).reshape(3, 3), columns=list(convolution_state.COLUMNS))
    at.session_state["conv_bias"] = bias
    at.session_state["conv_weights__version"] = 1
    at.run()
    assert not at.exception, (cells, bias)
