"""AppTests of the gradient-descent page: paths, step counts and messages against nn_core."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from nn_core import course
from nn_core.basics.descent import steps_to_reach, trajectories, trajectory
from nn_core.basics.keras_code import descent_script
from nn_core.basics.optimizers import Run
from tests.support import ROOT, open_sections
from ui.common.format import approx

PAGE = str(ROOT / "lessons" / "gradient_descent.py")
TIMEOUT = 60
LESSON = dict(start=course.DESCENT_START, inputs=course.DESCENT_INPUTS,
              targets=course.DESCENT_TARGETS, loss="mse")
RUNS, DATA = "gd_runs__editor0", "gd_data__editor0"


def edits(edited: dict | None = None, added: list | None = None,
          deleted: list | None = None) -> dict:
    """A data editor's state, the way the browser sends it."""
    return {"edited_rows": edited or {}, "added_rows": added or [], "deleted_rows": deleted or []}


def results(at: AppTest):
    """The results table, one row per optimizer path."""
    return next(d.value for d in at.dataframe if "optimizer" in d.value.columns
                and "settings" in d.value.columns)


def final_weights(at: AppTest, row: int) -> tuple[float, float]:
    column = next(c for c in results(at).columns if c.startswith("final (w1, w2)"))
    w1, w2 = results(at)[column].iloc[row].strip("()").split(", ")
    return float(w1), float(w2)


@pytest.fixture
def at() -> AppTest:
    app = open_sections(AppTest.from_file(PAGE, default_timeout=TIMEOUT).run())
    assert not app.exception and not app.error
    return app


def test_defaults_are_the_lesson_with_sgd_beside_adam(at: AppTest) -> None:
    adam = trajectory("adam", **LESSON, steps=course.DESCENT_STEPS,
                      learning_rate=course.DESCENT_LEARNING_RATE)
    sgd = trajectory("sgd", **LESSON, steps=course.DESCENT_STEPS, learning_rate=0.01)
    table = results(at)
    assert list(table["optimizer"]) == ["Adam (lr 0.001)", "SGD (lr 0.01)"]
    assert final_weights(at, 0) == pytest.approx(tuple(adam.weights[-1]), abs=5e-5)
    assert final_weights(at, 1) == pytest.approx(course.DESCENT_MINIMUM, abs=5e-5)
    arrived = next(c for c in table.columns if c.startswith("steps to within"))
    assert table[arrived].iloc[1] == str(steps_to_reach(sgd, course.DESCENT_MINIMUM))
    # the page names the steps the course's Adam(0.001) needs, as nn_core counts them
    course_adam = trajectory("adam", **LESSON, steps=20_000, learning_rate=0.001)
    needed = steps_to_reach(course_adam, course.DESCENT_MINIMUM, 0.01)
    assert f"needs **{needed} steps** to get within 0.01 of the minimum (1, -1)" in at.info[0].value
    text = "\n".join(m.value for m in at.markdown)
    assert "lr < 1 rolls smoothly down" in text and "lr > 2 oscillates ever wider" in text
    assert not at.warning


def test_course_settings_end_near_the_minimum(at: AppTest) -> None:
    at.button(key="gd_course").click().run()
    assert list(results(at)["optimizer"]) == ["Adam (lr 0.001)"]
    w1, w2 = final_weights(at, 0)
    assert abs(w1 - 1) < 1e-6 and abs(w2 + 1) < 0.15  # (1, -0.864) after the 3000 steps
    at.number_input(key="gd_steps__w").set_value(5000).run()
    w1, w2 = final_weights(at, 0)
    assert np.hypot(w1 - 1, w2 + 1) < 0.01  # the course's Adam arrives within 5000 steps
    assert not at.exception and not at.error


def test_a_diverging_learning_rate_is_labelled_not_an_error(at: AppTest) -> None:
    at.session_state[RUNS] = edits({1: {"learning rate": 2.5}})
    at.run()
    sgd = trajectory("sgd", **LESSON, steps=course.DESCENT_STEPS, learning_rate=2.5)
    assert sgd.diverged
    assert not at.exception and not at.error
    warning = at.warning[0].value
    assert "SGD (lr 2.5) diverged" in warning and f"at step {sgd.diverged_at}" in warning
    assert "leaves the plot at step 1" in warning
    column = next(c for c in results(at).columns if c.startswith("final (w1, w2)"))
    assert results(at)[column].iloc[1] == f"diverged at step {sgd.diverged_at}"


def test_the_step_scrubber_walks_along_every_path(at: AppTest) -> None:
    at.slider(key="gd_step__w").set_value(10).run()
    sgd = trajectory("sgd", **LESSON, steps=10, learning_rate=0.01)
    row = results(at).iloc[1]
    assert row["w2 at step 10"] == approx(float(sgd.weights[10, 1]))
    assert row["loss at step 10"] == approx(float(sgd.losses[10]))


def test_regimes_ravine_and_loss_switch(at: AppTest) -> None:
    at.button(key="gd_regimes").click().run()
    labels = list(results(at)["optimizer"])
    assert labels == ["SGD (lr 0.5)", "SGD (lr 1)", "SGD (lr 1.5)", "SGD (lr 2.5)"]
    assert len(at.warning) == 1 and "SGD (lr 2.5) diverged" in at.warning[0].value
    assert final_weights(at, 1) == (1.0, -1.0)  # lr 1 jumps to the minimum
    at.button(key="gd_ravine").click().run()
    assert at.slider(key="gd_scale__w").value == 3.0
    text = "\n".join(m.value for m in at.markdown)
    assert "lr < 0.111111" in text and "lr > 0.222222" in text  # thresholds of [[3, 0], [0, 1]]
    assert "(0.3333, -1)" in at.info[0].value  # the minimum moved to w1 = 1/3
    at.selectbox(key="gd_loss__w").set_value("mae").run()
    assert "These thresholds are for mse; mae bends differently." in "\n".join(
        m.value for m in at.markdown)
    assert not at.exception and not at.error


@pytest.mark.parametrize(("key", "state", "message"), [
    (DATA, edits({0: {"x1": None}}), "Row 1, column x1"),
    (DATA, edits(deleted=[0, 1]), "The data table is empty"),
    (DATA, edits(added=[{"x1": 1.0, "x2": 2.0}]), "Row 3, column target"),
    (RUNS, edits({0: {"learning rate": -1.0}}), "learning rate must be a number above 0"),
    (RUNS, edits({0: {"learning rate": None}}), "learning rate must be a number above 0"),
])
def test_bad_table_input_is_an_error_message(at: AppTest, key: str, state: dict,
                                             message: str) -> None:
    at.session_state[key] = state
    at.run()
    assert not at.exception
    assert at.error and message in at.error[0].value


def test_settings_survive_a_page_switch() -> None:
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT).run()
    app.switch_page("lessons/gradient_descent.py").run()
    app.session_state[RUNS] = edits({2: {"show": True}})
    app.session_state[DATA] = edits({1: {"target": 0.5}})
    app.run()
    app.selectbox(key="gd_loss__w").set_value("huber").run()
    before = results(app).to_string()
    app.switch_page("lessons/forward_pass.py").run()
    app.switch_page("lessons/gradient_descent.py").run()
    assert app.selectbox(key="gd_loss__w").value == "huber"
    assert results(app).to_string() == before
    assert "SGD + momentum (lr 0.01)" in before
    assert not app.exception


def test_keras_code_is_nn_cores_script_for_the_shown_paths(at: AppTest) -> None:
    """tests/nn_core/test_keras_code.py runs ``descent_script``: it ends where nn_core's do."""
    runs = [Run("adam", course.DESCENT_LEARNING_RATE), Run("sgd", 0.01)]
    paths = trajectories(runs, course.DESCENT_START, course.DESCENT_INPUTS,
                         course.DESCENT_TARGETS, "mse", course.DESCENT_STEPS)
    script = descent_script(course.DESCENT_INPUTS, course.DESCENT_TARGETS, "mse",
                            course.DESCENT_START, course.DESCENT_STEPS, paths,
                            ["Adam (lr 0.001)", "SGD (lr 0.01)"])
    assert at.code[0].value.strip() == script.strip()
    at.button(key="gd_course").click().run()
    assert 'print("SGD' not in at.code[0].value and 'print("Adam (lr 0.001):"' in at.code[0].value


def test_a_huge_data_cell_or_too_many_rows_is_a_message_not_a_crash(at: AppTest) -> None:
    """Issue 10, cases 3 and 8: a 1e200 cell, and a table beyond the page's limits."""
    at.session_state["gd_data"] = pd.DataFrame([[1e200, 0.0, 1.0], [0.0, 1.0, -1.0]],
                                               columns=["x1", "x2", "target"])
    at.session_state["gd_data__version"] = 1
    at.run()
    assert not at.exception and "keep every value within ±1,000,000" in at.error[0].value
    rows = [[1.0, float(i), 0.0] for i in range(60)]
    at.session_state["gd_data"] = pd.DataFrame(rows, columns=["x1", "x2", "target"])
    at.session_state["gd_data__version"] = 2
    at.run()
    assert not at.exception and "at most 50" in at.error[0].value
    many = pd.DataFrame([[True, "sgd", 0.01 * (i + 1)] for i in range(13)],
                        columns=["show", "optimizer", "learning rate"])
    at.session_state["gd_data"] = pd.DataFrame([[1.0, 0.0, 1.0], [0.0, 1.0, -1.0]],
                                               columns=["x1", "x2", "target"])
    at.session_state["gd_runs"] = many
    at.session_state["gd_data__version"] = at.session_state["gd_runs__version"] = 3
    at.run()
    assert not at.exception and "at most 12 at once" in at.error[0].value
