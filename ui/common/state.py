"""Each page's settings as one declared table: key prefix, defaults, and what travels in the URL.

In the spirit of tensorflow/playground's ``state.ts`` (its ``PROPS`` list): a page lists its
settings once, as ``Setting`` rows, and ``PageState`` keeps them in Session State under
``<prefix><name>`` (``fwd_w1``, ``gd_loss``), puts them back to their defaults, and reads and
writes the ones marked ``url`` from and to the address bar, so a link opens the same page.
Widgets bind to these keys through ``ui.common.widgets``, the one persistence helper.
"""

from __future__ import annotations

import copy
import math
import threading
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from ui.common.format import plain
from ui.common.i18n import keep_language_in_url


@dataclass(frozen=True)
class Codec:
    """A URL kind for values that are not one plain number or word (bounded numbers, lists,
    ranges, tables): ``encode`` writes the value as query text, ``decode`` reads it back and
    raises ValueError with a plain-text reason for anything out of bounds or malformed."""

    encode: Callable[[Any], str]
    decode: Callable[[str], Any]


# What a setting may be in the URL: float, int, bool, the tuple of allowed strings, or a Codec.
UrlKind = type | Sequence[str] | Codec
Default = Any | Callable[[], Any]  # a callable makes a fresh value (tables, lists) each time


def _number(text: str, integer: bool = False) -> float | int:
    """One number of a query value; ValueError unless finite (and whole for ``integer``)."""
    try:
        number = float(text)
    except ValueError:
        raise ValueError(f"{plain(repr(text), 20)} is not a number") from None
    if not math.isfinite(number):
        raise ValueError("is not a finite number")
    if integer:
        if number != int(number):
            raise ValueError(f"{plain(text, 20)} is not a whole number")
        return int(number)
    return number


def _some(options: Sequence[str], shown: int = 8) -> str:
    """The allowed words for a message: the first ``shown`` of them, then how many more."""
    options = list(options)
    more = f", … ({len(options) - shown} more)" if len(options) > shown else ""
    return ", ".join(options[:shown]) + more


def _write(value: Any) -> str:
    """A setting's value as query text: floats in their shortest exact form, bools as 0/1."""
    if isinstance(value, bool | np.bool_):
        return "1" if value else "0"
    if isinstance(value, float | np.floating):
        return repr(float(value))
    return str(value)


def _cell(value: Any) -> str:
    """A table cell as query text: ``_write``, a whole float without its ``.0`` (shorter
    links; it reads back as the same float)."""
    if isinstance(value, float | np.floating) and not isinstance(value, bool) \
            and float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return _write(value)


def number_codec(low: float, high: float, integer: bool = False) -> Codec:
    """A number within [low, high] (an int with ``integer``), as a slider or entry allows."""

    def decode(text: str) -> float | int:
        number = _number(text, integer)
        if not low <= number <= high:
            raise ValueError(f"is outside {_write(low)} to {_write(high)}")
        return number

    return Codec(_write, decode)


def range_codec(low: float, high: float) -> Codec:
    """A range slider's (lower, upper) as ``lower:upper`` within [low, high], lower < upper."""

    def decode(text: str) -> tuple[float, float]:
        parts = text.split(":")
        if len(parts) != 2:
            raise ValueError("is not two numbers lower:upper")
        a, b = (float(_number(p)) for p in parts)
        if not (low <= a < b <= high):
            raise ValueError(f"is not a range lower < upper within {_write(low)} to "
                             f"{_write(high)}")
        return a, b

    return Codec(lambda value: f"{_cell(float(value[0]))}:{_cell(float(value[1]))}", decode)


def words_codec(options: Sequence[str], max_items: int | None = None, sep: str = ",") -> Codec:
    """A list of choices from ``options`` (a multiselect), ``a,b,c``; empty text: none."""
    limit = len(options) if max_items is None else max_items

    def decode(text: str) -> list[str]:
        items = [w for w in text.split(sep) if w] if text else []
        if len(items) > limit:
            raise ValueError(f"has {len(items)} items, at most {limit}")
        wrong = [w for w in items if w not in options]
        if wrong:
            raise ValueError(f"names {plain(wrong[0], 20)}, not one of {_some(options)}")
        return items

    return Codec(lambda value: sep.join(value), decode)


@dataclass(frozen=True)
class Column:
    """One column of a table travelling in the URL: its kind (float, int, bool or the tuple of
    allowed words) and, for numbers, its bounds."""

    name: str
    kind: type | Sequence[str] = float
    low: float = -math.inf
    high: float = math.inf

    def decode(self, text: str) -> Any:
        """One cell; ValueError naming the column."""
        try:
            if self.kind is bool:
                if text not in ("0", "1"):
                    raise ValueError("is not 0 or 1")
                return text == "1"
            if self.kind in (float, int):
                number = _number(text, self.kind is int)
                if not self.low <= number <= self.high:
                    raise ValueError(f"is outside {_write(self.low)} to {_write(self.high)}")
                return number
            if text not in self.kind:  # type: ignore[operator]
                raise ValueError(f"is not one of {_some(self.kind)}")  # type: ignore[arg-type]
            return text
        except ValueError as exc:
            raise ValueError(f"{self.name} {exc}") from None


RECENT_TABLES = 256  # per table codec: the tables whose link text is kept (see table_codec)


def table_codec(columns: Sequence[Column], *, max_rows: int, min_rows: int = 0,
                row_sep: str = "|", cell_sep: str = ";",
                dump: Callable[[Any], Sequence[Sequence[Any]]] = list,
                load: Callable[[list[tuple]], Any] = list) -> Codec:
    """A table (an editor's rows) as ``a;b;c|d;e;f``: every cell checked against its column,
    between ``min_rows`` and ``max_rows`` rows (the page's own limits, so a link cannot ask for
    more than the editor takes). ``dump`` turns the stored value into rows of cells, ``load``
    the decoded rows (tuples) back into the stored value (a DataFrame, say)."""

    recent: dict[int, tuple[Any, str]] = {}  # id(table) -> (table, its text), newest last
    lock = threading.Lock()

    def encode(value: Any) -> str:
        # A page writes its link on every run, and a table is replaced, never changed in place,
        # when a student edits it: so the text of a DataFrame seen before is reused. Reading a
        # table cell by cell was 4% of /descent's CPU under the load test, on every step moved.
        cacheable = isinstance(value, pd.DataFrame)
        if cacheable:
            with lock:
                hit = recent.get(id(value))
            if hit is not None and hit[0] is value:
                return hit[1]
        text = row_sep.join(cell_sep.join(_cell(cell) for cell in row) for row in dump(value))
        if cacheable:
            with lock:
                recent.pop(id(value), None)
                recent[id(value)] = (value, text)
                while len(recent) > RECENT_TABLES:
                    del recent[next(iter(recent))]
        return text

    def decode(text: str) -> Any:
        rows = text.split(row_sep) if text else []
        if not min_rows <= len(rows) <= max_rows:
            raise ValueError(f"has {len(rows)} rows, not {min_rows} to {max_rows}")
        out = []
        for i, row in enumerate(rows, start=1):
            cells = row.split(cell_sep)
            if len(cells) != len(columns):
                raise ValueError(f"row {i} has {len(cells)} cells, not {len(columns)}")
            try:
                out.append(tuple(c.decode(t) for c, t in zip(columns, cells, strict=True)))
            except ValueError as exc:
                raise ValueError(f"row {i}: {exc}") from None
        return load(out)

    return Codec(encode, decode)


@dataclass(frozen=True)
class Setting:
    """One setting of a page: its name (the key without prefix), default, and URL kind;
    ``label`` names its control for the teacher's lesson-link tools (marked with ``N_``,
    translated where shown; the name when empty)."""

    name: str
    default: Default
    url: UrlKind | None = None  # None: never in the URL (tables, history, transient state)
    label: str = ""

    def fresh_default(self) -> Any:
        """The default as a new object, so no session shares (and mutates) another's."""
        return self.default() if callable(self.default) else copy.deepcopy(self.default)


def encode_params(values: Mapping[str, Any], spec: Mapping[str, UrlKind] | None = None,
                  ) -> dict[str, str]:
    """Settings -> query parameters: a Codec's text for the settings ``spec`` gives one, else
    floats in their shortest exact form, bools as 0/1, strings as they are.

    A value its Codec cannot write (a table with an empty cell, say) is left out: the link
    then opens that setting at its default, and the page says what is wrong with it meanwhile.
    """
    out = {}
    for name, value in values.items():
        kind = (spec or {}).get(name)
        try:
            out[name] = kind.encode(value) if isinstance(kind, Codec) else _write(value)
        except (ValueError, TypeError, KeyError):
            continue
    return out


def _decode(text: str, kind: UrlKind) -> Any:
    """One query value -> setting value; ValueError with a plain-text reason."""
    if isinstance(kind, Codec):
        return kind.decode(text)
    if kind is bool:
        if text not in ("0", "1", "true", "false"):
            raise ValueError("is not 0 or 1")
        return text in ("1", "true")
    if kind in (float, int):
        try:
            number = float(text)
        except ValueError:
            raise ValueError("is not a number") from None
        if not math.isfinite(number):
            raise ValueError("is not a finite number")
        if kind is int:
            if number != int(number):
                raise ValueError("is not a whole number")
            return int(number)
        return number
    if text in kind:  # type: ignore[operator]
        return text
    raise ValueError(f"is not one of {_some(kind)}")  # type: ignore[arg-type]


def decode_params(params: Mapping[str, str | list[str]], spec: Mapping[str, UrlKind],
                  ) -> tuple[dict[str, Any], list[str]]:
    """Query parameters -> (valid settings, messages about the ignored ones).

    ``spec`` maps each name to its URL kind; unknown names are ignored silently (other apps
    may add their own). Messages quote the value as plain, shortened text: a link is not
    trusted to put Markdown, links or images on the page.
    """
    values: dict[str, Any] = {}
    problems: list[str] = []
    for name, kind in spec.items():
        if name not in params:
            continue
        raw = params[name]
        text = raw[-1] if isinstance(raw, list) else raw
        try:
            values[name] = _decode(text, kind)
        except ValueError as exc:
            problems.append(f"{name}={plain(repr(text))} {exc}")
    return values, problems


class PageState:
    """A page's settings table bound to Session State (one instance per page, at import)."""

    def __init__(self, prefix: str, settings: Iterable[Setting]) -> None:
        self.prefix = prefix
        self.settings: dict[str, Setting] = {s.name: s for s in settings}

    def key(self, name: str) -> str:
        """The Session State key of a setting (``fwd_`` + ``w1``); KeyError if undeclared."""
        if name not in self.settings:
            raise KeyError(f"{self.prefix}: no setting {name!r}")
        return self.prefix + name

    def __getitem__(self, name: str) -> Any:
        return st.session_state[self.key(name)]

    def get(self, name: str, default: Any = None) -> Any:
        """A setting's value, or ``default`` outside a session or before the page set its
        settings up (number writers that figure builders also call from tests)."""
        key = self.key(name)  # an undeclared name is a bug: KeyError
        try:
            return st.session_state[key]
        except Exception:  # no session, or not initialised yet
            return default

    def __setitem__(self, name: str, value: Any) -> None:
        """Set a setting, unless a lesson link fixed it (then callbacks leave it as it is)."""
        if not is_locked(self.key(name)):
            st.session_state[self.key(name)] = value

    def defaults(self, **overrides: Any) -> dict[str, Any]:
        """Every setting's default (or override) under its full key."""
        return {self.key(n): self._default(n, overrides) for n in self.settings}

    def _default(self, name: str, overrides: Mapping[str, Any]) -> Any:
        """The setting ``name``'s override if given, else a fresh default."""
        return overrides[name] if name in overrides else self.settings[name].fresh_default()

    def init(self, **overrides: Any) -> bool:
        """Set the settings a session does not have yet; True on its first visit to the page.

        A default is made only for a setting that is missing: the tables' defaults are new
        DataFrames, and making them all on every run was ~3% of /descent's server CPU under
        30 sessions (benchmarks/sample_server.py)."""
        first = False
        for name in self.settings:
            key = self.key(name)
            if key not in st.session_state:
                st.session_state[key] = self._default(name, overrides)
                first = True
        return first

    def reset(self, **overrides: Any) -> None:
        """Every setting back to its default (use as a button's on_click); editors start over."""
        from ui.common.widgets import bump_editor

        for key, value in self.defaults(**overrides).items():
            if not is_locked(key):  # a setting a lesson link fixed keeps its value
                st.session_state[key] = value
                bump_editor(key)

    def values(self, names: Iterable[str] | None = None) -> dict[str, Any]:
        """The current settings (all, or ``names``) without the prefix."""
        return {n: st.session_state[self.key(n)] for n in (names or self.settings)}

    @property
    def url_spec(self) -> dict[str, UrlKind]:
        """The settings that travel in the URL, with their kinds."""
        return {n: s.url for n, s in self.settings.items() if s.url is not None}

    def read_url(self, task_ids: Iterable[str] = ()) -> list[str]:
        """Settings in the URL override the session's (call on its first visit), and a lesson
        link's ``lock``, ``hide`` and ``task`` take effect; the problems, as plain text.

        A bad value leaves its setting at the default; a bad lesson name is left out."""
        params = st.query_params.to_dict()
        values, problems = decode_params(params, self.url_spec)
        for name, value in values.items():
            st.session_state[self.key(name)] = value
        lesson, more = decode_lesson(params, self.url_spec, task_ids)
        self.set_lesson(lesson)
        return problems + more

    @property
    def lesson(self) -> dict[str, Any]:
        """This page's lesson link: {"lock": [names], "hide": [names], "task": id or None}."""
        return st.session_state.get(self.prefix + LESSON, {"lock": [], "hide": [], "task": None})

    def set_lesson(self, lesson: Mapping[str, Any]) -> None:
        """Make ``lesson`` this page's: its settings locked or hidden in every widget."""
        lesson = {"lock": list(lesson.get("lock", [])), "hide": list(lesson.get("hide", [])),
                  "task": lesson.get("task")}
        st.session_state[self.prefix + LESSON] = lesson
        for which, session_key in (("lock", LOCKED_KEY), ("hide", HIDDEN_KEY)):
            others = {k for k in st.session_state.get(session_key, set())
                      if not k.startswith(self.prefix)}
            st.session_state[session_key] = others | {self.key(n) for n in lesson[which]}

    def link_params(self, lesson: Mapping[str, Any] | None = None) -> dict[str, str]:
        """The query parameters of this page's state and a lesson (default: the current one)."""
        params = encode_params(self.values(self.url_spec), self.url_spec)
        return {**params, **encode_lesson(self.lesson if lesson is None else lesson)}

    def write_url(self, drawn: Collection[str] | None = None) -> None:
        """Write the URL settings (and the lesson link's) into the address bar, when changed.

        ``drawn``: the settings the calling part of the page draws, when it is an st.fragment
        that reruns alone (None: the page's top level, which a whole run draws)."""
        wanted = keep_language_in_url(self.link_params())
        if st.query_params.to_dict() != wanted:
            st.query_params.from_dict(wanted)
        for listener in URL_LISTENERS:  # e.g. the live class: a teacher's moves reach the room
            listener(self, drawn)


# Called with the page and ``drawn`` after each ``write_url`` (every page calls it once its
# controls are drawn). ``app.py`` registers the features that follow a page's settings (the live
# class's ``publish`` and ``watch_in_page``), so this shared module knows none of them.
URL_LISTENERS: list[Callable[[PageState, Collection[str] | None], None]] = []


# Session State keys of a lesson link: per page (prefix + LESSON), and the full keys of every
# locked or hidden setting, which ``ui.common.widgets.persistent`` reads.
LESSON = "_lesson"
LOCKED_KEY = "_lesson_locked"
HIDDEN_KEY = "_lesson_hidden"


def is_locked(key: str) -> bool:
    """Whether a lesson link fixed the setting under ``key`` (its widget is drawn disabled)."""
    try:
        return key in st.session_state.get(LOCKED_KEY, ())
    except Exception:  # no session (a bare script)
        return False


def is_hidden(key: str) -> bool:
    """Whether a lesson link hid the setting under ``key`` (its widget is not drawn)."""
    try:
        return key in st.session_state.get(HIDDEN_KEY, ())
    except Exception:
        return False


def encode_lesson(lesson: Mapping[str, Any]) -> dict[str, str]:
    """A lesson as query parameters ``lock=a,b&hide=c&task=id`` (empty parts left out)."""
    out = {}
    for which in ("lock", "hide"):
        if lesson.get(which):
            out[which] = ",".join(lesson[which])
    if lesson.get("task"):
        out["task"] = str(lesson["task"])
    return out


def decode_lesson(params: Mapping[str, str | list[str]], spec: Mapping[str, UrlKind],
                  task_ids: Iterable[str]) -> tuple[dict[str, Any], list[str]]:
    """``lock``, ``hide`` and ``task`` of a query -> (lesson, problems): names that are not
    settings of the page, or a task it does not declare, are left out with a plain message."""
    lesson: dict[str, Any] = {"lock": [], "hide": [], "task": None}
    problems = []
    for which in ("lock", "hide"):
        raw = params.get(which)
        text = (raw[-1] if isinstance(raw, list) else raw) or ""
        for name in dict.fromkeys(n for n in text.split(",") if n):
            if name in spec:
                lesson[which].append(name)
            else:
                problems.append(f"{which}={plain(repr(name), 30)} is not a setting of this page")
    raw = params.get("task")
    task = raw[-1] if isinstance(raw, list) else raw
    if task:
        ids = list(task_ids)
        if task in ids:
            lesson["task"] = task
        else:
            problems.append(f"task={plain(repr(task), 30)} is not a task of this page")
    return lesson, problems
