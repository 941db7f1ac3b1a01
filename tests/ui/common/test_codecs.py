"""The URL codecs of the settings tables (issue 11): every page's state round-trips through its
link exactly, and any text a link may hold is either a valid value or a plain ValueError.

Property tests (hypothesis) over each page's declared table: values drawn within the page's
limits encode and decode to the same value; arbitrary query text never raises anything but
ValueError, and what it decodes to is within the limits again.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nn_core.basics.optimizers import OPTIMIZERS
from ui.common.state import (
    Column,
    decode_lesson,
    decode_params,
    encode_lesson,
    encode_params,
    number_codec,
    range_codec,
    table_codec,
    words_codec,
)
from ui.convolution import state as convolution_state
from ui.curves import state as curves_state
from ui.descent import state as descent_state
from ui.digits import state as digits_state
from ui.forward import state as forward_state

FAST = settings(max_examples=200, deadline=None, derandomize=True)
PAGES = (forward_state.STATE, descent_state.STATE, curves_state.STATE,
         convolution_state.STATE, digits_state.STATE)
finite = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6)
junk = st.one_of(st.text(max_size=80), st.text(alphabet="0123456789.-e;:|,naif", max_size=60))


def _equal(a: object, b: object) -> bool:
    if isinstance(a, pd.DataFrame):
        return isinstance(b, pd.DataFrame) and a.reset_index(drop=True).equals(
            b.reset_index(drop=True))
    return a == b


@FAST
@given(low=finite, span=st.floats(min_value=1e-3, max_value=1e6), x=st.floats(0, 1))
def test_a_number_round_trips_within_its_bounds(low: float, span: float, x: float) -> None:
    codec = number_codec(low, low + span)
    value = low + x * span
    if value <= low + span:
        assert codec.decode(codec.encode(value)) == value
    with pytest.raises(ValueError, match="outside"):
        codec.decode(repr(low - span - 1.0))


@FAST
@given(a=st.floats(-20, 20), b=st.floats(-20, 20))
def test_a_range_round_trips_and_rejects_an_empty_one(a: float, b: float) -> None:
    codec = range_codec(-20.0, 20.0)
    if a < b:
        assert codec.decode(codec.encode((a, b))) == (a, b)
    else:
        with pytest.raises(ValueError):
            codec.decode(codec.encode((a, b)))


@FAST
@given(st.lists(st.sampled_from(["relu", "sigmoid", "tanh"]), max_size=3))
def test_a_choice_list_round_trips(chosen: list[str]) -> None:
    codec = words_codec(("relu", "sigmoid", "tanh"))
    assert codec.decode(codec.encode(chosen)) == chosen


@FAST
@given(st.lists(st.tuples(finite, finite, finite), min_size=1,
                max_size=descent_state.MAX_DATA_ROWS))
def test_the_descent_data_round_trip_exactly(rows: list[tuple[float, float, float]]) -> None:
    table = pd.DataFrame(rows, columns=list(descent_state.DATA_COLUMNS), dtype=float)
    codec = descent_state.DATA_CODEC
    assert codec.decode(codec.encode(table)).equals(table)


@FAST
@given(st.lists(st.tuples(st.sampled_from(list(OPTIMIZERS)),
                          st.floats(min_value=1e-6, max_value=100.0)),
                max_size=descent_state.MAX_SHOWN_PATHS))
def test_the_descent_optimizers_round_trip(runs: list[tuple[str, float]]) -> None:
    table = descent_state.runs_table(runs)
    codec = descent_state.RUNS_CODEC
    back = codec.decode(codec.encode(table))
    assert descent_state.read_runs(back) == runs  # the ticked rows, every digit of each lr


def test_a_long_data_table_is_refused_at_the_pages_limit() -> None:
    codec = descent_state.DATA_CODEC
    rows = "|".join(["1;2;3"] * (descent_state.MAX_DATA_ROWS + 1))
    with pytest.raises(ValueError, match="rows"):
        codec.decode(rows)
    with pytest.raises(ValueError, match="row 2: x2 is outside"):
        codec.decode("1;2;3|1;1e9;3")
    with pytest.raises(ValueError, match="row 1 has 2 cells"):
        codec.decode("1;2")


@FAST
@given(st.lists(finite, min_size=curves_state.CLASSES, max_size=curves_state.CLASSES))
def test_the_logits_round_trip_exactly(logits: list[float]) -> None:
    codec = curves_state.LOGITS_CODEC
    assert list(codec.decode(codec.encode(curves_state.logits_table(logits)))["logit z"]) \
        == logits


@FAST
@given(st.lists(finite, min_size=9, max_size=9))
def test_the_kernel_round_trips_exactly(weights: list[float]) -> None:
    table = convolution_state.kernel_table(np.reshape(weights, (3, 3)))
    codec = convolution_state.WEIGHTS_CODEC
    assert codec.decode(codec.encode(table)).equals(table)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.prefix)
def test_every_pages_defaults_round_trip_through_its_link(page) -> None:
    defaults = {n: page.settings[n].fresh_default() for n in page.url_spec}
    if page is digits_state.STATE:  # the training defaults come from the training module
        defaults = {n: v for n, v in defaults.items() if v is not None}
    params = encode_params(defaults, page.url_spec)
    decoded, problems = decode_params(params, page.url_spec)
    assert problems == []
    for name, value in defaults.items():
        assert _equal(decoded[name], value), name


@FAST
@given(st.sampled_from(PAGES), st.data())
def test_any_text_in_a_link_is_a_value_or_a_plain_problem(page, data) -> None:
    """Whatever a link holds: no exception, and anything accepted encodes back to itself."""
    name = data.draw(st.sampled_from(sorted(page.url_spec)))
    text = data.draw(junk)
    decoded, problems = decode_params({name: text}, page.url_spec)
    assert len(decoded) + len(problems) == 1
    if decoded:
        again = encode_params(decoded, page.url_spec)
        assert _equal(decode_params(again, page.url_spec)[0][name], decoded[name])
    for problem in problems:
        assert "](" not in problem and len(problem) < 400


def test_a_table_codec_names_the_bad_cell() -> None:
    codec = table_codec([Column("optimizer", ("sgd", "adam")), Column("lr", float, 0, 1)],
                        max_rows=2, row_sep=",", cell_sep=":")
    assert codec.decode("sgd:0.5,adam:1") == [("sgd", 0.5), ("adam", 1.0)]
    for text, reason in (("sgd:nan", "not a finite"), ("rmsprop:0.1", "not one of"),
                         ("sgd:2", "outside"), ("sgd:0.1,sgd:0.1,sgd:0.1", "3 rows")):
        with pytest.raises(ValueError, match=reason):
            codec.decode(text)
    assert math.isclose(codec.decode("adam:1e-3")[0][1], 0.001)


def test_a_lesson_link_keeps_only_the_pages_settings_and_tasks() -> None:
    spec = forward_state.STATE.url_spec
    lesson, problems = decode_lesson(
        {"lock": "w1,w2,nope", "hide": "loss,[x](y)", "task": "target"}, spec,
        [t.id for t in forward_state.TASKS])
    assert lesson == {"lock": ["w1", "w2"], "hide": ["loss"], "task": "target"}
    assert len(problems) == 2 and all("](" not in p for p in problems)
    assert encode_lesson(lesson) == {"lock": "w1,w2", "hide": "loss", "task": "target"}
    _, problems = decode_lesson({"task": "bogus"}, spec, ["target"])
    assert problems == ["task='bogus' is not a task of this page"]
