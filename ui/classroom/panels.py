"""The live class in every page: the sidebar's room box, 'follow the teacher', and the hooks that
publish the teacher's moves and report the students' work to the room.

A session's part in a room is kept in Session State under ``ROOM``: ``{"code", "role":
"teacher" | "student", "secret" (teacher) | "member", "nickname" (student)}``. ``app.py`` calls
``before_page`` before the page runs: it draws the room box, and for a student who follows it
puts the teacher's page (``st.switch_page``) and settings (the page's settings table,
``ui.common.state.PageState``, from the query text the teacher's page writes) into Session
State before the page draws its widgets. The page learns of the teacher's next move from the
room watch (``ui.classroom.watch``: the browser long-polls the server, no script runs while
nothing changes). A following student's watch is drawn where the page writes its settings
(``watch_in_page``): inside a page fragment that declares the settings it draws (/forward's
page, /curves' activations, /descent's step), a move among them reruns only that fragment, its
callback (``teacher_moved``) having put the teacher's values into Session State first, as a
student's own move does; any other change (another page, a setting outside the fragment, the
task, the pinned snapshot) reruns the whole app. An exploring student's watch sits in the
sidebar and wakes only for the task, the pacing, the snapshot and hidden names.

The teacher's moves reach the room from ``PageState.write_url`` (every page calls it after its
controls: ``publish``; ``watch_in_page`` listens there too), the students' work from
``ui.common.lesson.task_panel`` (``report_task``).
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Collection, Mapping
from functools import cache, partial
from types import ModuleType
from typing import Any

import numpy as np
import streamlit as st

from ui.classroom.store import MAX_NICKNAME, RoomError, shared_store
from ui.classroom.watch import stamp_of, watch_room
from ui.common.format import plain
from ui.common.i18n import _
from ui.common.state import PageState, decode_params, encode_params
from ui.common.widgets import fragment_run, persistent

ROOM = "_room"  # Session State: the session's room (see the module's docstring)
FOLLOW = "_room_follow"  # a student follows the teacher (True) or explores (False)
SEEN = "_room_seen"  # the room's version and what of it this session applied
PUBLISHED = "_room_published"  # the teacher's last published (page, params)
REPORTED = "_room_reported"  # the student's last report
ENDED = "_room_ended"  # the code of the room that ended under this session
JOIN_CODE = "_room_join_code"
JOIN_NICK = "_room_join_nick"
MINUTES = "_room_minutes"
NOTICE = "_room_notice"  # [(kind, text)] said once at the next run
GOTO = "_room_goto"  # (page, params) of a pinned state the student chose to open
WATCH_MOUNTED = "_room_watch_mounted"  # this full run drew the follow watch
RERUN_APP = "_room_rerun_app"  # the follow watch's callback asks for the whole app's rerun

# The lesson pages a room can follow: url path -> the module of its settings table and tasks.
PAGE_MODULES = {"forward": "ui.forward.state", "curves": "ui.curves.state",
                "descent": "ui.descent.state", "digits": "ui.digits.state",
                "convolution": "ui.convolution.state"}
PREFIXES = {"fwd_": "forward", "curves_": "curves", "gd_": "descent", "digit_": "digits",
            "conv_": "convolution"}


@cache
def page_module(url_path: str) -> ModuleType:
    """The ``ui.<page>.state`` module of a lesson page (its STATE and TASKS)."""
    return importlib.import_module(PAGE_MODULES[url_path])


def page_of(page: PageState) -> str | None:
    """The url path of the page a settings table belongs to (None for another table)."""
    return PREFIXES.get(page.prefix)


def error_text(exc: RoomError) -> str:
    """What a refused room operation tells the user, in their language."""
    f = exc.fields
    messages = {
        "bad_code": _("A room code has {length} letters and digits, as on the teacher's "
                      "screen.").format(length=f.get("length", 5)),
        "unknown": _("No open room has the code {code}: check the code on the teacher's "
                     "screen.").format(code=f.get("code", "")),
        "expired": _("The room {code} has expired: its time is over and its data is "
                     "deleted.").format(code=f.get("code", "")),
        "full": _("This room is full ({limit} students): ask your teacher to open a second "
                  "room.").format(limit=f.get("limit")),
        "too_many_rooms": _("This server already has {limit} open rooms, its limit: close "
                            "an old room or try again later.").format(limit=f.get("limit")),
        "flood": _("Too many joins in the last minute (at most {limit}): wait a moment and "
                   "try again.").format(limit=f.get("limit")),
        "nickname_empty": _("Type a nickname to join."),
        "nickname_long": _("A nickname has at most {limit} characters.").format(
            limit=f.get("limit", MAX_NICKNAME)),
        "nickname_taken": _("Someone in this room already uses the nickname {nickname}: "
                            "choose another.").format(nickname=plain(f.get("nickname", ""), 30)),
        "not_teacher": _("Only the room's teacher can do this: the teacher's controls open "
                         "from the teacher's own link."),
        "not_member": _("You are no longer in this room: join it again with its code."),
        "drawings_full": _("You have sent {limit} drawings, the most a student can send to "
                           "the class.").format(limit=f.get("limit")),
        "bad_drawing": _("This drawing cannot be sent."),
        "bad_duration": _("Choose one of the offered room lengths."),
        "bad_state": _("This page's state is too large to share with the class."),
    }
    return messages.get(exc.kind, _("The room refused this: {kind}").format(kind=exc.kind))


def current() -> dict[str, Any] | None:
    """The session's room, or None."""
    return st.session_state.get(ROOM)


def _say(kind: str, text: str) -> None:
    st.session_state.setdefault(NOTICE, []).append((kind, text))


def _end(code: str) -> None:
    """The room ended under this session (closed, expired, or the student was removed)."""
    for key in (ROOM, SEEN, PUBLISHED, REPORTED):
        st.session_state.pop(key, None)
    st.session_state[ENDED] = code


# ------------------------------------------------------------------------------- actions
def open_room() -> None:
    """Button callback: the session opens a room and becomes its teacher."""
    try:
        rooms = shared_store()
        opened = rooms.open(float(st.session_state.get(MINUTES) or rooms.limits.minutes[0]))
    except RoomError as exc:
        _say("error", error_text(exc))
        return
    st.session_state[ROOM] = {"code": opened.code, "role": "teacher", "secret": opened.secret}
    st.session_state.pop(ENDED, None)
    st.session_state.pop(PUBLISHED, None)


def join_room() -> None:
    """Button callback: join the room of the typed code under the typed nickname."""
    code_text = st.session_state.get(JOIN_CODE, "")
    nickname = st.session_state.get(JOIN_NICK, "")
    try:
        rooms = shared_store()
        room = rooms.room(code_text)
        member = rooms.join(room.code, nickname)
        record = rooms.member(room.code, member)
    except RoomError as exc:
        _say("error", error_text(exc))
        return
    st.session_state[ROOM] = {"code": room.code, "role": "student", "member": member,
                              "nickname": record["nickname"]}
    st.session_state[FOLLOW] = True
    st.session_state.pop(SEEN, None)
    st.session_state.pop(ENDED, None)


def leave_room() -> None:
    """Button callback: a student leaves (their record and drawings go)."""
    room = current()
    if room is None:
        return
    if room["role"] == "student":
        with contextlib.suppress(RoomError):
            shared_store().leave(room["code"], room["member"])
    for key in (ROOM, SEEN, PUBLISHED, REPORTED):
        st.session_state.pop(key, None)


def follow_changed() -> None:
    """Toggle callback: back to 'follow' applies the teacher's state at once."""
    st.session_state.pop(SEEN, None)


def teacher_from_url() -> None:
    """``?room=CODE&key=SECRET`` (the teacher's link) makes this session the room's teacher;
    the key leaves the address bar at once, so a projected screen never shows it."""
    params = st.query_params
    code, key = params.get("room"), params.get("key")
    if code is None or key is None:
        return
    del st.query_params["key"]
    try:
        rooms = shared_store()
        room = rooms.room(code)
        ok = rooms.is_teacher(room.code, key)
    except RoomError as exc:
        _say("error", error_text(exc))
        return
    if not ok:
        _say("error", error_text(RoomError("not_teacher")))
        return
    st.session_state[ROOM] = {"code": room.code, "role": "teacher", "secret": key}
    st.session_state.pop(ENDED, None)


# ------------------------------------------------------------------------------- sidebar
def room_box() -> None:
    """The sidebar's 'Live class' box: join or open a room; in a room, its code, follow and
    leave (students) or the dashboard's link (teachers)."""
    room = current()
    with st.sidebar.expander(_("Live class"), icon=":material/groups:", expanded=room is not None
                             or "join" in st.query_params):
        for kind, text in st.session_state.pop(NOTICE, []):
            getattr(st, kind)(text)
        if st.session_state.get(ENDED) and room is None:
            st.warning(_("The room {code} has ended: the teacher closed it or its time ran "
                         "out, and its data is deleted.").format(code=st.session_state[ENDED]))
        if room is None:
            _join_or_open()
        elif room["role"] == "student":
            st.markdown(_("In room **{code}** as {nickname}").format(
                code=room["code"], nickname=plain(room["nickname"], MAX_NICKNAME)))
            # bound to a plain key (ui.common.widgets.persistent): a widget's own key is
            # dropped after a run that did not draw it (a page switch that a fragment's
            # st.rerun starts), and a student would stop following for no reason
            persistent(st.toggle, _("Follow the teacher"), FOLLOW, on_change=follow_changed,
                       help=_("On: your page shows the teacher's page and settings. Off: "
                              "explore on your own; switch it on again to catch up."))
            st.button(_("Leave the room"), key="_room_leave", on_click=leave_room,
                      icon=":material/logout:")
        else:
            st.markdown(_("You teach room **{code}**").format(code=room["code"]))
            st.page_link("lessons/classroom.py", label=_("Open the class dashboard"),
                         icon=":material/monitoring:")


def _join_or_open() -> None:
    if JOIN_CODE not in st.session_state and "join" in st.query_params:
        st.session_state[JOIN_CODE] = str(st.query_params["join"])[:20]
    st.text_input(_("Room code"), key=JOIN_CODE, max_chars=20, placeholder="ABCDE")
    st.text_input(_("Your nickname"), key=JOIN_NICK, max_chars=4 * MAX_NICKNAME,
                  help=_("No account: your teacher sees this name. At most {n} "
                         "characters.").format(n=MAX_NICKNAME))
    st.button(_("Join the class"), key="_room_join", on_click=join_room,
              icon=":material/login:", type="primary")
    st.divider()
    minutes = shared_store().limits.minutes
    # labels made now, in this run's language (a format_func that looked the language up when
    # called would label the options of a run in another language after a language switch)
    labels = {m: _("{m} minutes").format(m=f"{m:g}") for m in minutes}
    st.selectbox(_("Teacher: a room for"), minutes, key=MINUTES,
                 index=min(1, len(minutes) - 1), format_func=labels.get)
    st.button(_("Open a room"), key="_room_open", on_click=open_room,
              icon=":material/co_present:")


# ------------------------------------------------------------------------------- follow
def _open_page(url_path: str, pages: Mapping[str, Any], current_path: str) -> bool:
    """Switch to the lesson page ``url_path`` unless already there; False when it is unknown
    to this app."""
    if url_path == current_path or url_path not in pages:
        return False
    st.switch_page(pages[url_path])
    return True


def apply_params(url_path: str, params: Mapping[str, str],
                 names: Collection[str] | None = None) -> None:
    """The teacher's settings (query text) into this session's settings of ``url_path`` (all,
    or only those of ``names``)."""
    from ui.common.lesson import open_from_url
    from ui.common.widgets import bump_editor

    module = page_module(url_path)
    open_from_url(module.STATE, module.TASKS)  # the page's own first-visit set-up, first
    values, _problems = decode_params(dict(params), module.STATE.url_spec)
    for name, value in values.items():
        if names is not None and name not in names:
            continue
        key = module.STATE.key(name)
        st.session_state[key] = value
        bump_editor(key)


def _apply_task(task: Mapping[str, str] | None, current_path: str) -> None:
    """The room's task on its page (or none): like a lesson link's task."""
    if current_path not in PAGE_MODULES:
        return
    from ui.common.lesson import open_from_url

    module = page_module(current_path)
    wanted = task["id"] if task and task.get("page") == current_path else None
    if wanted is not None and wanted not in {t.id for t in module.TASKS}:
        wanted = None
    open_from_url(module.STATE, module.TASKS)
    lesson = module.STATE.lesson
    if lesson["task"] != wanted:
        module.STATE.set_lesson({**lesson, "task": wanted})


def follow(pages: Mapping[str, Any], current_path: str) -> None:
    """A student's part before the page runs: the room's task, the teacher's page and
    settings while following, pacing, the pinned snapshot, and the room watch (an exploring
    student's, or a following student's on a page that is not a lesson's; on a lesson page
    ``watch_in_page`` draws it)."""
    room = current()
    rooms = shared_store()
    stat = rooms.stamp(room["code"])  # before the read: a change after it reruns the page
    try:
        state = rooms.room(room["code"])
        rooms.member(room["code"], room["member"])
    except RoomError:
        _end(room["code"])
        st.rerun()
        return
    following = bool(st.session_state.get(FOLLOW))
    seen = st.session_state.get(SEEN) or {}
    if following and state.page and (seen.get("applied") != state.version
                                     or current_path != state.page):
        if _open_page(state.page, pages, current_path):
            return
        if state.page in PAGE_MODULES:
            apply_params(state.page, state.params)
    elif state.pace and state.page and current_path != state.page:
        _say("info", _("Your teacher keeps the class on this page."))
        if _open_page(state.page, pages, current_path):
            return
    goto = st.session_state.pop(GOTO, None)
    if goto is not None and goto[0] in PAGE_MODULES:
        apply_params(*goto)
        if _open_page(goto[0], pages, current_path):
            return
    _apply_task(state.task, current_path)
    st.session_state[SEEN] = {
        "applied": state.version if following else seen.get("applied"),
        "since": stat and stamp_of("follow", stat, state),  # what the follow watch compares
        "shown": stat and stamp_of("explore", stat, state),  # what a page part cannot redraw
    }
    if stat is not None and not following:
        with st.sidebar:
            watch_room(room["code"], room["member"], "explore", st.session_state[SEEN]["shown"])
    elif stat is not None and current_path not in PAGE_MODULES:
        _mount_follow_watch(room, None)
    pinned_box(state.pinned, state.hide_names, pages, current_path)


def _mount_follow_watch(room: Mapping[str, Any], on_page: tuple[str, frozenset[str]] | None,
                        ) -> None:
    """The follow watch, once per run: in the sidebar (``on_page`` None: its trigger reruns the
    app), or in the part of a lesson page that draws the settings ``on_page`` = (url path,
    names) (its trigger reruns that part, after ``teacher_moved`` applied the teacher's
    settings)."""
    st.session_state[WATCH_MOUNTED] = True
    since = (st.session_state.get(SEEN) or {}).get("since")
    if since is None:
        return
    if on_page is None:
        with st.sidebar:
            watch_room(room["code"], room["member"], "follow", since)
    else:
        watch_room(room["code"], room["member"], "follow", since,
                   on_change=partial(teacher_moved, *on_page))


def teacher_moved(url_path: str, drawn: frozenset[str]) -> None:
    """The follow watch's callback when it is drawn in a page part (it runs before that part
    reruns): if the teacher changed only settings that part draws, on the same page, with the
    same task, pacing and snapshot, put them into Session State now, so that the part's rerun
    shows them; anything else asks that rerun for the whole app's (``RERUN_APP``)."""
    room = current()
    if room is None or room["role"] != "student" or not st.session_state.get(FOLLOW):
        return
    rooms = shared_store()
    stat = rooms.stamp(room["code"])
    try:
        state = rooms.room(room["code"])  # (the whole run checks the membership)
    except RoomError:
        state = None
    seen = st.session_state.get(SEEN) or {}
    changed = (changed_settings_of(url_path, state.params)
               if state is not None and state.page == url_path in PAGE_MODULES else None)
    if (changed is None or stat is None or not changed <= drawn
            or stamp_of("explore", stat, state) != seen.get("shown")):
        st.session_state[RERUN_APP] = True
        return
    apply_params(url_path, state.params, changed)
    st.session_state[SEEN] = {**seen, "applied": state.version,
                              "since": stamp_of("follow", stat, state)}


def changed_settings_of(url_path: str, params: Mapping[str, str]) -> set[str]:
    """The names of the settings whose query text in ``params`` differs from the session's."""
    page = page_module(url_path).STATE
    mine = encode_params(page.values(page.url_spec), page.url_spec)
    return {name for name in mine.keys() | params.keys() if mine.get(name) != params.get(name)}


def watch_in_page(page: PageState, drawn: Collection[str] | None) -> None:
    """A following student's follow watch, drawn where the page writes its settings (called
    from ``PageState.write_url`` with the settings the calling part draws: a fragment's, or
    None for the page's top level): a teacher's move within a fragment's settings then costs
    the student's server a rerun of that fragment, as a move of the student's own does."""
    room = current()
    url_path = page_of(page)
    if (room is None or room["role"] != "student" or url_path is None
            or not st.session_state.get(FOLLOW)):
        return
    in_fragment_run = fragment_run()
    if in_fragment_run and st.session_state.pop(RERUN_APP, False):
        st.rerun(scope="app")
    if drawn is None and in_fragment():
        return  # a part that cannot show the teacher's moves alone: the page's top level does
    if st.session_state.get(WATCH_MOUNTED) and not in_fragment_run:
        return  # a full run draws it once (a page may write its settings twice)
    _mount_follow_watch(room, None if drawn is None else (url_path, frozenset(drawn)))


def in_fragment() -> bool:
    """Whether the caller runs inside an st.fragment, in a whole run too (Streamlit 1.67 has
    no public call for it: its per-thread fragment state; False if that ever goes)."""
    try:
        from streamlit.runtime.scriptrunner_utils.script_run_context import ThreadState

        return ThreadState.get().fragment_id is not None
    except (ImportError, AttributeError, LookupError):
        return False


def after_page() -> None:
    """Called by ``app.py`` after the page ran: a following student whose page drew no follow
    watch (an error before its settings were written) gets one in the sidebar."""
    room = current()
    if (room is not None and room["role"] == "student" and st.session_state.get(FOLLOW)
            and not st.session_state.get(WATCH_MOUNTED)):
        _mount_follow_watch(room, None)


def pinned_box(pinned: Mapping[str, Any] | None, hide_names: bool, pages: Mapping[str, Any],
               current_path: str) -> None:
    """The snapshot the teacher pinned, above the page: a drawing with what the network read,
    or a student's page state with a button that opens it."""
    if not pinned:
        return
    who = _("a classmate") if hide_names else plain(pinned.get("nickname", ""), MAX_NICKNAME)
    with st.container(border=True, key="room_pinned"):
        if pinned["kind"] == "drawing":
            d = pinned["drawing"]
            from ui.classroom.store import decode_image

            left, right = st.columns([1, 4])
            left.image(decode_image(d["image"]), width=112, clamp=True)
            right.markdown("📌 " + _("Pinned by your teacher: a drawing by {who}").format(who=who))
            meant = d.get("meant")
            right.write(_("The network read {digit} ({p}).").format(
                digit=d["predicted"], p=f"{d['confidence']:.0%}")
                + ("" if meant is None else " " + _("{who} meant {meant}.").format(
                    who=who, meant=meant)))
        else:
            st.markdown("📌 " + _("Pinned by your teacher: the page of {who}").format(who=who))
            if pinned.get("detail"):
                st.caption(plain(pinned["detail"], 300))
            page = pinned.get("page")
            if page in PAGE_MODULES and pinned.get("params"):
                changed = changed_settings(page, pinned["params"])
                st.caption(", ".join(f"{plain(k, 20)} = {plain(v, 40)}"
                                     for k, v in list(changed.items())[:12])
                           or _("The page's own settings, unchanged."))
                st.button(_("Open this state"), key="room_open_pinned",
                          icon=":material/open_in_new:", on_click=_open_pinned,
                          args=(page, dict(pinned["params"])),
                          help=_("Your page takes these settings; you stop following the "
                                 "teacher until you switch 'Follow the teacher' on again."))


def changed_settings(url_path: str, params: Mapping[str, str]) -> dict[str, str]:
    """The settings (query text) that differ from the page's defaults: what a snapshot
    shows of a student's page."""
    page = page_module(url_path).STATE
    defaults = encode_params({n: s.fresh_default() for n, s in page.settings.items()
                              if n in page.url_spec}, page.url_spec)
    return {k: v for k, v in params.items() if defaults.get(k) != v}


def _open_pinned(page: str, params: dict[str, str]) -> None:
    """Button callback: explore the pinned state (follow goes off, the page opens next run)."""
    st.session_state[FOLLOW] = False
    st.session_state[GOTO] = (page, params)


def before_page(pages: Mapping[str, Any], current_path: str) -> None:
    """Called by ``app.py`` before the page runs: the teacher's link, the room box, and for a
    student the room's state (follow, pacing, task, pinned snapshot)."""
    teacher_from_url()
    room = current()
    if room is not None and room["role"] == "teacher":
        try:
            shared_store().room(room["code"])
        except RoomError:
            _end(room["code"])
        else:  # a control's new value is already in Session State: the class need not wait
            if current_path in PAGE_MODULES:  # for the page to draw up to its write_url
                with contextlib.suppress(KeyError):  # (not set up yet: its first visit)
                    publish(page_module(current_path).STATE)
    room_box()
    room = current()
    st.session_state[WATCH_MOUNTED] = False
    st.session_state.pop(RERUN_APP, None)  # this run is the whole app's
    if room is not None and room["role"] == "student":
        follow(pages, current_path)


# ------------------------------------------------------------------------------- hooks
def publish(page: PageState, drawn: Collection[str] | None = None) -> None:
    """The teacher's page and settings to the room, when they changed (called from
    ``PageState.write_url``, which every page calls after drawing its controls: app.py
    registers it in ``ui.common.state.URL_LISTENERS``)."""
    room = current()
    url_path = page_of(page)
    if room is None or room["role"] != "teacher" or url_path is None:
        return
    params = encode_params(page.values(page.url_spec), page.url_spec)
    if st.session_state.get(PUBLISHED) == (url_path, params):
        return
    try:
        shared_store().publish(room["code"], room["secret"], url_path, params)
    except RoomError:
        return  # the room ended: the next run says so
    st.session_state[PUBLISHED] = (url_path, params)


def summary_numbers(url_path: str, task_id: str | None, settings: Mapping[str, Any],
                    values: Mapping[str, Any]) -> dict[str, float]:
    """The numbers of an attempt the dashboard summarises for a task (the learning rate that
    diverged, the weights that solved the forward task, the confidence for a 7)."""
    try:
        if url_path == "forward" and task_id == "target":
            return {"w5": float(settings["w5"]), "w6": float(settings["w6"])}
        if url_path == "forward" and task_id == "overshoot":
            return {"lr": float(values["lr"])}
        if url_path == "descent" and task_id in ("diverge", "reach"):
            rates = [float(lr) for name, lr in values["runs"]
                     if task_id == "reach" or name == "sgd"]
            return {"lr": max(rates)} if rates else {}
        if url_path == "digits" and values.get("probabilities") is not None:
            return {"p7": float(np.asarray(values["probabilities"])[7])}
    except (KeyError, TypeError, ValueError, IndexError):
        pass
    return {}


def report_task(page: PageState, task: Any, solved: bool, detail: str,
                values: Mapping[str, Any]) -> None:
    """A student's page and task check to the room, when they changed (called from
    ``ui.common.lesson.task_panel``: app.py registers it in ``TASK_LISTENERS``); on the digit
    page also the 'send to the class' box."""
    room = current()
    url_path = page_of(page)
    if room is None or room["role"] != "student" or url_path is None:
        return
    task_id = getattr(task, "id", None)
    params = encode_params(page.values(page.url_spec), page.url_spec)
    if shows_the_teachers(room, url_path, params):
        # The page shows the teacher's settings (a following student's update): not an
        # attempt of the student's own, so the task is not reported as theirs (a teacher who
        # shows the answer does not solve it for the class), and nothing is written unless
        # the page changed: the class's 30 writes a teacher's move cost nothing.
        if (st.session_state.get(REPORTED) or (None,))[0] != url_path:
            _report(room, (url_path, None, False, "", (), ()), url_path)
    else:
        summary = summary_numbers(url_path, task_id, page.values(), values)
        report = (url_path, task_id, bool(solved), str(detail), tuple(sorted(summary.items())),
                  tuple(sorted(params.items())))
        if st.session_state.get(REPORTED) != report:
            _report(room, report, url_path, task_id, bool(solved), str(detail), summary, params)
    if url_path == "digits":
        send_drawing_box(values.get("probabilities"))


def shows_the_teachers(room: Mapping[str, Any], url_path: str, params: Mapping[str, str],
                       ) -> bool:
    """Whether a following student's page shows exactly the teacher's page and settings
    (the room as read, cached: one ``stat``). Never on the digit page: there the attempt is
    the student's drawing, which is not among the settings."""
    if not st.session_state.get(FOLLOW) or url_path == "digits":
        return False
    try:
        state = shared_store().room(room["code"])
    except RoomError:
        return False
    return state.page == url_path and dict(state.params) == dict(params)


def _report(room: Mapping[str, Any], report: tuple, *args: Any) -> None:
    """``RoomStore.report`` for this student, remembered as ``report`` (REPORTED)."""
    try:
        shared_store().report(room["code"], room["member"], *args)
        st.session_state[REPORTED] = report
    except RoomError:
        pass  # the room ended: the next poll says so


def _send_drawing(probabilities: list[float]) -> None:
    room = current()
    drawing = page_module("digits").STATE["drawing"] or {}
    image = drawing.get("image")
    if room is None or image is None:
        return
    p = np.asarray(probabilities, float)
    meant = st.session_state.get("_room_meant")
    try:
        n = shared_store().add_drawing(room["code"], room["member"], image, int(np.argmax(p)),
                                       float(p.max()), None if meant is None else int(meant))
    except RoomError as exc:
        st.session_state["_room_sent"] = ("error", error_text(exc))
        return
    st.session_state["_room_sent"] = ("success", _("Sent to the class gallery ({n} of "
                                                   "{limit}).").format(
        n=n, limit=shared_store().limits.max_drawings))


def send_drawing_box(probabilities: Any) -> None:
    """'Send this drawing to the class gallery', with the digit the student meant."""
    digits = page_module("digits").STATE  # the drawing the page reads, and from where
    drawing = digits["drawing"] or {}
    if probabilities is None or drawing.get("image") is None or digits["source"] != "canvas":
        return
    with st.container(border=True, key="room_send"):
        left, right = st.columns([1, 1], vertical_alignment="bottom")
        left.selectbox(_("The digit I meant"), list(range(10)), key="_room_meant", index=None,
                       placeholder=_("choose"))
        right.button(_("Send to the class"), key="_room_send", icon=":material/send:",
                     on_click=_send_drawing, args=(np.asarray(probabilities).tolist(),))
        sent = st.session_state.pop("_room_sent", None)
        if sent:
            getattr(st, sent[0])(sent[1])

