"""The teacher's dashboard of a live class (``lessons/classroom.py``): the room's code, link and
QR code; the task, pacing and names; who joined and what each student tried; the class's
drawings with what the network read and their confusion matrix; the pinned snapshot.

Every change goes through ``ui.classroom.store`` with the teacher's secret; the live part is a
fragment that redraws every DASHBOARD_POLL_S seconds (members and drawings are read through
the store's cache: a file is parsed again only when a student wrote it).
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode, urlsplit

import numpy as np
import pandas as pd
import segno
import streamlit as st

from ui.classroom import figures, panels
from ui.classroom.store import Room, RoomError, confusion, decode_image, shared_store
from ui.common import charts
from ui.common.format import plain
from ui.common.i18n import N_, _

DASHBOARD_POLL_S = float(os.environ.get("NN_PLAYGROUND_DASHBOARD_POLL_S", "1.0"))
GALLERY_SHOWN = 40  # the newest drawings in the gallery
PAGE_TITLES = {"forward": N_("Forward pass"), "curves": N_("Activations and losses"),
               "descent": N_("Gradient descent"), "digits": N_("Draw a digit"),
               "convolution": N_("Convolution")}


def base_url() -> str:
    """The app's address without the page (``http://host:8501/``)."""
    parts = urlsplit(st.context.url or "http://localhost:8501/")
    path = parts.path.rsplit("/", 1)[0] if parts.path.endswith("classroom") else parts.path
    return f"{parts.scheme}://{parts.netloc}{path.rstrip('/')}/"


def join_url(code: str) -> str:
    """The students' link: any page with ``?join=CODE`` fills in the room code."""
    return base_url() + "?" + urlencode({"join": code})


def teacher_url(code: str, secret: str) -> str:
    """The teacher's link (private): it opens the dashboard with the teacher's controls."""
    return base_url() + "classroom?" + urlencode({"room": code, "key": secret})


def qr_png(text: str) -> bytes:
    """A QR code of ``text`` as PNG bytes, large enough to scan from a projected screen."""
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="png", scale=8, border=2)
    return buffer.getvalue()


def task_options() -> list[str | None]:
    """Every lesson task as ``page/id`` (None: no task)."""
    return [None, *(f"{page}/{t.id}" for page in panels.PAGE_MODULES
                    for t in panels.page_module(page).TASKS)]


def task_label(option: str | None) -> str:
    if option is None:
        return _("No task")
    page, task_id = option.split("/", 1)
    task = next(t for t in panels.page_module(page).TASKS if t.id == task_id)
    return f"{_(PAGE_TITLES[page])}: {_(task.text)}"


def names(members: Sequence[Mapping[str, Any]], hide: bool) -> dict[str, str]:
    """Member id -> what the dashboard shows: the nickname, or 'Student n' (in the order they
    joined) when the teacher hides names for projecting. As typed: tables and option labels
    show it so; Markdown (image captions too) gets it through ``plain``."""
    return {m["id"]: _("Student {n}").format(n=i) if hide else m["nickname"]
            for i, m in enumerate(members, start=1)}


# ------------------------------------------------------------------------------- callbacks
def _teacher_call(method: str, **kwargs: Any) -> None:
    room = panels.current()
    try:
        getattr(shared_store(), method)(room["code"], room["secret"], **kwargs)
    except RoomError as exc:
        st.session_state[panels.NOTICE] = [("error", panels.error_text(exc))]


def _set_task() -> None:
    option = st.session_state.get("_room_task")
    task = None if option is None else dict(zip(("page", "id"), option.split("/", 1),
                                                strict=True))
    _teacher_call("set_options", task=task)


def _set_flag(name: str) -> None:
    _teacher_call("set_options", **{name: bool(st.session_state.get("_room_" + name))})


def _pin(kind: str) -> None:
    room = panels.current()
    choice = st.session_state.get(f"_room_pin_{kind}")
    if choice is None:
        return
    member, index = (choice, None) if kind == "state" else choice.split(":")
    try:
        snap = shared_store().snapshot_of(room["code"], member, kind,
                                          None if index is None else int(index))
    except RoomError as exc:
        st.session_state[panels.NOTICE] = [("error", panels.error_text(exc))]
        return
    _teacher_call("set_options", pinned=snap)


def _close() -> None:
    room = panels.current()
    _teacher_call("close")
    panels.leave_room()
    st.session_state[panels.ENDED] = room["code"]


# ------------------------------------------------------------------------------- the page
def not_teacher() -> None:
    """What a student (or anyone without the teacher's link) sees here."""
    st.info(_("This page is a teacher's dashboard of a live class. Teachers open a room from "
              "'Live class' in the sidebar; students join their teacher's room there with "
              "its code and a nickname."), icon=":material/school:")
    room = panels.current()
    if room is not None and room["role"] == "student":
        st.warning(_("You are a student in room {code}: the teacher's controls open only "
                     "from the teacher's own link.").format(code=room["code"]))


def header(room: Room, secret: str) -> None:
    """The room's code, the students' link and QR code, its time left, the teacher's link."""
    url = join_url(room.code)
    left, right = st.columns([2, 1])
    with left:
        st.markdown(_("Students: open **{url}** and type the code").format(url=url))
        with st.container(key="room_code"):
            st.markdown(f"# {room.code}")
        minutes = max(0, int(room.remaining() // 60))
        st.caption(_("The room closes by itself in {m} minutes; its data goes with it.")
                   .format(m=minutes))
        with st.expander(_("Your teacher link (keep it private: it opens these controls)"),
                         icon=":material/key:"):
            st.code(teacher_url(room.code, secret), language=None, wrap_lines=True)
    with right, st.container(key="room_qr"):
        st.image(qr_png(url), width=200, caption=_("Scan to join"))


def controls(room: Room) -> None:
    """The task, pacing, hidden names, unpin and close."""
    options = task_options()
    current = None if room.task is None else f"{room.task['page']}/{room.task['id']}"
    st.session_state["_room_task"] = current if current in options else None
    st.selectbox(_("Task for the class"), options, key="_room_task", format_func=task_label,
                 on_change=_set_task,
                 help=_("The students see the task on its page, with its check; the dashboard "
                        "counts who solved it."))
    cols = st.columns(4, vertical_alignment="center")
    st.session_state["_room_pace"] = room.pace
    cols[0].toggle(_("Keep the class on my page"), key="_room_pace", on_change=_set_flag,
                   args=("pace",), help=_("Students who explore stay on your page."))
    st.session_state["_room_hide_names"] = room.hide_names
    cols[1].toggle(_("Hide names (projecting)"), key="_room_hide_names", on_change=_set_flag,
                   args=("hide_names",))
    cols[2].button(_("Unpin"), key="_room_unpin", disabled=room.pinned is None,
                   on_click=_teacher_call, args=("set_options",), kwargs={"pinned": None},
                   icon=":material/keep_off:")
    cols[3].button(_("Close the room"), key="_room_close", on_click=_close, type="primary",
                   icon=":material/close:",
                   help=_("Ends the class for everyone and deletes the room's data."))


def task_summary(room: Room, members: list[dict], shown: Mapping[str, str]) -> None:
    """Who solved the current task, what each student tried, histograms of their numbers."""
    if room.task is None:
        st.caption(_("Choose a task above to see who solves it."))
        return
    key = f"{room.task['page']}/{room.task['id']}"
    reports = {m["id"]: m.get("reports", {}).get(key) for m in members}
    solved = sum(1 for r in reports.values() if r and r["solved"])
    with st.container(key="room_solved"):
        st.metric(_("Solved the task"), _("{k} of {n}").format(k=solved, n=len(members)))
    rows = [{_("Student"): shown[m["id"]],
             _("Solved"): "✅" if (r := reports[m["id"]]) and r["solved"] else "…",
             _("What the check says"): r["detail"] if r else _("not on the task's page yet"),
             _("Attempts"): len(r["tries"]) if r else 0} for m in members]
    if rows:
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", key="room_tasks")
    numbers: dict[str, tuple[list[float], list[float]]] = {}
    for r in reports.values():
        for attempt in (r or {}).get("tries", []):
            for name, value in attempt.items():
                if name != "solved":
                    numbers.setdefault(name, ([], []))[0 if attempt["solved"] else 1].append(value)
    cols = st.columns(max(1, min(2, len(numbers))))
    for i, (name, (good, other)) in enumerate(sorted(numbers.items())):
        with cols[i % len(cols)]:
            charts.show(figures.attempts_figure(name, good, other), f"class-{name}",
                        key=f"room_hist_{name}")


def members_table(members: list[dict], shown: Mapping[str, str]) -> None:
    st.metric(_("Joined"), str(len(members)))
    if not members:
        st.caption(_("Nobody has joined yet."))
        return
    titles = {page: _(t) for page, t in PAGE_TITLES.items()}
    st.dataframe(pd.DataFrame([{_("Student"): shown[m["id"]],
                                _("Page"): titles.get(m.get("page"), "—")} for m in members]),
                 hide_index=True, width="stretch", key="room_members")


def caption(d: Mapping[str, Any], shown: Mapping[str, str]) -> str:
    """A drawing in words: who, what the network read and how sure, the digit meant."""
    text = _("{who}: read {read} ({p})").format(who=shown.get(d["member"], "?"),
                                                 read=d["predicted"], p=f"{d['confidence']:.0%}")
    if d.get("meant") is not None:
        text += " · " + _("meant {meant}").format(meant=d["meant"])
    return text


def gallery(drawings: list[dict], shown: Mapping[str, str]) -> None:
    """The class's drawings (newest first) with what the network read, and their confusion."""
    st.subheader(_("The class's drawings"))
    if not drawings:
        st.caption(_("Drawings the students send from 'Draw a digit' appear here."))
        return
    newest = drawings[::-1][:GALLERY_SHOWN]
    captions = [caption(d, shown) for d in newest]
    with st.container(key="room_gallery"):
        st.image([decode_image(d["image"]) for d in newest], width=96, clamp=True,
                 caption=[plain(c, 80) for c in captions])  # captions are Markdown
    left, right = st.columns([1, 1])
    with left:
        charts.show(figures.class_confusion_figure(confusion(drawings)), "class-confusion",
                    key="room_confusion")
    with right:
        mistakes = confusion(drawings)
        np.fill_diagonal(mistakes, 0)
        if mistakes.any():
            meant, read = np.unravel_index(int(np.argmax(mistakes)), mistakes.shape)
            st.caption(_("Most frequent mistake: {n} of your {meant}s read as {read}.").format(
                n=int(mistakes[meant, read]), meant=int(meant), read=int(read)))


@st.fragment(run_every=DASHBOARD_POLL_S)
def live(code: str) -> None:
    """The parts that change as students work: redrawn every DASHBOARD_POLL_S seconds."""
    try:
        room = shared_store().room(code)
    except RoomError:
        st.rerun(scope="app")
        return
    rooms = shared_store()
    members = rooms.members(code)
    shown = names(members, room.hide_names)
    if room.pinned:
        who = _("a classmate") if room.hide_names else plain(room.pinned["nickname"], 40)
        st.info("📌 " + _("Pinned for everyone: {what} of {who}").format(
            what=_("a drawing") if room.pinned["kind"] == "drawing" else _("the page"),
            who=who))
    left, right = st.columns([1, 2], gap="large")
    with left:
        members_table(members, shown)
    with right:
        task_summary(room, members, shown)
    gallery(rooms.drawings(code), shown)


@st.fragment
def pin_controls(code: str) -> None:
    """Pin a student's page or a drawing to every screen. Outside the live part, so that its
    lists stay open while the dashboard redraws; they are read again whenever the teacher
    uses them or presses refresh."""
    rooms = shared_store()
    try:
        room = rooms.room(code)
    except RoomError:
        return
    members = rooms.members(code)
    shown = names(members, room.hide_names)
    newest = rooms.drawings(code)[::-1][:GALLERY_SHOWN]
    left, right, refresh = st.columns([4, 4, 1], vertical_alignment="bottom")
    with left:
        st.selectbox(_("A student's page to pin for everyone"), [m["id"] for m in members],
                     key="_room_pin_state", index=None, format_func=shown.get,
                     placeholder=_("choose a student"))
        st.button(_("Pin their page"), key="_room_pin_state_button", on_click=_pin,
                  args=("state",), icon=":material/keep:")
    with right:
        labels = {f"{d['member']}:{d['index']}": caption(d, shown) for d in newest}
        st.selectbox(_("A drawing to pin for everyone"), list(labels), key="_room_pin_drawing",
                     index=None, format_func=labels.get, placeholder=_("choose a drawing"))
        st.button(_("Pin this drawing"), key="_room_pin_drawing_button", on_click=_pin,
                  args=("drawing",), icon=":material/keep:")
    refresh.button(_("Refresh the lists"), key="_room_pin_refresh", icon=":material/refresh:")


def dashboard() -> None:
    """The whole page: for the teacher, the room; for anyone else, what this page is."""
    st.title(_("Live class"))
    room = panels.current()
    if room is None or room["role"] != "teacher":
        not_teacher()
        return
    for kind, text in st.session_state.pop(panels.NOTICE, []):
        getattr(st, kind)(text)
    try:
        state = shared_store().room(room["code"])
    except RoomError as exc:
        st.error(panels.error_text(exc))
        return
    header(state, room["secret"])
    controls(state)
    pin_controls(room["code"])
    live(room["code"])
