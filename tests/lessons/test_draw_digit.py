"""AppTests of the "Draw a digit" page: real Streamlit, the shipped model, NumPy inference.

Drawings are injected the way the canvas component itself reports them: its session-state
entry ``{"drawing": {"raw": fabric json, "data": PNG data URL}}`` under the canvas key.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from nn_core.cnn.digits import load_mnist, render_on_canvas
from nn_core.cnn.keras_code import model_script
from nn_core.cnn.presets import PRESETS
from nn_core.cnn.specs import ModelSpec, count_params
from nn_core.cnn.summary import COLUMNS, summary_records, summary_rows, total_params
from nn_core.training.jobs import duration_text, estimate_seconds
from nn_core.training.runs import DEFAULT_MODEL_DIR
from tests.nn_core.training.helpers import TINY, fake_run
from tests.support import (
    APP_TIMEOUT_S,
    DIGIT_PAGE,
    LONG_TRAINING_IMAGES,
    ROOT,
    canvas_state,
    open_sections,
    submit_tiny_training,
    texts,
    wait_for_training,
)
from ui.digits import state as digit_state

CANVAS = "digit_canvas_0"  # the canvas key until the first "Clear" or ink change


@pytest.fixture(scope="module")
def mnist_test() -> tuple[np.ndarray, np.ndarray]:
    """MNIST's test images (10000, 28, 28) uint8 and labels."""
    _, test = load_mnist()
    return test


def new_app() -> AppTest:
    """The page, run, with its Keras code open."""
    at = AppTest.from_file(str(DIGIT_PAGE), default_timeout=APP_TIMEOUT_S)
    open_sections(at.run())
    assert not at.exception
    return at


def whole_app() -> AppTest:
    """app.py with its navigation, switched to the digit page."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=APP_TIMEOUT_S)
    at.run()
    return switch(at, "lessons/draw_digit.py")


def switch(at: AppTest, page: str) -> AppTest:
    """Go to another page of app.py."""
    at.switch_page(page)
    at.run()
    assert not at.exception
    return at


def draw(at: AppTest, rgba: np.ndarray, key: str = CANVAS) -> None:
    """Inject a drawing into the canvas and rerun."""
    at.session_state[key] = canvas_state(rgba)
    at.run()
    assert not at.exception


def prediction(at: AppTest) -> str | None:
    """The value of the "Prediction" metric, None when the page shows none."""
    values = [m.value for m in at.metric if m.label == "Prediction"]
    assert len(values) <= 1
    return values[0] if values else None


def asks_to_draw(at: AppTest) -> bool:
    """The page's "draw a digit" prompt is shown."""
    return "Draw a digit on the canvas" in texts(at.info)


def chart_specs(at: AppTest) -> list[dict]:
    """Every plotly figure on the page, as JSON dicts."""
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def test_page_renders_with_the_shipped_model() -> None:
    at = new_app()
    assert not at.error
    assert [w for w in at.warning] == []
    assert at.title[0].value == "Draw a digit"
    model = at.selectbox(key="digit_model__w")
    assert Path(model.value) == DEFAULT_MODEL_DIR
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Test accuracy"].endswith("%")
    assert float(metrics["Test accuracy"].rstrip("%")) >= 99.0
    assert asks_to_draw(at)
    assert prediction(at) is None
    code = texts(at.code)
    assert "keras.Sequential" in code and "layers.Conv2D(" in code


@pytest.mark.parametrize("index", [0, 1, 2, 3, 4, 7])
def test_an_injected_drawing_is_predicted(mnist_test, index: int) -> None:
    x_test, y_test = mnist_test
    at = new_app()
    draw(at, render_on_canvas(x_test[index]))  # white ink on the black 280×280 canvas
    assert prediction(at) == str(y_test[index])
    assert not at.error
    assert not asks_to_draw(at)
    confidence = next(m.value for m in at.metric if m.label == "Confidence")
    assert confidence.endswith("%")


def test_black_ink_on_a_transparent_canvas_is_predicted(mnist_test) -> None:
    x_test, y_test = mnist_test
    at = new_app()
    rgba = render_on_canvas(x_test[1], ink=(0, 0, 0), background=(0, 0, 0, 0),
                            box=(40, 60, 180, 150))
    draw(at, rgba)
    assert prediction(at) == str(y_test[1])


def test_a_garbled_drawing_says_so_and_keeps_the_last_one(mnist_test) -> None:
    x_test, y_test = mnist_test
    at = new_app()
    draw(at, render_on_canvas(x_test[0]))
    broken = canvas_state(render_on_canvas(x_test[1]), mark=2)
    broken["drawing"]["data"] = "data:image/png;base64," + "iVBORw0KGgoAAAANSUhEUgAA" * 3
    at.session_state[CANVAS] = broken
    at.run()
    assert not at.exception
    assert any(e.value.startswith("The drawing could not be read: ") for e in at.error)
    assert prediction(at) == str(y_test[0])  # the last good drawing is still read
    at.session_state[CANVAS] = canvas_state(render_on_canvas(x_test[1]), mark=3)
    at.run()  # the next good stroke is read again
    assert not at.error and prediction(at) == str(y_test[1])


def test_feature_maps_one_grid_per_conv_and_pool_layer(mnist_test) -> None:
    x_test, _ = mnist_test
    at = new_app()
    draw(at, render_on_canvas(x_test[0]))
    specs = chart_specs(at)
    titles = [spec["layout"]["title"]["text"] for spec in specs if spec["layout"].get("title")]
    spec = json.loads((DEFAULT_MODEL_DIR / "spec.json").read_text())
    kinds = [layer["kind"] for layer in spec["layers"]]
    # all conv/pool layers in one chart: a mosaic per layer, each under its title
    [maps] = [s for s in specs if s["data"] and "coloraxis" in s["data"][0]]
    grids = [html.unescape(a["text"]) for a in maps["layout"]["annotations"]]  # sent as ASCII
    assert len(maps["data"]) == len(grids) == sum(k in ("conv", "maxpool", "avgpool")
                                                  for k in kinds)
    # layers titled for students ('Conv 1: 32 filters 3×3'), never by Keras's generated names
    assert all(" → " in t and "×" in t.split(" → ")[1] and t.split(" → ")[0].startswith(
        ("Conv ", "Max pooling ", "Average pooling ")) for t in grids)
    assert not any(t.startswith(("conv2d", "max_pooling2d", "dense_")) for t in grids)
    # the caption below names each layer's maps, and Keras's name for matching model.summary()
    assert "32 maps of 26×26: each filter slides a 3×3 window" in texts(at.caption)
    assert "Keras layer: conv2d_1." in texts(at.caption)
    assert not any(t.startswith(("conv2d", "max_pooling2d", "dense_")) for t in titles)
    assert grids[0].endswith("26×26×32") or grids[0].endswith(
        f"×{spec['layers'][0]['size']}")
    assert any(t.startswith("First layer's") for t in titles)
    assert "Probability of each digit" in titles


def test_blank_canvas_asks_to_draw() -> None:
    at = new_app()
    blank = np.zeros((280, 280, 4), np.uint8)
    blank[..., 3] = 255  # the opaque black background, no ink
    draw(at, blank)
    assert asks_to_draw(at)
    assert prediction(at) is None
    assert not at.error


def test_clear_button_empties_the_drawing(mnist_test) -> None:
    x_test, _ = mnist_test
    at = new_app()
    draw(at, render_on_canvas(x_test[0]))
    assert prediction(at) is not None
    at.button(key="digit_clear").click()
    at.run()
    assert asks_to_draw(at)
    assert prediction(at) is None
    assert at.session_state["digit_canvas_version"] == 1  # a fresh, empty canvas
    assert at.session_state["digit_seed"] == {"objects": []}


def test_random_test_digit_shows_its_true_label(mnist_test) -> None:
    _x_test, y_test = mnist_test
    at = new_app()
    at.button(key="digit_random").click()
    at.run()
    assert not at.exception
    index = at.session_state["digit_mnist_index"]
    assert prediction(at) is not None
    shown = texts(at.success) + texts(at.error)
    assert f"True label: {y_test[index]}." in shown
    at.button(key="digit_back").click()  # back to the (empty) drawing
    at.run()
    assert asks_to_draw(at)


def test_ink_change_keeps_the_drawing(mnist_test) -> None:
    x_test, y_test = mnist_test
    at = new_app()
    draw(at, render_on_canvas(x_test[2]))
    at.radio(key="digit_ink__w").set_value("Black ink on white")
    at.run()
    assert not at.exception
    assert prediction(at) == str(y_test[2])  # the drawing is still read
    seed = at.session_state["digit_seed"]
    assert seed["objects"] and all(o["stroke"] == "#000000" for o in seed["objects"])


def test_epoch_slider_reads_with_earlier_weights(mnist_test) -> None:
    x_test, _y_test = mnist_test
    at = new_app()
    draw(at, render_on_canvas(x_test[0]))
    slider = at.select_slider(key="digit_epoch__w")
    options = slider.options
    assert len(options) >= 2
    slider.set_value(options[0])
    at.run()
    assert not at.exception
    assert prediction(at) is not None
    assert f"weights after epoch {options[0]} of" in texts(at.caption)


def test_drawing_and_settings_survive_a_page_switch(mnist_test) -> None:
    x_test, y_test = mnist_test
    at = whole_app()
    at.slider(key="digit_stroke__w").set_value(31)
    at.toggle(key="digit_per_channel__w").set_value(True)
    at.run()
    draw(at, render_on_canvas(x_test[3]))
    assert prediction(at) == str(y_test[3])
    drawn = at.session_state["digit_drawing"]["json"]
    switch(at, "lessons/forward_pass.py")
    assert prediction(at) is None
    switch(at, "lessons/draw_digit.py")
    assert prediction(at) == str(y_test[3])  # read from the kept drawing
    assert at.session_state["digit_seed"] == drawn  # the remounted canvas redraws it
    assert at.slider(key="digit_stroke__w").value == 31
    assert at.toggle(key="digit_per_channel__w").value is True


def test_evaluation_shows_confusion_matrix_and_mistakes() -> None:
    at = new_app()
    titles = [spec["layout"].get("title", {}).get("text", "") for spec in chart_specs(at)]
    assert "Confusion matrix (test set)" in titles
    assert any(t.startswith("Test digits it gets wrong") for t in titles)


def test_a_bad_custom_setting_shows_an_error(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("NN_PLAYGROUND_RUNS", str(tmp_path / "runs"))
    at = new_app()
    at.selectbox(key="digit_train_kind__w").set_value("custom")
    at.run()
    at.number_input(key="digit_train_lr_custom__w").set_value(5.0)
    at.button(key="digit_train_submit").click()
    at.run()
    assert not at.exception
    errors = texts(at.error)
    assert "Cannot train this network" in errors and "learning_rate" in errors
    assert at.session_state["digit_job_id"] is None
    assert at.button(key="digit_train_submit").disabled  # said before pressing, too


def test_missing_shipped_model_and_mnist_warn_and_the_page_still_works(tmp_path,
                                                                        monkeypatch) -> None:
    monkeypatch.setenv("NN_PLAYGROUND_RUNS", str(tmp_path / "runs"))
    monkeypatch.setattr("nn_core.training.runs.DEFAULT_MODEL_DIR", tmp_path / "no-model")
    monkeypatch.setattr("nn_core.cnn.digits.MNIST_ASSET", tmp_path / "no-mnist.npz")
    at = AppTest.from_file(str(DIGIT_PAGE), default_timeout=APP_TIMEOUT_S)
    at.run()
    assert not at.exception
    assert "The shipped model is missing" in texts(at.warning)
    assert "No trained network yet" in texts(at.info)
    at.button(key="digit_random").click()
    at.run()
    assert not at.exception
    assert "The MNIST data set is missing" in texts(at.warning)
    assert at.button(key="digit_train_submit")  # the training form is still there


def test_the_form_starts_on_the_quick_recipe_and_warns_before_a_tiny_training(runs) -> None:
    at = new_app()
    quick = PRESETS["quick_99"]
    assert at.selectbox(key="digit_train_kind__w").value == "quick_99"
    assert at.selectbox(key="digit_train_images__w").value == 60_000
    steps_per_epoch = -(-54_000 // quick.recipe.batch_size)  # 10% of 60,000 validate
    shown = texts(at.caption)
    assert (f"{steps_per_epoch * quick.recipe.epochs:,} optimizer steps in all "
            f"({steps_per_epoch:,} batches per epoch)") in shown
    assert f"about **{duration_text(estimate_seconds(quick))}**" in shown
    assert not at.warning and not at.error
    # Lesson 003's network on 1,000 images: one batch of 1,000 an epoch, so 10 steps in all.
    at.selectbox(key="digit_train_kind__w").set_value("cnn_34826").run()
    at.selectbox(key="digit_train_images__w").set_value(1_000).run()
    assert not at.exception
    warned = texts(at.warning)
    assert "Expect a low accuracy. It updates the weights only 10 times in all" in warned
    assert "It learns from only 900 images" in warned
    assert not at.button(key="digit_train_submit").disabled  # a warning, not a refusal


@pytest.mark.slow
def test_training_a_tiny_custom_model_to_completion(runs, mnist_test) -> None:
    at = whole_app()
    submit_tiny_training(at, lr=0.005)
    job_id = at.session_state["digit_job_id"]
    assert job_id is not None
    switch(at, "lessons/curves.py")  # the job keeps going while the student looks elsewhere
    switch(at, "lessons/draw_digit.py")
    assert at.session_state["digit_job_id"] == job_id
    assert at.selectbox(key="digit_train_kind__w").value == "custom"  # the form kept its settings
    assert at.number_input(key="digit_train_f1__w").value == 4
    wait_for_training(at, "the tiny training")
    curves = [s for s in chart_specs(at)
              if [a["text"] for a in s["layout"].get("annotations", [])][:2]
              == ["Loss", "Accuracy"]]
    assert curves, "the job's loss/accuracy curves are shown"
    names = {trace.get("name") for trace in curves[0]["data"]}
    assert {"train", "validation"} <= names
    done = texts(at.success)
    accuracy = float(done.split("Finished: test accuracy ")[1].split("%")[0])
    assert 50.0 < accuracy < 97.0  # 900 images, 1 epoch: far better than chance, far from 99%
    hint = texts(at.info)  # the page says why: ceil(900 / 32) = 29 steps, 900 images
    assert f"Why {accuracy:.2f}% and not 99%?" in hint
    assert "It updates the weights only 29 times in all (batches of 32 images, 900 images" in hint
    assert "It learns from only 900 images (100 more are kept aside to validate)" in hint
    # The finished network is now selectable; "Use" selects it and it reads a drawing.
    run_dirs = list(runs.iterdir())
    assert len(run_dirs) == 1
    labels = at.selectbox(key="digit_model__w").options  # AppTest lists the shown labels
    assert any(label.startswith("Custom CNN: conv 4 (3×3") for label in labels)
    at.button(key="digit_use_trained").click()
    at.run()
    assert not at.exception
    assert at.selectbox(key="digit_model__w").value == str(run_dirs[0])
    x_test, _ = mnist_test
    draw(at, render_on_canvas(x_test[0]))
    assert prediction(at) is not None
    assert "4 maps of 26×26" in texts(at.caption)


def test_a_second_session_waits_in_the_queue_and_both_can_cancel(runs, monkeypatch) -> None:
    # Two browser sessions share the server's registry (one job trains at a time by default).
    monkeypatch.delenv("NN_PLAYGROUND_MAX_JOBS", raising=False)
    first, second = new_app(), new_app()
    submit_tiny_training(first, images=LONG_TRAINING_IMAGES, lr=0.005)
    second.selectbox(key="digit_train_kind__w").set_value("lenet")
    second.run()
    second.selectbox(key="digit_train_images__w").set_value(1_000)
    second.button(key="digit_train_submit").click()
    second.run()
    assert not second.exception and not second.error
    assert "Waiting in the queue: position 1" in texts(second.info)
    assert "Cancel training" in [b.label for b in second.button]
    for at in (second, first):
        at.button(key="digit_cancel").click()
        at.run()
        assert not at.exception
        assert "Training was cancelled." in texts(at.warning)
        assert not [b for b in at.button if b.label == "Cancel training"]


def test_the_keras_code_is_the_chosen_networks_script() -> None:
    # model_script itself is run by real Keras in tests/nn_core/test_models.py.
    at = new_app()
    spec = ModelSpec.from_dict(json.loads((DEFAULT_MODEL_DIR / "spec.json").read_text()))
    assert at.code[0].value == model_script(spec).rstrip("\n")  # st.code drops the last newline
    params = next(m.value for m in at.metric if m.label == "Parameters")
    assert f"# {params} trainable parameters" in at.code[0].value


def summary_frame(at: AppTest):
    """The model.summary() table of the chosen network."""
    return next(d.value for d in at.dataframe if list(d.value.columns) == list(COLUMNS))


def test_summary_table_of_the_shipped_network() -> None:
    at = new_app()
    spec = ModelSpec.from_dict(json.loads((DEFAULT_MODEL_DIR / "spec.json").read_text()))
    rows = summary_rows(spec)
    table = summary_frame(at)
    assert table.to_dict("records") == summary_records(rows)
    assert list(table["Param #"]) == ["320", "0", "18,496", "0", "73,856", "0", "11,530"]
    assert table["Formula"].iloc[0] == "3·3·1·32 + 32 = 320"
    assert total_params(rows) == 104_202
    assert "Total params: 104,202" in texts(at.markdown)
    assert next(m.value for m in at.metric if m.label == "Parameters") == "104,202"


def _summary_of(name: str) -> None:
    """A page that draws only the summary table of one preset."""
    from nn_core.cnn.presets import PRESETS
    from ui.digits.panels import summary_table

    summary_table(PRESETS[name])


def test_summary_table_of_the_34826_preset() -> None:
    at = AppTest.from_function(_summary_of, args=("cnn_34826",)).run()
    assert not at.exception
    table = summary_frame(at)
    assert list(table["Param #"]) == ["320", "0", "18,496", "0", "0", "0", "16,010"]
    assert list(table["Formula"].iloc[[0, 2, 6]]) == [
        "3·3·1·32 + 32 = 320", "3·3·32·64 + 64 = 18,496", "1600·10 + 10 = 16,010"]
    assert "Total params: 34,826" in texts(at.markdown)


def test_test_digit_by_index_and_lesson_002s_digit(mnist_test) -> None:
    _x_test, y_test = mnist_test
    at = new_app()
    assert at.number_input(key="digit_test_index__w").value == 1024
    at.number_input(key="digit_test_index__w").set_value(7).run()
    assert not at.exception
    assert at.session_state["digit_source"] == "mnist"
    assert at.session_state["digit_mnist_index"] == 7
    assert f"True label: {y_test[7]}." in texts(at.success) + texts(at.error)
    assert "Reading MNIST test digit #7" in texts(at.caption)
    at.button(key="digit_lesson_digit").click().run()
    assert at.session_state["digit_mnist_index"] == 1024
    assert at.number_input(key="digit_test_index__w").value == 1024
    assert prediction(at) == str(y_test[1024]) == "4"
    at.button(key="digit_random").click().run()  # the entry shows which digit was drawn
    assert at.number_input(key="digit_test_index__w").value == at.session_state[
        "digit_mnist_index"]
    at.button(key="digit_back").click().run()
    assert asks_to_draw(at)


# ---------------------------------------------------------------------------------------------
# Reliability: damaged runs, retention, refusals, sessions sharing and leaving a job
# ---------------------------------------------------------------------------------------------
def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


DAMAGE = {
    "truncated weights.npz": lambda run: _truncate(run / "weights.npz"),
    "empty weights.npz": lambda run: (run / "weights.npz").write_bytes(b""),
    "result.json of the wrong type": lambda run: (run / "result.json").write_text("[0.98]\n"),
}


@pytest.mark.parametrize("damage", DAMAGE)
def test_a_damaged_run_is_listed_as_unreadable_and_the_page_works(runs, damage,
                                                                   mnist_test) -> None:
    x_test, y_test = mnist_test
    fake_run(runs / "good", TINY, accuracy=0.75)
    bad = fake_run(runs / "bad", TINY)
    DAMAGE[damage](bad)
    at = new_app()
    assert not at.error and not at.warning
    box = at.selectbox(key="digit_model__w")
    unreadable = [label for label in box.options if "unreadable" in label]
    assert len(unreadable) == 1 and unreadable[0].startswith("bad · unreadable: ")
    assert str(runs) not in unreadable[0]  # the reason names the file, not the server's path
    assert f"{TINY.title} · 270 training images · 75.00% test accuracy" in box.options
    box.set_value(str(bad)).run()
    assert not at.exception and not at.error
    assert at.selectbox(key="digit_model__w").value == str(bad)  # the choice is kept
    assert "This network cannot be read, so the shipped model reads your drawing instead" in (
        texts(at.warning))
    assert next(m.value for m in at.metric if m.label == "Parameters") == "104,202"
    draw(at, render_on_canvas(x_test[0]))
    assert prediction(at) == str(y_test[0])


def test_the_run_a_student_views_survives_retention_and_a_page_switch(runs,
                                                                       monkeypatch) -> None:
    monkeypatch.setenv("NN_PLAYGROUND_MAX_RUNS", "1")
    old = fake_run(runs / "old", TINY, accuracy=0.6, mtime=1_000_000)
    new = fake_run(runs / "new", TINY, accuracy=0.7, mtime=2_000_000)
    at = whole_app()
    at.selectbox(key="digit_model__w").set_value(str(old)).run()
    assert not at.exception and not at.warning
    assert digit_state.registry(str(runs)).prune_runs() == [new]  # the viewed one is spared
    switch(at, "lessons/forward_pass.py")
    switch(at, "lessons/draw_digit.py")
    assert at.selectbox(key="digit_model__w").value == str(old)
    assert next(m.value for m in at.metric if m.label == "Test accuracy") == "60.00%"


def test_the_estimate_and_the_servers_refusals_show_before_training(runs, monkeypatch) -> None:
    spec, big = PRESETS["cnn_34826"], PRESETS["mnist_cnn"]
    quick, slow = estimate_seconds(spec, 1_000), estimate_seconds(spec, 10_000)
    limit = round((quick + slow) / 2)  # 1,000 images fit in this server's time, 10,000 do not
    monkeypatch.setenv("NN_PLAYGROUND_JOB_TIMEOUT_S", str(limit))
    monkeypatch.setenv("NN_PLAYGROUND_MAX_PARAMS", str(count_params(spec) * 2))
    at = new_app()
    at.selectbox(key="digit_train_kind__w").set_value("cnn_34826").run()
    at.selectbox(key="digit_train_images__w").set_value(10_000).run()
    assert not at.exception
    errors = texts(at.error)
    assert f"This training would take about {duration_text(slow)} on this server" in errors
    assert f"more than its limit of {duration_text(limit)} per training" in errors
    assert at.button(key="digit_train_submit").disabled
    images = at.selectbox(key="digit_train_images__w")
    assert images.options == ["1,000", "10,000", "all 60,000"]
    images.set_value(1_000).run()
    assert not at.error
    shown = texts(at.caption)
    assert f"**{count_params(spec):,} parameters**, about **{duration_text(quick)}**" in shown
    assert not at.button(key="digit_train_submit").disabled
    at.selectbox(key="digit_train_kind__w").set_value("mnist_cnn").run()
    assert not at.exception
    assert (f"This network has {count_params(big):,} parameters; this server trains networks "
            f"of up to {count_params(spec) * 2:,} parameters.") in texts(at.error)
    assert at.button(key="digit_train_submit").disabled
    assert at.session_state["digit_job_id"] is None


def test_two_students_share_a_job_and_one_leaving_does_not_stop_it(runs, monkeypatch) -> None:
    # Two AppTests share the process-wide registry (st.cache_resource), as two browsers do.
    monkeypatch.setenv("NN_PLAYGROUND_MAX_JOBS", "1")
    first, second = new_app(), new_app()
    assert first.session_state["digit_owner"] != second.session_state["digit_owner"]
    submit_tiny_training(first, images=LONG_TRAINING_IMAGES, lr=0.005)
    job = first.session_state["digit_job_id"]
    assert "**running**" in texts(first.markdown)
    jobs = digit_state.registry(str(runs))
    jobs.max_concurrent = 0  # the jobs started below wait in the queue: one worker is enough
    submit_tiny_training(second, images=LONG_TRAINING_IMAGES, lr=0.005)
    assert second.session_state["digit_job_id"] == job  # identical settings: one job
    assert "1 other student started the same training: you share it" in texts(second.info)
    assert "Shared with 1 other student" in texts(second.caption)

    first.button(key="digit_cancel").click().run()  # the first leaves: it goes on for the second
    assert not first.exception
    assert "You left this training; it keeps running for 1 other student." in texts(first.info)
    assert first.session_state["digit_job_id"] is None
    assert "No training started from this browser session yet." in texts(first.caption)
    second.run()
    assert "**running**" in texts(second.markdown)
    assert jobs.status(job).owners == 1

    # back to it, then other settings: one job per student
    submit_tiny_training(first, images=LONG_TRAINING_IMAGES, lr=0.005)
    assert first.session_state["digit_job_id"] == job
    first.number_input(key="digit_train_epochs_custom__w").set_value(2)
    first.button(key="digit_train_submit").click().run()
    assert not first.exception and not first.error
    assert first.session_state["digit_job_id"] != job
    assert "keeps running for the 1 other student who started it" in texts(first.info)
    assert "Waiting in the queue: position 1" in texts(first.info)
    assert jobs.status(job).state == "running"

    second.selectbox(key="digit_train_kind__w").set_value("lenet").run()
    second.selectbox(key="digit_train_images__w").set_value(1_000).run()
    second.button(key="digit_train_submit").click().run()  # nobody waits for the first job now
    assert not second.exception and not second.error
    assert "was stopped: one training per student at a time." in texts(second.info)
    assert jobs.status(job).state == "cancelled"
    for at in (first, second):
        at.button(key="digit_cancel").click().run()
        assert "Training was cancelled." in texts(at.warning)


def test_a_misconfigured_server_says_training_is_unavailable(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("NN_PLAYGROUND_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("NN_PLAYGROUND_MAX_JOBS", "many")
    at = new_app()
    assert ("Training is not available on this server: max_concurrent (NN_PLAYGROUND_MAX_JOBS) "
            "must be a whole number >= 1, got 'many'") in texts(at.error)
    assert at.button(key="digit_train_submit").disabled
    assert next(m.value for m in at.metric if m.label == "Parameters") == "104,202"  # it draws
