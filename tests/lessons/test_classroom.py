"""AppTests of the live class (issue 14): a teacher's session and students' sessions of the real
app (``app.py`` with its navigation) on one room store in a temporary runs folder.

AppTest does not run the room watch's JavaScript, so a student's update is a plain rerun here;
the browser test (tests/e2e/test_e2e_classroom.py) runs the watch, and tests/ui/classroom/
test_watch.py its route.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from tests.support import ROOT
from ui.classroom.store import RoomStore
from ui.common.format import plain

APP = str(ROOT / "app.py")
TIMEOUT = 60


@pytest.fixture(autouse=True)
def runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("NN_PLAYGROUND_RUNS", str(tmp_path))
    yield tmp_path


def page_text(at: AppTest) -> str:
    parts = [e.value for kind in ("title", "markdown", "caption", "info", "warning", "error",
                                  "success") for e in getattr(at, kind)]
    parts += [e.value for kind in ("markdown", "caption", "info", "warning", "error", "success")
              for e in getattr(at.sidebar, kind)]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    parts += [d.value.to_string() for d in [*at.dataframe, *at.table]]
    return "\n".join(str(p) for p in parts)


def no_exception(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def teacher() -> AppTest:
    at = no_exception(AppTest.from_file(APP, default_timeout=TIMEOUT).run())
    at.sidebar.button(key="_room_open").click().run()
    assert at.session_state["_room"]["role"] == "teacher"
    return no_exception(at)


def student(code: str, nickname: str) -> AppTest:
    at = no_exception(AppTest.from_file(APP, default_timeout=TIMEOUT).run())
    at.sidebar.text_input(key="_room_join_code").input(code)
    at.sidebar.text_input(key="_room_join_nick").input(nickname)
    at.sidebar.button(key="_room_join").click().run()
    return no_exception(at)


def test_students_follow_the_teachers_page_and_settings() -> None:
    t = teacher()
    code = t.session_state["_room"]["code"]
    t.switch_page("lessons/forward_pass.py").run()
    ann, bob = student(code.lower(), "Ann"), student(code, "Bob")
    for s in (ann, bob):
        assert s.session_state["_room"]["code"] == code and s.session_state["_room_follow"]
        assert s.title[0].value == "Forward pass of a 2-2-1 network"  # the teacher's page
    t.slider(key="fwd_w5__slider").set_value(1.5).run()
    t.selectbox(key="fwd_hidden__w").set_value("tanh").run()
    for s in (ann, bob):
        no_exception(s.run())
        assert s.session_state["fwd_w5"] == 1.5 and s.session_state["fwd_hidden"] == "tanh"
        assert s.slider(key="fwd_w5__slider").value == 1.5  # the widget shows it too
    bob.toggle(key="_room_follow__w").set_value(False).run()  # explore on my own
    bob.slider(key="fwd_w5__slider").set_value(-1.0).run()
    t.slider(key="fwd_w6__slider").set_value(0.25).run()
    no_exception(ann.run()), no_exception(bob.run())
    assert ann.session_state["fwd_w6"] == 0.25
    assert (bob.session_state["fwd_w5"], bob.session_state["fwd_w6"]) != (1.5, 0.25)
    bob.toggle(key="_room_follow__w").set_value(True).run()  # follow again: catches up at once
    assert (bob.session_state["fwd_w5"], bob.session_state["fwd_w6"]) == (1.5, 0.25)
    t.switch_page("lessons/gradient_descent.py").run()
    no_exception(ann.run())
    assert ann.title[0].value == "Gradient descent over the error surface"


def test_the_dashboard_counts_a_solved_task_and_pins_a_students_page() -> None:
    t = teacher()
    code = t.session_state["_room"]["code"]
    t.switch_page("lessons/classroom.py").run()
    assert code in page_text(no_exception(t)) and t.get("image")  # the code and its QR code
    t.selectbox(key="_room_task").set_value("forward/overshoot").run()
    ann = student(code, "**Ann** [x](http://e.x)")
    ann.switch_page("lessons/forward_pass.py").run()
    assert "Find a learning rate at which one training step makes the loss larger" in page_text(ann)
    no_exception(t.run())
    assert "Solved the task 0 of 1" in page_text(t)
    ann.number_input(key="fwd_lr__w").set_value(100.0).run()
    assert "Solved!" in page_text(no_exception(ann))
    no_exception(t.run())
    board = page_text(t)
    assert "Solved the task 1 of 1" in board and "**Ann** [x](http://e.x)" in board  # as typed
    assert "lr in the students' attempts" in [c.get("layout", {}).get("title", {}).get("text")
                                              for c in charts(t)]
    t.toggle(key="_room_hide_names").set_value(True).run()
    assert "Ann" not in page_text(t) and "Student 1" in page_text(t)
    t.selectbox(key="_room_pin_state").set_value(ann.session_state["_room"]["member"])
    t.button(key="_room_pin_state_button").click().run()
    no_exception(ann.run())
    assert "Pinned by your teacher: the page of a classmate" in page_text(ann)
    assert "lr = 100" in page_text(ann)


def test_a_teacher_showing_the_answer_does_not_solve_the_task_for_the_class(runs: Path) -> None:
    t = teacher()
    code = t.session_state["_room"]["code"]
    t.switch_page("lessons/classroom.py").run()
    t.selectbox(key="_room_task").set_value("forward/overshoot").run()
    t.switch_page("lessons/forward_pass.py").run()
    ann = student(code, "Ann")
    member = ann.session_state["_room"]["member"]
    rooms = RoomStore(runs / "rooms")
    report_file = runs / "rooms" / code / "members" / f"{member}.json"
    t.number_input(key="fwd_lr__w").set_value(100.0).run()  # the teacher shows the answer
    written = report_file.stat().st_mtime_ns
    no_exception(ann.run())
    assert ann.session_state["fwd_lr"] == 100.0 and "Solved!" in page_text(ann)  # following
    assert report_file.stat().st_mtime_ns == written  # the teacher's move: no write
    assert not rooms.member(code, member).get("reports", {}).get("forward/overshoot")
    ann.number_input(key="fwd_lr__w").set_value(50.0).run()  # her own attempt
    report = rooms.member(code, member)["reports"]["forward/overshoot"]
    assert report["solved"] and report["tries"] == [{"solved": True, "lr": 50.0}]


def charts(at: AppTest) -> list[dict]:
    import json

    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def test_the_gallery_shows_the_class_drawings_and_their_confusion(runs: Path) -> None:
    t = teacher()
    code = t.session_state["_room"]["code"]
    rooms = RoomStore(runs / "rooms")  # the students' drawings, as the digit page sends them
    ann, bob = rooms.join(code, "Ann"), rooms.join(code, "Bob")
    seven = np.zeros((28, 28))
    seven[6, 8:20] = seven[6:22, 18] = 1.0
    rooms.add_drawing(code, ann, seven, 1, 0.81, 7)
    rooms.add_drawing(code, bob, seven, 7, 0.99, 7)
    t.switch_page("lessons/classroom.py").run()
    board = page_text(no_exception(t))
    assert "Most frequent mistake: 1 of your 7s read as 1." in board
    gallery = t.get("image")
    captions = [img.caption for el in gallery for img in el.proto.imgs]
    assert plain("Ann: read 1 (81%) · meant 7") in captions  # Markdown: the name escaped
    assert plain("Bob: read 7 (99%) · meant 7") in captions
    titles = [c["layout"]["title"]["text"] for c in charts(t)]
    assert "The class's drawings: meant vs read" in titles
    t.selectbox(key="_room_pin_drawing").set_value(f"{ann}:0")
    t.button(key="_room_pin_drawing_button").click().run()
    assert rooms.room(code).pinned["drawing"]["predicted"] == 1


def test_bad_input_gets_a_clear_message_and_the_class_goes_on() -> None:
    t = teacher()
    code = t.session_state["_room"]["code"]
    ann = student(code, "Ann")
    unknown = "QQQQQ" if code != "QQQQQ" else "RRRRR"
    for bad, message in ((unknown, f"No open room has the code {unknown}"),
                         ("12", "A room code has 5 letters and digits")):
        s = student(bad, "Bob")
        assert message in page_text(s) and "_room" not in s.session_state
    s = student(code, "x" * 30)  # the field takes 96 characters; the store refuses 10 KB
    assert "A nickname has at most 24 characters." in page_text(s)
    assert "_room" not in s.session_state
    s = student(code, "ann")
    assert "already uses the nickname ann" in page_text(s)
    # a student on the teacher's dashboard, or with a forged teacher link
    ann.switch_page("lessons/classroom.py").run()
    assert "the teacher's controls open only from the teacher's own link" in page_text(ann)
    assert not [b for b in ann.button if b.key == "_room_close"]
    forged = AppTest.from_file(APP, default_timeout=TIMEOUT)
    forged.query_params.update({"room": code, "key": "guessed"})
    forged.run()
    assert "Only the room's teacher can do this" in page_text(forged)
    assert "_room" not in forged.session_state
    # the real teacher link works in another browser, and closing ends the room for all
    link = AppTest.from_file(APP, default_timeout=TIMEOUT)
    link.query_params.update({"room": code, "key": t.session_state["_room"]["secret"]})
    link.run()
    assert link.session_state["_room"]["role"] == "teacher"
    assert "key" not in link.query_params  # the secret leaves the address bar
    link.switch_page("lessons/classroom.py").run()
    link.button(key="_room_close").click().run()
    no_exception(ann.run())
    assert f"The room {code} has ended" in page_text(ann) and "_room" not in ann.session_state


def test_a_room_that_expires_ends_for_its_students(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NN_PLAYGROUND_ROOM_MINUTES", "0.02")  # 1.2 s
    t = teacher()
    code = t.session_state["_room"]["code"]
    ann = student(code, "Ann")
    assert ann.session_state["_room"]["code"] == code
    time.sleep(1.5)
    no_exception(ann.run())
    assert f"The room {code} has ended" in page_text(ann) and "_room" not in ann.session_state
    no_exception(t.run())
    assert "_room" not in t.session_state
