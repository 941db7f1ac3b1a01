"""The load test's protocol client against the real app: open /forward, move w1, see it rerun.

Starts ``streamlit run app.py`` (benchmarks.streamlit_client.Server, a temporary
NN_PLAYGROUND_RUNS, stopped at the end) and talks to it over the websocket as the browser does.
It checks behaviour only, never timings.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.streamlit_client import ROOT, Server, Session, texts, tree_rss_bytes
from tests.support import run_async


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The app on a free 127.0.0.1 port for this module; its process group is killed after."""
    runs = tmp_path_factory.mktemp("runs")
    srv = Server(ROOT, runs, ROOT / "artifacts" / "test-streamlit-client-server.log")
    try:
        srv.wait_healthy()
        yield srv
    finally:
        srv.stop(signal.SIGTERM)
        assert srv.process.poll() is not None, "the server is still running"


def test_the_server_runs_its_event_loop_on_uvloop(server: Server) -> None:
    """uvicorn picks uvloop when it can import it (requirements.txt pins it): its compiled
    loop is loaded in the server process."""
    maps = Path(f"/proc/{server.pid}/maps").read_text()
    assert "/uvloop/loop." in maps, "the app server did not load uvloop"


def metric(elements: list, label: str) -> str:
    """The value of the metric whose label starts with ``label`` in a run's elements."""
    found = [t.split(" = ", 1)[1] for t in texts(elements) if t.startswith(f"{label} = ")]
    assert found, f"no metric {label!r} in {texts(elements)[:20]}"
    return found[0]


async def forward_scenario(ws_url: str) -> None:
    async with Session(ws_url, "forward") as s:
        first = await s.load()
        assert first.ok, (first.status, first.exceptions)
        assert s.page_script_hash, "the server did not say which page it ran"
        slider = s.find("w1", "slider")
        exact = s.find("w1 (exact)", "number_input")
        assert slider.id != exact.id
        assert slider.value == [exact.value]
        y_before = metric(first.elements, "Y")

        new = 0.5 if slider.value != [0.5] else -0.5
        changed = await s.set("w1", [new], "slider")
        assert changed.ok, (changed.status, changed.exceptions)
        assert changed.bytes > 0 and changed.messages > 0
        # the page's callback copied the slider into the setting: the exact entry shows it,
        # the network's output changed and the link (query string) carries it
        assert s.find("w1 (exact)", "number_input").value == pytest.approx(new)
        assert s.find("w1", "slider").value == [pytest.approx(new)]
        assert metric(changed.elements, "Y") != y_before
        assert f"w1={new}" in s.query_string

        # the state round-trips: a plain rerun keeps the new value
        again = await s.rerun()
        assert again.ok, (again.status, again.exceptions)
        assert s.find("w1 (exact)", "number_input").value == pytest.approx(new)
        assert metric(again.elements, "Y") == metric(changed.elements, "Y")


def test_client_opens_forward_moves_w1_and_sees_the_rerun(server: Server) -> None:
    run_async(asyncio.wait_for(forward_scenario(server.ws_url), 180))
    assert tree_rss_bytes(server.pid) > 0



async def descent_step_scenario(ws_url: str) -> None:
    """The step slider sits inside the walk's st.fragment: the client, like the browser, asks
    for that fragment's rerun only; the page around it is not redrawn and its widgets stay."""
    async with Session(ws_url, "descent") as s:
        first = await s.load()
        assert first.ok, (first.status, first.exceptions)
        step = s.find("Step (drag to walk along the paths)", "slider")
        steps = s.find("Steps", "number_input")
        assert step.fragment_id, "the step slider is drawn inside the walk's fragment"
        assert not steps.fragment_id, "the number of steps is drawn outside it"
        title = [e for e in first.elements if e.WhichOneof("type") == "heading"]
        assert title, "a full run draws the page's title"

        half = max(1, int(step.value[0]) // 2)
        moved = await s.set(step.label, [half], "slider")
        assert moved.status == "FINISHED_FRAGMENT_RUN_SUCCESSFULLY", moved.status
        assert moved.ok, moved.exceptions
        assert not [e for e in moved.elements if e.WhichOneof("type") == "heading"], (
            "a fragment's run does not redraw the title")
        assert moved.bytes < first.bytes
        # the widgets outside the fragment are still known, with their values
        assert s.find("Steps", "number_input").value == steps.value
        assert s.find(step.label, "slider").value == [half]


def test_client_reruns_only_the_fragment_a_widget_sits_in(server: Server) -> None:
    run_async(asyncio.wait_for(descent_step_scenario(server.ws_url), 180))


async def digits_stroke_scenario(ws_url: str) -> None:
    """The load test's stroke reaches the digit page as the canvas's mouse-up does, and every
    stroke it sends is a different drawing (a repeated one would be answered from the
    browser's cache of unchanged charts, cheaper than a student's real stroke)."""
    from benchmarks.loadtest import CANVAS_COMPONENT, drawings
    from nn_core.cnn.digits import load_mnist

    shown = drawings()
    assert len({d["drawing"]["data"] for d in shown}) == len(shown) > 100
    (_, _), (_, y_test) = load_mnist()
    async with Session(ws_url, "digits") as s:
        first = await s.load()
        assert first.ok, (first.status, first.exceptions)
        canvas = s.find(CANVAS_COMPONENT, "bidi_component")
        for index in (0, 1):
            stroke = await s.set(canvas.label, shown[index], canvas.kind)
            assert stroke.status == "FINISHED_FRAGMENT_RUN_SUCCESSFULLY", stroke.status
            assert stroke.ok, stroke.exceptions
            assert f"Prediction = {y_test[index]}" in texts(stroke.elements)


def test_the_load_tests_strokes_are_different_digits_the_page_reads(server: Server) -> None:
    run_async(asyncio.wait_for(digits_stroke_scenario(server.ws_url), 180))
