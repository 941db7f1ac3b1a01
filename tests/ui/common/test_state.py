"""ui.common.state: the settings table's URL round trip, and link values shown as plain text."""

from __future__ import annotations

from ui.common import state
from ui.common.format import plain


def test_query_params_round_trip_exactly() -> None:
    values = {"w1": 0.1 + 0.2, "x1": -5.8, "hidden": "relu", "steps": 3}
    encoded = state.encode_params(values)
    assert encoded == {"w1": "0.30000000000000004", "x1": "-5.8", "hidden": "relu",
                       "steps": "3"}
    spec = {"w1": float, "x1": float, "hidden": ("linear", "relu")}
    decoded, problems = state.decode_params(encoded, spec)
    assert decoded == {"w1": 0.1 + 0.2, "x1": -5.8, "hidden": "relu"} and problems == []


def test_bad_query_params_are_reported_not_applied() -> None:
    spec = {"w1": float, "w2": float, "w3": float, "hidden": ("linear", "relu")}
    decoded, problems = state.decode_params(
        {"w1": "abc", "w2": "inf", "w3": ["1", "2"], "hidden": "softmax", "other": "x"}, spec)
    assert decoded == {"w3": 2.0}  # a repeated parameter: the last one wins, as st.query_params
    assert len(problems) == 3
    assert any("w1='abc'" in p for p in problems) and any("softmax" in p for p in problems)


def test_link_values_are_plain_shortened_text() -> None:
    spec = {"hidden": ("linear", "relu"), "loss": ("mse",), "w1": float}
    link = "[Click here to log in](https://evil.example/login)"
    _, problems = state.decode_params({"hidden": link, "loss": "![x](https://a.example/t.png)",
                                       "w1": "9" * 100_000}, spec)
    assert len(problems) == 3
    assert all("](" not in p and "![" not in p for p in problems)  # no Markdown link or image
    assert all(len(p) < 200 for p in problems)  # a 100 KB value is not echoed whole
    assert plain("a*b_c") == "a\\*b\\_c"
