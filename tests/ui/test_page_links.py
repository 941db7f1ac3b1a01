"""Every page's state in its address, and lesson links (issue 11), with the real Streamlit.

A page opened from a link takes the link's settings; the address it then writes opens the same
state in a fresh session; a bad value is a plain-text notice and leaves the default; a lesson
link draws its locked controls disabled, leaves its hidden ones out, and checks its task.
"""

from __future__ import annotations

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from nn_core.cnn.convolution import feature_map, get_kernel
from tests.support import ROOT, open_sections
from ui.common.state import decode_params
from ui.convolution import state as convolution_state
from ui.curves import state as curves_state
from ui.descent import state as descent_state
from ui.digits import state as digits_state
from ui.forward import state as forward_state

TIMEOUT = 120
PAGES = {  # page: (settings table, a changed state as query text, one bad value)
    "forward_pass": (forward_state.STATE, {"w5": "0.5", "hidden": "relu", "exact": "1"},
                     {"w6": "abc"}),
    "gradient_descent": (descent_state.STATE, {
        "runs": "sgd:0.5,momentum:0.02", "data": "3;0;3|0;1;-1|1;1;0", "loss": "mae",
        "scale": "2.5", "start_w1": "-1", "steps": "60", "step": "17", "log_y": "0"},
        {"data": "|".join(["1;1;1"] * (descent_state.MAX_DATA_ROWS + 1))}),
    "curves": (curves_state.STATE, {
        "activations": "tanh,elu", "x_range": "-4:6", "reg_target": "1.5",
        "reg_prediction": "-0.25", "bin_losses": "hinge", "logits": "1;2;3;4;5;6;7;8;9;10",
        "label": "9", "exact": "1"}, {"x_range": "5:-5"}),
    "convolution": (convolution_state.STATE, {
        "kernel": "sobel_x", "weights": "1;2;1|0;0;0|-1;-2;-1", "bias": "0.5",
        "activation": "relu", "row": "3", "col": "20", "pool_kind": "avg", "exact": "1"},
        {"index": "1e9"}),
    "draw_digit": (digits_state.STATE, {
        "source": "mnist", "mnist_index": "7", "ink": "Black ink on white", "stroke": "12",
        "per_channel": "1", "train_images": "1000"}, {"stroke": "500"}),
}


def _open(page: str, params: dict[str, str]) -> AppTest:
    at = AppTest.from_file(str(ROOT / "lessons" / f"{page}.py"), default_timeout=TIMEOUT)
    at.query_params.update(params)
    at.run()
    assert not at.exception, at.exception
    return at


def _same(a: object, b: object) -> bool:
    if isinstance(a, pd.DataFrame):  # the same cells (the editor may keep other dtypes)
        return list(a.columns) == list(b.columns) and a.astype(object).values.tolist() == \
            b.astype(object).values.tolist()
    return a == b


@pytest.mark.parametrize("page", PAGES)
def test_a_changed_state_survives_its_address(page: str) -> None:
    table, changed, _bad = PAGES[page]
    first = _open(page, changed)
    assert not first.warning or all("Ignored" not in w.value for w in first.warning)
    link, problems = decode_params(changed, table.url_spec)
    assert problems == []
    for name, value in link.items():  # the link's settings are the page's
        assert _same(first.session_state[table.key(name)], value), name
    address = dict(first.query_params)
    written, problems = decode_params(address, table.url_spec)
    assert problems == [] and all(_same(written[n], v) for n, v in link.items())
    again = _open(page, address)  # a fresh session, from the address the page wrote
    for name in table.url_spec:
        key = table.key(name)
        if key in first.session_state and key in again.session_state:
            assert _same(again.session_state[key], first.session_state[key]), name
    assert dict(again.query_params) == address


@pytest.mark.parametrize("page", PAGES)
def test_a_bad_value_is_a_plain_notice_and_the_default(page: str) -> None:
    table, _changed, bad = PAGES[page]
    at = _open(page, bad)
    (name,) = bad
    notices = [w.value for w in at.warning if "Ignored a part of the link" in w.value]
    assert len(notices) == 1 and f"{name}=" in notices[0]
    default = table.settings[name].fresh_default()
    assert _same(at.session_state[table.key(name)], default)


def test_a_lesson_link_locks_hides_and_checks_its_task() -> None:
    """Forward page: w5 locked, w6 hidden... the task asks for Y near the target."""
    link = {"lock": "w1,w2,w3,w4", "hide": "lr,loss", "task": "target"}
    at = _open("forward_pass", link)
    assert at.slider(key="fwd_w1__slider").disabled and at.number_input(
        key="fwd_w1__number").disabled
    assert not at.slider(key="fwd_w5__slider").disabled
    keys = {w.key for w in at.number_input} | {w.key for w in at.selectbox}
    assert "fwd_lr__w" not in keys and "fwd_loss__w" not in keys and "fwd_hidden__w" in keys
    assert any(i.value.startswith("Not yet") for i in at.info) and not at.success
    assert not any("Prepare a lesson link" in e.label for e in at.expander)
    # Solve it: with N1 = 2.154, N2 = -8.846 and w6 = 0, Y = 2.154 w5 hits the target 0.34.
    at.number_input(key="fwd_w6__number").set_value(0.0).run()
    at.number_input(key="fwd_w5__number").set_value(0.1578).run()
    assert any(s.value.startswith("Solved!") for s in at.success), [i.value for i in at.info]
    # The locked weights cannot be moved by the page's buttons either.
    at.button(key="fwd_step").click().run()
    assert at.session_state["fwd_w1"] == 0.42 and at.session_state["fwd_w5"] != 0.1578
    assert dict(at.query_params)["lock"] == "w1,w2,w3,w4"  # the lesson stays in the address


@pytest.mark.parametrize(("page", "task", "solved"), [
    ("gradient_descent", "diverge", {"runs": "sgd:2.5"}),
    ("curves", "mse_mae", {"reg_target": "0", "reg_prediction": "1"}),
    ("convolution", "edge_max", None),
    ("draw_digit", "seven", {"source": "mnist", "mnist_index": "0"}),
])
def test_each_pages_task_reports_success_once_solved(page: str, task: str,
                                                     solved: dict | None) -> None:
    at = _open(page, {"task": task})
    assert not any(s.value.startswith("Solved!") for s in at.success)
    assert any(i.value.startswith("Not yet") for i in at.info)
    if solved is None:  # the convolution task: the vertical-edge map's largest value
        image, _label = convolution_state.test_digit(convolution_state.LESSON_DIGIT)
        full = feature_map(image, get_kernel("vertical_edge"))
        row, col = divmod(int(full.argmax()), full.shape[1])
        at.slider(key="conv_row__w").set_value(row).run()
        at.slider(key="conv_col__w").set_value(col).run()
        assert any(s.value.startswith("Solved!") for s in at.success), [
            i.value for i in at.info]
    else:
        at = _open(page, {"task": task, **solved})
        assert any(s.value.startswith("Solved!") for s in at.success), [
            i.value for i in at.info]


def test_the_teacher_panel_writes_a_link_with_the_chosen_lesson() -> None:
    at = open_sections(_open("gradient_descent", {"loss": "mae"}))
    at.multiselect(key="gd_teach_lock__w").set_value(["loss", "runs"]).run()
    at.multiselect(key="gd_teach_hide__w").set_value(["data"]).run()
    at.selectbox(key="gd_teach_task__w").set_value("diverge").run()
    link = at.code[-1].value
    assert "?" in link and "loss=mae" in link and "lock=loss,runs" in link
    assert "hide=data" in link and "task=diverge" in link
    # closing the panel and opening it again keeps the teacher's choices
    at.session_state["gd_teach_open"] = False
    at.run()
    assert not any(w.key == "gd_teach_lock__w" for w in at.multiselect)
    at.session_state["gd_teach_open"] = True
    at.run()
    assert at.multiselect(key="gd_teach_lock__w").value == ["loss", "runs"]
    assert at.code[-1].value == link
