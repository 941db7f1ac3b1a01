"""Lesson links: a teacher prepares a link that opens a page with chosen controls fixed or
hidden and a task for the students, whose answer the page checks.

The link is the page's state (its settings table, ``ui.common.state.PageState``) plus
``lock=a,b&hide=c&task=<id>``; ``PageState.read_url`` reads them and
``ui.common.widgets.persistent`` draws a locked setting disabled and leaves a hidden one out.
Each page declares its tasks in ``ui/<page>/state.py`` as ``Task`` rows: an id, the text the
students read, and a check of the page's computed values.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import streamlit as st

from ui.common.i18n import _
from ui.common.state import PageState
from ui.common.widgets import lazy_expander, persistent

# A task's check: the page's computed values -> (solved, what the students see: why it is
# solved, or what is still missing), in the session's language.
Check = Callable[[Mapping[str, Any]], tuple[bool, str]]
URL_SAFE = ",:;|"  # left as they are in a link: the codecs' separators read better unescaped


# Called with (page, task, solved, detail, values) each time ``task_panel`` checks a task (task
# None: the page has none). ``app.py`` registers the live class's ``report_task``, so
# the students' work reaches the room's dashboard; this shared module knows no such feature.
TASK_LISTENERS: list[Callable[[PageState, Task | None, bool, str, Mapping[str, Any]], None]] = []


@dataclass(frozen=True)
class Task:
    """One task a lesson link can set: ``text`` is marked with ``N_`` where it is declared and
    translated when shown; ``check`` reads the values the page passes to ``task_panel``."""

    id: str
    text: str
    check: Check


def url_notices(problems: Sequence[str]) -> None:
    """Say, in plain text, which parts of the link were ignored (their settings keep the
    defaults). The problems quote the link's text escaped (``ui.common.format.plain``)."""
    for problem in problems:
        st.warning(_("Ignored a part of the link: {problem}. That setting keeps its default.")
                   .format(problem=problem), icon=":material/link_off:")


def open_from_url(page: PageState, tasks: Sequence[Task] = (), **defaults: Any) -> None:
    """On the first visit of a session: the settings (``defaults`` override the table's) and
    the lesson of the link, with a notice for each part ignored."""
    if page.init(**defaults):
        url_notices(page.read_url([t.id for t in tasks]))


def page_url(page: PageState, lesson: Mapping[str, Any] | None = None) -> str:
    """The address of this page with its current state (and ``lesson``) as the query."""
    base = (st.context.url or "").split("?")[0].split("#")[0]
    return f"{base}?{urlencode(page.link_params(lesson), safe=URL_SAFE)}"


def setting_label(page: PageState, name: str) -> str:
    """A setting's control as the teacher's tools name it: its declared label, translated
    (the setting's name when it has none)."""
    label = page.settings[name].label
    return _(label) if label else name.replace("_", " ")


def teacher_panel(page: PageState, tasks: Sequence[Task]) -> None:
    """'Prepare a lesson link': pick the controls to fix and to hide and a task; the link
    opens this page as it is now, with those. Students who opened a lesson link do not see it.
    """
    if lesson_active(page):
        return
    names = list(page.url_spec)
    p = page.prefix + "teach_"
    # Built only while open (most students never open it); the choices outlive closing it.
    box = lazy_expander(_("Prepare a lesson link (teacher tools)"), p + "open",
                        icon=":material/school:")
    if not box.open:
        return
    with box:
        st.caption(_("Set the page up as the students should find it, then choose what they "
                     "may not change. The link keeps every setting as it is now."))
        labels = {n: setting_label(page, n) for n in names}  # in this run's language
        lock = persistent(st.multiselect, _("Fix these controls (shown, but disabled)"),
                          p + "lock", [], options=names, format_func=labels.get)
        hide = persistent(st.multiselect, _("Hide these controls"), p + "hide", [],
                          options=[n for n in names if n not in lock], format_func=labels.get)
        by_id = {t.id: t for t in tasks}
        task = persistent(st.selectbox, _("Task for the students"), p + "task", None,
                          options=[None, *by_id], format_func=lambda t: _("No task")
                          if t is None else _(by_id[t].text))
        st.code(page_url(page, {"lock": lock, "hide": hide, "task": task}), language=None,
                wrap_lines=True)
        st.caption(_("Copy the link (the button at its right) and hand it out: it opens this "
                     "page with these settings, the chosen controls fixed or hidden, and the "
                     "task with a check of the students' answer."))


def lesson_active(page: PageState) -> bool:
    """Whether the page was opened from a lesson link that fixes, hides or asks something."""
    lesson = page.lesson
    return bool(lesson["lock"] or lesson["hide"] or lesson["task"])


def lesson_note(page: PageState) -> None:
    """A line telling students that their teacher prepared this page."""
    if page.lesson["lock"] or page.lesson["hide"]:
        st.caption(_("🔒 Your teacher prepared this page: some controls are fixed or hidden."))


def task_panel(page: PageState, tasks: Sequence[Task], values: Mapping[str, Any]) -> None:
    """The lesson's task, checked on ``values`` (the page's computed numbers): a success
    message once solved, else the task and what is still missing."""
    task_id = page.lesson["task"]
    task = next((t for t in tasks if t.id == task_id), None)
    if task is None:
        for listener in TASK_LISTENERS:
            listener(page, None, False, "", values)
        return
    try:
        solved, detail = task.check(values)
    except (ValueError, KeyError, TypeError, IndexError):  # values the page could not compute
        solved, detail = False, _("the page has no numbers to check yet.")
    with st.container(border=True, key=page.prefix + "task_box"):
        st.markdown("**{title}** {text}".format(title=_("Task:"), text=_(task.text)))
        if solved:
            st.success(_("Solved! {detail}").format(detail=detail), icon=":material/task_alt:")
        else:
            st.info(_("Not yet: {detail}").format(detail=detail), icon=":material/pending:")
    for listener in TASK_LISTENERS:
        listener(page, task, solved, detail, values)
